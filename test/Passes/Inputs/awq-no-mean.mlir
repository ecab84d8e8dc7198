// Input of qcc-awq-scale-invalid.mlir: the statistics folder has X^T X but
// no mean |x| for 'gone'.
func.func @no_mean(%x: tensor<4x64xf32>, %f: tensor<4x32xf32>) -> tensor<4x32xf32> {
  %w = arith.constant dense<0.5> : tensor<64x32xf32>
  // expected-error @unknown {{calibration statistics of 'gone': cannot read '}}
  %y = linalg.matmul ins(%x, %w : tensor<4x64xf32>, tensor<64x32xf32>) outs(%f : tensor<4x32xf32>) -> tensor<4x32xf32> loc("gone")
  return %y : tensor<4x32xf32>
}
