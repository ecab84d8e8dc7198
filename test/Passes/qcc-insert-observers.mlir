// RUN: qcc-opt %s -split-input-file -qcc-insert-observers | FileCheck %s

// The activations of tagged matmuls become extra results after the model's
// own; two matmuls reading one value share one result.
// CHECK-LABEL: func @main
// CHECK-SAME: -> (tensor<4x8xf32> {qcc.dtype = "float32", qcc.name = "y"}, tensor<4x8xf32> {qcc.dtype = "float32", qcc.name = "z"}, tensor<4x16xf32> {qcc.dtype = "float32", qcc.name = "qcc.calib.0.1"}, tensor<4x8xf32> {qcc.dtype = "float32", qcc.name = "qcc.calib.2"})
// CHECK: %[[H:.+]] = math.tanh %[[X:.+]] : tensor<4x16xf32>
// CHECK: %[[A:.+]] = linalg.matmul {qcc.calib_id = 0 : i64} ins(%[[H]], {{.+}}
// CHECK: %[[B:.+]] = linalg.matmul {qcc.calib_id = 1 : i64} ins(%[[H]], {{.+}}
// CHECK: %[[C:.+]] = linalg.matmul {qcc.calib_id = 2 : i64} ins(%[[A]], {{.+}}
// CHECK: return %[[C]], %[[B]], %[[H]], %[[A]]
func.func @main(%x: tensor<4x16xf32> {qcc.name = "x", qcc.dtype = "float32"}) -> (tensor<4x8xf32> {qcc.name = "y", qcc.dtype = "float32"}, tensor<4x8xf32> {qcc.name = "z", qcc.dtype = "float32"}) {
  %w1 = arith.constant dense<0.5> : tensor<16x8xf32>
  %w2 = arith.constant dense<0.25> : tensor<8x8xf32>
  %f = arith.constant dense<0.0> : tensor<4x8xf32>
  %h = math.tanh %x : tensor<4x16xf32>
  %a = linalg.matmul {qcc.calib_id = 0 : i64} ins(%h, %w1 : tensor<4x16xf32>, tensor<16x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32>
  %b = linalg.matmul {qcc.calib_id = 1 : i64} ins(%h, %w1 : tensor<4x16xf32>, tensor<16x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32>
  %c = linalg.matmul {qcc.calib_id = 2 : i64} ins(%a, %w2 : tensor<4x8xf32>, tensor<8x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %c, %b : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Untagged matmuls are not observed: the function is unchanged.
// CHECK-LABEL: func @main
// CHECK-SAME: -> (tensor<4x8xf32> {qcc.name = "y"})
// CHECK: return %{{.+}} : tensor<4x8xf32>
func.func @main(%x: tensor<4x16xf32>) -> (tensor<4x8xf32> {qcc.name = "y"}) {
  %w = arith.constant dense<0.5> : tensor<16x8xf32>
  %f = arith.constant dense<0.0> : tensor<4x8xf32>
  %a = linalg.matmul ins(%x, %w : tensor<4x16xf32>, tensor<16x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %a : tensor<4x8xf32>
}
