// RUN: qcc-opt %s -qcc-cpu-matmul-microkernel="parallel-min-fmas=-1" | FileCheck %s

// parallel-min-fmas=-1 keeps every matmul serial.
// CHECK-LABEL: func @large
// CHECK-NOT: scf.parallel
// CHECK: scf.for
func.func @large(%a: memref<64x256xf32>, %b: memref<256x256xf32>, %c: memref<64x256xf32>) {
  linalg.matmul ins(%a, %b : memref<64x256xf32>, memref<256x256xf32>) outs(%c : memref<64x256xf32>)
  return
}
