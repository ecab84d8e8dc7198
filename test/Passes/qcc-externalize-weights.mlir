// RUN: qcc-opt %s -split-input-file -qcc-externalize-weights="min-bytes=64" -verify-diagnostics | FileCheck %s

// Large non-splat constants become leading arguments; small and splat ones
// stay in the code.
// CHECK: module attributes {qcc.num_inputs = 1 : i64, qcc.weights = [{offset = 0 : i64, size = 128 : i64, value = dense_resource<w0> : tensor<32xf32>}, {offset = 128 : i64, size = 80 : i64, value = dense_resource<w1> : tensor<20xf32>}]}
// CHECK-LABEL: func @main
// CHECK-SAME: (%[[W0:.+]]: tensor<32xf32> {bufferization.writable = false, qcc.weight}, %[[W1:.+]]: tensor<20xf32> {bufferization.writable = false, qcc.weight}, %[[X:.+]]: tensor<32xf32> {bufferization.writable = false})
func.func @main(%x: tensor<32xf32>) -> (tensor<32xf32>, tensor<20xf32>, tensor<4xf32>, tensor<32xf32>) {
  // CHECK-NOT: dense_resource
  // CHECK: %[[SMALL:.+]] = arith.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]>
  // CHECK: %[[SPLAT:.+]] = arith.constant dense<5.000000e-01> : tensor<32xf32>
  %w0 = arith.constant dense_resource<w0> : tensor<32xf32>
  %w1 = arith.constant dense_resource<w1> : tensor<20xf32>
  %small = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %splat = arith.constant dense<0.5> : tensor<32xf32>
  // CHECK: return %[[W0]], %[[W1]], %[[SMALL]], %[[SPLAT]]
  return %w0, %w1, %small, %splat : tensor<32xf32>, tensor<20xf32>, tensor<4xf32>, tensor<32xf32>
}

{-#
  dialect_resources: {
    builtin: {
      w0: "0x0400000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
      w1: "0x040000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    }
  }
#-}

// -----

// expected-error @+1 {{entry function 'main' not found}}
module {
  func.func @other() {
    return
  }
}
