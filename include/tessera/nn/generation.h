// Autoregressive generation for causal language models such as make_gpt(): a KV cache keeps
// every attention layer's keys and values, so each new token costs one position's work
// instead of recomputing the whole prefix.
//
//   Generator gen(model.net());                       // batch 1, KV cache on, cpu backend
//   Rng rng(7);
//   std::vector<int32_t> out = gen.generate(prompt, 200, [&](std::span<const float> logits) {
//     return sample_token(logits, {.temperature = 0.8, .top_k = 40}, rng);
//   });
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace tessera {

class Functional;

struct GeneratorOptions {
  // false: every token re-runs the model on the whole sequence (the reference the cache is
  // tested against, and what generation costs without one).
  bool use_cache = true;
  std::vector<std::string> backends = {"cpu"};
};

// Picks the next token id from the logits of the last position (one row of vocab_size).
using TokenPicker = std::function<int32_t(std::span<const float> logits)>;

class Generator {
 public:
  // `model`: a causal language model whose one input is token ids [batch, T] (i32) and whose
  // one output is logits [batch, T, vocab]. Throws naming the model when it is not one.
  explicit Generator(const Functional& model, GeneratorOptions options = {});
  ~Generator();
  Generator(Generator&&) noexcept;
  Generator& operator=(Generator&&) noexcept;

  int64_t context_length() const;  // the longest sequence the model accepts
  int64_t vocab_size() const;
  int64_t length() const;  // tokens fed since the last reset()

  // Forgets the sequence: the next feed() starts a new one.
  void reset();
  // Appends `tokens` (at least one) to the sequence and returns the logits of its last
  // position (valid until the next call). Throws, leaving the sequence as it was, when a
  // token is outside [0, vocab) or the sequence would exceed context_length().
  std::span<const float> feed(std::span<const int32_t> tokens);
  // reset(), feed(prompt), then up to max_new_tokens tokens chosen by `pick`; stops early at
  // the context length. Returns the new tokens only.
  std::vector<int32_t> generate(std::span<const int32_t> prompt, int64_t max_new_tokens,
                                const TokenPicker& pick);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera
