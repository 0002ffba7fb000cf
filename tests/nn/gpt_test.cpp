// make_gpt and Generator: parameter counts (GPT-2 small exactly), configuration errors, and
// generation with the KV cache against generation without it — token for token (greedy and
// with a seeded sampler) and logit for logit — on small random GPTs (learned and rotary
// positions, layer and RMS norms, tied and untied heads); sequences past the context.
#include "tessera/nn/gpt.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "nn_test_util.h"
#include "tessera/core/rng.h"
#include "tessera/nn/generation.h"
#include "tessera/nn/layers.h"
#include "tessera/train/checkpoint.h"
#include "tessera/train/model.h"

namespace tessera::nn_test {
namespace {

// GPT-2 small as Hugging Face counts it (GPT2Model, tied head): 124,439,808.
//   token embedding 50257·768                       = 38,597,376
//   position embedding 1024·768                     =    786,432
//   per block: ln_1 2·768                           =      1,536
//              c_attn 768·2304 + 2304               =  1,771,776
//              c_proj 768·768 + 768                 =    590,592
//              ln_2 2·768                           =      1,536
//              mlp c_fc 768·3072 + 3072             =  2,362,368
//              mlp c_proj 3072·768 + 768            =  2,360,064
//              block total                          =  7,087,872; 12 blocks = 85,054,464
//   final ln_f 2·768                                =      1,536
//   total 38,597,376 + 786,432 + 85,054,464 + 1,536 = 124,439,808
// Building it allocates the weights (about 500 MB) but no optimizer state.
TEST(Gpt, Gpt2SmallHasGpt2sParameterCount) {
  Functional net = make_gpt(GptConfig::gpt2_small());
  EXPECT_EQ(net.count_params(), 124439808);
  EXPECT_EQ(net.count_trainable_params(), 124439808);
  EXPECT_EQ(net.input_types()[0], (TensorType{kI32, {kDynamic, 1024}}));
  EXPECT_EQ(net.output_types()[0], (TensorType{kF32, {kDynamic, 1024, 50257}}));
}

// gpt-tiny: 256·256 + 128·256 + 4·(512 + 256·768 + 768 + 256·256 + 256 + 512 + 256·1024 +
// 1024 + 1024·256 + 256) + 512 + 256·256 = 65,536 + 32,768 + 4·789,760 + 512 + 65,536.
TEST(Gpt, TinyConfigAndItsParameterCount) {
  GptConfig c = GptConfig::tiny();
  EXPECT_EQ(c.vocab_size, 256);
  EXPECT_EQ(c.context, 128);
  EXPECT_EQ(c.d_model, 256);
  EXPECT_EQ(c.num_heads, 4);
  EXPECT_EQ(c.num_layers, 4);
  Functional net = make_gpt(c);
  EXPECT_EQ(net.count_params(), 65536 + 32768 + 4 * 789760 + 512 + 65536);
  // normal(0, 0.02) weights.
  const Tensor& emb = net.variables()[0]->value;
  double sum = 0, sq = 0;
  for (float v : emb.to_f32_vector()) sum += v, sq += double{v} * v;
  double n = static_cast<double>(emb.numel());
  EXPECT_NEAR(sum / n, 0.0, 1e-3);
  EXPECT_NEAR(std::sqrt(sq / n), 0.02, 1e-3);
}

TEST(Gpt, ConfigErrorsNameTheField) {
  auto bad = [](auto edit, std::vector<std::string> parts) {
    GptConfig c = GptConfig::tiny();
    edit(c);
    expect_error([&] { c.validate(); }, parts);
    expect_error([&] { make_gpt(c); }, parts);
  };
  bad([](GptConfig& c) { c.num_heads = 3; }, {"d_model 256", "num_heads 3"});
  bad([](GptConfig& c) { c.context = 0; }, {"context"});
  bad([](GptConfig& c) { c.positional = "alibi"; }, {"positional", "alibi"});
  bad([](GptConfig& c) { c.norm = "batch"; }, {"norm", "batch"});
  bad([](GptConfig& c) { c.dropout = 1.0; }, {"dropout"});
}

GptConfig small(bool rotary, bool rms, bool tied) {
  GptConfig c;
  c.vocab_size = 37;
  c.context = 24;
  c.d_model = 32;
  c.num_heads = 4;
  c.num_layers = 2;
  c.positional = rotary ? "rotary" : "learned";
  c.norm = rms ? "rms" : "layer";
  c.tie_embeddings = tied;
  return c;
}

int32_t argmax(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

// A seeded sampler from softmax(logits / 0.8), independent of the library's sampling.
TokenPicker sampler(uint64_t seed) {
  auto rng = std::make_shared<Rng>(seed);
  return [rng](std::span<const float> logits) {
    double m = *std::max_element(logits.begin(), logits.end()), total = 0;
    std::vector<double> p(logits.size());
    for (size_t i = 0; i < p.size(); ++i) total += (p[i] = std::exp((logits[i] - m) / 0.8));
    double u = rng->next_uniform() * total;
    for (size_t i = 0; i < p.size(); ++i)
      if ((u -= p[i]) < 0) return static_cast<int32_t>(i);
    return static_cast<int32_t>(p.size() - 1);
  };
}

// The full model's logits at the last position of `tokens`, through Functional::emit.
std::vector<float> full_logits(const Functional& net, const std::vector<int32_t>& tokens) {
  GraphBuilder b;
  CallContext ctx{b};
  ctx.variable_sequence_length = true;
  ValueId ids = b.input("ids", kI32, Shape{1, static_cast<int64_t>(tokens.size())});
  b.output(net.emit(ctx, {&ids, 1})[0]);
  Program p = compile_program(b.finish(), {.batch = 1, .backends = {"cpu"}});
  Tensor in = i32(std::vector<int>(tokens.begin(), tokens.end()),
                  Shape{1, static_cast<int64_t>(tokens.size())});
  std::vector<float> all = p.run({&in, 1})[0].to_f32_vector();
  int64_t vocab = net.output_types()[0].shape[2];
  return std::vector<float>(all.end() - vocab, all.end());
}

struct Variant {
  bool rotary, rms, tied;
};

class GenerationTest : public ::testing::TestWithParam<Variant> {};

TEST_P(GenerationTest, CacheEqualsNoCacheTokenForToken) {
  Variant v = GetParam();
  Functional net = make_gpt(small(v.rotary, v.rms, v.tied));
  Generator cached(net);
  Generator plain(net, {.use_cache = false});
  EXPECT_EQ(cached.context_length(), 24);
  EXPECT_EQ(cached.vocab_size(), 37);
  const std::vector<int32_t> prompt = {3, 1, 4, 1, 5, 9, 2};
  std::vector<int32_t> a = cached.generate(prompt, 10, argmax);
  std::vector<int32_t> b = plain.generate(prompt, 10, argmax);
  EXPECT_EQ(a.size(), 10u);
  EXPECT_EQ(a, b);

  std::vector<int32_t> sa = cached.generate(prompt, 12, sampler(42));
  std::vector<int32_t> sb = plain.generate(prompt, 12, sampler(42));
  EXPECT_EQ(sa, sb);
  // The sampled sequence is not degenerate (the comparison above means something).
  std::vector<int32_t> distinct = sa;
  std::sort(distinct.begin(), distinct.end());
  EXPECT_GE(std::unique(distinct.begin(), distinct.end()) - distinct.begin(), 5);
  EXPECT_EQ(cached.generate(prompt, 12, sampler(42)), sa);  // reproducible after reset()
}

// feed() returns the last position's logits: with and without the cache, and equal to the
// model run on the whole sequence (a prompt, single tokens, then a chunk of three).
TEST_P(GenerationTest, FeedLogitsEqualTheFullModel) {
  Variant v = GetParam();
  Functional net = make_gpt(small(v.rotary, v.rms, v.tied));
  Generator cached(net);
  Generator plain(net, {.use_cache = false});
  std::vector<int32_t> seq;
  for (const std::vector<int32_t>& chunk :
       std::vector<std::vector<int32_t>>{{5, 6, 7, 8, 9}, {1}, {36}, {0, 2, 4}, {11}}) {
    seq.insert(seq.end(), chunk.begin(), chunk.end());
    std::span<const float> lc = cached.feed(chunk);
    std::vector<float> c(lc.begin(), lc.end());
    std::span<const float> lp = plain.feed(chunk);
    std::vector<float> want = full_logits(net, seq);
    ASSERT_EQ(c.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_NEAR(c[i], want[i], 1e-4) << "cached, length " << seq.size() << ", logit " << i;
      EXPECT_NEAR(lp[i], want[i], 1e-4) << "uncached, length " << seq.size() << ", logit " << i;
    }
  }
  EXPECT_EQ(cached.length(), static_cast<int64_t>(seq.size()));
}

INSTANTIATE_TEST_SUITE_P(Variants, GenerationTest,
                         ::testing::Values(Variant{false, false, false}, Variant{true, true, true},
                                           Variant{false, true, true}));

// A sequence past the context is an error that names the lengths and leaves the sequence
// as it was; generate() stops at the context.
TEST(Generation, SequencesPastTheContext) {
  Functional net = make_gpt(small(false, false, false), "tiny_lm");
  for (bool cache : {true, false}) {
    SCOPED_TRACE(cache);
    Generator g(net, {.use_cache = cache});
    std::vector<int32_t> twenty(20, 3), five(5, 1), four(4, 2);
    g.feed(twenty);
    expect_error([&] { g.feed(five); }, {"5 tokens after 20", "25", "context of 24", "tiny_lm"});
    EXPECT_EQ(g.length(), 20);
    g.feed(four);
    EXPECT_EQ(g.length(), 24);
    expect_error([&] { g.feed(std::vector<int32_t>{1}); }, {"context of 24"});
    g.reset();
    expect_error(
        [&] {
          g.feed(std::vector<int32_t>{1, 37});
        },
        {"token 37 at position 1", "[0, 37)"});
    expect_error([&] { g.generate(std::vector<int32_t>(25, 0), 1, argmax); }, {"context of 24"});
    // 20 prompt tokens + 4 new ones fill the context.
    EXPECT_EQ(g.generate(twenty, 10, argmax).size(), 4u);
    EXPECT_EQ(g.generate(std::vector<int32_t>(24, 0), 10, argmax).size(), 0u);
    expect_error([&] { g.generate(twenty, 3, [](std::span<const float>) { return 99; }); },
                 {"returned 99"});
  }
}

TEST(Generation, RejectsModelsThatAreNotLanguageModels) {
  auto x = Input({4});
  Functional mlp({x}, {Dense(3)(x)}, "mlp");
  expect_error([&] { Generator g(mlp); }, {"mlp", "token ids"});
}

// A GPT saved in a checkpoint (architecture JSON and weights) loads back and generates the
// same tokens: every layer is registered for JSON, the tied head included.
TEST(Generation, CheckpointRoundTrip) {
  Model m(make_gpt(small(true, false, true), "saved_lm"));
  m.compile({.optimizer = "adamw", .loss = "sparse_categorical_crossentropy"});
  std::string path = ::testing::TempDir() + "/gpt_roundtrip.tsm";
  save_model(m, path);
  Model back = load_model(path);
  EXPECT_EQ(back.net().count_params(), m.net().count_params());
  const std::vector<int32_t> prompt = {1, 2, 3};
  EXPECT_EQ(Generator(back.net()).generate(prompt, 8, sampler(5)),
            Generator(m.net()).generate(prompt, 8, sampler(5)));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace tessera::nn_test
