// RUN: qcc-opt %s -split-input-file -qcc-gpu-interchange-reductions | FileCheck %s
// RUN: qcc-opt %s -split-input-file -qcc-gpu-interchange-reductions -convert-linalg-to-parallel-loops | FileCheck %s --check-prefix=LOOPS

// A sum over the middle dimension (mean pooling): the reduction loop moves
// innermost, the maps follow, and the parallel loops become one scf.parallel
// over (1, 384) instead of a sequential loop over 384 inside each of 1 thread.
// CHECK-DAG: #[[IN:.+]] = affine_map<(d0, d1, d2) -> (d0, d2, d1)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func @pool
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[OUT]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK: arith.addf
// LOOPS-LABEL: func @pool
// LOOPS: scf.parallel (%{{.+}}, %[[J:.+]]) = (%{{.+}}, %{{.+}}) to (%{{.+}}, %{{.+}})
// LOOPS-NEXT: scf.for %[[K:.+]] =
// LOOPS-NEXT: memref.load %{{.+}}[%{{.+}}, %[[K]], %[[J]]] : memref<1x128x384xf32>
#in = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#out = affine_map<(d0, d1, d2) -> (d0, d2)>
func.func @pool(%x: memref<1x128x384xf32>, %y: memref<1x384xf32>) {
  linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x : memref<1x128x384xf32>) outs(%y : memref<1x384xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// linalg.index follows the interchange: index 1 (the reduction) is the
// new dimension 2.
// CHECK-LABEL: func @indexed
// CHECK: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: linalg.index 2 : index
#in2 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#out2 = affine_map<(d0, d1, d2) -> (d0, d2)>
func.func @indexed(%x: memref<2x64x8xf32>, %y: memref<2x8xf32>) {
  linalg.generic {indexing_maps = [#in2, #out2], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x : memref<2x64x8xf32>) outs(%y : memref<2x8xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %k = linalg.index 1 : index
    %ki = arith.index_cast %k : index to i32
    %kf = arith.sitofp %ki : i32 to f32
    %t = arith.mulf %a, %kf : f32
    %s = arith.addf %t, %acc : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Already in order (reductions innermost) or without reductions: unchanged.
// CHECK-LABEL: func @unchanged
// CHECK: iterator_types = ["parallel", "reduction"]
// CHECK: iterator_types = ["parallel", "parallel"]
#a = affine_map<(d0, d1) -> (d0, d1)>
#r = affine_map<(d0, d1) -> (d0)>
func.func @unchanged(%x: memref<4x64xf32>, %y: memref<4xf32>, %z: memref<4x64xf32>) {
  linalg.generic {indexing_maps = [#a, #r], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x64xf32>) outs(%y : memref<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#a, #a], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x64xf32>) outs(%z : memref<4x64xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %a : f32
  }
  return
}
