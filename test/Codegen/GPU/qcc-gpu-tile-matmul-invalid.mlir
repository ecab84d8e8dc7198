// RUN: qcc-opt %s -qcc-gpu-tile-matmul=tile=24 -verify-diagnostics

// expected-error @+1 {{tile must be a multiple of 16 up to 128, got 24}}
func.func @bad_tile(%a: memref<4x4xf32>, %b: memref<4x4xf32>, %c: memref<4x4xf32>) {
  linalg.matmul ins(%a, %b : memref<4x4xf32>, memref<4x4xf32>) outs(%c : memref<4x4xf32>)
  return
}
