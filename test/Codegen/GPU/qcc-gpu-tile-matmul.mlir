// RUN: qcc-opt %s -split-input-file -qcc-gpu-tile-matmul=tile=32 -cse | FileCheck %s

// 100x70 output in 32x32 tiles: a 3x4 grid of 16x16 threads, A and B
// stages in workgroup memory, 2x2 results per thread, guarded edges.
// CHECK-LABEL: func @matmul
// CHECK-DAG: %[[C3:.+]] = arith.constant 3 : index
// CHECK-DAG: %[[C4:.+]] = arith.constant 4 : index
// CHECK-DAG: %[[C16:.+]] = arith.constant 16 : index
// CHECK: gpu.launch blocks({{.+}}) in (%{{.+}} = %[[C3]], %{{.+}} = %[[C4]], %{{.+}} = %{{.+}}) threads({{.+}}) in (%{{.+}} = %[[C16]], %{{.+}} = %[[C16]], %{{.+}} = %{{.+}}) workgroup(%[[AT:.+]] : memref<32x16xf32, #gpu.address_space<workgroup>>, %[[BT:.+]] : memref<16x32xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for {{.+}} iter_args
// CHECK: scf.if
// CHECK: memref.store %{{.+}}, %[[AT]]
// CHECK: memref.store %{{.+}}, %[[BT]]
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK-COUNT-4: arith.mulf
// CHECK: gpu.barrier
// CHECK-COUNT-4: memref.store %{{.+}}, %{{.+}} : memref<100x70xf32>
// CHECK-NOT: linalg.matmul
func.func @matmul(%a: memref<100x40xf32>, %b: memref<40x70xf32>, %c: memref<100x70xf32>) {
  linalg.matmul ins(%a, %b : memref<100x40xf32>, memref<40x70xf32>) outs(%c : memref<100x70xf32>)
  return
}

// -----

// Batches are the grid's z dimension; exact tiles need no guards.
// CHECK-LABEL: func @batch
// CHECK-DAG: %[[C5:.+]] = arith.constant 5 : index
// CHECK: gpu.launch blocks({{.+}}) in (%{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}, %{{.+}} = %[[C5]])
// CHECK-NOT: scf.if
// CHECK: memref.store %{{.+}}, %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] : memref<5x64x32xf32>
func.func @batch(%a: memref<5x64x16xf32>, %b: memref<5x16x32xf32>, %c: memref<5x64x32xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<5x64x16xf32>, memref<5x16x32xf32>) outs(%c : memref<5x64x32xf32>)
  return
}

// -----

// Other element types are left to the generic lowering.
// CHECK-LABEL: func @integer
// CHECK: linalg.matmul
func.func @integer(%a: memref<4x4xi32>, %b: memref<4x4xi32>, %c: memref<4x4xi32>) {
  linalg.matmul ins(%a, %b : memref<4x4xi32>, memref<4x4xi32>) outs(%c : memref<4x4xi32>)
  return
}

// -----

// A fill of C right before (attention's zero init): the tiles add their
// sums to the fill's constant instead of reading C, and the fill goes. A
// fill that a load reads in between stays, and C is read.
// CHECK-LABEL: func @fill_folded
// CHECK-NOT: linalg.fill
// CHECK: %[[INIT:.+]] = arith.constant 2.500000e-01 : f32
// CHECK: gpu.launch
// CHECK-NOT: memref.load %{{.+}} : memref<5x64x32xf32>
// CHECK: arith.addf %[[INIT]], %{{.+}} : f32
// CHECK: memref.store %{{.+}}, %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] : memref<5x64x32xf32>
// CHECK-LABEL: func @fill_read_between
// CHECK: linalg.fill
// CHECK: memref.load
// CHECK: gpu.launch
// CHECK: memref.load %{{.+}} : memref<5x64x32xf32>
func.func @fill_folded(%a: memref<5x64x16xf32>, %b: memref<5x16x32xf32>, %c: memref<5x64x32xf32>) {
  %init = arith.constant 0.25 : f32
  %buf = memref.alloc() : memref<5x64x32xf32>
  linalg.fill ins(%init : f32) outs(%buf : memref<5x64x32xf32>)
  linalg.batch_matmul ins(%a, %b : memref<5x64x16xf32>, memref<5x16x32xf32>) outs(%buf : memref<5x64x32xf32>)
  memref.copy %buf, %c : memref<5x64x32xf32> to memref<5x64x32xf32>
  return
}
func.func @fill_read_between(%a: memref<5x64x16xf32>, %b: memref<5x16x32xf32>, %c: memref<5x64x32xf32>) -> f32 {
  %init = arith.constant 0.25 : f32
  %i = arith.constant 0 : index
  %buf = memref.alloc() : memref<5x64x32xf32>
  linalg.fill ins(%init : f32) outs(%buf : memref<5x64x32xf32>)
  %v = memref.load %buf[%i, %i, %i] : memref<5x64x32xf32>
  linalg.batch_matmul ins(%a, %b : memref<5x64x16xf32>, memref<5x16x32xf32>) outs(%buf : memref<5x64x32xf32>)
  memref.copy %buf, %c : memref<5x64x32xf32> to memref<5x64x32xf32>
  return %v : f32
}

