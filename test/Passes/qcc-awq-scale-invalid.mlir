// RUN: rm -rf %t && %python %S/Inputs/make-calib-stats.py %t/stats ffn.dense:64 attn.q:64 attn.k:64 short:16 bad:64!
// RUN: %python %S/Inputs/make-calib-stats.py %t/nomean gone:64
// RUN: rm %t/nomean/0.mean_abs.npy
// RUN: qcc-opt %s -split-input-file -qcc-awq-scale="stats=%t/stats bits=4 group-size=32 min-elements=16" -verify-diagnostics
// RUN: qcc-opt %S/Inputs/awq-no-mean.mlir -qcc-awq-scale="stats=%t/nomean bits=4 group-size=32 min-elements=16" -verify-diagnostics
// RUN: not qcc-opt %S/Inputs/awq-no-mean.mlir -qcc-awq-scale 2>&1 | FileCheck %s --check-prefix=NOSTATS
// RUN: not qcc-opt %S/Inputs/awq-no-mean.mlir -qcc-awq-scale="stats=%t/missing" 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not qcc-opt %S/Inputs/awq-no-mean.mlir -qcc-awq-scale="stats=%t/stats bits=3" 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: not qcc-opt %S/Inputs/awq-no-mean.mlir -qcc-awq-scale="stats=%t/stats group-size=0" 2>&1 | FileCheck %s --check-prefix=GROUP
// RUN: not qcc-opt %S/Inputs/awq-no-mean.mlir -qcc-awq-scale="stats=%t/stats clip=half" 2>&1 | FileCheck %s --check-prefix=CLIP
// RUN: not qcc-opt %S/Inputs/awq-no-mean.mlir -qcc-awq-scale="stats=%t/stats grid=0" 2>&1 | FileCheck %s --check-prefix=GRID
// RUN: not qcc-opt %S/Inputs/awq-no-mean.mlir -qcc-awq-scale="stats=%t/stats search-columns=-1" 2>&1 | FileCheck %s --check-prefix=COLS
// NOSTATS: error: qcc-awq-scale needs calibration statistics (stats=DIR, as written by qcc --calib-stats)
// MISSING: error: cannot read calibration statistics '{{.*}}missing{{/|\\}}index.json'
// BITS: error: qcc-awq-scale supports 8 or 4 bits, got 3
// GROUP: error: qcc-awq-scale: group size must be positive, got 0
// CLIP: error: qcc-awq-scale: unsupported clip 'half' (auto, none, mse or act)
// GRID: error: qcc-awq-scale: grid must be >= 1, got 0
// COLS: error: qcc-awq-scale: search-columns must be >= 0, got -1

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

// -----

// Two matmuls read the same value but the statistics list them under two
// activations: which X^T X would be right is unknown.
func.func @split_stats(%x: tensor<4x64xf32>, %f: tensor<4x32xf32>) -> (tensor<4x32xf32>, tensor<4x32xf32>) {
  %w = arith.constant dense<0.5> : tensor<64x32xf32>
  %q = linalg.matmul ins(%x, %w : tensor<4x64xf32>, tensor<64x32xf32>) outs(%f : tensor<4x32xf32>) -> tensor<4x32xf32> loc("attn.q")
  // expected-error @unknown {{reads the same activations as 'attn.q' but the calibration statistics describe them separately}}
  %k = linalg.matmul ins(%x, %w : tensor<4x64xf32>, tensor<64x32xf32>) outs(%f : tensor<4x32xf32>) -> tensor<4x32xf32> loc("attn.k")
  return %q, %k : tensor<4x32xf32>, tensor<4x32xf32>
}
