// RUN: qcc-opt %s -split-input-file -qcc-gpu-w4a16-gemm --mlir-elide-elementsattrs-if-larger=100000 | FileCheck %s
// RUN: qcc-opt %s -split-input-file -qcc-gpu-w4a16-gemm='min-rows=4 splits=2 stages=2' --mlir-elide-elementsattrs-if-larger=100000 | FileCheck %s --check-prefix=SPLIT

// 20 rows of signed int4 groups of 32, constant scales and a bias. The codes
// become A fragments in block-stage order (0xF9 -> nibbles 9, 15 -> unsigned
// 1, 7: lane 0's word 0x07070101 has K 0, 1 of column 0 in nibbles 0, 4 and
// K 8, 9 in nibbles 2, 6; column 8 is padding), the parameters into f16
// pairs (scale 0.5 * 2^12 = 0x6800, 0: padding) and (1024 + 8, 64 + 0). Three launches: f32 -> f16, the GEMM (cp.async ring,
// ldmatrix.x4, mma.sync m16n8k16, bias in the epilogue), no reduce (one
// split: K = 64 is one stage). The output's zero fill is erased.
// CHECK-DAG: memref.global "private" constant @__qcc_gpu_w4gemm_codes : memref<8192xi8> = dense<"0x01010707
// CHECK-DAG: memref.global "private" constant @__qcc_gpu_w4gemm_params : memref<2048xi8> = dense<"0x0068000008640054
// CHECK-LABEL: func @gemm_sym
// CHECK-NOT: linalg.fill
// CHECK: memref.alloc() : memref<2048xf16>
// CHECK: gpu.launch
// CHECK: arith.truncf %{{.+}} : vector<4xf32> to vector<4xf16>
// CHECK: gpu.launch {{.+}} threads({{.+}}) in ({{.+}} = %c128, {{.+}}) workgroup(%{{.+}} : memref<43008xi8, #gpu.address_space<workgroup>>)
// CHECK: nvvm.cp.async.shared.global
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 1
// CHECK: gpu.barrier
// CHECK: nvvm.ldmatrix
// CHECK: arith.subf %{{.+}} : vector<2xf16>
// CHECK: arith.mulf %{{.+}} : vector<2xf16>
// CHECK: nvvm.mma.sync
// CHECK-SAME: shape = #nvvm.shape<m = 16, n = 8, k = 16>
// CHECK: memref.load %arg1
// CHECK: memref.store
// CHECK-NOT: gpu.launch
// CHECK-NOT: q.matmul
// SPLIT-LABEL: func @gemm_sym
// SPLIT: gpu.launch
// SPLIT: workgroup(%{{.+}} : memref<28672xi8, #gpu.address_space<workgroup>>)
// SPLIT: nvvm.cp.async.wait.group 0
func.func @gemm_sym(%x: memref<20x64xf32>, %bias: memref<8xf32>, %out: memref<20x8xf32>) {
  %s = memref.get_global @sym_scales : memref<2x8xf32>
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<20x8xf32>)
  %w = q.weight_constant dense<-7> : tensor<256xi8> -> !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) bias(%bias) outs(%out) {act_quant = #q.act_quant<none>} : (memref<20x64xf32>, !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>, memref<2x8xf32>, memref<8xf32>, memref<20x8xf32>) -> ()
  return
}
memref.global "private" constant @sym_scales : memref<2x8xf32> = dense<0.5>

// -----

// Asymmetric groups of 128 with zero points, 3-D input, K = 256: with
// splits=2 the GEMM writes [2, 48, 16] partials and a third launch sums them.
// CHECK-LABEL: func @gemm_asym_split
// CHECK: memref.collapse_shape
// CHECK-COUNT-2: gpu.launch
// CHECK-NOT: gpu.launch
// SPLIT-LABEL: func @gemm_asym_split
// SPLIT: memref.alloc() : memref<1536xf32>
// SPLIT: gpu.launch blocks({{.+}}) in ({{.+}}, {{.+}}, {{.+}} = %c2{{(_[0-9]+)?}}) threads
// SPLIT: gpu.launch
// SPLIT: arith.addf
// SPLIT: arith.mulf
func.func @gemm_asym_split(%x: memref<2x24x256xf32>, %out: memref<2x24x16xf32>) {
  %s = memref.get_global @asym_scales : memref<2x16xf32>
  %z = memref.get_global @asym_zeros : memref<2x16xi32>
  %w = q.weight_constant dense<17> : tensor<2048xi8> -> !q.weight<256x16xi4, #q.scheme<bits = 4, is_signed = false, granularity = per_group, axis = 0, group_size = 128, symmetric = false>, packed_k>
  q.matmul %x, %w scales(%s) zero_points(%z) outs(%out) {act_quant = #q.act_quant<none>} : (memref<2x24x256xf32>, !q.weight<256x16xi4, #q.scheme<bits = 4, is_signed = false, granularity = per_group, axis = 0, group_size = 128, symmetric = false>, packed_k>, memref<2x16xf32>, memref<2x16xi32>, memref<2x24x16xf32>) -> ()
  return
}
memref.global "private" constant @asym_scales : memref<2x16xf32> = dense<0.25>
memref.global "private" constant @asym_zeros : memref<2x16xi32> = dense<3>

// -----

// The default split of K: 33 rows x 5760 columns are 45 tiles of 64 x 128.
// Split 2 (90 units on 132 SMs: 68% used) beats 1 (34%) and 3 (135 units:
// two on 3 SMs, 51%); at most 3 (K / (16 M) keeps the partials within half
// the code bytes).
// CHECK-LABEL: func @gemm_split_fill
// CHECK: gpu.launch
// CHECK: gpu.launch blocks({{.+}}) in ({{.+}} = %c1{{(_[0-9]+)?}}, {{.+}} = %c45{{(_[0-9]+)?}}, {{.+}} = %c2{{(_[0-9]+)?}}) threads
// CHECK: gpu.launch
func.func @gemm_split_fill(%x: memref<33x1664xf32>, %out: memref<33x5760xf32>) {
  %s = memref.get_global @fill_scales : memref<26x5760xf32>
  %w = q.weight_constant dense<-7> : tensor<4792320xi8> -> !q.weight<1664x5760xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 64, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<33x1664xf32>, !q.weight<1664x5760xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 64, symmetric = true>, packed_k>, memref<26x5760xf32>, memref<33x5760xf32>) -> ()
  return
}
memref.global "private" constant @fill_scales : memref<26x5760xf32> = dense<0.5>

