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

// -----

// ReduceMean with a fill of the accumulator right before (same rows, same
// indices): the constant becomes lane 0's initial value and the fill loop
// goes; the in-place division after it runs in lane 0 after the store. One
// launch instead of three.
// CHECK-LABEL: func @fill_and_mean
// CHECK-SAME: (%{{.+}}: memref<128x576xf32>, %[[ACC:.+]]: memref<128xf32>)
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-NOT: memref.store %[[ZERO]]
// CHECK: scf.parallel (%[[ROW:.+]], %[[LANE:.+]]) =
// CHECK: scf.if
// CHECK-NOT: memref.load
// CHECK: %[[T:.+]] = arith.addf %[[ZERO]], %{{.+}} : f32
// CHECK-NEXT: memref.store %[[T]], %[[ACC]][%[[ROW]]] : memref<128xf32>
// CHECK-NEXT: %[[S:.+]] = memref.load %[[ACC]][%[[ROW]]] : memref<128xf32>
// CHECK-NEXT: %[[M:.+]] = arith.divf %[[S]], %{{.+}} : f32
// CHECK-NEXT: memref.store %[[M]], %[[ACC]][%[[ROW]]] : memref<128xf32>
// CHECK-NEXT: }
// CHECK-NEXT: scf.reduce
// CHECK-NEXT: }
// CHECK-NEXT: return
// LAUNCH-LABEL: func @fill_and_mean
// LAUNCH-COUNT-1: gpu.launch
// LAUNCH-NOT: gpu.launch
func.func @fill_and_mean(%in: memref<128x576xf32>, %acc: memref<128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c576 = arith.constant 576 : index
  %zero = arith.constant 0.000000e+00 : f32
  %n = arith.constant 5.760000e+02 : f32
  scf.parallel (%i) = (%c0) to (%c128) step (%c1) {
    memref.store %zero, %acc[%i] : memref<128xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c128) step (%c1) {
    scf.for %k = %c0 to %c576 step %c1 {
      %x = memref.load %in[%i, %k] : memref<128x576xf32>
      %a = memref.load %acc[%i] : memref<128xf32>
      %x2 = arith.mulf %x, %x : f32
      %s = arith.addf %a, %x2 : f32
      memref.store %s, %acc[%i] : memref<128xf32>
    }
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c128) step (%c1) {
    %s = memref.load %acc[%i] : memref<128xf32>
    %m = arith.divf %s, %n : f32
    memref.store %m, %acc[%i] : memref<128xf32>
    scf.reduce
  }
  return
}

// -----

