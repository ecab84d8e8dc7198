// RUN: qcc-opt %s -split-input-file -qcc-gpu-lower-qmatmul --mlir-elide-elementsattrs-if-larger=100000 | FileCheck %s
// RUN: qcc-opt %s -split-input-file -qcc-gpu-lower-qmatmul='gemv-tiles=2 gemv-warps=4 gemv-unroll=1' --mlir-elide-elementsattrs-if-larger=100000 | FileCheck %s --check-prefix=SHAPE
// RUN: qcc-opt %s -split-input-file -qcc-gpu-lower-qmatmul='gemv-unroll=1' --mlir-elide-elementsattrs-if-larger=100000 | FileCheck %s --check-prefix=WAVE

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
// are repacked into mma A fragments (0xF9 -> nibbles 9, 15 -> unsigned 1, 7;
// lane words 0x07010701, the padded columns 8-15 are 0), the group
// parameters into f16 (scale * 2^15, 0: padded) and (1024 + 8, 64 + 0)
// pairs; one block of 1 warp (K = 64 is one step) loads the step's 128-bit
// code chunks, then copies the float4 activations as f16 into shared memory
// (one row of 2 x 64 + 64 bytes) and syncs the warp; the step loads f16
// parameter pairs and its activation tile pairs from shared memory, decodes
// with bit operations and one f16x2 subtraction, multiplies on the tensor
// cores, scales in f32 and writes the output through shared memory; the
// output's zero fill is gone.
// CHECK-DAG: memref.global "private" constant @__qcc_gpu_gemv_params : memref<128xi8> = dense<"0x0074000008640054
// CHECK-DAG: memref.global "private" constant @__qcc_gpu_gemv_codes : memref<512xi8> = dense<"0x01010707
// CHECK-LABEL: func @gemv_sym
// CHECK-NOT: linalg.fill
// CHECK-NOT: linalg.generic
// CHECK: %[[W:.+]] = memref.get_global @__qcc_gpu_gemv_codes
// CHECK: %[[P:.+]] = memref.get_global @__qcc_gpu_gemv_params
// CHECK: gpu.launch blocks({{.+}}) in ({{.+}} = %c1{{.*}}, {{.+}}) threads({{.+}}) in ({{.+}} = %c32{{.*}}, {{.+}}) workgroup(%[[BUF:.+]] : memref<128xf32, #gpu.address_space<workgroup>>, %[[ACT:.+]] : memref<192xi8, #gpu.address_space<workgroup>>)
// CHECK: memref.extract_aligned_pointer_as_index %[[W]]
// CHECK: llvm.load {{.+}} invariant {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xi32>
// CHECK: memref.extract_aligned_pointer_as_index %[[ACT]]
// CHECK: llvm.load {{.+}} {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xf32>
// CHECK: arith.truncf {{.+}} : vector<4xf32> to vector<4xf16>
// CHECK: llvm.store {{.+}} {alignment = 8 : i64} : vector<2xi32>, !llvm.ptr<3>
// CHECK: nvvm.bar.warp.sync
// CHECK: scf.for
// CHECK: llvm.load {{.+}} invariant {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xi32>
// CHECK: llvm.load {{.+}} invariant {alignment = 8 : i64} : !llvm.ptr<1> -> vector<2xi32>
// CHECK-NOT: vector<4xf32>
// CHECK: llvm.load {{.+}} {alignment = 16 : i64} : !llvm.ptr<3> -> vector<4xi32>
// CHECK: arith.select
// CHECK: arith.ori {{.+}} : i32
// CHECK: llvm.bitcast {{.+}} : i32 to vector<2xf16>
// CHECK: arith.subf {{.+}} : vector<2xf16>
// CHECK: nvvm.mma.sync A[{{.+}}] B[{{.+}}] C[{{.+}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK: llvm.intr.fma
// CHECK: scf.yield
// CHECK: memref.store {{.+}}, %[[BUF]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[BUF]]
// CHECK: arith.mulf
// CHECK: memref.store
// CHECK-NOT: q.matmul
func.func @gemv_sym(%x: memref<1x64xf32>, %out: memref<1x8xf32>) {
  %s = memref.get_global @gemv_scales : memref<2x8xf32>
  %w = q.weight_constant dense<-7> : tensor<256xi8> -> !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<1x8xf32>)
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<1x64xf32>, !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>, memref<2x8xf32>, memref<1x8xf32>) -> ()
  return
}
memref.global "private" constant @gemv_scales : memref<2x8xf32> = dense<0.5>

