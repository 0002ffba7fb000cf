// MultiHeadAttention: projections, the split into heads, rotary position embedding, the
// attention itself (the fused op, the explicit form when dropout acts on the probabilities,
// or the KV-cache form while decoding), the merge of heads and the output projection.
#include "tessera/nn/attention.h"

#include <cmath>
#include <limits>

#include "nn_internal.h"
#include "tessera/core/error.h"
#include "tessera/nn/initializers.h"

namespace tessera {
namespace {

constexpr int64_t kToEnd = std::numeric_limits<int64_t>::max();

// Rotary tables [length, head_dim] in the rotate-half layout: column i and i + head_dim/2
// hold the angle t · base^(-2i/head_dim).
struct RotaryTables {
  Tensor cos, sin;
};

RotaryTables rotary_tables(int64_t length, int64_t head_dim, double base, int64_t first = 0) {
  RotaryTables r{Tensor::zeros(kF32, {length, head_dim}), Tensor::zeros(kF32, {length, head_dim})};
  const int64_t half = head_dim / 2;
  float* c = r.cos.data<float>();
  float* s = r.sin.data<float>();
  for (int64_t t = 0; t < length; ++t)
    for (int64_t i = 0; i < half; ++i) {
      double angle = static_cast<double>(first + t) *
                     std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
      c[t * head_dim + i] = c[t * head_dim + half + i] = static_cast<float>(std::cos(angle));
      s[t * head_dim + i] = s[t * head_dim + half + i] = static_cast<float>(std::sin(angle));
    }
  return r;
}

// x [..., T, hd] -> x · cos + rotate_half(x) · sin, rotate_half(x) = [-x2, x1].
ValueId apply_rotary(GraphBuilder& b, ValueId x, ValueId cos, ValueId sin) {
  const Shape s = b.shape(x);
  const int r = s.rank();
  const int64_t half = s[r - 1] / 2;
  std::vector<int64_t> start(r, 0), mid(r, kToEnd), end(r, kToEnd);
  mid[r - 1] = half;
  std::vector<int64_t> second(r, 0);
  second[r - 1] = half;
  ValueId x1 = b.slice(x, start, mid);
  ValueId x2 = b.slice(x, second, end);
  std::vector<ValueId> parts = {b.neg(x2), x1};
  ValueId rotated = b.concat(parts, -1);
  DType t = b.dtype(x);
  if (b.dtype(cos) != t) {
    cos = b.cast(cos, t);
    sin = b.cast(sin, t);
  }
  return b.add(b.mul(x, cos), b.mul(rotated, sin));
}

class MultiHeadAttentionLayer final : public Layer {
 public:
  MultiHeadAttentionLayer(int64_t heads, int64_t key_dim, MultiHeadAttentionOptions o)
      : Layer(o.name.empty() ? std::string("multi_head_attention") : o.name),
        heads_(heads),
        key_dim_(key_dim),
        value_dim_(o.value_dim > 0 ? o.value_dim : key_dim),
        opt_(std::move(o)) {
    TS_CHECK(heads_ > 0 && key_dim_ > 0 && opt_.value_dim >= 0, ErrorKind::kInvalidArgument,
             "{}: num_heads, key_dim and value_dim must be > 0, got {}, {} and {}", describe(),
             heads_, key_dim_, opt_.value_dim);
    TS_CHECK(opt_.dropout >= 0.0 && opt_.dropout < 1.0, ErrorKind::kInvalidArgument,
             "{}: dropout must be in [0, 1), got {}", describe(), opt_.dropout);
    TS_CHECK(!opt_.rotary || key_dim_ % 2 == 0, ErrorKind::kInvalidArgument,
             "{}: rotary position embedding needs an even key_dim, got {}", describe(), key_dim_);
    TS_CHECK(opt_.rotary_max_length >= 0 && opt_.rotary_base > 0, ErrorKind::kInvalidArgument,
             "{}: rotary_max_length must be >= 0 and rotary_base > 0", describe());
    for (const std::string* init : {&opt_.kernel_initializer, &opt_.bias_initializer})
      check_initializer(*init, describe());
  }
  std::string class_name() const override { return "MultiHeadAttention"; }

