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

// -----

// A constant filter goes right, transposed at compile time: patches
// [OH*OW, C*KH*KW] x weights [C*KH*KW, F], accumulating into the transposed
// init and transposed back, so qcc-quantize-weights sees a [K, N] weight.
// weights[k, f] = filter[f, k]: filter [[[[1, 2]]], [[[3, 4]]]] (F=2, C=1,
// KH=1, KW=2) becomes [[1, 3], [2, 4]].
// CHECK-DAG: #[[WRITE:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d3, d4, d0, d1, d2)>
// CHECK-LABEL: func @const_filter
// CHECK-SAME: (%[[IN:.+]]: tensor<1x1x3x3xf32>, %[[INIT:.+]]: tensor<1x2x3x2xf32>)
// CHECK: %[[COL:.+]] = linalg.generic {indexing_maps = [{{.+}}, #[[WRITE]]]{{.+}} ins(%[[IN]] : tensor<1x1x3x3xf32>) outs(%{{.+}} : tensor<3x2x1x1x2xf32>)
// CHECK: %[[INIT2D:.+]] = tensor.collapse_shape %[[INIT]] {{\[}}[0, 1], [2, 3]] : tensor<1x2x3x2xf32> into tensor<2x6xf32>
// CHECK: %[[W:.+]] = arith.constant dense_resource<qcc_conv_weights> : tensor<2x2xf32>
// CHECK: %[[COL2D:.+]] = tensor.collapse_shape %[[COL]] {{\[}}[0, 1], [2, 3, 4]] : tensor<3x2x1x1x2xf32> into tensor<6x2xf32>
// CHECK: %[[INITT:.+]] = linalg.transpose ins(%[[INIT2D]] : tensor<2x6xf32>) outs(%{{.+}} : tensor<6x2xf32>) permutation = [1, 0]
// CHECK: %[[MM:.+]] = linalg.matmul ins(%[[COL2D]], %[[W]] : tensor<6x2xf32>, tensor<2x2xf32>) outs(%[[INITT]] : tensor<6x2xf32>)
// CHECK: %[[OUTT:.+]] = linalg.transpose ins(%[[MM]] : tensor<6x2xf32>) outs(%{{.+}} : tensor<2x6xf32>) permutation = [1, 0]
// CHECK: %[[OUT:.+]] = tensor.expand_shape %[[OUTT]] {{\[}}[0, 1], [2, 3]] output_shape [1, 2, 3, 2]
// CHECK: return %[[OUT]]
// CHECK: qcc_conv_weights: "0x040000000000803F0000404000000040
func.func @const_filter(%in: tensor<1x1x3x3xf32>, %init: tensor<1x2x3x2xf32>) -> tensor<1x2x3x2xf32> {
  %w = arith.constant dense<[[[[1.0, 2.0]]], [[[3.0, 4.0]]]]> : tensor<2x1x1x2xf32>
  %0 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%in, %w : tensor<1x1x3x3xf32>, tensor<2x1x1x2xf32>) outs(%init : tensor<1x2x3x2xf32>) -> tensor<1x2x3x2xf32>
  return %0 : tensor<1x2x3x2xf32>
}

// -----

