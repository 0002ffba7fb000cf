// Embedding, ReversibleEmbedding, PositionEmbedding, LayerNormalization, RMSNormalization and
// MultiHeadAttention against computations written here in double, on ref and cpu; attention
// dropout; JSON round trips; summaries; and the errors bad inputs raise.
#include <gtest/gtest.h>

#include <cmath>

#include "nn_test_util.h"
#include "tessera/core/rng.h"
#include "tessera/nn/attention.h"
#include "tessera/nn/embedding.h"
#include "tessera/nn/layers.h"
#include "tessera/nn/norm_layers.h"

namespace tessera::nn_test {
namespace {

using Mat = std::vector<double>;  // row-major

void expect_near_all(const Tensor& got, const Mat& want, double tol) {
  std::vector<float> g = got.to_f32_vector();
  ASSERT_EQ(g.size(), want.size());
  for (size_t i = 0; i < g.size(); ++i)
    EXPECT_NEAR(g[i], want[i], tol * std::max(1.0, std::fabs(want[i]))) << "at " << i;
}

Tensor random(const Shape& s, uint64_t seed, double lo = -1, double hi = 1) {
  Tensor t = Tensor::zeros(kF32, s);
  Rng rng(seed);
  rng.fill_uniform(t, lo, hi);
  return t;
}

Mat values(const Tensor& t) {
  std::vector<float> v = t.to_f32_vector();
  return Mat(v.begin(), v.end());
}

// ---- embeddings ---------------------------------------------------------------------

TEST(SequenceLayers, EmbeddingLooksUpRowsAndRejectsBadIds) {
  auto ids = Input({3}, kI32);
  LayerPtr e = Embedding(5, 2);
  Functional net({ids}, {e(ids)});
  EXPECT_EQ(net.output_types()[0], (TensorType{kF32, {kDynamic, 3, 2}}));
  EXPECT_EQ(e->weights()[0]->name, "embedding/embeddings");
  for (float v : e->weights()[0]->value.to_f32_vector()) {
    EXPECT_GE(v, -0.05f);
    EXPECT_LE(v, 0.05f);
  }
  e->weights()[0]->value = f32({0, 1, 10, 11, 20, 21, 30, 31, 40, 41}, {5, 2});
  for (const char* backend : {"ref", "cpu"})
    expect_near_all(run(net, {i32({4, 0, 2, 1, 1, 3}, {2, 3})}, {.backend = backend})[0],
                    {40, 41, 0, 1, 20, 21, 10, 11, 10, 11, 30, 31}, 0);
  expect_error(
      [&] {
        run(net, {i32({0, 5, 1}, {1, 3})}, {.backend = "cpu"});
      },
      {"gather", "index 5", "size 5"});
}

TEST(SequenceLayers, EmbeddingCastsFloatIds) {
  auto ids = Input({2});
  LayerPtr e = Embedding(3, 1);
  Functional net({ids}, {e(ids)});
  e->weights()[0]->value = f32({7, 8, 9}, {3, 1});
  expect_near_all(run(net, {f32({2, 0}, {1, 2})})[0], {9, 7}, 0);
}

TEST(SequenceLayers, ReversibleEmbeddingSharesItsTableWithTheHead) {
  auto ids = Input({2}, kI32);
  LayerPtr e = ReversibleEmbedding(3, 2);
  SymbolicTensor h = e(ids);
  SymbolicTensor logits = e(h);
  Functional net({ids}, {logits});
  EXPECT_EQ(net.output_types()[0], (TensorType{kF32, {kDynamic, 2, 3}}));
  EXPECT_EQ(net.count_params(), 6);
  e->weights()[0]->value = f32({1, 0, 0, 2, 1, 1}, {3, 2});
  // id 1 -> [0, 2] -> logits [0·1 + 2·0, 0·0 + 2·2, 0·1 + 2·1] = [0, 4, 2]
  expect_near_all(run(net, {i32({1, 2}, {1, 2})}, {.backend = "cpu"})[0], {0, 4, 2, 1, 2, 2}, 1e-6);
  // A plain Embedding does not take hidden states.
  LayerPtr plain = Embedding(3, 2);
  SymbolicTensor hp = plain(ids);
  expect_error([&] { plain(hp); }, {"embedding", "was built for"});
}

TEST(SequenceLayers, PositionEmbeddingAddsRowsAndChecksTheLength) {
  auto x = Input({3, 2});
  LayerPtr p = PositionEmbedding(4);
  Functional net({x}, {p(x)});
  p->weights()[0]->value = f32({1, 2, 3, 4, 5, 6, 7, 8}, {4, 2});
  expect_near_all(run(net, {f32({0, 0, 10, 10, 20, 20}, {1, 3, 2})}, {.backend = "cpu"})[0],
                  {1, 2, 13, 14, 25, 26}, 1e-6);
  expect_error(
      [] {
        PositionEmbedding(4)(Input({5, 2}));
      },
      {"position_embedding", "5 positions", "sequence_length 4"});
}

// ---- normalization --------------------------------------------------------------------

TEST(SequenceLayers, LayerAndRmsNormalization) {
  auto x = Input({2, 4});
  LayerPtr ln = LayerNormalization({.epsilon = 1e-5});
  LayerPtr rms = RMSNormalization();
  Functional net({x}, {ln(x), rms(x)});
  EXPECT_EQ(ln->weights()[0]->name, "layer_normalization/gamma");
  EXPECT_EQ(ln->weights()[1]->name, "layer_normalization/beta");
  EXPECT_EQ(rms->weights()[0]->name, "rms_normalization/scale");
  ln->weights()[0]->value = f32({1, 2, 0.5f, 1}, {4});
  ln->weights()[1]->value = f32({0, 1, 0, -1}, {4});
  rms->weights()[0]->value = f32({2, 1, 1, 1}, {4});
  Tensor in = random({3, 2, 4}, 1, -2, 2);
  Mat xv = values(in), want_ln, want_rms;
  const double g[] = {1, 2, 0.5, 1}, bta[] = {0, 1, 0, -1}, s[] = {2, 1, 1, 1};
  for (size_t r = 0; r < xv.size() / 4; ++r) {
    double mean = 0, var = 0, ms = 0;
    for (int c = 0; c < 4; ++c) mean += xv[r * 4 + c] / 4, ms += xv[r * 4 + c] * xv[r * 4 + c] / 4;
    for (int c = 0; c < 4; ++c) var += (xv[r * 4 + c] - mean) * (xv[r * 4 + c] - mean) / 4;
    for (int c = 0; c < 4; ++c) {
      want_ln.push_back((xv[r * 4 + c] - mean) / std::sqrt(var + 1e-5) * g[c] + bta[c]);
      want_rms.push_back(xv[r * 4 + c] / std::sqrt(ms + 1e-6) * s[c]);
    }
  }
  for (const char* backend : {"ref", "cpu"}) {
    std::vector<Tensor> out = run(net, {in}, {.backend = backend});
    expect_near_all(out[0], want_ln, 1e-5);
    expect_near_all(out[1], want_rms, 1e-5);
  }
}

// ---- multi-head attention --------------------------------------------------------------

// Naive multi-head self-attention in double: x [T, d] (one sample), fused qkv kernel
// [d, 3·h·k] and bias, output kernel [h·k, d] and bias; rotary when asked.
Mat naive_mha(const Mat& x, int64_t t, int64_t d, int64_t heads, int64_t kd, const Mat& wqkv,
              const Mat& bqkv, const Mat& wo, const Mat& bo, bool causal, bool rotary) {
  const int64_t width = 3 * heads * kd;
  Mat qkv(static_cast<size_t>(t * width));
  for (int64_t i = 0; i < t; ++i)
    for (int64_t o = 0; o < width; ++o) {
      double acc = bqkv[o];
      for (int64_t c = 0; c < d; ++c) acc += x[i * d + c] * wqkv[c * width + o];
      qkv[i * width + o] = acc;
    }
  auto at = [&](int part, int64_t i, int64_t h, int64_t c) {
    return qkv[i * width + part * heads * kd + h * kd + c];
  };
  // Rotate-half RoPE: pairs (c, c + kd/2) turn by angle i · 10000^(-2c/kd).
  auto rot = [&](int part, int64_t i, int64_t h, int64_t c) {
    if (!rotary) return at(part, i, h, c);
    int64_t half = kd / 2, f = c % half;
    double angle = static_cast<double>(i) * std::pow(10000.0, -2.0 * f / kd);
    double other = c < half ? -at(part, i, h, c + half) : at(part, i, h, c - half);
    return at(part, i, h, c) * std::cos(angle) + other * std::sin(angle);
  };
  Mat merged(static_cast<size_t>(t * heads * kd), 0.0);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < t; ++i) {
      Mat s(static_cast<size_t>(t), -INFINITY);
      double m = -INFINITY;
      for (int64_t j = 0; j < t; ++j) {
        if (causal && j > i) continue;
        double dot = 0;
        for (int64_t c = 0; c < kd; ++c) dot += rot(0, i, h, c) * rot(1, j, h, c);
        s[j] = dot / std::sqrt(static_cast<double>(kd));
        m = std::max(m, s[j]);
      }
      double sum = 0;
      for (double& e : s) sum += (e = std::exp(e - m));
      for (int64_t c = 0; c < kd; ++c) {
        double acc = 0;
        for (int64_t j = 0; j < t; ++j) acc += s[j] * at(2, j, h, c);
        merged[i * heads * kd + h * kd + c] = acc / sum;
      }
    }
  Mat y(static_cast<size_t>(t * d));
  for (int64_t i = 0; i < t; ++i)
    for (int64_t o = 0; o < d; ++o) {
      double acc = bo[o];
      for (int64_t c = 0; c < heads * kd; ++c) acc += merged[i * heads * kd + c] * wo[c * d + o];
      y[i * d + o] = acc;
    }
  return y;
}

TEST(SequenceLayers, MultiHeadSelfAttentionMatchesNaive) {
  const int64_t t = 5, d = 6, heads = 2, kd = 4;
  for (bool causal : {false, true})
    for (bool rotary : {false, true}) {
      SCOPED_TRACE(fmt::format("causal {} rotary {}", causal, rotary));
      auto x = Input({t, d});
      LayerPtr mha = MultiHeadAttention(heads, kd, {.causal = causal, .rotary = rotary});
      Functional net({x}, {mha(x)});
      ASSERT_EQ(mha->weights().size(), 4u);
      EXPECT_EQ(mha->weights()[0]->name, "multi_head_attention/qkv/kernel");
      EXPECT_EQ(mha->weights()[2]->name, "multi_head_attention/attention_output/kernel");
      // Non-zero biases, so that their placement is checked too.
      mha->weights()[1]->value = random({3 * heads * kd}, 3);
      mha->weights()[3]->value = random({d}, 4);
      Tensor in = random({2, t, d}, 5);
      Mat xv = values(in), want;
      for (int n = 0; n < 2; ++n) {
        Mat xs(xv.begin() + n * t * d, xv.begin() + (n + 1) * t * d);
        Mat y = naive_mha(xs, t, d, heads, kd, values(mha->weights()[0]->value),
                          values(mha->weights()[1]->value), values(mha->weights()[2]->value),
                          values(mha->weights()[3]->value), causal, rotary);
        want.insert(want.end(), y.begin(), y.end());
      }
      for (const char* backend : {"ref", "cpu"})
        expect_near_all(run(net, {in}, {.backend = backend})[0], want, 1e-5);
    }
}

TEST(SequenceLayers, CrossAttentionShapesAndWeights) {
  auto q = Input({3, 8});
  auto mem = Input({5, 6});
  LayerPtr mha = MultiHeadAttention(2, 4, {.value_dim = 3});
  SymbolicTensor y = mha({q, mem});
  EXPECT_EQ(y.type(), (TensorType{kF32, {kDynamic, 3, 8}}));
  std::vector<std::string> names;
  for (const VariablePtr& v : mha->weights()) names.push_back(v->name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "multi_head_attention/query/kernel", "multi_head_attention/query/bias",
                       "multi_head_attention/key/kernel", "multi_head_attention/key/bias",
                       "multi_head_attention/value/kernel", "multi_head_attention/value/bias",
                       "multi_head_attention/attention_output/kernel",
                       "multi_head_attention/attention_output/bias"}));
  // query 8 -> 2·4, key 6 -> 2·4, value 6 -> 2·3, output 2·3 -> 8, with biases.
  EXPECT_EQ(mha->count_params(), 8 * 8 + 8 + 6 * 8 + 8 + 6 * 6 + 6 + 6 * 8 + 8);
  Functional net({q, mem}, {y});
  std::vector<Tensor> a = run(net, {random({2, 3, 8}, 1), random({2, 5, 6}, 2)});
  std::vector<Tensor> b =
      run(net, {random({2, 3, 8}, 1), random({2, 5, 6}, 2)}, {.backend = "cpu"});
  expect_near_all(b[0], values(a[0]), 1e-5);
}

