// RUN: qcc-opt %s -split-input-file -qcc-gpu-w4a16-gemm='stages=5' -verify-diagnostics
// RUN: not qcc-opt %s -qcc-gpu-w4a16-gemm='min-rows=0' 2>&1 | FileCheck %s --check-prefix=OPTION

// OPTION: qcc-gpu-w4a16-gemm: min-rows must be at least 1

// Five stages of 14 KB do not fit in 48 KB of shared memory.
func.func @too_many_stages(%x: memref<20x64xf32>, %out: memref<20x8xf32>) {
  %s = memref.get_global @scales : memref<2x8xf32>
  %w = q.weight_constant dense<-7> : tensor<256xi8> -> !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>
  // expected-error @+1 {{W4A16 GEMM: stages=5 need 71680 bytes of shared memory}}
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<20x64xf32>, !q.weight<64x8xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 32, symmetric = true>, packed_k>, memref<2x8xf32>, memref<20x8xf32>) -> ()
  return
}
memref.global "private" constant @scales : memref<2x8xf32> = dense<0.5>

// -----

// Kept outlier channels (qcc-fuse-outliers) have no GPU form: an error, not
// a lowering that would drop the float side product.
func.func @outliers(%x: memref<20x64xf32>, %s: memref<64xf32>, %o: memref<2x64xf32>, %out: memref<20x64xf32>) {
  %w = q.weight_constant dense<1> : tensor<4096xi8> -> !q.weight<64x64xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  // expected-error @+1 {{'q.matmul' op with outlier channels has no GPU lowering}}
  q.matmul %x, %w scales(%s) outliers(%o) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>, outlier_channels = array<i64: 3, 9>} : (memref<20x64xf32>, !q.weight<64x64xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, memref<64xf32>, memref<2x64xf32>, memref<20x64xf32>) -> ()
  return
}
