// RUN: qcc-opt %s -qcc-cpu-pack-matmul-weights="panel=24" -verify-diagnostics

// A panel that does not hold whole vectors of 16 lanes.
// expected-error @+1 {{qcc-cpu-pack-matmul-weights: vector-width and min-rows must be positive, panel 0 or a multiple of vector-width}}
func.func @f() {
  return
}
