// RUN: qcc-opt %s -split-input-file -qcc-smooth-activations="alpha=1.5" -verify-diagnostics
// RUN: qcc-opt %S/Inputs/smooth-bad-stats.mlir -split-input-file -qcc-smooth-activations -verify-diagnostics

// expected-error @+1 {{qcc-smooth-activations: alpha must be in [0, 1], got 1.5}}
func.func @bad_alpha() {
  return
}