TEST(SequenceLayers, AttentionDropoutActsOnlyWhenTraining) {
  auto x = Input({6, 8});
  LayerPtr mha = MultiHeadAttention(2, 4, {.dropout = 0.5, .causal = true});
  Functional net({x}, {mha(x)});
  Tensor in = random({2, 6, 8}, 9);
  Mat infer = values(run(net, {in})[0]);
  Mat step1 = values(run(net, {in}, {.training = true, .step = 1})[0]);
  Mat step1_cpu = values(run(net, {in}, {.backend = "cpu", .training = true, .step = 1})[0]);
  Mat step2 = values(run(net, {in}, {.training = true, .step = 2})[0]);
  EXPECT_NE(infer, step1);
  EXPECT_NE(step1, step2);
  for (size_t i = 0; i < step1.size(); ++i) EXPECT_NEAR(step1[i], step1_cpu[i], 1e-5);
  // Without training the fused op runs: equal to the same layer with dropout 0.
  LayerPtr plain = MultiHeadAttention(2, 4, {.causal = true, .name = "plain"});
  Functional net2({x}, {plain(x)});
  for (size_t i = 0; i < mha->weights().size(); ++i)
    plain->weights()[i]->value = mha->weights()[i]->value;
  expect_near_all(run(net2, {in}, {.training = true})[0], infer, 1e-6);
}

