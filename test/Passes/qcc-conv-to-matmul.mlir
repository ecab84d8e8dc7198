// RUN: qcc-opt %s -split-input-file -qcc-conv-to-matmul | FileCheck %s

// Stride 2, dilation 1: patches gathered with strided indexing, then one
// matmul of the [F, C*KH*KW] filter with the [C*KH*KW, OH*OW] patch matrix.
// CHECK-DAG: #[[READ:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (0, d0, d3 * 2 + d1, d4 * 2 + d2)>
// CHECK-LABEL: func @conv
// CHECK-SAME: (%[[IN:.+]]: tensor<1x3x9x9xf32>, %[[W:.+]]: tensor<8x3x3x3xf32>, %[[INIT:.+]]: tensor<1x8x4x4xf32>)
// CHECK: %[[COL:.+]] = linalg.generic {indexing_maps = [#[[READ]], {{.+}}]{{.+}} ins(%[[IN]] : tensor<1x3x9x9xf32>) outs(%{{.+}} : tensor<3x3x3x4x4xf32>)
// CHECK: %[[COL2D:.+]] = tensor.collapse_shape %[[COL]] {{\[}}[0, 1, 2], [3, 4]] : tensor<3x3x3x4x4xf32> into tensor<27x16xf32>
// CHECK: %[[W2D:.+]] = tensor.collapse_shape %[[W]] {{\[}}[0], [1, 2, 3]] : tensor<8x3x3x3xf32> into tensor<8x27xf32>
// CHECK: %[[INIT2D:.+]] = tensor.collapse_shape %[[INIT]] {{\[}}[0, 1], [2, 3]] : tensor<1x8x4x4xf32> into tensor<8x16xf32>
// CHECK: %[[MM:.+]] = linalg.matmul ins(%[[W2D]], %[[COL2D]] : tensor<8x27xf32>, tensor<27x16xf32>) outs(%[[INIT2D]] : tensor<8x16xf32>)
// CHECK: %[[OUT:.+]] = tensor.expand_shape %[[MM]] {{\[}}[0, 1], [2, 3]] output_shape [1, 8, 4, 4]
// CHECK: return %[[OUT]]
func.func @conv(%in: tensor<1x3x9x9xf32>, %w: tensor<8x3x3x3xf32>, %init: tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32> {
  %0 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%in, %w : tensor<1x3x9x9xf32>, tensor<8x3x3x3xf32>) outs(%init : tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
  return %0 : tensor<1x8x4x4xf32>
}

// -----

// Batches above 1 stay convolutions.
// CHECK-LABEL: func @batch2
// CHECK: linalg.conv_2d_nchw_fchw
// CHECK-NOT: linalg.matmul
func.func @batch2(%in: tensor<2x3x9x9xf32>, %w: tensor<8x3x3x3xf32>, %init: tensor<2x8x7x7xf32>) -> tensor<2x8x7x7xf32> {
  %0 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%in, %w : tensor<2x3x9x9xf32>, tensor<8x3x3x3xf32>) outs(%init : tensor<2x8x7x7xf32>) -> tensor<2x8x7x7xf32>
  return %0 : tensor<2x8x7x7xf32>
}
