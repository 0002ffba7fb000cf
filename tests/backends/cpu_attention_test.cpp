// The cpu streaming attention kernel against a naive reference written here (scores, softmax
// and weighted sum in double), at the shapes of a small transformer (batch 2, 4 heads,
// 128 positions, head_dim 64), on the AVX2 and scalar paths; decode steps against a KV cache
// with kv_len; and the window ops that write the cache.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "cpu_test_util.h"
#include "tessera/backends/scheduler.h"

namespace tessera {
namespace {

using cpu_test::both_paths;
using cpu_test::random_tensor;
using cpu_test::run_op;

// Naive attention in double: [heads, tq, d] x [heads, tk, d] x [heads, tk, dv].
std::vector<double> naive_attention(const Tensor& q, const Tensor& k, const Tensor& v, bool causal,
                                    int64_t len) {
  const Shape& qs = q.shape();
  int r = qs.rank();
  int64_t tq = qs[r - 2], d = qs[r - 1], tk = k.shape()[r - 2], dv = v.shape()[r - 1];
  int64_t heads = q.numel() / (tq * d);
  double scale = 1.0 / std::sqrt(static_cast<double>(d));
  const std::vector<float> qv = q.to_f32_vector(), kv = k.to_f32_vector(), vv = v.to_f32_vector();
  std::vector<double> out(static_cast<size_t>(heads * tq * dv), 0.0);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < tq; ++i) {
      int64_t seen = causal ? std::clamp<int64_t>(i + 1 + len - tq, 0, len) : len;
      std::vector<double> s(static_cast<size_t>(seen));
      double m = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < seen; ++j) {
        double dot = 0;
        for (int64_t c = 0; c < d; ++c)
          dot += double{qv[(h * tq + i) * d + c]} * kv[(h * tk + j) * d + c];
        s[j] = dot * scale;
        m = std::max(m, s[j]);
      }
      double sum = 0;
      for (double& x : s) sum += (x = std::exp(x - m));
      for (int64_t c = 0; c < dv; ++c) {
        double acc = 0;
        for (int64_t j = 0; j < seen; ++j) acc += s[j] * vv[(h * tk + j) * dv + c];
        out[(h * tq + i) * dv + c] = acc / sum;
      }
    }
  return out;
}

// Largest |got - want| relative to the largest |want| (outputs are weighted averages of v,
// so elementwise relative error is meaningless where an average is near 0), and elementwise
// relative error where |want| is not small.
void expect_matches(const Tensor& got, const std::vector<double>& want, double rtol) {
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size()));
  double scale = 0, worst = 0;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  for (int64_t i = 0; i < got.numel(); ++i) {
    double err = std::fabs(got.get(i) - want[i]);
    worst = std::max(worst, err / scale);
    if (std::fabs(want[i]) > 0.1 * scale) {
      ASSERT_LE(err, rtol * std::fabs(want[i]))
          << "at " << i << ": " << got.get(i) << " vs " << want[i];
    }
  }
  EXPECT_LE(worst, rtol);
}

TEST(CpuAttention, MatchesNaiveAtTransformerShapes) {
  const Shape s{2, 4, 128, 64};
  Tensor q = random_tensor(kF32, s, 1, -1, 1);
  Tensor k = random_tensor(kF32, s, 2, -1, 1);
  Tensor v = random_tensor(kF32, s, 3, -1, 1);
  for (bool causal : {false, true}) {
    SCOPED_TRACE(causal);
    std::vector<double> want = naive_attention(q, k, v, causal, 128);
    both_paths([&] {
      Tensor y = run_op(OpKind::kAttention, {q, k, v}, Attrs().set("causal", int64_t{causal}));
      expect_matches(y, want, 1e-5);
    });
  }
}

