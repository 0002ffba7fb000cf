#include "tessera/ir/memory_plan.h"

#include <gtest/gtest.h>

#include "passes_test_util.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/fusion.h"
#include "tessera/ir/passes.h"

namespace tessera {
namespace {

bool is_leaf(const Graph& g, ValueId v) { return op_info(g.node(v).op).op_class == OpClass::kLeaf; }

int64_t value_bytes(const Graph& g, ValueId v, int64_t alignment) {
  const TensorType& t = g.type(v);
  int64_t b = t.shape.numel() * static_cast<int64_t>(t.dtype.size());
  return (b + alignment - 1) / alignment * alignment;
}

// An update value computed straight into its parameter must be elementwise, of the
// parameter's type, and the last reader of the parameter's old value.
void check_in_place_update(const Graph& g, ValueId v, ValueId p) {
  EXPECT_EQ(g.node(p).op, OpKind::kParameter) << g.describe(v);
  EXPECT_EQ(g.type(p), g.type(v)) << g.describe(v);
  EXPECT_TRUE(is_elementwise(g.node(v).op)) << g.describe(v);
  bool listed = false;
  for (const Graph::Update& u : g.updates()) listed = listed || (u.parameter == p && u.value == v);
  EXPECT_TRUE(listed) << g.describe(v) << " is not the update of " << g.describe(p);
  for (ValueId w = v + 1; w < g.size(); ++w)
    for (ValueId in : g.node(w).inputs)
      EXPECT_NE(in, p) << g.describe(w) << " reads " << g.describe(p) << " after " << g.describe(v)
                       << " overwrote it";
  for (ValueId o : g.outputs()) EXPECT_NE(o, p) << "output " << g.describe(p) << " overwritten";
}

// Checks a plan by simulating a step: every arena chunk remembers which value's data it
// holds; a node must find each input's data intact when it runs, and outputs and update
// values must be intact at the end. A reshape alias holds its source's data; an in-place
// node may overwrite only an input at exactly its own offset and of its own shape. Update
// values written into their parameters take no arena (check_in_place_update).
void check_plan(const Graph& g, const MemoryPlan& plan, const MemoryPlanOptions& opt) {
  ASSERT_EQ(plan.offsets.size(), static_cast<size_t>(g.size()));
  ASSERT_EQ(plan.alias_of.size(), static_cast<size_t>(g.size()));
  ASSERT_EQ(plan.writes_parameter.size(), static_cast<size_t>(g.size()));
  ASSERT_LE(plan.arena_bytes, plan.naive_bytes);
  int64_t naive = 0;
  const int64_t chunk = opt.alignment;
  std::vector<ValueId> tag(g.size(), kNoValue);
  auto outside_arena = [&](ValueId v) {
    return is_leaf(g, v) || plan.writes_parameter[v] != kNoValue;
  };
  for (ValueId v = 0; v < g.size(); ++v) {
    if (is_leaf(g, v)) {
      EXPECT_EQ(plan.offsets[v], -1) << g.describe(v);
      EXPECT_EQ(plan.alias_of[v], kNoValue) << g.describe(v);
      EXPECT_EQ(plan.writes_parameter[v], kNoValue) << g.describe(v);
      continue;
    }
    naive += value_bytes(g, v, chunk);
    if (plan.writes_parameter[v] != kNoValue) {
      EXPECT_TRUE(opt.update_in_place) << g.describe(v);
      EXPECT_EQ(plan.offsets[v], -1) << g.describe(v);
      check_in_place_update(g, v, plan.writes_parameter[v]);
      continue;
    }
    ASSERT_GE(plan.offsets[v], 0) << g.describe(v);
    ASSERT_EQ(plan.offsets[v] % chunk, 0) << g.describe(v);
    ASSERT_LE(plan.offsets[v] + value_bytes(g, v, chunk), plan.arena_bytes) << g.describe(v);
    ValueId src = plan.alias_of[v];
    if (src != kNoValue) {
      ASSERT_EQ(g.node(v).op, OpKind::kReshape) << g.describe(v);
      ASSERT_EQ(g.node(v).inputs[0], src) << g.describe(v);
      ASSERT_EQ(plan.offsets[v], plan.offsets[src]) << g.describe(v);
      tag[v] = tag[src];
    } else {
      tag[v] = v;
    }
  }
  EXPECT_EQ(plan.naive_bytes, naive);

  std::vector<ValueId> holds(static_cast<size_t>(plan.arena_bytes / chunk + 1), kNoValue);
  auto intact = [&](ValueId v) {
    for (int64_t c = plan.offsets[v] / chunk, e = c + value_bytes(g, v, chunk) / chunk; c < e; ++c)
      if (holds[c] != tag[v]) return false;
    return true;
  };
  for (ValueId v = 0; v < g.size(); ++v) {
    const Node& n = g.node(v);
    for (ValueId in : n.inputs) {
      if (outside_arena(in)) continue;
      ASSERT_TRUE(intact(in)) << g.describe(in) << " was overwritten before " << g.describe(v)
                              << " read it\n"
                              << g.str();
    }
    if (outside_arena(v) || plan.alias_of[v] != kNoValue) continue;
    int64_t lo = plan.offsets[v], hi = lo + value_bytes(g, v, chunk);
    for (ValueId in : n.inputs) {
      if (outside_arena(in)) continue;
      int64_t ilo = plan.offsets[in], ihi = ilo + value_bytes(g, in, chunk);
      if (ihi <= lo || hi <= ilo) continue;
      // Overwriting an input is only correct elementwise, in lockstep, without broadcast.
      ASSERT_TRUE(opt.in_place) << g.describe(v) << " overwrites " << g.describe(in);
      ASSERT_TRUE(is_elementwise(n.op)) << g.describe(v);
      ASSERT_EQ(ilo, lo) << g.describe(v);
      ASSERT_EQ(g.type(in).shape.numel(), n.type.shape.numel()) << g.describe(v);
    }
    for (int64_t c = lo / chunk; c < hi / chunk; ++c) holds[c] = v;
  }
  for (ValueId o : g.outputs()) {
    if (!outside_arena(o)) {
      EXPECT_TRUE(intact(o)) << "output " << g.describe(o) << " clobbered";
    }
  }
  for (const Graph::Update& u : g.updates()) {
    if (!outside_arena(u.value)) {
      EXPECT_TRUE(intact(u.value)) << "update " << g.describe(u.value) << " clobbered";
    }
  }
}

TEST(MemoryPlan, ChainRunsInPlace) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {1024});
  ValueId e = b.exp(x);
  ValueId r = b.relu(e);
  ValueId n = b.neg(r);
  b.output(n);
  Graph g = b.finish();
  MemoryPlan p = plan_memory(g);
  check_plan(g, p, {});
  EXPECT_EQ(p.naive_bytes, 3 * 4096);
  EXPECT_EQ(p.arena_bytes, 4096);
  EXPECT_EQ(p.offsets[e], p.offsets[r]);
  EXPECT_EQ(p.offsets[r], p.offsets[n]);
  EXPECT_EQ(p.alias_of[r], kNoValue);  // in place, yet computed by its own kernel