// -----

// Two GEMVs whose outputs bufferization filled once, before both (SwiGLU's
// gate and up projections): the fill of the second one's output is dead
// past the first GEMV, which does not touch that buffer, and goes; the fill
// of a buffer a kernel reads in between stays.
// CHECK-LABEL: func @gemv_fill_past_other_gemv
// CHECK: %[[A:.+]] = memref.alloc() {{.*}}: memref<1x8xf32>
// CHECK-NEXT: %[[B:.+]] = memref.alloc() {{.*}}: memref<1x8xf32>
// CHECK-NOT: linalg.fill
// CHECK: gpu.launch
// CHECK: gpu.launch
// CHECK-LABEL: func @gemv_fill_read_between
// CHECK: %[[A:.+]] = memref.alloc() {{.*}}: memref<1x8xf32>
// CHECK-NEXT: linalg.fill ins(%{{.+}} : f32) outs(%[[A]] : memref<1x8xf32>)
// CHECK: linalg.copy ins(%[[A]] : memref<1x8xf32>)
// CHECK: gpu.launch
func.func @gemv_fill_past_other_gemv(%x: memref<1x64xf32>, %o1: memref<1x8xf32>, %o2: memref<1x8xf32>) {
  %s = memref.get_global @gemv_fill_scales : memref<2x8xf32>
  %w = q.weight_constant dense<-7> : tensor<256xi8> -> !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>
  %zero = arith.constant 0.0 : f32
  %a = memref.alloc() {alignment = 64 : i64} : memref<1x8xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<1x8xf32>
  linalg.fill ins(%zero : f32) outs(%a : memref<1x8xf32>)
  q.matmul %x, %w scales(%s) outs(%b) {act_quant = #q.act_quant<none>} : (memref<1x64xf32>, !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>, memref<2x8xf32>, memref<1x8xf32>) -> ()
  q.matmul %x, %w scales(%s) outs(%a) {act_quant = #q.act_quant<none>} : (memref<1x64xf32>, !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>, memref<2x8xf32>, memref<1x8xf32>) -> ()
  memref.copy %a, %o1 : memref<1x8xf32> to memref<1x8xf32>
  memref.copy %b, %o2 : memref<1x8xf32> to memref<1x8xf32>
  return
}
func.func @gemv_fill_read_between(%x: memref<1x64xf32>, %o1: memref<1x8xf32>, %o2: memref<1x8xf32>) {
  %s = memref.get_global @gemv_fill_scales : memref<2x8xf32>
  %w = q.weight_constant dense<-7> : tensor<256xi8> -> !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>
  %zero = arith.constant 0.0 : f32
  %a = memref.alloc() {alignment = 64 : i64} : memref<1x8xf32>
  linalg.fill ins(%zero : f32) outs(%a : memref<1x8xf32>)
  linalg.copy ins(%a : memref<1x8xf32>) outs(%o2 : memref<1x8xf32>)
  q.matmul %x, %w scales(%s) outs(%a) {act_quant = #q.act_quant<none>} : (memref<1x64xf32>, !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>, memref<2x8xf32>, memref<1x8xf32>) -> ()
  memref.copy %a, %o1 : memref<1x8xf32> to memref<1x8xf32>
  return
}
memref.global "private" constant @gemv_fill_scales : memref<2x8xf32> = dense<0.5>

// -----

// A transformer block's residual add right after the GEMV: the epilogue
// adds the residual and writes the sum's buffer (its allocation moves up);
// the add and the fill go. Kept apart when the matmul's output is read
// after the add.
// CHECK-LABEL: func @gemv_residual
// CHECK: %[[R:.+]] = memref.alloc() {{.*}}: memref<1x1x8xf32>
// CHECK: %[[SUM:.+]] = memref.alloc() {{.*}}: memref<1x1x8xf32>
// CHECK-DAG: %[[RV:.+]] = memref.collapse_shape %[[R]] {{\[}}[0, 1], [2]]
// CHECK-DAG: %[[SV:.+]] = memref.collapse_shape %[[SUM]] {{\[}}[0, 1], [2]]
// CHECK-NOT: linalg.fill
// CHECK: gpu.launch
// CHECK: %[[V:.+]] = memref.load %[[RV]]
// CHECK-NEXT: %[[A:.+]] = arith.addf %[[V]], %{{.+}} : f32
// CHECK-NEXT: memref.store %[[A]], %[[SV]]
// CHECK-NOT: linalg.generic
// CHECK: memref.copy %[[SUM]], %arg2
// CHECK-LABEL: func @gemv_residual_output_read
// CHECK: gpu.launch
// CHECK: linalg.generic
// CHECK: memref.copy %{{.+}}, %arg3
#res_map = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @gemv_residual(%x: memref<1x64xf32>, %res: memref<1x1x8xf32>, %y: memref<1x1x8xf32>) {
  %s = memref.get_global @res_scales : memref<2x8xf32>
  %w = q.weight_constant dense<-7> : tensor<256xi8> -> !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>
  %zero = arith.constant 0.0 : f32
  %r = memref.alloc() {alignment = 64 : i64} : memref<1x1x8xf32>
  memref.copy %res, %r : memref<1x1x8xf32> to memref<1x1x8xf32>
  %o = memref.alloc() {alignment = 64 : i64} : memref<1x8xf32>
  linalg.fill ins(%zero : f32) outs(%o : memref<1x8xf32>)
  q.matmul %x, %w scales(%s) outs(%o) {act_quant = #q.act_quant<none>} : (memref<1x64xf32>, !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>, memref<2x8xf32>, memref<1x8xf32>) -> ()
  %e = memref.expand_shape %o [[0], [1, 2]] output_shape [1, 1, 8] : memref<1x8xf32> into memref<1x1x8xf32>
  %sum = memref.alloc() {alignment = 64 : i64} : memref<1x1x8xf32>
  linalg.generic {indexing_maps = [#res_map, #res_map, #res_map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%r, %e : memref<1x1x8xf32>, memref<1x1x8xf32>) outs(%sum : memref<1x1x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %a = arith.addf %in, %in_1 : f32
    linalg.yield %a : f32
  }
  memref.copy %sum, %y : memref<1x1x8xf32> to memref<1x1x8xf32>
  return
}
func.func @gemv_residual_output_read(%x: memref<1x64xf32>, %res: memref<1x1x8xf32>, %y: memref<1x1x8xf32>, %z: memref<1x8xf32>) {
  %s = memref.get_global @res_scales : memref<2x8xf32>
  %w = q.weight_constant dense<-7> : tensor<256xi8> -> !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>
  %r = memref.alloc() {alignment = 64 : i64} : memref<1x1x8xf32>
  memref.copy %res, %r : memref<1x1x8xf32> to memref<1x1x8xf32>
  %o = memref.alloc() {alignment = 64 : i64} : memref<1x8xf32>
  q.matmul %x, %w scales(%s) outs(%o) {act_quant = #q.act_quant<none>} : (memref<1x64xf32>, !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>, memref<2x8xf32>, memref<1x8xf32>) -> ()
  %e = memref.expand_shape %o [[0], [1, 2]] output_shape [1, 1, 8] : memref<1x8xf32> into memref<1x1x8xf32>
  %sum = memref.alloc() {alignment = 64 : i64} : memref<1x1x8xf32>
  linalg.generic {indexing_maps = [#res_map, #res_map, #res_map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%r, %e : memref<1x1x8xf32>, memref<1x1x8xf32>) outs(%sum : memref<1x1x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %a = arith.addf %in, %in_1 : f32
    linalg.yield %a : f32
  }
  memref.copy %sum, %y : memref<1x1x8xf32> to memref<1x1x8xf32>
  memref.copy %o, %z : memref<1x8xf32> to memref<1x8xf32>
  return
}
memref.global "private" constant @res_scales : memref<2x8xf32> = dense<0.5>

// -----

// Twelve rows (two mmas per tile: rows 12-15 read as 0), unsigned codes
// with zero points, a bias, 20 columns (two tiles, padded to 32, both in
// one warp above 8 rows), K = 256 in groups of 32: the default 2 code loads
// per tile and step make 2 steps of 128 K (4 groups each), one per warp,
// 8 K tiles x 2 column tiles x 2 row tiles = 32 mmas per step; the
// activations (12 rows of 2 x 256 + 64 bytes) come from shared memory, one
// 128-bit load per 2 K tiles and row tile; only rows < 12 and columns < 20
// are written.
// CHECK-LABEL: func @gemv_asym_bias
// CHECK: gpu.launch blocks({{.+}}) in ({{.+}} = %c1{{.*}}, {{.+}}) threads({{.+}}) in ({{.+}} = %c64{{.*}}, {{.+}}) workgroup({{.+}} : memref<1024xf32, #gpu.address_space<workgroup>>, {{.+}} : memref<6912xi8, #gpu.address_space<workgroup>>)
// CHECK: arith.cmpi ult, %{{.+}}, %c12_i64
// CHECK: nvvm.bar.warp.sync
// CHECK: scf.for
// CHECK-COUNT-4: llvm.load {{.+}} !llvm.ptr<1> -> vector<4xi32>
// CHECK-COUNT-8: llvm.load {{.+}} -> vector<2xi32>
// CHECK-COUNT-8: llvm.load {{.+}} !llvm.ptr<3> -> vector<4xi32>
// CHECK-COUNT-32: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: gpu.barrier
// CHECK: memref.load %{{.+}}[%{{.+}}] : memref<20xf32>
// CHECK: memref.store %{{.+}}, %{{.+}}[%{{.+}}, %{{.+}}] : memref<12x20xf32>
func.func @gemv_asym_bias(%x: memref<12x256xf32>, %bias: memref<20xf32>, %out: memref<12x20xf32>) {
  %s = memref.get_global @asym_scales : memref<8x20xf32>
  %z = memref.get_global @asym_zeros : memref<8x20xi32>
  %w = q.weight_constant dense<17> : tensor<2560xi8> -> !q.weight<256x20xi4, #q.scheme<bits = 4, is_signed = false, granularity = per_group, axis = 0, group_size = 32, symmetric = false>, packed_k>
  q.matmul %x, %w scales(%s) zero_points(%z) bias(%bias) outs(%out) {act_quant = #q.act_quant<none>} : (memref<12x256xf32>, !q.weight<256x20xi4, #q.scheme<bits = 4, is_signed = false, granularity = per_group, axis = 0, group_size = 32, symmetric = false>, packed_k>, memref<8x20xf32>, memref<8x20xi32>, memref<20xf32>, memref<12x20xf32>) -> ()
  return
}
memref.global "private" constant @asym_scales : memref<8x20xf32> = dense<0.25>
memref.global "private" constant @asym_zeros : memref<8x20xi32> = dense<3>

// -----

// The launch shape options: 2 tiles per warp, 4 warps, 1 code load (64 K,
// one group) per step: 64 columns are 2 blocks of 4 warps, each warp one
// of the 4 steps over K = 256.
// SHAPE-LABEL: func @gemv_shape
// SHAPE: gpu.launch blocks({{.+}}) in ({{.+}} = %c2{{.*}}, {{.+}}) threads({{.+}}) in ({{.+}} = %c128{{.*}}, {{.+}}) workgroup({{.+}} : memref<1024xf32, #gpu.address_space<workgroup>>, {{.+}} : memref<1152xi8, #gpu.address_space<workgroup>>)
// SHAPE: scf.for
// SHAPE-COUNT-2: llvm.load {{.+}} !llvm.ptr<1> -> vector<4xi32>
// SHAPE-NOT: llvm.load {{.+}} !llvm.ptr<1> -> vector<4xi32>
// SHAPE: scf.yield
func.func @gemv_shape(%x: memref<2x256xf32>, %out: memref<2x64xf32>) {
  %s = memref.get_global @shape_scales : memref<4x64xf32>
  %w = q.weight_constant dense<-7> : tensor<8192xi8> -> !q.weight<256x64xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 64, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<2x256xf32>, !q.weight<256x64xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 64, symmetric = true>, packed_k>, memref<4x64xf32>, memref<2x64xf32>) -> ()
  return
}
memref.global "private" constant @shape_scales : memref<4x64xf32> = dense<0.5>

// -----

// One row and 8464 columns: 529 blocks of one column tile. With 8 warps
// (32 per SM at 52-64 registers) they would not all be resident on 132 SMs
// (4224 warps), so the blocks get 4 warps, each 2 of the 8 steps (one code
// load of 64 K per step with gemv-unroll=1); 528 blocks keep 8 warps.
// WAVE-LABEL: func @gemv_one_wave
// WAVE: gpu.launch blocks({{.+}}) in ({{.+}} = %c529{{.*}}, {{.+}}) threads({{.+}}) in ({{.+}} = %c128{{.*}}, {{.+}})
// WAVE-LABEL: func @gemv_fits
// WAVE: gpu.launch blocks({{.+}}) in ({{.+}} = %c528{{.*}}, {{.+}}) threads({{.+}}) in ({{.+}} = %c256{{.*}}, {{.+}})
func.func @gemv_one_wave(%x: memref<1x512xf32>, %out: memref<1x8464xf32>) {
  %s = memref.get_global @wave_scales : memref<8x8464xf32>
  %w = q.weight_constant dense<-7> : tensor<2166784xi8> -> !q.weight<512x8464xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 64, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<1x512xf32>, !q.weight<512x8464xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 64, symmetric = true>, packed_k>, memref<8x8464xf32>, memref<1x8464xf32>) -> ()
  return
}
memref.global "private" constant @wave_scales : memref<8x8464xf32> = dense<0.5>
func.func @gemv_fits(%x: memref<1x512xf32>, %out: memref<1x8448xf32>) {
  %s = memref.get_global @fits_scales : memref<8x8448xf32>
  %w = q.weight_constant dense<-7> : tensor<2162688xi8> -> !q.weight<512x8448xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 64, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<1x512xf32>, !q.weight<512x8448xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 64, symmetric = true>, packed_k>, memref<8x8448xf32>, memref<1x8448xf32>) -> ()
  return
}
memref.global "private" constant @fits_scales : memref<8x8448xf32> = dense<0.5>

// -----

// One row and 8480 columns (530 tiles): blocks of one tile and 8 warps would
// not all be resident (4240 > 4224 warps) but blocks of two tiles would, so
// by default each warp takes two column tiles (2 code loads per step):
// 265 blocks, of 4 warps here since K = 512 is 4 steps of 128.
// CHECK-LABEL: func @gemv_tile_pairs
// CHECK: gpu.launch blocks({{.+}}) in ({{.+}} = %c265{{.*}}, {{.+}}) threads({{.+}}) in ({{.+}} = %c128{{.*}}, {{.+}})
func.func @gemv_tile_pairs(%x: memref<1x512xf32>, %out: memref<1x8480xf32>) {
  %s = memref.get_global @pairs_scales : memref<8x8480xf32>
  %w = q.weight_constant dense<-7> : tensor<2170880xi8> -> !q.weight<512x8480xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 64, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<1x512xf32>, !q.weight<512x8480xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 64, symmetric = true>, packed_k>, memref<8x8480xf32>, memref<1x8480xf32>) -> ()
  return
}
memref.global "private" constant @pairs_scales : memref<8x8480xf32> = dense<0.5>

// -----

// Four rows: by default two column tiles per warp (32 columns: one block)
// and 2 code loads per tile and step (128 K: 2 steps, one per warp).
// CHECK-LABEL: func @gemv_four_rows
// CHECK: gpu.launch blocks({{.+}}) in ({{.+}} = %c1{{.*}}, {{.+}}) threads({{.+}}) in ({{.+}} = %c64{{.*}}, {{.+}})
// CHECK: scf.for
// CHECK-COUNT-4: llvm.load {{.+}} !llvm.ptr<1> -> vector<4xi32>
// CHECK-NOT: llvm.load {{.+}} !llvm.ptr<1> -> vector<4xi32>
// CHECK: scf.yield
func.func @gemv_four_rows(%x: memref<4x256xf32>, %out: memref<4x32xf32>) {
  %s = memref.get_global @four_scales : memref<4x32xf32>
  %w = q.weight_constant dense<-7> : tensor<4096xi8> -> !q.weight<256x32xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 64, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<4x256xf32>, !q.weight<256x32xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 64, symmetric = true>, packed_k>, memref<4x32xf32>, memref<4x32xf32>) -> ()
  return
}
memref.global "private" constant @four_scales : memref<4x32xf32> = dense<0.5>

// -----

// Eight rows of K = 4096 (8 x 8256 bytes of f16 rows) exceed the 48 KB of
// static shared memory: the steps load their float4 activations from
// global memory (one per K tile: 8 per step of 128 K, the default 2 code
// loads above 2 rows) and nothing is staged.
// CHECK-LABEL: func @gemv_global_activations
// CHECK: gpu.launch {{.+}} workgroup({{.+}} : memref<1024xf32, #gpu.address_space<workgroup>>) {
// CHECK-NOT: nvvm.bar.warp.sync
// CHECK: scf.for
// CHECK-COUNT-8: llvm.load {{.+}} : !llvm.ptr<1> -> vector<4xf32>
// CHECK-NOT: llvm.load {{.+}} : !llvm.ptr<1> -> vector<4xf32>
// CHECK-NOT: !llvm.ptr<3>
// CHECK: scf.yield
func.func @gemv_global_activations(%x: memref<8x4096xf32>, %out: memref<8x16xf32>) {
  %s = memref.get_global @global_scales : memref<32x16xf32>
  %w = q.weight_constant dense<-7> : tensor<32768xi8> -> !q.weight<4096x16xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 128, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<8x4096xf32>, !q.weight<4096x16xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 128, symmetric = true>, packed_k>, memref<32x16xf32>, memref<8x16xf32>) -> ()
  return
}
memref.global "private" constant @global_scales : memref<32x16xf32> = dense<0.5>

// -----

// Sixteen rows (two row tiles) with global activations, 1 block: a step
// loads the next step's codes first, then the step's 16 float4 activations
// at once (a kernel that needs at most 2 blocks per SM has room for its 98
// registers; 16x8192x8192 is 256 blocks).
// CHECK-LABEL: func @gemv_sixteen_rows
// CHECK: gpu.launch {{.+}} workgroup(%{{[^ ]+}} : memref<{{[0-9]+}}xf32, #gpu.address_space<workgroup>>) {
// CHECK: scf.for
// CHECK-COUNT-2: llvm.load {{.+}} !llvm.ptr<1> -> vector<4xi32>
// CHECK-COUNT-16: llvm.load {{.+}} : !llvm.ptr<1> -> vector<4xf32>
// CHECK-NOT: -> vector<4xf32>
// CHECK-COUNT-16: nvvm.mma.sync
// CHECK-NOT: -> vector<4x
// CHECK: scf.yield
func.func @gemv_sixteen_rows(%x: memref<16x4096xf32>, %out: memref<16x16xf32>) {
  %s = memref.get_global @sixteen_scales : memref<32x16xf32>
  %w = q.weight_constant dense<-7> : tensor<32768xi8> -> !q.weight<4096x16xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 128, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<16x4096xf32>, !q.weight<4096x16xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 128, symmetric = true>, packed_k>, memref<32x16xf32>, memref<16x16xf32>) -> ()
  return
}
memref.global "private" constant @sixteen_scales : memref<32x16xf32> = dense<0.5>
// Sixteen rows x 12800 columns: 400 blocks of 8 warps need 4 per SM (no
// cap, which is for 3): the step loads the float4 activations of 4 K tiles
// (x 2 row tiles) just before their 16 mmas, twice per 128-K step, so that
// fewer registers hold loaded activations (98 -> 80 registers on sm_90, 3
// blocks of 8 warps per SM instead of 2).
// CHECK-LABEL: func @gemv_sixteen_rows_chunked
// CHECK: gpu.launch blocks({{.+}}) in ({{.+}} = %c400{{.*}}, {{.+}})
// CHECK: scf.for
// CHECK-COUNT-4: llvm.load {{.+}} !llvm.ptr<1> -> vector<4xi32>
// CHECK-COUNT-8: llvm.load {{.+}} : !llvm.ptr<1> -> vector<4xf32>
// CHECK-NOT: -> vector<4xf32>
// CHECK-COUNT-16: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK-COUNT-8: llvm.load {{.+}} : !llvm.ptr<1> -> vector<4xf32>
// CHECK-NOT: -> vector<4xf32>
// CHECK-COUNT-16: nvvm.mma.sync
// CHECK-NOT: -> vector<4x
// CHECK: scf.yield
// CHECK-NOT: qcc.kernel_attrs
// CHECK: return
func.func @gemv_sixteen_rows_chunked(%x: memref<16x1024xf32>, %out: memref<16x12800xf32>) {
  %s = memref.get_global @chunked_scales : memref<8x12800xf32>
  %w = q.weight_constant dense<-7> : tensor<6553600xi8> -> !q.weight<1024x12800xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 128, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<16x1024xf32>, !q.weight<1024x12800xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 128, symmetric = true>, packed_k>, memref<8x12800xf32>, memref<16x12800xf32>) -> ()
  return
}
memref.global "private" constant @chunked_scales : memref<8x12800xf32> = dense<0.5>
// CHECK-LABEL: func @gemv_fifteen_rows
// CHECK: scf.for
// CHECK-COUNT-16: llvm.load {{.+}} : !llvm.ptr<1> -> vector<4xf32>
// CHECK-NOT: -> vector<4xf32>
// CHECK: nvvm.mma.sync
// CHECK: scf.yield
func.func @gemv_fifteen_rows(%x: memref<15x4096xf32>, %out: memref<15x16xf32>) {
  %s = memref.get_global @sixteen_scales : memref<32x16xf32>
  %w = q.weight_constant dense<-7> : tensor<32768xi8> -> !q.weight<4096x16xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 128, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<15x4096xf32>, !q.weight<4096x16xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 128, symmetric = true>, packed_k>, memref<32x16xf32>, memref<15x16xf32>) -> ()
  return
}

