// RUN: qcc-opt %s -split-input-file -qcc-quantize-embeddings="min-elements=16" | FileCheck %s

// A table read only through tensor.extract becomes int8 codes plus one scale
// per row; each read decodes its element.
// CHECK-LABEL: func @gather
// CHECK-DAG: %[[Q:.+]] = arith.constant dense_resource<qcc_qembedding> : tensor<8x4xi8>
// CHECK-DAG: %[[S:.+]] = arith.constant dense<{{.+}}> : tensor<8xf32>
// CHECK: linalg.generic
// CHECK: %[[C:.+]] = tensor.extract %[[Q]][%[[R:.+]], %[[K:.+]]] : tensor<8x4xi8>
// CHECK: %[[RS:.+]] = tensor.extract %[[S]][%[[R]]] : tensor<8xf32>
// CHECK: %[[F:.+]] = arith.sitofp %[[C]] : i8 to f32
// CHECK: %[[V:.+]] = arith.mulf %[[F]], %[[RS]] : f32
// CHECK: linalg.yield %[[V]]
// CHECK-NOT: tensor<8x4xf32>
func.func @gather(%ids: tensor<3xindex>) -> tensor<3x4xf32> {
  %t = arith.constant dense<[[1.0, -2.0, 0.5, 0.25], [3.0, 1.0, -1.0, 0.0], [0.1, 0.2, 0.3, 0.4], [-4.0, 2.0, 1.0, 0.5],
                             [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0], [2.5, -2.5, 1.25, 0.0], [7.0, 6.0, 5.0, 4.0]]> : tensor<8x4xf32>
  %e = tensor.empty() : tensor<3x4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]} ins(%ids : tensor<3xindex>) outs(%e : tensor<3x4xf32>) {
  ^bb0(%i: index, %o: f32):
    %k = linalg.index 1 : index
    %v = tensor.extract %t[%i, %k] : tensor<8x4xf32>
    linalg.yield %v : f32
  } -> tensor<3x4xf32>
  return %r : tensor<3x4xf32>
}

// -----

// A table that a matmul also reads (a tied LM head), a table under the size
// threshold and a table holding -inf (a mask) stay f32.
// CHECK-LABEL: func @kept
// CHECK: arith.constant dense<{{.+}}> : tensor<4x4xf32>
// CHECK: arith.constant dense<{{.+}}> : tensor<2x4xf32>
// CHECK: arith.constant dense<{{.+}}> : tensor<4x8xf32>
// CHECK-NOT: xi8>
func.func @kept(%x: tensor<1x4xf32>, %i: index, %j: index) -> (tensor<1x4xf32>, f32) {
  %t = arith.constant dense<1.5> : tensor<4x4xf32>
  %small = arith.constant dense<2.0> : tensor<2x4xf32>
  %mask = arith.constant dense<0xFF800000> : tensor<4x8xf32>
  %z = arith.constant dense<0.0> : tensor<1x4xf32>
  %m = linalg.matmul ins(%x, %t : tensor<1x4xf32>, tensor<4x4xf32>) outs(%z : tensor<1x4xf32>) -> tensor<1x4xf32>
  %a = tensor.extract %t[%i, %j] : tensor<4x4xf32>
  %b = tensor.extract %small[%i, %j] : tensor<2x4xf32>
  %c = tensor.extract %mask[%i, %j] : tensor<4x8xf32>
  %s0 = arith.addf %a, %b : f32
  %s = arith.addf %s0, %c : f32
  return %m, %s : tensor<1x4xf32>, f32
}
