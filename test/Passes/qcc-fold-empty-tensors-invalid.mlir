// RUN: qcc-opt %s -split-input-file -qcc-fold-empty-tensors -verify-diagnostics

// A pad whose value depends on the position cannot be folded: the op still
// reads the empty tensor, which the code generators cannot pass.
func.func @pad_by_index(%x: tensor<2x0xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{reads a zero-size tensor ('tensor<2x0xf32>') that qcc cannot fold away}}
  %p = tensor.pad %x low[0, 1] high[0, 1] {
  ^bb0(%i: index, %j: index):
    %c = arith.index_cast %j : index to i32
    %f = arith.sitofp %c : i32 to f32
    tensor.yield %f : f32
  } : tensor<2x0xf32> to tensor<2x2xf32>
  return %p : tensor<2x2xf32>
}

// -----

// Reading one element of an empty tensor has nothing to read.
func.func @extract(%x: tensor<2x0xf32>, %i: index) -> f32 {
  // expected-error @+1 {{reads a zero-size tensor}}
  %v = tensor.extract %x[%i, %i] : tensor<2x0xf32>
  return %v : f32
}
