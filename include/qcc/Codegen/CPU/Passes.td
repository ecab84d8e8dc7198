//===- Passes.td - CPU codegen passes ----------------------*- tablegen -*-===//

#ifndef QCC_CODEGEN_CPU_PASSES_TD
#define QCC_CODEGEN_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def CpuMatmulMicrokernel
    : Pass<"qcc-cpu-matmul-microkernel", "mlir::func::FuncOp"> {
  let summary = "Lower f32 matmuls on memrefs to register-blocked vector code";
  let description = [{
    Rewrites `linalg.matmul` and `linalg.batch_matmul` on statically shaped,
    identity-layout f32 memrefs into an outer-product microkernel: a block of
    `rows` rows by `vectors-per-row` vectors of `vector-width` columns of the
    output lives in registers while the reduction runs, A is broadcast one
    element at a time and B is read as whole vectors. Column tails use masked
    loads and stores. Other matmuls are left for the generic lowering. The
    block is chosen per matmul unless the options fix it: 8 x 3 with 16
    lanes (24 of the 32 zmm registers), 6 x 2 with 8; fewer rows than that
    take all rows and up to 16 (8) vectors per row.

    Non-batched products of one or two rows (GEMV) are bound by reading B,
    which a register block reads in short runs far apart; with the block
    left open they stream B instead: each pass over the C row(s) (in L1)
    adds 8 whole rows of B. In parallel their K range is cut into up to 8
    units, each summing into its own slice of a scratch buffer that is
    added to C afterwards in unit order (the same result for any thread
    count); B rows of 4 KiB or more are then added 4 per pass when the
    call runs on one thread (`q.num_threads`: fewer DRAM streams), 8 with
    more.

    The write that initializes the output right before the product, a
    constant `linalg.fill` of it or a `memref.copy` from a buffer that only
    holds such a fill (CSE merged the fills of several products), is folded
    in: the blocks' accumulators start from the constant instead of loading
    the output, and the fill or copy (and a buffer nothing reads any more)
    is erased. A serial GEMV keeps it (its passes add into the output).

    Matmuls of at least `parallel-min-fmas` multiply-adds get one loop as
    an `scf.parallel` (`qcc-cpu-outline-parallel` runs it on the runtime's
    thread pool): the batch dimension when it is large, else full column
    panels, or full row blocks when those are more numerous (tall-skinny
    products), each with the batch as an outer parallel dimension. Every
    parallel iteration does the same work; the ragged edge runs afterwards.
    The default threshold (4M, about 80 us on one core) pays for the
    runtime's wake-up of its workers, which costs 10-50 us per region.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector register (16 for AVX-512, 8 for AVX2)">,
    Option<"rows", "rows", "int64_t", /*default=*/"0",
           "Output rows held in registers (0: chosen by shape)">,
    Option<"vectorsPerRow", "vectors-per-row", "int64_t", /*default=*/"0",
           "Vector registers of output columns per row (0: chosen by "
           "shape)">,
    Option<"parallelMinFmas", "parallel-min-fmas", "int64_t",
           /*default=*/"4194304",
           "Multiply-adds from which a matmul gets a parallel loop "
           "(-1: never)">
  ];
  let dependentDialects = ["mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect",
                           "qcc::q::QDialect"];
}

def CpuPackMatmulWeights
    : Pass<"qcc-cpu-pack-matmul-weights", "mlir::func::FuncOp"> {
  let summary = "Store constant f32 matmul weights panel by panel";
  let description = [{
    Rewrites `linalg.matmul` on static f32 tensors whose B operand is a
    constant [K, N] used only there, and whose A has at least `min-rows`
    rows, into a `linalg.generic` reading a packed copy of B:
    Bp[n floordiv panel, k, n mod panel] = B[k, n] (the last panel padded
    with zeros). The panel is the width of the microkernel's register block
    for the product's rows (8 x 3 vectors from 8 rows with 16 lanes, 4 x 6
    with 4 rows, ...) unless `panel` fixes it. The register-blocked microkernel then walks each column
    panel of B as one contiguous block instead of a few cache lines every
    row of B (qcc-cpu-matmul-microkernel recognizes the packed form; the
    generic lowering runs it too). Products with fewer rows keep the
    row-major weight, which the GEMV form streams row by row. Runs before
    the weights are externalized.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector register of the microkernel (16 for "
           "AVX-512, 8 for AVX2)">,
    Option<"panel", "panel", "int64_t", /*default=*/"0",
           "Columns per packed panel, a multiple of vector-width (0: the "
           "microkernel's block width for the product's rows)">,
    Option<"minRows", "min-rows", "int64_t", /*default=*/"3",
           "Rows of A from which a weight is packed (fewer: the GEMV form, "
           "which streams the row-major weight)">
  ];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::arith::ArithDialect"];
}

def CpuVectorizeChannels
    : Pass<"qcc-cpu-vectorize-channels", "mlir::func::FuncOp"> {
  let summary = "Vectorise window generics (depthwise conv, pooling) over channels";
  let description = [{
    A `linalg.generic` on static identity-layout f32 memrefs with reduction
    loops whose innermost loop is parallel, spans a multiple of
    `vector-width` and indexes the last dimension of every operand it reads
    (or none of it: a broadcast), with an element-wise float body, becomes
    an `scf.parallel` over its other parallel loops, `scf.for`s over its
    reductions in order, and an innermost loop over the channels in steps
    of `vector-width` that loads, computes and stores whole vectors. These
    are the NHWC depthwise convolutions and pools of qcc-conv-to-matmul,
    whose 32-channel loops LLVM unrolls into scalar code. Other generics
    are left alone.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector">
  ];
  let dependentDialects = ["mlir::affine::AffineDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect"];
}

def CpuLowerStridedCopies
    : Pass<"qcc-cpu-lower-strided-copies", "mlir::func::FuncOp"> {
  let summary = "Turn memref.copy between strided buffers into loops";
  let description = [{
    The upstream LLVM lowering of `memref.copy` calls `memrefCopy` from
    MLIR's C runner utilities unless both sides are contiguous; artifacts
    must not depend on that library. Copies where either side has a
    non-identity layout become `linalg.copy`, which the loop lowering turns
    into plain loads and stores. Contiguous copies stay (they become
    `memcpy`).
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def CpuApproximateMath
    : Pass<"qcc-cpu-approximate-math", "mlir::func::FuncOp"> {
  let summary = "Replace f32 transcendental calls by vectorizable polynomials";
  let description = [{
    A libm call per element (expf, erff, tanhf) costs more than the rest of
    a softmax or GELU and keeps LLVM from vectorizing the loop. For f32,
    `exp`, `expm1`, `log`, `log1p`, `log2`, `tanh` and `erf` become MLIR's
    polynomial approximations (within a few ULP over the whole range);
    other functions and f64 keep their libm calls.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::math::MathDialect",
                           "mlir::vector::VectorDialect"];
}

def CpuReassociateReductions
    : Pass<"qcc-cpu-reassociate-reductions", "mlir::func::FuncOp"> {
  let summary = "Allow f32 sum and product reductions to be reordered";
  let description = [{
    A `linalg.generic` with reduction loops lowers to a loop that combines
    one element at a time into its accumulator; without leave to reorder
    the floating-point additions LLVM keeps that loop scalar (one add per
    add latency). The operation that combines a reduction's accumulator
    (`arith.addf` or `arith.mulf` taking the output block argument) gets the
    `reassoc` fast-math flag, so the loop vectorizer can keep one partial
    result per vector lane. Only that operation changes; the computation of
    each element keeps its rounding. The result may differ from the
    sequential order in the last bits, as any vectorized or threaded sum.

    ```mlir
    ^bb0(%in: f32, %acc: f32):
      %s = arith.addf %acc, %in : f32      // becomes
      %s = arith.addf %acc, %in fastmath<reassoc> : f32
    ```
  }];
  let statistics = [
    Statistic<"numReassociated", "reassociated",
              "Reduction combiners marked reassoc">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect"];
}

def CpuOutlineParallel : Pass<"qcc-cpu-outline-parallel", "mlir::ModuleOp"> {
  let summary = "Run parallel loops on the runtime's thread pool";
  let description = [{
    Gives the entry function a leading `!llvm.ptr` parameter, the
    `qcc_exec_context` of docs/ARTIFACT.md, and marks the module with the
    `qcc.exec_context` unit attribute (which `qcc-cpu-emit-entry` reads).
    Each outermost `scf.parallel` without reductions in the entry function
    becomes a call `ctx->parallel_for(ctx->pool, chunks, @fn, &captures)`:
    the loop body moves to a private function
    `@<entry>_parallel(%data: !llvm.ptr, %chunk: i64)` that runs one
    contiguous chunk of the linearized iteration space. The chunk count is
    chosen at run time: 1 with one thread, else `chunks-per-thread` per
    thread (or the loop's own `qcc.chunks_per_thread` integer attribute),
    at most the number of iterations. Values the body uses from
    above travel in a struct on the stack (indices as i64, memrefs as their
    LLVM descriptors); constants are cloned instead. Each `q.num_threads`
    becomes the context's `num_threads` (at least 1, loaded at the start of
    the entry function) there, and 1 in any other function.

    ```mlir
    func.func @main(%m: memref<64xf32>) {
      scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
        memref.store %cst, %m[%i] : memref<64xf32>
        scf.reduce
      }
      return
    }
    ```

    Loops with reductions, loops whose captured values have no LLVM
    storage type, and loops outside the entry function stay serial. So do
    loops with static bounds whose work estimate (iterations times the
    operations of the body, an operation with a vector result counting one
    per element, nested loops times their static trip counts, calls
    unbounded) is below `min-work`: a region's wake-up and join cost
    more than they save. Only the leading dimensions whose iteration count
    first reaches `min-units` are shared out; the others move to a serial
    `scf.parallel` inside the body, so that rows stay vectorizable loops.
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"main\"",
           "Name of the entry function">,
    Option<"chunksPerThread", "chunks-per-thread", "int64_t",
           /*default=*/"4",
           "Chunks of a parallel loop per thread when several threads run">,
    Option<"minWork", "min-work", "int64_t", /*default=*/"131072",
           "Loops with static bounds and less estimated work stay serial "
           "(0: outline every loop)">,
    Option<"minUnits", "min-units", "int64_t", /*default=*/"16",
           "Share out the leading dimensions with at least this many "
           "iterations; inner dimensions run serially in each unit "
           "(0: share every dimension)">
  ];
  let dependentDialects = ["mlir::LLVM::LLVMDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::func::FuncDialect",
                           "mlir::scf::SCFDialect"];
}

def CpuOutlineKernels : Pass<"qcc-cpu-outline-kernels", "mlir::ModuleOp"> {
  let summary = "Move each loop nest of the entry function into its own function";
  let description = [{
    LLVM's optimizer and code generator take time that grows faster than
    linearly with the size of one function; a whole model in one entry
    function made compile time quadratic in the number of layers. Every
    top-level loop nest (`scf.for`, `scf.parallel`, `scf.while`, `scf.if`
    and their affine forms) of the entry function with at least `min-ops`
    operations becomes a call of a private function
    `@<entry>_kernel(...)` with internal linkage and LLVM's `noinline`.

    Values the nest uses from above are passed as arguments, except pure
    operations (constants, memref views, index arithmetic), which are cloned
    into the function together with what they use, so buffers are passed as
    their allocations (static memrefs, one pointer each with the
    bare-pointer convention). An argument rooted in an allocation of the
    entry function that no other argument shares gets `llvm.noalias`,
    unless the nest contains a call. Nests that use a value that cannot be
    passed (a memref with a dynamic shape or layout) or that yield a memref
    stay in place.

    ```mlir
    func.func @main(%in: memref<64xf32>) {
      %buf = memref.alloc() : memref<64xf32>
      scf.for %i = %c0 to %c64 step %c1 {
        %x = memref.load %in[%i] : memref<64xf32>
        memref.store %x, %buf[%i] : memref<64xf32>
      }
      ...
    }
    // becomes
    func.func private @main_kernel(%arg0: memref<64xf32>,
        %arg1: memref<64xf32> {llvm.noalias})
        attributes {llvm.linkage = #llvm.linkage<internal>,
                    passthrough = ["noinline"]}
    ```
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"main\"",
           "Name of the entry function">,
    Option<"minOps", "min-ops", "int64_t", /*default=*/"0",
           "Nests with fewer operations (the nest included) stay in place">
  ];
  let dependentDialects = ["mlir::func::FuncDialect",
                           "mlir::LLVM::LLVMDialect"];
}

def CpuMergeFunctions : Pass<"qcc-cpu-merge-functions", "mlir::ModuleOp"> {
  let summary = "Keep one copy of identical private functions";
  let description = [{
    Every layer of a model runs the same kernels on other buffers; once
    `qcc-cpu-outline-kernels` and `qcc-cpu-outline-parallel` made them
    functions of their buffers, the copies are identical and LLVM would
    compile each. Private functions with a body whose attributes other than
    the name are equal and whose bodies are equivalent up to SSA names and
    locations are merged into the first of them in module order: symbol
    references to the others are redirected and the others erased. Merging
    callees can make callers identical, so this repeats until nothing
    merges.

    ```mlir
    func.func private @k(%a: memref<8xf32>) { ... }
    func.func private @k_0(%a: memref<8xf32>) { ... }  // same body
    func.func @main(%x: memref<8xf32>, %y: memref<8xf32>) {
      call @k(%x) : (memref<8xf32>) -> ()
      call @k_0(%y) : (memref<8xf32>) -> ()   // becomes call @k(%y)
      return
    }
    ```
  }];
  let statistics = [
    Statistic<"numMerged", "merged-functions",
              "Functions merged into an identical one">
  ];
}

def CpuPlanBuffers : Pass<"qcc-cpu-plan-buffers", "mlir::ModuleOp"> {
  let summary = "Place the entry function's buffers in one arena allocation";
  let description = [{
    Bufferization leaves one `memref.alloc`/`memref.dealloc` pair per
    intermediate tensor in the entry function: hundreds of `malloc` calls
    per inference, and buffers above the C library's mmap threshold are
    fresh pages that fault on first touch in every call. Every top-level
    allocation of the entry block with a static shape, an identity layout
    and exactly one `memref.dealloc` in that block becomes a `memref.view`
    at a fixed offset of a single `memref.alloc` of bytes made at the top
    of the function and freed before it returns. The lifetime of a buffer
    runs from its allocation to its dealloc (the deallocation pipeline put
    that after the last use); buffers whose lifetimes overlap get disjoint,
    `alignment`-aligned bytes (placed largest first at the lowest free
    offset), so arguments a kernel call received as distinct allocations
    stay distinct memory.

    ```mlir
    %a = memref.alloc() {alignment = 64 : i64} : memref<128x384xf32>
    ...
    memref.dealloc %a : memref<128x384xf32>
    // becomes
    %arena = memref.alloc() {alignment = 64 : i64} : memref<786432xi8>
    %a = memref.view %arena[%c0][] : memref<786432xi8> to memref<128x384xf32>
    ```

    With `arena-argument`, the arena is not allocated per call: it becomes
    a trailing `memref<Nxi8>` parameter of the entry function and the
    module gets `qcc.arena_bytes = N`. `qcc-cpu-emit-entry` then passes the
    runtime's `ctx->arena`, which the runtime keeps from one run to the
    next, so arenas above the C library's mmap threshold (SmolLM2: 173 MB)
    no longer fault in and zero every page on each call.
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"main\"",
           "Name of the entry function">,
    Option<"alignment", "alignment", "int64_t", /*default=*/"64",
           "Byte alignment of every buffer in the arena (a power of two)">,
    Option<"arenaArgument", "arena-argument", "bool", /*default=*/"false",
           "Take the arena as a trailing entry parameter (qcc.arena_bytes) "
           "instead of allocating it in every call">
  ];
  let statistics = [
    Statistic<"numPlanned", "planned-buffers",
              "Allocations placed in the arena">,
    Statistic<"arenaSize", "arena-bytes", "Bytes of the arena">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect"];
}

def CpuEmitEntry : Pass<"qcc-cpu-emit-entry", "mlir::ModuleOp"> {
  let summary = "Emit the artifact's exported entry points";
  let description = [{
    Runs on the LLVM dialect after the entry function was lowered with the
    bare-pointer memref convention. Adds `qcc_artifact_abi_version` and
    `qcc_artifact_main(ctx, inputs, outputs, weights)` (docs/ARTIFACT.md),
    which loads each pointer, offsets the weights base by the offsets in
    `qcc.weights`, and calls the entry function, which becomes private.
    When the module has the `qcc.exec_context` attribute, the entry
    function takes `ctx` as an extra first parameter. When it has
    `qcc.arena_bytes` (`qcc-cpu-plan-buffers` with `arena-argument`), the
    entry function's last parameter is the arena, loaded from `ctx->arena`;
    `qcc_artifact_arena_bytes()` exports its size (0 without the attribute).
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"main\"",
           "Name of the lowered entry function">,
    Option<"numInputs", "num-inputs", "int64_t", /*default=*/"-1",
           "Inputs of the model (after the weights, before the outputs); "
           "-1 reads the qcc.num_inputs module attribute">
  ];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

def CpuLowerQMatmul : Pass<"qcc-cpu-lower-qmatmul", "mlir::ModuleOp"> {
  let summary = "Lower bufferized q.matmul to VNNI or AVX2 kernels or a portable path";
  let description = [{
    With `vnni`, three register-tiled AVX-512 kernels:
    * int8 per-output-channel symmetric weights x int8 activations (per
      token at run time, or per tensor from calibration): `vpdpbusd`;
    * int4 weights in groups along K (group size a multiple of 8), symmetric
      or with zero points, x int8 activations: `vpdpbusd` on the nibbles;
    * the same int4 weights x f32 activations (weight-only): nibbles
      decoded to f32 in registers through a 16-entry `vpermps` table, FMA.
    The weight is repacked at compile time into the kernel's layout (64-byte
    blocks of 16 columns x 4 (int8) or 8 (int4) K values, stored unsigned:
    int8 codes + 128, int4 codes + 8 or the raw asymmetric codes), so the
    unsigned operand of `vpdpbusd` is the weight and the broadcast signed
    one the activation. Activations are quantized once per call, with the
    i32 sum of their codes per group; the weight offset (128, 8, or the zero
    point) times that sum is removed in int32, so the result is exact before
    the fp32 scales. A tile of `tile-rows` x `tile-col-blocks` x 16 outputs
    stays in zmm accumulators; large products run the (column tile, row
    tile) loop as an `scf.parallel`.
    Without `vnni` (and with `avx2`), the three kernels run in AVX2 form on
    8-column ymm blocks of 32 bytes (8 columns x 4 K values, int8 codes, or
    8 K as nibbles). With int8 activations, codes sign- or zero-extended to
    i16 are multiplied by the activation codes (quantized to i16, a pair of
    K values broadcast as one i32) with `vpmaddwd`, the same exact int32
    sums and fp32 epilogue; int8 K is padded to a multiple of 4 with zero
    codes. Weight-only int4 decodes nibbles with a shift, a mask and a
    convert, scales them per group and uses FMA. Everything else takes a
    portable path that decodes the weight to f32 and uses `linalg.matmul`.
    q.matmul
    overwrites its output, so a fill of it or a copy into it right before
    (nothing but allocations and operations without memory effects in
    between) is erased, with a copied buffer nothing reads any more.
  }];
  let options = [
    Option<"vnni", "vnni", "bool", /*default=*/"true",
           "The target has AVX-512 VNNI">,
    Option<"avx2", "avx2", "bool", /*default=*/"true",
           "Without vnni: the kernels' AVX2 forms (8-column blocks; "
           "vpmaddwd for int8 activations) instead of the portable path">,
    Option<"parallelMinFmas", "parallel-min-fmas", "int64_t",
           /*default=*/"4194304",
           "Multiply-adds from which the kernels' tile loops (and the "
           "activation quantization) are an scf.parallel (-1: never)">,
    Option<"tileRows", "tile-rows", "int64_t", /*default=*/"0",
           "Rows of a kernel's register tile (0: chosen by shape)">,
    Option<"tileColBlocks", "tile-col-blocks", "int64_t", /*default=*/"0",
           "Column blocks (16 columns, 8 for AVX2) of a kernel's register "
           "tile (0: chosen by shape)">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::LLVM::LLVMDialect",
                           "mlir::math::MathDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect"];
}

#endif // QCC_CODEGEN_CPU_PASSES_TD
