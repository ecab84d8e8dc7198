// RUN: qcc-opt %s -split-input-file -qcc-cpu-lower-qmatmul="parallel-min-fmas=0" | FileCheck %s --check-prefix=VNNI
// RUN: qcc-opt %s -split-input-file -qcc-cpu-lower-qmatmul="vnni=false avx2=false" | FileCheck %s --check-prefix=PORTABLE
// RUN: qcc-opt %s -split-input-file -qcc-cpu-lower-qmatmul="tile-rows=1 tile-col-blocks=2" | FileCheck %s --check-prefix=TILE

// int8 weights with dynamic activations: the weight is repacked as codes +
// 128 (1 -> 0x81), activations are quantized per row to s8 with the i32 sum
// of their codes, the (column tile, row tile) loop is parallel, vpdpbusd
// takes the weight bytes as its unsigned operand, and 128 * sum is removed.
// VNNI-DAG: memref.global "private" constant @__qcc_kweight : memref<128xi8>
// VNNI-LABEL: func @w8a8
// VNNI-SAME: (%[[X:.+]]: memref<2x8xf32>, %[[S:.+]]: memref<16xf32>, %[[OUT:.+]]: memref<2x16xf32>)
// VNNI: %[[KW:.+]] = memref.get_global @__qcc_kweight
// VNNI: %[[QX:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x8xi8>
// VNNI: %[[SUMS:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x1xi32>
// VNNI: math.roundeven
// VNNI: memref.store %{{.+}}, %[[SUMS]]
// VNNI: scf.parallel
// VNNI: %[[W:.+]] = vector.load %[[KW]][%{{.+}}] : memref<128xi8>, vector<64xi8>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.+}}, %[[W]], %{{.+}})
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.+}}, %[[W]], %{{.+}})
// VNNI: arith.constant 128 : i32
// VNNI: arith.subi
// VNNI: vector.store %{{.+}}, %[[OUT]][%{{.+}}, %{{.+}}] : memref<2x16xf32>, vector<16xf32>
// One row tile (a GEMV): the column tiles are cut into 8 chunks per thread.
// VNNI: } {qcc.chunks_per_thread = 8 : i64}
// VNNI: memref.dealloc %[[QX]]
// VNNI-NOT: q.matmul
// VNNI: qcc_kweight: "0x{{[0-9A-F]+}}81818181
// PORTABLE: memref.global "private" constant @__qcc_qcodes : memref<8x16xi8>
// PORTABLE-LABEL: func @w8a8
// PORTABLE-NOT: llvm.call_intrinsic
// PORTABLE: %[[DEQ:.+]] = memref.alloc() {alignment = 64 : i64} : memref<8x16xf32>
// PORTABLE: linalg.matmul ins(%{{.+}}, %[[DEQ]] : memref<2x8xf32>, memref<8x16xf32>)
// One row per tile: one vpdpbusd per K block; small products stay serial.
// TILE-LABEL: func @w8a8
// TILE-NOT: scf.parallel
// TILE: scf.for
// TILE: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// TILE-NOT: llvm.call_intrinsic
// TILE: scf.yield
func.func @w8a8(%x: memref<2x8xf32>, %s: memref<16xf32>, %out: memref<2x16xf32>) {
  %w = q.weight_constant dense<1> : tensor<128xi8> -> !q.weight<8x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<2x8xf32>, !q.weight<8x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>, memref<16xf32>, memref<2x16xf32>) -> ()
  return
}

// -----

// 5 rows in tiles of 4: the last row tile takes the 1-row variant. 48
// columns in tiles of 2 blocks (TILE): one full column tile, then a tail of
// one block.
// VNNI-LABEL: func @rows_and_tail
// VNNI: scf.parallel (%{{.+}}, %{{.+}}) =
// VNNI: scf.if
// VNNI-NOT: qcc.chunks_per_thread
// TILE-LABEL: func @rows_and_tail
// TILE: vector.load %{{.+}} : memref<384xi8>, vector<64xi8>
// TILE: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// TILE: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// TILE-NOT: llvm.call_intrinsic
// TILE: scf.yield
// TILE: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// TILE-NOT: llvm.call_intrinsic
// TILE: scf.yield
func.func @rows_and_tail(%x: memref<5x8xf32>, %s: memref<48xf32>, %out: memref<5x48xf32>) {
  %w = q.weight_constant dense<1> : tensor<384xi8> -> !q.weight<8x48xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<5x8xf32>, !q.weight<8x48xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>, memref<48xf32>, memref<5x48xf32>) -> ()
  return
}