// -----

// Bufferization's shared zero accumulator: a buffer only filled and copied
// from. The matmul that the copy initialized starts from the constant and
// the copy goes; the fill stays while another copy reads the buffer.
// CHECK-LABEL: func @copy_of_filled
// CHECK: %[[Z:.+]] = memref.alloc() : memref<5x64x32xf32>
// CHECK: linalg.fill ins(%{{.+}} : f32) outs(%[[Z]] : memref<5x64x32xf32>)
// CHECK-NOT: memref.copy
// CHECK: gpu.launch
// CHECK: memref.copy %[[Z]], %arg3
// The last layer's matmul accumulates in the shared buffer itself, after
// every copy from it: the first matmul starts from the copy's constant, the
// last from the fill's, and the copy and the fill both go.
// CHECK-LABEL: func @last_in_place
// CHECK-NOT: linalg.fill
// CHECK-NOT: memref.copy
// CHECK: gpu.launch
// CHECK-NOT: memref.load %{{.+}} : memref<5x64x32xf32>
// CHECK: gpu.launch
// CHECK-NOT: memref.load %{{.+}} : memref<5x64x32xf32>
// CHECK: memref.copy %alloc, %arg3
// CHECK-LABEL: func @only_copy_of_filled
// CHECK-NOT: linalg.fill
// CHECK-NOT: memref.copy
// CHECK: gpu.launch
func.func @copy_of_filled(%a: memref<5x64x16xf32>, %b: memref<5x16x32xf32>, %c: memref<5x64x32xf32>, %d: memref<5x64x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %z = memref.alloc() : memref<5x64x32xf32>
  linalg.fill ins(%zero : f32) outs(%z : memref<5x64x32xf32>)
  %buf = memref.alloc() : memref<5x64x32xf32>
  memref.copy %z, %buf : memref<5x64x32xf32> to memref<5x64x32xf32>
  linalg.batch_matmul ins(%a, %b : memref<5x64x16xf32>, memref<5x16x32xf32>) outs(%buf : memref<5x64x32xf32>)
  memref.copy %buf, %c : memref<5x64x32xf32> to memref<5x64x32xf32>
  memref.copy %z, %d : memref<5x64x32xf32> to memref<5x64x32xf32>
  return
}
func.func @last_in_place(%a: memref<5x64x16xf32>, %b: memref<5x16x32xf32>, %c: memref<5x64x32xf32>, %d: memref<5x64x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %z = memref.alloc() : memref<5x64x32xf32>
  linalg.fill ins(%zero : f32) outs(%z : memref<5x64x32xf32>)
  %buf = memref.alloc() : memref<5x64x32xf32>
  memref.copy %z, %buf : memref<5x64x32xf32> to memref<5x64x32xf32>
  linalg.batch_matmul ins(%a, %b : memref<5x64x16xf32>, memref<5x16x32xf32>) outs(%buf : memref<5x64x32xf32>)
  memref.copy %buf, %c : memref<5x64x32xf32> to memref<5x64x32xf32>
  linalg.batch_matmul ins(%a, %b : memref<5x64x16xf32>, memref<5x16x32xf32>) outs(%z : memref<5x64x32xf32>)
  memref.copy %z, %d : memref<5x64x32xf32> to memref<5x64x32xf32>
  return
}
func.func @only_copy_of_filled(%a: memref<5x64x16xf32>, %b: memref<5x16x32xf32>, %c: memref<5x64x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %z = memref.alloc() : memref<5x64x32xf32>
  linalg.fill ins(%zero : f32) outs(%z : memref<5x64x32xf32>)
  %buf = memref.alloc() : memref<5x64x32xf32>
  memref.copy %z, %buf : memref<5x64x32xf32> to memref<5x64x32xf32>
  linalg.batch_matmul ins(%a, %b : memref<5x64x16xf32>, memref<5x16x32xf32>) outs(%buf : memref<5x64x32xf32>)
  memref.copy %buf, %c : memref<5x64x32xf32> to memref<5x64x32xf32>
  return
}
