// CompileConfig::recompute (activation checkpointing per layer call): the same training
// trajectory as without it, and a smaller arena for the training step.
#include <gtest/gtest.h>

#include "tessera/backends/scheduler.h"
#include "train_test_util.h"

namespace tessera {
namespace {

using train_test::weights_of;

Sequential deep_mlp(uint64_t seed, int layers) {
  std::vector<LayerPtr> ls = {Dense(96, {.activation = "relu", .input_shape = Shape{32}})};
  for (int i = 1; i < layers; ++i) ls.push_back(Dense(96, {.activation = "gelu"}));
  ls.push_back(Dropout(0.1));
  ls.push_back(Dense(10, {.activation = "softmax"}));
  return Sequential(std::move(ls), "deep", seed);
}

CompileConfig with_recompute(bool on) {
  CompileConfig c = train_test::seed_config("adam");
  c.recompute = on;
  return c;
}

TEST(Recompute, SameTrainingAsWithoutIt) {
  Dataset d = synthetic_classification(5, 320);
  Sequential plain = deep_mlp(7, 4), checkpointed = deep_mlp(7, 4);
  plain.compile(with_recompute(false));
  checkpointed.compile(with_recompute(true));
  int recomputed = 0;
  for (const Node& n : checkpointed.train_graph().nodes())
    recomputed += n.attrs.get_int_or("recompute", 0) != 0;
  EXPECT_GT(recomputed, 0);
  plain.fit(d, {.epochs = 2, .batch_size = 32, .seed = 3, .verbose = 0});
  checkpointed.fit(d, {.epochs = 2, .batch_size = 32, .seed = 3, .verbose = 0});
  // Recomputed values come from the same kernels on the same inputs: bit-identical.
  EXPECT_EQ(weights_of(plain), weights_of(checkpointed));
}

// At a batch where activations, not the weights' gradients and optimizer temporaries (all
// alive together when the updates run), set the peak.
TEST(Recompute, LowersTheTrainingArena) {
  Sequential plain = deep_mlp(1, 8), checkpointed = deep_mlp(1, 8);
  plain.compile(with_recompute(false));
  checkpointed.compile(with_recompute(true));
  int64_t a = compile_program(plain.train_graph(), {.batch = 1024}).arena_bytes();
  int64_t b = compile_program(checkpointed.train_graph(), {.batch = 1024}).arena_bytes();
  std::printf("[ info ] 8-layer MLP train-step arena, batch 1024: %lld B, recompute %lld B\n",
              static_cast<long long>(a), static_cast<long long>(b));
  EXPECT_LT(b, a * 3 / 4);
}

}  // namespace
}  // namespace tessera
