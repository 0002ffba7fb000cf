// The "mixed_bfloat16" dtype policy: variables stay f32, the layers' matmuls and
// activations are bf16, the loss is f32, the optimizer updates f32 weights from f32
// gradients; training converges to about the accuracy of float32; activations take less
// arena memory.
#include <gtest/gtest.h>

#include "tessera/backends/scheduler.h"
#include "train_test_util.h"

namespace tessera {
namespace {

using train_test::contains;
using train_test::error_of;

Sequential mlp(uint64_t seed) {
  return Sequential({Dense(128, {.activation = "relu", .input_shape = Shape{32}}),
                     Dense(64, {.activation = "relu"}), Dense(10, {.activation = "softmax"})},
                    "mlp", seed);
}

CompileConfig with_policy(const std::string& policy) {
  CompileConfig c = train_test::seed_config("adam");
  c.dtype_policy = policy;
  return c;
}

TEST(MixedPrecision, TrainGraphComputesInBf16AndUpdatesF32) {
  Sequential m = mlp(1);
  m.compile(with_policy("mixed_bfloat16"));
  const Graph& g = m.train_graph();
  int bf16_matmuls = 0, f32_matmuls = 0;
  for (const Node& n : g.nodes()) {
    if (n.op == OpKind::kParameter) {
      EXPECT_NE(n.type.dtype, kBF16) << n.name;
    }
    if (n.op == OpKind::kMatMul) (n.type.dtype == kBF16 ? bf16_matmuls : f32_matmuls)++;
  }
  // 3 forward, 3 weight gradients, 2 input gradients (none for the model input).
  EXPECT_EQ(bf16_matmuls, 8);
  EXPECT_EQ(f32_matmuls, 0);
  EXPECT_EQ(g.type(g.outputs()[0]), (TensorType{kF32, {}}));  // the loss
  EXPECT_EQ(g.type(g.outputs()[1]).dtype, kF32);              // y_pred
  for (const Graph::Update& u : g.updates()) EXPECT_NE(g.type(u.value).dtype, kBF16);
  for (const VariablePtr& v : m.net().variables()) EXPECT_EQ(v->value.dtype(), kF32);
  // Inference under the policy returns f32 as well.
  EXPECT_EQ(m.predict(Tensor::zeros(kF32, {3, 32})).dtype(), kF32);
}

TEST(MixedPrecision, ConvergesToAboutTheAccuracyOfFloat32) {
  Dataset all = synthetic_classification(11, 3000);
  Dataset train = all.slice(0, 2400), test = all.slice(2400, 3000);
  double acc[2], first_loss[2], last_loss[2];
  for (int i = 0; i < 2; ++i) {
    Sequential m = mlp(3);
    m.compile(with_policy(i == 0 ? "float32" : "mixed_bfloat16"));
    History h = m.fit(train, {.epochs = 4, .batch_size = 32, .verbose = 0});
    first_loss[i] = h.history["loss"].front();
    last_loss[i] = h.history["loss"].back();
    acc[i] = m.evaluate(test.x, test.y)["accuracy"];
  }
  std::printf("[ info ] test accuracy float32 %.4f, mixed_bfloat16 %.4f; loss %.4f -> %.4f\n",
              acc[0], acc[1], first_loss[1], last_loss[1]);
  EXPECT_LT(last_loss[1], 0.7 * first_loss[1]);
  EXPECT_GT(acc[0], 0.9);
  EXPECT_NEAR(acc[1], acc[0], 0.03);
}

TEST(MixedPrecision, ActivationsTakeLessArena) {
  Sequential f32 = mlp(1), mixed = mlp(1);
  f32.compile(with_policy("float32"));
  mixed.compile(with_policy("mixed_bfloat16"));
  int64_t a = compile_program(f32.train_graph(), {.batch = 256}).arena_bytes();
  int64_t b = compile_program(mixed.train_graph(), {.batch = 256}).arena_bytes();
  std::printf("[ info ] train-step arena, batch 256: float32 %lld B, mixed_bfloat16 %lld B\n",
              static_cast<long long>(a), static_cast<long long>(b));
  EXPECT_LT(b, a * 3 / 4);
}

TEST(MixedPrecision, UnknownPolicyNamesTheField) {
  Sequential m = mlp(1);
  std::string e = error_of([&] { m.compile(with_policy("mixed_float8")); });
  EXPECT_TRUE(contains(e,
                       "dtype_policy 'mixed_float8' is unknown (expected float32 or "
                       "mixed_bfloat16)"))
      << e;
}

}  // namespace
}  // namespace tessera