// SmolLM2's RMSNorm as bufferized: the accumulator starts as a copy of a
// shared zero buffer and the division writes a fresh buffer. Lane 0 reads
// the initial value from the copy's source (the copy goes; the source is an
// argument here, so its value is not known) and divides into the fresh
// buffer; the 1 / sqrt step after it, over the same rows plus a unit
// dimension and reading the division's result through the expand_shape,
// runs there too (its buffer moves before the reduction; unit indices are
// 0). The loop after that (another domain) stays.
// CHECK-LABEL: func @copy_and_mean
// CHECK-SAME: (%{{.+}}: memref<1x128x576xf32>, %[[ZEROS:.+]]: memref<1x128xf32>, %[[OUT:.+]]: memref<1x128x64xf32>)
// CHECK-NOT: memref.copy
// CHECK: %[[ACC:.+]] = memref.alloc() : memref<1x128xf32>
// CHECK-NOT: memref.copy
// CHECK: %[[MEAN:.+]] = memref.alloc() : memref<1x128xf32>
// CHECK: %[[VIEW:.+]] = memref.expand_shape %[[MEAN]]
// CHECK: %[[INV:.+]] = memref.alloc() : memref<1x128x1xf32>
// CHECK: scf.parallel (%[[B:.+]], %[[ROW:.+]], %[[LANE:.+]]) =
// CHECK: scf.if
// CHECK-NEXT: %[[INIT:.+]] = memref.load %[[ZEROS]][%[[B]], %[[ROW]]] : memref<1x128xf32>
// CHECK-NEXT: %[[T:.+]] = arith.addf %[[INIT]], %{{.+}} : f32
// CHECK-NEXT: memref.store %[[T]], %[[ACC]][%[[B]], %[[ROW]]]
// CHECK-NEXT: %[[Z:.+]] = arith.constant 0 : index
// CHECK-NEXT: %[[S:.+]] = memref.load %[[ACC]][%[[Z]], %[[ROW]]]
// CHECK-NEXT: %[[M:.+]] = arith.divf %[[S]], %{{.+}} : f32
// CHECK-NEXT: memref.store %[[M]], %[[MEAN]][%[[Z]], %[[ROW]]]
// CHECK-NEXT: %[[V:.+]] = memref.load %[[VIEW]][%[[Z]], %[[ROW]], %[[Z]]] : memref<1x128x1xf32>
// CHECK-NEXT: %[[R:.+]] = math.rsqrt %[[V]] : f32
// CHECK-NEXT: memref.store %[[R]], %[[INV]][%[[Z]], %[[ROW]], %[[Z]]] : memref<1x128x1xf32>
// CHECK-NEXT: }
// CHECK: scf.parallel (%{{.+}}, %{{.+}}, %{{.+}}) =
// CHECK: memref.load %[[INV]]
// CHECK: memref.store %{{.+}}, %[[OUT]]
// LAUNCH-LABEL: func @copy_and_mean
// LAUNCH-COUNT-2: gpu.launch
// LAUNCH-NOT: gpu.launch
func.func @copy_and_mean(%in: memref<1x128x576xf32>, %zeros: memref<1x128xf32>, %out: memref<1x128x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  %c576 = arith.constant 576 : index
  %n = arith.constant 5.760000e+02 : f32
  %acc = memref.alloc() : memref<1x128xf32>
  %mean = memref.alloc() : memref<1x128xf32>
  memref.copy %zeros, %acc : memref<1x128xf32> to memref<1x128xf32>
  scf.parallel (%b, %i) = (%c0, %c0) to (%c1, %c128) step (%c1, %c1) {
    scf.for %k = %c0 to %c576 step %c1 {
      %x = memref.load %in[%b, %i, %k] : memref<1x128x576xf32>
      %a = memref.load %acc[%b, %i] : memref<1x128xf32>
      %x2 = arith.mulf %x, %x : f32
      %s = arith.addf %a, %x2 : f32
      memref.store %s, %acc[%b, %i] : memref<1x128xf32>
    }
    scf.reduce
  }
  scf.parallel (%b, %i) = (%c0, %c0) to (%c1, %c128) step (%c1, %c1) {
    %s = memref.load %acc[%b, %i] : memref<1x128xf32>
    %m = arith.divf %s, %n : f32
    memref.store %m, %mean[%b, %i] : memref<1x128xf32>
    scf.reduce
  }
  %view = memref.expand_shape %mean [[0], [1, 2]] output_shape [1, 128, 1] : memref<1x128xf32> into memref<1x128x1xf32>
  %inv = memref.alloc() : memref<1x128x1xf32>
  scf.parallel (%b, %i, %j) = (%c0, %c0, %c0) to (%c1, %c128, %c1) step (%c1, %c1, %c1) {
    %m = memref.load %view[%b, %i, %j] : memref<1x128x1xf32>
    %r = math.rsqrt %m : f32
    memref.store %r, %inv[%b, %i, %j] : memref<1x128x1xf32>
    scf.reduce
  }
  scf.parallel (%b, %i, %j) = (%c0, %c0, %c0) to (%c1, %c128, %c64) step (%c1, %c1, %c1) {
    %x = memref.load %in[%b, %i, %j] : memref<1x128x576xf32>
    %r = memref.load %inv[%b, %i, %c0] : memref<1x128x1xf32>
    %y = arith.mulf %x, %r : f32
    memref.store %y, %out[%b, %i, %j] : memref<1x128x64xf32>
    scf.reduce
  }
  return
}

// -----

// Softmax / LayerNorm as bufferized: one fresh buffer filled with the
// combiner's initial value is copied into each accumulator. The constant
// becomes lane 0's initial value, the copies go, and the fill goes with the
// last of them (its buffer with it): two launches instead of three, no copy.
// CHECK-LABEL: func @shared_fill
// CHECK-SAME: (%{{.+}}: memref<64x256xf32>, %[[A:.+]]: memref<64xf32>, %[[B:.+]]: memref<64xf32>)
// CHECK: %[[NINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK-NOT: memref.copy
// CHECK-NOT: memref.alloc
// CHECK: scf.parallel (%[[R1:.+]], %{{.+}}) =
// CHECK: scf.if
// CHECK-NEXT: %[[M:.+]] = arith.maximumf %[[NINF]], %{{.+}} : f32
// CHECK-NEXT: memref.store %[[M]], %[[A]][%[[R1]]]
// CHECK: scf.parallel (%[[R2:.+]], %{{.+}}) =
// CHECK: scf.if
// CHECK-NEXT: %[[M2:.+]] = arith.maximumf %[[NINF]], %{{.+}} : f32
// CHECK-NEXT: memref.store %[[M2]], %[[B]][%[[R2]]]
// LAUNCH-LABEL: func @shared_fill
// LAUNCH-COUNT-2: gpu.launch
// LAUNCH-NOT: gpu.launch
func.func @shared_fill(%in: memref<64x256xf32>, %a: memref<64xf32>, %b: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c256 = arith.constant 256 : index
  %ninf = arith.constant 0xFF800000 : f32
  %init = memref.alloc() : memref<64xf32>
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    memref.store %ninf, %init[%i] : memref<64xf32>
    scf.reduce
  }
  memref.copy %init, %a : memref<64xf32> to memref<64xf32>
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    scf.for %k = %c0 to %c256 step %c1 {
      %x = memref.load %in[%i, %k] : memref<64x256xf32>
      %acc = memref.load %a[%i] : memref<64xf32>
      %m = arith.maximumf %acc, %x : f32
      memref.store %m, %a[%i] : memref<64xf32>
    }
    scf.reduce
  }
  memref.copy %init, %b : memref<64xf32> to memref<64xf32>
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    scf.for %k = %c0 to %c256 step %c1 {
      %x = memref.load %in[%i, %k] : memref<64x256xf32>
      %acc = memref.load %b[%i] : memref<64xf32>
      %m = arith.maximumf %acc, %x : f32
      memref.store %m, %b[%i] : memref<64xf32>
    }
    scf.reduce
  }
  return
}

