// RUN: qcc-opt %s | qcc-opt | FileCheck %s
// RUN: qcc-opt %s -mlir-print-op-generic | qcc-opt | FileCheck %s

// CHECK-LABEL: func @quantize_per_channel
func.func @quantize_per_channel(%x: tensor<4x8xf32>, %s: tensor<8xf32>) -> tensor<4x8xf32> {
  // CHECK: %[[Q:.+]] = q.quantize %{{.+}}, %{{.+}} {scheme = #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>} : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xi8>
  %q = q.quantize %x, %s {scheme = #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>} : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xi8>
  // CHECK: q.dequantize %[[Q]], %{{.+}} {scheme = {{.+}}} : tensor<4x8xi8>, tensor<8xf32> -> tensor<4x8xf32>
  %d = q.dequantize %q, %s {scheme = #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>} : tensor<4x8xi8>, tensor<8xf32> -> tensor<4x8xf32>
  return %d : tensor<4x8xf32>
}

// CHECK-LABEL: func @quantize_uniform_type
func.func @quantize_uniform_type(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // CHECK: q.quantize %{{.+}} : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i8:f32, 5.000000e-01:3>>
  %q = q.quantize %x : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i8:f32, 0.5:3>>
  %d = q.dequantize %q : tensor<4x8x!quant.uniform<i8:f32, 0.5:3>> -> tensor<4x8xf32>
  return %d : tensor<4x8xf32>
}

// CHECK-LABEL: func @asymmetric_groups
func.func @asymmetric_groups(%x: tensor<2x8xf32>, %s: tensor<2x2xf32>, %z: tensor<2x2xi8>) -> tensor<2x8xi8> {
  // CHECK: q.quantize %{{.+}}, %{{.+}}, %{{.+}} {scheme = #q.scheme<bits = 4, is_signed = false, granularity = per_group, axis = 1, group_size = 4, symmetric = false>}
  %q = q.quantize %x, %s, %z {scheme = #q.scheme<bits = 4, is_signed = false, granularity = per_group, axis = 1, group_size = 4, symmetric = false>} : tensor<2x8xf32>, tensor<2x2xf32>, tensor<2x2xi8> -> tensor<2x8xi8>
  return %q : tensor<2x8xi8>
}

// CHECK-LABEL: func @int4_matmul
func.func @int4_matmul(%x: tensor<1x8xf32>, %s: tensor<2x4xf32>, %z: tensor<2x4xi8>, %b: tensor<4xf32>, %init: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // CHECK: %[[W:.+]] = q.weight_constant dense<17> : tensor<16xi8> -> !q.weight<8x4xi4, #q.scheme<bits = 4, is_signed = false, granularity = per_group, axis = 0, group_size = 4, symmetric = false>, packed_k>
  %w = q.weight_constant dense<17> : tensor<16xi8> -> !q.weight<8x4xi4, #q.scheme<bits = 4, is_signed = false, granularity = per_group, axis = 0, group_size = 4, symmetric = false>, packed_k>
  // CHECK: q.matmul %{{.+}}, %[[W]] scales(%{{.+}}) zero_points(%{{.+}}) bias(%{{.+}}) outs(%{{.+}}) : (tensor<1x8xf32>, !q.weight<8x4xi4
  %y = q.matmul %x, %w scales(%s) zero_points(%z) bias(%b) outs(%init) : (tensor<1x8xf32>, !q.weight<8x4xi4, #q.scheme<bits = 4, is_signed = false, granularity = per_group, axis = 0, group_size = 4, symmetric = false>, packed_k>, tensor<2x4xf32>, tensor<2x4xi8>, tensor<4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// CHECK-LABEL: func @int8_static_matmul
func.func @int8_static_matmul(%x: tensor<2x3x16xf32>, %codes: tensor<16x32xi8>, %s: tensor<32xf32>, %a: tensor<f32>, %init: tensor<2x3x32xf32>) -> tensor<2x3x32xf32> {
  // CHECK: q.pack %{{.+}} : tensor<16x32xi8> -> !q.weight<16x32xi8, {{.+}}, vnni_k4n16>
  %w = q.pack %codes : tensor<16x32xi8> -> !q.weight<16x32xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>
  // CHECK: q.unpack %{{.+}} : !q.weight<16x32xi8, {{.+}}> -> tensor<16x32xi8>
  %c = q.unpack %w : !q.weight<16x32xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16> -> tensor<16x32xi8>
  // CHECK: q.matmul %{{.+}} scales(%{{.+}}) act_scale(%{{.+}}) outs(%{{.+}}) {act_quant = #q.act_quant<static_per_tensor>}
  %y = q.matmul %x, %w scales(%s) act_scale(%a) outs(%init) {act_quant = #q.act_quant<static_per_tensor>} : (tensor<2x3x16xf32>, !q.weight<16x32xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>, tensor<32xf32>, tensor<f32>, tensor<2x3x32xf32>) -> tensor<2x3x32xf32>
  return %y : tensor<2x3x32xf32>
}

// CHECK-LABEL: func @matmul_on_memrefs
func.func @matmul_on_memrefs(%x: memref<4x16xf32>, %s: memref<32xf32>, %out: memref<4x32xf32>) {
  %w = q.weight_constant dense<1> : tensor<512xi8> -> !q.weight<16x32xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  // CHECK: q.matmul %{{.+}}, %{{.+}} scales(%{{.+}}) outs(%{{.+}}) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<4x16xf32>, !q.weight<16x32xi8, {{.+}}>, memref<32xf32>, memref<4x32xf32>) -> ()
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<4x16xf32>, !q.weight<16x32xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, memref<32xf32>, memref<4x32xf32>) -> ()
  return
}

// Kept outlier channels: channels 1 and 6 of the input, their float rows.
// CHECK-LABEL: func @matmul_outliers
// CHECK: q.matmul %{{.+}}, %{{.+}} scales(%{{.+}}) outliers(%{{.+}}) outs(%{{.+}}) {act_quant = #q.act_quant<dynamic_per_token>, outlier_channels = array<i64: 1, 6>} : (tensor<2x8xf32>, !q.weight<8x4xi8, {{.+}}>, tensor<4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
func.func @matmul_outliers(%x: tensor<2x8xf32>, %s: tensor<4xf32>, %o: tensor<2x4xf32>, %init: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %w = q.weight_constant dense<0> : tensor<32xi8> -> !q.weight<8x4xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  %y = q.matmul %x, %w scales(%s) outliers(%o) outs(%init) {act_quant = #q.act_quant<dynamic_per_token>, outlier_channels = array<i64: 1, 6>} : (tensor<2x8xf32>, !q.weight<8x4xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, tensor<4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// The call's thread count (resolved by qcc-cpu-outline-parallel).
// CHECK-LABEL: func @num_threads
// CHECK: %[[T:.+]] = q.num_threads
// CHECK: return %[[T]] : index
func.func @num_threads() -> index {
  %t = q.num_threads
  return %t : index
}