// NHWC (qcc-conv-nhwc's form): patches [OH*OW, KH*KW*C] gathered with the
// channel innermost, the [KH, KW, C, F] filter is already the [K, F] weight,
// and the [OH*OW, F] product is the NHWC output: no transposes.
// CHECK-DAG: #[[NREAD:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (0, d0 * 2 + d2, d1 * 2 + d3, d4)>
// CHECK-LABEL: func @nhwc_conv
// CHECK-SAME: (%[[IN:.+]]: tensor<1x9x9x2xf32>, %[[INIT:.+]]: tensor<1x4x4x3xf32>)
// CHECK: %[[COL:.+]] = linalg.generic {indexing_maps = [#[[NREAD]], {{.+}}]{{.+}} ins(%[[IN]] : tensor<1x9x9x2xf32>) outs(%{{.+}} : tensor<4x4x3x3x2xf32>)
// CHECK: %[[COL2D:.+]] = tensor.collapse_shape %[[COL]] {{\[}}[0, 1], [2, 3, 4]] : tensor<4x4x3x3x2xf32> into tensor<16x18xf32>
// CHECK: %[[W:.+]] = arith.constant dense_resource<qcc_conv_weights> : tensor<18x3xf32>
// CHECK: %[[INIT2D:.+]] = tensor.collapse_shape %[[INIT]] {{\[}}[0, 1, 2], [3]] : tensor<1x4x4x3xf32> into tensor<16x3xf32>
// CHECK: %[[MM:.+]] = linalg.matmul ins(%[[COL2D]], %[[W]] : tensor<16x18xf32>, tensor<18x3xf32>) outs(%[[INIT2D]] : tensor<16x3xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: %[[OUT:.+]] = tensor.expand_shape %[[MM]] {{\[}}[0, 1, 2], [3]] output_shape [1, 4, 4, 3]
// CHECK: return %[[OUT]]
func.func @nhwc_conv(%in: tensor<1x9x9x2xf32>, %init: tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32> {
  %w = arith.constant dense<1.0> : tensor<3x3x2x3xf32>
  %0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%in, %w : tensor<1x9x9x2xf32>, tensor<3x3x2x3xf32>) outs(%init : tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32>
  return %0 : tensor<1x4x4x3xf32>
}

// -----

// A 1x1 stride-1 NHWC convolution multiplies the activation itself.
// CHECK-LABEL: func @nhwc_1x1
// CHECK-SAME: (%[[IN:.+]]: tensor<1x5x5x4xf32>, %[[W:.+]]: tensor<1x1x4x8xf32>, %[[INIT:.+]]: tensor<1x5x5x8xf32>)
// CHECK-NOT: linalg.generic
// CHECK: %[[A:.+]] = tensor.collapse_shape %[[IN]] {{\[}}[0, 1, 2], [3]] : tensor<1x5x5x4xf32> into tensor<25x4xf32>
// CHECK: %[[B:.+]] = tensor.collapse_shape %[[W]] {{\[}}[0, 1, 2], [3]] : tensor<1x1x4x8xf32> into tensor<4x8xf32>
// CHECK: %[[C:.+]] = tensor.collapse_shape %[[INIT]] {{\[}}[0, 1, 2], [3]] : tensor<1x5x5x8xf32> into tensor<25x8xf32>
// CHECK: linalg.matmul ins(%[[A]], %[[B]] : tensor<25x4xf32>, tensor<4x8xf32>) outs(%[[C]] : tensor<25x8xf32>)
func.func @nhwc_1x1(%in: tensor<1x5x5x4xf32>, %w: tensor<1x1x4x8xf32>, %init: tensor<1x5x5x8xf32>) -> tensor<1x5x5x8xf32> {
  %0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%in, %w : tensor<1x5x5x4xf32>, tensor<1x1x4x8xf32>) outs(%init : tensor<1x5x5x8xf32>) -> tensor<1x5x5x8xf32>
  return %0 : tensor<1x5x5x8xf32>
}

// -----

// NHWC depthwise convolution and pooling: generics over (n, oh, ow, kh, kw,
// c) with the channel loop innermost (dilation 2 folded into the read map).
// CHECK-DAG: #[[DWREAD:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 + d3 * 2, d2 + d4 * 2, d5)>
// CHECK-DAG: #[[DWFILT:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d4, d5)>
// CHECK-DAG: #[[WOUT:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d5)>
// CHECK-LABEL: func @nhwc_depthwise
// CHECK: linalg.generic {indexing_maps = [#[[DWREAD]], #[[DWFILT]], #[[WOUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "parallel"]}
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @nhwc_depthwise(%in: tensor<1x6x6x16xf32>, %w: tensor<3x3x16xf32>, %init: tensor<1x2x2x16xf32>) -> tensor<1x2x2x16xf32> {
  %0 = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%in, %w : tensor<1x6x6x16xf32>, tensor<3x3x16xf32>) outs(%init : tensor<1x2x2x16xf32>) -> tensor<1x2x2x16xf32>
  return %0 : tensor<1x2x2x16xf32>
}

// -----

// CHECK-DAG: #[[PREAD:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 * 2 + d3, d2 * 2 + d4, d5)>
// CHECK-DAG: #[[PWIN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d4)>
// CHECK-LABEL: func @nhwc_pools
// CHECK: linalg.generic {indexing_maps = [#[[PREAD]], #[[PWIN]], {{.+}}], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "parallel"]}
// CHECK: arith.maximumf
// CHECK: linalg.generic {indexing_maps = [#[[PREAD]], #[[PWIN]], {{.+}}], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "parallel"]}
// CHECK: arith.addf
func.func @nhwc_pools(%in: tensor<1x4x4x16xf32>, %init: tensor<1x2x2x16xf32>) -> (tensor<1x2x2x16xf32>, tensor<1x2x2x16xf32>) {
  %win = tensor.empty() : tensor<2x2xf32>
  %0 = linalg.pooling_nhwc_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%in, %win : tensor<1x4x4x16xf32>, tensor<2x2xf32>) outs(%init : tensor<1x2x2x16xf32>) -> tensor<1x2x2x16xf32>
  %1 = linalg.pooling_nhwc_sum {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%in, %win : tensor<1x4x4x16xf32>, tensor<2x2xf32>) outs(%init : tensor<1x2x2x16xf32>) -> tensor<1x2x2x16xf32>
  return %0, %1 : tensor<1x2x2x16xf32>, tensor<1x2x2x16xf32>
}