  MemoryPlanOptions copy{64, false};
  MemoryPlan q = plan_memory(g, copy);
  check_plan(g, q, copy);
  EXPECT_EQ(q.arena_bytes, 2 * 4096);  // ping-pong between two buffers
  EXPECT_EQ(q.offsets[e], q.offsets[n]);
  EXPECT_NE(q.offsets[e], q.offsets[r]);
}

TEST(MemoryPlan, ReshapeOfAnArenaValueIsAnAlias) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {4, 8});
  ValueId e = b.exp(x);
  ValueId r = b.reshape(e, {32});  // alias: keeps e's storage alive
  ValueId s = b.sigmoid(x);        // must not land on e's storage
  ValueId sr = b.reshape(s, {32});
  ValueId y = b.add(r, sr);
  ValueId xr = b.reshape(x, {32});  // of an input: a copy into the arena
  b.output(y);
  b.output(b.mul(xr, y));
  Graph g = b.finish();
  MemoryPlan p = plan_memory(g);
  check_plan(g, p, {});
  EXPECT_EQ(p.alias_of[r], e);
  EXPECT_EQ(p.offsets[r], p.offsets[e]);
  EXPECT_EQ(p.alias_of[sr], s);
  EXPECT_EQ(p.alias_of[xr], kNoValue);
  EXPECT_GE(p.offsets[xr], 0);
  EXPECT_NE(p.offsets[s], p.offsets[e]);
}