// -----

// 16 rows x 8480 columns: 265 blocks of two column tiles and 8 warps need 3
// blocks per SM for one wave on 132 SMs, which the kernel's 96-98
// registers (9-16 rows) do not allow: the launch asks qcc-gpu-outline-kernels
// for a cap of 80 registers, and the 16-row step then loads its 16 float4s
// at once. 9 rows x 8448 columns (264 blocks, 2 per SM) get no cap.
// CHECK-LABEL: func @gemv_register_cap
// CHECK: gpu.launch blocks({{.+}}) in ({{.+}} = %c265{{.*}}, {{.+}}) threads({{.+}}) in ({{.+}} = %c256{{.*}}, {{.+}})
// CHECK: scf.for
// CHECK-COUNT-16: llvm.load {{.+}} : !llvm.ptr<1> -> vector<4xf32>
// CHECK-NOT: -> vector<4xf32>
// CHECK: nvvm.mma.sync
// CHECK: scf.yield
// CHECK: } {qcc.kernel_attrs = {nvvm.maxnreg = 80 : i32}}
// CHECK-LABEL: func @gemv_no_register_cap
// CHECK: gpu.launch blocks({{.+}}) in ({{.+}} = %c264{{.*}}, {{.+}})
// CHECK-NOT: qcc.kernel_attrs
// CHECK: return
func.func @gemv_register_cap(%x: memref<16x1024xf32>, %out: memref<16x8480xf32>) {
  %s = memref.get_global @cap_scales : memref<8x8480xf32>
  %w = q.weight_constant dense<-7> : tensor<4341760xi8> -> !q.weight<1024x8480xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 128, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<16x1024xf32>, !q.weight<1024x8480xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 128, symmetric = true>, packed_k>, memref<8x8480xf32>, memref<16x8480xf32>) -> ()
  return
}
memref.global "private" constant @cap_scales : memref<8x8480xf32> = dense<0.5>
func.func @gemv_no_register_cap(%x: memref<9x1024xf32>, %out: memref<9x8448xf32>) {
  %s = memref.get_global @nocap_scales : memref<8x8448xf32>
  %w = q.weight_constant dense<-7> : tensor<4325376xi8> -> !q.weight<1024x8448xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 128, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<9x1024xf32>, !q.weight<1024x8448xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 128, symmetric = true>, packed_k>, memref<8x8448xf32>, memref<9x8448xf32>) -> ()
  return
}
memref.global "private" constant @nocap_scales : memref<8x8448xf32> = dense<0.5>

