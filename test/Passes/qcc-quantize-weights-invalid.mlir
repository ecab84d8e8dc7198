// RUN: qcc-opt %s -qcc-quantize-weights="bits=3" -verify-diagnostics
// RUN: qcc-opt %S/Inputs/quantize-group-size.mlir -qcc-quantize-weights="bits=4 group-size=0" -verify-diagnostics
// RUN: qcc-opt %S/Inputs/quantize-static-missing.mlir -split-input-file -qcc-quantize-weights="bits=8 act=static" -verify-diagnostics

// expected-error @+1 {{qcc-quantize-weights supports 8 or 4 bits, got 3}}
func.func @bad_bits() {
  return
}

