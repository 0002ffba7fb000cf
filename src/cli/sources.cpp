// Models and data for the tessera command (sources.h).
#include "tessera/cli/sources.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tessera/cli/model_spec.h"
#include "tessera/core/error.h"
#include "tessera/data/loaders.h"
#include "tessera/io/onnx.h"
#include "tessera/train/checkpoint.h"

namespace tessera::cli {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Shape per_sample(const Shape& batched) {
  Shape s;
  for (int i = 1; i < batched.rank(); ++i) s.push_back(batched[i]);
  return s;
}

Shape model_input_shape(const Model& model) {
  TS_CHECK(model.net().input_types().size() == 1, ErrorKind::kUnsupported,
           "model '{}' has {} inputs; the tessera command handles one", model.net().name(),
           model.net().input_types().size());
  return per_sample(model.net().input_types()[0].shape);
}

std::string zoo_list() {
  std::string out;
  for (const std::string& n : zoo_names()) out += (out.empty() ? "" : ", ") + n;
  return out;
}

constexpr const char* kTextPrefix = "text:";

// Next-byte windows of a text, 90 % for training and the end of the text for testing.
DataSource open_text(const std::string& arg, const DatasetOptions& options) {
  std::string path = arg == "text" ? default_text_path() : arg.substr(std::strlen(kTextPrefix));
  TS_CHECK(!path.empty(), ErrorKind::kInvalidArgument,
           "dataset '{}': give the text file after 'text:' (or 'text' for {})", arg,
           default_text_path());
  TS_CHECK(options.context >= 1, ErrorKind::kInvalidArgument,
           "dataset '{}': the window length is unknown: give --context (the model's input is "
           "not a fixed-length sequence of token ids)",
           arg);
  DataSource d;
  d.name = arg == "text" ? std::string(kTextPrefix) + path : arg;
  Dataset all = load_text_bytes(path, {.context = options.context});
  if (all.size() < 10) {
    d.train = all;
  } else {
    auto [train, test] = all.split(0.9);
    d.train = train;
    d.test = test;
    d.test->name = d.name + " (test)";
  }
  d.train.name = d.name + (d.test ? " (train)" : "");
  return d;
}

}  // namespace

ModelSource open_model(const std::string& arg, uint64_t seed,
                       const std::vector<std::string>& backends) {
  namespace fs = std::filesystem;
  if (is_zoo_model(arg)) {
    ModelSpec spec = zoo_spec(arg);
    return {build_model(spec, seed), arg, "zoo", spec.compile};
  }
  std::error_code ec;
  bool looks_like_file = arg.find_first_of("/.") != std::string::npos;
  TS_CHECK(!looks_like_file || fs::exists(arg, ec), ErrorKind::kNotFound,
           "model file '{}' does not exist", arg);
  if (!fs::exists(arg, ec)) {
    throw_error(
        ErrorKind::kNotFound,
        fmt::format("unknown model '{}': not a zoo model ({}) and no such file", arg, zoo_list()));
  }
  if (ends_with(arg, ".yaml") || ends_with(arg, ".yml")) {
    ModelSpec spec = load_model_spec(arg);
    return {build_model(spec, seed), spec.name, "spec", spec.compile};
  }
  if (is_onnx_path(arg)) {
    Model model = import_onnx(arg);
    return {std::move(model), arg, "onnx", std::nullopt};
  }
  Model model = load_model(arg, {.backends = backends});
  std::optional<CompileConfig> config;
  if (model.compiled()) config = model.compile_config();
  return {std::move(model), arg, "checkpoint", config};
}

bool is_text_dataset(const std::string& arg) {
  return arg == "text" || arg.rfind(kTextPrefix, 0) == 0;
}

