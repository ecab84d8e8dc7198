// RUN: qcc-opt %s -split-input-file -qcc-cpu-lower-qmatmul -verify-diagnostics
// RUN: not qcc-opt %s -split-input-file -qcc-cpu-lower-qmatmul="tile-rows=-1" 2>&1 | FileCheck %s --check-prefix=TILE

// TILE: error: tile-rows and tile-col-blocks must be >= 0

func.func @tensors(%x: tensor<1x8xf32>, %s: tensor<16xf32>, %i: tensor<1x16xf32>) -> tensor<1x16xf32> {
  %w = q.weight_constant dense<1> : tensor<128xi8> -> !q.weight<8x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>
  // expected-error @+1 {{must be bufferized before the CPU lowering}}
  %y = q.matmul %x, %w scales(%s) outs(%i) : (tensor<1x8xf32>, !q.weight<8x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>, tensor<16xf32>, tensor<1x16xf32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

func.func @weight_argument(%x: memref<1x8xf32>, %w: !q.weight<8x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>, %s: memref<16xf32>, %out: memref<1x16xf32>) {
  // expected-error @+1 {{weight must be a q.weight_constant when lowered for the CPU}}
  q.matmul %x, %w scales(%s) outs(%out) : (memref<1x8xf32>, !q.weight<8x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, vnni_k4n16>, memref<16xf32>, memref<1x16xf32>) -> ()
  return
}