  ValueId call(CallContext& ctx, std::span<const ValueId> in) override {
    GraphBuilder& b = ctx.b;
    const bool self = self_attention();
    ValueId xq = in[0];
    ValueId xv = self ? in[0] : in[1];
    ValueId xk = self ? in[0] : in.size() > 2 ? in[2] : in[1];
    ValueId q, k, v;
    size_t w = 0;
    if (self) {
      ValueId qkv = project(ctx, xq, w);
      const int64_t hk = heads_ * key_dim_;
      q = b.slice(qkv, {0, 0, 0}, {kToEnd, kToEnd, hk});
      k = b.slice(qkv, {0, 0, hk}, {kToEnd, kToEnd, 2 * hk});
      v = b.slice(qkv, {0, 0, 2 * hk}, {kToEnd, kToEnd, kToEnd});
    } else {
      q = project(ctx, xq, w);
      k = project(ctx, xk, w);
      v = project(ctx, xv, w);
    }
    q = split_heads(b, q, key_dim_);
    k = split_heads(b, k, key_dim_);
    v = split_heads(b, v, value_dim_);
    const bool decoding = ctx.decode.has_value() && self;
    if (opt_.rotary) {
      q = rotate(ctx, q, decoding);
      k = rotate(ctx, k, decoding);
    }
    ValueId y;
    if (decoding)
      y = attend_cached(ctx, q, k, v);
    else if (ctx.training && opt_.dropout > 0.0)
      y = attend_with_dropout(ctx, q, k, v);
    else
      y = b.attention(q, k, v, opt_.causal);
    return project(ctx, merge_heads(b, y), w);
  }

  nlohmann::json config() const override {
    nlohmann::json j = Layer::config();
    j["num_heads"] = heads_;
    j["key_dim"] = key_dim_;
    j["value_dim"] = value_dim_;
    j["dropout"] = opt_.dropout;
    j["use_bias"] = opt_.use_bias;
    j["causal"] = opt_.causal;
    j["rotary"] = opt_.rotary;
    j["rotary_max_length"] = opt_.rotary_max_length;
    j["rotary_base"] = opt_.rotary_base;
    j["kernel_initializer"] = opt_.kernel_initializer;
    j["bias_initializer"] = opt_.bias_initializer;
    return j;
  }

 protected:
  void build_weights(std::span<const TensorType> in, Rng& rng) override {
    TS_CHECK(in.size() >= 1 && in.size() <= 3, ErrorKind::kInvalidArgument,
             "{}: takes query (self-attention) or query, value[, key]; got {} inputs", describe(),
             in.size());
    for (const TensorType& t : in)
      TS_CHECK(t.shape.rank() == 3 && t.dtype.is_float() && t.dtype == in[0].dtype &&
                   t.shape[1] > 0 && t.shape[2] > 0,
               ErrorKind::kInvalidArgument,
               "{}: expects float inputs [batch, sequence, features] of one dtype, got {}",
               describe(), t.str());
    if (in.size() == 3)
      TS_CHECK(in[1].shape[1] == in[2].shape[1], ErrorKind::kInvalidArgument,
               "{}: value {} and key {} must have the same sequence length", describe(),
               in[1].str(), in[2].str());
    const DType t = in[0].dtype;
    const int64_t hk = heads_ * key_dim_, hv = heads_ * value_dim_, dq = in[0].shape[2];
    auto dense = [&](const std::string& prefix, int64_t rows, int64_t cols) {
      add_weight(prefix + "/kernel", initialize(opt_.kernel_initializer, {rows, cols}, rng, t));
      if (opt_.use_bias)
        add_weight(prefix + "/bias", initialize(opt_.bias_initializer, {cols}, rng, t));
    };
    if (in.size() == 1) {
      dense("qkv", dq, 2 * hk + hv);
    } else {
      const TensorType& key = in.size() > 2 ? in[2] : in[1];
      dense("query", dq, hk);
      dense("key", key.shape[2], hk);
      dense("value", in[1].shape[2], hv);
    }
    dense("attention_output", hv, dq);
    if (opt_.rotary) {
      rotary_length_ = opt_.rotary_max_length > 0 ? opt_.rotary_max_length : in[0].shape[1];
      for (const TensorType& x : in) check_rotary_length(x.shape[1]);
      rotary_ = rotary_tables(rotary_length_, key_dim_, opt_.rotary_base);
    }
  }

