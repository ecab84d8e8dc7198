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

// -----

// After bufferization: reads of large constant globals move out too, and the
// dead global is erased; new weights follow the ones already recorded.
// CHECK: module attributes {qcc.num_inputs = 1 : i64, qcc.weights = [{offset = 0 : i64, size = 64 : i64, value = dense<1.000000e+00> : tensor<16xf32>}, {offset = 64 : i64, size = 128 : i64, value = dense_resource<g> : tensor<128xi8>}]}
// CHECK-NOT: memref.global "private" constant @big
// CHECK: memref.global "private" constant @small
// CHECK-LABEL: func @main
// CHECK-SAME: (%[[W0:.+]]: memref<16xf32>, %[[G:.+]]: memref<128xi8> {qcc.weight}, %[[X:.+]]: memref<4xf32>, %[[OUT:.+]]: memref<128xi8>)
module attributes {qcc.num_inputs = 1 : i64, qcc.weights = [{offset = 0 : i64, size = 64 : i64, value = dense<1.0> : tensor<16xf32>}]} {
  memref.global "private" constant @big : memref<128xi8> = dense_resource<g>
  memref.global "private" constant @small : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
  func.func @main(%w0: memref<16xf32>, %x: memref<4xf32>, %out: memref<128xi8>) {
    // CHECK: memref.copy %[[G]]
    %0 = memref.get_global @big : memref<128xi8>
    %1 = memref.get_global @small : memref<4xf32>
    memref.copy %0, %out : memref<128xi8> to memref<128xi8>
    return
  }
}

{-#
  dialect_resources: {
    builtin: {
      g: "0x0400000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    }
  }
#-}

// -----

// Weight arguments that nothing reads any more (here the first: a kernel
// repacked it) leave the entry function and the weight file; the others
// are laid out again from offset 0.
// CHECK: module attributes {qcc.num_inputs = 1 : i64, qcc.weights = [{offset = 0 : i64, size = 16 : i64, value = dense<2.000000e+00> : tensor<4xf32>}]}
// CHECK-LABEL: func @main
// CHECK-SAME: (%[[W1:.+]]: memref<4xf32> {qcc.weight}, %[[X:.+]]: memref<4xf32>, %[[OUT:.+]]: memref<4xf32>)
// CHECK: memref.copy %[[W1]], %[[OUT]]
module attributes {qcc.num_inputs = 1 : i64, qcc.weights = [{offset = 0 : i64, size = 64 : i64, value = dense<1.0> : tensor<16xf32>}, {offset = 64 : i64, size = 16 : i64, value = dense<2.0> : tensor<4xf32>}]} {
  func.func @main(%w0: memref<16xf32> {qcc.weight}, %w1: memref<4xf32> {qcc.weight}, %x: memref<4xf32>, %out: memref<4xf32>) {
    memref.copy %w1, %out : memref<4xf32> to memref<4xf32>
    return
  }
}
