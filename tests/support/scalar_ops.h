// The scalar meaning of every elementwise op, in double, for the test-only interpreters
// (tests/ir): written from docs/ops.md independently of the backends, so the interpreters
// can check them. Comparisons give 1 or 0.
//
//   double y = test_support::scalar_unary(OpKind::kGelu, x);
#pragma once

#include <algorithm>
#include <cmath>

#include "tessera/core/error.h"
#include "tessera/ir/op_kind.h"

namespace tessera::test_support {

inline double scalar_unary(OpKind op, double x) {
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
      return x > 0 ? x : 0.0;
    case OpKind::kGelu:
      return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    case OpKind::kErf:
      return std::erf(x);
    default:
      throw_error(ErrorKind::kUnsupported, "test interpreter: not a unary op");
  }
}

inline double scalar_binary(OpKind op, double a, double b) {
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
      return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
    case OpKind::kMinimum:
      return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
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
      throw_error(ErrorKind::kUnsupported, "test interpreter: not a binary op");
  }
}

}  // namespace tessera::test_support