TEST(MemoryPlan, OutputsAndUpdatesLiveToTheEnd) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {256});
  ValueId w = b.parameter("w", Tensor::zeros(kF32, {256}));
  ValueId e = b.exp(x);
  ValueId f = b.neg(e);  // e is an output: f must not overwrite it
  ValueId u = b.add(w, f);
  ValueId later = b.tanh(b.sqrt(x));
  b.output(e);
  b.output(later);
  b.update(w, u);
  Graph g = b.finish();
  MemoryPlan p = plan_memory(g);
  check_plan(g, p, {});
  EXPECT_NE(p.offsets[e], p.offsets[f]);
  EXPECT_NE(p.offsets[u], p.offsets[later]);
}

// The optimizer's new values go straight into the parameters when nothing reads the old
// value afterwards; otherwise they wait in the arena for the end of the step.
TEST(MemoryPlan, UpdatesAreComputedIntoTheirParameters) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {256});
  ValueId w = b.parameter("w", Tensor::zeros(kF32, {256}));
  ValueId v = b.parameter("v", Tensor::zeros(kF32, {256}));
  ValueId s = b.parameter("s", Tensor::zeros(kF32, {}));
  ValueId w_new = b.sub(w, b.mul(x, b.scalar(0.1)));
  ValueId v_new = b.add(v, x);
  ValueId late = b.mul(v, b.exp(x));        // reads v after v_new: v_new cannot overwrite v
  ValueId s_new = b.reduce_sum(w_new, {});  // not elementwise
  b.output(late);
  b.output(w_new);  // read from w after the step, as a value of the step
  b.update(w, w_new);
  b.update(v, v_new);
  b.update(s, s_new);
  Graph g = b.finish();
  MemoryPlan p = plan_memory(g);
  check_plan(g, p, {});
  EXPECT_EQ(p.writes_parameter[w_new], w);
  EXPECT_EQ(p.offsets[w_new], -1);
  EXPECT_EQ(p.writes_parameter[v_new], kNoValue);
  EXPECT_GE(p.offsets[v_new], 0);
  EXPECT_EQ(p.writes_parameter[s_new], kNoValue);
  MemoryPlanOptions off;
  off.update_in_place = false;
  MemoryPlan q = plan_memory(g, off);
  check_plan(g, q, off);
  EXPECT_EQ(q.writes_parameter[w_new], kNoValue);
  EXPECT_GT(q.arena_bytes, p.arena_bytes);

  // Run on both host backends: the update lands in w, the output is the new value.
  for (const char* backend : {"ref", "cpu"}) {
    SCOPED_TRACE(backend);
    Graph run = g;
    for (ValueId id : run.parameters())
      run.mutable_node(id).value = Tensor::full(kF32, run.type(id).shape, 1.0);
    auto exe = backend_registry().get(backend).compile(run, CompileOptions{});
    Tensor xv = Tensor::full(kF32, {256}, 2.0);
    const auto& out = exe->run(std::vector<Tensor>{xv});
    EXPECT_FLOAT_EQ(static_cast<float>(out[1].get(7)), 0.8f);
    EXPECT_FLOAT_EQ(static_cast<float>(run.node(w).value.get(7)), 0.8f);
    EXPECT_FLOAT_EQ(static_cast<float>(run.node(v).value.get(7)), 3.0f);
    EXPECT_NEAR(run.node(s).value.get(0), 0.8 * 256, 1e-3);
  }
}

