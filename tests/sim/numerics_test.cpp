// The matrix unit's numerics: bf16 and int8 GEMMs against plain scalar references, bit for
// bit; hand-checked rounding and quantization; per-channel and per-tensor weight scales;
// the scheduler routing matmul and conv2d to the numerics backend; the functional model.
#include "tessera/sim/numerics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "tessera/backends/scheduler.h"
#include "tessera/core/error.h"
#include "tessera/core/rng.h"
#include "tessera/core/thread_pool.h"
#include "tessera/ir/builder.h"
#include "tessera/sim/functional.h"
#include "tessera/sim/numerics_backend.h"

namespace tessera::sim {
namespace {

// --- Scalar references (independent of the kernels' code paths) ------------------------

float bf16(float v) {
  uint16_t h = 0;
  store_f32(v, &h, kBF16);
  return load_f32(&h, kBF16);
}

int8_t q8(float x, float s) {
  const float r = x / s;
  if (std::isnan(r)) return 0;
  return static_cast<int8_t>(std::clamp(std::nearbyint(r), -127.0f, 127.0f));
}

// C = A B in the bf16 order: blocks of `fold` k (0: one block) summed from 0, then added.
std::vector<float> ref_bf16(int64_t m, int64_t n, int64_t k, const std::vector<float>& a,
                            const std::vector<float>& b, int64_t fold) {
  const int64_t block = fold > 0 ? fold : std::max<int64_t>(k, 1);
  std::vector<float> c(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float acc = 0;
      for (int64_t k0 = 0; k0 < k; k0 += block) {
        float part = 0;
        for (int64_t kk = k0; kk < std::min(k, k0 + block); ++kk)
          part += bf16(a[i * k + kk]) * bf16(b[kk * n + j]);
        acc += part;
      }
      c[i * n + j] = acc;
    }
  return c;
}

std::vector<float> ref_int8(int64_t m, int64_t n, int64_t k, const std::vector<int8_t>& a,
                            const std::vector<int8_t>& b, const std::vector<float>& sa,
                            const std::vector<float>& sb) {
  std::vector<float> c(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int64_t acc = 0;
      for (int64_t kk = 0; kk < k; ++kk) acc += int64_t{a[i * k + kk]} * b[kk * n + j];
      EXPECT_LE(std::abs(acc), int64_t{std::numeric_limits<int32_t>::max()});
      c[i * n + j] = static_cast<float>(static_cast<int32_t>(acc)) * (sa[i] * sb[j]);
    }
  return c;
}

std::vector<float> random_vector(int64_t n, uint64_t seed, double lo = -2, double hi = 2) {
  Tensor t = Tensor::zeros(kF32, {n});
  Rng(seed).fill_uniform(t, lo, hi);
  return t.to_f32_vector();
}

Tensor random_tensor(const Shape& s, uint64_t seed, double stddev = 1) {
  Tensor t = Tensor::zeros(kF32, s);
  Rng(seed).fill_normal(t, 0, stddev);
  return t;
}

void expect_bits_equal(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_EQ(std::memcmp(&got[i], &want[i], sizeof(float)), 0)
        << "element " << i << ": " << got[i] << " vs " << want[i];
}

// --- Names, rounding, quantization -----------------------------------------------------

TEST(Numerics, ParsesNamesAndRejectsOthersNamingTheSource) {
  EXPECT_EQ(parse_numerics("f32", "x").mode, NumericsMode::kF32);
  EXPECT_EQ(parse_numerics("bf16", "x").str(), "bf16");
  EXPECT_EQ(parse_numerics("int8", "x").str(), "int8 per-channel");
  EXPECT_EQ(parse_numerics("int8-per-tensor", "x").str(), "int8 per-tensor");
  EXPECT_EQ((TargetNumerics{NumericsMode::kBF16, true, 128}).str(), "bf16 fold 128");
  try {
    parse_numerics("fp8", "tpu.yaml line 3, field numerics");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(m.find("tpu.yaml line 3, field numerics"), std::string::npos) << m;
    EXPECT_NE(m.find("'fp8'"), std::string::npos) << m;
    EXPECT_NE(m.find("int8-per-tensor"), std::string::npos) << m;
  }
}

TEST(Numerics, Bf16RoundsToNearestEven) {
  const float x[] = {1.0f + 0x1p-8f,             // halfway between 1 and 1 + 2^-7: to 1 (even)
                     1.0f + 3 * 0x1p-8f,         // halfway to 1 + 2^-6 (even)
                     1.0f + 0x1p-8f + 0x1p-20f,  // just above halfway: up
                     -3.0f, 0.0f};
  float out[5];
  round_to_bf16(x, out, 5);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], 1.0f + 0x1p-6f);
  EXPECT_EQ(out[2], 1.0f + 0x1p-7f);
  EXPECT_EQ(out[3], -3.0f);
  EXPECT_EQ(out[4], 0.0f);
}

