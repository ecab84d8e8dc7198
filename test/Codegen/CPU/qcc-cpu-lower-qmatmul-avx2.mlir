// RUN: qcc-opt %s -split-input-file -qcc-cpu-lower-qmatmul="vnni=false parallel-min-fmas=0" | FileCheck %s
// RUN: qcc-opt %s -split-input-file -qcc-cpu-lower-qmatmul="vnni=false avx2=false" | FileCheck %s --check-prefix=PORTABLE

// AVX2 (no VNNI) int8 weights with dynamic activations: K = 6 is padded to
// 8 with zero codes, the weight is repacked as signed codes in 32-byte
// blocks of 8 columns x 4 K (code 1 -> 0x01), activations are quantized to
// i16 codes, a K pair of a row is broadcast as one i32, vpmaddwd multiplies
// the sign-extended weights; no offset to remove.
// CHECK-DAG: memref.global "private" constant @__qcc_kweight : memref<128xi8>
// CHECK-LABEL: func @w8a8
// CHECK-SAME: (%[[X:.+]]: memref<2x6xf32>, %[[S:.+]]: memref<16xf32>, %[[OUT:.+]]: memref<2x16xf32>)
// CHECK: %[[KW:.+]] = memref.get_global @__qcc_kweight
// CHECK: %[[QX:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x8xi16>
// CHECK: math.roundeven
// CHECK: arith.trunci %{{.+}} : i32 to i16
// CHECK: memref.store %{{.+}}, %[[QX]][%{{.+}}, %c6{{.*}}] : memref<2x8xi16>
// CHECK: memref.store %{{.+}}, %[[QX]][%{{.+}}, %c7{{.*}}] : memref<2x8xi16>
// CHECK: scf.parallel
// CHECK: %[[W:.+]] = vector.load %[[KW]][%{{.+}}] : memref<128xi8>, vector<16xi8>
// CHECK: %[[WIDE:.+]] = arith.extsi %[[W]] : vector<16xi8> to vector<16xi16>
// CHECK: %[[PAIR:.+]] = vector.load %[[QX]][%{{.+}}, %{{.+}}] : memref<2x8xi16>, vector<2xi16>
// CHECK: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[WIDE]], %{{.+}}) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// CHECK-NOT: arith.subi
// CHECK: arith.sitofp %{{.+}} : vector<8xi32> to vector<8xf32>
// CHECK: vector.store %{{.+}}, %[[OUT]][%{{.+}}, %{{.+}}] : memref<2x16xf32>, vector<8xf32>
// CHECK: memref.dealloc %[[QX]]
// CHECK-NOT: q.matmul
// CHECK: qcc_kweight: "0x{{[0-9A-F]+}}01010101
// PORTABLE-LABEL: func @w8a8
// PORTABLE-NOT: llvm.call_intrinsic
// PORTABLE: linalg.matmul
func.func @w8a8(%x: memref<2x6xf32>, %s: memref<16xf32>, %out: memref<2x16xf32>) {
  %w = q.weight_constant dense<1> : tensor<96xi8> -> !q.weight<6x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<2x6xf32>, !q.weight<6x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, memref<16xf32>, memref<2x16xf32>) -> ()
  return
}

// -----

// Symmetric int4 groups on AVX2: nibbles stored as code + 8 (17 = codes 1,
// 1 -> 0x99), a 16-byte half zero-extended to i16, low nibbles (& 15) and
// high ones (>> 4) are two K pairs; 8 * group sum removed per group. N = 24
// is three 8-column blocks.
// CHECK-LABEL: func @w4a8
// CHECK: %[[SUMS:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x2xi32>
// CHECK: arith.extui %{{.+}} : vector<16xi8> to vector<16xi16>
// CHECK: arith.andi
// CHECK: arith.shrui
// CHECK: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
// CHECK: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
// CHECK: memref.load %[[SUMS]]
// CHECK: arith.muli %{{.+}} : vector<8xi32>
// CHECK: arith.subi %{{.+}} : vector<8xi32>
// CHECK: math.fma %{{.+}} : vector<8xf32>
// CHECK: qcc_kweight: "0x{{[0-9A-F]+}}99999999
func.func @w4a8(%x: memref<1x16xf32>, %s: memref<2x24xf32>, %out: memref<1x24xf32>) {
  %w = q.weight_constant dense<17> : tensor<192xi8> -> !q.weight<16x24xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 8, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<1x16xf32>, !q.weight<16x24xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 8, symmetric = true>, packed_k>, memref<2x24xf32>, memref<1x24xf32>) -> ()
  return
}

