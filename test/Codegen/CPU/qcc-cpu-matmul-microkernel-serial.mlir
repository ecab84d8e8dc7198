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

// One row (a GEMV) streams B row by row: C stays in memory (L1) and each
// pass over its columns adds 8 whole rows of B; the last K % 8 rows one at a
// time, the last N % 16 columns with a mask. Serial: straight into C.
// CHECK-LABEL: func @by_shape_gemv
// CHECK-NOT: memref.alloc
// CHECK: scf.for %[[K:.+]] = %{{.+}} to %{{.+}} step %c8
// CHECK-COUNT-8: memref.load %{{.+}} : memref<1x259xf32>
// CHECK: scf.for %[[J:.+]] = %{{.+}} to %{{.+}} step %c16
// CHECK: vector.load %{{.+}}[%[[K]], %[[J]]] : memref<259x520xf32>, vector<16xf32>
// CHECK-COUNT-7: vector.load %{{.+}} : memref<259x520xf32>, vector<16xf32>
// CHECK: vector.load %{{.+}}[%{{.+}}, %[[J]]] : memref<1x520xf32>, vector<16xf32>
// CHECK-COUNT-8: vector.fma
// CHECK-NEXT: vector.store %{{.+}}[%{{.+}}, %[[J]]] : memref<1x520xf32>, vector<16xf32>
// CHECK: vector.constant_mask [8] : vector<16xi1>
// CHECK-COUNT-8: vector.maskedload %{{.+}} : memref<259x520xf32>
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c1
// CHECK: vector.load %{{.+}} : memref<259x520xf32>
// CHECK: vector.load %{{.+}} : memref<1x520xf32>
// CHECK: vector.fma
// CHECK: vector.store
// CHECK: vector.maskedload %{{.+}} : memref<259x520xf32>
// CHECK: vector.maskedload %{{.+}} : memref<1x520xf32>
// CHECK: vector.fma
// CHECK: vector.maskedstore
// CHECK: return
func.func @by_shape_gemv(%a: memref<1x259xf32>, %b: memref<259x520xf32>, %c: memref<1x520xf32>) {
  linalg.matmul ins(%a, %b : memref<1x259xf32>, memref<259x520xf32>) outs(%c : memref<1x520xf32>)
  return
}

// Two rows share each B vector: 2 x 8 FMAs per 8 loads of B.
// CHECK-LABEL: func @by_shape_gemv_two_rows
// CHECK: scf.for %{{.+}} step %c8
// CHECK-COUNT-16: memref.load %{{.+}} : memref<2x64xf32>
// CHECK: scf.for
// CHECK-COUNT-8: vector.load %{{.+}} : memref<64x32xf32>, vector<16xf32>
// CHECK-COUNT-8: vector.fma
// CHECK: vector.store
// CHECK-COUNT-8: vector.fma
// CHECK: vector.store
func.func @by_shape_gemv_two_rows(%a: memref<2x64xf32>, %b: memref<64x32xf32>, %c: memref<2x32xf32>) {
  linalg.matmul ins(%a, %b : memref<2x64xf32>, memref<64x32xf32>) outs(%c : memref<2x32xf32>)
  return
}

// Three rows take the register block: all rows, 8 vectors (24 accumulators).
// CHECK-LABEL: func @by_shape_three_rows
// CHECK: scf.for {{.*}} iter_args
// CHECK-COUNT-8: vector.load %{{.+}} : memref<64x128xf32>, vector<16xf32>
// CHECK-COUNT-24: vector.fma
// CHECK-NEXT: scf.yield
func.func @by_shape_three_rows(%a: memref<3x64xf32>, %b: memref<64x128xf32>, %c: memref<3x128xf32>) {
  linalg.matmul ins(%a, %b : memref<3x64xf32>, memref<64x128xf32>) outs(%c : memref<3x128xf32>)
  return
}