TEST(Numerics, Int8QuantizationTiesToEvenAndClampsSymmetrically) {
  // Scale 0.5: x / s = 2x.
  const float x[] = {0.25f, 0.75f,  1.25f,  -0.25f,  -0.75f,  -1.25f,
                     63.0f, 63.25f, 100.0f, -100.0f, -63.75f, std::nanf("")};
  const int8_t want[] = {0, 2, 2, 0, -2, -2, 126, 126, 127, -127, -127, 0};
  int8_t q[12];
  quantize_int8(x, 12, 0.5f, q);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(q[i], want[i]) << "x = " << x[i];

  EXPECT_EQ(int8_scale(0.0f, "t"), 1.0f);
  EXPECT_EQ(int8_scale(12.7f, "t"), 12.7f / 127.0f);
  EXPECT_THROW(int8_scale(std::numeric_limits<float>::infinity(), "t"), Error);

  // Per channel: [outer 2, channels 3, inner 2], each channel its own scale.
  const std::vector<float> v = random_vector(12, 5);
  const float scales[] = {0.01f, 0.02f, 0.5f};
  int8_t qc[12];
  quantize_int8_per_channel(v.data(), 2, 3, 2, scales, qc);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(qc[i], q8(v[i], scales[(i / 2) % 3])) << i;
}

// --- GEMMs against the references ------------------------------------------------------

TEST(Numerics, Bf16GemmMatchesTheDefinedOrderBitForBit) {
  const int64_t m = 7, n = 133, k = 301;  // odd sizes: partial row groups and column tiles
  std::vector<float> a = random_vector(m * k, 1), b = random_vector(k * n, 2);
  std::vector<float> ra(a.size()), rb(b.size());
  round_to_bf16(a.data(), ra.data(), m * k);
  round_to_bf16(b.data(), rb.data(), k * n);
  for (int64_t fold : {0, 1, 3, 128, 301, 1000}) {
    std::vector<float> c(static_cast<size_t>(m * n));
    gemm_bf16(m, n, k, ra.data(), k, rb.data(), n, c.data(), n, fold);
    SCOPED_TRACE("fold_rows " + std::to_string(fold));
    expect_bits_equal(c, ref_bf16(m, n, k, a, b, fold));
  }
  // Folding changes the order, hence (generally) the bits: the two orders differ somewhere.
  std::vector<float> c0(static_cast<size_t>(m * n)), c3(c0.size());
  gemm_bf16(m, n, k, ra.data(), k, rb.data(), n, c0.data(), n, 0);
  gemm_bf16(m, n, k, ra.data(), k, rb.data(), n, c3.data(), n, 3);
  EXPECT_NE(c0, c3);
}

