// Checking data against the model before any step runs: one clear Error naming the data,
// the expected and the actual type, rather than a failure deep inside a kernel.
#include <algorithm>
#include <cmath>

#include "model_internal.h"
#include "tessera/core/error.h"

namespace tessera {
namespace {

bool same_sample_shape(const Shape& data, const Shape& expected) {
  if (data.rank() != expected.rank()) return false;
  for (int i = 1; i < data.rank(); ++i)
    if (data[i] != expected[i]) return false;
  return true;
}

// Converts when no information is lost: ints to any int or float, floats to floats.
bool convertible(DType from, DType to) {
  if (from == to) return true;
  if (to.is_float()) return from.is_float() || from.is_int() || from == kBool;
  if (to.is_int()) return from.is_int() || from == kBool;
  return false;
}

}  // namespace

Dataset Model::prepare_data(const Dataset& data, const std::string& what, bool with_targets) {
  Compiled& c = inference_state();
  const std::string& input_name = net().input_names()[0];
  TS_CHECK(data.x.defined() && data.x.rank() >= 1, ErrorKind::kInvalidArgument, "{}: x is empty",
           what);
  TS_CHECK(data.x.shape()[0] > 0, ErrorKind::kInvalidArgument, "{}: x has no samples", what);
  TS_CHECK(same_sample_shape(data.x.shape(), c.input_type.shape), ErrorKind::kInvalidArgument,
           "{}: x has shape {} but model '{}' expects input '{}' of shape {} ({} features per "
           "sample)",
           what, data.x.shape().str(), net().name(), input_name, c.input_type.shape.str(),
           c.input_type.shape.with_batch(1).numel());
  TS_CHECK(convertible(data.x.dtype(), c.input_type.dtype), ErrorKind::kInvalidArgument,
           "{}: x has dtype {} but model '{}' expects {} for input '{}'", what,
           data.x.dtype().name(), net().name(), c.input_type.dtype.name(), input_name);
  Dataset out = data;
  out.x =
      data.x.dtype() == c.input_type.dtype ? data.x.contiguous() : data.x.to(c.input_type.dtype);
  if (!with_targets) return out;

  TS_CHECK(loss_ != nullptr, ErrorKind::kInvalidArgument,
           "{}: the model is not compiled: call compile() first", what);
  TS_CHECK(data.y.defined() && data.y.rank() >= 1, ErrorKind::kInvalidArgument, "{}: y is empty",
           what);
  TS_CHECK(data.y.shape()[0] == data.x.shape()[0], ErrorKind::kInvalidArgument,
           "{}: x has {} samples but y has {}", what, data.x.shape()[0], data.y.shape()[0]);
  const TensorType& target = c.target_type;
  Tensor y = data.y;
  // Keras accepts sparse labels as [N, 1] as well as [N].
  if (target.shape.rank() == 1 && y.rank() == 2 && y.shape()[1] == 1)
    y = y.contiguous().reshape({y.shape()[0]});
  TS_CHECK(same_sample_shape(y.shape(), target.shape), ErrorKind::kInvalidArgument,
           "{}: y has shape {} ({}) but loss '{}' expects targets of shape {} ({}) for "
           "predictions {}",
           what, data.y.shape().str(), data.y.dtype().name(), config_.loss, target.shape.str(),
           target.dtype.name(), c.output_type.str());
  TS_CHECK(convertible(y.dtype(), target.dtype), ErrorKind::kInvalidArgument,
           "{}: y has dtype {} but loss '{}' expects {} targets {}", what, y.dtype().name(),
           config_.loss, target.dtype.name(), target.shape.str());
  out.y = y.dtype() == target.dtype ? y.contiguous() : y.to(target.dtype);
  out.validate();  // lengths and NaN/Inf in x (names the dataset)

  if (!target.dtype.is_float() && c.num_classes > 0) {
    int64_t n = out.y.numel(), per_sample = n / out.y.shape()[0];
    for (int64_t i = 0; i < n; ++i) {
      double v = out.y.get(i);
      TS_CHECK(v >= 0 && v < static_cast<double>(c.num_classes), ErrorKind::kInvalidArgument,
               "{}: label {} of sample {} is out of range: model '{}' has {} classes, so "
               "labels must lie in [0, {})",
               what, static_cast<int64_t>(v), i / per_sample, net().name(), c.num_classes,
               c.num_classes);
    }
  }
  return out;
}

}  // namespace tessera