// -----

// Q, K and V read one normalized input: the K GEMM reuses the f16 copy the
// Q GEMM's conversion made (nothing writes the input in between), the V
// GEMM converts again after a kernel that writes the input. Launches: convert,
// GEMM, GEMM, the write, convert, GEMM.
// CHECK-LABEL: func @shared_conversion
// CHECK: %[[XH:.+]] = memref.alloc() : memref<2048xf16>
// CHECK: gpu.launch
// CHECK: arith.truncf
// CHECK: gpu.launch
// CHECK-NOT: arith.truncf
// CHECK: gpu.launch
// CHECK-NOT: arith.truncf
// CHECK: linalg.fill
// CHECK: memref.alloc() : memref<2048xf16>
// CHECK: gpu.launch
// CHECK: arith.truncf
// CHECK: gpu.launch
// CHECK-NOT: gpu.launch
func.func @shared_conversion(%o1: memref<20x8xf32>, %o2: memref<20x8xf32>, %o3: memref<20x8xf32>) {
  %s = memref.get_global @shared_scales : memref<2x8xf32>
  %one = arith.constant 1.0 : f32
  %x = memref.alloc() : memref<20x64xf32>
  linalg.fill ins(%one : f32) outs(%x : memref<20x64xf32>)
  %w = q.weight_constant dense<-7> : tensor<256xi8> -> !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%o1) {act_quant = #q.act_quant<none>} : (memref<20x64xf32>, !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>, memref<2x8xf32>, memref<20x8xf32>) -> ()
  q.matmul %x, %w scales(%s) outs(%o2) {act_quant = #q.act_quant<none>} : (memref<20x64xf32>, !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>, memref<2x8xf32>, memref<20x8xf32>) -> ()
  linalg.fill ins(%one : f32) outs(%x : memref<20x64xf32>)
  q.matmul %x, %w scales(%s) outs(%o3) {act_quant = #q.act_quant<none>} : (memref<20x64xf32>, !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>, memref<2x8xf32>, memref<20x8xf32>) -> ()
  return
}
memref.global "private" constant @shared_scales : memref<2x8xf32> = dense<0.5>

// -----

// Left for qcc-gpu-lower-qmatmul: 8 rows (the GEMV's; taken with
// min-rows=4), int8 activations, and K not a multiple of 64.
// CHECK-LABEL: func @not_taken
// CHECK-COUNT-3: q.matmul
// SPLIT-LABEL: func @not_taken
// SPLIT-COUNT-2: q.matmul
func.func @not_taken(%x: memref<8x64xf32>, %y: memref<32x64xf32>, %v: memref<32x32xf32>, %out: memref<8x8xf32>, %out2: memref<32x8xf32>) {
  %s = memref.get_global @nt_scales : memref<2x8xf32>
  %s1 = memref.get_global @nt_scales1 : memref<1x8xf32>
  %w = q.weight_constant dense<-7> : tensor<256xi8> -> !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<8x64xf32>, !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>, memref<2x8xf32>, memref<8x8xf32>) -> ()
  q.matmul %y, %w scales(%s) outs(%out2) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<32x64xf32>, !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>, memref<2x8xf32>, memref<32x8xf32>) -> ()
  %w2 = q.weight_constant dense<-7> : tensor<128xi8> -> !q.weight<32x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>
  q.matmul %v, %w2 scales(%s1) outs(%out2) {act_quant = #q.act_quant<none>} : (memref<32x32xf32>, !q.weight<32x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>, memref<1x8xf32>, memref<32x8xf32>) -> ()
  return
}
memref.global "private" constant @nt_scales : memref<2x8xf32> = dense<0.5>
memref.global "private" constant @nt_scales1 : memref<1x8xf32> = dense<0.5>