TEST(Numerics, Int8GemmIsExactInt32) {
  const int64_t m = 5, n = 131, k = 2100;  // k spans several exact f32 blocks
  std::vector<int8_t> a(static_cast<size_t>(m * k)), b(static_cast<size_t>(k * n));
  std::vector<float> ua = random_vector(m * k, 3, -127.4, 127.4);
  std::vector<float> ub = random_vector(k * n, 4, -127.4, 127.4);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<int8_t>(std::lround(ua[i]));
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<int8_t>(std::lround(ub[i]));
  // The extreme: a row and a column of 127s, whose sum (k · 16129) is far past 2^24.
  for (int64_t kk = 0; kk < k; ++kk) {
    a[static_cast<size_t>(kk)] = 127;
    b[static_cast<size_t>(kk * n)] = -127;
  }
  std::vector<float> sa = random_vector(m, 6, 0.001, 0.1), sb = random_vector(n, 7, 0.001, 0.1);
  std::vector<float> c(static_cast<size_t>(m * n));
  gemm_int8(m, n, k, a.data(), k, b.data(), n, sa.data(), sb.data(), c.data(), n);
  expect_bits_equal(c, ref_int8(m, n, k, a, b, sa, sb));
  EXPECT_THROW(gemm_int8(1, 1, kInt8MaxDepth + 1, a.data(), k, b.data(), n, sa.data(), sb.data(),
                         c.data(), n),
               Error);
}

TEST(Numerics, GemmsGiveTheSameBitsOnAnyThreadCount) {
  const int64_t m = 64, n = 96, k = 200;
  std::vector<float> a = random_vector(m * k, 8), b = random_vector(k * n, 9);
  round_to_bf16(a.data(), a.data(), m * k);
  round_to_bf16(b.data(), b.data(), k * n);
  auto run = [&](int threads) {
    set_num_threads(threads);
    std::vector<float> c(static_cast<size_t>(m * n));
    gemm_bf16(m, n, k, a.data(), k, b.data(), n, c.data(), n, 16);
    return c;
  };
  const int saved = num_threads();
  std::vector<float> one = run(1), two = run(2), three = run(3);
  set_num_threads(saved);
  expect_bits_equal(two, one);
  expect_bits_equal(three, one);
}

// --- Through the graph: the numerics backend --------------------------------------------

// x [N, K] times a weight whose columns differ in magnitude by 1000x.
Graph dense_graph(const Tensor& w) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, w.shape()[0]});
  b.output(b.relu(b.matmul(x, b.parameter("w", w))));
  return b.finish();
}

Tensor uneven_weight(int64_t k, int64_t n) {
  Tensor w = random_tensor({k, n}, 11);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < n; ++j) w.set(i * n + j, w.get(i * n + j) * (j % 2 == 0 ? 1.0 : 0.001));
  return w;
}

// The int8 matmul with an explicit activation scale, per channel or per tensor, by hand.
std::vector<float> int8_by_hand(const Tensor& x, const Tensor& w, float sx, bool per_channel) {
  const int64_t m = x.shape()[0], k = x.shape()[1], n = w.shape()[1];
  std::vector<float> xv = x.to_f32_vector(), wv = w.to_f32_vector();
  std::vector<float> col_max(static_cast<size_t>(n), 0.0f);
  float all = 0;
  for (int64_t i = 0; i < k * n; ++i) {
    col_max[static_cast<size_t>(i % n)] =
        std::max(col_max[static_cast<size_t>(i % n)], std::fabs(wv[i]));
    all = std::max(all, std::fabs(wv[i]));
  }
  std::vector<float> sw(static_cast<size_t>(n)), sa(static_cast<size_t>(m), sx);
  for (int64_t j = 0; j < n; ++j) sw[j] = (per_channel ? col_max[j] : all) / 127.0f;
  std::vector<int8_t> qx(xv.size()), qw(wv.size());
  for (int64_t i = 0; i < m * k; ++i) qx[i] = q8(xv[i], sx);
  for (int64_t i = 0; i < k * n; ++i) qw[i] = q8(wv[i], sw[i % n]);
  std::vector<float> c = ref_int8(m, n, k, qx, qw, sa, sw);
  for (float& v : c) v = std::max(v, 0.0f);  // the relu, in f32 on cpu
  return c;
}

