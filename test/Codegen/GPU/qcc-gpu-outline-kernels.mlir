// RUN: qcc-opt %s -split-input-file -qcc-gpu-outline-kernels | FileCheck %s
// RUN: qcc-opt %s -split-input-file -qcc-gpu-outline-kernels | qcc-opt -split-input-file --pass-pipeline='builtin.module(gpu.module(convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=1}))' | FileCheck %s --check-prefix=NVVM

// A launch's kernel attributes end on its outlined kernel (and survive the
// lowering to NVVM, from which the PTX emitter writes `.maxnreg 80`);
// launches without them outline as with gpu-kernel-outlining.

// CHECK-LABEL: func.func @main
// CHECK: gpu.launch_func @qcc_kernels::@k0
// CHECK: gpu.launch_func @qcc_kernels::@k1
// CHECK: gpu.module @qcc_kernels
// CHECK: gpu.func @k0(%{{.*}}: memref<256xf32>) kernel attributes {known_block_size = array<i32: 256, 1, 1>, known_grid_size = array<i32: 1, 1, 1>, nvvm.maxnreg = 80 : i32}
// CHECK: gpu.func @k1(%{{.*}}: memref<256xf32>) kernel attributes {known_block_size = array<i32: 256, 1, 1>, known_grid_size = array<i32: 1, 1, 1>}
// CHECK-NOT: qcc.kernel_attrs
// NVVM: llvm.func @k0({{.*}}) attributes {{{.*}}nvvm.kernel, nvvm.maxnreg = 80 : i32, nvvm.maxntid = array<i32: 256, 1, 1>
// NVVM: llvm.func @k1({{.*}}) attributes
// NVVM-NOT: nvvm.maxnreg
func.func @main(%m: memref<256xf32>) {
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  %v = arith.constant 1.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1)
             module(@qcc_kernels) function(@k0) {
    memref.store %v, %m[%tx] : memref<256xf32>
    gpu.terminator
  } {qcc.kernel_attrs = {nvvm.maxnreg = 80 : i32}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1)
             module(@qcc_kernels) function(@k1) {
    memref.store %v, %m[%tx] : memref<256xf32>
    gpu.terminator
  }
  return
}

// -----

// Both attributes; the bounds are accepted.
// CHECK-LABEL: func.func @bounds
// CHECK: gpu.func @k0({{.*}}) kernel attributes {{{.*}}nvvm.maxnreg = 255 : i32, nvvm.minctasm = 1 : i32}
// CHECK: gpu.func @k1({{.*}}) kernel attributes {{{.*}}nvvm.maxnreg = 16 : i32, nvvm.minctasm = 32 : i32}
// NVVM: llvm.func @k0({{.*}}nvvm.maxnreg = 255 : i32{{.*}}nvvm.minctasm = 1 : i32
// NVVM: llvm.func @k1({{.*}}nvvm.maxnreg = 16 : i32{{.*}}nvvm.minctasm = 32 : i32
func.func @bounds(%m: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %v = arith.constant 1.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1)
             module(@qcc_kernels) function(@k0) {
    memref.store %v, %m[%tx] : memref<4xf32>
    gpu.terminator
  } {qcc.kernel_attrs = {nvvm.maxnreg = 255 : i32, nvvm.minctasm = 1 : i32}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1)
             module(@qcc_kernels) function(@k1) {
    memref.store %v, %m[%tx] : memref<4xf32>
    gpu.terminator
  } {qcc.kernel_attrs = {nvvm.maxnreg = 16 : i32, nvvm.minctasm = 32 : i32}}
  return
}
