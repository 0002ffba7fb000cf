// cpu backend kernels against naive double-precision references written here (independent of
// the ref backend), AVX2 vs scalar agreement, determinism across thread counts, in-place
// execution and error cases.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "tessera/backends/cpu/cpu_backend.h"
#include "tessera/backends/kernel_executable.h"
#include "tessera/core/error.h"
#include "tessera/core/thread_pool.h"
#include "tessera/ir/builder.h"
#include "cpu_test_util.h"

namespace tessera {
namespace {
using namespace cpu_test;  // NOLINT

double ref_unary(OpKind op, double x) {
  switch (op) {
    case OpKind::kNeg: return -x;
    case OpKind::kAbs: return std::fabs(x);
    case OpKind::kRelu: return x > 0 ? x : 0;
    case OpKind::kExp: return std::exp(x);
    case OpKind::kLog: return std::log(x);
    case OpKind::kSqrt: return std::sqrt(x);
    case OpKind::kRsqrt: return 1 / std::sqrt(x);
    case OpKind::kTanh: return std::tanh(x);
    case OpKind::kSigmoid: return 1 / (1 + std::exp(-x));
    case OpKind::kGelu: return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
    case OpKind::kErf: return std::erf(x);
    default: return NAN;
  }
}

double ref_binary(OpKind op, double a, double b) {
  switch (op) {
    case OpKind::kAdd: return a + b;
    case OpKind::kSub: return a - b;
    case OpKind::kMul: return a * b;
    case OpKind::kDiv: return a / b;
    case OpKind::kPow: return std::pow(a, b);
    case OpKind::kMaximum: return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
    case OpKind::kMinimum: return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
    default: return NAN;
  }
}

const OpKind kUnaryFloat[] = {OpKind::kNeg,  OpKind::kAbs,     OpKind::kRelu, OpKind::kExp,
                              OpKind::kLog,  OpKind::kSqrt,    OpKind::kRsqrt, OpKind::kTanh,
                              OpKind::kSigmoid, OpKind::kGelu, OpKind::kErf};
const OpKind kBinaryFloat[] = {OpKind::kAdd, OpKind::kSub,     OpKind::kMul,    OpKind::kDiv,
                               OpKind::kPow, OpKind::kMaximum, OpKind::kMinimum};

TEST(CpuElementwise, UnaryF32MatchesReferenceOnBothPaths) {
  for (int64_t n : {1, 7, 8, 9, 31, 1000, 70001}) {
    Tensor x = random_tensor(kF32, {n}, 1, -4, 4);
    Tensor pos = random_tensor(kF32, {n}, 2, 0.01, 50);
    for (OpKind op : kUnaryFloat) {
      bool positive = op == OpKind::kLog || op == OpKind::kSqrt || op == OpKind::kRsqrt;
      const Tensor& in = positive ? pos : x;
      std::vector<double> want(n);
      for (int64_t i = 0; i < n; ++i) want[i] = ref_unary(op, in.get(i));
      both_paths([&] {
        SCOPED_TRACE(std::string(op_name(op)) + " n=" + std::to_string(n));
        expect_close(run_op(op, {in}), want, 2e-6, 1e-7);
      });
    }
  }
}

TEST(CpuElementwise, BinaryF32BroadcastShapes) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{1000}, {1000}}, {{64, 33}, {33}},      {{64, 33}, {}},   {{}, {17, 5}},
      {{4, 1, 5}, {3, 1}}, {{2, 3, 4, 5}, {3, 1, 5}}, {{7, 1}, {1, 9}}, {{1}, {1}}};
  for (const auto& [sa, sb] : cases) {
    Tensor a = random_tensor(kF32, sa, 3, -2, 2);
    Tensor b = random_tensor(kF32, sb, 4, 0.5, 2);
    Shape out;
    ASSERT_TRUE(broadcast_shapes(sa, sb, &out));
    for (OpKind op : kBinaryFloat) {
      std::vector<double> want(out.numel());
      for (int64_t i = 0; i < out.numel(); ++i) {
        double x = a.get(broadcast_index(out, sa, i)), y = b.get(broadcast_index(out, sb, i));
        want[i] = ref_binary(op, op == OpKind::kPow ? std::fabs(x) : x, y);
      }
      Tensor aa = op == OpKind::kPow ? run_op(OpKind::kAbs, {a}) : a;
      both_paths([&] {
        SCOPED_TRACE(std::string(op_name(op)) + " " + sa.str() + " " + sb.str());
        Tensor y = run_op(op, {aa, b});
        EXPECT_EQ(y.shape(), out);
        expect_close(y, want, 2e-6, 1e-7);
      });
    }
  }
}

