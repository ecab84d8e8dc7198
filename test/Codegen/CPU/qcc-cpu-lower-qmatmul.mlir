// RUN: qcc-opt %s -split-input-file -qcc-cpu-lower-qmatmul="parallel-min-fmas=0" | FileCheck %s --check-prefix=VNNI
// RUN: qcc-opt %s -split-input-file -qcc-cpu-lower-qmatmul="vnni=false" | FileCheck %s --check-prefix=PORTABLE

// int8 weights in vnni_k4n16 with dynamic activations: per-row quantization
// to u8, vpdpbusd over 16-column blocks (in parallel), shift correction and
// scales in fp32.
// The shift correction is 128 * (sum of the column's codes) = 128 * 8.
// VNNI-DAG: memref.global "private" constant @__qcc_qweight : memref<128xi8>
// VNNI-DAG: memref.global "private" constant @__qcc_qcorr : memref<1x16xi32> = dense<1024>
// VNNI-LABEL: func @w8a8
// VNNI-SAME: (%[[X:.+]]: memref<2x8xf32>, %[[S:.+]]: memref<16xf32>, %[[OUT:.+]]: memref<2x16xf32>)
// VNNI: %[[QX:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x8xi8>
// VNNI: math.roundeven
// VNNI: scf.parallel (%[[COL:.+]]) =
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI: vector.store %{{.+}}, %[[OUT]][%{{.+}}, %[[COL]]] : memref<2x16xf32>, vector<16xf32>
// VNNI: memref.dealloc %[[QX]]
// VNNI-NOT: q.matmul
// PORTABLE: memref.global "private" constant @__qcc_qcodes : memref<8x16xi8>
// PORTABLE-LABEL: func @w8a8
// PORTABLE-NOT: llvm.call_intrinsic
// PORTABLE: %[[DEQ:.+]] = memref.alloc() {alignment = 64 : i64} : memref<8x16xf32>
// PORTABLE: linalg.matmul ins(%{{.+}}, %[[DEQ]] : memref<2x8xf32>, memref<8x16xf32>)
func.func @w8a8(%x: memref<2x8xf32>, %s: memref<16xf32>, %out: memref<2x16xf32>) {
  %w = q.weight_constant dense<1> : tensor<128xi8> -> !q.weight<8x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<2x8xf32>, !q.weight<8x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>, memref<16xf32>, memref<2x16xf32>) -> ()
  return
}

// -----

// int4 groups: two vpdpbusd per 64 weight bytes (low and high nibbles).
// VNNI-LABEL: func @w4a8
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI: arith.shrui
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
func.func @w4a8(%x: memref<1x16xf32>, %s: memref<2x16xf32>, %out: memref<1x16xf32>) {
  %w = q.weight_constant dense<17> : tensor<128xi8> -> !q.weight<16x16xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 8, symmetric = true>, vnni_k8n16>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<1x16xf32>, !q.weight<16x16xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 8, symmetric = true>, vnni_k8n16>, memref<2x16xf32>, memref<1x16xf32>) -> ()
  return
}