  // Sequences of other lengths fit the weights (generation feeds prefixes).
  bool fits_built_weights(std::span<const TensorType> in) const override {
    const std::vector<TensorType>& built = built_input_types();
    if (in.size() != built.size()) return false;
    for (size_t i = 0; i < in.size(); ++i)
      if (in[i].dtype != built[i].dtype || in[i].shape.rank() != 3 ||
          in[i].shape[2] != built[i].shape[2])
        return false;
    return true;
  }

 private:
  bool self_attention() const { return built_input_types().size() == 1; }

  // x · kernel (+ bias) with the next weight pair, advancing `w`.
  ValueId project(CallContext& ctx, ValueId x, size_t& w) {
    ValueId y = ctx.b.matmul(x, ctx.param(weights()[w++]));
    if (opt_.use_bias) y = ctx.b.add(y, ctx.param(weights()[w++]));
    return y;
  }

  // [N, T, heads·dim] -> [N, heads, T, dim].
  ValueId split_heads(GraphBuilder& b, ValueId x, int64_t dim) const {
    const Shape s = b.shape(x);
    return b.permute(b.reshape(x, Shape{s[0], s[1], heads_, dim}), {0, 2, 1, 3});
  }

  // [N, heads, T, dim] -> [N, T, heads·dim].
  ValueId merge_heads(GraphBuilder& b, ValueId y) const {
    const Shape s = b.shape(y);
    return b.reshape(b.permute(y, {0, 2, 1, 3}), Shape{s[0], s[2], s[1] * s[3]});
  }

  void check_rotary_length(int64_t t) const {
    TS_CHECK(t <= rotary_length_, ErrorKind::kInvalidArgument,
             "{}: a sequence of {} positions is longer than the rotary tables' {} "
             "(rotary_max_length)",
             describe(), t, rotary_length_);
  }

  // Rotates x [N, heads, T, key_dim] by its positions: 0..T-1, or position..position+T-1
  // while decoding (gathered from the full tables, so a position past them fails loudly).
  ValueId rotate(CallContext& ctx, ValueId x, bool decoding) const {
    GraphBuilder& b = ctx.b;
    const int64_t t = b.shape(x)[2];
    check_rotary_length(t);
    if (!decoding) {
      RotaryTables rows = rotary_tables(t, key_dim_, opt_.rotary_base);
      return apply_rotary(b, x, b.constant(rows.cos), b.constant(rows.sin));
    }
    ValueId pos = ctx.decode->position;
    std::vector<int64_t> offsets(static_cast<size_t>(t));
    for (int64_t i = 0; i < t; ++i) offsets[i] = i;
    ValueId at = b.add(pos, b.constant(Tensor::from_vector(offsets, Shape{t}, b.dtype(pos))));
    return apply_rotary(b, x, b.gather(b.constant(rotary_.cos), at, 0),
                        b.gather(b.constant(rotary_.sin), at, 0));
  }

