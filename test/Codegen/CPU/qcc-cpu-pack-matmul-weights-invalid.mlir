// RUN: qcc-opt %s -qcc-cpu-pack-matmul-weights="panel=0" -verify-diagnostics

// expected-error @+1 {{qcc-cpu-pack-matmul-weights: panel and min-rows must be positive}}
func.func @f() {
  return
}
