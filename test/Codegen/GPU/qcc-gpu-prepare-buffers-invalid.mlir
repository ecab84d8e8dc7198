// RUN: qcc-opt %s -qcc-gpu-prepare-buffers -verify-diagnostics

memref.global "private" constant @table : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
func.func @non_splat_global(%out: memref<4xf32>) {
  // expected-error @+1 {{constant buffer 'table' is neither a splat nor in the weight file}}
  %c = memref.get_global @table : memref<4xf32>
  memref.copy %c, %out : memref<4xf32> to memref<4xf32>
  return
}
