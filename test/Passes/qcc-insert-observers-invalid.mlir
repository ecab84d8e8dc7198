// RUN: qcc-opt %s -split-input-file -qcc-insert-observers -verify-diagnostics

// expected-error @+1 {{qcc-insert-observers: no entry function 'main'}}
module {
  func.func @other() {
    return
  }
}

// -----

func.func @main(%x: tensor<4x16xf16>) -> tensor<4x8xf16> {
  %w = arith.constant dense<0.5> : tensor<16x8xf16>
  %f = arith.constant dense<0.0> : tensor<4x8xf16>
  // expected-error @+1 {{calibration point needs a static f32 tensor input, got 'tensor<4x16xf16>'}}
  %a = linalg.matmul {qcc.calib_id = 0 : i64} ins(%x, %w : tensor<4x16xf16>, tensor<16x8xf16>) outs(%f : tensor<4x8xf16>) -> tensor<4x8xf16>
  return %a : tensor<4x8xf16>
}

// -----

func.func @main(%x: tensor<4x16xf32>) -> tensor<4x8xf32> {
  %w = arith.constant dense<0.5> : tensor<16x8xf32>
  %f = arith.constant dense<0.0> : tensor<4x8xf32>
  // expected-error @+1 {{qcc.calib_id must be non-negative}}
  %a = linalg.matmul {qcc.calib_id = -1 : i64} ins(%x, %w : tensor<4x16xf32>, tensor<16x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %a : tensor<4x8xf32>
}
