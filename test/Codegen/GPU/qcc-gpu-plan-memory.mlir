// RUN: qcc-opt %s -qcc-gpu-plan-memory | FileCheck %s

// %a and %b are live at the same time; %c is allocated after the last use
// of %a and takes its bytes. 1000 bytes round up to 1024.
// CHECK: module attributes {gpu.container_module, qcc.arena_bytes = 1280 : i64}
// CHECK: memref.alloc() {qcc.arena_offset = 0 : i64} : memref<250xf32>
// CHECK: memref.alloc() {qcc.arena_offset = 1024 : i64} : memref<64xf32>
// CHECK: memref.alloc() {qcc.arena_offset = 0 : i64} : memref<16x16xf32>
module attributes {gpu.container_module} {
  gpu.module @qcc_kernels {
    gpu.func @k0(%a: memref<250xf32>, %b: memref<64xf32>) kernel {
      gpu.return
    }
    gpu.func @k1(%a: memref<64xf32>, %b: memref<16x16xf32>) kernel {
      gpu.return
    }
  }
  func.func @main(%x: memref<16x16xf32>, %out: memref<256xf32>) {
    %c1 = arith.constant 1 : index
    %a = memref.alloc() : memref<250xf32>
    %b = memref.alloc() : memref<64xf32>
    gpu.launch_func @qcc_kernels::@k0 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<250xf32>, %b : memref<64xf32>)
    %c = memref.alloc() : memref<16x16xf32>
    gpu.launch_func @qcc_kernels::@k1 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%b : memref<64xf32>, %c : memref<16x16xf32>)
    %flat = memref.collapse_shape %c [[0, 1]] : memref<16x16xf32> into memref<256xf32>
    memref.copy %flat, %out : memref<256xf32> to memref<256xf32>
    return
  }
}
