// GPT: a decoder-only transformer language model built from Tessera layers (pre-norm
// blocks, causal multi-head attention, a GELU MLP), from gpt-tiny up to GPT-2-small sizes.
//
//   Functional net = make_gpt(GptConfig::tiny());        // 256 bytes, d 256, 4 x 4 heads, ctx 128
//   Model model(std::move(net));
//   model.compile({.optimizer = "adamw", .loss = "sparse_categorical_crossentropy"});
//
// The model's input is token ids [batch, T] (i32, T <= context) and its output the logits
// [batch, T, vocab_size]. Architecture (GPT-2): token embedding + positional embedding
// (learned, or rotary inside attention) -> dropout -> num_layers x [x + attn(norm(x)),
// x + mlp(norm(x))] -> norm -> output head (see tie_embeddings). mlp = Dense(d_ff, gelu) ->
// Dense(d_model); attention projects q, k, v with one Dense(3 d_model) and its output with
// Dense(d_model). Weights start from normal(0, 0.02), biases at 0, norm scales at 1.
#pragma once

#include <cstdint>
#include <string>

#include "tessera/nn/functional.h"

namespace tessera {

struct GptConfig {
  int64_t vocab_size = 256;
  int64_t context = 128;  // the longest sequence (positions)
  int64_t d_model = 256;
  int64_t num_heads = 4;
  int64_t num_layers = 4;
  int64_t d_ff = 0;            // 0: 4 * d_model
  double dropout = 0.0;        // embeddings, attention probabilities, residual branches
  std::string positional = "learned";  // "learned" or "rotary"
  std::string norm = "layer";          // "layer" (LayerNormalization) or "rms" (RMSNorm)
  double norm_epsilon = 1e-5;
  // true: the output head is the token embedding transposed (GPT-2's weight tying, as
  // keras_hub's ReversibleEmbedding); false: its own Dense(vocab_size, no bias).
  bool tie_embeddings = false;

  static GptConfig tiny();         // d_model 256, 4 heads, 4 layers, context 128, bytes
  static GptConfig gpt2_small();   // 50257 vocab, 1024 context, 768, 12 heads, 12 layers, tied

  // Throws Error naming the field (d_model not divisible by num_heads, sizes < 1, unknown
  // positional or norm).
  void validate() const;
};

Functional make_gpt(const GptConfig& config, std::string name = "gpt");

}  // namespace tessera
