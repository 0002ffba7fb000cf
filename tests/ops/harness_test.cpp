// Checks of the harness itself: the comparison catches what it must and allows what it
// should, and the generated inputs cover what the cases ask for.
#include "harness.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tessera::ops_test {
namespace {

Tensor one(double v, DType t) { return Tensor::from_vector<double>({v}, {1}, t); }

TEST(Harness, CompareF32UsesRelativeAndAbsoluteTolerance) {
  Tolerance tol;
  EXPECT_EQ(compare(one(1000, kF32), one(1000.005, kF32), tol), "");
  EXPECT_NE(compare(one(1000, kF32), one(1000.05, kF32), tol), "");
  EXPECT_EQ(compare(one(0, kF32), one(5e-7, kF32), tol), "");
  EXPECT_NE(compare(one(0, kF32), one(5e-6, kF32), tol), "");
  EXPECT_NE(compare(one(std::nan(""), kF32), one(0, kF32), tol), "");
  EXPECT_NE(compare(one(0, kF32), one(std::nan(""), kF32), tol), "");
  EXPECT_EQ(compare(one(std::nan(""), kF32), one(std::nan(""), kF32), tol), "");
  EXPECT_EQ(compare(one(INFINITY, kF32), one(INFINITY, kF32), tol), "");
  EXPECT_NE(compare(one(INFINITY, kF32), one(-INFINITY, kF32), tol), "");
}

TEST(Harness, CompareHalfTypesInUlps) {
  Tolerance tol;                      // 2 ulps
  double ulp = std::ldexp(1.0, -10);  // f16 at [1, 2)
  EXPECT_EQ(compare(one(1, kF16), one(1 + 2 * ulp, kF16), tol), "");
  EXPECT_NE(compare(one(1, kF16), one(1 + 3 * ulp, kF16), tol), "");
  double bulp = std::ldexp(1.0, -7);  // bf16 at [1, 2)
  EXPECT_EQ(compare(one(1.5, kBF16), one(1.5 - 2 * bulp, kBF16), tol), "");
  EXPECT_NE(compare(one(1.5, kBF16), one(1.5 - 3 * bulp, kBF16), tol), "");
}

TEST(Harness, CompareIntegersBoolsAndFixedExactly) {
  Tolerance tol;
  EXPECT_EQ(compare(one(5, kI32), one(5, kI32), tol), "");
  EXPECT_NE(compare(one(5, kI32), one(6, kI32), tol), "");
  EXPECT_NE(compare(one(0, kBool), one(1, kBool), tol), "");
  Tensor a = Tensor::from_vector<int64_t>({0}, {1}, kI64), b = a.clone();
  store_i64(INT64_MAX, a.raw_data(), kI64);
  store_i64(INT64_MAX - 1, b.raw_data(), kI64);  // equal as doubles, different as integers
  EXPECT_NE(compare(a, b, tol), "");
  DType q = DType::fixed(16, 6);
  EXPECT_EQ(compare(one(1.25, q), one(1.25, q), tol), "");
  EXPECT_NE(compare(one(1.25, q), one(1.25 + std::ldexp(1.0, -10), q), tol), "");
  EXPECT_NE(compare(one(1, kF32), one(1, kF16), tol), "");  // dtypes differ
}

TEST(Harness, InputsFollowTheirArgs) {
  for (const OpCase& c : op_cases()) {
    if (c.name != "log" && c.name != "gather_axis0_negative" && c.name != "div_broadcast") continue;
    for (DType dt : c.dtypes) {
      std::vector<Tensor> in = make_inputs(c, dt, 1, 3, false);
      for (size_t k = 0; k < c.args.size(); ++k) {
        const Arg& a = c.args[k];
        for (int64_t i = 0; i < in[k].numel(); ++i) {
          double v = in[k].get(i);
          if (a.kind == ArgKind::kIndex || dt.is_float()) {
            double lo = a.random_sign ? -a.hi : a.lo;
            EXPECT_TRUE(v >= lo - 1e-2 && v <= a.hi + 1e-2) << c.name << " " << v;
          }
          if (a.nonzero) {
            EXPECT_NE(v, 0) << c.name;
          }
          if (a.random_sign && dt.is_float()) {
            EXPECT_GE(std::fabs(v), a.lo - 1e-2) << c.name;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace tessera::ops_test
