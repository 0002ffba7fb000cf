// The convolution and pooling ops in the IR: shape inference, Keras "same" padding, the
// errors for impossible geometries, costs, gradient rules (against finite differences in
// double precision, including the gradients of the backprops themselves) and the
// decompositions (against the direct ops, in double precision).
#include <gtest/gtest.h>

#include <map>

#include "grad_check.h"
#include "tessera/core/error.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/conv_geometry.h"
#include "tessera/ir/op_table.h"
#include "tessera/ir/passes.h"

namespace tessera {
namespace {

constexpr int64_t N = kDynamic;

// The message of the Error that `f` throws ("" when it throws none).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ConvOps, InferNHWCShapes) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {N, 28, 28, 3});
  ValueId w = b.parameter("w", Tensor::zeros(kF32, {3, 3, 3, 8}));
  EXPECT_EQ(b.shape(b.conv2d(x, w)), (Shape{N, 26, 26, 8}));
  EXPECT_EQ(b.shape(b.conv2d(x, w, {2, 2}, {0, 1, 0, 1})), (Shape{N, 14, 14, 8}));
  EXPECT_EQ(b.shape(b.conv2d(x, w, {1, 1}, {0, 0, 0, 0}, {2, 3})), (Shape{N, 24, 22, 8}));
  ValueId wg = b.parameter("wg", Tensor::zeros(kF32, {5, 1, 1, 6}));
  EXPECT_EQ(b.shape(b.conv2d(x, wg, {1, 1}, {2, 2, 0, 0}, {1, 1}, 3)), (Shape{N, 28, 28, 6}));
  ValueId dy = b.input("dy", kF32, {N, 26, 26, 8});
  EXPECT_EQ(b.shape(b.conv2d_backprop_input(dy, w, {28, 28, 3})), (Shape{N, 28, 28, 3}));
  EXPECT_EQ(b.shape(b.conv2d_backprop_filter(x, dy, {3, 3, 3, 8})), (Shape{3, 3, 3, 8}));
  ValueId p = b.max_pool2d(x, {2, 2}, {2, 2});
  EXPECT_EQ(b.shape(p), (Shape{N, 14, 14, 3}));
  EXPECT_EQ(b.shape(b.avg_pool2d(x, {3, 3}, {2, 2}, {1, 1, 1, 1})), (Shape{N, 14, 14, 3}));
  EXPECT_EQ(b.shape(b.max_pool2d_grad(x, p, {2, 2}, {2, 2})), (Shape{N, 28, 28, 3}));
  EXPECT_EQ(b.shape(b.avg_pool2d_grad(p, {28, 28, 3}, {2, 2}, {2, 2})), (Shape{N, 28, 28, 3}));
  EXPECT_EQ(b.dtype(b.conv2d(b.cast(x, kBF16), b.cast(w, kBF16))), kBF16);
}

TEST(ConvOps, SamePaddingIsKerasAndTensorFlows) {
  // out = ceil(in / stride), the odd pad element after.
  auto same = [](int64_t in, int64_t k, int64_t s, int64_t d) {
    PadsHW p = same_padding(in, k, s, d);
    return std::pair{p.before, p.after};
  };
  EXPECT_EQ(same(28, 3, 1, 1), (std::pair<int64_t, int64_t>{1, 1}));
  EXPECT_EQ(same(28, 4, 1, 1), (std::pair<int64_t, int64_t>{1, 2}));
  EXPECT_EQ(same(7, 3, 2, 1), (std::pair<int64_t, int64_t>{1, 1}));
  EXPECT_EQ(same(6, 3, 2, 1), (std::pair<int64_t, int64_t>{0, 1}));
  EXPECT_EQ(same(5, 1, 2, 1), (std::pair<int64_t, int64_t>{0, 0}));
  EXPECT_EQ(same(10, 3, 1, 2), (std::pair<int64_t, int64_t>{2, 2}));
  EXPECT_EQ(same(2, 5, 1, 1), (std::pair<int64_t, int64_t>{2, 2}));
}

TEST(ConvOps, ImpossibleGeometriesAreClearErrors) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {N, 5, 5, 4});
  ValueId w = b.parameter("w", Tensor::zeros(kF32, {3, 3, 4, 8}));
  ValueId big = b.parameter("big", Tensor::zeros(kF32, {7, 3, 4, 8}));
  auto conv = [&](ValueId f, Attrs a, const char* name) {
    return error_of([&] { b.emit(OpKind::kConv2D, {x, f}, std::move(a), name); });
  };
  std::string e = conv(big, conv_attrs({1, 1}, {0, 0, 0, 0}, {1, 1}, 1), "too_big");
  EXPECT_NE(e.find("node 'too_big' (conv2d)"), std::string::npos) << e;
  EXPECT_NE(e.find("7x3 kernel"), std::string::npos) << e;
  EXPECT_NE(e.find("5x5 input"), std::string::npos) << e;
  e = conv(w, conv_attrs({1, 1}, {0, 0, 0, 0}, {3, 1}, 1), "dilated");
  EXPECT_NE(e.find("does not fit"), std::string::npos) << e;
  e = conv(w, conv_attrs({0, 1}, {0, 0, 0, 0}, {1, 1}, 1), "stride0");
  EXPECT_NE(e.find("'strides' must be 2 integers >= 1"), std::string::npos) << e;
  EXPECT_NE(e.find("[0, 1]"), std::string::npos) << e;
  e = conv(w, conv_attrs({1, 1}, {0, -1, 0, 0}, {1, 1}, 1), "negpad");
  EXPECT_NE(e.find("'pads' must be 4 integers >= 0"), std::string::npos) << e;
  e = conv(w, conv_attrs({1, 1}, {1, 1}, {1, 1}, 1), "shortpads");
  EXPECT_NE(e.find("[1, 1]"), std::string::npos) << e;
  e = conv(w, conv_attrs({1, 1}, {0, 0, 0, 0}, {1, 1}, 3), "groups3");
  EXPECT_NE(e.find("'groups' 3 must divide both the input channels 4 and the output channels 8"),
            std::string::npos)
      << e;
  e = conv(w, conv_attrs({1, 1}, {0, 0, 0, 0}, {1, 1}, 2), "groups2");
  EXPECT_NE(e.find("the filter [3, 3, 4, 8] has 4 input channels"), std::string::npos) << e;
  EXPECT_NE(e.find("so it needs 2"), std::string::npos) << e;
  e = error_of([&] { b.max_pool2d(x, {2, 2}, {2, 2}, {2, 0, 0, 0}); });
  EXPECT_NE(e.find("must each be smaller than the window [2, 2]"), std::string::npos) << e;
  e = error_of([&] { b.max_pool2d(x, {6, 2}, {1, 1}); });
  EXPECT_NE(e.find("6x2 window"), std::string::npos) << e;
  e = error_of([&] { b.avg_pool2d(x, {0, 2}, {1, 1}); });
  EXPECT_NE(e.find("'window' must be 2 integers >= 1"), std::string::npos) << e;
  e = error_of([&] { b.conv2d(b.input("r3", kF32, {N, 5, 4}), w); });
  EXPECT_NE(e.find("must have rank 4"), std::string::npos) << e;
  e = error_of([&] { b.conv2d(b.cast(x, kF16), w); });
  EXPECT_NE(e.find("same float dtype"), std::string::npos) << e;
  e = error_of([&] { b.conv2d(b.input("xi", kI32, {N, 5, 5, 4}), b.cast(w, kI32)); });
  EXPECT_NE(e.find("dtype i32"), std::string::npos) << e;
  ValueId dy = b.input("dy", kF32, {N, 3, 3, 8});
  e = error_of([&] { b.emit(OpKind::kConv2DBackpropInput, {dy, w}, Attrs()); });
  EXPECT_NE(e.find("missing attribute 'input_shape'"), std::string::npos) << e;
  e = error_of([&] { b.conv2d_backprop_input(dy, w, {6, 5, 4}); });
  EXPECT_NE(e.find("does not match the forward output [N, 4, 3, 8]"), std::string::npos) << e;
}

