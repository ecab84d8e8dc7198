// The W4A16 GEMV's register cap reaches the PTX: 16 rows x 8480 columns
// (530 column tiles, 265 blocks of 8 warps) need 3 blocks per SM for one
// wave on 132 SMs, so the kernel carries `.maxnreg 80` (qcc-gpu-lower-qmatmul
// puts qcc.kernel_attrs on the launch, qcc-gpu-outline-kernels moves it to
// the kernel); with 8448 columns (264 blocks, 2 per SM) it has no cap.
// RUN: rm -rf %t && mkdir -p %t
// RUN: qcc %s -target=sm_80 -bits=4 --act=none --group-size=128 --weight-clip=none -o %t/cap/model
// RUN: FileCheck %s < %t/cap/model.ptx
// RUN: sed 's/8480/8448/g' %s > %t/nocap.mlir
// RUN: qcc %t/nocap.mlir -target=sm_80 -bits=4 --act=none --group-size=128 --weight-clip=none -o %t/nocap/model
// RUN: FileCheck %s --check-prefix=NOCAP < %t/nocap/model.ptx

// Only the GEMV kernel (the one with mma.sync) has the cap.
// CHECK-NOT: .maxnreg
// CHECK: .maxntid 256, 1, 1{{$}}
// CHECK-NOT: .maxnreg
// CHECK: {{^}}.maxnreg 80{{$}}
// CHECK-NEXT: {
// CHECK-NOT: .entry
// CHECK: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// CHECK-NOT: .maxnreg
// NOCAP-NOT: .maxnreg
// NOCAP: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// NOCAP-NOT: .maxnreg
module {
  func.func @main(%x: tensor<16x1024xf32> {qcc.dtype = "float32", qcc.name = "x"}) -> (tensor<16x8480xf32> {qcc.dtype = "float32", qcc.name = "y"}) {
    %w = arith.constant dense<0.5> : tensor<1024x8480xf32>
    %zero = arith.constant 0.000000e+00 : f32
    %e = tensor.empty() : tensor<16x8480xf32>
    %f = linalg.fill ins(%zero : f32) outs(%e : tensor<16x8480xf32>) -> tensor<16x8480xf32>
    %y = linalg.matmul ins(%x, %w : tensor<16x1024xf32>, tensor<1024x8480xf32>) outs(%f : tensor<16x8480xf32>) -> tensor<16x8480xf32>
    return %y : tensor<16x8480xf32>
  }
}
