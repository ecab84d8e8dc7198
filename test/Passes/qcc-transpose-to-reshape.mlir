// RUN: qcc-opt %s -split-input-file -qcc-transpose-to-reshape -verify-diagnostics | FileCheck %s

// Attention at one token: [1, 1, heads, dim] -> [1, heads, 1, dim] moves
// only the unit dimension, so it is a reshape (a view after bufferization).
// CHECK-LABEL: func @heads_one_token
// CHECK-NOT: linalg.transpose
// CHECK: %[[F:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0, 1, 2], [3]] : tensor<1x1x9x64xf32> into tensor<9x64xf32>
// CHECK: %[[E:.+]] = tensor.expand_shape %[[F]] {{\[}}[0, 1], [2, 3]] output_shape [1, 9, 1, 64] : tensor<9x64xf32> into tensor<1x9x1x64xf32>
// CHECK: return %[[E]]
func.func @heads_one_token(%x: tensor<1x1x9x64xf32>) -> tensor<1x9x1x64xf32> {
  %e = tensor.empty() : tensor<1x9x1x64xf32>
  %t = linalg.transpose ins(%x : tensor<1x1x9x64xf32>) outs(%e : tensor<1x9x1x64xf32>) permutation = [0, 2, 1, 3]
  return %t : tensor<1x9x1x64xf32>
}

// -----

// K^T at one token: a trailing unit dimension.
// CHECK-LABEL: func @trailing_unit
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0, 1], [2, 3]] : tensor<1x9x1x64xf32> into tensor<9x64xf32>
// CHECK: tensor.expand_shape %{{.+}} {{\[}}[0, 1], [2, 3]] output_shape [1, 9, 64, 1]
func.func @trailing_unit(%x: tensor<1x9x1x64xf32>) -> tensor<1x9x64x1xf32> {
  %e = tensor.empty() : tensor<1x9x64x1xf32>
  %t = linalg.transpose ins(%x : tensor<1x9x1x64xf32>) outs(%e : tensor<1x9x64x1xf32>) permutation = [0, 1, 3, 2]
  return %t : tensor<1x9x64x1xf32>
}

// -----

// Only unit dimensions: a reshape through rank 0, which folds away.
// CHECK-LABEL: func @all_unit
// CHECK-NOT: linalg.transpose
// CHECK: return %arg0 : tensor<1x1x1xi8>
func.func @all_unit(%x: tensor<1x1x1xi8>) -> tensor<1x1x1xi8> {
  %e = tensor.empty() : tensor<1x1x1xi8>
  %t = linalg.transpose ins(%x : tensor<1x1x1xi8>) outs(%e : tensor<1x1x1xi8>) permutation = [2, 0, 1]
  return %t : tensor<1x1x1xi8>
}

// -----

// Transposes that move elements stay: two non-unit dimensions swap (the
// unit ones moving as well does not matter), or a shape is dynamic.
// CHECK-LABEL: func @moves_elements
// CHECK: linalg.transpose {{.+}} permutation = [0, 2, 1, 3]
// CHECK: linalg.transpose {{.+}} permutation = [1, 0]
func.func @moves_elements(%x: tensor<1x16x9x64xf32>, %y: tensor<?x1xf32>) -> (tensor<1x9x16x64xf32>, tensor<1x?xf32>) {
  %e = tensor.empty() : tensor<1x9x16x64xf32>
  %t = linalg.transpose ins(%x : tensor<1x16x9x64xf32>) outs(%e : tensor<1x9x16x64xf32>) permutation = [0, 2, 1, 3]
  %c0 = arith.constant 0 : index
  %n = tensor.dim %y, %c0 : tensor<?x1xf32>
  %f = tensor.empty(%n) : tensor<1x?xf32>
  %u = linalg.transpose ins(%y : tensor<?x1xf32>) outs(%f : tensor<1x?xf32>) permutation = [1, 0]
  return %t, %u : tensor<1x9x16x64xf32>, tensor<1x?xf32>
}
