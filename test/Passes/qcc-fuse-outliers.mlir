// RUN: qcc-opt %s -split-input-file -qcc-retain-outliers="count=1 min-elements=0" -qcc-quantize-weights="bits=8 min-elements=0" -qcc-fuse-outliers | FileCheck %s
// RUN: qcc-opt %s -split-input-file -qcc-retain-outliers="count=1 min-elements=0 mask-activations=false" -qcc-quantize-weights="bits=8 act=none min-elements=0" -qcc-fuse-outliers | FileCheck %s --check-prefix=WONLY

// Two matmuls read X; channel 1 is the outlier. After qcc-retain-outliers
// and qcc-quantize-weights each is q.matmul(X * mask) + a float side
// product of X[:, 1]; here each becomes one q.matmul of X itself with
// outlier_channels = [1] and its kept weight row as the outliers weight.
// The mask, the gather, the side matmuls and the adds are gone.
// CHECK-LABEL: func @shared
// CHECK-SAME: (%[[X:.+]]: tensor<2x4xf32>)
// CHECK-NOT: linalg.generic
// CHECK-NOT: linalg.matmul
// CHECK: %[[WO1:.+]] = arith.constant dense<{{\[}}[3.000000e+00, 4.000000e+00]]> : tensor<1x2xf32>
// CHECK: %[[Y1:.+]] = q.matmul %[[X]], %{{.+}} scales(%{{.+}}) outliers(%[[WO1]]) outs(%{{.+}}) {act_quant = #q.act_quant<dynamic_per_token>, outlier_channels = array<i64: 1>}
// CHECK: %[[WO2:.+]] = arith.constant dense<{{\[}}[2.500000e-01, -2.500000e-01]]> : tensor<1x2xf32>
// CHECK: %[[Y2:.+]] = q.matmul %[[X]], %{{.+}} scales(%{{.+}}) outliers(%[[WO2]]) outs(%{{.+}}) {act_quant = #q.act_quant<dynamic_per_token>, outlier_channels = array<i64: 1>}
// CHECK-NOT: linalg.generic
// CHECK-NOT: linalg.matmul
// CHECK: return %[[Y1]], %[[Y2]]
// Weight-only: X was never masked, so nothing is fused (the float side
// product stays a linalg.matmul).
// WONLY-LABEL: func @shared
// WONLY: linalg.matmul {qcc.keep_float
// WONLY-NOT: outlier_channels
// WONLY: return
func.func @shared(%x: tensor<2x4xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>) {
  %w1 = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %w2 = arith.constant dense<[[0.5, 0.5], [0.25, -0.25], [1.0, 1.0], [1.0, 1.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x2xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x2xf32>) -> tensor<2x2xf32>
  %y1 = linalg.matmul {qcc.act_channel_absmax = dense<[1.0, 16.0, 0.5, 1.0]> : tensor<4xf32>}
      ins(%x, %w1 : tensor<2x4xf32>, tensor<4x2xf32>) outs(%f : tensor<2x2xf32>) -> tensor<2x2xf32>
  %y2 = linalg.matmul {qcc.act_channel_absmax = dense<[1.0, 16.0, 0.5, 1.0]> : tensor<4xf32>}
      ins(%x, %w2 : tensor<2x4xf32>, tensor<4x2xf32>) outs(%f : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %y1, %y2 : tensor<2x2xf32>, tensor<2x2xf32>
}

// -----

// A matmul that accumulated into a bias: the fused q.matmul's result plus
// the original init (the bias add stays, reading the init itself).
// CHECK-LABEL: func @bias
// CHECK-SAME: (%[[X:.+]]: tensor<2x4xf32>, %[[B:.+]]: tensor<2x2xf32>)
// CHECK: %[[Y:.+]] = q.matmul %[[X]], {{.+}} outliers(%{{.+}}) outs(%{{.+}}) {act_quant = #q.act_quant<dynamic_per_token>, outlier_channels = array<i64: 1>}
// CHECK: %[[R:.+]] = linalg.generic {{.+}} ins(%[[Y]], %[[B]] : tensor<2x2xf32>, tensor<2x2xf32>)
// CHECK: arith.addf
// CHECK-NOT: linalg.generic
// CHECK-NOT: linalg.matmul
// CHECK: return %[[R]]
func.func @bias(%x: tensor<2x4xf32>, %b: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %y = linalg.matmul {qcc.act_channel_absmax = dense<[1.0, 16.0, 0.5, 1.0]> : tensor<4xf32>}
      ins(%x, %w : tensor<2x4xf32>, tensor<4x2xf32>) outs(%b : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}
