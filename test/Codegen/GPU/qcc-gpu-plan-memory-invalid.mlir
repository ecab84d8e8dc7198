// RUN: qcc-opt %s -split-input-file -qcc-gpu-plan-memory -verify-diagnostics

func.func @main(%x: memref<4xf32>, %out: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{'memref.load' cannot run on the host of a GPU artifact}}
  %v = memref.load %x[%c0] : memref<4xf32>
  memref.store %v, %out[%c0] : memref<4xf32>
  return
}

// -----

func.func @main(%n: index) {
  // expected-error @+1 {{device buffers need a static shape and identity layout}}
  %a = memref.alloc(%n) : memref<?xf32>
  return
}

// -----

// expected-error @+1 {{entry function 'main' not found}}
module {
  func.func @other() {
    return
  }
}
