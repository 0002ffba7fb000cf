// MultiHeadAttention, as Keras' layer: called on (query, value[, key]) it attends from the
// query sequence to the key/value sequence; called on one input it is self-attention, with
// one fused projection for q, k and v (GPT-2's c_attn).
//
//   auto x = Input({128, 256});
//   auto y = MultiHeadAttention(4, 64, {.causal = true})(x);          // [N, 128, 256]
//   auto z = MultiHeadAttention(4, 64)({x, memory});                  // cross-attention
//
// Heads are computed by the fused `attention` op (the cpu backend streams it without the
// Tq x Tk matrix). While training with dropout > 0 the probabilities are formed explicitly
// so that dropout can act on them. With `rotary`, q and k are rotated by position (RoPE,
// the rotate-half convention of GPT-NeoX and LLaMA) before attending. While decoding
// (CallContext::decode) a self-attention layer appends its keys and values to its KV cache
// and attends over the cache.
#pragma once

#include <cstdint>
#include <string>

#include "tessera/nn/layer.h"

namespace tessera {

struct MultiHeadAttentionOptions {
  int64_t value_dim = 0;  // per head; 0: key_dim
  double dropout = 0.0;   // on the attention probabilities, when training
  bool use_bias = true;
  // A causal mask (query i sees keys up to i, aligned bottom-right when the lengths differ).
  // Keras passes use_causal_mask at call time; here it is part of the layer.
  bool causal = false;
  bool rotary = false;
  // Positions the rotary tables cover; 0: the sequence length of the query the layer is
  // built on. A longer sequence is an error naming the layer.
  int64_t rotary_max_length = 0;
  double rotary_base = 10000.0;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  std::string name;  // empty: "multi_head_attention"
};

// Inputs [N, T, d] (float). Weights: self-attention "qkv/kernel" [d, heads·(2·key_dim +
// value_dim)] with q, k, v side by side (heads contiguous within each), else "query/kernel",
// "key/kernel", "value/kernel"; then "attention_output/kernel" [heads·value_dim, d_query];
// biases when use_bias. Output [N, Tq, d_query].
LayerPtr MultiHeadAttention(int64_t num_heads, int64_t key_dim,
                            MultiHeadAttentionOptions options = {});

}  // namespace tessera
