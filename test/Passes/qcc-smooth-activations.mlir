// RUN: qcc-opt %s -split-input-file -qcc-smooth-activations | FileCheck %s
// RUN: qcc-opt %s -split-input-file -qcc-smooth-activations="alpha=1.0" | FileCheck %s --check-prefix=ALPHA1
// RUN: qcc-opt %s -split-input-file -qcc-smooth-activations -qcc-smooth-activations | FileCheck %s --check-prefix=TWICE

// RMSNorm-like producer (x * gamma[c]) read by two matmuls through a
// reshape: one shared s, 1/s folded into gamma. alpha = 0.5:
// s = sqrt(max|X_j| / max_n |W_j|) over both weights: max|X| = [16, 1, 4, 0],
// max|W| = [1, 1, 4, 2] -> s = [4, 1, 1, 1] (a dead channel keeps 1).
// CHECK-LABEL: func @norm_gamma
// CHECK: %[[G:.+]] = arith.constant dense<[2.500000e-01, 2.000000e+00, 1.000000e+00, 1.000000e+00]> : tensor<4xf32>
// CHECK: %[[N:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %[[G]] : tensor<1x2x4xf32>, tensor<4xf32>)
// CHECK: %[[C:.+]] = tensor.collapse_shape %[[N]]
// CHECK: %[[W1:.+]] = arith.constant dense<{{\[}}[4.000000e+00, -2.000000e+00], [1.000000e+00, 1.000000e+00], [2.000000e+00, 4.000000e+00], [2.000000e+00, 1.000000e+00]]> : tensor<4x2xf32>
// The matmuls record 1/s for a calibration that reruns the float model.
// CHECK: linalg.matmul {qcc.act_channel_absmax = {{.+}}, qcc.calib_channel_factor = dense<[2.500000e-01, 1.000000e+00, 1.000000e+00, 1.000000e+00]> : tensor<4xf32>, qcc.smoothed = 5.000000e-01 : f64} ins(%[[C]], %[[W1]]
// CHECK: %[[W2:.+]] = arith.constant dense<{{\[}}[2.000000e+00, 2.000000e+00], [2.500000e-01, 2.500000e-01], [1.000000e+00, 1.000000e+00], [1.000000e+00, 1.000000e+00]]> : tensor<4x2xf32>
// CHECK: linalg.matmul {qcc.act_channel_absmax = {{.+}}, qcc.smoothed = 5.000000e-01 : f64} ins(%[[C]], %[[W2]]
// With alpha = 1, s = max|X_j| (all range moves into the weights).
// ALPHA1-LABEL: func @norm_gamma
// ALPHA1: arith.constant dense<[6.250000e-02, 2.000000e+00, 2.500000e-01, 1.000000e+00]> : tensor<4xf32>
// A second run leaves smoothed matmuls alone.
// TWICE-LABEL: func @norm_gamma
// TWICE: arith.constant dense<[2.500000e-01, 2.000000e+00, 1.000000e+00, 1.000000e+00]> : tensor<4xf32>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#ch3 = affine_map<(d0, d1, d2) -> (d2)>
func.func @norm_gamma(%x: tensor<1x2x4xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>) {
  %gamma = arith.constant dense<[1.0, 2.0, 1.0, 1.0]> : tensor<4xf32>
  %w1 = arith.constant dense<[[1.0, -0.5], [1.0, 1.0], [2.0, 4.0], [2.0, 1.0]]> : tensor<4x2xf32>
  %w2 = arith.constant dense<[[0.5, 0.5], [0.25, 0.25], [1.0, 1.0], [1.0, 1.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e3 = tensor.empty() : tensor<1x2x4xf32>
  %n = linalg.generic {indexing_maps = [#id3, #ch3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %gamma : tensor<1x2x4xf32>, tensor<4xf32>) outs(%e3 : tensor<1x2x4xf32>) {
  ^bb0(%a: f32, %g: f32, %o: f32):
    %m = arith.mulf %a, %g : f32
    linalg.yield %m : f32
  } -> tensor<1x2x4xf32>
  %c = tensor.collapse_shape %n [[0, 1], [2]] : tensor<1x2x4xf32> into tensor<2x4xf32>
  %e = tensor.empty() : tensor<2x2xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x2xf32>) -> tensor<2x2xf32>
  %y1 = linalg.matmul {qcc.act_channel_absmax = dense<[16.0, 1.0, 4.0, 0.0]> : tensor<4xf32>}
      ins(%c, %w1 : tensor<2x4xf32>, tensor<4x2xf32>) outs(%f : tensor<2x2xf32>) -> tensor<2x2xf32>
  %y2 = linalg.matmul {qcc.act_channel_absmax = dense<[16.0, 1.0, 4.0, 0.0]> : tensor<4xf32>}
      ins(%c, %w2 : tensor<2x4xf32>, tensor<4x2xf32>) outs(%f : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %y1, %y2 : tensor<2x2xf32>, tensor<2x2xf32>
}

// -----

// A producer without a per-channel constant factor (a gated product): 1/s
// becomes one more per-channel operand it multiplies its result by.
// max|X| = [8, 1], max|W| = [2, 1] -> s = [2, 1].
// CHECK-LABEL: func @gated
// CHECK: %[[INV:.+]] = arith.constant dense<[5.000000e-01, 1.000000e+00]> : tensor<2xf32>
// CHECK: %[[P:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %{{.+}}, %[[INV]] : tensor<2x2xf32>, tensor<2x2xf32>, tensor<2xf32>)
// CHECK-NEXT: ^bb0(%[[A:.+]]: f32, %[[B:.+]]: f32, %[[S:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: %[[M:.+]] = arith.mulf %[[A]], %[[B]]
// CHECK-NEXT: %[[SM:.+]] = arith.mulf %[[M]], %[[S]]
// CHECK-NEXT: linalg.yield %[[SM]]
// CHECK: %[[W:.+]] = arith.constant dense<{{\[}}[2.000000e+00, 4.000000e+00], [1.000000e+00, 1.000000e+00]]> : tensor<2x2xf32>
// CHECK: linalg.matmul {{.+}} ins(%[[P]], %[[W]]
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @gated(%a: tensor<2x2xf32>, %b: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [1.0, 1.0]]> : tensor<2x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x2xf32>
  %p = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : tensor<2x2xf32>, tensor<2x2xf32>) outs(%e : tensor<2x2xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %m = arith.mulf %x, %y : f32
    linalg.yield %m : f32
  } -> tensor<2x2xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x2xf32>) -> tensor<2x2xf32>
  %y = linalg.matmul {qcc.act_channel_absmax = dense<[8.0, 1.0]> : tensor<2xf32>}
      ins(%p, %w : tensor<2x2xf32>, tensor<2x2xf32>) outs(%f : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// -----

// Activations that other ops read too (a residual) or that come from a
// function argument: a separate scale op in front of the matmul; the other
// reader keeps the unscaled values.
// CHECK-LABEL: func @shared
// CHECK-DAG: %[[INV:.+]] = arith.constant dense<[5.000000e-01, 1.000000e+00]> : tensor<2xf32>
// CHECK: %[[SC:.+]] = linalg.generic {{.+}} ins(%[[X:.+]], %[[INV]] : tensor<2x2xf32>, tensor<2xf32>)
// CHECK: linalg.matmul {{.+}} ins(%[[SC]], %{{.+}} :
// CHECK: return %{{.+}}, %[[X]]
func.func @shared(%x: tensor<2x2xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>) {
  %w = arith.constant dense<[[1.0, 2.0], [1.0, 1.0]]> : tensor<2x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x2xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x2xf32>) -> tensor<2x2xf32>
  %y = linalg.matmul {qcc.act_channel_absmax = dense<[8.0, 1.0]> : tensor<2xf32>}
      ins(%x, %w : tensor<2x2xf32>, tensor<2x2xf32>) outs(%f : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %y, %x : tensor<2x2xf32>, tensor<2x2xf32>
}

// -----

// Without calibrated channel bounds, or with a weight that is not a
// constant, a matmul is left alone.
// CHECK-LABEL: func @untouched
// CHECK-NOT: qcc.smoothed
// CHECK: return
func.func @untouched(%x: tensor<2x2xf32>, %v: tensor<2x2xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>) {
  %w = arith.constant dense<[[1.0, 2.0], [1.0, 1.0]]> : tensor<2x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x2xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x2xf32>) -> tensor<2x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<2x2xf32>, tensor<2x2xf32>) outs(%f : tensor<2x2xf32>) -> tensor<2x2xf32>
  %z = linalg.matmul {qcc.act_channel_absmax = dense<[8.0, 1.0]> : tensor<2xf32>}
      ins(%x, %v : tensor<2x2xf32>, tensor<2x2xf32>) outs(%f : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %y, %z : tensor<2x2xf32>, tensor<2x2xf32>
}