// A decode step: one query at position p sees the cache's first p + 1 keys, nothing after
// (stale values there must not matter).
TEST(CpuAttention, DecodeStepSeesOnlyTheFilledCache) {
  const int64_t context = 128;
  Tensor k = random_tensor(kF32, {1, 4, context, 64}, 4);
  Tensor v = random_tensor(kF32, {1, 4, context, 64}, 5);
  Tensor q = random_tensor(kF32, {1, 4, 1, 64}, 6);
  for (int64_t len : {1, 7, 64, 65, 128}) {
    SCOPED_TRACE(len);
    Tensor kv_len = Tensor::scalar(static_cast<double>(len), kI32);
    std::vector<double> want = naive_attention(q, k, v, true, len);
    Tensor poisoned_k = k.clone(), poisoned_v = v.clone();
    for (int64_t h = 0; h < 4; ++h)
      for (int64_t j = len; j < context; ++j)
        for (int64_t c = 0; c < 64; ++c) {
          poisoned_k.set((h * context + j) * 64 + c, 1e30);
          poisoned_v.set((h * context + j) * 64 + c, std::nan(""));
        }
    both_paths([&] {
      Tensor y = run_op(OpKind::kAttention, {q, poisoned_k, poisoned_v, kv_len},
                        Attrs().set("causal", int64_t{1}));
      expect_matches(y, want, 1e-5);
    });
  }
}

TEST(CpuAttention, HalfTypesRoundOnce) {
  const Shape s{1, 2, 40, 64};
  Tensor q = random_tensor(kF32, s, 7, -1, 1).to(kBF16);
  Tensor k = random_tensor(kF32, s, 8, -1, 1).to(kBF16);
  Tensor v = random_tensor(kF32, s, 9, -1, 1).to(kBF16);
  std::vector<double> want = naive_attention(q, k, v, true, 40);
  Tensor y = run_op(OpKind::kAttention, {q, k, v}, Attrs().set("causal", int64_t{1}));
  ASSERT_EQ(y.dtype(), kBF16);
  for (int64_t i = 0; i < y.numel(); ++i)
    EXPECT_NEAR(y.get(i), want[i], std::fabs(want[i]) * 1.0 / 128 + 1e-6) << i;
}

TEST(CpuWindows, UpdateThenSliceRoundTripsWithClamping) {
  Tensor cache = random_tensor(kF32, {2, 3, 10, 4}, 10);
  Tensor rows = random_tensor(kF32, {2, 3, 2, 4}, 11);
  for (int64_t start : {-5, 0, 3, 8, 9, 100}) {
    SCOPED_TRACE(start);
    Tensor st = Tensor::scalar(static_cast<double>(start), kI64);
    Tensor y = run_op(OpKind::kUpdateSlice, {cache, rows, st}, Attrs().set("axis", int64_t{2}));
    int64_t at = std::clamp<int64_t>(start, 0, 8);
    for (int64_t i = 0; i < y.numel(); ++i) {
      int64_t c = i % 4, t = i / 4 % 10, h = i / 40;
      bool inside = t >= at && t < at + 2;
      double want = inside ? rows.get((h * 2 + t - at) * 4 + c) : cache.get(i);
      ASSERT_EQ(y.get(i), want) << i;
    }
    Tensor back = run_op(OpKind::kDynamicSlice, {y, st},
                         Attrs().set("axis", int64_t{2}).set("size", int64_t{2}));
    for (int64_t i = 0; i < back.numel(); ++i) ASSERT_EQ(back.get(i), rows.get(i)) << i;
  }
}

// A cache appended to step after step in its own storage (the planner's in-place parameter
// write), on cpu and ref: each run writes its rows at the position fed, and nothing else.
TEST(CpuWindows, CacheAppendsInPlaceAcrossRuns) {
  for (const char* backend : {"cpu", "ref"}) {
    SCOPED_TRACE(backend);
    GraphBuilder b;
    ValueId rows = b.input("rows", kF32, {1, 2, 1, 3});
    ValueId pos = b.input("pos", kI32, {});
    Tensor storage = Tensor::zeros(kF32, {1, 2, 5, 3});
    ValueId cache = b.parameter("cache", storage, false);
    ValueId grown = b.update_slice(cache, rows, pos, 2);
    b.update(cache, grown);
    b.output(b.reduce_sum(grown, {}));
    Program p = compile_program(b.finish(), {.backends = {backend}});
    double total = 0;
    for (int step = 0; step < 5; ++step) {
      Tensor r = Tensor::full(kF32, {1, 2, 1, 3}, step + 1.0);
      Tensor inputs[] = {r, Tensor::scalar(step, kI32)};
      total += 6 * (step + 1.0);
      EXPECT_EQ(p.run(inputs)[0].get(0), total);
    }
    for (int64_t i = 0; i < storage.numel(); ++i)
      EXPECT_EQ(storage.get(i), static_cast<double>(i / 3 % 5 + 1)) << i;
  }
}

}  // namespace
}  // namespace tessera
