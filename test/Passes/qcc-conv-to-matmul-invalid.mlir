// RUN: qcc-opt %s -split-input-file -qcc-conv-to-matmul -verify-diagnostics | FileCheck %s

// Convolutions qcc-conv-to-matmul must leave as they are, without a
// diagnostic: the generic lowering still runs them correctly.

// expected-no-diagnostics

// NHWC batches above 1 stay convolutions.
// CHECK-LABEL: func @nhwc_batch2
// CHECK: linalg.conv_2d_nhwc_hwcf
// CHECK-NOT: linalg.matmul
func.func @nhwc_batch2(%in: tensor<2x9x9x3xf32>, %w: tensor<3x3x3x8xf32>, %init: tensor<2x7x7x8xf32>) -> tensor<2x7x7x8xf32> {
  %0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%in, %w : tensor<2x9x9x3xf32>, tensor<3x3x3x8xf32>) outs(%init : tensor<2x7x7x8xf32>) -> tensor<2x7x7x8xf32>
  return %0 : tensor<2x7x7x8xf32>
}

// -----

// Non-f32 depthwise convolutions and pools stay named ops.
// CHECK-LABEL: func @f16_depthwise
// CHECK: linalg.depthwise_conv_2d_nhwc_hwc
// CHECK-NOT: linalg.generic
func.func @f16_depthwise(%in: tensor<1x6x6x16xf16>, %w: tensor<3x3x16xf16>, %init: tensor<1x4x4x16xf16>) -> tensor<1x4x4x16xf16> {
  %0 = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%in, %w : tensor<1x6x6x16xf16>, tensor<3x3x16xf16>) outs(%init : tensor<1x4x4x16xf16>) -> tensor<1x4x4x16xf16>
  return %0 : tensor<1x4x4x16xf16>
}

// -----

// CHECK-LABEL: func @i32_pool
// CHECK: linalg.pooling_nhwc_max
// CHECK-NOT: linalg.generic
func.func @i32_pool(%in: tensor<1x4x4x16xi32>, %init: tensor<1x2x2x16xi32>) -> tensor<1x2x2x16xi32> {
  %win = tensor.empty() : tensor<2x2xi32>
  %0 = linalg.pooling_nhwc_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%in, %win : tensor<1x4x4x16xi32>, tensor<2x2xi32>) outs(%init : tensor<1x2x2x16xi32>) -> tensor<1x2x2x16xi32>
  return %0 : tensor<1x2x2x16xi32>
}