TEST(ConvOps, CostCountsMultiplyAddsTwice) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {N, 28, 28, 1});
  ValueId w = b.parameter("w", Tensor::zeros(kF32, {3, 3, 1, 32}));
  ValueId y = b.conv2d(x, w);
  OpCost c = op_info(OpKind::kConv2D).cost(b.graph(), b.graph().node(y));
  EXPECT_DOUBLE_EQ(c.flops, 2.0 * 26 * 26 * 32 * 9);  // per sample
  EXPECT_DOUBLE_EQ(c.bytes_read, 4.0 * (28 * 28 + 9 * 32));
  EXPECT_DOUBLE_EQ(c.bytes_written, 4.0 * 26 * 26 * 32);
  ValueId p = b.max_pool2d(y, {2, 2}, {2, 2});
  EXPECT_DOUBLE_EQ(op_info(OpKind::kMaxPool2D).cost(b.graph(), b.graph().node(p)).flops,
                   13.0 * 13 * 32 * 4);
  Graph s = specialize(b.graph(), 8);
  EXPECT_DOUBLE_EQ(op_info(OpKind::kConv2D).cost(s, s.node(y)).flops, 8 * 2.0 * 26 * 26 * 32 * 9);
}

// conv2d with stride, dilation, asymmetric pads and groups: dx and dw against finite
// differences, then the backprops' own gradients (which are conv2d and the other backprop).
TEST(ConvOps, GradientsMatchFiniteDifferences) {
  {
    adtest::GradChecker c;
    ValueId x = c.param("x", {2, 6, 5, 4});
    ValueId w = c.param("w", {2, 3, 2, 6});
    c.check(c.b.conv2d(x, w, {2, 1}, {1, 0, 2, 1}, {2, 1}, 2), {x, w});
  }
  {
    adtest::GradChecker c;
    ValueId dy = c.param("dy", {1, 3, 6, 6});
    ValueId w = c.param("w", {2, 3, 2, 6});
    ValueId dx = c.b.conv2d_backprop_input(dy, w, {6, 5, 4}, {2, 1}, {1, 0, 2, 1}, {2, 1}, 2);
    c.check(dx, {dy, w});
  }
  {
    adtest::GradChecker c;
    ValueId x = c.param("x", {2, 6, 5, 4});
    ValueId dy = c.param("dy", {2, 3, 6, 6});
    ValueId dw = c.b.conv2d_backprop_filter(x, dy, {2, 3, 2, 6}, {2, 1}, {1, 0, 2, 1}, {2, 1}, 2);
    c.check(dw, {x, dy});
  }
}

