// Embedding, ReversibleEmbedding and PositionEmbedding: a gather from a table (whose
// gradient the IR turns into a scatter_add), the transposed table as an output head, and
// learned positions sliced (or, while decoding, gathered at the cache position) and added.
#include "tessera/nn/embedding.h"

#include <algorithm>

#include "nn_internal.h"
#include "tessera/core/error.h"
#include "tessera/nn/initializers.h"

namespace tessera {
namespace {

// ---- Embedding / ReversibleEmbedding ----------------------------------------------------

class EmbeddingLayer final : public Layer {
 public:
  EmbeddingLayer(int64_t input_dim, int64_t output_dim, EmbeddingOptions o, bool reversible)
      : Layer(default_name(o.name, reversible ? "reversible_embedding" : "embedding")),
        input_dim_(input_dim),
        output_dim_(output_dim),
        opt_(std::move(o)),
        reversible_(reversible) {
    TS_CHECK(input_dim_ > 0 && output_dim_ > 0, ErrorKind::kInvalidArgument,
             "{}: input_dim and output_dim must be > 0, got {} and {}", describe(), input_dim_,
             output_dim_);
    check_initializer(opt_.embeddings_initializer, describe());
  }
  std::string class_name() const override {
    return reversible_ ? "ReversibleEmbedding" : "Embedding";
  }

  ValueId call(CallContext& ctx, std::span<const ValueId> in) override {
    GraphBuilder& b = ctx.b;
    ValueId table = ctx.param(weights()[0]);
    ValueId x = in[0];
    if (b.dtype(x).is_float()) {
      if (reversible_) return b.matmul(x, table, false, true);  // logits = x · tableᵀ
      x = b.cast(x, kI32);
    }
    return b.gather(table, x, 0);
  }

  nlohmann::json config() const override {
    nlohmann::json j = Layer::config();
    j["input_dim"] = input_dim_;
    j["output_dim"] = output_dim_;
    j["embeddings_initializer"] = opt_.embeddings_initializer;
    return j;
  }

 protected:
  void build_weights(std::span<const TensorType> in, Rng& rng) override {
    TS_CHECK(in.size() == 1, ErrorKind::kInvalidArgument, "{}: takes one input, got {}", describe(),
             in.size());
    TS_CHECK(in[0].shape.rank() >= 1, ErrorKind::kInvalidArgument,
             "{}: expects ids [batch, ...], got {}", describe(), in[0].str());
    TS_CHECK(in[0].dtype.is_int() || in[0].dtype.is_float(), ErrorKind::kInvalidArgument,
             "{}: expects integer ids, got {}", describe(), in[0].str());
    add_weight("embeddings",
               initialize(opt_.embeddings_initializer, {input_dim_, output_dim_}, rng));
  }

  // The ids call builds the table; a ReversibleEmbedding may then also be called on hidden
  // states whose last axis is output_dim.
  bool fits_built_weights(std::span<const TensorType> in) const override {
    if (Layer::fits_built_weights(in)) return true;
    if (in.size() != 1) return false;
    const TensorType& t = in[0];
    if (!reversible_ || !t.dtype.is_float()) return t.dtype.is_int() && t.shape.rank() >= 1;
    return t.shape.rank() >= 2 && t.shape[t.shape.rank() - 1] == output_dim_;
  }

 private:
  int64_t input_dim_, output_dim_;
  EmbeddingOptions opt_;
  bool reversible_;
};

// ---- PositionEmbedding ------------------------------------------------------------------

class PositionEmbeddingLayer final : public Layer {
 public:
  PositionEmbeddingLayer(int64_t sequence_length, PositionEmbeddingOptions o)
      : Layer(default_name(o.name, "position_embedding")),
        sequence_length_(sequence_length),
        opt_(std::move(o)) {
    TS_CHECK(sequence_length_ > 0, ErrorKind::kInvalidArgument,
             "{}: sequence_length must be > 0, got {}", describe(), sequence_length_);
    check_initializer(opt_.initializer, describe());
  }
  std::string class_name() const override { return "PositionEmbedding"; }

  ValueId call(CallContext& ctx, std::span<const ValueId> in) override {
    GraphBuilder& b = ctx.b;
    ValueId x = in[0];
    const Shape s = b.shape(x);
    const int64_t t = s[s.rank() - 2], d = s[s.rank() - 1];
    check_length(t);
    ValueId table = ctx.param(weights()[0]);
    ValueId rows;
    if (ctx.decode) {
      // Positions position, …, position + T - 1: a gather, which fails loudly past the table.
      ValueId pos = ctx.decode->position;
      std::vector<int32_t> offsets(static_cast<size_t>(t));
      for (int64_t i = 0; i < t; ++i) offsets[i] = static_cast<int32_t>(i);
      ValueId at = b.add(pos, b.constant(Tensor::from_vector(offsets, Shape{t}, b.dtype(pos))));
      rows = b.gather(table, at, 0);
    } else {
      rows = t == sequence_length_ ? table : b.slice(table, {0, 0}, {t, d});
    }
    if (b.dtype(rows) != b.dtype(x)) rows = b.cast(rows, b.dtype(x));
    return b.add(x, rows);
  }

  nlohmann::json config() const override {
    nlohmann::json j = Layer::config();
    j["sequence_length"] = sequence_length_;
    j["initializer"] = opt_.initializer;
    return j;
  }

 protected:
  void build_weights(std::span<const TensorType> in, Rng& rng) override {
    TS_CHECK(in.size() == 1, ErrorKind::kInvalidArgument, "{}: takes one input, got {}", describe(),
             in.size());
    const Shape& s = in[0].shape;
    TS_CHECK(s.rank() >= 3 && in[0].dtype.is_float(), ErrorKind::kInvalidArgument,
             "{}: expects float inputs [batch, sequence, features], got {}", describe(),
             in[0].str());
    check_length(s[s.rank() - 2]);
    add_weight("embeddings",
               initialize(opt_.initializer, {sequence_length_, s[s.rank() - 1]}, rng));
  }

  // Shorter sequences fit the table (generation feeds prefixes).
  bool fits_built_weights(std::span<const TensorType> in) const override {
    if (in.size() != 1 || in[0].shape.rank() != built_input_types()[0].shape.rank()) return false;
    const Shape& s = in[0].shape;
    const Shape& b = built_input_types()[0].shape;
    return in[0].dtype == built_input_types()[0].dtype && s[s.rank() - 1] == b[b.rank() - 1];
  }

 private:
  void check_length(int64_t t) const {
    TS_CHECK(t >= 1 && t <= sequence_length_, ErrorKind::kInvalidArgument,
             "{}: a sequence of {} positions is longer than the layer's sequence_length {}",
             describe(), t, sequence_length_);
  }

  int64_t sequence_length_;
  PositionEmbeddingOptions opt_;
};

}  // namespace

LayerPtr Embedding(int64_t input_dim, int64_t output_dim, EmbeddingOptions options) {
  return std::make_shared<EmbeddingLayer>(input_dim, output_dim, std::move(options), false);
}

LayerPtr ReversibleEmbedding(int64_t input_dim, int64_t output_dim, EmbeddingOptions options) {
  return std::make_shared<EmbeddingLayer>(input_dim, output_dim, std::move(options), true);
}

LayerPtr PositionEmbedding(int64_t sequence_length, PositionEmbeddingOptions options) {
  return std::make_shared<PositionEmbeddingLayer>(sequence_length, std::move(options));
}

}  // namespace tessera
