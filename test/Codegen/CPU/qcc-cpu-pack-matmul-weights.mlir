// RUN: qcc-opt %s -split-input-file -qcc-cpu-pack-matmul-weights | FileCheck %s
// RUN: qcc-opt %s -split-input-file -qcc-cpu-pack-matmul-weights="panel=16 min-rows=2" | FileCheck %s --check-prefix=SMALL

// 50 columns in panels of 48: two panels, the second padded with zeros.
// B[k, n] = 10 * k + n, so the packed order is visible in the constant.
// CHECK-DAG: #[[A:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[B:.+]] = affine_map<(d0, d1, d2) -> (d1 floordiv 48, d2, d1 mod 48)>
// CHECK-DAG: #[[C:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func @pack
// CHECK-NOT: linalg.matmul
// CHECK: %[[W:.+]] = arith.constant dense_resource<qcc_packed_weight> : tensor<2x2x48xf32>
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[C]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%{{.+}}, %[[W]] : tensor<8x2xf32>, tensor<2x2x48xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// SMALL-LABEL: func @pack
// SMALL: arith.constant dense_resource<qcc_packed_weight> : tensor<4x2x16xf32>
func.func @pack(%a: tensor<8x2xf32>, %c: tensor<8x50xf32>) -> tensor<8x50xf32> {
  %b = arith.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0, 33.0, 34.0, 35.0, 36.0, 37.0, 38.0, 39.0, 40.0, 41.0, 42.0, 43.0, 44.0, 45.0, 46.0, 47.0, 48.0, 49.0], [10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0, 33.0, 34.0, 35.0, 36.0, 37.0, 38.0, 39.0, 40.0, 41.0, 42.0, 43.0, 44.0, 45.0, 46.0, 47.0, 48.0, 49.0, 50.0, 51.0, 52.0, 53.0, 54.0, 55.0, 56.0, 57.0, 58.0, 59.0]]> : tensor<2x50xf32>
  %r = linalg.matmul ins(%a, %b : tensor<8x2xf32>, tensor<2x50xf32>) outs(%c : tensor<8x50xf32>) -> tensor<8x50xf32>
  return %r : tensor<8x50xf32>
}

// -----

// Left alone: fewer rows than min-rows (2 < 3: the GEMV form streams
// row-major B), a weight that is not a constant, a constant used twice,
// and i32.
// CHECK-LABEL: func @untouched
// CHECK-NOT: linalg.generic
// CHECK-NOT: qcc_packed_weight
// CHECK-COUNT-5: linalg.matmul
// SMALL-LABEL: func @untouched
// SMALL-COUNT-2: linalg.matmul ins
// SMALL: linalg.generic
// SMALL-COUNT-2: linalg.matmul ins
func.func @untouched(%a2: tensor<2x64xf32>, %c2: tensor<2x64xf32>, %a: tensor<8x64xf32>, %b: tensor<64x64xf32>, %c: tensor<8x64xf32>, %ai: tensor<8x64xi32>, %ci: tensor<8x64xi32>) -> (tensor<2x64xf32>, tensor<8x64xf32>, tensor<8x64xf32>, tensor<8x64xf32>, tensor<8x64xi32>) {
  %shared = arith.constant dense<1.0> : tensor<64x64xf32>
  %once = arith.constant dense<2.0> : tensor<64x64xf32>
  %wi = arith.constant dense<3> : tensor<64x64xi32>
  %r0 = linalg.matmul ins(%a, %shared : tensor<8x64xf32>, tensor<64x64xf32>) outs(%c : tensor<8x64xf32>) -> tensor<8x64xf32>
  %r1 = linalg.matmul ins(%a, %shared : tensor<8x64xf32>, tensor<64x64xf32>) outs(%c : tensor<8x64xf32>) -> tensor<8x64xf32>
  %r2 = linalg.matmul ins(%a2, %once : tensor<2x64xf32>, tensor<64x64xf32>) outs(%c2 : tensor<2x64xf32>) -> tensor<2x64xf32>
  %r3 = linalg.matmul ins(%a, %b : tensor<8x64xf32>, tensor<64x64xf32>) outs(%c : tensor<8x64xf32>) -> tensor<8x64xf32>
  %r4 = linalg.matmul ins(%ai, %wi : tensor<8x64xi32>, tensor<64x64xi32>) outs(%ci : tensor<8x64xi32>) -> tensor<8x64xi32>
  return %r2, %r0, %r1, %r3, %r4 : tensor<2x64xf32>, tensor<8x64xf32>, tensor<8x64xf32>, tensor<8x64xf32>, tensor<8x64xi32>
}

// -----

// 4 rows: the microkernel's block is 4 x 6 vectors, so 96-column panels.
// CHECK-LABEL: func @short
// CHECK: arith.constant dense_resource<qcc_packed_weight> : tensor<3x8x96xf32>
// CHECK: linalg.generic
// CHECK-SAME: tensor<4x8xf32>, tensor<3x8x96xf32>
func.func @short(%a: tensor<4x8xf32>, %c: tensor<4x200xf32>) -> tensor<4x200xf32> {
  %b = arith.constant dense<0.5> : tensor<8x200xf32>
  %r = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x200xf32>) outs(%c : tensor<4x200xf32>) -> tensor<4x200xf32>
  return %r : tensor<4x200xf32>
}
