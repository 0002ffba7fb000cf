// Reference elementwise kernels: unary, binary (numpy broadcasting), comparisons, where, cast.
#include <cmath>
#include <cstring>
#include <limits>

#include "ref_kernels.h"
#include "tessera/core/error.h"

namespace tessera::ref {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double unary_float(OpKind op, double x) {
  switch (op) {
    case OpKind::kNeg:
      return -x;
    case OpKind::kAbs:
      return std::fabs(x);
    case OpKind::kExp:
      return std::exp(x);
    case OpKind::kLog:
      return std::log(x);
    case OpKind::kSqrt:
      return std::sqrt(x);
    case OpKind::kRsqrt:
      return 1.0 / std::sqrt(x);
    case OpKind::kTanh:
      return std::tanh(x);
    case OpKind::kSigmoid:
      return 1.0 / (1.0 + std::exp(-x));
    case OpKind::kRelu:
      return std::isnan(x) ? x : (x > 0 ? x : 0.0);
    case OpKind::kGelu:
      return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    case OpKind::kErf:
      return std::erf(x);
    default:
      break;
  }
  TS_ASSERT(false);
  return 0;
}

// Integer unary ops in uint64 so that -INT_MIN and |INT_MIN| wrap instead of overflowing.
uint64_t unary_int(OpKind op, int64_t x) {
  uint64_t u = static_cast<uint64_t>(x);
  switch (op) {
    case OpKind::kNeg:
      return uint64_t{0} - u;
    case OpKind::kAbs:
      return x < 0 ? uint64_t{0} - u : u;
    case OpKind::kRelu:
      return x > 0 ? u : 0;
    default:
      break;
  }
  TS_ASSERT(false);
  return 0;
}

double binary_float(OpKind op, double a, double b) {
  switch (op) {
    case OpKind::kAdd:
      return a + b;
    case OpKind::kSub:
      return a - b;
    case OpKind::kMul:
      return a * b;
    case OpKind::kDiv:
      return a / b;
    case OpKind::kPow:
      return std::pow(a, b);
    case OpKind::kMaximum:
      return std::isnan(a) || std::isnan(b) ? kNaN : (a > b ? a : b);
    case OpKind::kMinimum:
      return std::isnan(a) || std::isnan(b) ? kNaN : (a < b ? a : b);
    default:
      break;
  }
  TS_ASSERT(false);
  return 0;
}

// For doubles (IEEE: every comparison with NaN is false but not_equal) and for int64.
template <typename T>
bool compare(OpKind op, T a, T b) {
  switch (op) {
    case OpKind::kEqual:
      return a == b;
    case OpKind::kNotEqual:
      return a != b;
    case OpKind::kLess:
      return a < b;
    case OpKind::kLessEqual:
      return a <= b;
    case OpKind::kGreater:
      return a > b;
    case OpKind::kGreaterEqual:
      return a >= b;
    default:
      break;
  }
  TS_ASSERT(false);
  return false;
}

}  // namespace

void unary_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  const Tensor& x = in[0];
  OpKind op = args.node.op;
  with_output(args, [&](Tensor& out) {
    int64_t n = out.numel();
    if (is_integral(x.dtype())) {
      for (int64_t i = 0; i < n; ++i) set_wrapped(out, i, unary_int(op, get_i64(x, i)));
    } else {
      for (int64_t i = 0; i < n; ++i) set_f64(out, i, unary_float(op, get_f64(x, i)));
    }
  });
}

void binary_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  const Tensor& a = in[0];
  const Tensor& b = in[1];
  OpKind op = args.node.op;
  with_output(args, [&](Tensor& out) {
    BroadcastIndexer ia(a.shape(), out.shape()), ib(b.shape(), out.shape());
    int64_t n = out.numel();
    if (!is_integral(a.dtype())) {
      for (int64_t i = 0; i < n; ++i)
        set_f64(out, i, binary_float(op, get_f64(a, ia(i)), get_f64(b, ib(i))));
      return;
    }
    for (int64_t i = 0; i < n; ++i) {
      int64_t x = get_i64(a, ia(i)), y = get_i64(b, ib(i));
      uint64_t ux = static_cast<uint64_t>(x), uy = static_cast<uint64_t>(y);
      uint64_t r = 0;
      switch (op) {
        case OpKind::kAdd:
          r = ux + uy;
          break;
        case OpKind::kSub:
          r = ux - uy;
          break;
        case OpKind::kMul:
          r = ux * uy;
          break;
        case OpKind::kMaximum:
          r = static_cast<uint64_t>(x > y ? x : y);
          break;
        case OpKind::kMinimum:
          r = static_cast<uint64_t>(x < y ? x : y);
          break;
        case OpKind::kDiv:
          if (y == 0)
            fail_at(args, "divisor", unravel(i, out.shape()), y,
                    "integer division by zero (position in the output)");
          // INT64_MIN / -1 overflows in C++; two's complement wraps it to itself. Narrower
          // types do the same through wrap_to (e.g. -128 / -1 = 128 -> -128 in i8).
          r = (x == std::numeric_limits<int64_t>::min() && y == -1) ? ux
                                                                    : static_cast<uint64_t>(x / y);
          break;
        default:
          TS_ASSERT(false);
      }
      set_wrapped(out, i, r);
    }
  });
}

void compare_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  const Tensor& a = in[0];
  const Tensor& b = in[1];
  OpKind op = args.node.op;
  with_output(args, [&](Tensor& out) {
    BroadcastIndexer ia(a.shape(), out.shape()), ib(b.shape(), out.shape());
    bool integral = is_integral(a.dtype());
    for (int64_t i = 0; i < out.numel(); ++i) {
      bool r = integral ? compare<int64_t>(op, get_i64(a, ia(i)), get_i64(b, ib(i)))
                        : compare<double>(op, get_f64(a, ia(i)), get_f64(b, ib(i)));
      store_i64(r ? 1 : 0, elem(out, i), out.dtype());
    }
  });
}

void where_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  const Tensor& cond = in[0];
  const Tensor& a = in[1];
  const Tensor& b = in[2];
  with_output(args, [&](Tensor& out) {
    BroadcastIndexer ic(cond.shape(), out.shape()), ia(a.shape(), out.shape()),
        ib(b.shape(), out.shape());
    size_t es = out.dtype().size();
    // Any dtype (fixed point included): the chosen element's bytes are copied unchanged.
    for (int64_t i = 0; i < out.numel(); ++i) {
      bool c = get_i64(cond, ic(i)) != 0;
      std::memcpy(elem(out, i), c ? elem(a, ia(i)) : elem(b, ib(i)), es);
    }
  });
}

void cast_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  const Tensor& x = in[0];
  with_output(args, [&](Tensor& out) {
    // Element by element through the dtype table's converter: the one definition of every
    // conversion (saturation, NaN -> 0, fixed-point rounding and overflow modes).
    for (int64_t i = 0; i < out.numel(); ++i)
      convert(elem(x, i), x.dtype(), elem(out, i), out.dtype(), 1);
  });
}

}  // namespace tessera::ref
