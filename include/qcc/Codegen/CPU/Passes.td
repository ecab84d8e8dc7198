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
    `rows` rows by two vectors of `vector-width` columns of the output lives
    in registers while the reduction runs, A is broadcast one element at a
    time and B is read as whole vectors. Column tails use masked loads and
    stores. Other matmuls are left for the generic lowering.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector register (16 for AVX-512, 8 for AVX2)">,
    Option<"rows", "rows", "int64_t", /*default=*/"6",
           "Output rows held in registers">,
    Option<"vectorsPerRow", "vectors-per-row", "int64_t", /*default=*/"2",
           "Vector registers of output columns per row">
  ];
  let dependentDialects = ["mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect"];
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

def CpuEmitEntry : Pass<"qcc-cpu-emit-entry", "mlir::ModuleOp"> {
  let summary = "Emit the artifact's exported entry points";
  let description = [{
    Runs on the LLVM dialect after the entry function was lowered with the
    bare-pointer memref convention. Adds `qcc_artifact_abi_version` and
    `qcc_artifact_main(ctx, inputs, outputs, weights)` (docs/ARTIFACT.md),
    which loads each pointer, offsets the weights base by the offsets in
    `qcc.weights`, and calls the entry function, which becomes private.
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

#endif // QCC_CODEGEN_CPU_PASSES_TD
