//===- ModelTest.cpp - Loading, verifying and running artifacts -----------===//
//
// Every test builds real artifacts from the fixture libraries compiled from
// test/fixtures/*.c, with manifests carrying real hashes.
//
//===----------------------------------------------------------------------===//

#include "qcc/qcc_runtime.h"

#include "ArtifactWriter.h"
#include "CpuFeatures.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <ftw.h>
#include <memory>
#include <stddef.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace qcc::test;

namespace {

/// A status taken apart (and freed).
struct Outcome {
  qcc_status_code_t code;
  std::string message;
};

Outcome take(qcc_status status) {
  Outcome outcome{qcc_status_code(status), qcc_status_message(status)};
  qcc_status_free(status);
  return outcome;
}

struct ModelDeleter {
  void operator()(qcc_model *model) const { qcc_model_release(model); }
};
using ModelPtr = std::unique_ptr<qcc_model, ModelDeleter>;

/// A tensor over a caller-owned vector.
template <typename T>
qcc_tensor tensorOf(qcc_dtype dtype, std::vector<int64_t> dims,
                    std::vector<T> &data) {
  qcc_tensor tensor;
  std::memset(&tensor, 0, sizeof(tensor));
  tensor.dtype = dtype;
  tensor.rank = static_cast<uint32_t>(dims.size());
  for (size_t i = 0; i < dims.size(); ++i)
    tensor.dims[i] = dims[i];
  tensor.data = data.data();
  tensor.byte_size = data.size() * sizeof(T);
  return tensor;
}

int removeEntry(const char *path, const struct stat *, int, struct FTW *) {
  return ::remove(path);
}

class ModelTest : public ::testing::Test {
protected:
  void SetUp() override {
    const char *base = std::getenv("TMPDIR");
    std::string pattern = std::string(base ? base : "/tmp") + "/qcc-rt-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    ASSERT_NE(::mkdtemp(buffer.data()), nullptr);
    directory = buffer.data();
  }

  void TearDown() override {
    ::nftw(directory.c_str(), removeEntry, 16, FTW_DEPTH | FTW_PHYS);
  }

  std::string write(const ArtifactDesc &desc, const std::string &name) {
    std::string error;
    std::string prefix = writeArtifact(desc, directory, name, error);
    EXPECT_FALSE(prefix.empty()) << error;
    return prefix;
  }

  ModelPtr load(const std::string &prefix, uint32_t threads = 0) {
    qcc_load_options options;
    qcc_load_options_init(&options);
    options.num_threads = threads;
    qcc_model *model = nullptr;
    Outcome outcome = take(qcc_model_load(prefix.c_str(), &options, &model));
    EXPECT_EQ(outcome.code, QCC_STATUS_OK) << outcome.message;
    return ModelPtr(model);
  }

  Outcome loadFails(const std::string &prefix) {
    qcc_model *model = reinterpret_cast<qcc_model *>(0x1);
    Outcome outcome = take(qcc_model_load(prefix.c_str(), nullptr, &model));
    EXPECT_NE(outcome.code, QCC_STATUS_OK);
    EXPECT_EQ(model, nullptr);
    qcc_model_release(model);
    // One line, no trailing period.
    EXPECT_EQ(outcome.message.find('\n'), std::string::npos);
    return outcome;
  }

  /// Rewrites the manifest of `prefix` by replacing `from` with `to`.
  void editManifest(const std::string &prefix, const std::string &from,
                    const std::string &to) {
    std::string text;
    ASSERT_TRUE(readFile(prefix + ".json", text));
    size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    ASSERT_TRUE(writeFile(prefix + ".json", text));
  }

  /// Runs the add model and checks the result.
  static void runAdd(qcc_model *model, float offset) {
    std::vector<float> a(6), b(6), out(6, -7.0f);
    for (int i = 0; i < 6; ++i) {
      a[i] = offset + static_cast<float>(i);
      b[i] = 10.0f * static_cast<float>(i);
    }
    qcc_tensor inputs[2] = {tensorOf(QCC_DTYPE_FLOAT32, {2, 3}, a),
                            tensorOf(QCC_DTYPE_FLOAT32, {2, 3}, b)};
    qcc_tensor output = tensorOf(QCC_DTYPE_FLOAT32, {2, 3}, out);
    Outcome outcome = take(qcc_model_run(model, inputs, 2, &output, 1));
    ASSERT_EQ(outcome.code, QCC_STATUS_OK) << outcome.message;
    for (int i = 0; i < 6; ++i)
      ASSERT_EQ(out[i], (a[i] + b[i] + static_cast<float>(i + 1)) * 0.5f)
          << "element " << i;
  }

