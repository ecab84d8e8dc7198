// RUN: qcc-opt %s -split-input-file -qcc-gpu-lower-qmatmul | FileCheck %s

// int8 per-channel weights, float activations: the bytes become a constant
// global viewed as [K, N]; one generic decodes and accumulates.
// CHECK-DAG: #[[X:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[W:.+]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[S:.+]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK: memref.global "private" constant @__qcc_gpu_qweight : memref<128xi8> = dense<3>
// CHECK-LABEL: func @int8_weight_only
// CHECK: %[[G:.+]] = memref.get_global @__qcc_gpu_qweight : memref<128xi8>
// CHECK: %[[C:.+]] = memref.expand_shape %[[G]] {{\[\[}}0, 1]] output_shape [8, 16] : memref<128xi8> into memref<8x16xi8>
// CHECK: linalg.fill
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[S]], #{{.+}}], iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.+}}, %[[C]], %{{.+}} : memref<2x8xf32>, memref<8x16xi8>, memref<16xf32>)
// CHECK: arith.sitofp %{{.+}} : i8 to f32
// CHECK-NOT: q.matmul
// CHECK-NOT: q.weight_constant
func.func @int8_weight_only(%x: memref<2x8xf32>, %s: memref<16xf32>, %out: memref<2x16xf32>) {
  %w = q.weight_constant dense<3> : tensor<128xi8> -> !q.weight<8x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  q.matmul %x, %w scales(%s) outs(%out) : (memref<2x8xf32>, !q.weight<8x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, memref<16xf32>, memref<2x16xf32>) -> ()
  return
}

// -----

// int4 groups of 4 with zero points, per-token int8 activations and a bias;
// a 3-D input is collapsed to rows.
// CHECK-DAG: #[[W4:.+]] = affine_map<(d0, d1, d2) -> (d2 floordiv 2, d1)>
// CHECK-DAG: #[[G4:.+]] = affine_map<(d0, d1, d2) -> (d2 floordiv 4, d1)>
// CHECK-LABEL: func @int4_asym_dynamic
// CHECK: memref.collapse_shape %{{.+}} {{\[\[}}0, 1], [2]] : memref<1x3x8xf32> into memref<3x8xf32>
// CHECK: memref.expand_shape %{{.+}} output_shape [4, 16] : memref<64xi8> into memref<4x16xi8>
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "reduction"]
// CHECK: math.absf
// CHECK: arith.maximumf
// CHECK: linalg.generic
// CHECK: math.roundeven
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[W4]], #[[G4]], #[[G4]], #{{.+}}]
// CHECK: linalg.index 2
// CHECK: arith.shrui
// CHECK: arith.andi
// CHECK-NOT: arith.xori
// CHECK: arith.subf
// CHECK: linalg.generic
// CHECK: arith.addf
func.func @int4_asym_dynamic(%x: memref<1x3x8xf32>, %s: memref<2x16xf32>, %z: memref<2x16xi32>, %bias: memref<16xf32>, %out: memref<1x3x16xf32>) {
  %w = q.weight_constant dense<17> : tensor<64xi8> -> !q.weight<8x16xi4, #q.scheme<bits = 4, is_signed = false, granularity = per_group, axis = 0, group_size = 4, symmetric = false>, packed_k>
  q.matmul %x, %w scales(%s) zero_points(%z) bias(%bias) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<1x3x8xf32>, !q.weight<8x16xi4, #q.scheme<bits = 4, is_signed = false, granularity = per_group, axis = 0, group_size = 4, symmetric = false>, packed_k>, memref<2x16xf32>, memref<2x16xi32>, memref<16xf32>, memref<1x3x16xf32>) -> ()
  return
}

// -----

// Signed 4-bit codes are sign-extended from the nibble.
// CHECK-LABEL: func @int4_sym
// CHECK: arith.xori
// CHECK: arith.subi
func.func @int4_sym(%x: memref<1x8xf32>, %s: memref<1x16xf32>, %out: memref<1x16xf32>) {
  %w = q.weight_constant dense<-7> : tensor<64xi8> -> !q.weight<8x16xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 8, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<1x8xf32>, !q.weight<8x16xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 8, symmetric = true>, packed_k>, memref<1x16xf32>, memref<1x16xf32>) -> ()
  return
}

// -----

