// Input of qcc-quantize-weights-gptq.mlir: statistics that do not fit the
// layers (the folder lists ffn.dense, attn.q, attn.k and bad with K = 64,
// short with K = 16, and bad's X^T X is float32).

func.func @unlisted(%x: tensor<4x64xf32>, %f: tensor<4x32xf32>) -> tensor<4x32xf32> {
  %w = arith.constant dense<0.5> : tensor<64x32xf32>
  // expected-error @unknown {{no calibration statistics for 'other'}}
  %y = linalg.matmul ins(%x, %w : tensor<4x64xf32>, tensor<64x32xf32>) outs(%f : tensor<4x32xf32>) -> tensor<4x32xf32> loc("other")
  return %y : tensor<4x32xf32>
}

// -----

func.func @wrong_k(%x: tensor<4x64xf32>, %f: tensor<4x32xf32>) -> tensor<4x32xf32> {
  %w = arith.constant dense<0.5> : tensor<64x32xf32>
  // expected-error @unknown {{holds float64 [16x16], expected float64 [64x64]}}
  %y = linalg.matmul ins(%x, %w : tensor<4x64xf32>, tensor<64x32xf32>) outs(%f : tensor<4x32xf32>) -> tensor<4x32xf32> loc("short")
  return %y : tensor<4x32xf32>
}

// -----

func.func @wrong_dtype(%x: tensor<4x64xf32>, %f: tensor<4x32xf32>) -> tensor<4x32xf32> {
  %w = arith.constant dense<0.5> : tensor<64x32xf32>
  // expected-error @unknown {{holds float32 [64x64], expected float64 [64x64]}}
  %y = linalg.matmul ins(%x, %w : tensor<4x64xf32>, tensor<64x32xf32>) outs(%f : tensor<4x32xf32>) -> tensor<4x32xf32> loc("bad")
  return %y : tensor<4x32xf32>
}