  /// Runs the parallel model and checks the result.
  static void runParallel(qcc_model *model, float seed) {
    std::vector<float> x(4096), y(4096, -1.0f);
    for (int i = 0; i < 4096; ++i)
      x[i] = seed + static_cast<float>(i % 97);
    qcc_tensor input = tensorOf(QCC_DTYPE_FLOAT32, {4096}, x);
    qcc_tensor output = tensorOf(QCC_DTYPE_FLOAT32, {4096}, y);
    Outcome outcome = take(qcc_model_run(model, &input, 1, &output, 1));
    ASSERT_EQ(outcome.code, QCC_STATUS_OK) << outcome.message;
    for (int i = 0; i < 4096; ++i)
      ASSERT_EQ(y[i], x[i] * 2.0f + static_cast<float>(i % 16) * 0.25f)
          << "element " << i;
  }

  std::string directory;
};

TEST(RuntimeVersion, Queries) {
  EXPECT_STREQ(qcc_runtime_version(), "0.1.0");
  EXPECT_EQ(qcc_runtime_artifact_format_version(), 1u);
  EXPECT_EQ(qcc_status_code(nullptr), QCC_STATUS_OK);
  EXPECT_STREQ(qcc_status_message(nullptr), "OK");
  EXPECT_STREQ(qcc_status_code_name(QCC_STATUS_DATA_LOSS), "DATA_LOSS");
  qcc_status_free(nullptr);
}

TEST(RuntimeDtypes, NamesAndSizes) {
  EXPECT_STREQ(qcc_dtype_name(QCC_DTYPE_FLOAT16), "float16");
  EXPECT_EQ(qcc_dtype_size(QCC_DTYPE_FLOAT16), 2u);
  EXPECT_EQ(qcc_dtype_size(QCC_DTYPE_BOOL), 1u);
  EXPECT_EQ(qcc_dtype_size(QCC_DTYPE_UINT64), 8u);
  EXPECT_EQ(qcc_dtype_size(QCC_DTYPE_INVALID), 0u);
  EXPECT_STREQ(qcc_dtype_name(static_cast<qcc_dtype>(99)), "invalid");
  for (int d = QCC_DTYPE_FLOAT32; d <= QCC_DTYPE_BOOL; ++d)
    EXPECT_EQ(qcc_dtype_from_name(qcc_dtype_name(static_cast<qcc_dtype>(d))),
              d);
  EXPECT_EQ(qcc_dtype_from_name("bfloat16"), QCC_DTYPE_INVALID);
  EXPECT_EQ(qcc_dtype_from_name(nullptr), QCC_DTYPE_INVALID);
}

TEST(RuntimeAbi, ExecContextLayoutMatchesTheContract) {
  // docs/ARTIFACT.md: two uint32, then a pointer and a function pointer.
  EXPECT_EQ(offsetof(qcc_exec_context, abi_version), 0u);
  EXPECT_EQ(offsetof(qcc_exec_context, num_threads), 4u);
  EXPECT_EQ(offsetof(qcc_exec_context, pool), 8u);
  EXPECT_EQ(offsetof(qcc_exec_context, parallel_for), 8u + sizeof(void *));
  // Version 2 appends the arena; qcc-cpu-emit-entry loads it at byte 24.
  EXPECT_EQ(offsetof(qcc_exec_context, arena), 8u + 2 * sizeof(void *));
  EXPECT_EQ(offsetof(qcc_exec_context, arena_bytes), 8u + 3 * sizeof(void *));
}

TEST_F(ModelTest, LoadsAndDescribes) {
  ModelPtr model = load(write(addModelDesc(QCC_FIXTURE_ADD), "add"));
  ASSERT_TRUE(model);
  ASSERT_EQ(qcc_model_num_inputs(model.get()), 2u);
  ASSERT_EQ(qcc_model_num_outputs(model.get()), 1u);
  qcc_tensor_info info;
  ASSERT_EQ(take(qcc_model_input_info(model.get(), 1, &info)).code,
            QCC_STATUS_OK);
  EXPECT_STREQ(info.name, "b");
  EXPECT_EQ(info.dtype, QCC_DTYPE_FLOAT32);
  EXPECT_EQ(info.rank, 2u);
  EXPECT_EQ(info.dims[0], 2);
  EXPECT_EQ(info.dims[1], 3);
  EXPECT_EQ(info.byte_size, 24u);
  ASSERT_EQ(take(qcc_model_output_info(model.get(), 0, &info)).code,
            QCC_STATUS_OK);
  EXPECT_STREQ(info.name, "out");
  Outcome outOfRange = take(qcc_model_input_info(model.get(), 2, &info));
  EXPECT_EQ(outOfRange.code, QCC_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(outOfRange.message, "input index 2 out of range (model has 2)");

  size_t index = 99;
  ASSERT_EQ(take(qcc_model_find_input(model.get(), "b", &index)).code,
            QCC_STATUS_OK);
  EXPECT_EQ(index, 1u);
  ASSERT_EQ(take(qcc_model_find_output(model.get(), "out", &index)).code,
            QCC_STATUS_OK);
  EXPECT_EQ(index, 0u);
  Outcome missing = take(qcc_model_find_input(model.get(), "c", &index));
  EXPECT_EQ(missing.code, QCC_STATUS_NOT_FOUND);
  EXPECT_EQ(missing.message, "model has no input named 'c' (inputs: 'a', 'b')");

  EXPECT_NE(std::string(qcc_model_manifest_json(model.get()))
                .find("\"qcc-artifact\""),
            std::string::npos);
  EXPECT_EQ(std::strlen(qcc_model_content_hash(model.get())), 64u);
  EXPECT_STREQ(qcc_model_target_name(model.get()), "test-cpu");
  EXPECT_GE(qcc_model_num_threads(model.get()), 1u);
}

TEST_F(ModelTest, RunsWithCorrectNumerics) {
  ModelPtr model = load(write(addModelDesc(QCC_FIXTURE_ADD), "add"));
  ASSERT_TRUE(model);
  runAdd(model.get(), 1.25f);
  runAdd(model.get(), -3.0f);
}

TEST_F(ModelTest, KeepsTheArenaFromRunToRun) {
  // The fixture adds the number of earlier calls its arena has seen.
  ModelPtr model = load(write(addModelDesc(QCC_FIXTURE_ARENA), "arena"));
  ASSERT_TRUE(model);
  alignas(64) float a[6], b[6], out[6];
  for (int i = 0; i < 6; ++i) {
    a[i] = static_cast<float>(i);
    b[i] = 2.0f;
  }
  qcc_tensor inputs[2] = {{QCC_DTYPE_FLOAT32, 2, {2, 3}, a, 24},
                          {QCC_DTYPE_FLOAT32, 2, {2, 3}, b, 24}};
  qcc_tensor output = {QCC_DTYPE_FLOAT32, 2, {2, 3}, out, 24};
  for (int call = 0; call < 3; ++call) {
    ASSERT_EQ(take(qcc_model_run(model.get(), inputs, 2, &output, 1)).code,
              QCC_STATUS_OK);
    for (int i = 0; i < 6; ++i)
      EXPECT_EQ(out[i], (a[i] + 2.0f + static_cast<float>(i + 1)) * 0.5f +
                            static_cast<float>(call))
          << "call " << call << " element " << i;
  }
}

TEST_F(ModelTest, StagesUnalignedBuffers) {
  ModelPtr model = load(write(addModelDesc(QCC_FIXTURE_ADD), "add"));
  ASSERT_TRUE(model);
  // The fixture poisons its output when handed unaligned pointers.
  alignas(64) float storage[3][32];
  float *a = storage[0] + 1, *b = storage[1] + 3, *out = storage[2] + 5;
  for (int i = 0; i < 6; ++i) {
    a[i] = static_cast<float>(i);
    b[i] = 1.0f;
    out[i] = 0.0f;
  }
  qcc_tensor inputs[2] = {{QCC_DTYPE_FLOAT32, 2, {2, 3}, a, 24},
                          {QCC_DTYPE_FLOAT32, 2, {2, 3}, b, 24}};
  qcc_tensor output = {QCC_DTYPE_FLOAT32, 2, {2, 3}, out, 24};
  ASSERT_EQ(take(qcc_model_run(model.get(), inputs, 2, &output, 1)).code,
            QCC_STATUS_OK);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(out[i], (a[i] + 1.0f + static_cast<float>(i + 1)) * 0.5f);
}

TEST_F(ModelTest, ParallelForWithNestedRegions) {
  ModelPtr model =
      load(write(parallelModelDesc(QCC_FIXTURE_PARALLEL), "par"), 4);
  ASSERT_TRUE(model);
  EXPECT_EQ(qcc_model_num_threads(model.get()), 4u);
  runParallel(model.get(), 0.5f);
  for (uint32_t threads : {1u, 3u, 0u}) {
    ASSERT_EQ(take(qcc_model_set_num_threads(model.get(), threads)).code,
              QCC_STATUS_OK);
    EXPECT_GE(qcc_model_num_threads(model.get()), 1u);
    if (threads) {
      EXPECT_EQ(qcc_model_num_threads(model.get()), threads);
    }
    runParallel(model.get(), static_cast<float>(threads));
  }
}

TEST_F(ModelTest, ConcurrentRunsFromFourThreads) {
  ModelPtr parallel =
      load(write(parallelModelDesc(QCC_FIXTURE_PARALLEL), "par"), 3);
  ModelPtr add = load(write(addModelDesc(QCC_FIXTURE_ADD), "add"));
  ASSERT_TRUE(parallel && add);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int iteration = 0; iteration < 50; ++iteration) {
        runParallel(parallel.get(), static_cast<float>(t * 1000 + iteration));
        runAdd(add.get(), static_cast<float>(t - iteration));
      }
    });
  }
  // Resizing the pool while runs are in flight must be safe too.
  ASSERT_EQ(take(qcc_model_set_num_threads(parallel.get(), 2)).code,
            QCC_STATUS_OK);
  for (std::thread &thread : threads)
    thread.join();
}

