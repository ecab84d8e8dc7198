// RUN: qcc-opt %s -split-input-file -qcc-cpu-outline-kernels="min-ops=-1" -verify-diagnostics

// The entry function is looked up first.
// expected-error @+1 {{entry function 'main' not found}}
module {
  func.func @model() {
    return
  }
}

// -----

// expected-error @+1 {{qcc-cpu-outline-kernels option min-ops must not be negative}}
module {
  func.func @main() {
    return
  }
}
