// Losses and metrics on sequence outputs [N, T, V] with targets [N, T] (next-token training):
// the per-sample loss is the mean over positions, so the batch mean is nats per token, and
// accuracy counts every position, weighted by its sample's weight.
#include <gtest/gtest.h>

#include <cmath>

#include "nn_test_util.h"
#include "tessera/nn/metrics.h"

namespace tessera::nn_test {
namespace {

// -log softmax(row)[label] in double.
double nll(const std::vector<float>& row, int label) {
  double top = row[0];
  for (float v : row) top = std::max<double>(top, v);
  double sum = 0;
  for (float v : row) sum += std::exp(v - top);
  return -(row[label] - top - std::log(sum));
}

// Two samples of three positions over a vocabulary of four.
const std::vector<std::vector<float>> kRows = {{2.0f, 0.5f, -1.0f, 0.0f}, {0.0f, 0.0f, 3.0f, 0.0f},
                                               {1.0f, 1.0f, 1.0f, 1.0f},  {-2.0f, 4.0f, 0.0f, 1.0f},
                                               {0.5f, 0.5f, 0.0f, 2.5f},  {0.0f, 1.0f, 2.0f, 3.0f}};
const std::vector<int> kLabels = {0, 1, 3, 1, 3, 2};

Tensor logits() {
  std::vector<float> flat;
  for (const auto& r : kRows) flat.insert(flat.end(), r.begin(), r.end());
  return f32(flat, {2, 3, 4});
}

TEST(SequenceLoss, SparseCrossentropyIsTheMeanOverPositions) {
  auto loss = make_loss("sparse_categorical_crossentropy", {.from_logits = true});
  std::vector<float> got = loss_values(*loss, logits(), i32(kLabels, {2, 3}));
  ASSERT_EQ(got.size(), 2u);
  for (int s = 0; s < 2; ++s) {
    double want = 0;
    for (int t = 0; t < 3; ++t) want += nll(kRows[s * 3 + t], kLabels[s * 3 + t]) / 3;
    EXPECT_NEAR(got[s], want, 1e-5) << "sample " << s;
  }
  // Through a softmax node (from_logits false), the same numbers.
  auto probs = make_loss("sparse_categorical_crossentropy");
  std::vector<float> via = loss_values(*probs, logits(), i32(kLabels, {2, 3}), OpKind::kSoftmax);
  for (int s = 0; s < 2; ++s) EXPECT_NEAR(via[s], got[s], 1e-5);
  // The targets' expected type for these predictions: i32 [N, T].
  EXPECT_EQ(loss->target_type({kF32, {kDynamic, 3, 4}}).shape, Shape({kDynamic, 3}));
}

TEST(SequenceLoss, AccuracyCountsEveryPositionWithItsSampleWeight) {
  // Argmax per row: 0, 2, 0 (tie: the first), 1, 3, 3; hits against the labels: 1, 0, 0 and
  // 1, 1, 0, i.e. 1 of 3 in sample 0 and 2 of 3 in sample 1.
  auto acc = make_metric("accuracy", "sparse_categorical_crossentropy");
  acc->update(logits(), i32(kLabels, {2, 3}), nullptr);
  EXPECT_NEAR(acc->result(), 3.0 / 6.0, 1e-12);
  acc->reset();
  Tensor w = f32({1.0f, 3.0f}, {2});
  acc->update(logits(), i32(kLabels, {2, 3}), &w);
  EXPECT_NEAR(acc->result(), (1 * 1 + 3 * 2) / 12.0, 1e-12);
  // Top-2: every label has fewer than two scores above it in its row (ties count as in).
  auto top2 = make_metric("top_2_accuracy", "sparse_categorical_crossentropy");
  top2->update(logits(), i32(kLabels, {2, 3}), nullptr);
  EXPECT_NEAR(top2->result(), 6.0 / 6.0, 1e-12);
  // Targets that are not one per position are an error naming both shapes.
  expect_error(
      [&] {
        acc->update(logits(), i32({0, 1}, {2}), nullptr);
      },
      {"metric 'accuracy'", "[2]", "[2, 3, 4]"});
}

}  // namespace
}  // namespace tessera::nn_test