TEST(MemoryPlan, BroadcastInputsAreNotOverwritten) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {16});
  ValueId m = b.input("m", kF32, {1, 16});
  ValueId e = b.exp(x);  // [16], dies at the add whose output is [1, 16]
  ValueId y = b.add(e, m);
  b.output(y);
  Graph g = b.finish();
  MemoryPlan p = plan_memory(g);
  check_plan(g, p, {});
  EXPECT_NE(p.offsets[e], p.offsets[y]);  // shapes differ, so no in-place
}

TEST(MemoryPlan, AlignmentAndErrors) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {3});
  ValueId y = b.add(b.exp(x), b.tanh(x));
  b.output(y);
  Graph g = b.finish();
  MemoryPlanOptions opt{256, true};
  MemoryPlan p = plan_memory(g, opt);
  check_plan(g, p, opt);
  EXPECT_EQ(p.naive_bytes, 3 * 256);
  EXPECT_EQ(p.arena_bytes, 2 * 256);
  EXPECT_THROW(plan_memory(g, {0, true}), Error);

  GraphBuilder d;
  d.output(d.exp(d.input("x", kF32, {kDynamic, 3})));
  EXPECT_THROW(plan_memory(d.finish()), Error);
}

// Random graphs of elementwise, broadcasting, reshape, matmul and reduction nodes, with
// random outputs and updates: the simulated step must never read clobbered data.
TEST(MemoryPlan, RandomGraphsNeverOverlapLiveValues) {
  const std::vector<Shape> shapes = {{8, 16}, {16}, {8, 1}, {128}, {16, 8}, {8, 8}};
  Rng rng(11);
  double total_arena = 0, total_naive = 0;
  for (int trial = 0; trial < 300; ++trial) {
    GraphBuilder b;
    std::vector<ValueId> pool;
    std::vector<ValueId> params;
    for (int k = 0; k < 3; ++k)
      pool.push_back(b.input(fmt::format("in{}", k), kF32, shapes[rng.next_below(6)]));
    for (int k = 0; k < 2; ++k) {
      params.push_back(
          b.parameter(fmt::format("p{}", k), Tensor::zeros(kF32, shapes[rng.next_below(6)])));
      pool.push_back(params.back());
    }
    int nodes = 5 + static_cast<int>(rng.next_below(30));
    for (int k = 0; k < nodes; ++k) {
      // Prefer recent values so chains (and in-place chances) form.
      auto pick = [&] {
        size_t span = std::min<size_t>(pool.size(), 6);
        return rng.next_uniform() < 0.7 ? pool[pool.size() - 1 - rng.next_below(span)]
                                        : pool[rng.next_below(pool.size())];
      };
      ValueId a = pick();
      const Shape& sa = b.shape(a);
      double r = rng.next_uniform();
      try {
        if (r < 0.3) {
          pool.push_back(b.emit(rng.next_below(2) ? OpKind::kExp : OpKind::kTanh, {a}));
        } else if (r < 0.6) {
          pool.push_back(b.emit(rng.next_below(2) ? OpKind::kAdd : OpKind::kMul, {a, pick()}));
        } else if (r < 0.75 && sa.numel() == 128) {
          Shape to =
              rng.next_below(2) ? Shape{128} : (rng.next_below(2) ? Shape{8, 16} : Shape{16, 8});
          if (to != sa) pool.push_back(b.reshape(a, to));
        } else if (r < 0.85 && sa.rank() == 2 && sa[0] == 8 && sa[1] == 16) {
          pool.push_back(b.matmul(a, b.reshape(pick(), {16, 8})));
        } else if (r < 0.95 && sa.rank() == 2) {
          pool.push_back(b.reduce_sum(a, {1}, true));
        } else {
          pool.push_back(b.cast(b.emit(OpKind::kGreater, {a, a}), kF32));
        }
      } catch (const Error&) {
        // shapes that do not broadcast or reshape: draw again
      }
    }
    int outs = 1 + static_cast<int>(rng.next_below(3));
    for (int k = 0; k < outs; ++k) b.output(pool[pool.size() - 1 - rng.next_below(4)]);
    for (ValueId p : params) {
      for (size_t k = pool.size(); k-- > 0;) {
        if (pool[k] != p && b.type(pool[k]) == b.type(p) && !is_leaf(b.graph(), pool[k]) &&
            rng.next_below(2)) {
          b.update(p, pool[k]);
          break;
        }
      }
    }
    Graph g = b.finish();
    for (bool in_place : {true, false}) {
      MemoryPlanOptions opt{64, in_place, in_place};
      MemoryPlan p = plan_memory(g, opt);
      ASSERT_NO_FATAL_FAILURE(check_plan(g, p, opt)) << "trial " << trial;
      if (in_place) {
        total_arena += static_cast<double>(p.arena_bytes);
        total_naive += static_cast<double>(p.naive_bytes);
      }
    }
    // Fused graphs plan too (fused nodes may run in place).
    Graph f = fuse_elementwise(g);
    MemoryPlan pf = plan_memory(f);
    ASSERT_NO_FATAL_FAILURE(check_plan(f, pf, {})) << "fused trial " << trial;
  }
  std::printf("random graphs: arena %.0f B vs naive %.0f B (%.1f%%)\n", total_arena, total_naive,
              100.0 * total_arena / total_naive);
  EXPECT_LT(total_arena, 0.7 * total_naive);
}

