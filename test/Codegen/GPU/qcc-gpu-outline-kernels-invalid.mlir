// RUN: qcc-opt %s -split-input-file -qcc-gpu-outline-kernels -verify-diagnostics

func.func @main(%m: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  // expected-error @+1 {{kernel attribute 'nvvm.maxnreg' = 300 is out of range [16, 255]}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1)
             module(@qcc_kernels) function(@k0) {
    gpu.terminator
  } {qcc.kernel_attrs = {nvvm.maxnreg = 300 : i32}}
  return
}

// -----

func.func @main(%m: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  // expected-error @+1 {{kernel attribute 'nvvm.minctasm' = 0 is out of range [1, 32]}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1)
             module(@qcc_kernels) function(@k0) {
    gpu.terminator
  } {qcc.kernel_attrs = {nvvm.minctasm = 0 : i32}}
  return
}

// -----

func.func @main(%m: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  // expected-error @+1 {{kernel attribute 'nvvm.maxnreg' must be an i32 integer}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1)
             module(@qcc_kernels) function(@k0) {
    gpu.terminator
  } {qcc.kernel_attrs = {nvvm.maxnreg = "80"}}
  return
}

// -----

func.func @main(%m: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  // expected-error @+1 {{has unknown kernel attribute 'nvvm.maxntid' (expected nvvm.maxnreg or nvvm.minctasm)}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1)
             module(@qcc_kernels) function(@k0) {
    gpu.terminator
  } {qcc.kernel_attrs = {nvvm.maxntid = array<i32: 4, 1, 1>}}
  return
}

// -----

func.func @main(%m: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  // expected-error @+1 {{'qcc.kernel_attrs' must be a dictionary}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1)
             module(@qcc_kernels) function(@k0) {
    gpu.terminator
  } {qcc.kernel_attrs = 80 : i32}
  return
}

// -----

func.func @main(%m: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  // expected-error @+1 {{with kernel attributes needs a kernel name (module(@m) function(@f))}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    gpu.terminator
  } {qcc.kernel_attrs = {nvvm.maxnreg = 80 : i32}}
  return
}

// -----

func.func @main(%m: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1)
             module(@qcc_kernels) function(@k0) {
    gpu.terminator
  } {qcc.kernel_attrs = {nvvm.maxnreg = 80 : i32}}
  // expected-error @+1 {{with kernel attributes: kernel name @qcc_kernels::@k0 is not unique}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1)
             module(@qcc_kernels) function(@k0) {
    gpu.terminator
  } {qcc.kernel_attrs = {nvvm.maxnreg = 64 : i32}}
  return
}
