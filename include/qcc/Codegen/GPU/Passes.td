//===- Passes.td - GPU codegen passes ----------------------*- tablegen -*-===//

#ifndef QCC_CODEGEN_GPU_PASSES_TD
#define QCC_CODEGEN_GPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def GpuPrepareBuffers
    : Pass<"qcc-gpu-prepare-buffers", "mlir::func::FuncOp"> {
  let summary = "Make bufferized host code expressible as GPU work";
  let description = [{
    After one-shot bufferization the entry function may read splat constants
    through `memref.get_global` and copy between strided views. Neither can
    stay on the host of a GPU artifact (the host runs only a launch plan):
    a splat global becomes a `memref.alloc` filled by `linalg.fill`, and a
    `memref.copy` where either side has a non-identity layout becomes
    `linalg.copy`; both then lower to kernels like any other linalg op.
    Contiguous copies stay: the plan runs them as device-to-device copies.
    Reads of non-splat globals are an error (`qcc-externalize-weights` must
    have moved them into the weight file).
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::memref::MemRefDialect"];
}

def GpuLowerQMatmul : Pass<"qcc-gpu-lower-qmatmul", "mlir::ModuleOp"> {
  let summary = "Bufferized q.matmul -> linalg that dequantizes in the kernel";
  let description = [{
    The GPU path of quantized matmuls, computing the numbers of the CPU's
    portable path: the packed weight bytes (int8 `row_major` or int4
    `packed_k`, two codes per byte along K, low nibble first) stay packed in
    the weight file; one `linalg.generic` over (row, column, K) decodes each
    code in the kernel (sign extension or zero point, per-channel or
    per-group scale) and accumulates in f32. With per-token (dynamic) or
    per-tensor (static) activation quantization, activations are first
    rounded to int8 codes exactly like the CPU kernels (scale =
    absmax / 127, round half to even, clamp to [-128, 127]) and used as
    `code * scale`. A bias is added afterwards. Everything becomes kernels
    through the usual GPU lowering.

    W4A16 GEMV: with at most 16 rows, int4 groups (a multiple of 16) along
    K (a multiple of 64), float activations (`act_quant = none`) and
    constant scales and zero points (a constant global or an externalized
    weight argument), the matmul becomes one `gpu.launch` instead
    (codegen/GPU/W4A16Gemv.cpp): tensor-core `mma.sync` m16n8k16 with the
    weights as the f16 A operand and the activations (f16) as B, f32
    accumulation; the codes repacked at compile time into the A-fragment
    layout (each lane's 128-bit load covers 4 K tiles, a warp reads 512
    contiguous bytes), decoded with two bit operations per code pair and
    one f16x2 subtraction of the zero point; group scales (f16 times a
    per-matrix power of two) and zero points packed next to them, 4 bytes
    per column and group; warps split K, each loading its next step's codes
    before computing the current one, and a block sums its warps in shared
    memory.
  }];
  let options = [
    Option<"gemvTiles", "gemv-tiles", "int64_t", /*default=*/"0",
           "W4A16 GEMV: 16-column tiles per warp (0: 1, or 2 above 8 rows)">,
    Option<"gemvWarps", "gemv-warps", "int64_t", /*default=*/"0",
           "W4A16 GEMV: warps per block, splitting K (0: 8)">,
    Option<"gemvUnroll", "gemv-unroll", "int64_t", /*default=*/"0",
           "W4A16 GEMV: 128-bit code loads per tile and step (0: 4, or 2 "
           "above 8 rows)">,
  ];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::math::MathDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::gpu::GPUDialect",
                           "mlir::LLVM::LLVMDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::NVVM::NVVMDialect"];
}

def GpuMmaQMatmul : Pass<"qcc-gpu-mma-qmatmul", "mlir::ModuleOp"> {
  let summary = "W8A8 q.matmul -> int8 tensor-core kernels (mma.sync m16n8k32)";
  let description = [{
    Runs before `qcc-gpu-lower-qmatmul` and takes the bufferized q.matmul ops
    with int8 activations (per-token or static per-tensor `act_quant`) and
    symmetric signed int8 `row_major` weights (per output channel or per
    tensor; K a multiple of 4, N even). Each becomes two launches: a
    quantization kernel (one block per row: absmax, scale = absmax / 127,
    codes rounded half to even and clamped exactly as on the CPU; rows of
    up to 4096 values stay in registers, so x is read once) writing
    an int8 [M, K] buffer padded to the tiles plus one scale per row, and a
    GEMM on the tensor cores: per block a 128x128, 64x128 or 64x64 output
    tile (the largest that still gives about one block per SM), K in stages
    of 64 bytes copied with `cp.async` into a 3-4 stage ring of shared
    memory (16-byte chunks XOR-swizzled so `ldmatrix` is conflict-free),
    fragments loaded with `ldmatrix.x4`, `mma.sync.m16n8k32.s8.s8.s32`
    accumulating in int32, and a fused epilogue
    `acc * a_scale[row] * w_scale[col] + bias[col]` in f32. The weights are
    prepacked at compile time into the GEMM's tile order (K-major per output
    column, swizzled), so each stage's weight tile is one contiguous block.
    A `linalg.fill` of the output right before the op is erased (q.matmul
    overwrites it). Other q.matmul ops are left for `qcc-gpu-lower-qmatmul`.

    With `wgmma` (target sm_90a) a GEMM that fills the GPU with 128x64,
    128x128 or 128x256 tiles (at least 128 blocks) runs on Hopper's warpgroup
    MMA instead (smaller ones keep mma.sync): two warpgroups of 128 threads
    per block, each issuing
    `wgmma.mma_async.m64nNk32.s32.s8.s8` (N = the block's 64, 128 or 256
    columns) on A and B read from shared memory through matrix descriptors
    in the 64-byte swizzle mode, which is the layout the cp.async ring and
    the prepacked weights already have (16-byte chunk c of row r at
    c ^ ((r >> 1) & 3), each stage 1024-byte aligned). Dynamic shared
    memory holds a ring of 3-6 stages (up to 192 KB); one wgmma group
    stays in flight while the next stage is awaited. Same quantization
    kernel and epilogue. With split-K (`wgmma-split-k`, grid z) the blocks
    of one output tile each run an equal share of the K tiles, store their
    int32 sums in a global slot and count themselves on the tile's counter
    (zeroed by the quantization kernel); the last one adds the other slots
    (int32: the same sums as one K loop) and runs the epilogue.
  }];
  let options = [
    Option<"wgmma", "wgmma", "bool", /*default=*/"false",
           "GEMM on wgmma.mma_async (sm_90a) instead of mma.sync">,
    Option<"wgmmaTileN", "wgmma-tile-n", "int64_t", /*default=*/"0",
           "wgmma: columns per block tile, 64, 128 or 256 (0: automatic; "
           "for tuning)">,
    Option<"wgmmaSplitK", "wgmma-split-k", "int64_t", /*default=*/"0",
           "wgmma: blocks per output tile, each over part of K, dividing "
           "the K tiles of 64 (0: automatic; for tuning)">,
  ];
  let dependentDialects = ["mlir::gpu::GPUDialect", "mlir::NVVM::NVVMDialect",
                           "mlir::LLVM::LLVMDialect", "mlir::scf::SCFDialect",
                           "mlir::arith::ArithDialect", "mlir::math::MathDialect",
                           "mlir::memref::MemRefDialect"];
}

