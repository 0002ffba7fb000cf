// Activation checkpointing (recompute_activations) and early update scheduling
// (hoist_nodes): both change only where values are computed, never what they are; both
// lower the planned arena of a training step.
#include "tessera/ir/recompute.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tessera/backends/scheduler.h"
#include "tessera/core/error.h"
#include "tessera/core/rng.h"
#include "tessera/ir/autodiff.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/memory_plan.h"
#include "tessera/ir/passes.h"

namespace tessera {
namespace {

// A deep MLP's loss and gradients; each layer (matmul, bias, gelu) is one segment.
struct Mlp {
  Graph forward;
  Gradients d;
  std::vector<int32_t> segment;
};

Mlp deep_mlp(int layers, int64_t width) {
  GraphBuilder b;
  Rng rng(3);
  ValueId h = b.input("x", kF32, {kDynamic, width});
  std::vector<ValueId> wrt;
  std::vector<std::pair<ValueId, ValueId>> ranges;
  for (int l = 0; l < layers; ++l) {
    Tensor w = Tensor::zeros(kF32, {width, width});
    rng.fill_uniform(w, -0.2, 0.2);
    ValueId wp = b.parameter(fmt::format("w{}", l), w);
    ValueId bp = b.parameter(fmt::format("b{}", l), Tensor::full(kF32, {width}, 0.1));
    wrt.push_back(wp);
    wrt.push_back(bp);
    ValueId start = b.graph().size();
    h = b.gelu(b.add(b.matmul(h, wp), bp));
    ranges.push_back({start, b.graph().size()});
  }
  ValueId loss = b.reduce_mean(b.mul(h, h), {});
  b.output(loss);
  Mlp m;
  m.forward = b.finish();
  m.segment.assign(m.forward.size(), -1);
  for (size_t l = 0; l < ranges.size(); ++l)
    for (ValueId v = ranges[l].first; v < ranges[l].second; ++v)
      if (m.forward.node(v).op != OpKind::kParameter) m.segment[v] = static_cast<int32_t>(l);
  m.d = differentiate(m.forward, loss, wrt);
  return m;
}

std::vector<Tensor> run_grads(Graph g, const std::vector<ValueId>& grads, int64_t batch) {
  g.outputs() = grads;
  Rng rng(9);
  Tensor x = Tensor::zeros(kF32, {batch, g.type(g.inputs()[0]).shape[1]});
  rng.fill_uniform(x, -1, 1);
  std::vector<Tensor> out;
  std::vector<Tensor> in = {x};
  Program p = compile_program(g, {.batch = batch});
  for (const Tensor& t : p.run(in)) out.push_back(t.clone());
  return out;
}

TEST(Recompute, SameGradientsLessMemory) {
  Mlp m = deep_mlp(6, 64);
  std::vector<ValueId> grads = m.d.grads;
  Graph r = recompute_activations(m.d.graph, m.forward.size(), m.segment, &grads);
  r.validate();
  int copies = 0;
  for (const Node& n : r.nodes()) copies += n.attrs.get_int_or("recompute", 0) != 0;
  EXPECT_GT(copies, 0);
  // Each layer's backward reads its pre-activation (gelu's input): matmul and bias add are
  // recomputed in each of the 6 layers.
  EXPECT_EQ(copies, 12);
  std::vector<Tensor> want = run_grads(m.d.graph, m.d.grads, 32);
  std::vector<Tensor> got = run_grads(r, grads, 32);
  ASSERT_EQ(want.size(), got.size());
  for (size_t k = 0; k < want.size(); ++k)
    EXPECT_EQ(want[k].to_f32_vector(), got[k].to_f32_vector()) << "gradient " << k;

  Graph plain = m.d.graph, checkpointed = r;
  plain.outputs() = m.d.grads;
  checkpointed.outputs() = grads;
  int64_t a = plan_memory(specialize(plain, 512)).arena_bytes;
  int64_t b = plan_memory(specialize(checkpointed, 512)).arena_bytes;
  EXPECT_LT(b, a * 3 / 4) << a << " vs " << b;
}

TEST(Recompute, AlwaysRecomputesMarkedValuesAndChecksItsArguments) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {4, 8});
  ValueId w = b.parameter("w", Tensor::full(kF32, {8, 8}, 0.5));
  ValueId wc = b.cast(b.cast(w, kBF16), kF32);  // a cheap copy of a weight
  ValueId loss = b.reduce_sum(b.tanh(b.matmul(x, wc)), {});
  b.output(loss);
  Graph g = b.finish();
  Gradients d = differentiate(g, loss, std::vector<ValueId>{x, w});
  std::vector<int32_t> none(g.size(), -1);
  std::vector<char> always(g.size(), 0);
  always[wc] = 1;
  std::vector<ValueId> grads = d.grads;
  Graph r = recompute_activations(d.graph, g.size(), none, &grads, always);
  int copies = 0;
  for (const Node& n : r.nodes()) copies += n.attrs.get_int_or("recompute", 0) != 0;
  EXPECT_EQ(copies, 1);  // the cast x's gradient reads (dx = dy·wcᵀ); its input stays
  EXPECT_THROW(recompute_activations(d.graph, g.size(), std::vector<int32_t>(3, -1), nullptr),
               Error);
  EXPECT_THROW(recompute_activations(d.graph, g.size() + d.graph.size(), none, nullptr), Error);
}

TEST(HoistNodes, UpdatesRunRightAfterTheirGradients) {
  Mlp m = deep_mlp(4, 128);
  GraphBuilder b(m.d.graph);
  const ValueId first = b.graph().size();
  ValueId lr = b.scalar(0.1);
  for (size_t k = 0; k < m.d.grads.size(); ++k) {
    ValueId p = m.d.graph.find(fmt::format("{}{}", k % 2 ? "b" : "w", k / 2));
    b.update(p, b.sub(p, b.mul(lr, m.d.grads[k])));
  }
  Graph g = b.finish();
  Graph h = hoist_nodes(g, first);
  h.validate();
  ASSERT_EQ(h.size(), g.size());
  EXPECT_EQ(h.inputs().size(), g.inputs().size());
  // Every update comes right after (within two nodes of) its gradient.
  for (const Graph::Update& u : h.updates()) {
    ValueId grad = h.node(h.node(u.value).inputs[1]).inputs[1];
    EXPECT_LE(u.value - grad, 2) << h.describe(u.value);
  }
  // The same step: same new weights.
  Rng rng(4);
  Tensor x = Tensor::zeros(kF32, {16, 128});
  rng.fill_uniform(x, -1, 1);
  std::vector<std::vector<float>> after[2];
  for (int i = 0; i < 2; ++i) {
    Graph run = i == 0 ? g : h;
    for (ValueId p : run.parameters()) run.mutable_node(p).value = run.node(p).value.clone();
    std::vector<Tensor> in = {x};
    compile_program(run, {.batch = 16}).run(in);
    for (ValueId p : run.parameters()) after[i].push_back(run.node(p).value.to_f32_vector());
  }
  EXPECT_EQ(after[0], after[1]);
  // At a small batch the weights' gradients set the peak: hoisted, they do not pile up.
  int64_t a = plan_memory(specialize(g, 4)).arena_bytes;
  int64_t c = plan_memory(specialize(h, 4)).arena_bytes;
  EXPECT_LT(c, a) << a << " vs " << c;
  EXPECT_THROW(hoist_nodes(g, g.size() + 1), Error);
}

}  // namespace
}  // namespace tessera
