//===- ApproximateMath.cpp - polynomial f32 transcendentals ---------------===//

#include "qcc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringSet.h"

namespace qcc::cpu {
#define GEN_PASS_DEF_CPUAPPROXIMATEMATH
#include "qcc/Codegen/CPU/Passes.h.inc"
} // namespace qcc::cpu

using namespace mlir;

namespace {

struct CpuApproximateMathPass
    : public qcc::cpu::impl::CpuApproximateMathBase<CpuApproximateMathPass> {
  void runOnOperation() override {
    // Functions whose approximations hold their accuracy over the whole f32
    // range; sin/cos/atan lose accuracy for large arguments and stay libm.
    static const llvm::StringSet<> approximated = {
        "math.exp",  "math.expm1", "math.log", "math.log1p",
        "math.log2", "math.tanh",  "math.erf"};
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(
        patterns, [](StringRef name) { return approximated.contains(name); });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