// -----

// Symmetric int4 groups: nibbles stored as code + 8 (17 = codes 1, 1 ->
// 0x99), low and high nibbles masked out for two vpdpbusd per 64 bytes, 8 *
// group sum removed per group.
// VNNI-LABEL: func @w4a8
// VNNI: %[[SUMS:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x2xi32>
// VNNI: arith.andi
// VNNI: arith.shrui
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI: arith.constant 8 : i32
// VNNI: qcc_kweight: "0x{{[0-9A-F]+}}99999999
func.func @w4a8(%x: memref<1x16xf32>, %s: memref<2x16xf32>, %out: memref<1x16xf32>) {
  %w = q.weight_constant dense<17> : tensor<128xi8> -> !q.weight<16x16xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 8, symmetric = true>, vnni_k8n16>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<1x16xf32>, !q.weight<16x16xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 8, symmetric = true>, vnni_k8n16>, memref<2x16xf32>, memref<1x16xf32>) -> ()
  return
}

// -----

// Asymmetric int4 (unsigned codes in packed_k, repacked for the kernel):
// the zero point times the group sum of the activation codes is removed
// per column.
// VNNI-LABEL: func @w4a8_asym
// VNNI-SAME: %[[Z:[a-z0-9]+]]: memref<2x16xi32>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI: %[[ZV:.+]] = vector.load %[[Z]][%{{.+}}, %{{.+}}] : memref<2x16xi32>, vector<16xi32>
// VNNI: arith.muli %[[ZV]], %{{.+}} : vector<16xi32>
// PORTABLE-LABEL: func @w4a8_asym
// PORTABLE: arith.uitofp
// PORTABLE: arith.subf
func.func @w4a8_asym(%x: memref<1x16xf32>, %s: memref<2x16xf32>, %z: memref<2x16xi32>, %out: memref<1x16xf32>) {
  %w = q.weight_constant dense<35> : tensor<128xi8> -> !q.weight<16x16xi4, #q.scheme<bits = 4, is_signed = false, granularity = per_group, axis = 0, group_size = 8, symmetric = false>, packed_k>
  q.matmul %x, %w scales(%s) zero_points(%z) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<1x16xf32>, !q.weight<16x16xi4, #q.scheme<bits = 4, is_signed = false, granularity = per_group, axis = 0, group_size = 8, symmetric = false>, packed_k>, memref<2x16xf32>, memref<2x16xi32>, memref<1x16xf32>) -> ()
  return
}

// -----

// int4 weight-only: f32 activations are not quantized; each nibble is
// shifted to the low bits of its lane and looked up in a table of the code
// values (code + 8 -> code) by vpermps, then FMA.
// VNNI-LABEL: func @w4f32
// VNNI-NOT: math.roundeven
// VNNI: arith.constant dense<[-8.000000e+00, -7.000000e+00, {{.*}}, 7.000000e+00]> : vector<16xf32>
// VNNI: scf.for
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.permvar.sf.512"
// VNNI: arith.shrui
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.permvar.sf.512"
// VNNI: math.fma
// VNNI-NOT: q.matmul
func.func @w4f32(%x: memref<3x16xf32>, %s: memref<2x16xf32>, %out: memref<3x16xf32>) {
  %w = q.weight_constant dense<17> : tensor<128xi8> -> !q.weight<16x16xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 8, symmetric = true>, vnni_k8n16>
  q.matmul %x, %w scales(%s) outs(%out) : (memref<3x16xf32>, !q.weight<16x16xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 8, symmetric = true>, vnni_k8n16>, memref<2x16xf32>, memref<3x16xf32>) -> ()
  return
}

// -----