TEST(ConvOps, PoolingGradientsMatchFiniteDifferences) {
  for (bool max : {true, false}) {
    SCOPED_TRACE(max ? "max" : "avg");
    adtest::GradChecker c(1, max ? 3 : 4);
    ValueId x = c.param("x", {2, 5, 6, 3});
    ValueId y = max ? c.b.max_pool2d(x, {3, 2}, {2, 2}, {1, 1, 0, 1})
                    : c.b.avg_pool2d(x, {3, 2}, {2, 2}, {1, 1, 0, 1});
    c.check(y, {x});
  }
  // The gradients of the gradients: linear in dy (and piecewise constant in x for max).
  adtest::GradChecker c(1, 5);
  ValueId x = c.param("x", {1, 5, 6, 2});
  ValueId dy = c.param("dy", {1, 3, 3, 2});
  c.check(c.b.max_pool2d_grad(x, dy, {3, 2}, {2, 2}, {1, 1, 0, 1}), {x, dy});
  adtest::GradChecker a(1, 6);
  ValueId g = a.param("g", {1, 3, 3, 2});
  a.check(a.b.avg_pool2d_grad(g, {5, 6, 2}, {3, 2}, {2, 2}, {1, 1, 0, 1}), {g});
}

// Each decomposition, evaluated in double precision, equals the op it replaces.
TEST(ConvOps, DecompositionsEqualTheOps) {
  struct Case {
    OpKind op;
    std::vector<Shape> inputs;
    Attrs attrs;
  };
  Attrs conv = conv_attrs({2, 1}, {1, 0, 2, 1}, {2, 1}, 2);
  Attrs pool = pool_attrs({3, 2}, {2, 2}, {1, 1, 0, 1});
  std::vector<Case> cases = {
      {OpKind::kConv2D, {{N, 6, 5, 4}, {2, 3, 2, 6}}, conv},
      {OpKind::kConv2DBackpropInput,
       {{N, 3, 6, 6}, {2, 3, 2, 6}},
       Attrs(conv).set("input_shape", std::vector<int64_t>{6, 5, 4})},
      {OpKind::kConv2DBackpropFilter,
       {{N, 6, 5, 4}, {N, 3, 6, 6}},
       Attrs(conv).set("filter_shape", std::vector<int64_t>{2, 3, 2, 6})},
      {OpKind::kMaxPool2D, {{N, 5, 6, 3}}, pool},
      {OpKind::kMaxPool2DGrad, {{N, 5, 6, 3}, {N, 3, 3, 3}}, pool},
      {OpKind::kAvgPool2D, {{N, 5, 6, 3}}, pool},
      {OpKind::kAvgPool2DGrad,
       {{N, 3, 3, 3}},
       Attrs(pool).set("input_shape", std::vector<int64_t>{5, 6, 3})},
  };
  std::mt19937 rng(11);
  for (const Case& k : cases) {
    SCOPED_TRACE(op_name(k.op));
    GraphBuilder b;
    std::vector<ValueId> in;
    std::map<ValueId, adtest::DTensor> feeds;
    for (size_t i = 0; i < k.inputs.size(); ++i) {
      in.push_back(b.input(fmt::format("x{}", i), kF32, k.inputs[i]));
      feeds[in.back()] = adtest::random_dtensor(k.inputs[i].with_batch(2), rng, -2, 2);
    }
    ValueId y = b.emit(k.op, in, k.attrs);
    b.output(y);
    Graph g = b.finish();
    Graph d = decompose(g, [](const Node&) { return true; });
    for (const Node& n : d.nodes())
      EXPECT_NE(op_info(n.op).op_class, OpClass::kComposite) << n.name;
    adtest::DTensor want = adtest::DoubleEvaluator(g, 2).run(feeds)[g.outputs()[0]];
    adtest::DTensor got = adtest::DoubleEvaluator(d, 2).run(feeds)[d.outputs()[0]];
    ASSERT_EQ(got.shape, want.shape);
    for (int64_t i = 0; i < want.numel(); ++i) ASSERT_NEAR(got.v[i], want.v[i], 1e-12) << i;
  }
}

}  // namespace
}  // namespace tessera
