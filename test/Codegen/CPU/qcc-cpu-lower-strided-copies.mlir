// RUN: qcc-opt %s -qcc-cpu-lower-strided-copies | FileCheck %s

// CHECK-LABEL: func @copies
// CHECK-SAME: (%[[A:.+]]: memref<4x8xf32>, %[[B:.+]]: memref<4x8xf32>, %[[C:.+]]: memref<4x16xf32>)
func.func @copies(%a: memref<4x8xf32>, %b: memref<4x8xf32>, %c: memref<4x16xf32>) {
  // A contiguous copy stays (it becomes memcpy).
  // CHECK: memref.copy %[[A]], %[[B]]
  memref.copy %a, %b : memref<4x8xf32> to memref<4x8xf32>
  // CHECK: %[[SUB:.+]] = memref.subview %[[C]]
  // CHECK: linalg.copy ins(%[[A]] : memref<4x8xf32>) outs(%[[SUB]] : memref<4x8xf32, strided<[16, 1], offset: 8>>)
  // CHECK-NOT: memref.copy
  %sub = memref.subview %c[0, 8] [4, 8] [1, 1] : memref<4x16xf32> to memref<4x8xf32, strided<[16, 1], offset: 8>>
  memref.copy %a, %sub : memref<4x8xf32> to memref<4x8xf32, strided<[16, 1], offset: 8>>
  return
}
