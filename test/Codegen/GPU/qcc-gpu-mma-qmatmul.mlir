// RUN: qcc-opt %s -split-input-file -qcc-gpu-mma-qmatmul | FileCheck %s
// RUN: qcc-opt %s -split-input-file -qcc-gpu-mma-qmatmul=wgmma=true | FileCheck %s --check-prefix=WG
// RUN: qcc-opt %s -split-input-file -qcc-gpu-mma-qmatmul="wgmma=true wgmma-tile-n=256 wgmma-split-k=4" | FileCheck %s --check-prefix=SK
// RUN: qcc-opt %s -split-input-file -qcc-gpu-mma-qmatmul="wgmma=true wgmma-tile-n=128 wgmma-split-k=2" | FileCheck %s --check-prefix=SK2

// W8A8 with per-token activations, per-channel weights and a bias: K = 40
// and N = 10 pad to one 64-byte stage and one 64-column tile (rows: 64).
// The weights are prepacked K-major per column, zero padded: column 0's 40
// codes then 24 zeros. Two launches: the quantization (64 rows, 128
// threads, absmax reduced through shuffles and shared memory) and the GEMM
// (cp.async ring of 4 stages, ldmatrix.x4, int8 mma.sync m16n8k32). The
// fill of the output before it is dead (q.matmul overwrites it): erased.
// CHECK: memref.global "private" constant @__qcc_gpu_mma_weight : memref<4096xi8> = dense<"0x030303030303030303030303030303030303030303030303030303030303030303030303030303030000000000000000000000000000000000000000000000000303
// CHECK-LABEL: func @w8a8_dynamic
// CHECK-NOT: linalg.fill
// CHECK: %[[W:.+]] = memref.get_global @__qcc_gpu_mma_weight
// CHECK: %[[A:.+]] = memref.alloc() : memref<4096xi8>
// CHECK: %[[SA:.+]] = memref.alloc() : memref<64xf32>
// CHECK: gpu.launch blocks({{.+}}) in ({{.+}} = %c64{{.*}}, {{.+}}) threads({{.+}}) in ({{.+}} = %c128
// CHECK-SAME: workgroup(%{{.+}} : memref<4xf32, #gpu.address_space<workgroup>>)
// CHECK-NOT: scf.for
// CHECK: math.absf
// CHECK: gpu.shuffle  xor
// CHECK: gpu.barrier
// CHECK: math.roundeven
// CHECK: arith.fptosi
// CHECK: memref.store %{{.+}}, %[[SA]]
// CHECK: gpu.launch
// CHECK-SAME: workgroup(%{{.+}} : memref<16384xi8, #gpu.address_space<workgroup>>, %{{.+}} : memref<16384xi8, #gpu.address_space<workgroup>>)
// CHECK: nvvm.cp.async.shared.global %{{.+}}, %{{.+}}, 16, cache =  cg
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 2
// CHECK: gpu.barrier
// CHECK: nvvm.ldmatrix {{.+}}num = 4 : i32
// CHECK: nvvm.mma.sync
// CHECK-SAME: multiplicandAPtxType = #nvvm.mma_type<s8>
// CHECK-SAME: shape = #nvvm.shape<m = 16, n = 8, k = 32>
// CHECK: arith.sitofp
// CHECK: llvm.store {{.+}} {alignment = 8 : i64} : vector<2xf32>, !llvm.ptr<1>
// CHECK-NOT: q.matmul
// CHECK-NOT: q.weight_constant
// wgmma (sm_90a): a GEMM this small (even a 128x64 tile gives fewer than
// 128 blocks) stays on mma.sync.
// WG-LABEL: func @w8a8_dynamic
// WG: gpu.launch
// WG: gpu.launch
// WG-NOT: nvvm.wgmma
// WG: nvvm.mma.sync
func.func @w8a8_dynamic(%x: memref<3x40xf32>, %s: memref<10xf32>, %bias: memref<10xf32>, %out: memref<3x10xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<3x10xf32>)
  %w = q.weight_constant dense<3> : tensor<400xi8> -> !q.weight<40x10xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  q.matmul %x, %w scales(%s) bias(%bias) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<3x40xf32>, !q.weight<40x10xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, memref<10xf32>, memref<10xf32>, memref<3x10xf32>) -> ()
  return
}

