// RUN: qcc-opt %s -qcc-cpu-matmul-microkernel="parallel-min-fmas=-1" | FileCheck %s

// parallel-min-fmas=-1 keeps every matmul serial.
// CHECK-LABEL: func @large
// CHECK-NOT: scf.parallel
// CHECK: scf.for
func.func @large(%a: memref<64x256xf32>, %b: memref<256x256xf32>, %c: memref<64x256xf32>) {
  linalg.matmul ins(%a, %b : memref<64x256xf32>, memref<256x256xf32>) outs(%c : memref<64x256xf32>)
  return
}

// Without rows / vectors-per-row the block is chosen by shape: 8 rows x 3
// vectors (24 accumulators) for 64 rows, each B vector feeding 8 FMAs.
// CHECK-LABEL: func @by_shape_rows
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for {{.*}} iter_args
// CHECK-COUNT-3: vector.load %{{.+}} : memref<256x96xf32>, vector<16xf32>
// CHECK-COUNT-24: vector.fma
// CHECK-NEXT: scf.yield
func.func @by_shape_rows(%a: memref<64x256xf32>, %b: memref<256x96xf32>, %c: memref<64x96xf32>) {
  linalg.matmul ins(%a, %b : memref<64x256xf32>, memref<256x96xf32>) outs(%c : memref<64x96xf32>)
  return
}

// One row (a GEMV) spends the accumulators on columns: 16 vectors, so each
// row of B is read in 1 KiB runs.
// CHECK-LABEL: func @by_shape_gemv
// CHECK: scf.for {{.*}} iter_args
// CHECK-COUNT-16: vector.load %{{.+}} : memref<256x512xf32>, vector<16xf32>
// CHECK: memref.load
// CHECK: vector.broadcast
// CHECK-COUNT-16: vector.fma
// CHECK-NEXT: scf.yield
func.func @by_shape_gemv(%a: memref<1x256xf32>, %b: memref<256x512xf32>, %c: memref<1x512xf32>) {
  linalg.matmul ins(%a, %b : memref<1x256xf32>, memref<256x512xf32>) outs(%c : memref<1x512xf32>)
  return
}
