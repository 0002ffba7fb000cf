// Losses and metrics against values computed by hand (derivations beside each number).
#include <gtest/gtest.h>

#include <cmath>

#include "nn_test_util.h"
#include "tessera/nn/metrics.h"

namespace tessera::nn_test {
namespace {

void expect_near(const std::vector<float>& got, const std::vector<double>& want,
                 double tol = 1e-5) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

// logits [1, 2, 3]: logsumexp = 3 + ln(1 + e^-1 + e^-2) = 3 + ln 1.50321472 = 3.40760596,
// so -log softmax[2] = 0.40760596 and -log softmax[0] = 2.40760596.
// logits [1, 1, 1]: -log(1/3) = ln 3 = 1.09861229.
TEST(Losses, SparseCrossentropyFromLogits) {
  auto loss = make_loss("sparse_categorical_crossentropy", {.from_logits = true});
  Tensor logits = f32({1, 2, 3, 1, 1, 1}, {2, 3});
  expect_near(loss_values(*loss, logits, i32({2, 0}, {2})), {0.40760596, 1.09861229});
  // [N, 1] labels are accepted too, and i64.
  expect_near(loss_values(*loss, logits, Tensor::from_vector(std::vector<int>{0, 0}, {2, 1}, kI64)),
              {2.40760596, 1.09861229});
}

// Probabilities, not a softmax node: -log p[label]. -ln 0.7 = 0.35667494, -ln 0.25 = 1.38629436.
// p[label] = 0 is clipped to 1e-7: -ln(1e-7) = 16.11809565.
TEST(Losses, SparseCrossentropyFromProbabilities) {
  auto loss = make_loss("sparse_categorical_crossentropy");
  Tensor p = f32({0.1f, 0.2f, 0.7f, 0.5f, 0.25f, 0.25f, 0, 1, 0}, {3, 3});
  expect_near(loss_values(*loss, p, i32({2, 1, 0}, {3})), {0.35667494, 1.38629436, 16.11809565},
              1e-4);
}

// Through a softmax node the loss uses its logits: same 0.40760596 as above, and logits
// [0, 100] with label 0 give exactly 100 (ln(1 + e^-100) ≈ 0), where softmax itself would
// underflow to 0 and the clipped form would report only 16.118.
TEST(Losses, SparseCrossentropyLooksThroughSoftmax) {
  auto loss = make_loss("sparse_categorical_crossentropy");
  Tensor logits = f32({1, 2, 3, 0, 100, 0}, {2, 3});
  expect_near(loss_values(*loss, logits, i32({2, 0}, {2}), OpKind::kSoftmax),
              {0.40760596, 100.0}, 1e-4);
}

// One-hot targets: the same sums. Unnormalized probabilities [0.2, 0.4, 1.4] are rescaled to
// [0.1, 0.2, 0.7] first (as Keras does), so -ln 0.7 = 0.35667494 again.
TEST(Losses, CategoricalCrossentropy) {
  Tensor y = f32({0, 0, 1, 1, 0, 0}, {2, 3});
  auto probs = make_loss("categorical_crossentropy");
  expect_near(loss_values(*probs, f32({0.1f, 0.2f, 0.7f, 0.2f, 0.4f, 1.4f}, {2, 3}), y),
              {0.35667494, 2.30258509});  // row 2: p[0] = 0.2/2 = 0.1, -ln 0.1 = 2.30258509
  auto logits = make_loss("categorical_crossentropy", {.from_logits = true});
  expect_near(loss_values(*logits, f32({1, 2, 3, 1, 2, 3}, {2, 3}), y), {0.40760596, 2.40760596});
  expect_near(loss_values(*probs, f32({1, 2, 3, 1, 2, 3}, {2, 3}), y, OpKind::kSoftmax),
              {0.40760596, 2.40760596});
}

// Logits x, targets y: max(x, 0) - x·y + ln(1 + e^-|x|).
//   x = 2, y = 1: 2 - 2 + ln(1 + e^-2) = ln 1.13533528 = 0.12692801
//   x = -1, y = 0: 0 - 0 + ln(1 + e^-1) = ln 1.36787944 = 0.31326169
TEST(Losses, BinaryCrossentropyFromLogits) {
  auto loss = make_loss("binary_crossentropy", {.from_logits = true});
  expect_near(loss_values(*loss, f32({2, -1}, {2, 1}), f32({1, 0}, {2, 1})),
              {0.12692801, 0.31326169});
  // Targets [N] against predictions [N, 1] are reshaped.
  expect_near(loss_values(*loss, f32({2, -1}, {2, 1}), f32({1, 0}, {2})),
              {0.12692801, 0.31326169});
  // Through a sigmoid node: same values, and x = -200, y = 1 gives 200 (stable).
  auto probs = make_loss("binary_crossentropy");
  expect_near(loss_values(*probs, f32({2, -1, -200}, {3, 1}), f32({1, 0, 1}, {3, 1}),
                          OpKind::kSigmoid),
              {0.12692801, 0.31326169, 200.0}, 1e-4);
}

// Probabilities p = [0.8, 0.4] with y = [1, 0]: mean(-ln 0.8, -ln 0.6)
//   = (0.22314355 + 0.51082562) / 2 = 0.36698459.
// p = 1 with y = 0 is clipped to 1 - 1e-7: -ln(1e-7) ≈ 16.118 (f32: 1 - 1e-7 rounds to
// 0.99999988, so -ln(1.19e-7) = 15.942385).
TEST(Losses, BinaryCrossentropyFromProbabilities) {
  auto loss = make_loss("binary_crossentropy");
  expect_near(loss_values(*loss, f32({0.8f, 0.4f, 1, 1}, {2, 2}), f32({1, 0, 0, 1}, {2, 2})),
              {0.36698459, (15.942385 + 0.0) / 2}, 1e-3);
}

// p = [[1, 2], [3, 5]], t = [[0, 2], [1, 1]]: differences [1, 0] and [2, 4].
//   mse: (1 + 0)/2 = 0.5, (4 + 16)/2 = 10;   mae: (1 + 0)/2 = 0.5, (2 + 4)/2 = 3.
TEST(Losses, MeanSquaredAndAbsoluteError) {
  Tensor p = f32({1, 2, 3, 5}, {2, 2}), t = f32({0, 2, 1, 1}, {2, 2});
  expect_near(loss_values(*make_loss("mse"), p, t), {0.5, 10});
  expect_near(loss_values(*make_loss("mean_squared_error"), p, t), {0.5, 10});
  expect_near(loss_values(*make_loss("mae"), p, t), {0.5, 3});
  // Rank 3: the mean runs over every non-batch axis: (1 + 0 + 4 + 16) / 4 = 5.25.
  expect_near(loss_values(*make_loss("mse"), f32({1, 2, 3, 5}, {1, 2, 2}),
                          f32({0, 2, 1, 1}, {1, 2, 2})),
              {5.25});
}

TEST(Losses, TargetTypes) {
  TensorType pred{kF32, {kDynamic, 10}};
  EXPECT_EQ(make_loss("sparse_categorical_crossentropy")->target_type(pred),
            (TensorType{kI32, {kDynamic}}));
  EXPECT_EQ(make_loss("categorical_crossentropy")->target_type(pred), pred);
  EXPECT_EQ(make_loss("binary_crossentropy")->target_type(pred), pred);
  EXPECT_EQ(make_loss("mse")->target_type(pred), pred);
  EXPECT_EQ(make_loss("mae")->target_type(pred), pred);
}

TEST(Losses, Errors) {
  expect_error([] { make_loss("hinge"); }, {"hinge", "sparse_categorical_crossentropy"});
  auto loss = make_loss("sparse_categorical_crossentropy");
  expect_error([&] { loss_values(*loss, f32({1, 2, 3}, {1, 3}), i32({0, 1}, {1, 2})); },
               {"sparse_categorical_crossentropy", "i32[N, 2]"});
  expect_error([] { loss_values(*make_loss("mse"), f32({1, 2}, {1, 2}), f32({1, 2, 3}, {1, 3})); },
               {"mse", "f32[N, 3]"});
}

// ---- metrics ---------------------------------------------------------------------------

double metric(const std::string& name, const std::string& loss, const Tensor& p,
              const Tensor& t, const Tensor* w = nullptr) {
  auto m = make_metric(name, loss);
  m->update(p, t, w);
  return m->result();
}

// Rows' argmax: [0.1, 0.9] -> 1, [0.8, 0.2] -> 0, [0.3, 0.7] -> 1; labels 1, 1, 1: hits 1, 0, 1.
TEST(Metrics, SparseAccuracy) {
  Tensor p = f32({0.1f, 0.9f, 0.8f, 0.2f, 0.3f, 0.7f}, {3, 2});
  Tensor y = i32({1, 1, 1}, {3});
  EXPECT_NEAR(metric("accuracy", "sparse_categorical_crossentropy", p, y), 2.0 / 3, 1e-12);
  EXPECT_NEAR(metric("sparse_categorical_accuracy", "mse", p, y), 2.0 / 3, 1e-12);
  // Weights [1, 2, 1]: (1·1 + 2·0 + 1·1) / 4 = 0.5.
  Tensor w = f32({1, 2, 1}, {3});
  EXPECT_NEAR(metric("accuracy", "sparse_categorical_crossentropy", p, y, &w), 0.5, 1e-12);
  // A tie picks the first maximum (tf.argmax): [0.5, 0.5] is class 0, so label 1 misses.
  EXPECT_EQ(metric("accuracy", "sparse_categorical_crossentropy", f32({0.5f, 0.5f}, {1, 2}),
                   i32({1}, {1})),
            0.0);
  // Accumulates over batches: 2/3 then 0/1 -> 2/4.
  auto m = make_metric("accuracy", "sparse_categorical_crossentropy");
  m->update(p, y, nullptr);
  m->update(f32({0.9f, 0.1f}, {1, 2}), i32({1}, {1}), nullptr);
  EXPECT_NEAR(m->result(), 0.5, 1e-12);
  m->reset();
  EXPECT_EQ(m->result(), 0.0);
}

TEST(Metrics, CategoricalAndBinaryAccuracy) {
  Tensor p = f32({0.1f, 0.9f, 0.8f, 0.2f, 0.3f, 0.7f}, {3, 2});
  Tensor onehot = f32({0, 1, 0, 1, 0, 1}, {3, 2});
  EXPECT_NEAR(metric("accuracy", "categorical_crossentropy", p, onehot), 2.0 / 3, 1e-12);
  EXPECT_NEAR(metric("categorical_accuracy", "", p, onehot), 2.0 / 3, 1e-12);
  // Binary, threshold 0.5: 0.6 -> 1 (y 1, hit), 0.4 -> 0 (y 1, miss), 0.5 -> 0 (y 0, hit).
  Tensor bp = f32({0.6f, 0.4f, 0.5f}, {3, 1}), by = f32({1, 1, 0}, {3, 1});
  EXPECT_NEAR(metric("accuracy", "binary_crossentropy", bp, by), 2.0 / 3, 1e-12);
  EXPECT_NEAR(metric("binary_accuracy", "", bp, f32({1, 1, 0}, {3})), 2.0 / 3, 1e-12);
  // Two outputs per sample: the per-sample value is the mean over them: (1 + 0.5) / 2.
  EXPECT_NEAR(metric("binary_accuracy", "", f32({0.9f, 0.1f, 0.9f, 0.9f}, {2, 2}),
                     f32({1, 0, 1, 0}, {2, 2})),
              0.75, 1e-12);
}

// Scores [0.1, 0.3, 0.3, 0.2]: the number of strictly greater scores decides, so a tie with
// the k-th best counts as in the top k (tf.math.in_top_k):
//   label 2, k 1: none greater -> hit;  label 1, k 1: hit too (tied);
//   label 3, k 2: two greater -> miss;  k 3: hit;  label 0, k 3: three greater -> miss.
TEST(Metrics, TopK) {
  Tensor p = f32({0.1f, 0.3f, 0.3f, 0.2f}, {1, 4});
  EXPECT_EQ(metric("top_1_accuracy", "sparse_categorical_crossentropy", p, i32({2}, {1})), 1.0);
  EXPECT_EQ(metric("top_1_accuracy", "sparse_categorical_crossentropy", p, i32({1}, {1})), 1.0);
  EXPECT_EQ(metric("top_2_accuracy", "sparse_categorical_crossentropy", p, i32({3}, {1})), 0.0);
  EXPECT_EQ(metric("top_3_accuracy", "sparse_categorical_crossentropy", p, i32({3}, {1})), 1.0);
  EXPECT_EQ(metric("top_3_accuracy", "sparse_categorical_crossentropy", p, i32({0}, {1})), 0.0);
  // k = 5 by default; with 6 classes the lowest score misses.
  Tensor p6 = f32({6, 5, 4, 3, 2, 1, 6, 5, 4, 3, 2, 1}, {2, 6});
  auto m = make_metric("top_k_accuracy", "sparse_categorical_crossentropy");
  EXPECT_EQ(m->name(), "top_k_accuracy");
  m->update(p6, i32({4, 5}, {2}), nullptr);
  EXPECT_EQ(m->result(), 0.5);
  // One-hot targets use their argmax.
  EXPECT_EQ(metric("top_2_accuracy", "categorical_crossentropy", p, f32({0, 0, 0, 1}, {1, 4})),
            0.0);
}

// As the losses above: mse per sample [0.5, 10] -> 5.25, mae [0.5, 3] -> 1.75; weights
// [3, 1]: (3·0.5 + 10) / 4 = 2.875.
TEST(Metrics, MseAndMae) {
  Tensor p = f32({1, 2, 3, 5}, {2, 2}), t = f32({0, 2, 1, 1}, {2, 2});
  EXPECT_NEAR(metric("mse", "mse", p, t), 5.25, 1e-12);
  EXPECT_NEAR(metric("mae", "mse", p, t), 1.75, 1e-12);
  Tensor w = f32({3, 1}, {2});
  EXPECT_NEAR(metric("mse", "mse", p, t, &w), 2.875, 1e-12);
}

TEST(Metrics, Errors) {
  expect_error([] { make_metric("f1", "mse"); }, {"f1", "accuracy"});
  expect_error([] { metric("accuracy", "sparse_categorical_crossentropy",
                           f32({1, 2, 3, 4}, {2, 2}), i32({1, 2, 3}, {3})); },
               {"accuracy", "2 predictions but 3 targets"});
}

}  // namespace
}  // namespace tessera::nn_test
