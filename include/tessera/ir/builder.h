// GraphBuilder: the one way to add nodes. Every call infers the node's type through the op
// table and throws an Error naming the node, the op and the input types when they do not
// fit, so a malformed graph cannot be built.
//
//   GraphBuilder b;
//   ValueId x = b.input("x", kF32, {kDynamic, 32});
//   ValueId w = b.parameter("dense/kernel", Tensor::zeros(kF32, {32, 10}));
//   ValueId y = b.relu(b.add(b.matmul(x, w), b.parameter("dense/bias", ...)));
//   b.output(y);
//   Graph g = b.finish();
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/ir/graph.h"

namespace tessera {

class GraphBuilder {
 public:
  GraphBuilder() = default;
  explicit GraphBuilder(Graph graph) : g_(std::move(graph)) {}

  // Generic: appends a node of any op, inferring its type. Name defaults to "<op>_<id>"
  // (prefixed by the scope, see set_scope).
  ValueId emit(OpKind op, std::span<const ValueId> inputs, Attrs attrs = {},
               std::string name = {});
  ValueId emit(OpKind op, std::initializer_list<ValueId> inputs, Attrs attrs = {},
               std::string name = {});

  // Leaves
  ValueId input(std::string name, DType dtype, const Shape& shape);
  ValueId parameter(std::string name, Tensor value, bool trainable = true);
  ValueId constant(Tensor value, std::string name = {});
  ValueId scalar(double value, DType dtype = kF32);  // rank-0 constant

  // Elementwise
  ValueId neg(ValueId x);
  ValueId abs(ValueId x);
  ValueId exp(ValueId x);
  ValueId log(ValueId x);
  ValueId sqrt(ValueId x);
  ValueId rsqrt(ValueId x);
  ValueId tanh(ValueId x);
  ValueId sigmoid(ValueId x);
  ValueId relu(ValueId x);
  ValueId gelu(ValueId x);
  ValueId erf(ValueId x);
  ValueId add(ValueId a, ValueId b);
  ValueId sub(ValueId a, ValueId b);
  ValueId mul(ValueId a, ValueId b);
  ValueId div(ValueId a, ValueId b);
  ValueId pow(ValueId a, ValueId b);
  ValueId maximum(ValueId a, ValueId b);
  ValueId minimum(ValueId a, ValueId b);
  ValueId compare(OpKind op, ValueId a, ValueId b);  // kEqual … kGreaterEqual
  ValueId where(ValueId cond, ValueId a, ValueId b);
  ValueId cast(ValueId x, DType dtype);

  // Linear algebra: [..., M, K] x [..., K, N] with broadcast batch dims.
  ValueId matmul(ValueId a, ValueId b, bool transpose_a = false, bool transpose_b = false);
  // Attention and sequences (docs/ops.md). attention: q [..., Tq, D], k [..., Tk, D],
  // v [..., Tk, Dv] -> [..., Tq, Dv]; scale defaults to 1/√D; `kv_len` (a rank-0 i32/i64
  // value, optional) limits the keys to j < kv_len; causal masks are aligned bottom-right.
  ValueId attention(ValueId q, ValueId k, ValueId v, bool causal = false,
                    std::optional<double> scale = std::nullopt, ValueId kv_len = kNoValue);
  // x with x[..., start:start+U, ...] (along `axis`) replaced by `update`; `start` is a
  // rank-0 i32/i64 value, clamped to [0, dim - U].
  ValueId update_slice(ValueId x, ValueId update, ValueId start, int64_t axis);
  // x[..., start:start+size, ...] along `axis`, `start` clamped to [0, dim - size].
  ValueId dynamic_slice(ValueId x, ValueId start, int64_t axis, int64_t size);

  // Reductions: negative axes count from the end; an empty list reduces every axis.
  ValueId reduce_sum(ValueId x, std::vector<int64_t> axes, bool keepdims = false);
  ValueId reduce_mean(ValueId x, std::vector<int64_t> axes, bool keepdims = false);
  ValueId reduce_max(ValueId x, std::vector<int64_t> axes, bool keepdims = false);

  // Data movement. Shapes may contain kDynamic (the batch size).
  ValueId reshape(ValueId x, const Shape& shape);
  ValueId permute(ValueId x, std::vector<int64_t> perm);
  ValueId broadcast(ValueId x, const Shape& shape);
  ValueId slice(ValueId x, std::vector<int64_t> starts, std::vector<int64_t> ends,
                std::vector<int64_t> steps = {});
  ValueId concat(std::span<const ValueId> xs, int64_t axis);
  ValueId pad(ValueId x, std::vector<int64_t> before, std::vector<int64_t> after,
              double value = 0.0);

