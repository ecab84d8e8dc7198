//===- ArtifactWriter.cpp - Writes test artifacts -------------------------===//

#include "ArtifactWriter.h"

#include "Sha256.h"

#include <cstring>
#include <fstream>
#include <sstream>

namespace qcc {
namespace test {

namespace {

std::string dimsText(const std::vector<int64_t> &shape) {
  if (shape.empty())
    return "scalar";
  std::string text;
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? "x" : "") + std::to_string(shape[i]);
  return text;
}

std::string tensorListJson(const std::vector<TensorDecl> &decls) {
  std::string text = "[";
  for (size_t i = 0; i < decls.size(); ++i) {
    text += i ? ",\n    " : "\n    ";
    text += "{\"name\": \"" + decls[i].name + "\", \"dtype\": \"" +
            decls[i].dtype + "\", \"shape\": [";
    for (size_t d = 0; d < decls[i].shape.size(); ++d)
      text += (d ? ", " : "") + std::to_string(decls[i].shape[d]);
    text += "]}";
  }
  return text + "]";
}

std::string hostTriple() {
#if defined(__x86_64__)
  return "x86_64-unknown-linux-gnu";
#elif defined(__aarch64__)
  return "aarch64-unknown-linux-gnu";
#else
  return "unknown-unknown-linux-gnu";
#endif
}

std::string baseName(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

ArtifactDesc addModelDesc(const std::string &library) {
  ArtifactDesc desc;
  desc.librarySource = library;
  desc.weights = addModelWeights();
  desc.inputs = {{"a", "float32", {2, 3}}, {"b", "float32", {2, 3}}};
  desc.outputs = {{"out", "float32", {2, 3}}};
  return desc;
}

std::string addModelWeights() {
  std::string weights(128, '\0');
  for (int i = 0; i < 6; ++i) {
    float value = static_cast<float>(i + 1);
    std::memcpy(&weights[4 * i], &value, 4);
  }
  float scale = 0.5f;
  std::memcpy(&weights[64], &scale, 4);
  return weights;
}

ArtifactDesc parallelModelDesc(const std::string &library) {
  ArtifactDesc desc;
  desc.librarySource = library;
  desc.weights.assign(64, '\0');
  for (int i = 0; i < 16; ++i) {
    float value = static_cast<float>(i) * 0.25f;
    std::memcpy(&desc.weights[4 * i], &value, 4);
  }
  desc.inputs = {{"x", "float32", {4096}}};
  desc.outputs = {{"y", "float32", {4096}}};
  return desc;
}

ArtifactDesc sumModelDesc(const std::string &library) {
  ArtifactDesc desc;
  desc.librarySource = library;
  desc.inputs = {{"ids", "int64", {4}}, {"mask", "bool", {4}}};
  desc.outputs = {{"total", "int64", {}},
                  {"count", "uint8", {1}},
                  {"nothing", "float32", {0}}};
  return desc;
}

std::string sha256Hex(const std::string &bytes) {
  return runtime::Sha256::hashHex(bytes);
}

std::string manifestText(const ArtifactDesc &desc,
                         const std::string &libraryName,
                         const std::string &weightsName,
                         const std::string &librarySha256,
                         const std::string &weightsSha256) {
  // content_hash, spelled out as docs/ARTIFACT.md defines it.
  std::string io;
  for (const TensorDecl &decl : desc.inputs)
    io += "in " + decl.name + " " + decl.dtype + " " + dimsText(decl.shape) +
          "\n";
  for (const TensorDecl &decl : desc.outputs)
    io += "out " + decl.name + " " + decl.dtype + " " + dimsText(decl.shape) +
          "\n";
  std::string contentHash = sha256Hex("qcc-artifact-v1\n" + librarySha256 +
                                      "\n" + weightsSha256 + "\n" + io);
  std::string features = "[";
  for (size_t i = 0; i < desc.requiredFeatures.size(); ++i)
    features += (i ? ", \"" : "\"") + desc.requiredFeatures[i] + "\"";
  features += "]";
  std::ostringstream text;
  text << "{\n"
       << "  \"format\": \"qcc-artifact\",\n"
       << "  \"format_version\": " << desc.formatVersion << ",\n"
       << "  \"compiler\": \"qcc-test 0.1.0\",\n"
       << "  \"source_model\": \"model.onnx\",\n"
       << "  \"source_model_sha256\": \"" << sha256Hex("model.onnx") << "\",\n"
       << "  \"target\": {\n"
       << "    \"name\": \"test-" << desc.kind << "\",\n"
       << "    \"kind\": \"" << desc.kind << "\",\n"
       << "    \"triple\": \""
       << (desc.triple.empty() ? hostTriple() : desc.triple) << "\",\n"
       << "    \"cpu\": \"generic\",\n"
       << "    \"required_features\": " << features << "\n"
       << "  },\n"
       << "  \"bits\": 32,\n"
       << "  \"library\": \"" << libraryName << "\",\n"
       << "  \"library_sha256\": \"" << librarySha256 << "\",\n"
       << "  \"weights\": \"" << weightsName << "\",\n"
       << "  \"weights_size\": " << desc.weights.size() << ",\n"
       << "  \"weights_sha256\": \"" << weightsSha256 << "\",\n"
       << "  \"inputs\":  " << tensorListJson(desc.inputs) << ",\n"
       << "  \"outputs\": " << tensorListJson(desc.outputs) << ",\n"
       << "  \"content_hash\": \"" << contentHash << "\"\n"
       << "}\n";
  return text.str();
}

std::string writeArtifact(const ArtifactDesc &desc,
                          const std::string &directory, const std::string &name,
                          std::string &error) {
  std::string library;
  if (!readFile(desc.librarySource, library)) {
    error = "cannot read fixture library " + desc.librarySource;
    return "";
  }
  std::string prefix = directory + "/" + name;
  std::string libraryName = name + ".so", weightsName = name + ".weights";
  std::string text = manifestText(desc, libraryName, weightsName,
                                  sha256Hex(library), sha256Hex(desc.weights));
  if (!writeFile(directory + "/" + libraryName, library) ||
      !writeFile(directory + "/" + weightsName, desc.weights) ||
      !writeFile(prefix + ".json", text)) {
    error = "cannot write artifact " + prefix + " (from " +
            baseName(desc.librarySource) + ")";
    return "";
  }
  return prefix;
}

bool readFile(const std::string &path, std::string &bytes) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream)
    return false;
  std::ostringstream buffer;
  buffer << stream.rdbuf();
  bytes = buffer.str();
  return true;
}

bool writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream stream(path, std::ios::binary | std::ios::trunc);
  if (!stream)
    return false;
  stream.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(stream);
}

} // namespace test
} // namespace qcc
