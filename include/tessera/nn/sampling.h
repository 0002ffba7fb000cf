// Choosing the next token from a row of logits: greedy, temperature, top-k and top-p
// (nucleus) sampling, as language-model toolkits define them.
//
//   Rng rng(seed);
//   SamplingOptions o{.temperature = 0.8, .top_k = 40, .top_p = 0.95};
//   validate(o);                                   // throws naming the bad field
//   int32_t next = sample_token(logits, o, rng);   // same seed, same tokens
#pragma once

#include <cstdint>
#include <span>

namespace tessera {

class Rng;

struct SamplingOptions {
  double temperature = 1.0;  // 0: greedy (argmax, lowest id on ties); > 0 divides the logits
  int64_t top_k = 0;         // > 0: keep only the k most likely tokens
  double top_p = 1.0;        // < 1: keep the smallest set of tokens whose probability >= top_p
};

// Throws Error (invalid argument) naming the field: temperature < 0 or not finite,
// top_k < 0, top_p outside (0, 1].
void validate(const SamplingOptions& options);

// One token id in [0, logits.size()). Filters apply in the order temperature, top-k, top-p.
// Ties go to the lower id (argmax, the top-k boundary, the top-p order). Throws when logits
// is empty or holds NaN, or when every logit is -inf (no token has any probability).
int32_t sample_token(std::span<const float> logits, const SamplingOptions& options, Rng& rng);

}  // namespace tessera
