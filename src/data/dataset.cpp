#include "tessera/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "tessera/core/error.h"
#include "tessera/core/rng.h"

namespace tessera {
namespace {

// Rows [begin, begin + count) of `t` along its first dimension, as a view (any strides).
Tensor rows(const Tensor& t, int64_t begin, int64_t count) {
  Shape s = t.shape();
  s[0] = count;
  size_t offset = t.offset_bytes() + static_cast<size_t>(begin * t.strides()[0]) * t.dtype().size();
  return Tensor(t.buffer(), offset, s, t.strides(), t.dtype());
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Index of the first non-finite element of a float tensor, or -1.
int64_t first_non_finite(const Tensor& t) {
  if (!t.dtype().is_float()) return -1;
  Tensor c = t.contiguous();
  int64_t n = c.numel();
  if (c.dtype() == kF32) {
    // Blocks of branch-free checks (vectorised), then a scan of the block that failed.
    const uint32_t* bits = static_cast<const uint32_t*>(c.raw_data());
    constexpr int64_t kBlock = 4096;
    for (int64_t b = 0; b < n; b += kBlock) {
      int64_t e = std::min(n, b + kBlock);
      uint32_t bad = 0;
      for (int64_t i = b; i < e; ++i) bad |= (bits[i] & 0x7f800000u) == 0x7f800000u;
      if (!bad) continue;
      for (int64_t i = b; i < e; ++i) {
        if ((bits[i] & 0x7f800000u) == 0x7f800000u) return i;
      }
    }
    return -1;
  }
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(c.get(i))) return i;
  }
  return -1;
}

void check_no_non_finite(const Tensor& t, const std::string& dataset, const char* which) {
  int64_t i = first_non_finite(t);
  if (i < 0) return;
  int64_t per_sample = t.shape()[0] > 0 ? t.numel() / t.shape()[0] : 1;
  int64_t sample = i / per_sample;
  throw_error(ErrorKind::kInvalidArgument,
              fmt::format("dataset '{}': sample {} has a non-finite {} value ({} at element {} "
                          "of the sample)",
                          dataset, sample, which, t.get(i), i % per_sample));
}

}  // namespace

Dataset Dataset::slice(int64_t begin, int64_t end) const {
  int64_t n = size();
  TS_CHECK(0 <= begin && begin <= end && end <= n, ErrorKind::kInvalidArgument,
           "dataset '{}': slice [{}, {}) is out of range for {} samples", name, begin, end, n);
  Dataset d;
  d.name = fmt::format("{}[{}:{}]", name, begin, end);
  if (x.defined()) d.x = rows(x, begin, end - begin);
  if (y.defined()) {
    TS_CHECK(y.rank() >= 1 && y.shape()[0] == n, ErrorKind::kInvalidArgument,
             "dataset '{}': x has {} samples but y has shape {}", name, n, y.shape().str());
    d.y = rows(y, begin, end - begin);
  }
  return d;
}

std::pair<Dataset, Dataset> Dataset::split(double fraction) const {
  TS_CHECK(fraction >= 0.0 && fraction <= 1.0, ErrorKind::kInvalidArgument,
           "dataset '{}': split fraction {} is outside [0, 1]", name, fraction);
  int64_t n = size();
  // The tolerance keeps decimal fractions exact: 0.29 * 100 is 28.999999999999996.
  auto k = static_cast<int64_t>(std::floor(fraction * static_cast<double>(n) + 1e-7));
  k = std::clamp<int64_t>(k, 0, n);
  return {slice(0, k), slice(k, n)};
}

void Dataset::validate() const {
  TS_CHECK(x.defined() && x.rank() >= 1, ErrorKind::kInvalidArgument,
           "dataset '{}' has no features: x must be a tensor of rank >= 1 (samples first)", name);
  if (y.defined()) {
    TS_CHECK(y.rank() >= 1 && y.shape()[0] == x.shape()[0], ErrorKind::kInvalidArgument,
             "dataset '{}': x has {} samples (shape {}) but y has shape {}", name, x.shape()[0],
             x.shape().str(), y.shape().str());
  }
  check_no_non_finite(x, name, "x");
  if (y.defined()) check_no_non_finite(y, name, "y");
}