// Kept outlier channels 2 and 5 (qcc-fuse-outliers): the activation
// quantization multiplies x by a constant 0/1 mask (in the row's absmax and
// in the rounding), the kernel runs as usual, then each output row gets
// x[r, 2] * o[0, :] + x[r, 5] * o[1, :] with one FMA per kept channel and
// 16 columns.
// VNNI: memref.global "private" constant @__qcc_outlier_mask : memref<8xf32> = dense<[1.000000e+00, 1.000000e+00, 0.000000e+00, 1.000000e+00, 1.000000e+00, 0.000000e+00, 1.000000e+00, 1.000000e+00]>
// VNNI-LABEL: func @w8a8_outliers
// VNNI-SAME: (%[[X:.+]]: memref<2x8xf32>, %[[S:.+]]: memref<16xf32>, %[[O:.+]]: memref<2x16xf32>, %[[OUT:.+]]: memref<2x16xf32>)
// VNNI: %[[M:.+]] = memref.get_global @__qcc_outlier_mask
// VNNI: %[[MV:.+]] = vector.load %[[M]]
// VNNI: arith.mulf %{{.+}}, %[[MV]] : vector<16xf32>
// VNNI: math.absf
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI: %[[X2:.+]] = memref.load %[[X]][%{{.+}}, %c2{{.*}}] : memref<2x8xf32>
// VNNI: %[[B2:.+]] = vector.broadcast %[[X2]]
// VNNI: %[[X5:.+]] = memref.load %[[X]][%{{.+}}, %c5{{.*}}] : memref<2x8xf32>
// VNNI: %[[B5:.+]] = vector.broadcast %[[X5]]
// VNNI: %[[ACC:.+]] = vector.load %[[OUT]]
// VNNI: %[[O0:.+]] = vector.load %[[O]]
// VNNI: %[[F0:.+]] = vector.fma %[[B2]], %[[O0]], %[[ACC]]
// VNNI: %[[O1:.+]] = vector.load %[[O]]
// VNNI: %[[F1:.+]] = vector.fma %[[B5]], %[[O1]], %[[F0]]
// VNNI: vector.store %[[F1]], %[[OUT]]
// The portable path quantizes with the same mask and adds the same way.
// PORTABLE-LABEL: func @w8a8_outliers
// PORTABLE: memref.get_global @__qcc_outlier_mask
// PORTABLE: linalg.matmul
// PORTABLE-COUNT-2: vector.fma
func.func @w8a8_outliers(%x: memref<2x8xf32>, %s: memref<16xf32>, %o: memref<2x16xf32>, %out: memref<2x16xf32>) {
  %w = q.weight_constant dense<1> : tensor<128xi8> -> !q.weight<8x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>
  q.matmul %x, %w scales(%s) outliers(%o) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>, outlier_channels = array<i64: 2, 5>} : (memref<2x8xf32>, !q.weight<8x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>, memref<16xf32>, memref<2x16xf32>, memref<2x16xf32>) -> ()
  return
}

// -----

// Float activations (weight-only): the kernel reads a copy of x with the
// kept channel zeroed; the epilogue reads the original x.
// PORTABLE-LABEL: func @weight_only_outliers
// PORTABLE-SAME: (%[[X:.+]]: memref<2x8xf32>,
// PORTABLE: %[[COPY:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x8xf32>
// PORTABLE: memref.copy %[[X]], %[[COPY]]
// PORTABLE: memref.store %{{.+}}, %[[COPY]][%{{.+}}, %c3{{.*}}]
// PORTABLE: linalg.matmul ins(%[[COPY]], %{{.+}} : memref<2x8xf32>, memref<8x16xf32>)
// PORTABLE: memref.dealloc %[[COPY]]
// PORTABLE: memref.load %[[X]][%{{.+}}, %c3{{.*}}]
// PORTABLE: vector.fma
func.func @weight_only_outliers(%x: memref<2x8xf32>, %s: memref<16xf32>, %o: memref<1x16xf32>, %out: memref<2x16xf32>) {
  %w = q.weight_constant dense<1> : tensor<128xi8> -> !q.weight<8x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  q.matmul %x, %w scales(%s) outliers(%o) outs(%out) {outlier_channels = array<i64: 3>} : (memref<2x8xf32>, !q.weight<8x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, memref<16xf32>, memref<1x16xf32>, memref<2x16xf32>) -> ()
  return
}

// -----

