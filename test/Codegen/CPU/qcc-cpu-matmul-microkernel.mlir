// RUN: qcc-opt %s -split-input-file -qcc-cpu-matmul-microkernel="vector-width=16 rows=6 vectors-per-row=2" | FileCheck %s
// RUN: qcc-opt %s -split-input-file -qcc-cpu-matmul-microkernel | FileCheck %s --check-prefix=GEMV

// 40 columns: one 32-wide panel (two vectors), then 8 columns in one
// masked vector. 8 rows: one block of 6, then 2 single rows.
// CHECK-LABEL: func @matmul
// CHECK-NOT: linalg.matmul
// CHECK: scf.for %[[J:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK:   scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK:     %[[ACC:.+]]:12 = scf.for %[[K:.+]] = {{.+}} iter_args(
// CHECK:       vector.load %{{.+}}[%[[K]], %[[J]]] : memref<64x40xf32>, vector<16xf32>
// CHECK:       memref.load %{{.+}}[%[[I]], %[[K]]] : memref<8x64xf32>
// CHECK:       vector.broadcast
// CHECK:       vector.fma
// CHECK:     vector.store %[[ACC]]#0
// CHECK: vector.constant_mask [8] : vector<16xi1>
// CHECK: vector.maskedload
// CHECK: vector.maskedstore
func.func @matmul(%a: memref<8x64xf32>, %b: memref<64x40xf32>, %c: memref<8x40xf32>) {
  linalg.matmul ins(%a, %b : memref<8x64xf32>, memref<64x40xf32>) outs(%c : memref<8x40xf32>)
  return
}

// -----

// CHECK-LABEL: func @batch_matmul
// CHECK: scf.for %[[B:.+]] =
// CHECK: vector.load %{{.+}}[%[[B]], %{{.+}}, %{{.+}}] : memref<2x16x32xf32>, vector<16xf32>
func.func @batch_matmul(%a: memref<2x6x16xf32>, %b: memref<2x16x32xf32>, %c: memref<2x6x32xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<2x6x16xf32>, memref<2x16x32xf32>) outs(%c : memref<2x6x32xf32>)
  return
}

// -----