BatchIterator::BatchIterator(const Dataset& data, int64_t batch_size, bool shuffle, uint64_t seed,
                             int64_t epoch)
    : data_(data), batch_size_(batch_size), shuffle_(shuffle) {
  TS_CHECK(batch_size > 0, ErrorKind::kInvalidArgument,
           "dataset '{}': batch size must be positive, got {}", data.name, batch_size);
  TS_CHECK(data.x.defined() && data.x.rank() >= 1, ErrorKind::kInvalidArgument,
           "dataset '{}' has no features to batch", data.name);
  int64_t n = data_.size();
  if (data_.y.defined()) {
    TS_CHECK(data_.y.rank() >= 1 && data_.y.shape()[0] == n, ErrorKind::kInvalidArgument,
             "dataset '{}': x has {} samples but y has shape {}", data.name, n,
             data_.y.shape().str());
  }
  if (!shuffle_) return;

  // Fisher-Yates from a generator keyed by (seed, epoch): sequential, so the order is the
  // same on any thread count, and each epoch gets its own permutation.
  order_.resize(static_cast<size_t>(n));
  std::iota(order_.begin(), order_.end(), int64_t{0});
  Rng rng(splitmix64(seed ^ splitmix64(static_cast<uint64_t>(epoch))));
  for (int64_t i = n - 1; i > 0; --i) {
    auto j = static_cast<int64_t>(rng.next_below(static_cast<uint64_t>(i + 1)));
    std::swap(order_[i], order_[j]);
  }

  // Rows are copied with memcpy, so the sources must be contiguous (a one-off copy if not).
  int64_t rows_per_batch = std::min(batch_size_, n);
  auto prepare = [&](Tensor& src, Tensor& buffer, size_t& row_bytes) {
    src = src.contiguous();
    Shape s = src.shape();
    row_bytes = n > 0 ? src.nbytes() / static_cast<size_t>(n) : 0;
    s[0] = rows_per_batch;
    buffer = Tensor::zeros(src.dtype(), s);
  };
  prepare(data_.x, x_buffer_, x_row_bytes_);
  if (data_.y.defined()) prepare(data_.y, y_buffer_, y_row_bytes_);
}

int64_t BatchIterator::num_batches() const {
  return (data_.size() + batch_size_ - 1) / batch_size_;
}

int64_t BatchIterator::begin() const { return std::max<int64_t>(batch_ - 1, 0) * batch_size_; }

bool BatchIterator::next() {
  if (batch_ >= num_batches()) return false;
  int64_t start = batch_ * batch_size_;
  int64_t count = std::min(batch_size_, data_.size() - start);
  ++batch_;
  if (!shuffle_) {
    x_ = rows(data_.x, start, count);
    if (data_.y.defined()) y_ = rows(data_.y, start, count);
    return true;
  }
  auto gather = [&](const Tensor& src, Tensor& buffer, size_t row_bytes, Tensor& out) {
    const char* from = static_cast<const char*>(src.raw_data());
    char* to = static_cast<char*>(buffer.raw_data());
    for (int64_t r = 0; r < count; ++r) {
      std::memcpy(to + static_cast<size_t>(r) * row_bytes,
                  from + static_cast<size_t>(order_[start + r]) * row_bytes, row_bytes);
    }
    out = count == buffer.shape()[0] ? buffer : rows(buffer, 0, count);
  };
  gather(data_.x, x_buffer_, x_row_bytes_, x_);
  if (data_.y.defined()) gather(data_.y, y_buffer_, y_row_bytes_, y_);
  return true;
}

Dataset synthetic_classification(uint64_t seed, int64_t n, int64_t features, int64_t classes,
                                 double noise) {
  TS_CHECK(n >= 0 && features >= 1 && classes >= 1 && classes <= INT32_MAX && noise >= 0,
           ErrorKind::kInvalidArgument,
           "synthetic_classification: need n >= 0, features >= 1, classes >= 1 and noise >= 0 "
           "(got n={}, features={}, classes={}, noise={})",
           n, features, classes, noise);
  // The seed program's recipe (as the CLI demo's make_demo_data): centres N(0, 1), points
  // N(centre, noise^2), labels uniform. The draw order is part of the contract: the same
  // seed gives the same data in every release.
  Rng rng(seed);
  Tensor centres = Tensor::zeros(kF32, {classes, features});
  rng.fill_normal(centres, 0.0, 1.0);
  Dataset d;
  d.name = fmt::format("synthetic(seed={})", seed);
  d.x = Tensor::zeros(kF32, {n, features});
  d.y = Tensor::zeros(kI32, {n});
  rng.fill_normal(d.x, 0.0, noise);
  float* xs = d.x.data<float>();
  int32_t* ys = d.y.data<int32_t>();
  const float* cs = centres.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    auto label = static_cast<int32_t>(rng.next_below(static_cast<uint64_t>(classes)));
    ys[i] = label;
    for (int64_t f = 0; f < features; ++f) xs[i * features + f] += cs[label * features + f];
  }
  return d;
}

}  // namespace tessera