def GpuW4A16Gemm : Pass<"qcc-gpu-w4a16-gemm", "mlir::ModuleOp"> {
  let summary = "W4A16 q.matmul with many rows -> tensor-core GEMM (mma.sync m16n8k16)";
  let description = [{
    Runs before `qcc-gpu-lower-qmatmul` and takes the bufferized q.matmul ops
    with int4 `packed_k` weights in groups along K (16, 32 or a multiple of
    64 dividing K; K a multiple of 64), float activations
    (`act_quant = none`), constant scales and zero points, and at least
    `min-rows` rows (default 17: fewer go to the W4A16 GEMV). Each becomes
    up to three launches (codegen/GPU/W4A16Gemm.cpp): an f32 -> f16
    conversion of the activations, the GEMM, and, when K is split across
    blocks (so that tiles x splits fill the SMs evenly), a sum of the
    split-K partials. The GEMM block (4 warps) computes a 16/32/64-row x
    256/256/128-column output tile over a range of K; per stage of 64 K,
    `cp.async` copies the codes (prepacked at compile time in block-stage
    order, each lane's 16 bytes being its mma A fragments of 4 K tiles),
    the group parameters and the XOR-swizzled f16 activation tile into a
    2-4 stage ring of shared memory; warps decode the codes to f16 in
    registers (magic-number trick, zero point subtracted and group scale
    multiplied in f16x2), load activations with `ldmatrix.x4` and run
    `mma.sync.m16n8k16` with f32 accumulation; the epilogue (or the reduce
    kernel) undoes the scales' power-of-two factor and adds the bias.
    A `linalg.fill` of the output right before the op is erased.
  }];
  let options = [
    Option<"minRows", "min-rows", "int64_t", /*default=*/"17",
           "Smallest number of rows taken">,
    Option<"splits", "splits", "int64_t", /*default=*/"0",
           "Blocks splitting K (0: enough to fill the GPU)">,
    Option<"stages", "stages", "int64_t", /*default=*/"0",
           "Pipeline stages in shared memory (0: as many as fit, up to 4)">,
  ];
  let dependentDialects = ["mlir::gpu::GPUDialect", "mlir::NVVM::NVVMDialect",
                           "mlir::LLVM::LLVMDialect", "mlir::scf::SCFDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect"];
}

def GpuTileMatmul : Pass<"qcc-gpu-tile-matmul", "mlir::func::FuncOp"> {
  let summary = "Shared-memory tiled GPU kernels for f32 (batch) matmuls";
  let description = [{
    Rewrites `linalg.matmul` and `linalg.batch_matmul` on statically shaped
    f32 memrefs into a `gpu.launch` of a tiled kernel: each block of 16x16
    threads computes a `tile` x `tile` block of the output (each thread a
    `tile/16` x `tile/16` register block), staging `tile` x 16 slices of A
    and B in workgroup (shared) memory per step along K, with barriers
    around each stage. Edges are guarded, so any shape works. The batch
    dimension is the grid's z dimension.
  }];
  let options = [
    Option<"tile", "tile", "int64_t", /*default=*/"64",
           "Output tile edge per block (a multiple of 16: 16, 32 or 64)">,
  ];
  let dependentDialects = ["mlir::gpu::GPUDialect", "mlir::scf::SCFDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect"];
}

def GpuInterchangeReductions
    : Pass<"qcc-gpu-interchange-reductions", "mlir::func::FuncOp"> {
  let summary = "Put the parallel loops of linalg reductions outermost";
  let description = [{
    Runs before `convert-linalg-to-parallel-loops`, which makes only the
    parallel loops in front of the first reduction loop an `scf.parallel`
    (later ones become sequential loops inside each thread). Every
    `linalg.generic` whose reduction loops are not all innermost is
    interchanged in place (`linalg::interchangeGenericOp`: iterator types,
    indexing maps and `linalg.index` ops) to its parallel loops in their
    order, then its reduction loops. E.g. a sum over the middle dimension
    of [1, 128, 384] runs on 384 threads instead of one.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def GpuWarpReductions
    : Pass<"qcc-gpu-warp-reductions", "mlir::func::FuncOp"> {
  let summary = "Row reductions on a warp per row instead of a thread";
  let description = [{
    Runs after `convert-linalg-to-parallel-loops` and before
    `qcc-gpu-map-to-launches`. A top-level `scf.parallel` whose body is one
    `scf.for` that loads an accumulator (at indices fixed in the loop),
    combines it with a value computed from other reads (`arith.addf`,
    `mulf`, `maximumf`, `maxnumf`, `minimumf`, `minnumf` on f32; `addi`,
    `maxsi`, `minsi` on i32) and stores it back, with nothing else writing
    memory, gets a 32-wide lane dimension appended (the fastest-varying
    thread index, so a row's lanes are one warp). Lane l folds the elements
    l, l + 32, ... in a register starting from the combiner's identity;
    five `gpu.shuffle xor` steps combine the lanes; lane 0 combines the
    result with the accumulator's initial value and stores it once. The
    sum is reassociated. Loops with fewer than `min-elements` steps stay.
    Neighbours fold into the same launch, with the same numbers: when the op
    right before sets the accumulator (a parallel loop over the same rows
    storing a constant at its indices, or a `memref.copy` of a whole other
    buffer that the reduction then overwrites entirely), lane 0 starts from
    that constant or that buffer's element and the op goes; parallel loops
    right after over the same rows that store once at the accumulator's
    indices (into it or into a fresh allocation the reduction does not
    read) and read what was written here only at those indices (e.g.
    ReduceMean's division by N) run in lane 0 after its store.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block qcc-gpu-map-to-launches will use (a multiple "
           "of 32)">,
    Option<"minElements", "min-elements", "int64_t", /*default=*/"64",
           "Fewest reduction steps for a warp per row">,
  ];
  let dependentDialects = ["mlir::gpu::GPUDialect", "mlir::scf::SCFDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect"];
}

def GpuMapToLaunches
    : Pass<"qcc-gpu-map-to-launches", "mlir::func::FuncOp"> {
  let summary = "Turn the loops of a bufferized function into gpu.launch ops";
  let description = [{
    Runs after `convert-linalg-to-parallel-loops`. Each top-level
    `scf.parallel` (with constant bounds and no reductions) becomes one
    `gpu.launch` of a 1-D grid: the parallel iteration space is linearized,
    consecutive threads take consecutive innermost indices (coalesced
    accesses), the last block is guarded, and each thread runs the loop body
    (including the sequential reduction loops inside it) for its point.
    Runs of other computing ops at the top level (loop nests without a
    parallel dimension, such as full reductions, or scalar loads and stores
    of 0-d buffers) become a single-thread launch, so that every computation
    runs on the device. Pure ops the launches use (constants, index
    arithmetic) are sunk into them where that adds no kernel operand; views
    stay on the host, and kernels receive them as buffers with a static
    layout offset.
    Every launch is outlined into the gpu.module `qcc_kernels` as kernel
    `k<N>_<name>`, `<name>` taken from the op's location.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block of elementwise launches">,
  ];
  let dependentDialects = ["mlir::gpu::GPUDialect", "mlir::scf::SCFDialect",
                           "mlir::arith::ArithDialect"];
}

def GpuOutlineKernels : Pass<"qcc-gpu-outline-kernels", "mlir::ModuleOp"> {
  let summary = "gpu-kernel-outlining that keeps the launches' kernel attributes";
  let description = [{
    Runs the upstream `gpu-kernel-outlining` (which drops the attributes of
    a `gpu.launch`) and then sets each launch's `qcc.kernel_attrs`
    dictionary on the outlined `gpu.func`, where `convert-gpu-to-nvvm` keeps
    it and the PTX emitter turns it into directives:
    `nvvm.maxnreg = N : i32` (at most N registers per thread, 16-255:
    `.maxnreg`) and `nvvm.minctasm = N : i32` (compile for N resident
    blocks per SM, 1-32: `.minnctapersm`). The W4A16 GEMV caps the
    registers of its 9-16 row kernels this way. A launch with kernel
    attributes must name its kernel (`module(@m) function(@f)`, as
    qcc-gpu-map-to-launches does for every launch) and the name must not be
    taken; another key, a value of another type or out of range is an
    error.
  }];
  let dependentDialects = ["mlir::gpu::GPUDialect", "mlir::DLTIDialect",
                           "mlir::cf::ControlFlowDialect"];
}

def GpuPlanMemory : Pass<"qcc-gpu-plan-memory", "mlir::ModuleOp"> {
  let summary = "Check the host side of the entry and place buffers in an arena";
  let description = [{
    Runs after kernel outlining. The host side of a GPU artifact is a launch
    plan, so the entry function may hold only kernel launches, contiguous
    copies, buffer allocations, views and constants; any other op is a
    one-line error naming it. Every `memref.alloc` gets a byte offset in one
    device arena (`qcc.arena_offset`, 256-byte aligned); buffers whose
    lifetimes (first to last use in program order, views included) do not
    overlap share bytes. The arena's size is the module attribute
    `qcc.arena_bytes`.
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"main\"",
           "Entry function">,
  ];
}

def GpuResolveLibdevice
    : Pass<"qcc-gpu-resolve-libdevice", "mlir::gpu::GPUModuleOp"> {
  let summary = "Replace libdevice calls with LLVM intrinsics NVPTX selects";
  let description = [{
    `convert-gpu-to-nvvm` lowers math ops to calls of CUDA's libdevice
    (`__nv_sqrtf`, `__nv_floorf`, ...), which qcc does not link: artifacts
    carry plain PTX. Calls of functions with a native PTX instruction become
    the matching LLVM intrinsic (sqrt.rn, abs, cvt.rmi/rpi/rzi/rni, fma,
    min/max, copysign, integer abs; sin/cos/ex2/lg2 as `.approx` with the `afn` flag).
    Other libdevice calls stay, and the PTX emitter reports them (the
    pipeline approximates exp, log, tanh and erf with polynomials before).
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

#endif // QCC_CODEGEN_GPU_PASSES_TD
