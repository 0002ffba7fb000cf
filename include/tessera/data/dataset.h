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
  // Samples [begin, end) as views sharing the buffers, named "name[begin:end]".
  Dataset slice(int64_t begin, int64_t end) const;
  // The first floor(fraction * size) samples and the rest: split(0.9) gives Keras'
  // validation_split=0.1 (validation from the end, unshuffled). fraction is in [0, 1].
  std::pair<Dataset, Dataset> split(double fraction) const;
  // Throws Error naming the dataset and the first bad sample when x and y disagree in
  // length, or a float x (or y) holds NaN or Inf.
  void validate() const;
};

class BatchIterator {
 public:
  // The sample order is a permutation drawn from (seed, epoch) when shuffling.
  BatchIterator(const Dataset& data, int64_t batch_size, bool shuffle, uint64_t seed,
                int64_t epoch);
  // Advances to the next batch; false at the end of the epoch. Allocates nothing: shuffled
  // rows are copied into buffers made by the constructor.
  bool next();
  // [b, ...] with b = batch_size or the remainder; valid until the next call to next().
  // y() is undefined when the dataset has no targets.
  const Tensor& x() const { return x_; }
  const Tensor& y() const { return y_; }
  int64_t batch_index() const { return batch_ - 1; }
  int64_t num_batches() const;
  int64_t begin() const;  // position of the batch's first sample in the epoch order
  const std::vector<int64_t>& order() const { return order_; }  // empty without shuffling

 private:
  // A shallow copy (shared buffers, made contiguous once), so the iterator may outlive the
  // Dataset value it was built from, e.g. `BatchIterator it(d.slice(0, 100), ...)`.
  Dataset data_;
  int64_t batch_size_;
  bool shuffle_;
  std::vector<int64_t> order_;  // empty without shuffling: batches are views of the data
  int64_t batch_ = 0;
  size_t x_row_bytes_ = 0, y_row_bytes_ = 0;
  Tensor x_buffer_, y_buffer_, x_, y_;
};

// The seed's synthetic task: Gaussian clusters around `classes` random centres, f32 x
// [n, features], i32 y [n]; deterministic in `seed`.
Dataset synthetic_classification(uint64_t seed, int64_t n, int64_t features = 32,
                                 int64_t classes = 10, double noise = 1.2);

}  // namespace tessera
