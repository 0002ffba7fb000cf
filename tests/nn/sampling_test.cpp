// Token sampling: greedy cases, seeded reproducibility, empirical frequencies against the
// filtered softmax (a chi-square bound with a fixed seed), and errors naming the field.
#include "tessera/nn/sampling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <vector>

#include "tessera/core/error.h"
#include "tessera/core/rng.h"

namespace tessera {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    return e.what();
  }
  ADD_FAILURE() << "expected an Error";
  return {};
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Draw counts of each token over `draws` samples from one seeded Rng.
std::vector<int64_t> histogram(const std::vector<float>& logits, const SamplingOptions& o,
                               int64_t draws, uint64_t seed = 11) {
  Rng rng(seed);
  std::vector<int64_t> count(logits.size(), 0);
  for (int64_t i = 0; i < draws; ++i) ++count[sample_token(logits, o, rng)];
  return count;
}

// softmax(logits / T) restricted to `kept` (renormalized); 0 elsewhere.
std::vector<double> expected(const std::vector<float>& logits, double t,
                             const std::vector<int>& kept) {
  std::vector<double> p(logits.size(), 0.0);
  double total = 0;
  for (int i : kept) total += p[i] = std::exp(logits[i] / t);
  for (double& v : p) v /= total;
  return p;
}

// Pearson's statistic over the tokens with expected mass; tokens without any must never be
// drawn.
double chi_square(const std::vector<int64_t>& count, const std::vector<double>& p, int64_t draws) {
  double chi2 = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == 0) {
      EXPECT_EQ(count[i], 0) << "token " << i << " is outside the kept set";
      continue;
    }
    double e = p[i] * static_cast<double>(draws);
    chi2 += (static_cast<double>(count[i]) - e) * (static_cast<double>(count[i]) - e) / e;
  }
  return chi2;
}

void expect_matches(const std::vector<int64_t>& count, const std::vector<double>& p, int64_t draws,
                    double critical) {
  EXPECT_LT(chi_square(count, p, draws), critical)
      << "the draws do not follow the filtered softmax";
}

const std::vector<float> kLogits = {1.0f, 2.5f, 0.3f, -1.0f, 2.0f, 0.0f, 1.7f, -3.0f};

TEST(Sampling, TemperatureZeroIsArgmaxWithLowestIdOnTies) {
  Rng rng(1);
  EXPECT_EQ(sample_token(kLogits, {.temperature = 0}, rng), 1);
  std::vector<float> ties = {0.5f, 3.0f, -1.0f, 3.0f, 3.0f};
  EXPECT_EQ(sample_token(ties, {.temperature = 0}, rng), 1);
  // Greedy ignores the filters and draws nothing from the generator.
  Rng a(5), b(5);
  sample_token(ties, {.temperature = 0, .top_k = 3, .top_p = 0.5}, a);
  EXPECT_EQ(a.next_u64(), b.next_u64());
  // -inf is a possible logit (a masked token); +inf wins.
  EXPECT_EQ(sample_token(std::vector<float>{-kInf, -2.0f, kInf, kInf}, {.temperature = 0}, rng), 2);
}

TEST(Sampling, TopKOneAndTinyTopPAreArgmax) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    Rng rng(seed);
    EXPECT_EQ(sample_token(kLogits, {.temperature = 1.3, .top_k = 1}, rng), 1);
    EXPECT_EQ(sample_token(kLogits, {.temperature = 1.3, .top_p = 1e-6}, rng), 1);
    EXPECT_EQ(sample_token(kLogits, {.temperature = 5.0, .top_k = 4, .top_p = 1e-9}, rng), 1);
  }
  // Ties at the top: the lower id is the one kept.
  std::vector<float> ties = {0.0f, 2.0f, 2.0f, 1.0f};
  Rng rng(3);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(sample_token(ties, {.top_k = 1}, rng), 1);
    EXPECT_EQ(sample_token(ties, {.top_p = 0.01}, rng), 1);
  }
}

TEST(Sampling, SameSeedSameTokens) {
  SamplingOptions o{.temperature = 0.9, .top_k = 6, .top_p = 0.95};
  Rng a(42), b(42), c(43);
  std::vector<int32_t> first, second, other;
  for (int i = 0; i < 200; ++i) {
    first.push_back(sample_token(kLogits, o, a));
    second.push_back(sample_token(kLogits, o, b));
    other.push_back(sample_token(kLogits, o, c));
  }
  EXPECT_EQ(first, second);
  EXPECT_NE(first, other);
}

// Critical values of the chi-square distribution at p = 0.001 (so a correct sampler fails
// one seed in a thousand; the seeds are fixed, so the test is deterministic).
constexpr double kChi2Df7 = 24.32, kChi2Df3 = 16.27, kChi2Df2 = 13.82, kChi2Df1 = 10.83;

