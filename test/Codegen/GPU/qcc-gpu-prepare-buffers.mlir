// RUN: qcc-opt %s -split-input-file -qcc-gpu-prepare-buffers | FileCheck %s

// A splat global becomes a filled device buffer; the dead global goes away.
// CHECK-NOT: memref.global
// CHECK-LABEL: func @splat_global
// CHECK: %[[BUF:.+]] = memref.alloc() : memref<4x8xf32>
// CHECK: %[[C:.+]] = arith.constant 2.500000e+00 : f32
// CHECK: linalg.fill ins(%[[C]] : f32) outs(%[[BUF]] : memref<4x8xf32>)
// CHECK: linalg.add ins(%{{.+}}, %[[BUF]] :
memref.global "private" constant @cst : memref<4x8xf32> = dense<2.5>
func.func @splat_global(%x: memref<4x8xf32>, %out: memref<4x8xf32>) {
  %c = memref.get_global @cst : memref<4x8xf32>
  linalg.add ins(%x, %c : memref<4x8xf32>, memref<4x8xf32>) outs(%out : memref<4x8xf32>)
  return
}

// -----

// Copies out of a strided view become linalg.copy; contiguous ones stay.
// CHECK-LABEL: func @copies
// CHECK: linalg.copy ins(%{{.+}} : memref<4x4xf32, strided<[8, 1]>>) outs(%{{.+}} : memref<4x4xf32>)
// CHECK: memref.copy %{{.+}}, %{{.+}} : memref<4x8xf32> to memref<4x8xf32>
func.func @copies(%x: memref<4x8xf32>, %a: memref<4x4xf32>, %b: memref<4x8xf32>) {
  %v = memref.subview %x[0, 0] [4, 4] [1, 1] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 1]>>
  memref.copy %v, %a : memref<4x4xf32, strided<[8, 1]>> to memref<4x4xf32>
  memref.copy %x, %b : memref<4x8xf32> to memref<4x8xf32>
  return
}
