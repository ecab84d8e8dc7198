// RUN: qcc-opt %s -qcc-gpu-warp-reductions=block-size=100 -verify-diagnostics
// RUN: not qcc-opt %s -qcc-gpu-warp-reductions=min-elements=0 2>&1 | FileCheck %s

// A block of 100 threads would put the lanes of one row in two warps.
// expected-error @+2 {{qcc-gpu-warp-reductions: block-size must be a positive multiple of 32 (a warp must not span two rows), got 100}}
// CHECK: qcc-gpu-warp-reductions: min-elements must be at least 1, got 0
func.func @options(%x: memref<4xf32>) {
  return
}
