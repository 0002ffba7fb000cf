// Token sampling (sampling.h). The filters follow Hugging Face's logits warpers: temperature
// scales the logits, top-k keeps the k most likely tokens, top-p keeps the smallest prefix of
// the rest (most likely first) whose probability reaches top_p. Ties are broken towards the
// lower token id everywhere (in the argmax, at the top-k boundary, in the top-p order), so
// the kept set never depends on sort stability.
//
// The draw walks the kept tokens in id order with one uniform number from the Rng, so a seed
// gives the same tokens on every machine and thread count. Work is in double: exp of a
// shifted logit (<= 0) never overflows, and a tiny temperature turns every logit below the
// maximum into an exact 0 weight instead of NaN.
#include "tessera/nn/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "tessera/core/error.h"
#include "tessera/core/rng.h"

namespace tessera {
namespace {

// Per-thread scratch, grown to the largest vocabulary seen: generating a token allocates
// nothing once the first one is drawn.
struct Scratch {
  std::vector<double> weight;  // unnormalized probability of each token
  std::vector<int32_t> order;  // candidate ids, most likely first after sorting
  std::vector<uint8_t> kept;   // 1: the token survived the filters
};

Scratch& scratch(size_t vocab) {
  thread_local Scratch s;
  if (s.weight.size() < vocab) {
    s.weight.resize(vocab);
    s.order.resize(vocab);
    s.kept.resize(vocab);
  }
  return s;
}

}  // namespace

void validate(const SamplingOptions& o) {
  TS_CHECK(std::isfinite(o.temperature) && o.temperature >= 0, ErrorKind::kInvalidArgument,
           "sampling option 'temperature' must be finite and >= 0 (0: greedy), got {}",
           o.temperature);
  TS_CHECK(o.top_k >= 0, ErrorKind::kInvalidArgument,
           "sampling option 'top_k' must be >= 0 (0: no top-k filter), got {}", o.top_k);
  // Written so that NaN fails too.
  TS_CHECK(o.top_p > 0 && o.top_p <= 1, ErrorKind::kInvalidArgument,
           "sampling option 'top_p' must be in (0, 1] (1: no top-p filter), got {}", o.top_p);
}

int32_t sample_token(std::span<const float> logits, const SamplingOptions& options, Rng& rng) {
  validate(options);
  TS_CHECK(!logits.empty(), ErrorKind::kInvalidArgument,
           "sample_token: the logits are empty (a vocabulary of 0 tokens)");
  TS_CHECK(logits.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()),
           ErrorKind::kInvalidArgument, "sample_token: {} logits exceed the i32 token ids",
           logits.size());
  const auto vocab = static_cast<int32_t>(logits.size());

  // The first maximum is the greedy choice (lowest id on ties).
  int32_t best = 0;
  for (int32_t i = 0; i < vocab; ++i) {
    TS_CHECK(!std::isnan(logits[i]), ErrorKind::kInvalidArgument,
             "sample_token: the logit of token {} is NaN (of {} logits); the model's output is "
             "not a number",
             i, vocab);
    if (logits[i] > logits[best]) best = i;
  }
  const double top = logits[best];
  TS_CHECK(top > -std::numeric_limits<double>::infinity(), ErrorKind::kInvalidArgument,
           "sample_token: all {} logits are -inf: no token has any probability", vocab);
  if (options.temperature == 0 || options.top_k == 1) return best;

  Scratch& s = scratch(logits.size());
  const double inv_t = 1.0 / options.temperature;
  const bool infinite = std::isinf(top);  // +inf: the +inf tokens share all the mass
  for (int32_t i = 0; i < vocab; ++i) {
    double l = logits[i];
    s.weight[i] = infinite ? (l == top ? 1.0 : 0.0) : std::exp((l - top) * inv_t);
    s.kept[i] = 1;
  }

  // Most likely first, lower id first among equals: a strict weak order on distinct ids.
  auto more_likely = [&](int32_t a, int32_t b) {
    return s.weight[a] > s.weight[b] || (s.weight[a] == s.weight[b] && a < b);
  };
  int32_t candidates = vocab;
  const bool top_k = options.top_k > 0 && options.top_k < vocab;
  const bool top_p = options.top_p < 1.0;
  if (top_k || top_p) {
    for (int32_t i = 0; i < vocab; ++i) s.order[i] = i;
    int32_t* order = s.order.data();
    if (top_k) {
      candidates = static_cast<int32_t>(options.top_k);
      std::nth_element(order, order + candidates - 1, order + vocab, more_likely);
      for (int32_t r = candidates; r < vocab; ++r) s.kept[order[r]] = 0;
    }
    if (top_p) {
      std::sort(order, order + candidates, more_likely);
      double total = 0;
      for (int32_t r = 0; r < candidates; ++r) total += s.weight[order[r]];
      // The smallest prefix reaching top_p of the mass; the most likely token always stays.
      double need = options.top_p * total, sum = 0;
      int32_t keep = 0;
      while (keep < candidates) {
        sum += s.weight[order[keep++]];
        if (sum >= need) break;
      }
      for (int32_t r = keep; r < candidates; ++r) s.kept[order[r]] = 0;
    }
  }

  double total = 0;
  for (int32_t i = 0; i < vocab; ++i)
    if (s.kept[i]) total += s.weight[i];
  const double u = rng.next_uniform() * total;
  double sum = 0;
  int32_t last = best;  // rounding may leave u just past the final sum
  for (int32_t i = 0; i < vocab; ++i) {
    if (!s.kept[i] || s.weight[i] == 0) continue;
    sum += s.weight[i];
    last = i;
    if (u < sum) return i;
  }
  return last;
}

}  // namespace tessera