// -----

// Static per-tensor activations: the scale is read from its buffer instead
// of an absmax; per-tensor weight scale. A 3-D input is collapsed to rows.
// CHECK-LABEL: func @w8a8_static
// CHECK: memref.collapse_shape %{{.+}} {{\[\[}}0, 1], [2]] : memref<2x4x64xf32> into memref<8x64xf32>
// CHECK: gpu.launch
// CHECK-NOT: math.absf
// CHECK-NOT: gpu.shuffle
// CHECK: memref.load %{{.+}}[] : memref<f32>
// CHECK: math.roundeven
// CHECK: gpu.launch
// CHECK: nvvm.mma.sync
func.func @w8a8_static(%x: memref<2x4x64xf32>, %s: memref<f32>, %as: memref<f32>, %out: memref<2x4x16xf32>) {
  %w = q.weight_constant dense<-2> : tensor<1024xi8> -> !q.weight<64x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_tensor, axis = 0, group_size = 0, symmetric = true>, row_major>
  q.matmul %x, %w scales(%s) act_scale(%as) outs(%out) {act_quant = #q.act_quant<static_per_tensor>} : (memref<2x4x64xf32>, !q.weight<64x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_tensor, axis = 0, group_size = 0, symmetric = true>, row_major>, memref<f32>, memref<f32>, memref<2x4x16xf32>) -> ()
  return
}

// -----

// Not W8A8 (weight-only int8, int4, zero points): left for
// qcc-gpu-lower-qmatmul.
// CHECK-LABEL: func @weight_only
// CHECK-NOT: gpu.launch
// CHECK: q.matmul
func.func @weight_only(%x: memref<2x64xf32>, %s: memref<16xf32>, %out: memref<2x16xf32>) {
  %w = q.weight_constant dense<1> : tensor<1024xi8> -> !q.weight<64x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<none>} : (memref<2x64xf32>, !q.weight<64x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, memref<16xf32>, memref<2x16xf32>) -> ()
  return
}

// -----

// CHECK-LABEL: func @odd_columns
// CHECK-NOT: gpu.launch
// CHECK: q.matmul
func.func @odd_columns(%x: memref<2x64xf32>, %s: memref<15xf32>, %out: memref<2x15xf32>) {
  %w = q.weight_constant dense<1> : tensor<960xi8> -> !q.weight<64x15xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<2x64xf32>, !q.weight<64x15xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, memref<15xf32>, memref<2x15xf32>) -> ()
  return
}

// -----

// Rows longer than 4096 values get a larger quantization block, so that no
// thread holds more than 8 16-byte chunks: K = 4160 (1040 chunks) runs 160
// threads (5 warps reduce through shared memory) and the row stays in
// registers (no loop); blocks stop growing at 1024 threads.
// CHECK-LABEL: func @long_rows
// CHECK: gpu.launch blocks({{.+}}) threads({{.+}}) in ({{.+}} = %c160
// CHECK-SAME: workgroup(%{{.+}} : memref<5xf32, #gpu.address_space<workgroup>>)
// CHECK-NOT: scf.for
// CHECK: math.absf
// CHECK: gpu.shuffle  xor
// CHECK: math.roundeven
// CHECK: gpu.launch
// CHECK: nvvm.mma.sync
func.func @long_rows(%x: memref<2x4160xf32>, %s: memref<16xf32>, %out: memref<2x16xf32>) {
  %w = q.weight_constant dense<1> : tensor<66560xi8> -> !q.weight<4160x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<2x4160xf32>, !q.weight<4160x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, memref<16xf32>, memref<2x16xf32>) -> ()
  return
}

