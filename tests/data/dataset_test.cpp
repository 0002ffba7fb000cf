// Dataset views, splits, validation, the synthetic task and seeded batching.
#include "tessera/data/dataset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include "data_test_util.h"
#include "tessera/core/error.h"
#include "tessera/core/rng.h"
#include "tessera/core/thread_pool.h"

namespace tessera {
namespace {

using testing::expect_error;

// x[i] = [i, 1000 + i] (f32), y[i] = i (i32): every sample says which one it is.
Dataset numbered(int64_t n) {
  Dataset d;
  d.name = "numbered";
  d.x = Tensor::zeros(kF32, {n, 2});
  d.y = Tensor::zeros(kI32, {n});
  for (int64_t i = 0; i < n; ++i) {
    d.x.data<float>()[2 * i] = static_cast<float>(i);
    d.x.data<float>()[2 * i + 1] = static_cast<float>(1000 + i);
    d.y.data<int32_t>()[i] = static_cast<int32_t>(i);
  }
  return d;
}

std::vector<int32_t> epoch_labels(const Dataset& d, int64_t batch, bool shuffle, uint64_t seed,
                                  int64_t epoch) {
  std::vector<int32_t> out;
  BatchIterator it(d, batch, shuffle, seed, epoch);
  while (it.next()) {
    for (int64_t i = 0; i < it.y().shape()[0]; ++i) out.push_back(it.y().data<int32_t>()[i]);
  }
  return out;
}

TEST(Dataset, SliceIsAView) {
  Dataset d = numbered(10);
  Dataset s = d.slice(3, 7);
  EXPECT_EQ(s.size(), 4);
  EXPECT_EQ(s.x.shape(), Shape({4, 2}));
  EXPECT_EQ(s.x.buffer(), d.x.buffer());
  EXPECT_EQ(s.x.data<float>()[0], 3.f);
  EXPECT_EQ(s.y.data<int32_t>()[3], 6);
  s.x.data<float>()[0] = -1.f;  // shared storage
  EXPECT_EQ(d.x.data<float>()[6], -1.f);
  EXPECT_EQ(d.slice(10, 10).size(), 0);
  expect_error([&] { d.slice(5, 11); }, "numbered");
  expect_error([&] { d.slice(-1, 2); }, "out of range");
  expect_error([&] { d.slice(4, 3); }, "out of range");
}

TEST(Dataset, SplitTakesValidationFromTheEnd) {
  Dataset d = numbered(100);
  auto [train, val] = d.split(0.9);
  EXPECT_EQ(train.size(), 90);
  EXPECT_EQ(val.size(), 10);
  EXPECT_EQ(train.y.data<int32_t>()[0], 0);
  EXPECT_EQ(val.y.data<int32_t>()[0], 90);
  EXPECT_EQ(d.split(0.29).first.size(), 29);  // 0.29 * 100 is 28.999999999999996
  EXPECT_EQ(d.split(0.0).first.size(), 0);
  EXPECT_EQ(d.split(1.0).second.size(), 0);
  EXPECT_EQ(numbered(7).split(0.5).first.size(), 3);
  expect_error([&] { d.split(1.5); }, "split fraction");
  expect_error([&] { d.split(std::nan("")); }, "split fraction");
}

TEST(Dataset, ValidateNamesDatasetAndSample) {
  Dataset d = numbered(8);
  d.validate();
  d.x.data<float>()[2 * 5 + 1] = std::numeric_limits<float>::quiet_NaN();
  expect_error([&] { d.validate(); }, "dataset 'numbered': sample 5");
  d = numbered(8);
  d.x.data<float>()[2 * 6] = -std::numeric_limits<float>::infinity();
  expect_error([&] { d.validate(); }, "sample 6");
  // Past the first vectorised block of 4096 elements.
  Dataset big = numbered(5000);
  big.x.data<float>()[2 * 4321] = std::numeric_limits<float>::infinity();
  expect_error([&] { big.validate(); }, "sample 4321");

  Dataset half = numbered(4);
  half.x = half.x.to(kF16);
  half.validate();
  half.x.set(5, std::numeric_limits<double>::infinity());
  expect_error([&] { half.validate(); }, "sample 2");

  Dataset bad = numbered(8);
  bad.y = Tensor::zeros(kI32, {7});
  expect_error([&] { bad.validate(); }, "dataset 'numbered': x has 8 samples");
  Dataset empty;
  empty.name = "nothing";
  expect_error([&] { empty.validate(); }, "nothing");
}

TEST(Synthetic, MatchesTheSeedRecipeAndIsDeterministic) {
  Dataset a = synthetic_classification(7, 500);
  Dataset b = synthetic_classification(7, 500);
  Dataset c = synthetic_classification(8, 500);
  EXPECT_EQ(a.x.shape(), Shape({500, 32}));
  EXPECT_EQ(a.y.shape(), Shape({500}));
  EXPECT_EQ(a.x.dtype(), kF32);
  EXPECT_EQ(a.y.dtype(), kI32);
  EXPECT_EQ(a.x.to_f32_vector(), b.x.to_f32_vector());
  EXPECT_EQ(a.y.to_f32_vector(), b.y.to_f32_vector());
  EXPECT_NE(a.x.to_f32_vector(), c.x.to_f32_vector());
  a.validate();
  std::set<int32_t> labels;
  for (int64_t i = 0; i < 500; ++i) labels.insert(a.y.data<int32_t>()[i]);
  EXPECT_EQ(labels.size(), 10u);
  EXPECT_GE(*labels.begin(), 0);
  EXPECT_LE(*labels.rbegin(), 9);

  // The recipe, spelled out: centres N(0,1) from stream 1, noise N(0, 1.2) from stream 2,
  // labels from the sequential stream.
  Rng rng(7);
  Tensor centres = Tensor::zeros(kF32, {10, 32});
  rng.fill_normal(centres, 0.0, 1.0);
  Tensor noise = Tensor::zeros(kF32, {500, 32});
  rng.fill_normal(noise, 0.0, 1.2);
  for (int64_t i = 0; i < 500; ++i) {
    auto label = static_cast<int32_t>(rng.next_below(10));
    ASSERT_EQ(a.y.data<int32_t>()[i], label);
    for (int64_t f = 0; f < 32; ++f) {
      ASSERT_EQ(a.x.data<float>()[i * 32 + f],
                noise.data<float>()[i * 32 + f] + centres.data<float>()[label * 32 + f]);
    }
  }
  EXPECT_EQ(synthetic_classification(1, 10, 3, 2, 0.0).x.shape(), Shape({10, 3}));
  expect_error([] { synthetic_classification(1, 10, 0); }, "features");
}

TEST(BatchIterator, EverySampleOncePerEpoch) {
  Dataset d = numbered(103);
  for (bool shuffle : {false, true}) {
    BatchIterator it(d, 10, shuffle, 42, 0);
    EXPECT_EQ(it.num_batches(), 11);
    std::vector<int> seen(103, 0);
    int64_t batches = 0;
    while (it.next()) {
      EXPECT_EQ(it.batch_index(), batches);
      EXPECT_EQ(it.begin(), batches * 10);
      int64_t b = it.x().shape()[0];
      EXPECT_EQ(b, batches == 10 ? 3 : 10);  // the partial last batch
      EXPECT_EQ(it.y().shape(), Shape({b}));
      for (int64_t r = 0; r < b; ++r) {
        int32_t id = it.y().data<int32_t>()[r];
        ++seen[id];
        // x travels with y.
        EXPECT_EQ(it.x().data<float>()[2 * r], static_cast<float>(id));
        EXPECT_EQ(it.x().data<float>()[2 * r + 1], static_cast<float>(1000 + id));
      }
      ++batches;
    }
    EXPECT_EQ(batches, 11);
    EXPECT_FALSE(it.next());
    for (int c : seen) EXPECT_EQ(c, 1);
  }
}

TEST(BatchIterator, UnshuffledBatchesAreViewsInOrder) {
  Dataset d = numbered(25);
  BatchIterator it(d, 8, false, 0, 0);
  ASSERT_TRUE(it.next());
  EXPECT_EQ(it.x().buffer(), d.x.buffer());
  std::vector<int32_t> ids(25);
  std::iota(ids.begin(), ids.end(), 0);
  EXPECT_EQ(epoch_labels(d, 8, false, 0, 0), ids);
}

TEST(BatchIterator, DeterministicPerSeedAndEpoch) {
  Dataset d = numbered(1000);
  auto e0 = epoch_labels(d, 32, true, 1, 0);
  EXPECT_EQ(e0, epoch_labels(d, 32, true, 1, 0));
  EXPECT_NE(e0, epoch_labels(d, 32, true, 1, 1));  // a new order every epoch
  EXPECT_NE(e0, epoch_labels(d, 32, true, 2, 0));
  // The batch size does not change the order, only how it is cut.
  EXPECT_EQ(e0, epoch_labels(d, 7, true, 1, 0));
  std::vector<int32_t> sorted = e0;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int32_t> ids(1000);
  std::iota(ids.begin(), ids.end(), 0);
  EXPECT_EQ(sorted, ids);
  EXPECT_NE(e0, ids);

  int before = num_threads();
  set_num_threads(1);
  auto one = epoch_labels(d, 32, true, 1, 3);
  set_num_threads(4);
  auto four = epoch_labels(d, 32, true, 1, 3);
  set_num_threads(before);
  EXPECT_EQ(one, four);
}

TEST(BatchIterator, AnyDtypeAndSampleShape) {
  Dataset d;
  d.name = "images";
  d.x = Tensor::zeros(kF16, {9, 2, 3});
  d.y = Tensor::zeros(kF32, {9, 4});
  for (int64_t i = 0; i < 9; ++i) {
    for (int64_t k = 0; k < 6; ++k) d.x.set(i * 6 + k, static_cast<double>(i));
    for (int64_t k = 0; k < 4; ++k) d.y.set(i * 4 + k, static_cast<double>(10 * i + k));
  }
  BatchIterator it(d, 4, true, 5, 0);
  int64_t total = 0;
  while (it.next()) {
    int64_t b = it.x().shape()[0];
    EXPECT_EQ(it.x().shape(), Shape({b, 2, 3}));
    EXPECT_EQ(it.x().dtype(), kF16);
    EXPECT_EQ(it.y().shape(), Shape({b, 4}));
    for (int64_t r = 0; r < b; ++r) {
      double id = it.x().get(r * 6);
      for (int64_t k = 0; k < 6; ++k) EXPECT_EQ(it.x().get(r * 6 + k), id);
      for (int64_t k = 0; k < 4; ++k) EXPECT_EQ(it.y().get(r * 4 + k), 10 * id + k);
    }
    total += b;
  }
  EXPECT_EQ(total, 9);

  // Without targets (prediction), and a batch larger than the dataset.
  Dataset x_only;
  x_only.name = "x-only";
  x_only.x = Tensor::zeros(kI8, {3, 5});
  BatchIterator big(x_only, 100, true, 0, 0);
  EXPECT_EQ(big.num_batches(), 1);
  ASSERT_TRUE(big.next());
  EXPECT_EQ(big.x().shape(), Shape({3, 5}));
  EXPECT_FALSE(big.y().defined());
  EXPECT_FALSE(big.next());
}

TEST(BatchIterator, OutlivesTheDatasetValue) {
  Dataset d = numbered(50);
  BatchIterator it(d.slice(10, 20), 4, true, 9, 0);  // the slice is a temporary
  std::set<int32_t> ids;
  while (it.next()) {
    for (int64_t r = 0; r < it.y().shape()[0]; ++r) ids.insert(it.y().data<int32_t>()[r]);
  }
  EXPECT_EQ(ids.size(), 10u);
  EXPECT_EQ(*ids.begin(), 10);
  EXPECT_EQ(*ids.rbegin(), 19);
}

TEST(BatchIterator, RejectsBadArguments) {
  Dataset d = numbered(5);
  expect_error([&] { BatchIterator(d, 0, true, 0, 0); }, "batch size");
  Dataset bad = numbered(5);
  bad.y = Tensor::zeros(kI32, {4});
  expect_error([&] { BatchIterator(bad, 2, true, 0, 0); }, "numbered");
  Dataset empty = numbered(0);
  BatchIterator it(empty, 4, true, 0, 0);
  EXPECT_EQ(it.num_batches(), 0);
  EXPECT_FALSE(it.next());
}

}  // namespace
}  // namespace tessera
