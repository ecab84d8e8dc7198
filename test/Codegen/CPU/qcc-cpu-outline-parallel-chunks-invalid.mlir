// RUN: qcc-opt %s -split-input-file -qcc-cpu-outline-parallel -verify-diagnostics

func.func @main(%m: memref<64x1024xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c1024 = arith.constant 1024 : index
  // expected-error @+1 {{'qcc.chunks_per_thread' must be a positive integer}}
  scf.parallel (%i, %j) = (%c0, %c0) to (%c64, %c1024) step (%c1, %c1) {
    memref.store %x, %m[%i, %j] : memref<64x1024xf32>
    scf.reduce
  } {qcc.chunks_per_thread = 0 : i64}
  return
}

// -----

func.func @main(%m: memref<64x1024xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c1024 = arith.constant 1024 : index
  // expected-error @+1 {{'qcc.chunks_per_thread' must be a positive integer}}
  scf.parallel (%i, %j) = (%c0, %c0) to (%c64, %c1024) step (%c1, %c1) {
    memref.store %x, %m[%i, %j] : memref<64x1024xf32>
    scf.reduce
  } {qcc.chunks_per_thread = "eight"}
  return
}