// -----

// Rows longer than 1024 threads x 8 chunks (K = 32832) are read twice by
// the quantization kernel: an absmax loop, then a rounding loop.
// CHECK-LABEL: func @very_long_rows
// CHECK: gpu.launch blocks({{.+}}) threads({{.+}}) in ({{.+}} = %c1024
// CHECK: scf.for
// CHECK: math.absf
// CHECK: gpu.shuffle  xor
// CHECK: scf.for
// CHECK: math.roundeven
// CHECK: gpu.launch
// CHECK: nvvm.mma.sync
func.func @very_long_rows(%x: memref<2x32832xf32>, %s: memref<16xf32>, %out: memref<2x16xf32>) {
  %w = q.weight_constant dense<1> : tensor<525312xi8> -> !q.weight<32832x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<2x32832xf32>, !q.weight<32832x16xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, memref<16xf32>, memref<2x16xf32>) -> ()
  return
}

// -----

// wgmma (sm_90a), 4096 x 1024 x 512: 128x128 tiles (32 x 4 = 128 blocks; two
// consumer warpgroups of 128 threads, each m64n128, and a producer warp: 288
// threads), the weights packed for 128 columns per tile (1024 K x 512 =
// 524288 bytes), the ring of 12 stages (a tile of at most 128 columns takes
// up to 16 in 192 KB) with a `full` and an `empty` mbarrier each in
// 1024-byte-aligned dynamic shared memory: 12 x ((128 + 128) x 64 + 16) +
// 1024 = 197824 bytes. The producer arms each stage for 16384 bytes (bulk
// copies of 8192 bytes of A and of B); the consumers wait on the stage's
// phase, run two m64n128k32 s8 wgmma on matrix descriptors (one group stays
// in flight) and release the previous slot.
// WG: memref.global "private" constant @__qcc_gpu_mma_weight : memref<524288xi8>
// WG-LABEL: func @w8a8_wgmma
// WG: gpu.launch
// WG: math.roundeven
// WG: gpu.launch blocks({{.+}}) in ({{.+}} = %c4{{.*}}, {{.+}} = %c32{{.*}}, {{.+}}) threads({{.+}}) in ({{.+}} = %c288{{.*}}) dynamic_shared_memory_size %c197824_i32
// WG: gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// WG-NOT: nvvm.cp.async.shared.global
// WG-COUNT-12: nvvm.mbarrier.init {{.+}}, %c8_i32
// WG: scf.for
// WG: nvvm.mbarrier.arrive.expect_tx {{.+}}, %c16384_i32
// WG: nvvm.cp.async.bulk.shared.cluster.global {{.+}}, %c8192_i32
// WG: nvvm.cp.async.bulk.shared.cluster.global {{.+}}, %c8192_i32
// WG: scf.for
// WG: nvvm.mbarrier.try_wait.parity
// WG: nvvm.wgmma.fence.aligned
// WG: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 128, k = 32>, D[<s32>, <one>], A[<s8>, <one>, <row>], B[<s8>, <one>, <col>]
// WG: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 128, k = 32>
// WG: nvvm.wgmma.commit.group.sync.aligned
// WG-NEXT: nvvm.wgmma.wait.group.sync.aligned 1
// WG: nvvm.mbarrier.arrive
// WG: nvvm.wgmma.wait.group.sync.aligned 0
// WG-NOT: nvvm.mma.sync
// WG: arith.sitofp
// WG: llvm.store {{.+}} {alignment = 8 : i64} : vector<2xf32>, !llvm.ptr<1>
func.func @w8a8_wgmma(%x: memref<4096x1024xf32>, %s: memref<512xf32>, %out: memref<4096x512xf32>) {
  %w = q.weight_constant dense<5> : tensor<524288xi8> -> !q.weight<1024x512xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<4096x1024xf32>, !q.weight<1024x512xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, memref<512xf32>, memref<4096x512xf32>) -> ()
  return
}