TEST(CpuElementwise, NanPropagatesThroughMaxMinRelu) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor a = Tensor::from_vector<float>({nan, 1, nan, -2, 3, 0, 0, 0, 5}, {9});
  Tensor b = Tensor::from_vector<float>({1, nan, nan, -3, 2, 0, 0, 0, nan}, {9});
  both_paths([&] {
    for (OpKind op : {OpKind::kMaximum, OpKind::kMinimum}) {
      Tensor y = run_op(op, {a, b});
      for (int i : {0, 1, 2, 8}) EXPECT_TRUE(std::isnan(y.get(i))) << op_name(op) << i;
    }
    EXPECT_TRUE(std::isnan(run_op(OpKind::kRelu, {a}).get(0)));
  });
}

TEST(CpuElementwise, HalfTypesRoundOnceFromF32) {
  for (DType t : {kF16, kBF16}) {
    Tensor x = random_tensor(t, {3, 37}, 5, -3, 3);
    Tensor b = random_tensor(t, {37}, 6, -3, 3);
    Tensor y = run_op(OpKind::kTanh, {x});
    Tensor z = run_op(OpKind::kAdd, {x, b});
    for (int64_t i = 0; i < x.numel(); ++i) {
      // Exactly the f32 result rounded through the dtype table.
      Tensor r = Tensor::scalar(std::tanh(static_cast<float>(x.get(i))), kF32).to(t);
      EXPECT_NEAR(y.get(i), r.get(0), std::fabs(r.get(0)) * 1e-2) << t.name() << i;
      float sum = static_cast<float>(x.get(i)) + static_cast<float>(b.get(i % 37));
      EXPECT_EQ(z.get(i), Tensor::scalar(sum, kF32).to(t).get(0)) << t.name() << i;
    }
  }
}

TEST(CpuElementwise, IntegersWrapAndTruncate) {
  Tensor a = Tensor::from_vector<int64_t>({127, -128, 100, -7, 7, -128}, {6}, kI8);
  Tensor b = Tensor::from_vector<int64_t>({1, -1, 3, 2, -2, -1}, {6}, kI8);
  Tensor s = run_op(OpKind::kAdd, {a, b});
  EXPECT_EQ(s.get(0), -128);  // 127 + 1 wraps
  EXPECT_EQ(s.get(1), 127);   // -128 - 1 wraps
  Tensor m = run_op(OpKind::kMul, {a, b});
  EXPECT_EQ(m.get(2), 44);  // 300 mod 256
  Tensor d = run_op(OpKind::kDiv, {a, b});
  EXPECT_EQ(d.get(3), -3);    // truncation toward zero
  EXPECT_EQ(d.get(4), -3);
  EXPECT_EQ(d.get(5), -128);  // -128 / -1 wraps
  EXPECT_EQ(run_op(OpKind::kNeg, {a}).get(1), -128);
  EXPECT_EQ(run_op(OpKind::kAbs, {a}).get(3), 7);
  Tensor big = Tensor::from_vector<int64_t>({INT32_MAX, 5}, {2}, kI32);
  EXPECT_EQ(run_op(OpKind::kAdd, {big, big}).get(0), -2);
  Tensor l = Tensor::from_vector<int64_t>({INT64_MAX, 3}, {2}, kI64);
  Tensor one = Tensor::from_vector<int64_t>({1}, {1}, kI64);
  EXPECT_EQ(run_op(OpKind::kAdd, {l, one}).get(1), 4);
  EXPECT_EQ(run_op(OpKind::kMaximum, {l, one}).get(1), 3);
}

TEST(CpuElementwise, IntegerDivisionByZeroNamesTheNode) {
  Tensor a = Tensor::from_vector<int64_t>({1, 2, 3}, {3}, kI32);
  Tensor b = Tensor::from_vector<int64_t>({1, 0, 3}, {3}, kI32);
  try {
    run_op(OpKind::kDiv, {a, b});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("node_under_test"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("division by zero"), std::string::npos) << e.what();
  }
}