TEST(NumericsBackend, Int8PerChannelAndPerTensorMatchTheRuleBitForBit) {
  const int64_t m = 6, k = 40, n = 10;
  Tensor w = uneven_weight(k, n), x = random_tensor({m, k}, 12);
  Graph g = dense_graph(w);
  ValueId mm = kNoValue;
  for (ValueId id = 0; id < g.size(); ++id)
    if (g.node(id).op == OpKind::kMatMul) mm = id;
  const float sx = 3.5f / 127.0f;
  g.mutable_node(mm).attrs.set(kScaleAttrs[0], static_cast<double>(sx));

  Program f32 = compile_program(g, {.batch = m});
  const std::vector<float> exact = f32.run({&x, 1})[0].to_f32_vector();
  double err[2] = {0, 0};
  for (bool per_channel : {true, false}) {
    auto mxu = make_numerics_backend({NumericsMode::kInt8, per_channel, 0});
    Program p = compile_program(g, {.batch = m, .custom = {mxu}});
    EXPECT_EQ(p.assignment()[mm], "numerics-int8");
    std::vector<float> got = p.run({&x, 1})[0].to_f32_vector();
    expect_bits_equal(got, int8_by_hand(x, w, sx, per_channel));
    // Error on the small columns, where one shared scale wastes the int8 range.
    for (int64_t i = 0; i < m * n; ++i)
      if (i % 2 == 1) err[per_channel ? 0 : 1] += std::fabs(got[i] - exact[i]);
  }
  EXPECT_LT(err[0] * 10, err[1]) << "per-channel " << err[0] << ", per-tensor " << err[1];
}

TEST(NumericsBackend, Int8WithoutCalibrationIsNotSupported) {
  Graph g = dense_graph(random_tensor({4, 3}, 13));
  ValueId mm = g.outputs()[0] - 1;
  ASSERT_EQ(g.node(mm).op, OpKind::kMatMul);
  TargetNumerics int8{NumericsMode::kInt8};
  EXPECT_FALSE(make_numerics_backend(int8)->supports(g, mm));
  EXPECT_NE(numerics_unsupported_reason(g, mm, int8).find("calibrate"), std::string::npos);
  EXPECT_TRUE(make_numerics_backend({NumericsMode::kBF16})->supports(g, mm));
  EXPECT_THROW(make_numerics_backend(TargetNumerics{}), Error);  // f32 needs none
}

// conv2d by hand in bf16: k in (kh, kw, c) order, one f32 sum from 0.
std::vector<float> conv_bf16_by_hand(const Tensor& x, const Tensor& w, int64_t pad) {
  const int64_t N = x.shape()[0], H = x.shape()[1], W = x.shape()[2], C = x.shape()[3];
  const int64_t KH = w.shape()[0], KW = w.shape()[1], OC = w.shape()[3];
  const int64_t OH = H + 2 * pad - KH + 1, OW = W + 2 * pad - KW + 1;
  std::vector<float> xv = x.to_f32_vector(), wv = w.to_f32_vector(), y;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow)
        for (int64_t o = 0; o < OC; ++o) {
          float acc = 0;
          for (int64_t i = 0; i < KH; ++i)
            for (int64_t j = 0; j < KW; ++j)
              for (int64_t c = 0; c < C; ++c) {
                const int64_t ih = oh - pad + i, iw = ow - pad + j;
                const float xin = ih < 0 || ih >= H || iw < 0 || iw >= W
                                      ? 0.0f
                                      : xv[((n * H + ih) * W + iw) * C + c];
                acc += bf16(xin) * bf16(wv[((i * KW + j) * C + c) * OC + o]);
              }
          y.push_back(acc);
        }
  return y;
}

TEST(NumericsBackend, SchedulerRoutesMatmulAndConvToTheMatrixUnit) {
  Tensor w = random_tensor({3, 3, 2, 4}, 14), v = random_tensor({4, 5}, 15);
  Tensor x = random_tensor({2, 6, 5, 2}, 16);
  GraphBuilder b;
  ValueId in = b.input("x", kF32, {kDynamic, 6, 5, 2});
  ValueId conv = b.conv2d(in, b.parameter("w", w), {1, 1}, {1, 1, 1, 1});
  ValueId act = b.relu(conv);
  ValueId mm = b.matmul(act, b.parameter("v", v));
  b.output(mm);
  b.output(conv);
  Graph g = b.finish();

  auto mxu = make_numerics_backend({NumericsMode::kBF16});
  Program p = compile_program(g, {.batch = 2, .custom = {mxu}});
  for (ValueId id = 0; id < p.graph().size(); ++id) {
    const OpKind op = p.graph().node(id).op;
    if (op == OpKind::kConv2D || op == OpKind::kMatMul) {
      EXPECT_EQ(p.assignment()[id], "numerics-bf16") << p.graph().describe(id);
    } else if (op == OpKind::kRelu) {
      EXPECT_EQ(p.assignment()[id], "cpu");
    }
  }
  const std::vector<Tensor>& out = p.run({&x, 1});
  std::vector<float> conv_want = conv_bf16_by_hand(x, w, 1);
  expect_bits_equal(out[1].to_f32_vector(), conv_want);

  // The matmul over [2, 6, 5, 4] x [4, 5] reads the relu of the conv, in bf16.
  std::vector<float> h = conv_want, vv = v.to_f32_vector();
  for (float& e : h) e = std::max(e, 0.0f);
  expect_bits_equal(out[0].to_f32_vector(), ref_bf16(2 * 6 * 5, 5, 4, h, vv, 0));
}

