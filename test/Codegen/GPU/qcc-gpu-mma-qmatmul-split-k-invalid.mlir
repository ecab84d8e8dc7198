// RUN: qcc-opt %s -split-input-file -qcc-gpu-mma-qmatmul="wgmma=true wgmma-split-k=3" -verify-diagnostics
// RUN: not qcc-opt %s -qcc-gpu-mma-qmatmul="wgmma=true wgmma-tile-n=96" 2>&1 | FileCheck %s --check-prefix=TILE
// RUN: not qcc-opt %s -qcc-gpu-mma-qmatmul="wgmma=true wgmma-split-k=17" 2>&1 | FileCheck %s --check-prefix=SPLIT

// The wgmma tuning options of qcc-gpu-mma-qmatmul: a split of K must divide
// its tiles of 64 bytes (here 16), the tile has 64, 128 or 256 columns, and
// at most 16 blocks share an output tile.
// TILE: error: wgmma-tile-n must be 0, 64, 128 or 256, not 96
// SPLIT: error: wgmma-split-k must be 0 (automatic) to 16, not 17
func.func @split_not_dividing(%x: memref<256x1024xf32>, %s: memref<4096xf32>, %out: memref<256x4096xf32>) {
  %w = q.weight_constant dense<5> : tensor<4194304xi8> -> !q.weight<1024x4096xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>
  // expected-error @+1 {{wgmma split-k 3 does not divide the 16 K tiles of 64}}
  q.matmul %x, %w scales(%s) outs(%out) {act_quant = #q.act_quant<dynamic_per_token>} : (memref<256x1024xf32>, !q.weight<1024x4096xi8, #q.scheme<bits = 8, is_signed = true, granularity = per_channel, axis = 1, group_size = 0, symmetric = true>, row_major>, memref<4096xf32>, memref<256x4096xf32>) -> ()
  return
}