DataSource open_dataset(const std::string& arg, const DatasetOptions& options) {
  if (is_text_dataset(arg)) return open_text(arg, options);
  DataSource d;
  d.name = arg;
  if (arg == "fashion-mnist") {
    d.train = load_fashion_mnist("train");
    d.test = load_fashion_mnist("test");
  } else if (arg == "synthetic") {
    Dataset all = synthetic_classification(kSyntheticDataSeed, kSyntheticTrain + kSyntheticTest);
    d.train = all.slice(0, kSyntheticTrain);
    d.test = all.slice(kSyntheticTrain, kSyntheticTrain + kSyntheticTest);
    d.train.name = "synthetic (train)";
    d.test->name = "synthetic (test)";
  } else if (ends_with(arg, ".csv")) {
    d.train = read_csv_dataset(arg);
  } else if (ends_with(arg, ".npz")) {
    std::map<std::string, Tensor> arrays = read_npz(arg);
    auto get = [&](const std::string& key) -> Tensor {
      auto it = arrays.find(key);
      return it == arrays.end() ? Tensor() : it->second;
    };
    if (get("x").defined() || get("y").defined()) {
      TS_CHECK(get("x").defined() && get("y").defined(), ErrorKind::kInvalidArgument,
               "dataset '{}': expected arrays 'x' and 'y'", arg);
      d.train = {get("x"), get("y"), arg};
    } else {
      TS_CHECK(get("x_train").defined() && get("y_train").defined(), ErrorKind::kInvalidArgument,
               "dataset '{}': expected arrays 'x' and 'y', or 'x_train' and 'y_train' (and "
               "optionally 'x_test' and 'y_test')",
               arg);
      d.train = {get("x_train"), get("y_train"), arg + ":train"};
      if (get("x_test").defined() || get("y_test").defined()) {
        TS_CHECK(get("x_test").defined() && get("y_test").defined(), ErrorKind::kInvalidArgument,
                 "dataset '{}': 'x_test' and 'y_test' go together", arg);
        d.test = Dataset{get("x_test"), get("y_test"), arg + ":test"};
      }
    }
  } else {
    throw_error(ErrorKind::kInvalidArgument,
                fmt::format("unknown dataset '{}': expected fashion-mnist, synthetic, text, "
                            "text:FILE, a .csv or a .npz file",
                            arg));
  }
  d.train.validate();
  if (d.test) d.test->validate();
  return d;
}

std::string default_dataset(const Model& model) {
  if (model.net().input_types().size() == 1 && model.net().input_types()[0].dtype.is_int())
    return "text";
  return model_input_shape(model) == Shape{32} ? "synthetic" : "fashion-mnist";
}

int64_t model_sequence_length(const Model& model) {
  const std::vector<TensorType>& inputs = model.net().input_types();
  if (inputs.size() != 1 || !inputs[0].dtype.is_int()) return 0;
  Shape s = per_sample(inputs[0].shape);
  return s.rank() == 1 && s[0] > 0 ? s[0] : 0;
}

Tensor conform_input(const Tensor& x, const Model& model, const std::string& what) {
  Shape want = model_input_shape(model);
  // Float features become f32; token ids stay integers (the model's integer type).
  DType want_dtype = model.net().input_types()[0].dtype;
  if (!want_dtype.is_int()) want_dtype = kF32;
  TS_CHECK(x.rank() >= 1, ErrorKind::kInvalidArgument,
           "{}: expected samples of shape {}, got a scalar", what, want.str());
  TS_CHECK(!want_dtype.is_int() || x.dtype().is_int(), ErrorKind::kInvalidArgument,
           "{}: the model takes token ids ({}), got {} values", what, want_dtype.name(),
           x.dtype().name());
  Shape got = per_sample(x.shape());
  if (got == want && x.dtype() == want_dtype) return x;
  TS_CHECK(got.numel() == want.numel(), ErrorKind::kInvalidArgument,
           "{}: samples have shape {} ({} values), the model expects {} ({} values)", what,
           got.str(), got.numel(), want.str(), want.numel());
  Shape batched{x.shape()[0]};
  for (int64_t d : want.dims()) batched.push_back(d);
  Tensor c = x.dtype() == want_dtype ? x.contiguous() : x.to(want_dtype);
  return c.reshape(batched);
}

