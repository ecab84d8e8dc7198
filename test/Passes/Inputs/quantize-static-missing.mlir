// Input of qcc-quantize-weights-invalid.mlir: act=static without a
// calibrated range.

func.func @uncalibrated(%x: tensor<4x64xf32>, %f: tensor<4x64xf32>) -> tensor<4x64xf32> {
  %w = arith.constant dense<0.5> : tensor<64x64xf32>
  // expected-error @+1 {{static activation quantization needs a calibrated range (qcc.act_absmax); calibrate with qcc --calib}}
  %y = linalg.matmul ins(%x, %w : tensor<4x64xf32>, tensor<64x64xf32>) outs(%f : tensor<4x64xf32>) -> tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}

// -----

func.func @negative(%x: tensor<4x64xf32>, %f: tensor<4x64xf32>) -> tensor<4x64xf32> {
  %w = arith.constant dense<0.5> : tensor<64x64xf32>
  // expected-error @+1 {{qcc.act_absmax must be finite and >= 0, got -1}}
  %y = linalg.matmul {qcc.act_absmax = -1.0 : f32} ins(%x, %w : tensor<4x64xf32>, tensor<64x64xf32>) outs(%f : tensor<4x64xf32>) -> tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}
