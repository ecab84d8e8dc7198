//===- CudaArtifact.cpp - Writes `kind: cuda` test artifacts --------------===//

#include "CudaArtifact.h"

#include <cstring>
#include <sstream>

namespace qcc {
namespace test {

std::string cudaTestPtx() {
  return R"PTX(//
// qcc runtime test module, written by hand.
//
.version 7.0
.target sm_80
.address_size 64

	// y[i] = fma(a[i] + b[i], s, w[i]) for i < n (32-bit count)
.visible .entry qcc_test_axpb(
	.param .u64 qcc_test_axpb_a,
	.param .u64 qcc_test_axpb_b,
	.param .u64 qcc_test_axpb_w,
	.param .u64 qcc_test_axpb_y,
	.param .f32 qcc_test_axpb_s,
	.param .u32 qcc_test_axpb_n
)
{
	.reg .pred 	%p<2>;
	.reg .b32 	%r<6>;
	.reg .f32 	%f<7>;
	.reg .b64 	%rd<14>;

	ld.param.u64 	%rd1, [qcc_test_axpb_a];
	ld.param.u64 	%rd2, [qcc_test_axpb_b];
	ld.param.u64 	%rd3, [qcc_test_axpb_w];
	ld.param.u64 	%rd4, [qcc_test_axpb_y];
	ld.param.f32 	%f1, [qcc_test_axpb_s];
	ld.param.u32 	%r1, [qcc_test_axpb_n];
	mov.u32 	%r2, %ctaid.x;
	mov.u32 	%r3, %ntid.x;
	mov.u32 	%r4, %tid.x;
	mad.lo.s32 	%r5, %r2, %r3, %r4;
	setp.ge.u32 	%p1, %r5, %r1;
	@%p1 bra 	$L__axpb_done;
	cvta.to.global.u64 	%rd5, %rd1;
	cvta.to.global.u64 	%rd6, %rd2;
	cvta.to.global.u64 	%rd7, %rd3;
	cvta.to.global.u64 	%rd8, %rd4;
	mul.wide.u32 	%rd9, %r5, 4;
	add.s64 	%rd10, %rd5, %rd9;
	add.s64 	%rd11, %rd6, %rd9;
	add.s64 	%rd12, %rd7, %rd9;
	add.s64 	%rd13, %rd8, %rd9;
	ld.global.f32 	%f2, [%rd10];
	ld.global.f32 	%f3, [%rd11];
	ld.global.f32 	%f4, [%rd12];
	add.rn.f32 	%f5, %f2, %f3;
	fma.rn.f32 	%f6, %f5, %f1, %f4;
	st.global.f32 	[%rd13], %f6;
$L__axpb_done:
	ret;
}

	/* y[i] = x[i] * s for i < n (64-bit count) */
.visible .entry qcc_test_scale(
	.param .u64 qcc_test_scale_x,
	.param .u64 qcc_test_scale_y,
	.param .f32 qcc_test_scale_s,
	.param .u64 qcc_test_scale_n
)
{
	.reg .pred 	%p<2>;
	.reg .b32 	%r<4>;
	.reg .f32 	%f<4>;
	.reg .b64 	%rd<12>;

	ld.param.u64 	%rd1, [qcc_test_scale_x];
	ld.param.u64 	%rd2, [qcc_test_scale_y];
	ld.param.f32 	%f1, [qcc_test_scale_s];
	ld.param.u64 	%rd3, [qcc_test_scale_n];
	mov.u32 	%r1, %ctaid.x;
	mov.u32 	%r2, %ntid.x;
	mov.u32 	%r3, %tid.x;
	mul.wide.u32 	%rd4, %r1, %r2;
	cvt.u64.u32 	%rd5, %r3;
	add.s64 	%rd6, %rd4, %rd5;
	setp.ge.u64 	%p1, %rd6, %rd3;
	@%p1 bra 	$L__scale_done;
	shl.b64 	%rd7, %rd6, 2;
	cvta.to.global.u64 	%rd8, %rd1;
	add.s64 	%rd9, %rd8, %rd7;
	ld.global.f32 	%f2, [%rd9];
	mul.rn.f32 	%f3, %f2, %f1;
	cvta.to.global.u64 	%rd10, %rd2;
	add.s64 	%rd11, %rd10, %rd7;
	st.global.f32 	[%rd11], %f3;
$L__scale_done:
	ret;
}
)PTX";
}

std::string cudaTestPlan(uint64_t arenaBytes) {
  std::ostringstream plan;
  plan << "{\n"
       << "  \"plan_version\": 1,\n"
       << "  \"arena_bytes\": " << arenaBytes << ",\n"
       << "  \"kernels\": [\"qcc_test_axpb\", \"qcc_test_scale\"],\n"
       << "  \"commands\": [\n"
       << "    {\"op\": \"memset\", \"dst\": {\"ptr\": \"arena\", \"offset\": 0},"
          " \"bytes\": 8192, \"value\": 255},\n"
       << "    {\"op\": \"launch\", \"kernel\": 0, \"grid\": [4, 1, 1],"
          " \"block\": [256, 1, 1], \"shared_bytes\": 0,\n"
       << "     \"args\": [{\"ptr\": \"input\", \"index\": 0, \"offset\": 0},"
          " {\"ptr\": \"input\", \"index\": 1, \"offset\": 0},"
          " {\"ptr\": \"weights\", \"offset\": 0},"
          " {\"ptr\": \"arena\", \"offset\": 0}, {\"f32\": 0.5},"
          " {\"i32\": 1000}]},\n"
       << "    {\"op\": \"launch\", \"kernel\": 1, \"grid\": [8, 1, 1],"
          " \"block\": [128, 1, 1],\n"
       << "     \"args\": [{\"ptr\": \"arena\", \"offset\": 0},"
          " {\"ptr\": \"arena\", \"offset\": 4096}, {\"f32\": -2.0},"
          " {\"i64\": 1000}]},\n"
       << "    {\"op\": \"copy\", \"dst\": {\"ptr\": \"output\", \"index\": 0,"
          " \"offset\": 0}, \"src\": {\"ptr\": \"arena\", \"offset\": 0},"
          " \"bytes\": 4000},\n"
       << "    {\"op\": \"copy\", \"dst\": {\"ptr\": \"output\", \"index\": 1},"
          " \"src\": {\"ptr\": \"arena\", \"offset\": 4096}, \"bytes\": 4000},\n"
       << "    {\"op\": \"memset\", \"dst\": {\"ptr\": \"output\", \"index\": 2,"
          " \"offset\": 0}, \"bytes\": 16, \"value\": 7}\n"
       << "  ]\n"
       << "}\n";
  return plan.str();
}

std::vector<float> cudaTestWeights() {
  std::vector<float> weights(cudaTestElements);
  for (int64_t i = 0; i < cudaTestElements; ++i)
    weights[i] = 0.25f * static_cast<float>(i % 13) - 1.0f;
  return weights;
}

CudaArtifactDesc cudaTestDesc() {
  CudaArtifactDesc desc;
  desc.ptx = cudaTestPtx();
  desc.plan = cudaTestPlan();
  std::vector<float> weights = cudaTestWeights();
  desc.weights.assign(4032, '\0'); // 64-byte multiple
  std::memcpy(&desc.weights[0], weights.data(), weights.size() * 4);
  desc.inputs = {{"a", "float32", {cudaTestElements}},
                 {"b", "float32", {cudaTestElements}}};
  desc.outputs = {{"y", "float32", {cudaTestElements}},
                  {"z", "float32", {cudaTestElements}},
                  {"flag", "uint8", {16}}};
  return desc;
}

CudaArtifactDesc cudaOneLaunchDesc() {
  CudaArtifactDesc desc = cudaTestDesc();
  desc.plan =
      "{\n  \"plan_version\": 1,\n  \"arena_bytes\": 0,\n"
      "  \"kernels\": [\"qcc_test_axpb\"],\n"
      "  \"commands\": [\n"
      "    {\"op\": \"launch\", \"kernel\": 0, \"grid\": [4, 1, 1],"
      " \"block\": [256, 1, 1], \"shared_bytes\": 0,\n"
      "     \"args\": [{\"ptr\": \"input\", \"index\": 0, \"offset\": 0},"
      " {\"ptr\": \"input\", \"index\": 1, \"offset\": 0},"
      " {\"ptr\": \"weights\", \"offset\": 0},"
      " {\"ptr\": \"output\", \"index\": 0, \"offset\": 0},"
      " {\"f32\": 0.5}, {\"i32\": 1000}]}\n"
      "  ]\n}\n";
  desc.outputs = {{"y", "float32", {cudaTestElements}}};
  return desc;
}

namespace {

std::string dims(const std::vector<int64_t> &shape) {
  if (shape.empty())
    return "scalar";
  std::string text;
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? "x" : "") + std::to_string(shape[i]);
  return text;
}

std::string tensorList(const std::vector<TensorDecl> &decls) {
  std::string text = "[";
  for (size_t i = 0; i < decls.size(); ++i) {
    text += std::string(i ? ", " : "") + "{\"name\": \"" + decls[i].name +
            "\", \"dtype\": \"" + decls[i].dtype + "\", \"shape\": [";
    for (size_t d = 0; d < decls[i].shape.size(); ++d)
      text += (d ? ", " : "") + std::to_string(decls[i].shape[d]);
    text += "]}";
  }
  return text + "]";
}

} // namespace

