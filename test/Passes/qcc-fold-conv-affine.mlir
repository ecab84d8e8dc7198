// RUN: qcc-opt %s -split-input-file -qcc-fold-conv-affine -canonicalize | FileCheck %s

// Conv -> bias add -> BatchNorm (inference) -> Relu: the filter rows are
// scaled by gamma / sqrt(var + eps) and one "+ b[c]" generic is left before
// the Relu. Channel 0: a = 2 / sqrt(3 + 1) = 1, b = (1 - 0) * 1 + 0.5 = 1.5;
// channel 1: a = 4 / sqrt(0 + 1) = 4, b = (-1 - 1) * 4 + 0 = -8; filter
// 1 * 1 = 1 (0x3F800000) and 3 * 4 = 12 (0x41400000), bias 1.5 (0x3FC00000)
// and -8 (0xC1000000).
// CHECK-LABEL: func @conv_bn_relu
// CHECK-DAG: %[[W:.*]] = arith.constant dense_resource<qcc_folded_filter> : tensor<2x1x1x1xf32>
// CHECK-DAG: %[[B:.*]] = arith.constant dense_resource<qcc_folded_bias> : tensor<2xf32>
// CHECK: %[[C:.*]] = linalg.conv_2d_nchw_fchw {{.*}} ins(%{{.*}}, %[[W]] :
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%[[C]], %[[B]] :
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.addf
// CHECK-NEXT: linalg.yield
// CHECK: linalg.generic {{.*}} ins(%[[Y]] :
// CHECK: arith.maximumf
// CHECK-NOT: math.rsqrt
// CHECK: qcc_folded_bias: "0x040000000000C03F000000C1"
// CHECK: qcc_folded_filter: "0x040000000000803F00004041"
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d1)>
func.func @conv_bn_relu(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<[[[[1.0]]], [[[3.0]]]]> : tensor<2x1x1x1xf32>
  %bias = arith.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %gamma = arith.constant dense<[2.0, 4.0]> : tensor<2xf32>
  %beta = arith.constant dense<[0.5, 0.0]> : tensor<2xf32>
  %mean = arith.constant dense<[0.0, 1.0]> : tensor<2xf32>
  %var = arith.constant dense<[3.0, 0.0]> : tensor<2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) outs(%f : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %b = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c, %bias : tensor<1x2x4x4xf32>, tensor<2xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %0 = arith.addf %in, %in1 : f32
    linalg.yield %0 : f32
  } -> tensor<1x2x4x4xf32>
  %n = linalg.generic {indexing_maps = [#id, #ch, #ch, #ch, #ch, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b, %gamma, %beta, %mean, %var : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %g: f32, %be: f32, %m: f32, %v: f32, %out: f32):
    %eps = arith.constant 1.0 : f32
    %0 = arith.subf %in, %m : f32
    %1 = arith.addf %v, %eps : f32
    %2 = math.rsqrt %1 : f32
    %3 = arith.mulf %0, %2 : f32
    %4 = arith.mulf %3, %g : f32
    %5 = arith.addf %4, %be : f32
    linalg.yield %5 : f32
  } -> tensor<1x2x4x4xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%n : tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %zero : f32
    linalg.yield %0 : f32
  } -> tensor<1x2x4x4xf32>
  return %r : tensor<1x2x4x4xf32>
}

// -----

// A depthwise conv followed by ONNX-style Mul and Add by [C,1,1] constants
// (broadcast maps) and a division by a scalar: a = 3 / 2, b = 1 / 2 for
// channel 0 and a = -1 / 2, b = 0 for channel 1. The filter is divided
// accordingly; no bias generic would be left if b were 0 everywhere.
// CHECK-LABEL: func @depthwise_mul_add
// CHECK-DAG: %[[W:.*]] = arith.constant dense_resource<qcc_folded_filter> : tensor<2x1x1xf32>
// CHECK-DAG: %[[B:.*]] = arith.constant dense_resource<qcc_folded_bias> : tensor<2xf32>
// CHECK: %[[C:.*]] = linalg.depthwise_conv_2d_nchw_chw {{.*}} ins(%{{.*}}, %[[W]] :
// CHECK: linalg.generic {{.*}} ins(%[[C]], %[[B]] :
// CHECK-NOT: arith.divf
// CHECK-NOT: arith.mulf
// CHECK: qcc_folded_bias: "0x040000000000003F00000000"
// CHECK: qcc_folded_filter: "0x040000000000C03F000000BF"
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#bc = affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>
#sc = affine_map<(d0, d1, d2, d3) -> ()>
func.func @depthwise_mul_add(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<[[[1.0]], [[1.0]]]> : tensor<2x1x1xf32>
  %m = arith.constant dense<[[[3.0]], [[-1.0]]]> : tensor<2x1x1xf32>
  %a = arith.constant dense<[[[1.0]], [[0.0]]]> : tensor<2x1x1xf32>
  %two = arith.constant dense<2.0> : tensor<f32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %c = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) outs(%f : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %0 = linalg.generic {indexing_maps = [#bc, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%m, %c : tensor<2x1x1xf32>, tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%k: f32, %in: f32, %out: f32):
    %1 = arith.mulf %k, %in : f32
    linalg.yield %1 : f32
  } -> tensor<1x2x4x4xf32>
  %2 = linalg.generic {indexing_maps = [#id, #bc, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%0, %a : tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %k: f32, %out: f32):
    %1 = arith.addf %in, %k : f32
    linalg.yield %1 : f32
  } -> tensor<1x2x4x4xf32>
  %3 = linalg.generic {indexing_maps = [#id, #sc, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%2, %two : tensor<1x2x4x4xf32>, tensor<f32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %k: f32, %out: f32):
    %1 = arith.divf %in, %k : f32
    linalg.yield %1 : f32
  } -> tensor<1x2x4x4xf32>
  return %3 : tensor<1x2x4x4xf32>
}

// -----

// Scale only (b = 0 everywhere): no bias generic is left at all.
// CHECK-LABEL: func @scale_only
// CHECK: %[[C:.*]] = linalg.conv_2d_nchw_fchw
// CHECK-NOT: linalg.generic
// CHECK: return %[[C]]
// CHECK: qcc_folded_filter: "0x04000000000000400000C03F"
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d1)>
func.func @scale_only(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<[[[[1.0]]], [[[3.0]]]]> : tensor<2x1x1x1xf32>
  %s = arith.constant dense<[2.0, 0.5]> : tensor<2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) outs(%f : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %0 = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c, %s : tensor<1x2x4x4xf32>, tensor<2xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %k: f32, %out: f32):
    %1 = arith.mulf %in, %k : f32
    linalg.yield %1 : f32
  } -> tensor<1x2x4x4xf32>
  return %0 : tensor<1x2x4x4xf32>
}
