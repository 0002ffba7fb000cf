// In-memory datasets: features and targets whose first dimension is the sample, with
// seeded shuffling and batching that allocates nothing per batch.
//
//   Dataset train = load_fashion_mnist("train");            // x f32 [60000, 28, 28] in [0,1]
//   auto [fit, val] = train.split(0.9);                      // Keras' validation_split
//   BatchIterator it(fit, /*batch=*/128, /*shuffle=*/true, /*seed=*/1, /*epoch=*/0);
//   while (it.next()) use(it.x(), it.y());                   // views, valid until next()
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tessera/core/tensor.h"

namespace tessera {

struct Dataset {
  Tensor x;  // [n, ...]
  Tensor y;  // [n, ...] or [n]
  std::string name;

  int64_t size() const { return x.defined() ? x.shape()[0] : 0; }
  Dataset slice(int64_t begin, int64_t end) const;  // views
  // First `fraction` of the samples and the rest (Keras takes validation from the end).
  std::pair<Dataset, Dataset> split(double fraction) const;
  // Throws Error naming the dataset when x and y disagree in length, or x has NaN/Inf.
  void validate() const;
};

class BatchIterator {
 public:
  // The sample order is a permutation drawn from (seed, epoch) when shuffling.
  BatchIterator(const Dataset& data, int64_t batch_size, bool shuffle, uint64_t seed,
                int64_t epoch);
  bool next();  // false at the end of the epoch
  const Tensor& x() const { return x_; }  // [b, ...] with b = batch_size or the remainder
  const Tensor& y() const { return y_; }
  int64_t batch_index() const { return batch_ - 1; }
  int64_t num_batches() const;
  int64_t begin() const;  // position of the batch's first sample in the epoch order

 private:
  const Dataset& data_;
  int64_t batch_size_;
  std::vector<int64_t> order_;
  int64_t batch_ = 0;
  Tensor x_buffer_, y_buffer_, x_, y_;
};

// The seed's synthetic task: Gaussian clusters around `classes` random centres, f32 x
// [n, features], i32 y [n]; deterministic in `seed`.
Dataset synthetic_classification(uint64_t seed, int64_t n, int64_t features = 32,
                                 int64_t classes = 10, double noise = 1.2);

}  // namespace tessera
