// RUN: qcc-opt %s -qcc-cpu-outline-parallel="chunks-per-thread=0" -verify-diagnostics
// RUN: qcc-opt %s -qcc-cpu-outline-parallel="min-work=-1" -verify-diagnostics
// RUN: qcc-opt %s -qcc-cpu-outline-parallel="min-units=-1" -verify-diagnostics

// expected-error @+1 {{qcc-cpu-outline-parallel options must be positive}}
module {
  func.func @main() {
    return
  }
}