TEST(CpuElementwise, InPlaceOutputEqualsInput) {
  Tensor base = random_tensor(kF32, {4, 1000}, 7);
  Tensor bias = random_tensor(kF32, {1000}, 8);
  GraphBuilder b;
  ValueId x = b.input("x", kF32, base.shape());
  ValueId bb = b.input("b", kF32, bias.shape());
  ValueId add = b.add(x, bb);
  ValueId th = b.tanh(x);
  Graph g = b.finish();
  both_paths([&] {
    Tensor want_add = evaluate_with_kernels(g, add, std::vector<Tensor>{base, bias}, cpu_kernel,
                                            "cpu");
    Tensor want_tanh = evaluate_with_kernels(g, th, std::vector<Tensor>{base}, cpu_kernel, "cpu");
    for (ValueId id : {add, th}) {
      Tensor buf = base.clone();
      std::vector<Tensor> ins = {buf, bias};
      if (id == th) ins.pop_back();
      KernelArgs args{g, id, g.node(id), ins, buf};
      cpu_kernel(g, id)(args);
      const Tensor& want = id == add ? want_add : want_tanh;
      for (int64_t i = 0; i < buf.numel(); ++i) ASSERT_EQ(buf.get(i), want.get(i)) << i;
    }
  });
}

TEST(CpuCompare, IeeeNanAndBroadcast) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor a = Tensor::from_vector<float>({1, 2, nan, 4}, {4});
  Tensor b = Tensor::from_vector<float>({2}, {1});
  auto vals = [](const Tensor& t) {
    std::vector<int> v;
    for (int64_t i = 0; i < t.numel(); ++i) v.push_back(static_cast<int>(t.get(i)));
    return v;
  };
  EXPECT_EQ(vals(run_op(OpKind::kLess, {a, b})), (std::vector<int>{1, 0, 0, 0}));
  EXPECT_EQ(vals(run_op(OpKind::kGreaterEqual, {a, b})), (std::vector<int>{0, 1, 0, 1}));
  EXPECT_EQ(vals(run_op(OpKind::kEqual, {a, b})), (std::vector<int>{0, 1, 0, 0}));
  EXPECT_EQ(vals(run_op(OpKind::kNotEqual, {a, b})), (std::vector<int>{1, 0, 1, 1}));
  Tensor h = a.to(kF16);
  EXPECT_EQ(vals(run_op(OpKind::kLessEqual, {h, b.to(kF16)})), (std::vector<int>{1, 1, 0, 0}));
  Tensor i = Tensor::from_vector<int64_t>({-5, 5}, {2}, kI8);
  Tensor z = Tensor::from_vector<int64_t>({0}, {}, kI8);
  EXPECT_EQ(vals(run_op(OpKind::kGreater, {i, z})), (std::vector<int>{0, 1}));
}

TEST(CpuCompare, WhereBroadcastsAllThree) {
  Tensor c = Tensor::from_vector<int>({1, 0, 1}, {3, 1}, kBool);
  Tensor a = Tensor::from_vector<int64_t>({10, 20}, {2}, kI64);
  Tensor b = Tensor::from_vector<int64_t>({-1}, {}, kI64);
  Tensor y = run_op(OpKind::kWhere, {c, a, b});
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  std::vector<double> want = {10, 20, -1, -1, 10, 20};
  expect_close(y, want, 0, 0);
  Tensor hf = run_op(OpKind::kWhere, {c, a.to(kF16), b.to(kF16)});
  expect_close(hf, want, 0, 0);
}

TEST(CpuCast, AnyToAnyThroughTheTable) {
  Tensor x = Tensor::from_vector<float>({1.75f, -2.5f, 300.0f, 0.0f, NAN}, {5});
  Tensor i8 = run_op(OpKind::kCast, {x}, Attrs().set("dtype", kI8));
  EXPECT_EQ(i8.get(0), 1);
  EXPECT_EQ(i8.get(1), -2);
  EXPECT_EQ(i8.get(2), 127);  // saturates
  EXPECT_EQ(i8.get(4), 0);    // NaN -> 0
  Tensor bl = run_op(OpKind::kCast, {x}, Attrs().set("dtype", kBool));
  EXPECT_EQ(bl.get(0), 1);
  EXPECT_EQ(bl.get(3), 0);
  DType q = DType::fixed(8, 4, true, Rounding::kHalfEven, Overflow::kSaturate);
  Tensor fx = run_op(OpKind::kCast, {x}, Attrs().set("dtype", q));
  EXPECT_EQ(fx.dtype(), q);
  EXPECT_DOUBLE_EQ(fx.get(0), 1.75);
  Tensor back = run_op(OpKind::kCast, {fx}, Attrs().set("dtype", kF32));
  EXPECT_DOUBLE_EQ(back.get(1), -2.5);
  EXPECT_DOUBLE_EQ(back.get(2), 7.9375);  // saturated at the format's max
  Tensor bf = run_op(OpKind::kCast, {x}, Attrs().set("dtype", kBF16));
  EXPECT_EQ(bf.get(2), 300.0);
}

}  // namespace
}  // namespace tessera