  // Explicit probabilities, so that dropout can act on them (training only).
  ValueId attend_with_dropout(CallContext& ctx, ValueId q, ValueId k, ValueId v) const {
    GraphBuilder& b = ctx.b;
    const DType t = b.dtype(q);
    const int64_t tq = b.shape(q)[2], tk = b.shape(k)[2];
    ValueId s = b.mul(b.matmul(q, k, false, true),
                      b.scalar(1.0 / std::sqrt(static_cast<double>(key_dim_)), t));
    ValueId p;
    if (!opt_.causal) {
      p = b.softmax(s, -1);
    } else {
      std::vector<int> visible(static_cast<size_t>(tq * tk));
      for (int64_t i = 0; i < tq; ++i)
        for (int64_t j = 0; j < tk; ++j) visible[i * tk + j] = j <= i + tk - tq;
      ValueId mask = b.constant(Tensor::from_vector(visible, Shape{tq, tk}, kBool));
      ValueId neg_inf = b.scalar(-std::numeric_limits<double>::infinity(), t);
      ValueId masked = b.where(mask, s, neg_inf);
      // With more queries than keys the first rows see nothing: floor their sum so they
      // give 0, as the attention op does.
      ValueId e = b.exp(b.sub(masked, b.reduce_max(masked, {-1}, true)));
      if (tq > tk) e = b.where(mask, e, b.scalar(0.0, t));
      ValueId sum = b.reduce_sum(e, {-1}, true);
      p = tq > tk ? b.div(e, b.maximum(sum, b.scalar(1.0, t))) : b.div(e, sum);
    }
    ValueId step = ctx.step != kNoValue ? ctx.step : b.scalar(0, kI64);
    uint64_t seed = mix64(ctx.seed ^ hash_string(name() + "/attention_dropout"));
    ValueId keep = b.compare(OpKind::kGreaterEqual, b.random_uniform(step, b.shape(p), seed),
                             b.scalar(opt_.dropout, kF32));
    p = b.where(keep, b.div(p, b.scalar(1.0 - opt_.dropout, t)), b.scalar(0.0, t));
    return b.matmul(p, v);
  }

  // Appends k and v at the decode position of this layer's cache and attends over the
  // cache's first position + T keys.
  ValueId attend_cached(CallContext& ctx, ValueId q, ValueId k, ValueId v) {
    GraphBuilder& b = ctx.b;
    KvCache* cache = ctx.decode->cache;
    TS_CHECK(cache != nullptr && ctx.decode->position != kNoValue, ErrorKind::kInvalidArgument,
             "{}: decoding needs a KV cache and a position", describe());
    const Shape s = b.shape(q);
    TS_CHECK(s[0] == cache->batch, ErrorKind::kInvalidArgument,
             "{}: decoding a batch of {} with a KV cache made for {}", describe(), s[0],
             cache->batch);
    TS_CHECK(s[2] <= cache->capacity, ErrorKind::kInvalidArgument,
             "{}: {} new positions do not fit in a KV cache of {} positions", describe(), s[2],
             cache->capacity);
    const DType t = b.dtype(k);
    VariablePtr ck = cache->variable(name() + "/cache_key",
                                     {t, Shape{cache->batch, heads_, cache->capacity, key_dim_}});
    VariablePtr cv = cache->variable(name() + "/cache_value",
                                     {t, Shape{cache->batch, heads_, cache->capacity, value_dim_}});
    TS_CHECK(!ctx.params.count(ck.get()), ErrorKind::kInvalidArgument,
             "{}: called twice in one decode graph; a KV cache holds one sequence per layer",
             describe());
    ValueId pos = ctx.decode->position;
    ValueId keys = b.update_slice(ctx.param(ck), k, pos, 2);
    ValueId values = b.update_slice(ctx.param(cv), v, pos, 2);
    b.update(ctx.param(ck), keys);
    b.update(ctx.param(cv), values);
    ValueId len = b.add(pos, b.scalar(static_cast<double>(s[2]), b.dtype(pos)));
    return b.attention(q, keys, values, opt_.causal, std::nullopt, len);
  }

  int64_t heads_, key_dim_, value_dim_;
  MultiHeadAttentionOptions opt_;
  int64_t rotary_length_ = 0;
  RotaryTables rotary_;
};

}  // namespace

LayerPtr MultiHeadAttention(int64_t num_heads, int64_t key_dim, MultiHeadAttentionOptions options) {
  return std::make_shared<MultiHeadAttentionLayer>(num_heads, key_dim, std::move(options));
}

}  // namespace tessera
