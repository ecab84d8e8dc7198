// RUN: qcc-opt %s -split-input-file -qcc-concat-slices -verify-diagnostics | FileCheck %s

// Rotary's rotate-half, as the ONNX importer writes Slice/Neg/Concat:
// concat(-x[..., 32:], x[..., :32]) is one loop reading x at i + 32 (first
// half, negated) or i - 32.
// CHECK-LABEL: func @rotate_half
// CHECK-NOT: tensor.insert_slice
// CHECK: %[[G:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%{{.+}} : tensor<1x9x1x64xf32>)
// CHECK: %[[I:.+]] = linalg.index 3 : index
// CHECK: %[[LO:.+]] = arith.cmpi ult, %[[I]], %[[C32:.+]] : index
// CHECK: %[[A:.+]] = arith.addi %[[I]], %[[C32]] : index
// CHECK: %[[B:.+]] = arith.addi %[[I]], %{{.+}} : index
// CHECK: %[[SRC:.+]] = arith.select %[[LO]], %[[A]], %[[B]] : index
// CHECK: %[[X:.+]] = tensor.extract %arg0[%{{.+}}, %{{.+}}, %{{.+}}, %[[SRC]]] : tensor<1x9x1x64xf32>
// CHECK: %[[N:.+]] = arith.negf %[[X]] : f32
// CHECK: %[[V:.+]] = arith.select %[[LO]], %[[N]], %[[X]] : f32
// CHECK: linalg.yield %[[V]] : f32
// CHECK: return %[[G]]
func.func @rotate_half(%x: tensor<1x9x1x64xf32>) -> tensor<1x9x1x64xf32> {
  %lo = tensor.extract_slice %x[0, 0, 0, 0] [1, 9, 1, 32] [1, 1, 1, 1] : tensor<1x9x1x64xf32> to tensor<1x9x1x32xf32>
  %hi = tensor.extract_slice %x[0, 0, 0, 32] [1, 9, 1, 32] [1, 1, 1, 1] : tensor<1x9x1x64xf32> to tensor<1x9x1x32xf32>
  %e = tensor.empty() : tensor<1x9x1x32xf32>
  %neg = linalg.generic {indexing_maps = [affine_map<(a, b, c, d) -> (a, b, c, d)>, affine_map<(a, b, c, d) -> (a, b, c, d)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%hi : tensor<1x9x1x32xf32>) outs(%e : tensor<1x9x1x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<1x9x1x32xf32>
  %full = tensor.empty() : tensor<1x9x1x64xf32>
  %a = tensor.insert_slice %neg into %full[0, 0, 0, 0] [1, 9, 1, 32] [1, 1, 1, 1] : tensor<1x9x1x32xf32> into tensor<1x9x1x64xf32>
  %b = tensor.insert_slice %lo into %a[0, 0, 0, 32] [1, 9, 1, 32] [1, 1, 1, 1] : tensor<1x9x1x32xf32> into tensor<1x9x1x64xf32>
  return %b : tensor<1x9x1x64xf32>
}

// -----

// tensor.concat of three slices at other offsets of the source, along the
// first dimension, with the other dimension sliced too.
// CHECK-LABEL: func @concat_three
// CHECK-NOT: tensor.concat
// CHECK: linalg.generic
// CHECK-COUNT-2: arith.cmpi ult
// CHECK: tensor.extract %arg0
// CHECK-NOT: arith.negf
func.func @concat_three(%x: tensor<10x8xi32>) -> tensor<6x4xi32> {
  %a = tensor.extract_slice %x[8, 2] [2, 4] [1, 1] : tensor<10x8xi32> to tensor<2x4xi32>
  %b = tensor.extract_slice %x[0, 2] [3, 4] [1, 1] : tensor<10x8xi32> to tensor<3x4xi32>
  %c = tensor.extract_slice %x[5, 2] [1, 4] [1, 1] : tensor<10x8xi32> to tensor<1x4xi32>
  %r = tensor.concat dim(0) %a, %b, %c : (tensor<2x4xi32>, tensor<3x4xi32>, tensor<1x4xi32>) -> tensor<6x4xi32>
  return %r : tensor<6x4xi32>
}

// -----

// Left alone: pieces of two tensors, a strided slice, a piece whose op
// reads its position, an elementwise piece with another user.
// CHECK-LABEL: func @not_one_source
// CHECK: tensor.concat
// CHECK-LABEL: func @strided
// CHECK: tensor.concat
// CHECK-LABEL: func @indexed_piece
// CHECK: tensor.concat
// CHECK-LABEL: func @shared_piece
// CHECK: tensor.concat
func.func @not_one_source(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %a = tensor.extract_slice %x[0] [2] [1] : tensor<4xf32> to tensor<2xf32>
  %b = tensor.extract_slice %y[2] [2] [1] : tensor<4xf32> to tensor<2xf32>
  %r = tensor.concat dim(0) %a, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
func.func @strided(%x: tensor<8xf32>) -> tensor<4xf32> {
  %a = tensor.extract_slice %x[0] [2] [2] : tensor<8xf32> to tensor<2xf32>
  %b = tensor.extract_slice %x[4] [2] [1] : tensor<8xf32> to tensor<2xf32>
  %r = tensor.concat dim(0) %a, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
func.func @indexed_piece(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = tensor.extract_slice %x[0] [2] [1] : tensor<4xf32> to tensor<2xf32>
  %b = tensor.extract_slice %x[2] [2] [1] : tensor<4xf32> to tensor<2xf32>
  %e = tensor.empty() : tensor<2xf32>
  %f = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]} ins(%a : tensor<2xf32>) outs(%e : tensor<2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 0 : index
    %c = arith.index_cast %i : index to i32
    %v = arith.sitofp %c : i32 to f32
    %s = arith.addf %in, %v : f32
    linalg.yield %s : f32
  } -> tensor<2xf32>
  %r = tensor.concat dim(0) %f, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
func.func @shared_piece(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<2xf32>) {
  %a = tensor.extract_slice %x[0] [2] [1] : tensor<4xf32> to tensor<2xf32>
  %b = tensor.extract_slice %x[2] [2] [1] : tensor<4xf32> to tensor<2xf32>
  %e = tensor.empty() : tensor<2xf32>
  %f = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]} ins(%a : tensor<2xf32>) outs(%e : tensor<2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<2xf32>
  %r = tensor.concat dim(0) %f, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<4xf32>
  return %r, %f : tensor<4xf32>, tensor<2xf32>
}
