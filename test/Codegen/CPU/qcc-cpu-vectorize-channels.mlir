// RUN: qcc-opt %s -split-input-file -qcc-cpu-vectorize-channels | FileCheck %s

// An NHWC depthwise convolution (qcc-conv-to-matmul's generic): the parallel
// loops (n, oh, ow) become one scf.parallel, the reductions (kh, kw) scf.for
// loops in order, and the 32 channels two vectors of 16, each loaded from
// the input, the filter and the output, multiplied, added and stored.
// CHECK-LABEL: func @depthwise
// CHECK-SAME: (%[[IN:.+]]: memref<1x6x6x32xf32>, %[[W:.+]]: memref<3x3x32xf32>, %[[OUT:.+]]: memref<1x4x4x32xf32>)
// CHECK: scf.parallel (%{{.+}}, %{{.+}}, %{{.+}}) = {{.+}} to (%c1{{.*}}, %c4{{.*}}, %c4{{.*}})
// CHECK: scf.for %{{.+}} = %c0 to %c3
// CHECK: scf.for %{{.+}} = %c0 to %c3
// CHECK: scf.for %{{.+}} = %c0 to %c32 step %c16
// CHECK: %[[X:.+]] = vector.load %[[IN]]{{.+}} : memref<1x6x6x32xf32>, vector<16xf32>
// CHECK: %[[F:.+]] = vector.load %[[W]]{{.+}} : memref<3x3x32xf32>, vector<16xf32>
// CHECK: %[[ACC:.+]] = vector.load %[[OUT]]{{.+}} : memref<1x4x4x32xf32>, vector<16xf32>
// CHECK: %[[P:.+]] = arith.mulf %[[X]], %[[F]] : vector<16xf32>
// CHECK: %[[S:.+]] = arith.addf %[[ACC]], %[[P]] : vector<16xf32>
// CHECK: vector.store %[[S]], %[[OUT]]{{.+}} : memref<1x4x4x32xf32>, vector<16xf32>
// CHECK-NOT: linalg.generic
func.func @depthwise(%in: memref<1x6x6x32xf32>, %w: memref<3x3x32xf32>, %out: memref<1x4x4x32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 + d3, d2 + d4, d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d4, d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d5)>], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "parallel"]} ins(%in, %w : memref<1x6x6x32xf32>, memref<3x3x32xf32>) outs(%out : memref<1x4x4x32xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %c, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A max pool: the window-shape operand is never read; a scale defined
// outside the body is splatted. Strides fold into the load indices.
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1 * 2 + d3)>
// CHECK-LABEL: func @max_pool
// CHECK-SAME: (%[[IN:.+]]: memref<1x4x4x16xf32>, %[[WIN:.+]]: memref<2x2xf32>, %[[OUT:.+]]: memref<1x2x2x16xf32>, %[[K:.+]]: f32)
// CHECK: scf.parallel
// CHECK: affine.apply #[[ROW]]
// CHECK: %[[X:.+]] = vector.load %[[IN]]
// CHECK-NOT: %[[WIN]]
// CHECK: %[[ACC:.+]] = vector.load %[[OUT]]
// CHECK: %[[KV:.+]] = vector.broadcast %[[K]] : f32 to vector<16xf32>
// CHECK: %[[XS:.+]] = arith.mulf %[[X]], %[[KV]] : vector<16xf32>
// CHECK: %[[M:.+]] = arith.maximumf %[[ACC]], %[[XS]] : vector<16xf32>
// CHECK: vector.store %[[M]], %[[OUT]]
func.func @max_pool(%in: memref<1x4x4x16xf32>, %win: memref<2x2xf32>, %out: memref<1x2x2x16xf32>, %k: f32) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 * 2 + d3, d2 * 2 + d4, d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d4)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d5)>], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "parallel"]} ins(%in, %win : memref<1x4x4x16xf32>, memref<2x2xf32>) outs(%out : memref<1x2x2x16xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %x = arith.mulf %a, %k : f32
    %m = arith.maximumf %c, %x : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// A broadcast operand (a per-pixel scale, no channel index) is loaded as a
// scalar and splatted.
// CHECK-LABEL: func @broadcast
// CHECK-SAME: (%[[IN:.+]]: memref<4x16xf32>, %[[S:.+]]: memref<4xf32>, %[[OUT:.+]]: memref<16xf32>)
// CHECK: scf.for %{{.+}} = %c0 to %c4
// CHECK: %[[X:.+]] = vector.load %[[IN]]
// CHECK: %[[SC:.+]] = memref.load %[[S]]
// CHECK: %[[SV:.+]] = vector.broadcast %[[SC]] : f32 to vector<16xf32>
// CHECK: arith.mulf %[[X]], %[[SV]] : vector<16xf32>
func.func @broadcast(%in: memref<4x16xf32>, %s: memref<4xf32>, %out: memref<16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d1)>], iterator_types = ["reduction", "parallel"]} ins(%in, %s : memref<4x16xf32>, memref<4xf32>) outs(%out : memref<16xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %s2 = arith.addf %c, %m : f32
    linalg.yield %s2 : f32
  }
  return
}
