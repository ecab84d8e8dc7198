// RUN: qcc-opt %s -split-input-file -verify-diagnostics

func.func @bad_bits(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<4xi8> {
  // expected-error @+1 {{bit width must be in [2, 8], got 9}}
  %q = q.quantize %x, %s {scheme = #q.scheme<bits = 9, is_signed = true, granularity = per_tensor, axis = 0, group_size = 0, symmetric = true>} : tensor<4xf32>, tensor<f32> -> tensor<4xi8>
  return %q : tensor<4xi8>
}

// -----

func.func @scale_shape(%x: tensor<4x8xf32>, %s: tensor<4xf32>) -> tensor<4x8xi8> {
  // expected-error @+1 {{scales must have shape 8 for this scheme, got 4}}
  %q = q.quantize %x, %s {scheme = #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>} : tensor<4x8xf32>, tensor<4xf32> -> tensor<4x8xi8>
  return %q : tensor<4x8xi8>
}

// -----

func.func @missing_zero_points(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<4xi8> {
  // expected-error @+1 {{asymmetric schemes need zero points}}
  %q = q.quantize %x, %s {scheme = #q.scheme<bits = 8, is_signed = false, granularity = per_tensor, axis = 0, group_size = 0, symmetric = false>} : tensor<4xf32>, tensor<f32> -> tensor<4xi8>
  return %q : tensor<4xi8>
}

// -----

func.func @group_not_dividing(%x: tensor<4x6xf32>, %s: tensor<4x1xf32>) -> tensor<4x6xi8> {
  // expected-error @+1 {{dimension 6 is not a multiple of group size 4}}
  %q = q.quantize %x, %s {scheme = #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 1, group_size = 4, symmetric = true>} : tensor<4x6xf32>, tensor<4x1xf32> -> tensor<4x6xi8>
  return %q : tensor<4x6xi8>
}

// -----

func.func @uniform_with_scales(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<4x!quant.uniform<i8:f32, 0.5>> {
  // expected-error @+1 {{a !quant.uniform type carries its scale}}
  %q = q.quantize %x, %s : tensor<4xf32>, tensor<f32> -> tensor<4x!quant.uniform<i8:f32, 0.5>>
  return %q : tensor<4x!quant.uniform<i8:f32, 0.5>>
}

// -----

func.func @no_scheme(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<4xi8> {
  // expected-error @+1 {{integer codes need a scheme and scales}}
  %q = q.quantize %x, %s : tensor<4xf32>, tensor<f32> -> tensor<4xi8>
  return %q : tensor<4xi8>
}

// -----

// expected-error @+1 {{code type 'i8' does not match the scheme's 4 bits}}
func.func @weight_code_width(%w: !q.weight<8x4xi8, #q.scheme<bits = 4, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>)

// -----

func.func @weight_storage_size() {
  // expected-error @+1 {{storage must be 'tensor<16xi8>'}}
  %w = q.weight_constant dense<0> : tensor<32xi8> -> !q.weight<8x4xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 4, symmetric = true>, packed_k>
  return
}

// -----

func.func @matmul_k(%x: tensor<1x6xf32>, %s: tensor<4xf32>, %i: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %w = q.weight_constant dense<0> : tensor<32xi8> -> !q.weight<8x4xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  // expected-error @+1 {{input reduction dimension 6 does not match weight K 8}}
  %y = q.matmul %x, %w scales(%s) outs(%i) : (tensor<1x6xf32>, !q.weight<8x4xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, tensor<4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

func.func @matmul_act_scale(%x: tensor<1x8xf32>, %s: tensor<4xf32>, %i: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %w = q.weight_constant dense<0> : tensor<32xi8> -> !q.weight<8x4xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  // expected-error @+1 {{static activation quantization needs act_scale}}
  %y = q.matmul %x, %w scales(%s) outs(%i) {act_quant = #q.act_quant<static_per_tensor>} : (tensor<1x8xf32>, !q.weight<8x4xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, tensor<4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

func.func @vnni_shape(%w: !q.weight<6x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>) {
  return
}
// expected-error @-3 {{vnni_k4n16 needs K % 4 == 0 and N % 16 == 0}}

// -----

// expected-error @+1 {{unknown weight layout 'tiled'}}
func.func @bad_layout(%w: !q.weight<8x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, tiled>)

// -----

func.func @matmul_mixed(%x: tensor<1x8xf32>, %s: tensor<4xf32>, %i: memref<1x4xf32>) {
  %w = q.weight_constant dense<0> : tensor<32xi8> -> !q.weight<8x4xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  // expected-error @+1 {{operands must be all tensors or all memrefs}}
  q.matmul %x, %w scales(%s) outs(%i) : (tensor<1x8xf32>, !q.weight<8x4xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, tensor<4xf32>, memref<1x4xf32>) -> ()
  return
}

// -----

func.func @vnni_bits(%w: !q.weight<8x16xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 8, symmetric = true>, vnni_k4n16>) {
  return
}
// expected-error @-3 {{vnni_k4n16 holds 8-bit codes}}

// -----

func.func @matmul_outliers_without_channels(%x: tensor<1x8xf32>, %s: tensor<4xf32>, %o: tensor<1x4xf32>, %i: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %w = q.weight_constant dense<0> : tensor<32xi8> -> !q.weight<8x4xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  // expected-error @+1 {{outlier_channels and an outliers weight go together}}
  %y = q.matmul %x, %w scales(%s) outliers(%o) outs(%i) {act_quant = #q.act_quant<dynamic_per_token>} : (tensor<1x8xf32>, !q.weight<8x4xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, tensor<4xf32>, tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

func.func @matmul_outlier_range(%x: tensor<1x8xf32>, %s: tensor<4xf32>, %o: tensor<1x4xf32>, %i: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %w = q.weight_constant dense<0> : tensor<32xi8> -> !q.weight<8x4xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  // expected-error @+1 {{outlier channel 8 is out of range for K = 8}}
  %y = q.matmul %x, %w scales(%s) outliers(%o) outs(%i) {act_quant = #q.act_quant<dynamic_per_token>, outlier_channels = array<i64: 8>} : (tensor<1x8xf32>, !q.weight<8x4xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, tensor<4xf32>, tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

func.func @matmul_outlier_order(%x: tensor<1x8xf32>, %s: tensor<4xf32>, %o: tensor<2x4xf32>, %i: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %w = q.weight_constant dense<0> : tensor<32xi8> -> !q.weight<8x4xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  // expected-error @+1 {{outlier_channels must be strictly increasing}}
  %y = q.matmul %x, %w scales(%s) outliers(%o) outs(%i) {act_quant = #q.act_quant<dynamic_per_token>, outlier_channels = array<i64: 3, 3>} : (tensor<1x8xf32>, !q.weight<8x4xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, tensor<4xf32>, tensor<2x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

func.func @matmul_outlier_weight_shape(%x: tensor<1x8xf32>, %s: tensor<4xf32>, %o: tensor<1x4xf32>, %i: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %w = q.weight_constant dense<0> : tensor<32xi8> -> !q.weight<8x4xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  // expected-error @+1 {{outliers weight must be 2x4 f32 (#outlier_channels x N), got 'tensor<1x4xf32>'}}
  %y = q.matmul %x, %w scales(%s) outliers(%o) outs(%i) {act_quant = #q.act_quant<dynamic_per_token>, outlier_channels = array<i64: 2, 5>} : (tensor<1x8xf32>, !q.weight<8x4xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, tensor<4xf32>, tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}
