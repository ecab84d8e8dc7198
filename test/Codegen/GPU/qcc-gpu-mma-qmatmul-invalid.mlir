// RUN: qcc-opt %s -split-input-file -qcc-gpu-mma-qmatmul -verify-diagnostics

// Weights whose bytes are not in the module (an unresolved resource).
func.func @missing(%x: memref<2x64xf32>, %s: memref<16xf32>, %out: memref<2x16xf32>) {
  %w = q.weight_constant dense_resource<absent> : tensor<1024xi8> -> !q.weight<64x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  // expected-error @+1 {{int8 weight storage}}
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<2x64xf32>, !q.weight<64x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, memref<16xf32>, memref<2x16xf32>) -> ()
  return
}

// -----

// Kept outlier channels (qcc-fuse-outliers) have no GPU form: an error, not
// a lowering that would drop the float side product.
func.func @outliers(%x: memref<20x64xf32>, %s: memref<64xf32>, %o: memref<2x64xf32>, %out: memref<20x64xf32>) {
  %w = q.weight_constant dense<1> : tensor<4096xi8> -> !q.weight<64x64xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  // expected-error @+1 {{'q.matmul' op with outlier channels has no GPU lowering}}
  q.matmul %x, %w scales(%s) outliers(%o) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>, outlier_channels = array<i64: 3, 9>} : (memref<20x64xf32>, !q.weight<64x64xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, memref<64xf32>, memref<2x64xf32>, memref<20x64xf32>) -> ()
  return
}