TEST(Sampling, FrequenciesFollowTheTemperatureSoftmax) {
  const int64_t draws = 40000;
  for (double t : {1.0, 0.5, 2.0}) {
    SCOPED_TRACE(t);
    expect_matches(histogram(kLogits, {.temperature = t}, draws),
                   expected(kLogits, t, {0, 1, 2, 3, 4, 5, 6, 7}), draws, kChi2Df7);
  }
  // The bound has teeth: temperature 0.9 is told apart from 1.0 with these draws.
  EXPECT_GT(chi_square(histogram(kLogits, {.temperature = 0.9}, draws),
                       expected(kLogits, 1.0, {0, 1, 2, 3, 4, 5, 6, 7}), draws),
            kChi2Df7);
}

TEST(Sampling, FrequenciesFollowTheTopKSet) {
  // The 4 most likely: ids 1 (2.5), 4 (2.0), 6 (1.7), 0 (1.0).
  const int64_t draws = 40000;
  expect_matches(histogram(kLogits, {.temperature = 0.8, .top_k = 4}, draws),
                 expected(kLogits, 0.8, {1, 4, 6, 0}), draws, kChi2Df3);
}

TEST(Sampling, FrequenciesFollowTheTopPSet) {
  // softmax(kLogits): ids 1, 4, 6 hold 0.3990, 0.2420, 0.1793 (sum 0.8203); adding id 0
  // (0.0890) reaches 0.9094. top_p 0.8 keeps {1, 4, 6}; top_p 0.85 adds 0.
  const int64_t draws = 40000;
  expect_matches(histogram(kLogits, {.top_p = 0.8}, draws), expected(kLogits, 1.0, {1, 4, 6}),
                 draws, kChi2Df2);
  expect_matches(histogram(kLogits, {.top_p = 0.85}, draws), expected(kLogits, 1.0, {1, 4, 6, 0}),
                 draws, kChi2Df3);
  // top-k first, then top-p within it: top_k 2 keeps {1, 4} (0.6225 and 0.3775 of them);
  // top_p 0.7 then needs both.
  expect_matches(histogram(kLogits, {.top_k = 2, .top_p = 0.7}, draws),
                 expected(kLogits, 1.0, {1, 4}), draws, kChi2Df1);
}

TEST(Sampling, InfiniteLogits) {
  // -inf tokens are never drawn; +inf tokens share all the mass.
  std::vector<float> masked = {0.0f, -kInf, 0.0f, -kInf};
  auto c = histogram(masked, {}, 2000);
  EXPECT_EQ(c[1] + c[3], 0);
  EXPECT_GT(c[0], 800);
  EXPECT_GT(c[2], 800);
  std::vector<float> sure = {1e30f, kInf, 3.0f, kInf};
  auto d = histogram(sure, {.temperature = 2.0}, 2000);
  EXPECT_EQ(d[0] + d[2], 0);
  EXPECT_GT(d[1], 800);
  EXPECT_GT(d[3], 800);
  // A tiny temperature is greedy in effect, never NaN.
  Rng rng(2);
  EXPECT_EQ(sample_token(kLogits, {.temperature = 1e-300}, rng), 1);
}

TEST(Sampling, InvalidOptionsNameTheField) {
  Rng rng(0);
  auto with = [&](SamplingOptions o) { return error_of([&] { sample_token(kLogits, o, rng); }); };
  EXPECT_TRUE(contains(with({.temperature = -0.5}), "'temperature' must be finite and >= 0"));
  EXPECT_TRUE(contains(with({.temperature = -0.5}), "got -0.5"));
  EXPECT_TRUE(contains(with({.temperature = std::nan("")}), "'temperature'"));
  EXPECT_TRUE(
      contains(with({.temperature = std::numeric_limits<double>::infinity()}), "'temperature'"));
  EXPECT_TRUE(contains(with({.top_k = -3}), "'top_k' must be >= 0"));
  EXPECT_TRUE(contains(with({.top_k = -3}), "got -3"));
  EXPECT_TRUE(contains(with({.top_p = 0}), "'top_p' must be in (0, 1]"));
  EXPECT_TRUE(contains(with({.top_p = 1.5}), "got 1.5"));
  EXPECT_TRUE(contains(with({.top_p = std::nan("")}), "'top_p'"));
  EXPECT_TRUE(contains(error_of([] { validate({.top_k = -1}); }), "'top_k'"));
  validate({.temperature = 0, .top_k = 0, .top_p = 1});
  // top_k past the vocabulary keeps everything.
  EXPECT_GE(sample_token(kLogits, {.top_k = 1000}, rng), 0);
}

TEST(Sampling, BadLogitsAreErrors) {
  Rng rng(0);
  EXPECT_TRUE(contains(error_of([&] { sample_token(std::span<const float>(), {}, rng); }),
                       "logits are empty"));
  std::vector<float> nan = {0.0f, 1.0f, std::nanf(""), 2.0f};
  EXPECT_TRUE(
      contains(error_of([&] { sample_token(nan, {}, rng); }), "the logit of token 2 is NaN"));
  EXPECT_TRUE(contains(error_of([&] { sample_token(nan, {.temperature = 0}, rng); }), "NaN"));
  std::vector<float> none = {-kInf, -kInf};
  EXPECT_TRUE(contains(error_of([&] { sample_token(none, {}, rng); }), "all 2 logits are -inf"));
}

}  // namespace
}  // namespace tessera