// int4 weight-only with 8+ rows: per column tile and span of groups (here
// both groups of 8: the span is the largest divisor of the group count whose
// panel fits 256 KiB) the weights are decoded and scaled once into an f32
// panel [span * group, 48] that every row tile (8 x 3 accumulators over the
// 16 K values, then the 1 leftover row) reads like the f32 microkernel,
// adding into the output tile once per span; the tile starts at zero (no
// bias).
// VNNI-LABEL: func @w4f32_panel
// VNNI-SAME: (%[[X:.+]]: memref<17x16xf32>, %[[S:.+]]: memref<2x96xf32>, %[[OUT:.+]]: memref<17x96xf32>)
// VNNI: scf.parallel
// VNNI: vector.store %{{.+}}, %[[OUT]]
// VNNI: %[[P:.+]] = memref.alloc() {alignment = 64 : i64} : memref<16x48xf32>
// VNNI: scf.for %[[G0:.+]] = %{{.+}} to %c2{{.*}} step %c2
// VNNI: scf.for %[[L:.+]] = %{{.+}} to %c2{{.*}} step %c1
// VNNI: %[[G:.+]] = arith.addi %[[G0]], %[[L]] : index
// VNNI: vector.load %[[S]][%[[G]], %{{.+}}] : memref<2x96xf32>, vector<16xf32>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.permvar.sf.512"
// VNNI: arith.mulf
// VNNI: vector.store %{{.+}}, %[[P]]
// VNNI: %[[ACC:.+]]:24 = scf.for %{{.+}} = %{{.+}} to %c16
// VNNI: vector.load %[[P]]
// VNNI: memref.load %[[X]]
// VNNI: math.fma
// VNNI: vector.store %[[ACC]]#23, %[[OUT]]
// VNNI: %{{.+}}:3 = scf.for
// VNNI: memref.dealloc %[[P]]
func.func @w4f32_panel(%x: memref<17x16xf32>, %s: memref<2x96xf32>, %out: memref<17x96xf32>) {
  %w = q.weight_constant dense<17> : tensor<768xi8> -> !q.weight<16x96xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 8, symmetric = true>, vnni_k8n16>
  q.matmul %x, %w scales(%s) outs(%out) : (memref<17x16xf32>, !q.weight<16x96xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 8, symmetric = true>, vnni_k8n16>, memref<2x96xf32>, memref<17x96xf32>) -> ()
  return
}

// -----

// int4 weight-only GEMV (symmetric): the decoded codes times x are summed per
// group in two interleaved accumulator sets (no multiply in the K loop);
// their sum times the group's scales is added to the total once per group.
// VNNI-LABEL: func @w4f32_gemv
// VNNI-SAME: (%[[X:.+]]: memref<1x16xf32>, %[[S:.+]]: memref<2x64xf32>,
// VNNI: scf.for %[[G:.+]] = {{.+}} iter_args
// VNNI: %[[SUMS:.+]]:8 = scf.for
// VNNI-NOT: arith.mulf
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.permvar.sf.512"
// VNNI: math.fma
// VNNI: scf.yield
// VNNI: vector.load %[[S]][%[[G]], %{{.+}}] : memref<2x64xf32>, vector<16xf32>
// VNNI: arith.addf %[[SUMS]]#0, %[[SUMS]]#4
// VNNI: math.fma
func.func @w4f32_gemv(%x: memref<1x16xf32>, %s: memref<2x64xf32>, %out: memref<1x64xf32>) {
  %w = q.weight_constant dense<17> : tensor<512xi8> -> !q.weight<16x64xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 8, symmetric = true>, vnni_k8n16>
  q.matmul %x, %w scales(%s) outs(%out) : (memref<1x16xf32>, !q.weight<16x64xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 8, symmetric = true>, vnni_k8n16>, memref<2x64xf32>, memref<1x64xf32>) -> ()
  return
}

// -----