TEST(SequenceLayers, AttentionErrorsNameTheLayer) {
  expect_error([] { MultiHeadAttention(2, 3, {.rotary = true}); }, {"even key_dim", "3"});
  expect_error([] { MultiHeadAttention(0, 3); }, {"multi_head_attention", "num_heads"});
  expect_error([] { MultiHeadAttention(2, 4)(Input({8})); },
               {"multi_head_attention", "[batch, sequence, features]"});
  auto x = Input({6, 8});
  expect_error([&] { MultiHeadAttention(2, 4, {.rotary = true, .rotary_max_length = 4})(x); },
               {"multi_head_attention", "6 positions", "rotary"});
  expect_error([] { Embedding(0, 4); }, {"embedding", "input_dim"});
  expect_error([] { LayerNormalization({.epsilon = 0}); }, {"layer_normalization", "epsilon"});
  expect_error([] { Embedding(4, 4, {.embeddings_initializer = "random_normal(sigma=1)"}); },
               {"embedding", "random_normal(sigma=1)"});
}

// Every layer survives to_json / from_json; the rebuilt model, given the same weights,
// computes the same values.
TEST(SequenceLayers, JsonRoundTrip) {
  auto ids = Input({4}, kI32, "ids");
  LayerPtr tok = ReversibleEmbedding(7, 8, {.name = "tok"});
  SymbolicTensor h = PositionEmbedding(4, {.name = "pos"})(tok(ids));
  h = LayerNormalization({.epsilon = 1e-5, .name = "ln"})(h);
  h = Add()({h, MultiHeadAttention(2, 4, {.causal = true, .rotary = true, .name = "mha"})(h)});
  h = RMSNormalization({.name = "rms"})(h);
  SymbolicTensor e = Embedding(9, 8, {.name = "second_embedding"})(ids);  // a second branch
  SymbolicTensor out = tok(Add()({h, LayerNormalization({.name = "ln2"})(e)}));
  Functional net({ids}, {out});
  nlohmann::json j = net.to_json();
  Functional back = Functional::from_json(j);
  EXPECT_EQ(back.to_json(), j);
  std::vector<VariablePtr> a = net.variables(), b = back.variables();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i]->name, b[i]->name);
    b[i]->value = a[i]->value.clone();
  }
  Tensor x = i32({0, 6, 3, 2, 1, 1, 5, 4}, {2, 4});
  expect_near_all(run(back, {x}, {.backend = "cpu"})[0],
                  values(run(net, {x}, {.backend = "cpu"})[0]), 1e-6);
  std::string s = net.summary();
  for (const char* cls : {"ReversibleEmbedding", "PositionEmbedding", "MultiHeadAttention",
                          "LayerNormalization", "RMSNormalization", "Embedding"})
    EXPECT_NE(s.find(cls), std::string::npos) << cls << "\n" << s;
}

}  // namespace
}  // namespace tessera::nn_test