std::string cudaManifestText(const CudaArtifactDesc &desc,
                             const std::string &name) {
  std::string ptxSha = sha256Hex(desc.ptx), planSha = sha256Hex(desc.plan),
              weightsSha = sha256Hex(desc.weights);
  // content_hash as docs/ARTIFACT.md spells it for kind cuda.
  std::string io;
  for (const TensorDecl &decl : desc.inputs)
    io += "in " + decl.name + " " + decl.dtype + " " + dims(decl.shape) + "\n";
  for (const TensorDecl &decl : desc.outputs)
    io += "out " + decl.name + " " + decl.dtype + " " + dims(decl.shape) + "\n";
  std::string contentHash =
      sha256Hex("qcc-artifact-v1\n" + ptxSha + "\n" + weightsSha + "\n" +
                (desc.hashPlan ? "plan " + planSha + "\n" : "") + io);
  std::ostringstream text;
  text << "{\n"
       << "  \"format\": \"qcc-artifact\",\n"
       << "  \"format_version\": 1,\n"
       << "  \"compiler\": \"qcc-test 0.1.0\",\n"
       << "  \"source_model\": \"model.onnx\",\n"
       << "  \"source_model_sha256\": \"" << sha256Hex("model.onnx") << "\",\n"
       << "  \"target\": {\"name\": \"sm_" << desc.sm
       << (desc.archSpecific ? "a" : "")
       << "\", \"kind\": \"cuda\", \"sm\": " << desc.sm
       << (desc.archSpecific ? ", \"arch_specific\": true" : "")
       << ", \"ptx_isa\": \"7.0\"},\n"
       << "  \"bits\": 32,\n"
       << "  \"library\": \"" << name << ".ptx\",\n"
       << "  \"library_sha256\": \"" << ptxSha << "\",\n"
       << "  \"plan\": \"" << name << ".plan.json\",\n"
       << "  \"plan_sha256\": \"" << planSha << "\",\n"
       << "  \"weights\": \"" << name << ".weights\",\n"
       << "  \"weights_size\": " << desc.weights.size() << ",\n"
       << "  \"weights_sha256\": \"" << weightsSha << "\",\n"
       << "  \"inputs\": " << tensorList(desc.inputs) << ",\n"
       << "  \"outputs\": " << tensorList(desc.outputs) << ",\n"
       << "  \"content_hash\": \"" << contentHash << "\"\n"
       << "}\n";
  return text.str();
}

std::string writeCudaArtifact(const CudaArtifactDesc &desc,
                              const std::string &directory,
                              const std::string &name, std::string &error) {
  std::string prefix = directory + "/" + name;
  if (!writeFile(prefix + ".ptx", desc.ptx) ||
      !writeFile(prefix + ".plan.json", desc.plan) ||
      !writeFile(prefix + ".weights", desc.weights) ||
      !writeFile(prefix + ".json", cudaManifestText(desc, name))) {
    error = "cannot write artifact " + prefix;
    return "";
  }
  return prefix;
}

} // namespace test
} // namespace qcc
