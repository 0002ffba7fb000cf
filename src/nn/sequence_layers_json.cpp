// The embedding, attention and normalization layers rebuilt from their config() (saved
// architectures, checkpoints), for layer_from_config.
#include "nn_internal.h"
#include "tessera/core/error.h"
#include "tessera/nn/attention.h"
#include "tessera/nn/embedding.h"
#include "tessera/nn/norm_layers.h"

namespace tessera {

std::shared_ptr<Layer> sequence_layer_from_config(const std::string& class_name,
                                                  const nlohmann::json& c) {
  std::string name = c.value("name", std::string());
  if (class_name == "Embedding" || class_name == "ReversibleEmbedding") {
    EmbeddingOptions o;
    o.embeddings_initializer = c.value("embeddings_initializer", o.embeddings_initializer);
    o.name = name;
    int64_t in = c.at("input_dim").get<int64_t>(), out = c.at("output_dim").get<int64_t>();
    return class_name == "Embedding" ? Embedding(in, out, o) : ReversibleEmbedding(in, out, o);
  }
  if (class_name == "PositionEmbedding") {
    PositionEmbeddingOptions o;
    o.initializer = c.value("initializer", o.initializer);
    o.name = name;
    return PositionEmbedding(c.at("sequence_length").get<int64_t>(), o);
  }
  if (class_name == "MultiHeadAttention") {
    MultiHeadAttentionOptions o;
    o.value_dim = c.value("value_dim", int64_t{0});
    o.dropout = c.value("dropout", 0.0);
    o.use_bias = c.value("use_bias", true);
    o.causal = c.value("causal", false);
    o.rotary = c.value("rotary", false);
    o.rotary_max_length = c.value("rotary_max_length", int64_t{0});
    o.rotary_base = c.value("rotary_base", o.rotary_base);
    o.kernel_initializer = c.value("kernel_initializer", o.kernel_initializer);
    o.bias_initializer = c.value("bias_initializer", o.bias_initializer);
    o.name = name;
    return MultiHeadAttention(c.at("num_heads").get<int64_t>(), c.at("key_dim").get<int64_t>(), o);
  }
  if (class_name == "LayerNormalization" || class_name == "RMSNormalization") {
    int64_t axis = c.value("axis", int64_t{-1});
    TS_CHECK(axis == -1, ErrorKind::kUnsupported,
             "layer '{}' ({}): only axis -1 is supported, got {}", name, class_name, axis);
    if (class_name == "RMSNormalization") {
      RMSNormalizationOptions o;
      o.epsilon = c.value("epsilon", o.epsilon);
      o.scale = c.value("scale", o.scale);
      o.name = name;
      return RMSNormalization(o);
    }
    LayerNormalizationOptions o;
    o.epsilon = c.value("epsilon", o.epsilon);
    o.center = c.value("center", o.center);
    o.scale = c.value("scale", o.scale);
    o.name = name;
    return LayerNormalization(o);
  }
  return nullptr;
}

std::string sequence_layer_names() {
  return "Embedding, ReversibleEmbedding, PositionEmbedding, MultiHeadAttention, "
         "LayerNormalization, RMSNormalization";
}

}  // namespace tessera