// -----

// wgmma (sm_90a), 4096 x 1024 x 1024: 128x256 tiles (32 x 4 = 128 blocks)
// take their stages by bulk copies: 6 stages of (128 + 256) x 64 bytes and an
// 8-byte mbarrier each, 6 x 24584 + 1024 = 148528 bytes. Thread 0 sets up
// the mbarriers, then per stage arms one for 24576 bytes and issues one bulk
// copy of the A tile (8192 bytes, written in the ring's layout by the
// quantization kernel) and one of the B tile (16384 bytes); 4 stages ahead.
// In the loop: the barrier, the refill, then the wait on the stage's
// mbarrier phase (no cp.async at all).
// WG-LABEL: func @w8a8_wgmma_bulk
// WG: gpu.launch
// WG: math.roundeven
// WG: gpu.launch blocks({{.+}}) in ({{.+}} = %c4{{.*}}, {{.+}} = %c32{{.*}}, {{.+}}) threads({{.+}}) in ({{.+}} = %c256{{.*}}) dynamic_shared_memory_size %c148528_i32
// WG-NOT: nvvm.cp.async.shared.global
// WG-COUNT-6: nvvm.mbarrier.init {{.+}}, %c1_i32
// WG: nvvm.fence.mbarrier.init
// WG: gpu.barrier
// WG-COUNT-4: nvvm.mbarrier.arrive.expect_tx {{.+}}, %c24576_i32
// WG: nvvm.cp.async.bulk.shared.cluster.global {{.+}}, %c8192_i32
// WG: nvvm.cp.async.bulk.shared.cluster.global {{.+}}, %c16384_i32
// WG: scf.for
// WG: gpu.barrier
// WG: nvvm.mbarrier.arrive.expect_tx {{.+}}, %c24576_i32
// WG: nvvm.mbarrier.try_wait.parity
// WG: nvvm.wgmma.fence.aligned
// WG: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 256, k = 32>
// WG: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 256, k = 32>
// WG: nvvm.wgmma.commit.group.sync.aligned
// WG-NEXT: nvvm.wgmma.wait.group.sync.aligned 1
// WG: nvvm.wgmma.wait.group.sync.aligned 0
// WG-NOT: nvvm.cp.async
// WG: llvm.store {{.+}} {alignment = 8 : i64} : vector<2xf32>, !llvm.ptr<1>
func.func @w8a8_wgmma_bulk(%x: memref<4096x1024xf32>, %s: memref<1024xf32>, %out: memref<4096x1024xf32>) {
  %w = q.weight_constant dense<5> : tensor<1048576xi8> -> !q.weight<1024x1024xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<4096x1024xf32>, !q.weight<1024x1024xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, memref<1024xf32>, memref<4096x1024xf32>) -> ()
  return
}

// -----