// -----

// Asymmetric int4: the zero point times the group sum is removed per column.
// CHECK-LABEL: func @w4a8_asym
// CHECK-SAME: %[[Z:[a-z0-9]+]]: memref<2x8xi32>
// CHECK: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
// CHECK: %[[ZV:.+]] = vector.load %[[Z]][%{{.+}}, %{{.+}}] : memref<2x8xi32>, vector<8xi32>
// CHECK: arith.muli %[[ZV]], %{{.+}} : vector<8xi32>
func.func @w4a8_asym(%x: memref<1x16xf32>, %s: memref<2x8xf32>, %z: memref<2x8xi32>, %out: memref<1x8xf32>) {
  %w = q.weight_constant dense<35> : tensor<64xi8> -> !q.weight<16x8xi4, #q.scheme<bits = 4, is_signed = false, granularity = per_group, axis = 0, group_size = 8, symmetric = false>, packed_k>
  q.matmul %x, %w scales(%s) zero_points(%z) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<1x16xf32>, !q.weight<16x8xi4, #q.scheme<bits = 4, is_signed = false, granularity = per_group, axis = 0, group_size = 8, symmetric = false>, packed_k>, memref<2x8xf32>, memref<2x8xi32>, memref<1x8xf32>) -> ()
  return
}

// -----

// Weight-only int4 on AVX2: dword lane n of a 32-byte block holds column
// n's 8 K values (17 = codes 1, 1 -> 0x99), (lanes >> 4i) & 15 converted
// to f32, minus 8, times the group's scales, FMA with the broadcast x.
// CHECK-LABEL: func @w4f32
// CHECK-NOT: linalg.matmul
// CHECK: vector.load %{{.+}} : memref<128xi8>, vector<32xi8>
// CHECK: arith.shrui %{{.+}} : vector<8xi32>
// CHECK: arith.andi %{{.+}} : vector<8xi32>
// CHECK: arith.sitofp %{{.+}} : vector<8xi32> to vector<8xf32>
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: math.fma %{{.+}} : vector<8xf32>
// N % 8 != 0 keeps the portable path.
// CHECK-LABEL: func @n12
// CHECK-NOT: llvm.call_intrinsic
// CHECK: linalg.matmul
// CHECK: qcc_kweight: "0x{{[0-9A-F]+}}99999999
func.func @w4f32(%x: memref<3x16xf32>, %s: memref<2x16xf32>, %out: memref<3x16xf32>) {
  %w = q.weight_constant dense<17> : tensor<128xi8> -> !q.weight<16x16xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 8, symmetric = true>, packed_k>
  q.matmul %x, %w scales(%s) outs(%out) : (memref<3x16xf32>, !q.weight<16x16xi4, #q.scheme<bits = 4, is_signed = true, granularity = per_group, axis = 0, group_size = 8, symmetric = true>, packed_k>, memref<2x16xf32>, memref<3x16xf32>) -> ()
  return
}
func.func @n12(%x: memref<2x8xf32>, %s: memref<12xf32>, %out: memref<2x12xf32>) {
  %w = q.weight_constant dense<1> : tensor<96xi8> -> !q.weight<8x12xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<2x8xf32>, !q.weight<8x12xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, memref<12xf32>, memref<2x12xf32>) -> ()
  return
}