Dataset conform(const Dataset& data, const Model& model, const std::string& what,
                const std::string& loss) {
  data.validate();
  Dataset out{conform_input(data.x, model, what), data.y, data.name};
  const Shape& out_shape = model.net().output_types()[0].shape;
  int64_t classes = out_shape[out_shape.rank() - 1];
  int64_t n = data.size();
  if (loss == "sparse_categorical_crossentropy") {
    // One label per row of class scores: [N] for outputs [N, C], [N, T] for [N, T, V]
    // (a trailing 1 is accepted as Keras does).
    Shape label_shape{n};
    for (int i = 1; i + 1 < out_shape.rank(); ++i) label_shape.push_back(out_shape[i]);
    Shape with_one = label_shape;
    with_one.push_back(1);
    bool sequence = label_shape.rank() > 1;
    TS_CHECK(out.y.shape() == label_shape || out.y.shape() == with_one, ErrorKind::kInvalidArgument,
             "{}: expected one class label per {}, got labels of shape {}", what,
             sequence ? fmt::format("position (shape {})", label_shape.str()) : "sample",
             out.y.shape().str());
    Tensor labels = Tensor::zeros(kI32, label_shape);
    int64_t per_record = n > 0 ? label_shape.numel() / n : 1;
    int32_t* dst = labels.data<int32_t>();
    Tensor src = out.y.contiguous();
    for (int64_t i = 0; i < labels.numel(); ++i) {
      double v = src.get(i);
      TS_CHECK(v == std::floor(v) && v >= 0 && v < static_cast<double>(classes),
               ErrorKind::kInvalidArgument,
               "{}: label {} of record {}{} is out of range: the model has {} classes (expected "
               "an integer in 0..{})",
               what, v, i / per_record,
               sequence ? fmt::format(" (position {})", i % per_record) : std::string(), classes,
               classes - 1);
      dst[i] = static_cast<int32_t>(v);
    }
    out.y = labels;
  } else if (loss == "categorical_crossentropy") {
    TS_CHECK(out.y.rank() == 2 && out.y.shape()[1] == classes, ErrorKind::kInvalidArgument,
             "{}: expected one-hot targets of shape [N, {}], got {}", what, classes,
             out.y.shape().str());
  }
  return out;
}

Tensor read_input_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  TS_CHECK(fs::exists(path, ec), ErrorKind::kNotFound, "input '{}': no such file", path);
  if (ends_with(path, ".npy")) return read_npy(path);
  if (ends_with(path, ".idx") || ends_with(path, ".idx.gz") || ends_with(path, "-ubyte") ||
      ends_with(path, "-ubyte.gz")) {
    return read_idx(path, /*normalize=*/true);
  }
  TS_CHECK(ends_with(path, ".csv"), ErrorKind::kInvalidArgument,
           "input '{}': expected a .npy, .csv or IDX (.idx, .idx.gz) file", path);
  std::ifstream in(path);
  TS_CHECK(in.good(), ErrorKind::kIo, "input '{}': cannot open: {}", path, std::strerror(errno));
  std::vector<float> values;
  int64_t rows = 0, cols = -1, line_no = 0;
  std::string line;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<float> row;
    std::stringstream ss(line);
    std::string field;
    bool numeric = true;
    while (std::getline(ss, field, ',')) {
      char* end = nullptr;
      float v = std::strtof(field.c_str(), &end);
      if (end == field.c_str() || *end != '\0') {
        numeric = false;
        break;
      }
      row.push_back(v);
    }
    if (!numeric) {
      TS_CHECK(line_no == 1 && rows == 0, ErrorKind::kInvalidArgument,
               "input '{}':{}: non-numeric field '{}'", path, line_no, field);
      continue;  // a header line
    }
    if (cols < 0) cols = static_cast<int64_t>(row.size());
    TS_CHECK(static_cast<int64_t>(row.size()) == cols, ErrorKind::kInvalidArgument,
             "input '{}':{}: {} fields, expected {} like the first row", path, line_no, row.size(),
             cols);
    values.insert(values.end(), row.begin(), row.end());
    ++rows;
  }
  TS_CHECK(rows > 0, ErrorKind::kInvalidArgument, "input '{}': no data rows", path);
  Tensor t = Tensor::zeros(kF32, {rows, cols});
  std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(float));
  return t;
}

}  // namespace tessera::cli
