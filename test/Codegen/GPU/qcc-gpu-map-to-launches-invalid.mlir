// RUN: qcc-opt %s -split-input-file -qcc-gpu-map-to-launches -verify-diagnostics

func.func @dynamic_bounds(%x: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @+1 {{parallel loop without constant bounds cannot be mapped to a GPU launch}}
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %zero, %x[%i] : memref<?xf32>
    scf.reduce
  }
  return
}

// -----

func.func @host_value(%x: memref<f32>, %out: memref<4xf32>) {
  // expected-error @+1 {{'memref.load' computes a value the host would need}}
  %a = memref.load %x[] : memref<f32>
  %v = memref.alloc() : memref<4xf32>
  linalg.fill ins(%a : f32) outs(%v : memref<4xf32>)
  return
}
