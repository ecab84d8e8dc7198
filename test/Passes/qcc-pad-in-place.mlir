// RUN: qcc-opt %s -split-input-file -qcc-pad-in-place | FileCheck %s

// The Relu generic writes the interior of the zero-filled padded tensor the
// convolution reads; the pad becomes the matching insert_slice.
// CHECK-LABEL: func @relu_then_pad
// CHECK: tensor.empty() : tensor<1x4x4x8xf32>
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[E:.+]] = tensor.empty() : tensor<1x6x6x8xf32>
// CHECK: %[[F:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[E]] : tensor<1x6x6x8xf32>)
// CHECK: %[[S:.+]] = tensor.extract_slice %[[F]][0, 1, 1, 0] [1, 4, 4, 8] [1, 1, 1, 1]
// CHECK: %[[R:.+]] = linalg.generic {{.+}} outs(%[[S]] : tensor<1x4x4x8xf32>)
// CHECK: arith.maximumf
// CHECK: %[[P:.+]] = tensor.insert_slice %[[R]] into %[[F]][0, 1, 1, 0] [1, 4, 4, 8] [1, 1, 1, 1]
// CHECK-NOT: tensor.pad
// CHECK: linalg.conv_2d_nhwc_hwcf {{.+}} ins(%[[P]], %{{.+}} :
func.func @relu_then_pad(%x: tensor<1x4x4x8xf32>, %w: tensor<3x3x8x16xf32>) -> tensor<1x4x4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x4x8xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x : tensor<1x4x4x8xf32>) outs(%e : tensor<1x4x4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x4x8xf32>
  %p = tensor.pad %r low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %zero : f32
  } : tensor<1x4x4x8xf32> to tensor<1x6x6x8xf32>
  %oe = tensor.empty() : tensor<1x4x4x16xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%oe : tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%p, %w : tensor<1x6x6x8xf32>, tensor<3x3x8x16xf32>) outs(%acc : tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  return %c : tensor<1x4x4x16xf32>
}

// -----

// The NCHW -> NHWC transpose at a chain's input, asymmetric pads, a -inf
// pad value (max pooling).
// CHECK-LABEL: func @transpose_then_pad
// CHECK: arith.constant 0xFF800000 : f32
// CHECK: %[[NINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[F:.+]] = linalg.fill ins(%[[NINF]] : f32) outs(%{{.+}} : tensor<1x7x8x3xf32>)
// CHECK: %[[S:.+]] = tensor.extract_slice %[[F]][0, 0, 1, 0] [1, 5, 5, 3] [1, 1, 1, 1]
// CHECK: %[[T:.+]] = linalg.transpose ins(%{{.+}} : tensor<1x3x5x5xf32>) outs(%[[S]] : tensor<1x5x5x3xf32>)
// CHECK: tensor.insert_slice %[[T]] into %[[F]][0, 0, 1, 0] [1, 5, 5, 3] [1, 1, 1, 1]
func.func @transpose_then_pad(%x: tensor<1x3x5x5xf32>) -> tensor<1x7x8x3xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<1x5x5x3xf32>
  %t = linalg.transpose ins(%x : tensor<1x3x5x5xf32>) outs(%e : tensor<1x5x5x3xf32>) permutation = [0, 2, 3, 1]
  %p = tensor.pad %t low[0, 0, 1, 0] high[0, 2, 2, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %ninf : f32
  } : tensor<1x5x5x3xf32> to tensor<1x7x8x3xf32>
  return %p : tensor<1x7x8x3xf32>
}