  // Convolution and pooling (builder_conv.cpp; docs/ops.md). x is NHWC, w is HWIO
  // [KH, KW, C/groups, OC]; strides, dilations and pooling windows are [h, w], pads are
  // explicit [top, bottom, left, right] (same_padding() in conv_geometry.h computes Keras'
  // "same"). The backprops are what conv2d's gradient emits; input_shape is [H, W, C] and
  // filter_shape [KH, KW, C/groups, OC] of the forward op.
  ValueId conv2d(ValueId x, ValueId w, std::vector<int64_t> strides = {1, 1},
                 std::vector<int64_t> pads = {0, 0, 0, 0},
                 std::vector<int64_t> dilations = {1, 1}, int64_t groups = 1);
  ValueId conv2d_backprop_input(ValueId dy, ValueId w, const Shape& input_shape,
                                std::vector<int64_t> strides = {1, 1},
                                std::vector<int64_t> pads = {0, 0, 0, 0},
                                std::vector<int64_t> dilations = {1, 1}, int64_t groups = 1);
  ValueId conv2d_backprop_filter(ValueId x, ValueId dy, const Shape& filter_shape,
                                 std::vector<int64_t> strides = {1, 1},
                                 std::vector<int64_t> pads = {0, 0, 0, 0},
                                 std::vector<int64_t> dilations = {1, 1}, int64_t groups = 1);
  ValueId max_pool2d(ValueId x, std::vector<int64_t> window, std::vector<int64_t> strides,
                     std::vector<int64_t> pads = {0, 0, 0, 0});
  ValueId max_pool2d_grad(ValueId x, ValueId dy, std::vector<int64_t> window,
                          std::vector<int64_t> strides, std::vector<int64_t> pads = {0, 0, 0, 0});
  ValueId avg_pool2d(ValueId x, std::vector<int64_t> window, std::vector<int64_t> strides,
                     std::vector<int64_t> pads = {0, 0, 0, 0});
  ValueId avg_pool2d_grad(ValueId dy, const Shape& input_shape, std::vector<int64_t> window,
                          std::vector<int64_t> strides, std::vector<int64_t> pads = {0, 0, 0, 0});

  // Indexing
  ValueId gather(ValueId data, ValueId indices, int64_t axis = 0);
  ValueId scatter_add(ValueId updates, ValueId indices, int64_t axis, int64_t dim_size);
  ValueId one_hot(ValueId indices, int64_t depth, DType dtype = kF32);

  // Random numbers: f32 uniform in [0, 1) of `shape` (kDynamic = the batch); element i is a
  // pure function of (seed, step, i). `step` is an i64 scalar, so masks change per step.
  ValueId random_uniform(ValueId step, const Shape& shape, uint64_t seed);

  // Composites
  ValueId softmax(ValueId x, int64_t axis = -1);
  ValueId log_softmax(ValueId x, int64_t axis = -1);
  // Per-sample loss -log softmax(logits)[label]: logits [..., C], labels int [...].
  ValueId cross_entropy(ValueId logits, ValueId labels);
  // Normalization over the last axis of x [..., C]; gamma and beta are [C] of x's dtype.
  // layer_norm: (x - mean) / sqrt(var + epsilon) * gamma + beta (biased variance);
  // rms_norm: x / sqrt(mean(x²) + epsilon) * gamma.
  ValueId layer_norm(ValueId x, ValueId gamma, ValueId beta, double epsilon = 1e-5);
  ValueId rms_norm(ValueId x, ValueId gamma, double epsilon = 1e-6);
  // d loss / d x of the two, given dy (the gradient of their output); the gradient rules
  // emit these, and reduce_sum primitives for d gamma and d beta.
  ValueId layer_norm_grad_input(ValueId x, ValueId gamma, ValueId dy, double epsilon);
  ValueId rms_norm_grad_input(ValueId x, ValueId gamma, ValueId dy, double epsilon);

  // Helpers for gradient rules: sums `x` down to `shape` (undoing broadcasting).
  ValueId sum_to_shape(ValueId x, const Shape& shape);

  void output(ValueId v) { g_.outputs().push_back(v); }
  void update(ValueId parameter, ValueId value);

  // By value: emitting a node may move the graph's nodes, which would leave a reference
  // taken before it dangling.
  TensorType type(ValueId v) const { return g_.type(v); }
  Shape shape(ValueId v) const { return g_.type(v).shape; }
  DType dtype(ValueId v) const { return g_.type(v).dtype; }
  const Graph& graph() const { return g_; }
  Graph& graph() { return g_; }
  Graph finish() { return std::move(g_); }

  // A name scope: nodes emitted without an explicit name are called "<scope>/<op>_<id>".
  // Models set it to the layer being called ("dense_1"), autodiff to "<layer>/grad", the
  // training step to "loss" and "optimizer", so reports and simulators can attribute every
  // node of a step to a layer.
  const std::string& scope() const { return scope_; }
  void set_scope(std::string scope) { scope_ = std::move(scope); }
  // Sets a scope for its lifetime and restores the previous one.
  class ScopeGuard {
   public:
    ScopeGuard(GraphBuilder& b, std::string scope) : b_(b), saved_(b.scope()) {
      b_.set_scope(std::move(scope));
    }
    ~ScopeGuard() { b_.set_scope(std::move(saved_)); }
    ScopeGuard(const ScopeGuard&) = delete;
    ScopeGuard& operator=(const ScopeGuard&) = delete;

   private:
    GraphBuilder& b_;
    std::string saved_;
  };

 private:
  std::string default_name(std::string_view kind) const;
  ValueId unary(OpKind op, ValueId x);
  ValueId binary(OpKind op, ValueId a, ValueId b);
  Graph g_;
  std::string scope_;
};

}  // namespace tessera
