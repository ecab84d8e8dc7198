// RUN: qcc-opt %s -split-input-file -qcc-gpu-warp-reductions | FileCheck %s
// RUN: qcc-opt %s -split-input-file -qcc-gpu-warp-reductions -qcc-gpu-map-to-launches=block-size=256 | FileCheck %s --check-prefix=LAUNCH

// A row sum (what convert-linalg-to-parallel-loops makes of a linalg
// reduction): 128 rows of 384 become 128 x 32 lanes; each lane folds every
// 32nd element in a register from 0.0, five xor shuffles combine the lanes,
// lane 0 adds the initial value and stores once.
// CHECK-LABEL: func @row_sum
// CHECK: %[[C32:.+]] = arith.constant 32 : index
// CHECK: scf.parallel (%[[ROW:.+]], %[[LANE:.+]]) = (%{{.+}}, %{{.+}}) to (%{{.+}}, %[[C32]])
// CHECK: %[[START:.+]] = arith.addi %{{.+}}, %{{.+}} : index
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[PART:.+]] = scf.for %[[K:.+]] = %[[START]] to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %[[ZERO]]) -> (f32)
// CHECK: %[[X:.+]] = memref.load %{{.+}}[%[[ROW]], %[[K]]]
// CHECK: %[[E:.+]] = math.exp %[[X]]
// CHECK: %[[S:.+]] = arith.addf %[[E]], %[[ACC]] : f32
// CHECK: scf.yield %[[S]] : f32
// CHECK: gpu.shuffle  xor %[[PART]], %{{.+}}, %{{.+}} : f32
// CHECK-COUNT-4: gpu.shuffle  xor
// CHECK: %[[FIRST:.+]] = arith.cmpi eq, %[[LANE]], %{{.+}} : index
// CHECK: scf.if %[[FIRST]] {
// CHECK: %[[INIT:.+]] = memref.load %{{.+}}[%[[ROW]]] : memref<128xf32>
// CHECK: %[[T:.+]] = arith.addf %{{.+}}, %[[INIT]] : f32
// CHECK: memref.store %[[T]], %{{.+}}[%[[ROW]]] : memref<128xf32>
// 128 x 32 threads: 16 blocks of 256, no bounds guard.
// LAUNCH-LABEL: func @row_sum
// LAUNCH-DAG: %[[C16:.+]] = arith.constant 16 : index
// LAUNCH-DAG: %[[C256:.+]] = arith.constant 256 : index
// LAUNCH: gpu.launch blocks(%{{.+}}, %{{.+}}, %{{.+}}) in (%{{.+}} = %[[C16]], %{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}) threads(%{{.+}}, %{{.+}}, %{{.+}}) in (%{{.+}} = %[[C256]],
// LAUNCH-NOT: arith.cmpi ult
// LAUNCH: gpu.shuffle
func.func @row_sum(%in: memref<128x384xf32>, %out: memref<128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c384 = arith.constant 384 : index
  scf.parallel (%i) = (%c0) to (%c128) step (%c1) {
    scf.for %k = %c0 to %c384 step %c1 {
      %x = memref.load %in[%i, %k] : memref<128x384xf32>
      %acc = memref.load %out[%i] : memref<128xf32>
      %e = math.exp %x : f32
      %s = arith.addf %e, %acc : f32
      memref.store %s, %out[%i] : memref<128xf32>
    }
    scf.reduce
  } {row_sum}
  return
}

// -----

// A row max over the last of three dimensions, the accumulator first:
// lanes start from -inf and the operand order is kept.
// CHECK-LABEL: func @row_max
// CHECK: scf.parallel (%{{.+}}, %{{.+}}, %{{.+}}) =
// CHECK: %[[NINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: scf.for {{.+}} iter_args(%[[ACC:.+]] = %[[NINF]])
// CHECK: arith.maxnumf %[[ACC]], %{{.+}} : f32
// CHECK: gpu.shuffle  xor
// CHECK: scf.if
// CHECK: %[[INIT:.+]] = memref.load
// CHECK: arith.maxnumf %[[INIT]], %{{.+}} : f32
func.func @row_max(%in: memref<12x128x128xf32>, %out: memref<12x128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c12 = arith.constant 12 : index
  %c128 = arith.constant 128 : index
  scf.parallel (%h, %i) = (%c0, %c0) to (%c12, %c128) step (%c1, %c1) {
    scf.for %k = %c0 to %c128 step %c1 {
      %x = memref.load %in[%h, %i, %k] : memref<12x128x128xf32>
      %acc = memref.load %out[%h, %i] : memref<12x128xf32>
      %m = arith.maxnumf %acc, %x : f32
      memref.store %m, %out[%h, %i] : memref<12x128xf32>
    }
    scf.reduce
  }
  return
}

// -----

// Left alone: too few steps (16 < min-elements 64), a second store, an
// accumulator read twice, and an elementwise loop (no scf.for).
// CHECK-LABEL: func @unchanged
// CHECK-NOT: gpu.shuffle
// CHECK-NOT: iter_args
func.func @unchanged(%in: memref<64x256xf32>, %out: memref<64xf32>, %other: memref<64xf32>, %short: memref<64x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %c256 = arith.constant 256 : index
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    scf.for %k = %c0 to %c16 step %c1 {
      %x = memref.load %short[%i, %k] : memref<64x16xf32>
      %acc = memref.load %out[%i] : memref<64xf32>
      %s = arith.addf %x, %acc : f32
      memref.store %s, %out[%i] : memref<64xf32>
    }
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    scf.for %k = %c0 to %c256 step %c1 {
      %x = memref.load %in[%i, %k] : memref<64x256xf32>
      %acc = memref.load %out[%i] : memref<64xf32>
      %s = arith.addf %x, %acc : f32
      memref.store %s, %out[%i] : memref<64xf32>
      memref.store %x, %other[%i] : memref<64xf32>
    }
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    scf.for %k = %c0 to %c256 step %c1 {
      %x = memref.load %in[%i, %k] : memref<64x256xf32>
      %acc = memref.load %out[%i] : memref<64xf32>
      %again = memref.load %out[%i] : memref<64xf32>
      %t = arith.mulf %x, %again : f32
      %s = arith.addf %t, %acc : f32
      memref.store %s, %out[%i] : memref<64xf32>
    }
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %x = memref.load %in[%i, %c0] : memref<64x256xf32>
    memref.store %x, %out[%i] : memref<64xf32>
    scf.reduce
  }
  return
}
