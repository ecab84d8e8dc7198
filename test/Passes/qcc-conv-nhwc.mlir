// RUN: qcc-opt %s -split-input-file -qcc-conv-nhwc | FileCheck %s

// A chain conv 1x1 -> Relu -> pad -> conv 3x3 -> residual Add runs in NHWC:
// one transpose of the chain's input, one of its output; the Relu, the pad
// and the Add work on NHWC tensors. The constant 1x1 filter [F=8, C=4, 1, 1]
// is reordered to [1, 1, C, F] at compile time (its first row, c = 0, holds
// f = 0..7: 1, 5, 1, 2, 3, 4, 5, 6); the argument filter gets a transpose.
// CHECK-LABEL: func @chain
// CHECK-SAME: (%[[X:.+]]: tensor<1x4x6x6xf32>, %[[W2:.+]]: tensor<8x8x3x3xf32>)
// CHECK: %[[W1:.+]] = arith.constant dense_resource<qcc_nhwc_filter> : tensor<1x1x4x8xf32>
// CHECK: %[[XT:.+]] = linalg.transpose ins(%[[X]] : tensor<1x4x6x6xf32>) outs(%{{.+}} : tensor<1x6x6x4xf32>) permutation = [0, 2, 3, 1]
// CHECK: %[[C1:.+]] = linalg.conv_2d_nhwc_hwcf {{.+}} ins(%[[XT]], %[[W1]] : tensor<1x6x6x4xf32>, tensor<1x1x4x8xf32>) outs(%{{.+}} : tensor<1x6x6x8xf32>)
// CHECK: %[[R:.+]] = linalg.generic {{.+}} ins(%[[C1]] : tensor<1x6x6x8xf32>) outs(%{{.+}} : tensor<1x6x6x8xf32>)
// CHECK: arith.maximumf
// CHECK: %[[P:.+]] = tensor.pad %[[R]] low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK: } : tensor<1x6x6x8xf32> to tensor<1x8x8x8xf32>
// CHECK: %[[W2T:.+]] = linalg.transpose ins(%[[W2]] : tensor<8x8x3x3xf32>) outs(%{{.+}} : tensor<3x3x8x8xf32>) permutation = [2, 3, 1, 0]
// CHECK: %[[C2:.+]] = linalg.conv_2d_nhwc_hwcf {{.+}} ins(%[[P]], %[[W2T]] : tensor<1x8x8x8xf32>, tensor<3x3x8x8xf32>)
// CHECK: %[[ADD:.+]] = linalg.generic {indexing_maps = [#[[ID:.+]], #[[ID]], #[[ID]]]{{.+}} ins(%[[C2]], %[[R]] : tensor<1x6x6x8xf32>, tensor<1x6x6x8xf32>) outs(%{{.+}} : tensor<1x6x6x8xf32>)
// CHECK: arith.addf
// CHECK: %[[OUT:.+]] = linalg.transpose ins(%[[ADD]] : tensor<1x6x6x8xf32>) outs(%{{.+}} : tensor<1x8x6x6xf32>) permutation = [0, 3, 1, 2]
// CHECK-NOT: linalg.transpose
// CHECK: return %[[OUT]]
// CHECK: qcc_nhwc_filter: "0x040000000000803F0000A0400000803F0000004000004040000080400000A0400000C040
func.func @chain(%x: tensor<1x4x6x6xf32>, %w2: tensor<8x8x3x3xf32>) -> tensor<1x8x6x6xf32> {
  %zero = arith.constant 0.0 : f32
  %w1 = arith.constant dense<[[[[1.0]], [[2.0]], [[3.0]], [[4.0]]], [[[5.0]], [[6.0]], [[7.0]], [[8.0]]], [[[1.0]], [[1.0]], [[1.0]], [[1.0]]], [[[2.0]], [[2.0]], [[2.0]], [[2.0]]], [[[3.0]], [[3.0]], [[3.0]], [[3.0]]], [[[4.0]], [[4.0]], [[4.0]], [[4.0]]], [[[5.0]], [[5.0]], [[5.0]], [[5.0]]], [[[6.0]], [[6.0]], [[6.0]], [[6.0]]]]> : tensor<8x4x1x1xf32>
  %e = tensor.empty() : tensor<1x8x6x6xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  %c1 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w1 : tensor<1x4x6x6xf32>, tensor<8x4x1x1xf32>) outs(%acc : tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c1 : tensor<1x8x6x6xf32>) outs(%e : tensor<1x8x6x6xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x8x6x6xf32>
  %p = tensor.pad %r low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %zero : f32
  } : tensor<1x8x6x6xf32> to tensor<1x8x8x8xf32>
  %c2 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%p, %w2 : tensor<1x8x8x8xf32>, tensor<8x8x3x3xf32>) outs(%acc : tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  %add = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c2, %r : tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32>) outs(%e : tensor<1x8x6x6xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %s = arith.addf %in, %in2 : f32
    linalg.yield %s : f32
  } -> tensor<1x8x6x6xf32>
  return %add : tensor<1x8x6x6xf32>
}

