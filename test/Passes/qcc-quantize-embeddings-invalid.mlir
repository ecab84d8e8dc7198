// RUN: qcc-opt %s -qcc-quantize-embeddings="min-elements=0" -verify-diagnostics

// expected-error @+1 {{qcc-quantize-embeddings: min-elements must be at least 1, got 0}}
func.func @bad_threshold() {
  return
}
