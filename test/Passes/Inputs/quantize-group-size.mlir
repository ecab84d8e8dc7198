// Input of qcc-quantize-weights-invalid.mlir (group-size=0).

// expected-error @+1 {{group size must be positive, got 0}}
func.func @bad_group() {
  return
}
