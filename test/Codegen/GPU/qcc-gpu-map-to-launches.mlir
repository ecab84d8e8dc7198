// RUN: qcc-opt %s -split-input-file -qcc-gpu-map-to-launches=block-size=128 -cse | FileCheck %s

// A 2-D parallel loop is linearized over 1-D blocks: 10x30 = 300 points,
// 3 blocks of 128 with the last one guarded; constants are sunk into the
// launch, views stay outside (kernels take them as buffers).
// CHECK-LABEL: func @parallel
// CHECK: %[[V:.+]] = memref.subview
// CHECK-DAG: %[[C3:.+]] = arith.constant 3 : index
// CHECK-DAG: %[[C128:.+]] = arith.constant 128 : index
// CHECK: gpu.launch blocks(%[[BX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %[[C3]], %{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}) threads(%[[TX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %[[C128]], %{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}) module(@qcc_kernels) function(@k0_relu)
// CHECK: arith.constant 0.000000e+00 : f32
// CHECK: %[[ID:.+]] = arith.addi %{{.+}}, %[[TX]] : index
// CHECK: %[[IN:.+]] = arith.cmpi ult, %[[ID]], %{{.+}} : index
// CHECK: scf.if %[[IN]] {
// CHECK: arith.remui %[[ID]]
// CHECK: arith.divui %[[ID]]
// CHECK: memref.load %[[V]]
// CHECK: arith.maximumf
// CHECK: gpu.terminator
// CHECK-NOT: scf.parallel
func.func @parallel(%x: memref<10x32xf32>, %out: memref<10x30xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c10 = arith.constant 10 : index
  %c30 = arith.constant 30 : index
  %zero = arith.constant 0.0 : f32
  %v = memref.subview %x[0, 1] [10, 30] [1, 1] : memref<10x32xf32> to memref<10x30xf32, strided<[32, 1], offset: 1>>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c10, %c30) step (%c1, %c1) {
    %a = memref.load %v[%i, %j] : memref<10x30xf32, strided<[32, 1], offset: 1>>
    %r = arith.maximumf %a, %zero : f32
    memref.store %r, %out[%i, %j] : memref<10x30xf32>
    scf.reduce
  } {relu} loc("relu")
  return
}

// -----

// Consecutive ops without parallel dimension (a full reduction) run on one
// thread; launches are numbered in program order.
// CHECK-LABEL: func @serial
// CHECK: gpu.launch {{.+}} module(@qcc_kernels) function(@k0_sum)
// CHECK: linalg.fill
// CHECK: scf.for
// CHECK: memref.store
// CHECK: gpu.terminator
// CHECK: gpu.launch {{.+}} module(@qcc_kernels) function(@k1)
// CHECK-NOT: scf.if
// CHECK: arith.mulf
func.func @serial(%x: memref<64xf32>, %out: memref<f32>, %y: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<f32>) loc("sum")
  scf.for %i = %c0 to %c64 step %c1 {
    %a = memref.load %x[%i] : memref<64xf32>
    %s = memref.load %out[] : memref<f32>
    %t = arith.addf %a, %s : f32
    memref.store %t, %out[] : memref<f32>
  }
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %a = memref.load %x[%i] : memref<64xf32>
    %b = arith.mulf %a, %a : f32
    memref.store %b, %y[%i] : memref<64xf32>
    scf.reduce
  }
  return
}