// -----

// Not folded to the constant: the filled buffer is also read by another op
// (not only copied from), so the fill stays and lane 0 reads the copy's
// source; an epilogue loop reading the division's result at another row of
// the view stays a loop.
// CHECK-LABEL: func @fill_read_elsewhere
// CHECK-SAME: (%{{.+}}: memref<64x256xf32>, %[[A:.+]]: memref<64xf32>, %[[O:.+]]: memref<64xf32>)
// CHECK: %[[INIT:.+]] = memref.alloc() : memref<64xf32>
// CHECK: scf.parallel
// CHECK: memref.store %{{.+}}, %[[INIT]]
// CHECK: scf.parallel (%[[R:.+]], %{{.+}}) =
// CHECK: scf.if
// CHECK-NEXT: memref.load %[[INIT]][%[[R]]]
// CHECK: %[[P:.+]] = memref.alloc() : memref<64x1xf32>
// CHECK: scf.parallel
// CHECK: memref.store %{{.+}}, %[[P]]
// CHECK: memref.load %[[INIT]]
// LAUNCH-LABEL: func @fill_read_elsewhere
// LAUNCH-COUNT-4: gpu.launch
func.func @fill_read_elsewhere(%in: memref<64x256xf32>, %a: memref<64xf32>, %o: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c63 = arith.constant 63 : index
  %c64 = arith.constant 64 : index
  %c256 = arith.constant 256 : index
  %zero = arith.constant 0.000000e+00 : f32
  %init = memref.alloc() : memref<64xf32>
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    memref.store %zero, %init[%i] : memref<64xf32>
    scf.reduce
  }
  memref.copy %init, %a : memref<64xf32> to memref<64xf32>
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    scf.for %k = %c0 to %c256 step %c1 {
      %x = memref.load %in[%i, %k] : memref<64x256xf32>
      %acc = memref.load %a[%i] : memref<64xf32>
      %s = arith.addf %acc, %x : f32
      memref.store %s, %a[%i] : memref<64xf32>
    }
    scf.reduce
  }
  %view = memref.expand_shape %a [[0, 1]] output_shape [64, 1] : memref<64xf32> into memref<64x1xf32>
  %p = memref.alloc() : memref<64x1xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c64, %c1) step (%c1, %c1) {
    %v = memref.load %view[%c63, %j] : memref<64x1xf32>
    memref.store %v, %p[%i, %j] : memref<64x1xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %v = memref.load %init[%i] : memref<64xf32>
    memref.store %v, %o[%i] : memref<64xf32>
    scf.reduce
  }
  return
}

// -----

// Not folded: a fill over other rows (64 of 128) stays a loop and lane 0
// reads the accumulator; a loop after it that writes a function argument
// (not a fresh buffer) stays a loop, and so does one that reads the
// accumulator at another row.
// CHECK-LABEL: func @not_folded
// CHECK-SAME: (%{{.+}}: memref<128x256xf32>, %[[ACC:.+]]: memref<128xf32>, %[[OUT:.+]]: memref<128xf32>)
// CHECK: scf.parallel
// CHECK: memref.store %{{.+}}, %[[ACC]]
// CHECK: scf.parallel (%[[ROW:.+]], %{{.+}}) =
// CHECK: scf.if
// CHECK: memref.load %[[ACC]][%[[ROW]]]
// CHECK: scf.parallel
// CHECK: memref.store %{{.+}}, %[[OUT]]
// LAUNCH-LABEL: func @not_folded
// LAUNCH-COUNT-3: gpu.launch
func.func @not_folded(%in: memref<128x256xf32>, %acc: memref<128xf32>, %out: memref<128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  %c256 = arith.constant 256 : index
  %zero = arith.constant 0.000000e+00 : f32
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    memref.store %zero, %acc[%i] : memref<128xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c128) step (%c1) {
    scf.for %k = %c0 to %c256 step %c1 {
      %x = memref.load %in[%i, %k] : memref<128x256xf32>
      %a = memref.load %acc[%i] : memref<128xf32>
      %s = arith.addf %a, %x : f32
      memref.store %s, %acc[%i] : memref<128xf32>
    }
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c128) step (%c1) {
    %s = memref.load %acc[%i] : memref<128xf32>
    memref.store %s, %out[%i] : memref<128xf32>
    scf.reduce
  }
  return
}