// Constant group scales and zero points (entry arguments that
// qcc-externalize-weights recorded in qcc.weights) are copied column tile
// by column tile, group major, [tile][groups][blocks][16], the zero points
// as bytes: the GEMV's one tile of two blocks reads scales 1, 2 (group 0 of
// blocks 0 and 1), then 3, 4 (group 1), zero points 5, 6, 7, 8, as one run
// each, in the order its weights are read. The original arguments are no
// longer read.
// VNNI-LABEL: func @w4a8_asym_packed_constants
// VNNI-DAG: %[[PS:.+]] = memref.get_global @__qcc_kscale : memref<64xf32>
// VNNI-DAG: %[[PZ:.+]] = memref.get_global @__qcc_kzero : memref<64xi8>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI: vector.load %[[PS]][%{{.+}}] : memref<64xf32>, vector<16xf32>
// VNNI: %[[ZB:.+]] = vector.load %[[PZ]][%{{.+}}] : memref<64xi8>, vector<16xi8>
// VNNI: arith.extui %[[ZB]] : vector<16xi8> to vector<16xi32>
// VNNI-NOT: memref<2x32xi32>, vector<16xi32>
// VNNI: return
// VNNI-DAG: qcc_kscale: "0x040000000000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F000000400000004000000040000000400000004000000040000000400000004000000040000000400000004000000040000000400000004000000040000000400000404000004040000040400000404000004040000040400000404000004040000040400000404000004040000040400000404000004040000040400000404000008040000080400000804000008040000080400000804000008040000080400000804000008040000080400000804000008040000080400000804000008040"
// VNNI-DAG: qcc_kzero: "0x0100000005050505050505050505050505050505060606060606060606060606060606060707070707070707070707070707070708080808080808080808080808080808"
module attributes {qcc.weights = [{offset = 0 : i64, size = 256 : i64, value = dense<[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0], [3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0]]> : tensor<2x32xf32>}, {offset = 256 : i64, size = 256 : i64, value = dense<[[5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6], [7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8]]> : tensor<2x32xi32>}]} {
func.func @w4a8_asym_packed_constants(%s: memref<2x32xf32> {qcc.weight}, %z: memref<2x32xi32> {qcc.weight}, %x: memref<1x16xf32>, %out: memref<1x32xf32>) {
  %w = q.weight_constant dense<35> : tensor<256xi8> -> !q.weight<16x32xi4, #q.scheme<bits = 4, is_signed = false, granularity = per_group, axis = 0, group_size = 8, symmetric = false>, packed_k>
  q.matmul %x, %w scales(%s) zero_points(%z) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<1x16xf32>, !q.weight<16x32xi4, #q.scheme<bits = 4, is_signed = false, granularity = per_group, axis = 0, group_size = 8, symmetric = false>, packed_k>, memref<2x32xf32>, memref<2x32xi32>, memref<1x32xf32>) -> ()
  return
}
}

// -----

// A zero point outside 0..255 does not fit a byte: the kernel reads the
// argument as before.
// VNNI-LABEL: func @w4a8_asym_wide_zero_points
// VNNI-SAME: %[[Z:[a-z0-9]+]]: memref<2x16xi32>
// VNNI-NOT: memref.get_global @__qcc_kscale
// VNNI: vector.load %[[Z]][%{{.+}}, %{{.+}}] : memref<2x16xi32>, vector<16xi32>
module attributes {qcc.weights = [{offset = 0 : i64, size = 128 : i64, value = dense<1.0> : tensor<2x16xf32>}, {offset = 128 : i64, size = 128 : i64, value = dense<300> : tensor<2x16xi32>}]} {
func.func @w4a8_asym_wide_zero_points(%s: memref<2x16xf32> {qcc.weight}, %z: memref<2x16xi32> {qcc.weight}, %x: memref<1x16xf32>, %out: memref<1x16xf32>) {
  %w = q.weight_constant dense<35> : tensor<128xi8> -> !q.weight<16x16xi4, #q.scheme<bits = 4, is_signed = false, granularity = per_group, axis = 0, group_size = 8, symmetric = false>, packed_k>
  q.matmul %x, %w scales(%s) zero_points(%z) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<1x16xf32>, !q.weight<16x16xi4, #q.scheme<bits = 4, is_signed = false, granularity = per_group, axis = 0, group_size = 8, symmetric = false>, packed_k>, memref<2x16xf32>, memref<2x16xi32>, memref<1x16xf32>) -> ()
  return
}
}

// -----

