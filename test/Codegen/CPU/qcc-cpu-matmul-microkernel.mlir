// RUN: qcc-opt %s -split-input-file -qcc-cpu-matmul-microkernel="vector-width=16 rows=6 vectors-per-row=2" | FileCheck %s

// 40 columns: one 32-wide panel (two vectors), then 8 columns in one
// masked vector. 8 rows: one block of 6, then 2 single rows.
// CHECK-LABEL: func @matmul
// CHECK-NOT: linalg.matmul
// CHECK: scf.for %[[J:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK:   scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK:     %[[ACC:.+]]:12 = scf.for %[[K:.+]] = {{.+}} iter_args(
// CHECK:       vector.load %{{.+}}[%[[K]], %[[J]]] : memref<64x40xf32>, vector<16xf32>
// CHECK:       memref.load %{{.+}}[%[[I]], %[[K]]] : memref<8x64xf32>
// CHECK:       vector.broadcast
// CHECK:       vector.fma
// CHECK:     vector.store %[[ACC]]#0
// CHECK: vector.constant_mask [8] : vector<16xi1>
// CHECK: vector.maskedload
// CHECK: vector.maskedstore
func.func @matmul(%a: memref<8x64xf32>, %b: memref<64x40xf32>, %c: memref<8x40xf32>) {
  linalg.matmul ins(%a, %b : memref<8x64xf32>, memref<64x40xf32>) outs(%c : memref<8x40xf32>)
  return
}

// -----

// CHECK-LABEL: func @batch_matmul
// CHECK: scf.for %[[B:.+]] =
// CHECK: vector.load %{{.+}}[%[[B]], %{{.+}}, %{{.+}}] : memref<2x16x32xf32>, vector<16xf32>
func.func @batch_matmul(%a: memref<2x6x16xf32>, %b: memref<2x16x32xf32>, %c: memref<2x6x32xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<2x6x16xf32>, memref<2x16x32xf32>) outs(%c : memref<2x6x32xf32>)
  return
}

// -----

// Tensors, integer matmuls and dynamic shapes are left to other lowerings.
// CHECK-LABEL: func @untouched
// CHECK: linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<4x4xf32>
// CHECK: linalg.matmul ins(%{{.+}}, %{{.+}} : memref<4x4xi32>
// CHECK: linalg.matmul ins(%{{.+}}, %{{.+}} : memref<?x4xf32>
func.func @untouched(%t: tensor<4x4xf32>, %i: memref<4x4xi32>, %d: memref<?x4xf32>, %o: memref<?x4xf32>, %f: memref<4x4xf32>) -> tensor<4x4xf32> {
  %r = linalg.matmul ins(%t, %t : tensor<4x4xf32>, tensor<4x4xf32>) outs(%t : tensor<4x4xf32>) -> tensor<4x4xf32>
  linalg.matmul ins(%i, %i : memref<4x4xi32>, memref<4x4xi32>) outs(%i : memref<4x4xi32>)
  linalg.matmul ins(%d, %f : memref<?x4xf32>, memref<4x4xf32>) outs(%o : memref<?x4xf32>)
  return %r : tensor<4x4xf32>
}
