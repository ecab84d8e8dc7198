// RUN: qcc-opt %s -split-input-file -qcc-fuse-outliers -verify-diagnostics | FileCheck %s

// Splits qcc-fuse-outliers must leave as they are (still correct, only
// unfused), without a diagnostic: folding them would change the result.

// expected-no-diagnostics

// The mask zeroes channel 2 but the side product holds channel 1: the
// quantized product does see channel 1, so it cannot be left out of it.
// CHECK-LABEL: func @mask_differs
// CHECK-NOT: outlier_channels
// CHECK: linalg.matmul {qcc.outlier_side}
// CHECK: q.matmul
// CHECK-NOT: outlier_channels
// CHECK: return
func.func @mask_differs(%arg0: tensor<2x4xf32>, %arg1: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %cst = arith.constant dense<1> : tensor<1xi32>
  %0 = tensor.empty() : tensor<2x1xf32>
  %1 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%cst : tensor<1xi32>) outs(%0 : tensor<2x1xf32>) attrs =  {qcc.outlier_gather} {
  ^bb0(%in: i32, %out: f32):
    %14 = linalg.index 0 : index
    %15 = arith.index_cast %in : i32 to index
    %extracted = tensor.extract %arg0[%14, %15] : tensor<2x4xf32>
    linalg.yield %extracted : f32
  } -> tensor<2x1xf32>
  %cst_0 = arith.constant dense<[1.0, 1.0, 0.0, 1.0]> : tensor<4xf32>
  %2 = tensor.empty() : tensor<2x4xf32>
  %3 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%arg0, %cst_0 : tensor<2x4xf32>, tensor<4xf32>) outs(%2 : tensor<2x4xf32>) attrs =  {qcc.outlier_mask} {
  ^bb0(%in: f32, %in_5: f32, %out: f32):
    %14 = arith.mulf %in, %in_5 : f32
    linalg.yield %14 : f32
  } -> tensor<2x4xf32>
  %cst_1 = arith.constant dense<[[3.0, 4.0]]> : tensor<1x2xf32>
  %cst_2 = arith.constant 0.0 : f32
  %4 = tensor.empty() : tensor<2x2xf32>
  %5 = linalg.fill ins(%cst_2 : f32) outs(%4 : tensor<2x2xf32>) -> tensor<2x2xf32>
  %6 = linalg.matmul {qcc.outlier_side} ins(%1, %cst_1 : tensor<2x1xf32>, tensor<1x2xf32>) outs(%5 : tensor<2x2xf32>) -> tensor<2x2xf32>
  %9 = q.weight_constant dense<0> : tensor<8xi8> -> !q.weight<4x2xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  %cst_4 = arith.constant dense<[0.05, 0.06]> : tensor<2xf32>
  %10 = tensor.empty() : tensor<2x2xf32>
  %11 = q.matmul %3, %9 scales(%cst_4) outs(%10) {act_quant = #q.act_quant<dynamic_per_token>} : (tensor<2x4xf32>, !q.weight<4x2xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, tensor<2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %12 = tensor.empty() : tensor<2x2xf32>
  %13 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%11, %6 : tensor<2x2xf32>, tensor<2x2xf32>) outs(%12 : tensor<2x2xf32>) {
  ^bb0(%in: f32, %in_5: f32, %out: f32):
    %14 = arith.addf %in, %in_5 : f32
    linalg.yield %14 : f32
  } -> tensor<2x2xf32>
  return %13 : tensor<2x2xf32>
}

// -----

// The side product is read by something else too (here: returned): it has
// to be computed anyway.
// CHECK-LABEL: func @side_escapes
// CHECK-NOT: outlier_channels
// CHECK: linalg.matmul {qcc.outlier_side}
// CHECK-NOT: outlier_channels
// CHECK: return
func.func @side_escapes(%arg0: tensor<2x4xf32>, %arg1: tensor<2x2xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>) {
  %cst = arith.constant dense<1> : tensor<1xi32>
  %0 = tensor.empty() : tensor<2x1xf32>
  %1 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%cst : tensor<1xi32>) outs(%0 : tensor<2x1xf32>) attrs =  {qcc.outlier_gather} {
  ^bb0(%in: i32, %out: f32):
    %14 = linalg.index 0 : index
    %15 = arith.index_cast %in : i32 to index
    %extracted = tensor.extract %arg0[%14, %15] : tensor<2x4xf32>
    linalg.yield %extracted : f32
  } -> tensor<2x1xf32>
  %cst_0 = arith.constant dense<[1.0, 0.0, 1.0, 1.0]> : tensor<4xf32>
  %2 = tensor.empty() : tensor<2x4xf32>
  %3 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%arg0, %cst_0 : tensor<2x4xf32>, tensor<4xf32>) outs(%2 : tensor<2x4xf32>) attrs =  {qcc.outlier_mask} {
  ^bb0(%in: f32, %in_5: f32, %out: f32):
    %14 = arith.mulf %in, %in_5 : f32
    linalg.yield %14 : f32
  } -> tensor<2x4xf32>
  %cst_1 = arith.constant dense<[[3.0, 4.0]]> : tensor<1x2xf32>
  %cst_2 = arith.constant 0.0 : f32
  %4 = tensor.empty() : tensor<2x2xf32>
  %5 = linalg.fill ins(%cst_2 : f32) outs(%4 : tensor<2x2xf32>) -> tensor<2x2xf32>
  %6 = linalg.matmul {qcc.outlier_side} ins(%1, %cst_1 : tensor<2x1xf32>, tensor<1x2xf32>) outs(%5 : tensor<2x2xf32>) -> tensor<2x2xf32>
  %9 = q.weight_constant dense<0> : tensor<8xi8> -> !q.weight<4x2xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  %cst_4 = arith.constant dense<[0.05, 0.06]> : tensor<2xf32>
  %10 = tensor.empty() : tensor<2x2xf32>
  %11 = q.matmul %3, %9 scales(%cst_4) outs(%10) {act_quant = #q.act_quant<dynamic_per_token>} : (tensor<2x4xf32>, !q.weight<4x2xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, tensor<2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %12 = tensor.empty() : tensor<2x2xf32>
  %13 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%11, %6 : tensor<2x2xf32>, tensor<2x2xf32>) outs(%12 : tensor<2x2xf32>) {
  ^bb0(%in: f32, %in_5: f32, %out: f32):
    %14 = arith.addf %in, %in_5 : f32
    linalg.yield %14 : f32
  } -> tensor<2x2xf32>
  return %13, %6 : tensor<2x2xf32>, tensor<2x2xf32>
}
