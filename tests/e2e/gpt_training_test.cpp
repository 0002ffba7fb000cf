// A small GPT trains through Model::fit (next-token targets, logits, AdamW): the loss falls
// far below chance on a learnable sequence, the step allocates nothing per step (attention,
// its dropout, embeddings and their scatter_add gradients included), and the trained model
// then generates the sequence it learned, with the KV cache.
#include <gtest/gtest.h>

#include <functional>

#include <algorithm>
#include <cmath>

#include "../support/heap_allocations.h"
#include "tessera/nn/generation.h"
#include "tessera/nn/gpt.h"
#include "tessera/train/model.h"

namespace tessera {
namespace {

GptConfig small_gpt(double dropout) {
  GptConfig c;
  c.vocab_size = 16;
  c.context = 16;
  c.d_model = 32;
  c.num_heads = 4;
  c.num_layers = 2;
  c.dropout = dropout;
  return c;
}

// Windows of the cycle 0, 3, 6, …, 15, 2, 5, … (step 3 mod 16): each token determines the next.
Dataset cycle_windows(int64_t n, int64_t t) {
  Tensor x = Tensor::zeros(kI32, {n, t}), y = Tensor::zeros(kI32, {n, t});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < t; ++k) {
      x.set(i * t + k, static_cast<double>((3 * (i + k)) % 16));
      y.set(i * t + k, static_cast<double>((3 * (i + k + 1)) % 16));
    }
  return {x, y, "cycle"};
}

CompileConfig adamw() {
  CompileConfig c{.optimizer = "adamw", .loss = "sparse_categorical_crossentropy"};
  c.optimizer_options.learning_rate = 3e-3;
  c.loss_options.from_logits = true;
  return c;
}

TEST(GptTraining, LearnsASequenceAndGeneratesIt) {
  Model m(make_gpt(small_gpt(0.0)));
  m.compile(adamw());
  History h = m.fit(cycle_windows(64, 16), {.epochs = 15, .batch_size = 16, .verbose = 0});
  const std::vector<double>& loss = h.history["loss"];
  EXPECT_NEAR(loss.front(), std::log(16.0), 0.5);
  EXPECT_LT(loss.back(), 0.1) << "chance is ln 16 = 2.77";
  Generator gen(m.net());
  std::vector<int32_t> prompt = {0, 3, 6};
  std::vector<int32_t> out = gen.generate(prompt, 8, [](std::span<const float> logits) {
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  });
  EXPECT_EQ(out, (std::vector<int32_t>{9, 12, 15, 2, 5, 8, 11, 14}));
}

std::function<void()> one_epoch(Model& m, const Dataset& data) {
  return [&m, &data] { m.fit(data, {.epochs = 1, .batch_size = 8, .seed = 3, .verbose = 0}); };
}

TEST(GptTraining, StepsAllocateNothing) {
  Model m(make_gpt(small_gpt(0.1)));
  m.compile(adamw());
  Dataset small = cycle_windows(2 * 8, 16), large = cycle_windows(6 * 8, 16);
  one_epoch(m, small)();  // compiles the step program for batch 8
  int64_t two_steps = 0, six_steps = 0;
  EXPECT_TRUE(test_support::allocations_settle(one_epoch(m, small), one_epoch(m, large),
                                               &two_steps, &six_steps))
      << "allocations grow with the number of steps: " << two_steps << " for 2 steps, "
      << six_steps << " for 6";
}

}  // namespace
}  // namespace tessera