// -----

// Depthwise convolution, max pool and global average pooling: the first two
// become their NHWC named twins, the reduction reads the NHWC tensor through
// its indexing map, and no transpose is left after the input's. The input's
// pad moves after its transpose (which can then write the padded interior).
// CHECK-DAG: #[[GAPREAD:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3, d1)>
// CHECK-LABEL: func @dw_pool_gap
// CHECK: %[[T:.+]] = linalg.transpose ins(%{{.+}} : tensor<1x16x8x8xf32>) outs(%{{.+}} : tensor<1x8x8x16xf32>) permutation = [0, 2, 3, 1]
// CHECK: %[[XT:.+]] = tensor.pad %[[T]] low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK: } : tensor<1x8x8x16xf32> to tensor<1x10x10x16xf32>
// CHECK: %[[WT:.+]] = linalg.transpose ins(%{{.+}} : tensor<16x3x3xf32>) outs(%{{.+}} : tensor<3x3x16xf32>) permutation = [1, 2, 0]
// CHECK: %[[DW:.+]] = linalg.depthwise_conv_2d_nhwc_hwc {{.+}} ins(%[[XT]], %[[WT]] : tensor<1x10x10x16xf32>, tensor<3x3x16xf32>) outs(%{{.+}} : tensor<1x8x8x16xf32>)
// CHECK: %[[MP:.+]] = linalg.pooling_nhwc_max {{.+}} ins(%[[DW]], %{{.+}} : tensor<1x8x8x16xf32>, tensor<2x2xf32>) outs(%{{.+}} : tensor<1x4x4x16xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: linalg.generic {indexing_maps = [#[[GAPREAD]], {{.+}}], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%[[MP]] : tensor<1x4x4x16xf32>)
func.func @dw_pool_gap(%x: tensor<1x16x8x8xf32>, %w: tensor<16x3x3xf32>) -> tensor<1x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %zero : f32
  } : tensor<1x16x8x8xf32> to tensor<1x16x10x10xf32>
  %e = tensor.empty() : tensor<1x16x8x8xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
  %dw = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%p, %w : tensor<1x16x10x10xf32>, tensor<16x3x3xf32>) outs(%acc : tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
  %win = tensor.empty() : tensor<2x2xf32>
  %pe = tensor.empty() : tensor<1x16x4x4xf32>
  %pacc = linalg.fill ins(%ninf : f32) outs(%pe : tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xf32>
  %mp = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%dw, %win : tensor<1x16x8x8xf32>, tensor<2x2xf32>) outs(%pacc : tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xf32>
  %ge = tensor.empty() : tensor<1x16xf32>
  %gacc = linalg.fill ins(%zero : f32) outs(%ge : tensor<1x16xf32>) -> tensor<1x16xf32>
  %gap = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%mp : tensor<1x16x4x4xf32>) outs(%gacc : tensor<1x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %out, %in : f32
    linalg.yield %s : f32
  } -> tensor<1x16xf32>
  return %gap : tensor<1x16xf32>
}