// W4A16 GEMV: one row, signed int4 groups of 32, constant scales. The codes
// are repacked per column into 16-byte chunks of 32 K values stored
// unsigned (0xF9 -> nibbles 9, 15 -> 1, 7: every byte 0x71), the group
// parameters into (scale, 2^23 + 8) pairs; one launch of 1 block of 2 warps
// (4 columns each) reads them with 128-bit invariant loads and sums over
// the warp.
// CHECK-DAG: memref.global "private" constant @__qcc_gpu_gemv_codes : memref<256xi8> = dense<113>
// CHECK-DAG: memref.global "private" constant @__qcc_gpu_gemv_params : memref<32xf32> = dense<[5.000000e-01, 0x4B000008,
// CHECK-LABEL: func @gemv_sym
// CHECK-NOT: linalg.generic
// CHECK: %[[W:.+]] = memref.get_global @__qcc_gpu_gemv_codes
// CHECK: %[[P:.+]] = memref.get_global @__qcc_gpu_gemv_params
// CHECK: gpu.launch blocks({{.+}}) in ({{.+}} = %c1{{.*}}, {{.+}}) threads({{.+}}) in ({{.+}} = %c64
// CHECK: memref.extract_aligned_pointer_as_index %[[W]]
// CHECK: scf.for
// CHECK: llvm.load {{.+}} invariant {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xi32>
// CHECK: llvm.load {{.+}} invariant {alignment = 8 : i64} : !llvm.ptr<1> -> vector<2xf32>
// CHECK: arith.ori {{.+}}, %{{.+}} : i32
// CHECK: arith.bitcast {{.+}} : i32 to f32
// CHECK: llvm.intr.fma
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: memref.store
// CHECK-NOT: q.matmul
func.func @gemv_sym(%x: memref<1x64xf32>, %out: memref<1x8xf32>) {
  %s = memref.get_global @gemv_scales : memref<2x8xf32>
  %w = q.weight_constant dense<-7> : tensor<256xi8> -> !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<1x64xf32>, !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>, memref<2x8xf32>, memref<1x8xf32>) -> ()
  return
}
memref.global "private" constant @gemv_scales : memref<2x8xf32> = dense<0.5>

// -----

// Three rows, unsigned codes with zero points (2^23 + z), a bias, and 3
// chunks per column (fewer than a warp's lanes): out-of-range lanes skip.
// CHECK-DAG: memref.global "private" constant @__qcc_gpu_gemv_params : memref<24xf32> = dense<[2.500000e-01, 0x4B000003,
// CHECK-LABEL: func @gemv_asym_bias
// CHECK: gpu.launch
// CHECK: scf.for
// CHECK: arith.cmpi ult
// CHECK: scf.if
// CHECK: gpu.shuffle  xor
// CHECK: memref.load %{{.+}}[%{{.+}}] : memref<4xf32>
// CHECK-COUNT-12: memref.store
func.func @gemv_asym_bias(%x: memref<3x96xf32>, %bias: memref<4xf32>, %out: memref<3x4xf32>) {
  %s = memref.get_global @asym_scales : memref<3x4xf32>
  %z = memref.get_global @asym_zeros : memref<3x4xi32>
  %w = q.weight_constant dense<17> : tensor<192xi8> -> !q.weight<96x4xi4, #q.scheme<bits = 4, is_signed = false, granularity = per_group, axis = 0, group_size = 32, symmetric = false>, packed_k>
  q.matmul %x, %w scales(%s) zero_points(%z) bias(%bias) outs(%out) {act_quant = #q.act_quant<none>} : (memref<3x96xf32>, !q.weight<96x4xi4, #q.scheme<bits = 4, is_signed = false, granularity = per_group, axis = 0, group_size = 32, symmetric = false>, packed_k>, memref<3x4xf32>, memref<3x4xi32>, memref<4xf32>, memref<3x4xf32>) -> ()
  return
}
memref.global "private" constant @asym_scales : memref<3x4xf32> = dense<0.25>
memref.global "private" constant @asym_zeros : memref<3x4xi32> = dense<3>

// -----

// Nine rows, or scales that are not constants, keep the generic kernel.
// CHECK-LABEL: func @gemv_too_many_rows
// CHECK-NOT: gpu.launch
// CHECK: linalg.generic
func.func @gemv_too_many_rows(%x: memref<9x64xf32>, %out: memref<9x8xf32>) {
  %s = memref.get_global @rows_scales : memref<2x8xf32>
  %w = q.weight_constant dense<-7> : tensor<256xi8> -> !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<9x64xf32>, !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>, memref<2x8xf32>, memref<9x8xf32>) -> ()
  return
}
memref.global "private" constant @rows_scales : memref<2x8xf32> = dense<0.5>
