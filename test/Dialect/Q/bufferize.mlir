// RUN: qcc-opt %s -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" | FileCheck %s

// q.matmul writes its init buffer in place; the weight passes through.
// CHECK-LABEL: func @matmul
// CHECK-SAME: (%[[X:.+]]: memref<4x16xf32>, %[[S:.+]]: memref<32xf32>) -> memref<4x32xf32>
// CHECK: %[[W:.+]] = q.weight_constant
// CHECK: %[[OUT:.+]] = memref.alloc() {{.+}} : memref<4x32xf32>
// CHECK-NOT: memref.copy
// CHECK: q.matmul %[[X]], %[[W]] scales(%[[S]]) outs(%[[OUT]]) {{.+}} -> ()
// CHECK: return %[[OUT]]
func.func @matmul(%x: tensor<4x16xf32>, %s: tensor<32xf32>) -> tensor<4x32xf32> {
  %w = q.weight_constant dense<1> : tensor<512xi8> -> !q.weight<16x32xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  %e = tensor.empty() : tensor<4x32xf32>
  %y = q.matmul %x, %w scales(%s) outs(%e) {act_quant = #q.act_quant<dynamic_per_token>} : (tensor<4x16xf32>, !q.weight<16x32xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, tensor<32xf32>, tensor<4x32xf32>) -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}
