// RUN: qcc-opt %s -split-input-file -qcc-conv-nhwc -verify-diagnostics | FileCheck %s

// Operations qcc-conv-nhwc must leave as they are, without a diagnostic:
// they stay correct NCHW ops.

// expected-no-diagnostics

// Batches above 1 stay NCHW.
// CHECK-LABEL: func @batch2
// CHECK: linalg.conv_2d_nchw_fchw
// CHECK-NOT: linalg.transpose
func.func @batch2(%in: tensor<2x3x9x9xf32>, %w: tensor<8x3x3x3xf32>, %init: tensor<2x8x7x7xf32>) -> tensor<2x8x7x7xf32> {
  %0 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%in, %w : tensor<2x3x9x9xf32>, tensor<8x3x3x3xf32>) outs(%init : tensor<2x8x7x7xf32>) -> tensor<2x8x7x7xf32>
  return %0 : tensor<2x8x7x7xf32>
}

// -----

// Other element types stay NCHW.
// CHECK-LABEL: func @f16
// CHECK: linalg.conv_2d_nchw_fchw
// CHECK-NOT: linalg.transpose
func.func @f16(%in: tensor<1x3x9x9xf16>, %w: tensor<8x3x3x3xf16>, %init: tensor<1x8x7x7xf16>) -> tensor<1x8x7x7xf16> {
  %0 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%in, %w : tensor<1x3x9x9xf16>, tensor<8x3x3x3xf16>) outs(%init : tensor<1x8x7x7xf16>) -> tensor<1x8x7x7xf16>
  return %0 : tensor<1x8x7x7xf16>
}

// -----

// Dynamic shapes stay NCHW.
// CHECK-LABEL: func @dynamic
// CHECK: linalg.pooling_nchw_max
// CHECK-NOT: linalg.transpose
func.func @dynamic(%in: tensor<1x3x?x?xf32>, %win: tensor<2x2xf32>, %init: tensor<1x3x?x?xf32>) -> tensor<1x3x?x?xf32> {
  %0 = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%in, %win : tensor<1x3x?x?xf32>, tensor<2x2xf32>) outs(%init : tensor<1x3x?x?xf32>) -> tensor<1x3x?x?xf32>
  return %0 : tensor<1x3x?x?xf32>
}

// -----

// A transpose of another permutation (attention heads, say) is not moved
// through the element-wise op after it.
// CHECK-LABEL: func @other_transpose
// CHECK: %[[T:.+]] = linalg.transpose {{.+}} permutation = [0, 2, 1, 3]
// CHECK: linalg.generic {{.+}} ins(%[[T]] : tensor<1x4x2x8xf32>)
// CHECK-NOT: linalg.transpose
func.func @other_transpose(%x: tensor<1x2x4x8xf32>) -> tensor<1x4x2x8xf32> {
  %e = tensor.empty() : tensor<1x4x2x8xf32>
  %t = linalg.transpose ins(%x : tensor<1x2x4x8xf32>) outs(%e : tensor<1x4x2x8xf32>) permutation = [0, 2, 1, 3]
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%t : tensor<1x4x2x8xf32>) outs(%e : tensor<1x4x2x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.negf %in : f32
    linalg.yield %m : f32
  } -> tensor<1x4x2x8xf32>
  return %r : tensor<1x4x2x8xf32>
}
