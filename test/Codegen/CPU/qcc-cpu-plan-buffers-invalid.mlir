// RUN: qcc-opt %s -split-input-file -qcc-cpu-plan-buffers="alignment=48" -verify-diagnostics

// The entry function is looked up first (before the options).
// expected-error @+1 {{entry function 'main' not found}}
module {
  func.func @model() {
    return
  }
}

// -----

// expected-error @+1 {{qcc-cpu-plan-buffers option alignment must be a power of two}}
module {
  func.func @main() {
    return
  }
}