// A weight packed by qcc-cpu-pack-matmul-weights (panels of 48 columns):
// the same blocks, B read at [col / 48, k, col % 48]; never the GEMV form.
// CHECK-LABEL: func @packed
// CHECK-NOT: linalg.generic
// CHECK: %[[P:.+]] = arith.divui %{{.+}}, %{{.+}} : index
// CHECK: %[[J:.+]] = arith.remui %{{.+}}, %{{.+}} : index
// CHECK: scf.for %[[K:.+]] = {{.+}} iter_args(
// CHECK: vector.load %{{.+}}[%[[P]], %[[K]], %[[J]]] : memref<2x4x48xf32>, vector<16xf32>
// CHECK: vector.maskedload %{{.+}} : memref<2x4x48xf32>
// GEMV-LABEL: func @packed
// GEMV-NOT: linalg.generic
// GEMV: arith.divui
// GEMV: vector.load %{{.+}} : memref<2x4x48xf32>, vector<16xf32>
#pa = affine_map<(m, n, k) -> (m, k)>
#pb = affine_map<(m, n, k) -> (n floordiv 48, k, n mod 48)>
#pc = affine_map<(m, n, k) -> (m, n)>
func.func @packed(%a: memref<2x4xf32>, %b: memref<2x4x48xf32>, %c: memref<2x50xf32>) {
  linalg.generic {indexing_maps = [#pa, #pb, #pc], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : memref<2x4xf32>, memref<2x4x48xf32>) outs(%c : memref<2x50xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %z, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Not the packed product: a subtraction, or a map other than floordiv/mod
// by the same panel, stays a linalg.generic.
// CHECK-LABEL: func @not_packed
// CHECK-COUNT-2: linalg.generic
#pa = affine_map<(m, n, k) -> (m, k)>
#pb = affine_map<(m, n, k) -> (n floordiv 48, k, n mod 48)>
#pc = affine_map<(m, n, k) -> (m, n)>
#qb = affine_map<(m, n, k) -> (n floordiv 48, k, n mod 32)>
func.func @not_packed(%a: memref<2x4xf32>, %b: memref<2x4x48xf32>, %c: memref<2x50xf32>) {
  linalg.generic {indexing_maps = [#pa, #pb, #pc], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : memref<2x4xf32>, memref<2x4x48xf32>) outs(%c : memref<2x50xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.subf %z, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#pa, #qb, #pc], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : memref<2x4xf32>, memref<2x4x48xf32>) outs(%c : memref<2x50xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %z, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Tensors, integer matmuls and dynamic shapes are left to other lowerings.
// CHECK-LABEL: func @untouched
// CHECK: linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<4x4xf32>
// CHECK: linalg.matmul ins(%{{.+}}, %{{.+}} : memref<4x4xi32>
// CHECK: linalg.matmul ins(%{{.+}}, %{{.+}} : memref<?x4xf32>
func.func @untouched(%t: tensor<4x4xf32>, %i: memref<4x4xi32>, %d: memref<?x4xf32>, %o: memref<?x4xf32>, %f: memref<4x4xf32>) -> tensor<4x4xf32> {
  %r = linalg.matmul ins(%t, %t : tensor<4x4xf32>, tensor<4x4xf32>) outs(%t : tensor<4x4xf32>) -> tensor<4x4xf32>
  linalg.matmul ins(%i, %i : memref<4x4xi32>, memref<4x4xi32>) outs(%i : memref<4x4xi32>)
  linalg.matmul ins(%d, %f : memref<?x4xf32>, memref<4x4xf32>) outs(%o : memref<?x4xf32>)
  return %r : tensor<4x4xf32>
}

// -----

// Just below the default threshold: serial.
// CHECK-LABEL: func @serial_below_threshold
// CHECK-NOT: scf.parallel
// CHECK: return
func.func @serial_below_threshold(%a: memref<64x256xf32>, %b: memref<256x255xf32>, %c: memref<64x255xf32>) {
  linalg.matmul ins(%a, %b : memref<64x256xf32>, memref<256x255xf32>) outs(%c : memref<64x255xf32>)
  return
}

// -----

// 64x256x256 (4M multiply-adds, the default threshold; 8 column panels): the full column panels
// run in parallel, each over all row blocks.
// CHECK-LABEL: func @parallel_columns
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C256:.+]] = arith.constant 256 : index
// CHECK-DAG: %[[C32:.+]] = arith.constant 32 : index
// CHECK: scf.parallel (%[[J:.+]]) = (%[[C0]]) to (%[[C256]]) step (%[[C32]]) {
// CHECK:   scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK:     vector.load %{{.+}}[%[[I]], %[[J]]] : memref<64x256xf32>, vector<16xf32>
// CHECK:   scf.for
// CHECK:   scf.reduce
func.func @parallel_columns(%a: memref<64x256xf32>, %b: memref<256x256xf32>, %c: memref<64x256xf32>) {
  linalg.matmul ins(%a, %b : memref<64x256xf32>, memref<256x256xf32>) outs(%c : memref<64x256xf32>)
  return
}

// -----

// Tall-skinny 1000x128x40: 166 full row blocks in parallel, each over all
// columns (one panel, one masked vector); then the 4 leftover rows.
// CHECK-LABEL: func @parallel_rows
// CHECK-DAG: %[[C996:.+]] = arith.constant 996 : index
// CHECK-DAG: %[[C6:.+]] = arith.constant 6 : index
// CHECK: scf.parallel (%[[I:.+]]) = (%{{.+}}) to (%[[C996]]) step (%[[C6]]) {
// CHECK:   scf.for %[[J:.+]] =
// CHECK:     vector.load %{{.+}}[%[[I]], %[[J]]] : memref<1000x40xf32>, vector<16xf32>
// CHECK:   scf.for
// CHECK:     vector.maskedload
// CHECK:   scf.reduce
// CHECK: %[[FROM:.+]] = arith.constant 996 : index
// CHECK: scf.for %[[R:.+]] = %[[FROM]] to
func.func @parallel_rows(%a: memref<1000x128xf32>, %b: memref<128x40xf32>, %c: memref<1000x40xf32>) {
  linalg.matmul ins(%a, %b : memref<1000x128xf32>, memref<128x40xf32>) outs(%c : memref<1000x40xf32>)
  return
}

// -----

// A batch of 16 (at least 8): the batch dimension in parallel.
// CHECK-LABEL: func @parallel_batch
// CHECK: scf.parallel (%[[B:.+]]) =
// CHECK:   scf.for
// CHECK:     vector.load %{{.+}}[%[[B]], %{{.+}}, %{{.+}}] : memref<16x64x64xf32>
// CHECK:   scf.reduce
func.func @parallel_batch(%a: memref<16x64x64xf32>, %b: memref<16x64x64xf32>, %c: memref<16x64x64xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<16x64x64xf32>, memref<16x64x64xf32>) outs(%c : memref<16x64x64xf32>)
  return
}

// -----

// A batch of 3: batch x row blocks in parallel, then the leftover rows of
// each matmul of the batch.
// CHECK-LABEL: func @parallel_batch_rows
// CHECK: scf.parallel (%[[B:.+]], %[[I:.+]]) =
// CHECK:   vector.load %{{.+}}[%[[B]], %[[I]], %{{.+}}] : memref<3x200x80xf32>
// CHECK:   scf.reduce
// CHECK: scf.for %[[B2:.+]] =
// CHECK:   scf.for %[[R:.+]] =
func.func @parallel_batch_rows(%a: memref<3x200x128xf32>, %b: memref<3x128x80xf32>, %c: memref<3x200x80xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<3x200x128xf32>, memref<3x128x80xf32>) outs(%c : memref<3x200x80xf32>)
  return
}

// -----

// A GEMV of 1x4100x1024 (4.2M multiply-adds): its K range in 8 parallel
// units of 520 rows (a multiple of 8; the last one 460), each summing into
// its own zeroed slice of a scratch buffer, then C += the 8 slices in order.
// B rows of 4 KiB: 4 per pass (4 DRAM streams) when the call has one
// thread, 8 with more; then the unit's last rows one at a time.
// GEMV-LABEL: func @parallel_gemv
// GEMV: %[[P:.+]] = memref.alloc() {alignment = 64 : i64} : memref<8x1x1024xf32>
// GEMV: %[[T:.+]] = q.num_threads
// GEMV: %[[ONE:.+]] = arith.cmpi eq, %[[T]], %{{.+}} : index
// GEMV: %[[C8:.+]] = arith.constant 8 : index
// GEMV: scf.parallel (%[[U:.+]]) = (%{{.+}}) to (%[[C8]]) step
// GEMV:   vector.store %{{.+}}, %[[P]][%[[U]], %{{.+}}, %{{.+}}]
// GEMV:   %[[K0:.+]] = arith.muli %[[U]], %{{.+}} : index
// GEMV:   arith.minsi
// GEMV:   scf.if %[[ONE]] {
// GEMV:     scf.for %{{.+}} = %[[K0]] to
// GEMV-COUNT-4: vector.load %{{.+}} : memref<4100x1024xf32>
// GEMV-NOT:   vector.load %{{.+}} : memref<4100x1024xf32>
// GEMV:       vector.load %[[P]][%[[U]]
// GEMV-COUNT-4: vector.fma
// GEMV:       vector.store %{{.+}}, %[[P]][%[[U]]
// GEMV:     scf.for
// GEMV-COUNT-1: vector.load %{{.+}} : memref<4100x1024xf32>
// GEMV-NOT:   vector.load %{{.+}} : memref<4100x1024xf32>
// GEMV:       vector.load %[[P]][%[[U]]
// GEMV:   } else {
// GEMV:     scf.for %{{.+}} = %[[K0]] to
// GEMV-COUNT-8: vector.load %{{.+}} : memref<4100x1024xf32>
// GEMV-NOT:   vector.load %{{.+}} : memref<4100x1024xf32>
// GEMV:       vector.load %[[P]][%[[U]]
// GEMV-COUNT-8: vector.fma
// GEMV:       vector.store %{{.+}}, %[[P]][%[[U]]
// GEMV:   scf.reduce
// GEMV: vector.load %{{.+}} : memref<1x1024xf32>
// GEMV-COUNT-8: arith.addf
// GEMV: vector.store %{{.+}} : memref<1x1024xf32>
// GEMV: memref.dealloc %[[P]]
func.func @parallel_gemv(%a: memref<1x4100xf32>, %b: memref<4100x1024xf32>, %c: memref<1x1024xf32>) {
  linalg.matmul ins(%a, %b : memref<1x4100xf32>, memref<4100x1024xf32>) outs(%c : memref<1x1024xf32>)
  return
}

// -----

// C filled with a constant right before the product: the fill goes away
// and every block's accumulators start from the splat instead of loading C
// (the only loads left are A's elements and B's vectors).
// CHECK-LABEL: func @fill_folded
// CHECK-NOT: linalg.fill
// CHECK: %[[INIT:.+]] = arith.constant dense<1.500000e+00> : vector<16xf32>
// CHECK: scf.for {{.+}} iter_args(%{{.+}} = %[[INIT]], %{{.+}} = %[[INIT]],
// CHECK-NOT: vector.load %{{.+}} : memref<8x40xf32>
// CHECK-NOT: vector.maskedload %{{.+}} : memref<8x40xf32>
// CHECK: return
func.func @fill_folded(%a: memref<8x64xf32>, %b: memref<64x40xf32>, %c: memref<8x40xf32>) {
  %cst = arith.constant 1.5 : f32
  linalg.fill ins(%cst : f32) outs(%c : memref<8x40xf32>)
  linalg.matmul ins(%a, %b : memref<8x64xf32>, memref<64x40xf32>) outs(%c : memref<8x40xf32>)
  return
}

// -----

// One zero buffer copied into the outputs of two products (CSE merged their
// fills): both copies fold, then the buffer, its fill and dealloc go too.
// CHECK-LABEL: func @shared_zero_buffer
// CHECK-NOT: memref.copy
// CHECK-NOT: linalg.fill
// CHECK-NOT: memref.alloc() {{.*}} : memref<8x40xf32>
// CHECK: %[[Z:.+]] = arith.constant dense<0.000000e+00> : vector<16xf32>
// CHECK: iter_args(%{{[^ ]+}} = %[[Z]],
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<4x4xf32>
// CHECK: %[[Z2:.+]] = arith.constant dense<0.000000e+00> : vector<16xf32>
// CHECK: iter_args(%{{[^ ]+}} = %[[Z2]],
// CHECK-NOT: memref.dealloc %{{.+}} : memref<8x40xf32>
// CHECK: return
func.func @shared_zero_buffer(%a: memref<8x64xf32>, %b: memref<64x40xf32>, %c: memref<8x40xf32>, %d: memref<8x40xf32>) {
  %zero = arith.constant 0.0 : f32
  %z = memref.alloc() {alignment = 64 : i64} : memref<8x40xf32>
  linalg.fill ins(%zero : f32) outs(%z : memref<8x40xf32>)
  memref.copy %z, %c : memref<8x40xf32> to memref<8x40xf32>
  linalg.matmul ins(%a, %b : memref<8x64xf32>, memref<64x40xf32>) outs(%c : memref<8x40xf32>)
  %t = memref.alloc() {alignment = 64 : i64} : memref<4x4xf32>
  memref.copy %z, %d : memref<8x40xf32> to memref<8x40xf32>
  linalg.matmul ins(%a, %b : memref<8x64xf32>, memref<64x40xf32>) outs(%d : memref<8x40xf32>)
  memref.dealloc %z : memref<8x40xf32>
  memref.dealloc %t : memref<4x4xf32>
  return
}

// -----

// Not folded, C is loaded: a store into C between the fill and the product;
// a copy from a buffer whose contents are not known (an argument); a copy
// from a buffer that is also written by something else than its fill.
// CHECK-LABEL: func @init_kept
// CHECK: linalg.fill
// CHECK: memref.store
// CHECK: vector.load %{{.+}} : memref<8x40xf32>
// CHECK: memref.copy %{{.+}}, %{{.+}} : memref<8x40xf32> to memref<8x40xf32>
// CHECK: vector.load %{{.+}} : memref<8x40xf32>
// CHECK: linalg.fill
// CHECK: memref.store
// CHECK: memref.copy
// CHECK: vector.load %{{.+}} : memref<8x40xf32>
func.func @init_kept(%a: memref<8x64xf32>, %b: memref<64x40xf32>, %c: memref<8x40xf32>, %src: memref<8x40xf32>) {
  %zero = arith.constant 0.0 : f32
  %i = arith.constant 3 : index
  linalg.fill ins(%zero : f32) outs(%c : memref<8x40xf32>)
  memref.store %zero, %c[%i, %i] : memref<8x40xf32>
  linalg.matmul ins(%a, %b : memref<8x64xf32>, memref<64x40xf32>) outs(%c : memref<8x40xf32>)
  memref.copy %src, %c : memref<8x40xf32> to memref<8x40xf32>
  linalg.matmul ins(%a, %b : memref<8x64xf32>, memref<64x40xf32>) outs(%c : memref<8x40xf32>)
  %z = memref.alloc() {alignment = 64 : i64} : memref<8x40xf32>
  linalg.fill ins(%zero : f32) outs(%z : memref<8x40xf32>)
  memref.store %zero, %z[%i, %i] : memref<8x40xf32>
  memref.copy %z, %c : memref<8x40xf32> to memref<8x40xf32>
  linalg.matmul ins(%a, %b : memref<8x64xf32>, memref<64x40xf32>) outs(%c : memref<8x40xf32>)
  memref.dealloc %z : memref<8x40xf32>
  return
}

// -----

// A parallel GEMV of B rows under 4 KiB (1x16384x512, 8.4M multiply-adds)
// adds 8 of them per pass whatever the thread count.
// GEMV-LABEL: func @parallel_gemv_narrow
// GEMV-NOT: q.num_threads
// GEMV-NOT: scf.if
// GEMV: scf.parallel
// GEMV: scf.for
// GEMV-COUNT-8: vector.load %{{.+}} : memref<16384x512xf32>
// GEMV-NOT: vector.load %{{.+}} : memref<16384x512xf32>
// GEMV: vector.load %{{.+}} : memref<8x1x512xf32>
// GEMV: scf.reduce
func.func @parallel_gemv_narrow(%a: memref<1x16384xf32>, %b: memref<16384x512xf32>, %c: memref<1x512xf32>) {
  linalg.matmul ins(%a, %b : memref<1x16384xf32>, memref<16384x512xf32>) outs(%c : memref<1x512xf32>)
  return
}

// -----

// A parallel GEMV (K split) folds the fill into its final sum; a serial one
// adds into C pass by pass and keeps it.
// GEMV-LABEL: func @gemv_fill
// GEMV: %[[Z:.+]] = arith.constant dense<0.000000e+00> : vector<16xf32>
// GEMV: scf.parallel
// GEMV: scf.reduce
// GEMV-NOT: vector.load %{{.+}} : memref<1x1024xf32>
// GEMV: arith.addf %[[Z]],
// GEMV: vector.store %{{.+}} : memref<1x1024xf32>
// GEMV: linalg.fill
// GEMV-NOT: scf.parallel
// GEMV: vector.load %{{.+}} : memref<1x64xf32>
func.func @gemv_fill(%a: memref<1x4100xf32>, %b: memref<4100x1024xf32>, %c: memref<1x1024xf32>, %a2: memref<1x64xf32>, %b2: memref<64x64xf32>, %c2: memref<1x64xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<1x1024xf32>)
  linalg.matmul ins(%a, %b : memref<1x4100xf32>, memref<4100x1024xf32>) outs(%c : memref<1x1024xf32>)
  linalg.fill ins(%zero : f32) outs(%c2 : memref<1x64xf32>)
  linalg.matmul ins(%a2, %b2 : memref<1x64xf32>, memref<64x64xf32>) outs(%c2 : memref<1x64xf32>)
  return
}

// -----

// The last product writes the zero buffer itself, in place (bufferization's
// pattern): the copies before it still fold; the buffer keeps its fill,
// which that product reads.
// CHECK-LABEL: func @zero_buffer_reused_in_place
// CHECK: %[[Z:.+]] = memref.alloc() {alignment = 64 : i64} : memref<8x40xf32>
// CHECK: linalg.fill ins(%{{.+}} : f32) outs(%[[Z]] : memref<8x40xf32>)
// CHECK-NOT: memref.copy
// CHECK: vector.store %{{.+}}, %[[Z]]
func.func @zero_buffer_reused_in_place(%a: memref<8x64xf32>, %b: memref<64x40xf32>, %c: memref<8x40xf32>) -> memref<8x40xf32> {
  %zero = arith.constant 0.0 : f32
  %z = memref.alloc() {alignment = 64 : i64} : memref<8x40xf32>
  linalg.fill ins(%zero : f32) outs(%z : memref<8x40xf32>)
  memref.copy %z, %c : memref<8x40xf32> to memref<8x40xf32>
  linalg.matmul ins(%a, %b : memref<8x64xf32>, memref<64x40xf32>) outs(%c : memref<8x40xf32>)
  linalg.matmul ins(%a, %b : memref<8x64xf32>, memref<64x40xf32>) outs(%z : memref<8x40xf32>)
  return %z : memref<8x40xf32>
}