// One SGD step of a 784-256-10 MLP with a softmax cross-entropy loss, gradients written
// out by hand (so the test does not depend on autodiff): the arena is far below naive.
Graph mlp_training_step(int64_t batch) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {batch, 784});
  ValueId labels = b.input("labels", kI32, {batch});
  ValueId w1 = b.parameter("w1", Tensor::full(kF32, {784, 256}, 0.01));
  ValueId b1 = b.parameter("b1", Tensor::zeros(kF32, {256}));
  ValueId w2 = b.parameter("w2", Tensor::full(kF32, {256, 10}, 0.01));
  ValueId b2 = b.parameter("b2", Tensor::zeros(kF32, {10}));
  ValueId lr = b.scalar(0.1);
  ValueId a1 = b.add(b.matmul(x, w1), b1);
  ValueId h1 = b.relu(a1);
  ValueId logits = b.add(b.matmul(h1, w2), b2);
  ValueId loss = b.reduce_mean(b.cross_entropy(logits, labels), {});
  b.output(loss);
  // d loss / d logits = (softmax - one_hot) / batch
  ValueId dlogits = b.mul(b.sub(b.softmax(logits, -1), b.one_hot(labels, 10)),
                          b.scalar(1.0 / static_cast<double>(batch)));
  ValueId dw2 = b.matmul(h1, dlogits, /*transpose_a=*/true);
  ValueId db2 = b.reduce_sum(dlogits, {0});
  ValueId dh1 = b.matmul(dlogits, w2, false, /*transpose_b=*/true);
  ValueId mask = b.cast(b.compare(OpKind::kGreater, a1, b.scalar(0.0)), kF32);
  ValueId da1 = b.mul(dh1, mask);
  ValueId dw1 = b.matmul(x, da1, /*transpose_a=*/true);
  ValueId db1 = b.reduce_sum(da1, {0});
  b.update(w1, b.sub(w1, b.mul(lr, dw1)));
  b.update(b1, b.sub(b1, b.mul(lr, db1)));
  b.update(w2, b.sub(w2, b.mul(lr, dw2)));
  b.update(b2, b.sub(b2, b.mul(lr, db2)));
  return b.finish();
}

