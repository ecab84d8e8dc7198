//===- InputSets.h - sample inputs for calibration and evaluation -*- C++ -*-===//
//
// `qcc --calib PATH` and `--eval PATH` take input sets in the layouts users
// already have:
//  * one .npz (numpy.savez): entries named after the model inputs, each
//    either exactly the input's shape (one set) or with one extra leading
//    dimension N (N sets, stacked);
//  * a folder of .npz files, each as above;
//  * a folder of sub-folders (ONNX's test_data_set_* layout), each one set
//    of .pb TensorProto files (matched by the tensor's name, else by the
//    index in input_<i>.pb) or .npy files (matched by file name);
//  * a folder holding such .pb / .npy files itself (one set).
// Sets load one at a time, so memory holds one set whatever their number;
// every set is checked against the model's inputs (names, dtypes, shapes)
// with an error naming the set and the tensor.
//
//===----------------------------------------------------------------------===//

#ifndef QCC_CALIBRATION_INPUTSETS_H
#define QCC_CALIBRATION_INPUTSETS_H

#include "qcc/Artifact/Artifact.h"
#include "qcc/qcc_runtime.h"

#include <memory>
#include <string>
#include <vector>

namespace qcc {

/// A tensor whose data the runtime allocated; frees it on destruction.
class OwnedTensor {
public:
  OwnedTensor();
  ~OwnedTensor();
  OwnedTensor(OwnedTensor &&other) noexcept;
  OwnedTensor &operator=(OwnedTensor &&other) noexcept;
  OwnedTensor(const OwnedTensor &) = delete;
  OwnedTensor &operator=(const OwnedTensor &) = delete;

  qcc_tensor &get() { return tensor; }
  const qcc_tensor &get() const { return tensor; }

private:
  qcc_tensor tensor;
};

/// The input sets found under a path, matched to a model's inputs.
class InputSets {
public:
  ~InputSets();
  InputSets(InputSets &&) noexcept;
  InputSets &operator=(InputSets &&) noexcept;

  /// Finds the sets under `path` for a model with `inputs`. Reads only what
  /// is needed to count them (archive directories). Returns null and sets
  /// `error` when the path holds no usable set.
  static std::unique_ptr<InputSets>
  open(const std::string &path, const std::vector<TensorSignature> &inputs,
       std::string &error);

  size_t size() const;
  /// A short name of set `index` for messages ("calib/a.npz[3]").
  std::string label(size_t index) const;
  /// Loads set `index` into `out`, one tensor per model input in model
  /// order, after checking names, dtypes and shapes. False with `error` set
  /// otherwise.
  bool load(size_t index, std::vector<OwnedTensor> &out,
            std::string &error) const;

private:
  struct Impl;
  explicit InputSets(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace qcc

#endif // QCC_CALIBRATION_INPUTSETS_H
