// RUN: qcc-opt %s -split-input-file -qcc-retain-outliers="count=1 min-elements=0" | FileCheck %s
// RUN: qcc-opt %s -split-input-file -qcc-retain-outliers="ratio=4 min-elements=0" | FileCheck %s --check-prefix=RATIO
// RUN: qcc-opt %s -split-input-file -qcc-retain-outliers="ratio=20 min-elements=0" | FileCheck %s --check-prefix=NONE
// RUN: qcc-opt %s -split-input-file -qcc-retain-outliers="count=1 min-elements=0 mask-activations=false" | FileCheck %s --check-prefix=WONLY
// RUN: qcc-opt %s -split-input-file -qcc-retain-outliers="count=1 min-elements=0" -qcc-retain-outliers="count=2 min-elements=0" | FileCheck %s --check-prefix=TWICE
// RUN: qcc-opt %s -split-input-file -qcc-retain-outliers="count=1" | FileCheck %s --check-prefix=SMALL

// Two matmuls read X; channel 1 (max |x| 16, the median channel 1) is the
// outlier. Both share one gather of X[:, 1] and one mask; each gets a float
// side product of its weight row 1, which is the init of the main product
// (weight row 1 zeroed, input masked).
// CHECK-LABEL: func @shared
// CHECK-SAME: (%[[X:.+]]: tensor<2x4xf32>)
// CHECK: %[[F:.+]] = linalg.fill
// CHECK: %[[IDX:.+]] = arith.constant dense<1> : tensor<1xi32>
// CHECK: %[[XO:.+]] = linalg.generic {{.+}} ins(%[[IDX]] : tensor<1xi32>) outs(%{{.+}} : tensor<2x1xf32>)
// CHECK: %[[ROW:.+]] = linalg.index 0
// CHECK: %[[COL:.+]] = arith.index_cast
// CHECK: tensor.extract %[[X]][%[[ROW]], %[[COL]]]
// CHECK: %[[MASK:.+]] = arith.constant dense<[1.000000e+00, 0.000000e+00, 1.000000e+00, 1.000000e+00]> : tensor<4xf32>
// CHECK: %[[XM:.+]] = linalg.generic {{.+}} ins(%[[X]], %[[MASK]] : tensor<2x4xf32>, tensor<4xf32>)
// CHECK: arith.mulf
// CHECK: %[[WO1:.+]] = arith.constant dense<{{\[}}[3.000000e+00, 4.000000e+00]]> : tensor<1x2xf32>
// CHECK: %[[S1:.+]] = linalg.matmul {qcc.keep_float = "outlier channels (1 of 4, qcc-retain-outliers)", qcc.outlier_side} ins(%[[XO]], %[[WO1]] : tensor<2x1xf32>, tensor<1x2xf32>) outs(%{{.+}} : tensor<2x2xf32>)
// CHECK: %[[W1:.+]] = arith.constant dense<{{\[}}[1.000000e+00, 2.000000e+00], [0.000000e+00, 0.000000e+00], [5.000000e+00, 6.000000e+00], [7.000000e+00, 8.000000e+00]]> : tensor<4x2xf32>
// CHECK: linalg.matmul {qcc.act_absmax = 1.000000e+00 : f32, qcc.act_channel_absmax = dense<[1.000000e+00, 0.000000e+00, 5.000000e-01, 1.000000e+00]> : tensor<4xf32>, qcc.act_source = "minmax", qcc.calib_channel_factor = dense<[1.000000e+00, 0.000000e+00, 1.000000e+00, 1.000000e+00]> : tensor<4xf32>, qcc.outliers_kept = 1 : i64} ins(%[[XM]], %[[W1]] : tensor<2x4xf32>, tensor<4x2xf32>) outs(%[[S1]] : tensor<2x2xf32>)
// CHECK: %[[S2:.+]] = linalg.matmul {qcc.keep_float = {{.+}}} ins(%[[XO]], %{{.+}} : tensor<2x1xf32>, tensor<1x2xf32>) outs(%{{.+}} : tensor<2x2xf32>)
// CHECK: linalg.matmul {{.+}} ins(%[[XM]], %{{.+}} : tensor<2x4xf32>, tensor<4x2xf32>) outs(%[[S2]] : tensor<2x2xf32>)
// The threshold: only channels above 4x the median (1): channel 1 again.
// RATIO-LABEL: func @shared
// RATIO: arith.constant dense<1> : tensor<1xi32>
// RATIO: qcc.outliers_kept = 1 : i64
// A threshold no channel passes: nothing changes but the mark.
// NONE-LABEL: func @shared
// NONE-NOT: qcc.keep_float
// NONE: linalg.matmul {{.+}}qcc.outliers_kept = 0 : i64} ins(%arg0, %cst
// Weight-only: X is not masked, the zeroed row drops channel 1.
// WONLY-LABEL: func @shared
// WONLY-NOT: arith.mulf
// WONLY: %[[S:.+]] = linalg.matmul {qcc.keep_float
// WONLY: linalg.matmul {{.+}}qcc.act_channel_absmax = dense<[1.000000e+00, 1.600000e+01, 5.000000e-01, 1.000000e+00]>{{.+}} ins(%arg0, %{{.+}} : tensor<2x4xf32>, tensor<4x2xf32>) outs(%[[S]]
// A second run leaves split matmuls and their side products alone.
// TWICE-LABEL: func @shared
// TWICE-COUNT-2: qcc.keep_float
// TWICE-NOT: qcc.keep_float
// Matmuls under min-elements (default 4096) are left alone.
// SMALL-LABEL: func @shared
// SMALL-NOT: qcc.keep_float
func.func @shared(%x: tensor<2x4xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>) {
  %w1 = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %w2 = arith.constant dense<[[0.5, 0.5], [0.25, -0.25], [1.0, 1.0], [1.0, 1.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x2xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x2xf32>) -> tensor<2x2xf32>
  %y1 = linalg.matmul {qcc.act_channel_absmax = dense<[1.0, 16.0, 0.5, 1.0]> : tensor<4xf32>, qcc.act_absmax = 16.0 : f32, qcc.act_source = "minmax", qcc.act_fallback = "dynamic", qcc.act_sqnr_db = 12.0 : f32}
      ins(%x, %w1 : tensor<2x4xf32>, tensor<4x2xf32>) outs(%f : tensor<2x2xf32>) -> tensor<2x2xf32>
  %y2 = linalg.matmul {qcc.act_channel_absmax = dense<[1.0, 16.0, 0.5, 1.0]> : tensor<4xf32>}
      ins(%x, %w2 : tensor<2x4xf32>, tensor<4x2xf32>) outs(%f : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %y1, %y2 : tensor<2x2xf32>, tensor<2x2xf32>
}

// -----

// Uncalibrated matmuls (no qcc.act_channel_absmax) are left alone.
// CHECK-LABEL: func @uncalibrated
// CHECK-NOT: qcc.keep_float
// CHECK-NOT: qcc.outliers_kept
// CHECK: return
func.func @uncalibrated(%x: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x2xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x2xf32>) -> tensor<2x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x2xf32>) outs(%f : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}