// q.matmul overwrites its output: a fill of it right before, or a copy
// into it from a zero buffer (which then goes too), is dead on either path.
// A fill with a write in between stays.
// VNNI-LABEL: func @dead_output_init
// VNNI-NOT: linalg.fill
// VNNI-NOT: memref.copy
// VNNI-NOT: memref.alloc() {{.*}} : memref<2x16xf32>
// VNNI: linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : memref<2x16xf32>)
// VNNI-NEXT: memref.store %{{.+}}, %{{.+}}[%{{.+}}, %{{.+}}] : memref<2x16xf32>
// VNNI-NOT: linalg.fill
// VNNI: return
// PORTABLE-LABEL: func @dead_output_init
// PORTABLE-NOT: memref.copy
// PORTABLE: linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : memref<2x16xf32>)
// PORTABLE: linalg.matmul
// PORTABLE: linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : memref<2x16xf32>)
// PORTABLE: linalg.matmul
// PORTABLE: linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : memref<2x16xf32>)
// PORTABLE: memref.store
// PORTABLE: linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : memref<2x16xf32>)
// PORTABLE: linalg.matmul
func.func @dead_output_init(%x: memref<2x8xf32>, %s: memref<16xf32>, %out: memref<2x16xf32>, %out2: memref<2x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %i = arith.constant 1 : index
  %w = q.weight_constant dense<1> : tensor<128xi8> -> !q.weight<8x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>
  linalg.fill ins(%zero : f32) outs(%out : memref<2x16xf32>)
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<2x8xf32>, !q.weight<8x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>, memref<16xf32>, memref<2x16xf32>) -> ()
  %z = memref.alloc() {alignment = 64 : i64} : memref<2x16xf32>
  linalg.fill ins(%zero : f32) outs(%z : memref<2x16xf32>)
  memref.copy %z, %out2 : memref<2x16xf32> to memref<2x16xf32>
  q.matmul %x, %w scales(%s) outs(%out2) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<2x8xf32>, !q.weight<8x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>, memref<16xf32>, memref<2x16xf32>) -> ()
  memref.dealloc %z : memref<2x16xf32>
  linalg.fill ins(%zero : f32) outs(%out : memref<2x16xf32>)
  memref.store %zero, %out[%i, %i] : memref<2x16xf32>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<2x8xf32>, !q.weight<8x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>, memref<16xf32>, memref<2x16xf32>) -> ()
  return
}

// -----

// Activation quantization runs its rows in parallel from 16K values (2 x
// 8192); 2 x 4096 stays a serial loop.
// VNNI-LABEL: func @quantize_rows_parallel
// VNNI: scf.parallel
// VNNI: math.roundeven
// VNNI-LABEL: func @quantize_rows_serial
// VNNI-NOT: scf.parallel
// VNNI: math.roundeven
// VNNI: scf.parallel
func.func @quantize_rows_parallel(%x: memref<2x8192xf32>, %s: memref<16xf32>, %out: memref<2x16xf32>) {
  %w = q.weight_constant dense<1> : tensor<131072xi8> -> !q.weight<8192x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<2x8192xf32>, !q.weight<8192x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>, memref<16xf32>, memref<2x16xf32>) -> ()
  return
}
func.func @quantize_rows_serial(%x: memref<2x4096xf32>, %s: memref<16xf32>, %out: memref<2x16xf32>) {
  %w = q.weight_constant dense<1> : tensor<65536xi8> -> !q.weight<4096x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<2x4096xf32>, !q.weight<4096x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>, memref<16xf32>, memref<2x16xf32>) -> ()
  return
}

// -----

// The row's max |x| over whole vectors of 16 is an unsigned max of the bit
// patterns with the sign bit cleared (no NaN-handling float max chain), the
// K tail (20 = 16 + 4) a scalar float max.
// VNNI-LABEL: func @absmax_bits
// VNNI: %[[MASK:.+]] = arith.constant dense<2147483647> : vector<16xi32>
// VNNI: scf.for
// VNNI: %[[V:.+]] = vector.load %{{.+}} : memref<2x20xf32>, vector<16xf32>
// VNNI: %[[BITS:.+]] = vector.bitcast %[[V]] : vector<16xf32> to vector<16xi32>
// VNNI: %[[ABS:.+]] = arith.andi %[[BITS]], %[[MASK]] : vector<16xi32>
// VNNI: arith.maxui %[[ABS]], %{{.+}} : vector<16xi32>
// VNNI: %[[RED:.+]] = vector.reduction <maxui>, %{{.+}} : vector<16xi32> into i32
// VNNI: %[[MAX:.+]] = arith.bitcast %[[RED]] : i32 to f32
// VNNI: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%{{.+}} = %[[MAX]]) -> (f32)
// VNNI: math.absf %{{.+}} : f32
// VNNI: arith.maximumf %{{.+}} : f32
// VNNI-NOT: arith.maximumf %{{.+}} : vector<16xf32>
// VNNI: math.roundeven
func.func @absmax_bits(%x: memref<2x20xf32>, %s: memref<16xf32>, %out: memref<2x16xf32>) {
  %w = q.weight_constant dense<1> : tensor<320xi8> -> !q.weight<20x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<2x20xf32>, !q.weight<20x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>, memref<16xf32>, memref<2x16xf32>) -> ()
  return
}
