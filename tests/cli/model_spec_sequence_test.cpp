// YAML specs with the sequence layers (Embedding, PositionEmbedding, MultiHeadAttention,
// LayerNormalization, RMSNormalization), the `gpt:` builder key and the gpt-tiny zoo entry.
#include <gtest/gtest.h>

#include "tessera/cli/model_spec.h"
#include "tessera/core/error.h"

namespace tessera::cli {
namespace {

std::string build_error(const std::string& yaml) {
  try {
    build_model(parse_model_spec(yaml, "m.yaml"), 0);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ModelSpecSequence, TransformerBlockFromLayers) {
  ModelSpec spec = parse_model_spec(R"yaml(name: block
input_shape: [16]
input_dtype: int32
layers:
  - Embedding:
      input_dim: 50
      output_dim: 32
      embeddings_initializer: "random_normal(stddev=0.02)"
      name: tok
  - PositionEmbedding: {sequence_length: 16, name: emb}
  - LayerNormalization: {epsilon: 0.00001, name: ln}
  - MultiHeadAttention: {num_heads: 4, key_dim: 8, causal: true, rotary: true, name: attn}
  - Add: {inputs: [emb, attn], name: res}
  - RMSNormalization: {name: rms}
  - MultiHeadAttention: {num_heads: 2, key_dim: 8, inputs: [rms, emb]}
  - Dense: {units: 50}
)yaml",
                                    "block.yaml");
  EXPECT_EQ(spec.input_dtype, kI32);
  Model m = build_model(spec, 0);
  EXPECT_EQ(m.net().input_types()[0], (TensorType{kI32, {kDynamic, 16}}));
  EXPECT_EQ(m.net().output_types()[0], (TensorType{kF32, {kDynamic, 16, 50}}));
  // tok 50·32, emb 16·32, ln 64, attn 32·96 + 96 + 32·32 + 32, rms 32,
  // cross-attention 3·(32·16 + 16) + 16·32 + 32, dense 32·50 + 50.
  EXPECT_EQ(m.net().count_params(),
            1600 + 512 + 64 + (3072 + 96 + 1024 + 32) + 32 + (3 * 528 + 544) + 1650);
}

TEST(ModelSpecSequence, GptKeyAndTheZoo) {
  ModelSpec spec = parse_model_spec(
      "name: lm\ngpt: {vocab_size: 40, context: 12, d_model: 16, num_heads: 2, num_layers: 1,\n"
      "      positional: rotary, norm: rms, tie_embeddings: true}\n",
      "lm.yaml");
  ASSERT_TRUE(spec.gpt);
  EXPECT_EQ(spec.gpt->context, 12);
  Model m = build_model(spec, 3);
  EXPECT_EQ(m.net().name(), "lm");
  EXPECT_EQ(m.net().output_types()[0], (TensorType{kF32, {kDynamic, 12, 40}}));
  Model tiny = build_model(zoo_spec("gpt-tiny"), 0);
  EXPECT_EQ(tiny.net().count_params(), 3323392);  // see tests/nn/gpt_test.cpp
  ASSERT_TRUE(zoo_spec("gpt-tiny").compile);
  EXPECT_EQ(zoo_spec("gpt-tiny").compile->optimizer, "adamw");
  EXPECT_TRUE(zoo_spec("gpt-tiny").compile->loss_options.from_logits);
}

TEST(ModelSpecSequence, ErrorsNameTheLine) {
  EXPECT_NE(build_error("input_shape: [4]\nlayers:\n  - Embedding: {input_dim: 0, output_dim: 2}\n")
                .find("m.yaml:3: Embedding: 'input_dim' must be positive"),
            std::string::npos);
  EXPECT_NE(build_error("input_shape: [4]\nlayers:\n  - MultiHeadAttention: {num_heads: 2}\n")
                .find("m.yaml:3: MultiHeadAttention: missing argument 'key_dim'"),
            std::string::npos);
  EXPECT_NE(build_error("input_shape: [4, 8]\nlayers:\n  - LayerNormalization: {epsilon: -1}\n")
                .find("m.yaml:3: LayerNormalization: 'epsilon' must be positive"),
            std::string::npos);
  EXPECT_NE(build_error("input_shape: [4, 8]\nlayers:\n"
                        "  - MultiHeadAttention: {num_heads: 2, key_dim: 3, rotary: true}\n")
                .find("even key_dim"),
            std::string::npos);
  EXPECT_NE(
      build_error("input_shape: [9, 8]\nlayers:\n  - PositionEmbedding: {sequence_length: 4}\n")
          .find("m.yaml:3: PositionEmbedding"),
      std::string::npos);
  EXPECT_NE(
      build_error("gpt: {d_model: 30, num_heads: 4}\n").find("m.yaml:1: GptConfig: d_model 30"),
      std::string::npos)
      << build_error("gpt: {d_model: 30, num_heads: 4}\n");
  EXPECT_NE(build_error("gpt: {width: 3}\n").find("unknown setting 'width'"), std::string::npos);
  EXPECT_NE(build_error("input_shape: [4]\ngpt: {}\n").find("'input_shape' does not go with 'gpt'"),
            std::string::npos);
  EXPECT_NE(build_error("input_shape: [4]\ninput_dtype: int8\nlayers: [Flatten]\n")
                .find("float32 or int32"),
            std::string::npos);
  EXPECT_NE(build_error("input_shape: [4, 8]\nlayers:\n"
                        "  - MultiHeadAttention: {num_heads: 2, key_dim: 4, "
                        "kernel_initializer: \"random_normal(sd=1)\"}\n")
                .find("unknown initializer"),
            std::string::npos);
}

}  // namespace
}  // namespace tessera::cli
