// One training step (forward, loss, backward, Adam) of Keras-style MLPs on the cpu
// backend, under the compile options that trade speed for memory: the dtype policy
// (float32 / mixed_bfloat16) and activation checkpointing (recompute). Each benchmark
// reports the step's arena (the memory planner's bytes for intermediate values) as the
// counter `arena_MiB`.
//
//   model 0: mlp, 784-256-128-10 relu (mnist-mlp), batch 128 (weights and their gradients
//            outweigh the activations)
//   model 1: the same mlp, batch 2048 (activations dominate)
//   model 2: deep, 784 -> 8 x 1024 gelu -> 10, batch 256
#include <benchmark/benchmark.h>

#include <vector>

#include "tessera/backends/scheduler.h"
#include "tessera/core/rng.h"
#include "tessera/nn/layers.h"
#include "tessera/train/model.h"

namespace tessera {
namespace {

Sequential make_model(bool deep) {
  std::vector<LayerPtr> ls;
  if (!deep) {
    ls = {Dense(256, {.activation = "relu", .input_shape = Shape{784}}),
          Dense(128, {.activation = "relu"})};
  } else {
    ls = {Dense(1024, {.activation = "gelu", .input_shape = Shape{784}})};
    for (int i = 1; i < 8; ++i) ls.push_back(Dense(1024, {.activation = "gelu"}));
  }
  ls.push_back(Dense(10, {.activation = "softmax"}));
  return Sequential(std::move(ls), deep ? "deep" : "mlp", 1);
}

// Args: model (above), policy (0 float32, 1 mixed_bfloat16), recompute (0/1).
void BM_TrainStep(benchmark::State& state) {
  const bool deep = state.range(0) == 2;
  const int64_t batch = deep ? 256 : state.range(0) == 1 ? 2048 : 128;
  Sequential model = make_model(deep);
  model.compile({.optimizer = "adam",
                 .loss = "sparse_categorical_crossentropy",
                 .dtype_policy = state.range(1) != 0 ? "mixed_bfloat16" : "float32",
                 .recompute = state.range(2) != 0});
  const Graph& g = model.train_graph();
  Program p = compile_program(g, {.batch = batch});
  std::vector<ValueId> ins = g.inputs();  // x, y, sample_weight, step
  Rng rng(5);
  Tensor x = Tensor::zeros(kF32, {batch, 784});
  rng.fill_uniform(x, 0.0, 1.0);
  Tensor y = Tensor::zeros(g.type(ins[1]).dtype, {batch});
  for (int64_t i = 0; i < batch; ++i) y.set(i, static_cast<double>(i % 10));
  Tensor w = Tensor::full(kF32, {batch}, 1.0);
  Tensor step = Tensor::scalar(0, kI64);
  std::vector<Tensor> inputs = {x, y, w, step};
  p.run(inputs);
  for (auto _ : state) benchmark::DoNotOptimize(p.run(inputs)[0].raw_data());
  state.counters["arena_MiB"] = static_cast<double>(p.arena_bytes()) / (1 << 20);
  state.SetItemsProcessed(state.iterations() * batch);  // samples per second
}
BENCHMARK(BM_TrainStep)
    ->ArgsProduct({{0, 1}, {0, 1}, {0}})
    ->ArgsProduct({{2}, {0, 1}, {0, 1}})
    ->ArgNames({"model", "mixed_bf16", "recompute"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tessera

BENCHMARK_MAIN();
