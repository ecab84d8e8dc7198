// RUN: qcc-opt %s -qcc-cpu-matmul-microkernel="rows=0" -verify-diagnostics

// expected-error @+1 {{qcc-cpu-matmul-microkernel options must be positive}}
func.func @f() {
  return
}
