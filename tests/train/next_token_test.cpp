// Next-token (language-model) training through Model::fit: outputs [N, T, V], targets [N, T]
// i32, sparse categorical cross-entropy. The loss must be the mean negative log-likelihood
// per token in nats, accuracy the fraction of positions whose argmax is the next byte, and
// fit / evaluate / predict must agree on both. The model is the smallest causal language
// model the built-in layers allow: one-hot bytes (a test layer) -> Dense(256), i.e. a
// bigram model, which learns the byte statistics of a text within a few steps.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>

#include "../../src/data/formats.h"
#include "tessera/data/loaders.h"
#include "train_test_util.h"

namespace tessera {
namespace {

using train_test::contains;
using train_test::error_of;

// Token ids [N, T] i32 -> one-hot f32 [N, T, depth]; no weights.
class OneHotLayer final : public Layer {
 public:
  explicit OneHotLayer(int64_t depth) : Layer("one_hot"), depth_(depth) {}
  std::string class_name() const override { return "TestOneHot"; }
  ValueId call(CallContext& ctx, std::span<const ValueId> in) override {
    return ctx.b.one_hot(in[0], depth_, kF32);
  }

 protected:
  void build_weights(std::span<const TensorType>, Rng&) override {}

 private:
  int64_t depth_;
};

constexpr int64_t kVocab = 256;

// A bigram language model over bytes: logits [N, T, 256], or probabilities with `softmax`.
Model bigram_model(int64_t context, bool softmax = false) {
  SymbolicTensor ids = Input({context}, kI32, "tokens");
  SymbolicTensor h = LayerPtr(std::make_shared<OneHotLayer>(kVocab))(ids);
  SymbolicTensor logits = Dense(kVocab, {.activation = softmax ? "softmax" : ""})(h);
  return Model({ids}, {logits}, "bigram");
}

CompileConfig lm_config(bool from_logits = true) {
  CompileConfig c{.optimizer = "adam",
                  .loss = "sparse_categorical_crossentropy",
                  .loss_options = {.from_logits = from_logits},
                  .metrics = {"accuracy"}};
  c.optimizer_options.learning_rate = 0.05;
  return c;
}

// A text with strong bigram statistics, long enough for a few dozen windows.
std::string corpus() {
  std::string s;
  for (int i = 0; i < 40; ++i) s += "the cat sat on the mat. ";
  return s;
}

Dataset text_dataset(int64_t context) {
  return data_internal::parse_text_bytes(corpus(), "cat.txt", {.context = context});
}

// The mean over every position of -log softmax(logits)[target] and the fraction of
// positions whose argmax is the target, from predict()'s logits, in double.
std::pair<double, double> nll_and_accuracy(const Tensor& logits, const Tensor& targets) {
  const int64_t positions = targets.numel();
  const float* z = logits.data<float>();
  const int32_t* y = targets.data<int32_t>();
  double nll = 0;
  int64_t hits = 0;
  for (int64_t r = 0; r < positions; ++r) {
    const float* row = z + r * kVocab;
    double top = row[0];
    int64_t best = 0;
    for (int64_t v = 1; v < kVocab; ++v) {
      if (row[v] > top) top = row[v], best = v;
    }
    double sum = 0;
    for (int64_t v = 0; v < kVocab; ++v) sum += std::exp(row[v] - top);
    nll += -(row[y[r]] - top - std::log(sum));
    hits += best == y[r];
  }
  return {nll / static_cast<double>(positions),
          static_cast<double>(hits) / static_cast<double>(positions)};
}

TEST(NextToken, FitReportsNatsPerTokenAndLearnsBigrams) {
  const int64_t context = 16;
  Dataset all = text_dataset(context);
  ASSERT_EQ(all.x.shape(), Shape({59, 16}));
  auto [train, val] = all.split(0.8);
  Model model = bigram_model(context);
  model.compile(lm_config());
  EXPECT_EQ(model.net().output_types()[0].shape, Shape({kDynamic, context, kVocab}));

  // Before training: the loss is the per-token NLL of the initial weights, near ln 256.
  auto before = model.evaluate(val.x, val.y, 8);
  auto [nll0, acc0] = nll_and_accuracy(model.predict(val.x), val.y);
  EXPECT_NEAR(before["loss"], nll0, 1e-4);
  EXPECT_NEAR(before["accuracy"], acc0, 1e-12);
  EXPECT_NEAR(before["loss"], std::log(256.0), 0.5);

  History h = model.fit(
      train, {.epochs = 8, .batch_size = 8, .seed = 3, .validation_data = val, .verbose = 0});
  ASSERT_EQ(h.history["loss"].size(), 8u);
  // The text's bigram entropy is far below 1 nat: the model gets most of the way there.
  EXPECT_LT(h.history["loss"].back(), 1.0);
  EXPECT_LT(h.history["val_loss"].back(), 1.0);
  EXPECT_GT(h.history["val_accuracy"].back(), 0.6);

  // evaluate, the last validation and a direct computation agree: nats per token.
  auto after = model.evaluate(val.x, val.y, 5);
  auto [nll, acc] = nll_and_accuracy(model.predict(val.x, 3), val.y);
  EXPECT_NEAR(after["loss"], nll, 1e-4);
  EXPECT_NEAR(after["loss"], h.history["val_loss"].back(), 1e-5);
  EXPECT_NEAR(after["accuracy"], acc, 1e-12);
  EXPECT_NEAR(after["accuracy"], h.history["val_accuracy"].back(), 1e-12);
}

TEST(NextToken, SoftmaxOutputTrainsThroughItsLogits) {
  // Probabilities out, from_logits false: the loss looks through the softmax node, so the
  // same numbers come out as from the logits.
  const int64_t context = 8;
  Dataset d = text_dataset(context);
  Model probs = bigram_model(context, /*softmax=*/true);
  probs.compile(lm_config(/*from_logits=*/false));
  History h = probs.fit(d, {.epochs = 3, .batch_size = 16, .verbose = 0});
  EXPECT_LT(h.history["loss"].back(), h.history["loss"].front());
  Tensor p = probs.predict(d.x.contiguous());
  ASSERT_EQ(p.shape(), Shape({d.size(), context, kVocab}));
  double row = 0;
  for (int64_t v = 0; v < kVocab; ++v) row += p.get(v);
  EXPECT_NEAR(row, 1.0, 1e-5);
  auto e = probs.evaluate(d.x, d.y);
  double nll = 0;
  for (int64_t r = 0; r < d.y.numel(); ++r)
    nll -= std::log(p.get(r * kVocab + d.y.data<int32_t>()[r]));
  EXPECT_NEAR(e["loss"], nll / static_cast<double>(d.y.numel()), 1e-4);
}

TEST(NextToken, LossIsTheMeanOverEveryToken) {
  // With equal-length windows, the batch loss (mean over samples of the per-sample mean over
  // positions) is the mean over all tokens, whatever the batch size.
  const int64_t context = 4;
  Dataset d = text_dataset(context);
  Model model = bigram_model(context);
  model.compile(lm_config());
  double whole = model.evaluate(d.x, d.y, d.size())["loss"];
  for (int64_t batch : {1, 7, 64})
    EXPECT_NEAR(model.evaluate(d.x, d.y, batch)["loss"], whole, 1e-5);
}

TEST(NextToken, TargetErrorsNameShapesAndLabels) {
  const int64_t context = 8;
  Dataset d = text_dataset(context);
  Model model = bigram_model(context);
  model.compile(lm_config());
  // One label per sample instead of one per position.
  Tensor per_sample = Tensor::zeros(kI32, {d.size()});
  std::string e = error_of([&] { model.fit(d.x, per_sample, {.verbose = 0}); });
  EXPECT_TRUE(contains(e, "y has shape [" + std::to_string(d.size()) + "]")) << e;
  EXPECT_TRUE(contains(e, "expects targets of shape [N, 8] (i32)")) << e;
  // A token id past the vocabulary.
  Tensor bad = d.y.contiguous().to(kI32);
  bad.data<int32_t>()[3 * context + 5] = 300;
  e = error_of([&] { model.fit(d.x, bad, {.verbose = 0}); });
  EXPECT_TRUE(contains(e, "label 300 of sample 3 is out of range")) << e;
  EXPECT_TRUE(contains(e, "256 classes")) << e;
  // Windows of the wrong length.
  Dataset longer = text_dataset(context * 2);
  e = error_of([&] { model.fit(longer, {.verbose = 0}); });
  EXPECT_TRUE(contains(e, "x has shape [59, 16]")) << e;
  EXPECT_TRUE(contains(e, "expects input 'tokens' of shape [N, 8]")) << e;
  // class_weight maps one class per sample to a weight; a sequence has many (as Keras).
  e = error_of([&] { model.fit(d, {.class_weight = {{32, 2.0}}, .verbose = 0}); });
  EXPECT_TRUE(contains(e, "class_weight is not supported for targets of shape [N, 8]")) << e;
}

}  // namespace
}  // namespace tessera