TEST_F(ModelTest, IntegerBoolScalarAndEmptyTensors) {
  ModelPtr model = load(write(sumModelDesc(QCC_FIXTURE_SUM), "sum"));
  ASSERT_TRUE(model);
  qcc_tensor_info info;
  ASSERT_EQ(take(qcc_model_output_info(model.get(), 0, &info)).code,
            QCC_STATUS_OK);
  EXPECT_EQ(info.rank, 0u);
  EXPECT_EQ(info.byte_size, 8u);
  ASSERT_EQ(take(qcc_model_output_info(model.get(), 2, &info)).code,
            QCC_STATUS_OK);
  EXPECT_EQ(info.byte_size, 0u);

  std::vector<int64_t> ids = {5, -7, 11, 1000000000000};
  std::vector<uint8_t> mask = {1, 0, 1, 1};
  std::vector<int64_t> total(1, 0);
  std::vector<uint8_t> count(1, 0);
  qcc_tensor inputs[2] = {tensorOf(QCC_DTYPE_INT64, {4}, ids),
                          tensorOf(QCC_DTYPE_BOOL, {4}, mask)};
  qcc_tensor outputs[3] = {tensorOf(QCC_DTYPE_INT64, {}, total),
                           tensorOf(QCC_DTYPE_UINT8, {1}, count),
                           {QCC_DTYPE_FLOAT32, 1, {0}, nullptr, 0}};
  Outcome outcome = take(qcc_model_run(model.get(), inputs, 2, outputs, 3));
  ASSERT_EQ(outcome.code, QCC_STATUS_OK) << outcome.message;
  EXPECT_EQ(total[0], 1000000000016);
  EXPECT_EQ(count[0], 3);
}