TEST(MemoryPlan, MlpTrainingStepNeedsMuchLessThanNaive) {
  for (int64_t batch : {32, 128}) {
    Graph g = mlp_training_step(batch);
    g.validate();
    MemoryPlan p = plan_memory(g);
    check_plan(g, p, {});
    MemoryPlan q = plan_memory(g, {64, false});
    check_plan(g, q, {64, false});
    Graph f = fuse_elementwise(g);
    MemoryPlan pf = plan_memory(f);
    check_plan(f, pf, {});
    std::printf(
        "mlp step, batch %lld: arena %lld B, no in-place %lld B, naive %lld B (%.1f%%); "
        "fused: arena %lld B, naive %lld B\n",
        static_cast<long long>(batch), static_cast<long long>(p.arena_bytes),
        static_cast<long long>(q.arena_bytes), static_cast<long long>(p.naive_bytes),
        100.0 * static_cast<double>(p.arena_bytes) / static_cast<double>(p.naive_bytes),
        static_cast<long long>(pf.arena_bytes), static_cast<long long>(pf.naive_bytes));
    EXPECT_LT(p.arena_bytes, p.naive_bytes / 2);
    EXPECT_LE(p.arena_bytes, q.arena_bytes);
    // The three [784, 256] gradient-and-update values fit in one buffer, in place.
    EXPECT_LT(p.arena_bytes, 2 * 784 * 256 * 4 + batch * 1024 * 4);
  }
}

// A whole training step through the kernel executables (arena, aliases, in-place, and on
// cpu fused nodes): the loss and the new parameters match a node-by-node ref evaluation.
TEST(MemoryPlan, MlpTrainingStepRunsOnThePlannedArena) {
  Graph g = mlp_training_step(8);
  if (!testing::ref_supports(g)) GTEST_SKIP() << "the ref backend lacks a kernel here (yet)";
  Rng rng(12);
  std::vector<Tensor> in = {testing::random_tensor(rng, {8, 784}),
                            Tensor::from_vector<int>({0, 1, 2, 3, 9, 8, 7, 0}, {8}, kI32)};
  for (ValueId p : g.parameters()) rng.fill_normal(g.mutable_node(p).value, 0.0, 0.05);
  std::vector<Tensor> want = testing::ref_node_by_node(g, in);
  std::vector<Tensor> params0;
  for (ValueId p : g.parameters()) params0.push_back(g.node(p).value.clone());

  for (const char* backend : {"ref", "cpu"}) {
    if (!testing::backend_supports(g, backend)) {
      std::printf("mlp step: the %s backend does not support it yet\n", backend);
      continue;
    }
    for (size_t k = 0; k < params0.size(); ++k)
      g.mutable_node(g.parameters()[k]).value.copy_from(params0[k]);
    auto exe = backend_registry().get(backend).compile(g, CompileOptions{});
    const auto& out = exe->run(in);
    double tol = std::string(backend) == "ref" ? 1e-6 : 1e-4;
    testing::expect_close(out[0], want[g.outputs()[0]], tol);
    for (const Graph::Update& u : g.updates())
      testing::expect_close(g.node(u.parameter).value, want[u.value], tol);
    EXPECT_LT(exe->arena_bytes(), plan_memory(g).naive_bytes);
  }
}

// The plan drives the shared kernel executable: results must not depend on it.
TEST(MemoryPlan, KernelExecutableRunsWithThePlan) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {4, 8});
  ValueId w = b.parameter("w", Tensor::full(kF32, {8, 8}, 0.125));
  ValueId h = b.tanh(b.exp(b.matmul(x, w)));
  ValueId r = b.reshape(h, {32});
  ValueId y = b.add(b.neg(r), b.reshape(b.sigmoid(x), {32}));
  b.output(y);
  b.output(h);
  Graph g = b.finish();
  if (!testing::ref_supports(g)) GTEST_SKIP() << "the ref backend lacks a kernel here (yet)";
  Rng rng(9);
  Tensor xv = testing::random_tensor(rng, {4, 8});
  auto exe = backend_registry().get("ref").compile(g, CompileOptions{false, false});
  const auto& out = exe->run(std::vector<Tensor>{xv});
  auto want = testing::eval_outputs(g, {xv});
  testing::expect_close(out[0], want[0]);
  testing::expect_close(out[1], want[1]);
  EXPECT_LT(exe->arena_bytes(), plan_memory(g).naive_bytes);
}

}  // namespace
}  // namespace tessera
