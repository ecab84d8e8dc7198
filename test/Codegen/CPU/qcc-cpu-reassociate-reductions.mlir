// RUN: qcc-opt %s -split-input-file -qcc-cpu-reassociate-reductions | FileCheck %s

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// A row sum of squares: the add into the accumulator becomes reassoc, the
// square keeps its flags; a max reduction and an all-parallel generic are
// left alone.
// CHECK-LABEL: func @row_reductions
// CHECK: arith.mulf %{{.+}}, %{{.+}} : f32
// CHECK: arith.addf %{{.+}}, %{{.+}} fastmath<reassoc> : f32
// CHECK: arith.maximumf %{{.+}}, %{{.+}} : f32
// CHECK: arith.addf %{{.+}}, %{{.+}} : f32
func.func @row_reductions(%x: memref<4x8xf32>, %s: memref<4xf32>, %m: memref<4xf32>, %y: memref<4x8xf32>) {
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]} ins(%x : memref<4x8xf32>) outs(%s : memref<4xf32>) {
  ^bb0(%i: f32, %o: f32):
    %q = arith.mulf %i, %i : f32
    %v = arith.addf %o, %q : f32
    linalg.yield %v : f32
  }
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]} ins(%x : memref<4x8xf32>) outs(%m : memref<4xf32>) {
  ^bb0(%i: f32, %o: f32):
    %v = arith.maximumf %o, %i : f32
    linalg.yield %v : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : memref<4x8xf32>) outs(%y : memref<4x8xf32>) {
  ^bb0(%i: f32, %o: f32):
    %v = arith.addf %i, %i : f32
    linalg.yield %v : f32
  }
  return
}

// -----

// Existing flags are kept; a yielded value that does not combine the
// accumulator (here a select) stays as it is.
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func @flags_and_other_combiners
// CHECK: arith.mulf %{{.+}}, %{{.+}} fastmath<reassoc,contract> : f32
// CHECK: arith.addf %{{.+}}, %{{.+}} : f32
// CHECK-NEXT: arith.select
func.func @flags_and_other_combiners(%x: tensor<4x8xf32>, %p: tensor<4xf32>, %c: i1) -> (tensor<4xf32>, tensor<4xf32>) {
  %r = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x8xf32>) outs(%p : tensor<4xf32>) {
  ^bb0(%i: f32, %o: f32):
    %v = arith.mulf %o, %i fastmath<contract> : f32
    linalg.yield %v : f32
  } -> tensor<4xf32>
  %t = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x8xf32>) outs(%p : tensor<4xf32>) {
  ^bb0(%i: f32, %o: f32):
    %v = arith.addf %o, %i : f32
    %w = arith.select %c, %v, %o : f32
    linalg.yield %w : f32
  } -> tensor<4xf32>
  return %r, %t : tensor<4xf32>, tensor<4xf32>
}
