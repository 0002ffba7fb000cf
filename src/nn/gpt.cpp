// make_gpt: the GPT-2 architecture (nn/gpt.h) assembled from Tessera layers through the
// functional API. Layer names are fixed ("block0_attention", …) so checkpoints and the
// PyTorch twin (bench/peers) can be matched weight for weight.
#include "tessera/nn/gpt.h"

#include <cmath>

#include "tessera/core/error.h"
#include "tessera/nn/attention.h"
#include "tessera/nn/embedding.h"
#include "tessera/nn/layers.h"
#include "tessera/nn/norm_layers.h"

namespace tessera {

GptConfig GptConfig::tiny() { return GptConfig{}; }

GptConfig GptConfig::gpt2_small() {
  GptConfig c;
  c.vocab_size = 50257;
  c.context = 1024;
  c.d_model = 768;
  c.num_heads = 12;
  c.num_layers = 12;
  c.tie_embeddings = true;
  return c;
}

void GptConfig::validate() const {
  auto positive = [](int64_t v, const char* field) {
    TS_CHECK(v >= 1, ErrorKind::kInvalidArgument, "GptConfig: {} must be >= 1, got {}", field, v);
  };
  positive(vocab_size, "vocab_size");
  positive(context, "context");
  positive(d_model, "d_model");
  positive(num_heads, "num_heads");
  positive(num_layers, "num_layers");
  TS_CHECK(vocab_size <= (int64_t{1} << 31) - 1, ErrorKind::kInvalidArgument,
           "GptConfig: vocab_size {} does not fit i32 token ids", vocab_size);
  TS_CHECK(d_ff >= 0, ErrorKind::kInvalidArgument, "GptConfig: d_ff must be >= 0, got {}", d_ff);
  TS_CHECK(d_model % num_heads == 0, ErrorKind::kInvalidArgument,
           "GptConfig: d_model {} is not divisible by num_heads {}", d_model, num_heads);
  TS_CHECK(dropout >= 0.0 && dropout < 1.0, ErrorKind::kInvalidArgument,
           "GptConfig: dropout must be in [0, 1), got {}", dropout);
  TS_CHECK(positional == "learned" || positional == "rotary", ErrorKind::kInvalidArgument,
           "GptConfig: positional must be 'learned' or 'rotary', got '{}'", positional);
  TS_CHECK(positional != "rotary" || (d_model / num_heads) % 2 == 0, ErrorKind::kInvalidArgument,
           "GptConfig: rotary positions need an even head size, got {}", d_model / num_heads);
  TS_CHECK(norm == "layer" || norm == "rms", ErrorKind::kInvalidArgument,
           "GptConfig: norm must be 'layer' or 'rms', got '{}'", norm);
  TS_CHECK(std::isfinite(norm_epsilon) && norm_epsilon > 0, ErrorKind::kInvalidArgument,
           "GptConfig: norm_epsilon must be > 0, got {}", norm_epsilon);
}

Functional make_gpt(const GptConfig& c, std::string name) {
  c.validate();
  const int64_t d = c.d_model, d_ff = c.d_ff > 0 ? c.d_ff : 4 * c.d_model;
  const std::string init = "random_normal(stddev=0.02)";
  auto norm = [&](const std::string& n) {
    return c.norm == "layer" ? LayerNormalization({.epsilon = c.norm_epsilon, .name = n})
                             : RMSNormalization({.epsilon = c.norm_epsilon, .name = n});
  };
  auto dropout = [&](SymbolicTensor x, const std::string& n) {
    return c.dropout > 0 ? Dropout(c.dropout, n)(x) : x;
  };
  auto dense = [&](int64_t units, const std::string& n, std::string activation = {},
                   bool bias = true) {
    return Dense(units, {.activation = std::move(activation),
                         .use_bias = bias,
                         .kernel_initializer = init,
                         .name = n});
  };

  SymbolicTensor ids = Input({c.context}, kI32, "token_ids");
  EmbeddingOptions eo{.embeddings_initializer = init, .name = "token_embedding"};
  LayerPtr tokens =
      c.tie_embeddings ? ReversibleEmbedding(c.vocab_size, d, eo) : Embedding(c.vocab_size, d, eo);
  SymbolicTensor x = tokens(ids);
  if (c.positional == "learned")
    x = PositionEmbedding(c.context, {.initializer = init, .name = "position_embedding"})(x);
  x = dropout(x, "embedding_dropout");
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = fmt::format("block{}_", i);
    SymbolicTensor h = norm(p + "norm1")(x);
    h = MultiHeadAttention(c.num_heads, d / c.num_heads,
                           {.dropout = c.dropout,
                            .causal = true,
                            .rotary = c.positional == "rotary",
                            .kernel_initializer = init,
                            .name = p + "attention"})(h);
    h = dropout(h, p + "attention_dropout");
    x = Add(p + "add1")({x, h});
    h = norm(p + "norm2")(x);
    h = dense(d_ff, p + "mlp_fc", "gelu")(h);
    h = dense(d, p + "mlp_proj")(h);
    h = dropout(h, p + "mlp_dropout");
    x = Add(p + "add2")({x, h});
  }
  x = norm("final_norm")(x);
  SymbolicTensor logits =
      c.tie_embeddings ? tokens(x) : dense(c.vocab_size, "lm_head", {}, false)(x);
  return Functional({ids}, {logits}, std::move(name));
}

}  // namespace tessera