// wgmma (sm_90a), 256 x 1024 x 4096: 128x64 tiles (64 x 2 = 128 blocks) run
// warp-specialized: two consumer warpgroups and a producer warp (288
// threads). 16 stages of (128 + 64) x 64 bytes with a `full` and an `empty`
// mbarrier each: 16 x 12304 + 1024 = 197888 bytes. `full` expects one
// arrival (the producer's arm for 12288 bytes), `empty` one per consumer
// warp (8). Thread 256 issues the bulk copies of A (8192 bytes) and B (4096
// bytes) for every K tile, waiting on the slot's `empty` phase before a
// refill; the consumers wait on `full`, run two m64n64k32 and release the
// previous slot; no block barrier runs after the mbarriers' set-up.
// WG-LABEL: func @w8a8_wgmma_producer
// WG: gpu.launch
// WG: math.roundeven
// WG: gpu.launch blocks({{.+}}) in ({{.+}} = %c64{{.*}}, {{.+}} = %c2{{.*}}, {{.+}}) threads({{.+}}) in ({{.+}} = %c288{{.*}}) dynamic_shared_memory_size %c197888_i32
// WG-NOT: nvvm.cp.async.shared.global
// WG-COUNT-16: nvvm.mbarrier.init {{.+}}, %c8_i32
// WG: nvvm.fence.mbarrier.init
// WG: gpu.barrier
// WG-NOT: gpu.barrier
// WG: arith.cmpi uge, %{{.+}}, %c256{{.*}} : i64
// WG: scf.if
// WG: arith.cmpi eq, %{{.+}}, %c256{{.*}} : i64
// WG: scf.for
// WG: nvvm.mbarrier.try_wait.parity
// WG: nvvm.mbarrier.arrive.expect_tx {{.+}}, %c12288_i32
// WG: nvvm.cp.async.bulk.shared.cluster.global {{.+}}, %c8192_i32
// WG: nvvm.cp.async.bulk.shared.cluster.global {{.+}}, %c4096_i32
// WG: } else {
// WG: scf.for
// WG: nvvm.mbarrier.try_wait.parity
// WG: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 64, k = 32>
// WG: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 64, k = 32>
// WG: nvvm.wgmma.commit.group.sync.aligned
// WG-NEXT: nvvm.wgmma.wait.group.sync.aligned 1
// WG: nvvm.mbarrier.arrive
// WG: nvvm.wgmma.wait.group.sync.aligned 0
// WG-NOT: gpu.barrier
// WG: llvm.store {{.+}} {alignment = 8 : i64} : vector<2xf32>, !llvm.ptr<1>
func.func @w8a8_wgmma_producer(%x: memref<256x1024xf32>, %s: memref<4096xf32>, %out: memref<256x4096xf32>) {
  %w = q.weight_constant dense<5> : tensor<4194304xi8> -> !q.weight<1024x4096xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<256x1024xf32>, !q.weight<1024x4096xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, memref<4096xf32>, memref<256x4096xf32>) -> ()
  return
}

// -----

// 2048 x 64 x 1024 fills 128 blocks of 128x128 too, but its K loop has one
// K tile (fewer than 16): it stays on mma.sync.
// WG-LABEL: func @w8a8_short_k
// WG-NOT: nvvm.wgmma
// WG: nvvm.mma.sync
func.func @w8a8_short_k(%x: memref<2048x64xf32>, %s: memref<1024xf32>, %out: memref<2048x1024xf32>) {
  %w = q.weight_constant dense<5> : tensor<65536xi8> -> !q.weight<64x1024xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<2048x64xf32>, !q.weight<64x1024xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, memref<1024xf32>, memref<2048x1024xf32>) -> ()
  return
}

// -----