TEST(NumericsBackend, Int8ConvolutionIsIm2colTimesPerChannelWeights) {
  const int64_t N = 2, H = 5, W = 4, C = 3, KH = 3, KW = 2, OC = 4, pad = 1;
  Tensor w = random_tensor({KH, KW, C, OC}, 17), x = random_tensor({N, H, W, C}, 18);
  GraphBuilder b;
  ValueId in = b.input("x", kF32, {kDynamic, H, W, C});
  b.output(b.conv2d(in, b.parameter("w", w), {1, 1}, {pad, pad, pad, pad}));
  Graph g = b.finish();
  ValueId conv = g.outputs()[0];
  const float sx = 2.5f / 127.0f;
  g.mutable_node(conv).attrs.set(kScaleAttrs[0], static_cast<double>(sx));
  auto mxu = make_numerics_backend({NumericsMode::kInt8, true, 0});
  Program p = compile_program(g, {.batch = N, .custom = {mxu}});
  EXPECT_EQ(p.assignment()[conv], "numerics-int8");
  std::vector<float> got = p.run({&x, 1})[0].to_f32_vector();

  // By hand: the HWIO filter is a [KH·KW·C, OC] matrix; im2col rows in (kh, kw, c) order,
  // zero padding quantizes to 0; one scale per output channel.
  const int64_t OH = H + 2 * pad - KH + 1, OW = W + 2 * pad - KW + 1, K = KH * KW * C;
  std::vector<float> xv = x.to_f32_vector(), wv = w.to_f32_vector();
  std::vector<float> sw(static_cast<size_t>(OC), 0.0f);
  for (int64_t i = 0; i < K * OC; ++i)
    sw[i % OC] = std::max(sw[i % OC], std::fabs(wv[i]));
  for (float& s : sw) s /= 127.0f;
  std::vector<int8_t> qw(static_cast<size_t>(K * OC)), qx;
  for (int64_t i = 0; i < K * OC; ++i) qw[i] = q8(wv[i], sw[i % OC]);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow)
        for (int64_t i = 0; i < KH; ++i)
          for (int64_t j = 0; j < KW; ++j)
            for (int64_t c = 0; c < C; ++c) {
              const int64_t ih = oh - pad + i, iw = ow - pad + j;
              const bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
              qx.push_back(inside ? q8(xv[((n * H + ih) * W + iw) * C + c], sx) : int8_t{0});
            }
  const int64_t M = N * OH * OW;
  std::vector<float> sa(static_cast<size_t>(M), sx);
  expect_bits_equal(got, ref_int8(M, OC, K, qx, qw, sa, sw));
}

// --- The functional model ------------------------------------------------------------

Graph mlp_graph(uint64_t seed) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 12});
  ValueId h = b.relu(b.matmul(x, b.parameter("w1", random_tensor({12, 16}, seed, 0.4))));
  b.output(b.softmax(b.matmul(h, b.parameter("w2", random_tensor({16, 5}, seed + 1, 0.4))), -1));
  return b.finish();
}

