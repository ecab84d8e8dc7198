// RUN: qcc-opt %s -qcc-cpu-matmul-microkernel="rows=-1" -verify-diagnostics

// expected-error @+1 {{qcc-cpu-matmul-microkernel: vector-width must be positive, rows and vectors-per-row positive or 0 (chosen by shape)}}
func.func @f() {
  return
}