TEST_F(ModelTest, ReferenceCounting) {
  qcc_model *model =
      load(write(addModelDesc(QCC_FIXTURE_ADD), "add")).release();
  ASSERT_NE(model, nullptr);
  qcc_model_retain(model);
  qcc_model_release(model);
  runAdd(model, 2.0f); // still alive: one reference left
  qcc_model_release(model);
  qcc_model_release(nullptr);
}

TEST_F(ModelTest, TwoModelsFromOneLibrary) {
  std::string prefix = write(addModelDesc(QCC_FIXTURE_ADD), "add");
  ModelPtr first = load(prefix), second = load(prefix);
  ASSERT_TRUE(first && second);
  first.reset();
  runAdd(second.get(), 4.0f);
}

//===----------------------------------------------------------------------===//
// Load errors
//===----------------------------------------------------------------------===//

TEST_F(ModelTest, RejectsBadArguments) {
  qcc_model *model = nullptr;
  EXPECT_EQ(take(qcc_model_load(nullptr, nullptr, &model)).code,
            QCC_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(take(qcc_model_load("x", nullptr, nullptr)).code,
            QCC_STATUS_INVALID_ARGUMENT);
  qcc_load_options options;
  qcc_load_options_init(&options);
  options.reserved[3] = 1;
  EXPECT_EQ(take(qcc_model_load("x", &options, &model)).code,
            QCC_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(model, nullptr);
}

TEST_F(ModelTest, MissingManifest) {
  Outcome outcome = loadFails(directory + "/nothing");
  EXPECT_EQ(outcome.code, QCC_STATUS_NOT_FOUND);
  EXPECT_EQ(outcome.message, "cannot open manifest '" + directory +
                                 "/nothing.json': No such file or directory");
}

TEST_F(ModelTest, TruncatedManifest) {
  std::string prefix = write(addModelDesc(QCC_FIXTURE_ADD), "add");
  std::string text;
  ASSERT_TRUE(readFile(prefix + ".json", text));
  ASSERT_TRUE(writeFile(prefix + ".json", text.substr(0, text.size() / 2)));
  Outcome outcome = loadFails(prefix);
  EXPECT_EQ(outcome.code, QCC_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(outcome.message.find("invalid manifest '" + prefix +
                                 ".json': not valid JSON: line "),
            std::string::npos)
      << outcome.message;
}

TEST_F(ModelTest, EveryTruncationOfTheManifestFailsCleanly) {
  std::string prefix = write(addModelDesc(QCC_FIXTURE_ADD), "add");
  std::string text;
  ASSERT_TRUE(readFile(prefix + ".json", text));
  // The trailing newline is optional; everything shorter must be refused.
  for (size_t length = 0; length + 2 < text.size(); ++length) {
    ASSERT_TRUE(writeFile(prefix + ".json", text.substr(0, length)));
    qcc_model *model = nullptr;
    Outcome outcome = take(qcc_model_load(prefix.c_str(), nullptr, &model));
    ASSERT_EQ(outcome.code, QCC_STATUS_INVALID_ARGUMENT) << length;
    ASSERT_EQ(model, nullptr);
  }
}

TEST_F(ModelTest, ManifestIsNotJson) {
  std::string prefix = directory + "/junk";
  for (const char *text : {"", "hello",
                           "\x7f"
                           "ELF",
                           "[1, 2]", "null"}) {
    ASSERT_TRUE(writeFile(prefix + ".json", text));
    Outcome outcome = loadFails(prefix);
    EXPECT_EQ(outcome.code, QCC_STATUS_INVALID_ARGUMENT) << text;
    EXPECT_EQ(
        outcome.message.rfind("invalid manifest '" + prefix + ".json'", 0), 0u)
        << outcome.message;
  }
}

TEST_F(ModelTest, WrongFormatAndVersion) {
  std::string prefix = write(addModelDesc(QCC_FIXTURE_ADD), "add");
  editManifest(prefix, "\"format\": \"qcc-artifact\"",
               "\"format\": \"onnx-model\"");
  Outcome outcome = loadFails(prefix);
  EXPECT_EQ(outcome.code, QCC_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(outcome.message.find("expected \"qcc-artifact\""),
            std::string::npos);

  ArtifactDesc desc = addModelDesc(QCC_FIXTURE_ADD);
  desc.formatVersion = 2;
  outcome = loadFails(write(desc, "v2"));
  EXPECT_EQ(outcome.code, QCC_STATUS_UNIMPLEMENTED);
  EXPECT_EQ(outcome.message,
            "manifest '" + directory +
                "/v2.json' has format_version 2; this runtime reads "
                "format_version 1");

  prefix = write(addModelDesc(QCC_FIXTURE_ADD), "vstr");
  editManifest(prefix, "\"format_version\": 1", "\"format_version\": \"1\"");
  outcome = loadFails(prefix);
  EXPECT_EQ(outcome.code, QCC_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(outcome.message.find("field 'format_version' must be a number, "
                                 "got string"),
            std::string::npos)
      << outcome.message;
}

TEST_F(ModelTest, MissingAndMistypedFields) {
  struct Case {
    const char *from, *to, *expected;
  };
  const Case cases[] = {
      {"\"library_sha256\"", "\"library_sha\"",
       "missing field 'library_sha256'"},
      {"\"inputs\":  [", "\"inputs\": {\"x\": [",
       "not valid JSON"}, // unbalanced on purpose
      {"\"outputs\": [", "\"outputs\": 7, \"o\": [",
       "field 'outputs' must be an array, got number"},
      {"\"dtype\": \"float32\"", "\"dtype\": \"float8\"",
       "'inputs[0].dtype' has unknown element type 'float8'"},
      {"\"shape\": [2, 3]", "\"shape\": [2, -3]",
       "'inputs[0].shape' must hold non-negative integers"},
      {"\"shape\": [2, 3]", "\"shape\": [2, 3.5]",
       "'inputs[0].shape' must hold non-negative integers"},
      {"\"name\": \"b\"", "\"name\": \"a\"", "duplicate input name 'a'"},
      {"\"weights_size\": 128", "\"weights_size\": -1",
       "'weights_size' must not be negative"},
      {"\"kind\": \"cpu\"", "\"kind\": 1",
       "field 'target.kind' must be a string, got number"},
      {"\"required_features\": []", "\"required_features\": [1]",
       "'target.required_features' must hold strings"},
  };
  int index = 0;
  for (const Case &c : cases) {
    std::string prefix =
        write(addModelDesc(QCC_FIXTURE_ADD), "case" + std::to_string(index++));
    editManifest(prefix, c.from, c.to);
    Outcome outcome = loadFails(prefix);
    EXPECT_EQ(outcome.code, QCC_STATUS_INVALID_ARGUMENT) << c.expected;
    EXPECT_NE(outcome.message.find(c.expected), std::string::npos)
        << outcome.message;
  }
  std::string prefix = write(addModelDesc(QCC_FIXTURE_ADD), "digest");
  editManifest(prefix, "\"content_hash\": \"", "\"content_hash\": \"zz");
  Outcome outcome = loadFails(prefix);
  EXPECT_NE(outcome.message.find(
                "field 'content_hash' must be a 64-digit hex SHA-256"),
            std::string::npos)
      << outcome.message;
}

TEST_F(ModelTest, TamperedLibrary) {
  std::string prefix = write(addModelDesc(QCC_FIXTURE_ADD), "add");
  std::string library;
  ASSERT_TRUE(readFile(prefix + ".so", library));
  library[library.size() / 2] ^= 0x40;
  ASSERT_TRUE(writeFile(prefix + ".so", library));
  Outcome outcome = loadFails(prefix);
  EXPECT_EQ(outcome.code, QCC_STATUS_DATA_LOSS);
  EXPECT_EQ(outcome.message.rfind("artifact integrity check failed: library '" +
                                      prefix + ".so' has SHA-256 ",
                                  0),
            0u)
      << outcome.message;
}

TEST_F(ModelTest, TamperedWeights) {
  std::string prefix = write(addModelDesc(QCC_FIXTURE_ADD), "add");
  std::string weights;
  ASSERT_TRUE(readFile(prefix + ".weights", weights));
  weights[3] ^= 1;
  ASSERT_TRUE(writeFile(prefix + ".weights", weights));
  Outcome outcome = loadFails(prefix);
  EXPECT_EQ(outcome.code, QCC_STATUS_DATA_LOSS);
  EXPECT_NE(outcome.message.find("artifact integrity check failed: weights '" +
                                 prefix + ".weights' has SHA-256 "),
            std::string::npos)
      << outcome.message;

  ASSERT_TRUE(writeFile(prefix + ".weights", weights.substr(0, 100)));
  outcome = loadFails(prefix);
  EXPECT_EQ(outcome.code, QCC_STATUS_DATA_LOSS);
  EXPECT_NE(outcome.message.find("has 100 bytes, the manifest says 128"),
            std::string::npos)
      << outcome.message;
}

TEST_F(ModelTest, TamperedManifestShapes) {
  std::string prefix = write(addModelDesc(QCC_FIXTURE_ADD), "add");
  editManifest(prefix, "\"shape\": [2, 3]", "\"shape\": [3, 2]");
  Outcome outcome = loadFails(prefix);
  EXPECT_EQ(outcome.code, QCC_STATUS_DATA_LOSS);
  EXPECT_NE(outcome.message.find("artifact integrity check failed: "
                                 "content_hash of manifest"),
            std::string::npos)
      << outcome.message;
}

TEST_F(ModelTest, MissingLibraryOrWeights) {
  std::string prefix = write(addModelDesc(QCC_FIXTURE_ADD), "add");
  ASSERT_EQ(::unlink((prefix + ".weights").c_str()), 0);
  Outcome outcome = loadFails(prefix);
  EXPECT_EQ(outcome.code, QCC_STATUS_NOT_FOUND);
  EXPECT_NE(
      outcome.message.find("cannot open weights '" + prefix + ".weights'"),
      std::string::npos)
      << outcome.message;
  ASSERT_EQ(::unlink((prefix + ".so").c_str()), 0);
  outcome = loadFails(prefix);
  EXPECT_EQ(outcome.code, QCC_STATUS_NOT_FOUND);
  EXPECT_NE(outcome.message.find("cannot read library '" + prefix + ".so'"),
            std::string::npos)
      << outcome.message;
}

TEST_F(ModelTest, UnknownCpuFeature) {
  ArtifactDesc desc = addModelDesc(QCC_FIXTURE_ADD);
  desc.requiredFeatures = {"sse2", "avx512fake"};
  Outcome outcome = loadFails(write(desc, "fake"));
  EXPECT_EQ(outcome.code, QCC_STATUS_FAILED_PRECONDITION);
  EXPECT_NE(outcome.message.find(
                "artifact requires CPU features unknown to this runtime: "
                "avx512fake"),
            std::string::npos)
      << outcome.message;
}

TEST_F(ModelTest, CpuFeatureThisMachineLacks) {
  using qcc::runtime::CpuFeatures;
  std::vector<std::string> lacking;
  for (const std::string &name : CpuFeatures::knownNames())
    if (!CpuFeatures::host().has(name))
      lacking.push_back(name);
  if (lacking.empty())
    GTEST_SKIP() << "this CPU has every feature the runtime knows";
  ArtifactDesc desc = addModelDesc(QCC_FIXTURE_ADD);
  desc.requiredFeatures = CpuFeatures::host().presentNames();
  desc.requiredFeatures.push_back(lacking.front());
  Outcome outcome = loadFails(write(desc, "lacking"));
  EXPECT_EQ(outcome.code, QCC_STATUS_FAILED_PRECONDITION);
  EXPECT_NE(outcome.message.find(
                "artifact requires CPU features not present on this machine: " +
                lacking.front() + " (manifest '"),
            std::string::npos)
      << outcome.message;

  // Every feature this machine has is accepted.
  desc.requiredFeatures = CpuFeatures::host().presentNames();
  EXPECT_TRUE(load(write(desc, "present")));
}

TEST_F(ModelTest, UnknownTargets) {
  // GPU artifacts are kind "cuda" (GpuModelTest.cpp); "gpu" names nothing.
  ArtifactDesc desc = addModelDesc(QCC_FIXTURE_ADD);
  desc.kind = "gpu";
  Outcome outcome = loadFails(write(desc, "gpu"));
  EXPECT_EQ(outcome.code, QCC_STATUS_UNIMPLEMENTED);
  EXPECT_NE(outcome.message.find("unknown target kind 'gpu'"),
            std::string::npos);
  desc.kind = "tpu";
  outcome = loadFails(write(desc, "tpu"));
  EXPECT_EQ(outcome.code, QCC_STATUS_UNIMPLEMENTED);
  EXPECT_NE(outcome.message.find("unknown target kind 'tpu'"),
            std::string::npos);
  desc.kind = "cpu";
  desc.triple = "riscv64-unknown-linux-gnu";
  outcome = loadFails(write(desc, "riscv"));
  EXPECT_EQ(outcome.code, QCC_STATUS_FAILED_PRECONDITION);
  EXPECT_NE(outcome.message.find("targets riscv64-unknown-linux-gnu but this "
                                 "machine is"),
            std::string::npos);
}

TEST_F(ModelTest, LibraryIoSignature) {
  // The library's own account of its I/O and weight size matches: it runs.
  ModelPtr model = load(write(addModelDesc(QCC_FIXTURE_SIGNED), "signed"));
  ASSERT_TRUE(model);
  runAdd(model.get(), 0.5f);

  // A manifest with another shape, its hashes consistent: refused at load.
  ArtifactDesc forged = addModelDesc(QCC_FIXTURE_SIGNED);
  forged.outputs[0].shape = {3, 2};
  Outcome outcome = loadFails(write(forged, "forged-shape"));
  EXPECT_EQ(outcome.code, QCC_STATUS_DATA_LOSS);
  EXPECT_NE(outcome.message.find("does not describe library '" + directory +
                                 "/forged-shape.so': the manifest says 'out "
                                 "out float32 3x2', the library 'out out "
                                 "float32 2x3'"),
            std::string::npos)
      << outcome.message;

  // A shorter weight file, size and digest rewritten.
  forged = addModelDesc(QCC_FIXTURE_SIGNED);
  forged.weights.resize(64);
  outcome = loadFails(write(forged, "forged-weights"));
  EXPECT_EQ(outcome.code, QCC_STATUS_DATA_LOSS);
  EXPECT_NE(outcome.message.find("the manifest says 'weights 64', the "
                                 "library 'weights 128'"),
            std::string::npos)
      << outcome.message;

  // An extra input.
  forged = addModelDesc(QCC_FIXTURE_SIGNED);
  forged.inputs.push_back({"c", "float32", {2, 3}});
  outcome = loadFails(write(forged, "forged-input"));
  EXPECT_NE(outcome.message.find("the manifest says 'in c float32 2x3', the "
                                 "library 'out out float32 2x3'"),
            std::string::npos)
      << outcome.message;
}

TEST_F(ModelTest, LibraryProblems) {
  Outcome outcome = loadFails(write(addModelDesc(QCC_FIXTURE_ABI1), "abi1"));
  EXPECT_EQ(outcome.code, QCC_STATUS_UNIMPLEMENTED);
  EXPECT_NE(outcome.message.find("has artifact ABI version 1; this runtime "
                                 "calls ABI version 2 (recompile"),
            std::string::npos)
      << outcome.message;

  outcome = loadFails(write(addModelDesc(QCC_FIXTURE_NOMAIN), "nomain"));
  EXPECT_EQ(outcome.code, QCC_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(outcome.message.find("does not export qcc_artifact_main: "),
            std::string::npos)
      << outcome.message;

  // A library with valid hashes that is not an ELF object: dlopen's error.
  std::string notElf = directory + "/not-elf.bin";
  ASSERT_TRUE(writeFile(notElf, "this is not a shared object"));
  ArtifactDesc desc = addModelDesc(notElf);
  outcome = loadFails(write(desc, "notelf"));
  EXPECT_EQ(outcome.code, QCC_STATUS_INTERNAL);
  EXPECT_NE(outcome.message.find("cannot load library '" + directory +
                                 "/notelf.so': "),
            std::string::npos)
      << outcome.message;
  EXPECT_NE(outcome.message.find("notelf.so: "), std::string::npos)
      << "dlerror() text expected: " << outcome.message;
}

//===----------------------------------------------------------------------===//
// Run errors
//===----------------------------------------------------------------------===//

TEST_F(ModelTest, RunValidatesTensors) {
  ModelPtr model = load(write(addModelDesc(QCC_FIXTURE_ADD), "add"));
  ASSERT_TRUE(model);
  std::vector<float> a(6, 1.0f), b(6, 2.0f), out(6, 0.0f);
  std::vector<int64_t> wide(6, 1);
  auto run = [&](qcc_tensor first, qcc_tensor output, size_t numInputs = 2,
                 size_t numOutputs = 1) {
    qcc_tensor inputs[2] = {first, tensorOf(QCC_DTYPE_FLOAT32, {2, 3}, b)};
    return take(
        qcc_model_run(model.get(), inputs, numInputs, &output, numOutputs));
  };
  qcc_tensor goodA = tensorOf(QCC_DTYPE_FLOAT32, {2, 3}, a);
  qcc_tensor goodOut = tensorOf(QCC_DTYPE_FLOAT32, {2, 3}, out);

  Outcome outcome = run(goodA, goodOut, 1);
  EXPECT_EQ(outcome.code, QCC_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(outcome.message, "expected 2 inputs, got 1");
  outcome = run(goodA, goodOut, 2, 0);
  EXPECT_EQ(outcome.message, "expected 1 outputs, got 0");

  outcome = run(tensorOf(QCC_DTYPE_INT64, {2, 3}, wide), goodOut);
  EXPECT_EQ(outcome.code, QCC_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(outcome.message, "input 'a': expected dtype float32, got int64");

  outcome = run(tensorOf(QCC_DTYPE_FLOAT32, {3, 2}, a), goodOut);
  EXPECT_EQ(outcome.message, "input 'a': expected shape 2x3, got 3x2");
  outcome = run(tensorOf(QCC_DTYPE_FLOAT32, {6}, a), goodOut);
  EXPECT_EQ(outcome.message, "input 'a': expected shape 2x3, got 6");
  outcome = run(tensorOf(QCC_DTYPE_FLOAT32, {}, a), goodOut);
  EXPECT_EQ(outcome.message, "input 'a': expected shape 2x3, got scalar");
  qcc_tensor badRank = goodA;
  badRank.rank = 9;
  outcome = run(badRank, goodOut);
  EXPECT_EQ(outcome.message, "input 'a': rank 9 exceeds the maximum of 8");

  qcc_tensor shortBuffer = goodA;
  shortBuffer.byte_size = 20;
  outcome = run(shortBuffer, goodOut);
  EXPECT_EQ(outcome.message,
            "input 'a': expected 24 bytes (2x3 float32), got 20");
  qcc_tensor nullData = goodA;
  nullData.data = nullptr;
  outcome = run(nullData, goodOut);
  EXPECT_EQ(outcome.message, "input 'a': data is NULL");

  qcc_tensor wrongOut = tensorOf(QCC_DTYPE_FLOAT32, {2, 4}, out);
  wrongOut.byte_size = 24;
  outcome = run(goodA, wrongOut);
  EXPECT_EQ(outcome.message, "output 'out': expected shape 2x3, got 2x4");

  EXPECT_EQ(take(qcc_model_run(nullptr, nullptr, 0, nullptr, 0)).code,
            QCC_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(take(qcc_model_run(model.get(), nullptr, 2, &goodOut, 1)).code,
            QCC_STATUS_INVALID_ARGUMENT);
  // The model still works after all that.
  runAdd(model.get(), 0.0f);
}

} // namespace