TEST(FunctionalModel, Int8NeedsCalibrationAndThenRunsEveryMatmulOnTheMatrixUnit) {
  Graph g = mlp_graph(20);
  Tensor x = random_tensor({50, 12}, 21);
  FunctionalModel fm(g, parse_numerics("int8", "test"));
  EXPECT_FALSE(fm.calibrated());
  EXPECT_THROW(fm.predict(x, 16), Error);
  fm.calibrate(x, 16);
  ASSERT_TRUE(fm.calibrated());
  int scaled = 0;
  for (const Node& n : fm.graph().nodes()) scaled += n.attrs.has(kScaleAttrs[0]);
  EXPECT_EQ(scaled, 2);  // the input of each matmul; the weights need none

  // Batches of 16 (with a partial one) give the bits of one batch of 50.
  Tensor a = fm.predict(x, 16), b = fm.predict(x, 50);
  expect_bits_equal(a.to_f32_vector(), b.to_f32_vector());
  Tensor ref = FunctionalModel(g, {}).predict(x, 50);
  std::vector<float> av = a.to_f32_vector(), rv = ref.to_f32_vector();
  for (size_t i = 0; i < av.size(); ++i) EXPECT_NEAR(av[i], rv[i], 0.05) << i;
}

TEST(FunctionalModel, AttentionGemmsRunInTheTargetNumerics) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 6, 8});
  ValueId q = b.matmul(x, b.parameter("wq", random_tensor({8, 8}, 30, 0.3)));
  ValueId k = b.matmul(x, b.parameter("wk", random_tensor({8, 8}, 31, 0.3)));
  b.output(b.attention(q, k, x, /*causal=*/true));
  Graph g = b.finish();
  Tensor in = random_tensor({3, 6, 8}, 32);
  for (const char* mode : {"bf16", "int8-per-tensor"}) {
    FunctionalModel fm(g, parse_numerics(mode, "test"));
    fm.calibrate(in, 3);
    int matmuls = 0;
    for (const Node& n : fm.graph().nodes()) matmuls += n.op == OpKind::kMatMul;
    EXPECT_EQ(matmuls, 4) << mode;  // two projections and attention's two GEMMs
    std::vector<float> got = fm.predict(in, 2).to_f32_vector();
    std::vector<float> want = FunctionalModel(g, {}).predict(in, 2).to_f32_vector();
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 0.1) << mode << " " << i;
  }
}

TEST(FunctionalModel, TooDeepForInt32IsAClearError) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, kInt8MaxDepth + 1});
  b.output(b.matmul(x, b.parameter("w_deep", Tensor::full(kF32, {kInt8MaxDepth + 1, 1}, 0.5))));
  Graph g = b.finish();
  FunctionalModel fm(g, parse_numerics("int8", "test"));
  Tensor in = Tensor::full(kF32, {1, kInt8MaxDepth + 1}, 1.0);
  fm.calibrate(in, 1);
  try {
    fm.predict(in, 1);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(m.find("matmul"), std::string::npos) << m;
    EXPECT_NE(m.find("133145"), std::string::npos) << m;
  }
}

TEST(FunctionalModel, MeasureAccuracyComparesTopOneWithTheF32Model) {
  Graph g = mlp_graph(40);
  Tensor x = random_tensor({64, 12}, 41);
  // Labels: the f32 model's own predictions, so the reference is exactly 1.
  Tensor scores = FunctionalModel(g, {}).predict(x, 64);
  Tensor y = Tensor::zeros(kI32, {64});
  for (int64_t i = 0; i < 64; ++i) {
    int64_t best = 0;
    for (int64_t c = 1; c < 5; ++c)
      if (scores.get(i * 5 + c) > scores.get(i * 5 + best)) best = c;
    y.set(i, static_cast<double>(best));
  }
  AccuracyReport r = measure_accuracy(g, parse_numerics("bf16", "test"), x, x, y, 32);
  EXPECT_EQ(r.numerics, "bf16");
  EXPECT_EQ(r.samples, 64);
  EXPECT_EQ(r.reference, 1.0);
  EXPECT_EQ(r.target, r.agreement);  // labels are the reference's predictions
  EXPECT_GT(r.agreement, 0.9);
  AccuracyReport same = measure_accuracy(g, TargetNumerics{}, x, x, y, 32);
  EXPECT_EQ(same.agreement, 1.0);
}

}  // namespace
}  // namespace tessera::sim
