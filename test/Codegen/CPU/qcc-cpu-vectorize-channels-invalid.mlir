// RUN: qcc-opt %s -split-input-file -qcc-cpu-vectorize-channels -verify-diagnostics | FileCheck %s

// Generics qcc-cpu-vectorize-channels must leave to the generic lowering,
// without a diagnostic.

// expected-no-diagnostics

// 24 channels are not a multiple of 16.
// CHECK-LABEL: func @odd_channels
// CHECK: linalg.generic
// CHECK-NOT: vector.load
func.func @odd_channels(%in: memref<1x6x6x24xf32>, %win: memref<3x3xf32>, %out: memref<1x4x4x24xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 + d3, d2 + d4, d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d4)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d5)>], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "parallel"]} ins(%in, %win : memref<1x6x6x24xf32>, memref<3x3xf32>) outs(%out : memref<1x4x4x24xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %s = arith.addf %c, %a : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// The innermost loop is a reduction (an NCHW window op).
// CHECK-LABEL: func @reduction_innermost
// CHECK: linalg.generic
// CHECK-NOT: vector.load
func.func @reduction_innermost(%in: memref<16x32xf32>, %out: memref<16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%in : memref<16x32xf32>) outs(%out : memref<16xf32>) {
  ^bb0(%a: f32, %c: f32):
    %s = arith.addf %c, %a : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Element-wise generics (no reduction) stay with LLVM's vectoriser.
// CHECK-LABEL: func @elementwise
// CHECK: linalg.generic
// CHECK-NOT: vector.load
func.func @elementwise(%in: memref<4x32xf32>, %out: memref<4x32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%in : memref<4x32xf32>) outs(%out : memref<4x32xf32>) {
  ^bb0(%a: f32, %c: f32):
    %s = arith.negf %a : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// The channel index is also used elsewhere (a transposed read), or the
// body holds an op without a vector form here (math.exp).
// CHECK-LABEL: func @channel_twice
// CHECK: linalg.generic
// CHECK-NOT: vector.load
func.func @channel_twice(%in: memref<4x16xf32>, %t: memref<16x16xf32>, %out: memref<16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1, d1)>, affine_map<(d0, d1) -> (d1)>], iterator_types = ["reduction", "parallel"]} ins(%in, %t : memref<4x16xf32>, memref<16x16xf32>) outs(%out : memref<16xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %c, %m : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func @exp_body
// CHECK: linalg.generic
// CHECK-NOT: vector.load
func.func @exp_body(%in: memref<4x16xf32>, %out: memref<16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>], iterator_types = ["reduction", "parallel"]} ins(%in : memref<4x16xf32>) outs(%out : memref<16xf32>) {
  ^bb0(%a: f32, %c: f32):
    %e = math.exp %a : f32
    %s = arith.addf %c, %e : f32
    linalg.yield %s : f32
  }
  return
}
