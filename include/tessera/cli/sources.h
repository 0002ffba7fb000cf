// Where the tessera command gets its models and data: a zoo name, a YAML spec, an ONNX file
// or a checkpoint for models; a built-in dataset or a file for data. Every check a user can
// fail (shape mismatch, label out of range, NaN) happens here, before any training, with a
// message naming the file, the record and the expectation.
//
//   ModelSource m = open_model("mnist-mlp", /*seed=*/1, {"cpu"});
//   DataSource d = open_dataset("fashion-mnist");
//   Dataset train = conform(d.train, m.model, d.name);
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tessera/data/dataset.h"
#include "tessera/train/model.h"

namespace tessera::cli {

struct ModelSource {
  Model model;
  std::string name;  // the zoo or spec name, or the checkpoint's path
  std::string kind;  // "zoo", "spec", "checkpoint" or "onnx"
  // The settings from the spec's `compile:` or the checkpoint (already applied then).
  std::optional<CompileConfig> compile;
};

// `arg` is a zoo name, a .yaml/.yml spec, an ONNX model (.onnx, imported) or a checkpoint;
// `backends` is the device.
ModelSource open_model(const std::string& arg, uint64_t seed,
                       const std::vector<std::string>& backends);

// The synthetic task of the seed: 32 features, 10 classes; fixed data seed so that train
// and evaluate see the same split.
inline constexpr uint64_t kSyntheticDataSeed = 20240601;
inline constexpr int64_t kSyntheticTrain = 10000;
inline constexpr int64_t kSyntheticTest = 2000;

struct DataSource {
  std::string name;  // "fashion-mnist", "synthetic" or the file
  Dataset train;     // all samples of a single-file dataset
  std::optional<Dataset> test;
};

struct DatasetOptions {
  // Text datasets: bytes per sample window (the model's sequence length); < 1 is an error
  // for a text dataset and ignored for the others.
  int64_t context = 0;
};

// fashion-mnist | synthetic | FILE.csv | FILE.npz (x/y or x_train/y_train[/x_test/y_test]) |
// text (default_text_path(), the GPL-3 every Debian system has) | text:FILE. A text gives
// next-byte windows (load_text_bytes, non-overlapping): the first 90 % are `train`, the last
// 10 % (the end of the text) `test`; a text of fewer than 10 windows is all `train`.
DataSource open_dataset(const std::string& arg, const DatasetOptions& options = {});
bool is_text_dataset(const std::string& arg);
// The built-in dataset that fits a model input: text for token ids (integer inputs),
// synthetic for [32], fashion-mnist otherwise.
std::string default_dataset(const Model& model);
// The sequence length of a model whose input is token ids [N, T] with T fixed, else 0.
int64_t model_sequence_length(const Model& model);

// The data as the model takes it: x reshaped to the model's per-sample input shape when the
// element counts agree (token ids stay integers for a model with an integer input), NaN/Inf
// rejected, class labels checked against the output width (one per sample, or one per
// position for sequence outputs [N, T, V]).
Dataset conform(const Dataset& data, const Model& model, const std::string& what,
                const std::string& loss);
Tensor conform_input(const Tensor& x, const Model& model, const std::string& what);

// Model inputs for `tessera predict`: .npy, .csv (numbers; an optional header line) or IDX
// (.idx, .idx.gz, *-ubyte, *-ubyte.gz; u8 scaled to [0, 1]).
Tensor read_input_file(const std::string& path);

}  // namespace tessera::cli
