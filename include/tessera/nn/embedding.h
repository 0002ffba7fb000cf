// Embedding layers for token models, named as in Keras and keras_hub: Embedding (a lookup
// table over integer ids), ReversibleEmbedding (the same table, also usable transposed as an
// output head: GPT-2's weight tying) and PositionEmbedding (learned positions added to the
// input).
//
//   auto ids = Input({128}, kI32);
//   LayerPtr tokens = ReversibleEmbedding(256, 64);
//   auto x = PositionEmbedding(128)(tokens(ids));   // [N, 128, 64]
//   auto logits = tokens(x);                        // [N, 128, 256]: x · tableᵀ
#pragma once

#include <cstdint>
#include <string>

#include "tessera/nn/layer.h"

namespace tessera {

struct EmbeddingOptions {
  std::string embeddings_initializer = "random_uniform";  // Keras: uniform(-0.05, 0.05)
  std::string name;  // empty: "embedding" (or "reversible_embedding")
};

// table [input_dim, output_dim]; ids of any shape [N, ...] (i32 or i64; float ids are cast
// to i32, as Keras does) -> [N, ..., output_dim]. An id outside [0, input_dim) raises an
// error at run time naming the gather node, its position and value. The gradient of the
// table is a scatter_add.
LayerPtr Embedding(int64_t input_dim, int64_t output_dim, EmbeddingOptions options = {});

// As Embedding; called on float inputs [N, ..., output_dim] it returns logits
// [N, ..., input_dim] = x · tableᵀ with the same table (keras_hub's reverse=True).
LayerPtr ReversibleEmbedding(int64_t input_dim, int64_t output_dim, EmbeddingOptions options = {});

struct PositionEmbeddingOptions {
  std::string initializer = "glorot_uniform";  // keras_hub's default
  std::string name;                            // empty: "position_embedding"
};

// Learned position embeddings [sequence_length, d] added to an input [N, T, d] (sequence on
// the second-to-last axis): row t is added at position t. T may be shorter than
// sequence_length; a longer sequence is an error naming the layer, T and the limit. While
// decoding with a KV cache (CallContext::decode) the rows are taken at
// [position, position + T).
LayerPtr PositionEmbedding(int64_t sequence_length, PositionEmbeddingOptions options = {});

}  // namespace tessera
