// RUN: qcc-opt %s -split-input-file -qcc-fold-empty-tensors | FileCheck %s

// A matmul with K = 0 is its initial fill; the entry's empty input becomes
// tensor<0xf32> and nothing reads it.
// CHECK-LABEL: func @matmul_k0
// CHECK-SAME: (%{{.+}}: tensor<0xf32>) -> tensor<2x3xf32>
// CHECK: %[[FILL:.+]] = linalg.fill
// CHECK-NOT: linalg.matmul
// CHECK: return %[[FILL]]
func.func @matmul_k0(%x: tensor<2x0xf32>) -> tensor<2x3xf32> {
  %w = arith.constant dense<> : tensor<0x3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %0 = linalg.matmul ins(%x, %w : tensor<2x0xf32>, tensor<0x3xf32>) outs(%fill : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Element-wise work on an empty tensor disappears; the empty output is a
// tensor<0xf32> the function never writes.
// CHECK-LABEL: func @relu_empty
// CHECK-SAME: (%{{.+}}: tensor<0xf32>) -> tensor<0xf32>
// CHECK-NOT: linalg.generic
// CHECK: %[[E:.+]] = tensor.empty() : tensor<0xf32>
// CHECK: return %[[E]]
func.func @relu_empty(%x: tensor<3x0xf32>) -> tensor<3x0xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x0xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<3x0xf32>) outs(%e : tensor<3x0xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<3x0xf32>
  return %0 : tensor<3x0xf32>
}

// -----

// Concatenating an empty tensor is the other operand; inserting an empty
// slice leaves the destination.
// CHECK-LABEL: func @concat_insert
// CHECK-SAME: (%[[A:.+]]: tensor<0xf32>, %[[B:.+]]: tensor<2x3xf32>, %[[D:.+]]: tensor<4x4xf32>)
// CHECK-NOT: tensor.concat
// CHECK-NOT: tensor.insert_slice
// CHECK: return %[[B]], %[[D]]
func.func @concat_insert(%a: tensor<2x0xf32>, %b: tensor<2x3xf32>, %d: tensor<4x4xf32>) -> (tensor<2x3xf32>, tensor<4x4xf32>) {
  %0 = tensor.concat dim(1) %a, %b : (tensor<2x0xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = tensor.insert_slice %a into %d[0, 0] [2, 0] [1, 1] : tensor<2x0xf32> into tensor<4x4xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<4x4xf32>
}

// -----

// A reduction over an empty axis is its initial value; padding an empty
// tensor with a constant is a fill.
// CHECK-LABEL: func @reduce_pad
// CHECK-NOT: linalg.reduce
// CHECK-NOT: tensor.pad
// CHECK: %[[P:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x2xf32>)
// CHECK: return %{{.+}}, %[[P]]
func.func @reduce_pad(%x: tensor<2x0xf32>, %init: tensor<2xf32>) -> (tensor<2xf32>, tensor<2x2xf32>) {
  %r = linalg.reduce ins(%x : tensor<2x0xf32>) outs(%init : tensor<2xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %s = arith.addf %in, %acc : f32
      linalg.yield %s : f32
    }
  %one = arith.constant 1.0 : f32
  %p = tensor.pad %x low[0, 1] high[0, 1] {
  ^bb0(%i: index, %j: index):
    tensor.yield %one : f32
  } : tensor<2x0xf32> to tensor<2x2xf32>
  return %r, %p : tensor<2xf32>, tensor<2x2xf32>
}

// -----

// Private functions keep their signatures for their callers.
// CHECK-LABEL: func private @helper
// CHECK-SAME: tensor<2x0xf32>
func.func private @helper(%x: tensor<2x0xf32>) -> tensor<2x0xf32> {
  return %x : tensor<2x0xf32>
}