// -----

// Seventeen rows, a K that is not a multiple of 64, or scales that are not
// constants keep the generic kernel.
// CHECK-LABEL: func @gemv_too_many_rows
// CHECK-NOT: gpu.launch
// CHECK: linalg.generic
func.func @gemv_too_many_rows(%x: memref<17x64xf32>, %out: memref<17x8xf32>) {
  %s = memref.get_global @rows_scales : memref<2x8xf32>
  %w = q.weight_constant dense<-7> : tensor<256xi8> -> !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<17x64xf32>, !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>, memref<2x8xf32>, memref<17x8xf32>) -> ()
  return
}
memref.global "private" constant @rows_scales : memref<2x8xf32> = dense<0.5>

// -----

// CHECK-LABEL: func @gemv_k_not_64
// CHECK-NOT: gpu.launch
// CHECK: linalg.generic
func.func @gemv_k_not_64(%x: memref<1x96xf32>, %out: memref<1x8xf32>) {
  %s = memref.get_global @k96_scales : memref<3x8xf32>
  %w = q.weight_constant dense<-7> : tensor<384xi8> -> !q.weight<96x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<1x96xf32>, !q.weight<96x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>, memref<3x8xf32>, memref<1x8xf32>) -> ()
  return
}
memref.global "private" constant @k96_scales : memref<3x8xf32> = dense<0.5>

// -----

// CHECK-LABEL: func @gemv_scale_argument
// CHECK-NOT: gpu.launch
// CHECK: linalg.generic
func.func @gemv_scale_argument(%x: memref<1x64xf32>, %s: memref<2x8xf32>, %out: memref<1x8xf32>) {
  %w = q.weight_constant dense<-7> : tensor<256xi8> -> !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<1x64xf32>, !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>, memref<2x8xf32>, memref<1x8xf32>) -> ()
  return
}