// Split-K (tuning options wgmma-tile-n=256, wgmma-split-k=4), 256 x 1024 x
// 4096: 128x256 tiles (16 x 2 = 32 output tiles), 4 blocks each over 4 of
// the 16 K tiles (grid z = 4: 128 blocks), thread 0 issuing the bulk copies
// (256 threads), 6 stages: 6 x 24576 + 48 (mbarriers) + 16 (the "last
// block" word) + 1024 = 148544 bytes. Buffers: a slot of 128 x 256 int32
// sums per block (32 x 4 x 32768 = 4194304) and a counter per output tile,
// which the quantization kernel zeroes. After its K loop every block stores
// its sums (16-byte vectors), fences them (membar.gl), meets the other
// consumer threads at barrier 1, and thread 0 counts the block with an
// atomic add; the block that finds 3 before it resets the counter, loads the
// other 3 slots (32 vectors of 4 sums per thread each), adds them in int32
// and runs the epilogue.
// Without the options the GEMM takes 128x64 tiles, no split.
// WG-LABEL: func @w8a8_wgmma_split_k
// WG: gpu.launch blocks({{.+}}) in ({{.+}} = %c64{{.*}}, {{.+}} = %c2{{.*}}, {{.+}} = %c1{{.*}})
// WG-NOT: llvm.atomicrmw
// SK-LABEL: func @w8a8_wgmma_split_k
// SK: %[[PART:.+]] = memref.alloc() : memref<4194304xi32>
// SK: %[[CNT:.+]] = memref.alloc() : memref<32xi32>
// SK: gpu.launch
// SK: math.roundeven
// SK: arith.cmpi ult, %{{.+}}, %c32{{.*}} : i64
// SK: llvm.store %c0_i32{{.*}}, %{{.+}} {alignment = 4 : i64} : i32, !llvm.ptr<1>
// SK: gpu.launch blocks({{.+}}) in ({{.+}} = %c16{{.*}}, {{.+}} = %c2{{.*}}, {{.+}} = %c4{{.*}}) threads({{.+}}) in ({{.+}} = %c256{{.*}}) dynamic_shared_memory_size %c148544_i32
// SK-COUNT-4: nvvm.mbarrier.arrive.expect_tx {{.+}}, %c24576_i32
// SK: scf.for %{{.+}} = %c0{{.*}} to %c4{{.*}}
// SK: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 256, k = 32>
// SK: nvvm.wgmma.wait.group.sync.aligned 0
// SK: llvm.store {{.+}} {alignment = 16 : i64} : vector<4xi32>, !llvm.ptr<1>
// SK: nvvm.memory.barrier <gpu>
// SK: nvvm.barrier id = %c1_i32{{.*}} number_of_threads = %c256_i32
// SK: llvm.atomicrmw add {{.+}} monotonic : !llvm.ptr<1>, i32
// SK: nvvm.barrier id = %c1_i32{{.*}} number_of_threads = %c256_i32
// SK: arith.cmpi eq, %{{.+}}, %c3_i32{{.*}} : i32
// SK: scf.if
// SK: llvm.store %c0_i32{{.*}} : i32, !llvm.ptr<1>
// SK: nvvm.memory.barrier <gpu>
// SK-COUNT-96: llvm.load {{.+}} {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xi32>
// SK-NOT: llvm.load {{.+}} vector<4xi32>
// SK: arith.sitofp
// SK: llvm.store {{.+}} {alignment = 8 : i64} : vector<2xf32>, !llvm.ptr<1>
// With 128x128 tiles split in 2 (wgmma-tile-n=128 wgmma-split-k=2): 64
// output tiles of 2 blocks, each 8 K tiles; the producer warp (288 threads)
// leaves before the reduction, so its barriers count the 256 consumers; the
// last block loads the other slot's 16 vectors per thread.
// SK2-LABEL: func @w8a8_wgmma_split_k
// SK2: memref.alloc() : memref<2097152xi32>
// SK2: memref.alloc() : memref<64xi32>
// SK2: gpu.launch blocks({{.+}}) in ({{.+}} = %c32{{.*}}, {{.+}} = %c2{{.*}}, {{.+}} = %c2{{.*}}) threads({{.+}}) in ({{.+}} = %c288{{.*}}) dynamic_shared_memory_size %c197840_i32
// SK2: scf.for %{{.+}} = %c0{{.*}} to %c8{{.*}}
// SK2: } else {
// SK2: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 128, k = 32>
// SK2: nvvm.barrier id = %c1_i32{{.*}} number_of_threads = %c256_i32
// SK2: llvm.atomicrmw add
// SK2: arith.cmpi eq, %{{.+}}, %c1_i32{{.*}} : i32
// SK2-COUNT-16: llvm.load {{.+}} {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xi32>
// SK2-NOT: llvm.load {{.+}} vector<4xi32>
// SK2: arith.sitofp
func.func @w8a8_wgmma_split_k(%x: memref<256x1024xf32>, %s: memref<4096xf32>, %out: memref<256x4096xf32>) {
  %w = q.weight_constant dense<5> : tensor<4194304xi8> -> !q.weight<1024x4096xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<256x1024xf32>, !q.weight<1024x4096xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, memref<4096xf32>, memref<256x4096xf32>) -> ()
  return
}
