// Accuracy of the cpu backend's vector transcendental functions against the correctly
// rounded result (double precision libm, rounded to f32), in ulp, over wide ranges, and
// their special values. The measured maxima are printed and recorded in docs/benchmarks.md.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "../../src/backends/cpu/cpu_internal.h"
#include "tessera/backends/cpu/cpu_backend.h"

namespace tessera {
namespace {

// The distance in ulp of `got` from the real `want`, measured in units of the f32 spacing at
// `want` (subnormal spacing below the normal range).
double ulp_error(float got, double want) {
  if (std::isnan(want)) return std::isnan(got) ? 0 : 1e30;
  if (std::isinf(want)) return got == static_cast<float>(want) ? 0 : 1e30;
  if (std::isnan(got) || std::isinf(got)) return 1e30;
  double a = std::fabs(want);
  int e;
  std::frexp(a, &e);
  double spacing = std::ldexp(1.0, std::max(e - 24, -149));
  return std::fabs(static_cast<double>(got) - want) / spacing;
}

struct Sweep {
  double max_ulp = 0;
  float worst = 0;
};

// Evaluates the vector kernel for `op` on every `step`-th float in [lo, hi].
template <typename Ref>
Sweep sweep(OpKind op, float lo, float hi, int n, Ref ref) {
  const cpu::F32Kernels& k = cpu::avx2_f32_kernels();
  std::vector<float> x(n), y(n);
  for (int i = 0; i < n; ++i) x[i] = lo + (hi - lo) * static_cast<float>(i) / (n - 1);
  k.unary[static_cast<int>(op)](x.data(), y.data(), n);
  Sweep s;
  for (int i = 0; i < n; ++i) {
    double u = ulp_error(y[i], ref(static_cast<double>(x[i])));
    if (u > s.max_ulp) {
      s.max_ulp = u;
      s.worst = x[i];
    }
  }
  return s;
}

double gelu_ref(double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); }
double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }

class VecMath : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cpu_has_avx2()) GTEST_SKIP() << "no AVX2/FMA on this machine";
  }
  void check(const char* name, OpKind op, float lo, float hi, double bound,
             double (*ref)(double)) {
    Sweep s = sweep(op, lo, hi, 2000003, ref);
    std::printf("[vecmath] %-8s [%g, %g]: max %.3f ulp at %.9g\n", name, lo, hi, s.max_ulp,
                s.worst);
    EXPECT_LE(s.max_ulp, bound) << name << " worst at " << s.worst;
  }
};

double d_exp(double x) { return std::exp(x); }
double d_log(double x) { return std::log(x); }
double d_tanh(double x) { return std::tanh(x); }
double d_erf(double x) { return std::erf(x); }

TEST_F(VecMath, Exp) {
  check("exp", OpKind::kExp, -87.0f, 88.7f, 3.0, d_exp);
  check("exp", OpKind::kExp, -1.0f, 1.0f, 3.0, d_exp);
  check("exp", OpKind::kExp, -103.0f, -87.0f, 3.0, d_exp);  // subnormal results
}

TEST_F(VecMath, Log) {
  check("log", OpKind::kLog, 1e-30f, 10.0f, 3.0, d_log);
  check("log", OpKind::kLog, 0.5f, 2.0f, 3.0, d_log);
  check("log", OpKind::kLog, 1.0f, 3e38f, 3.0, d_log);
  check("log", OpKind::kLog, 1e-44f, 1e-38f, 3.0, d_log);  // subnormal inputs
}

TEST_F(VecMath, Tanh) {
  check("tanh", OpKind::kTanh, -10.0f, 10.0f, 3.0, d_tanh);
  check("tanh", OpKind::kTanh, -0.7f, 0.7f, 3.0, d_tanh);
  check("tanh", OpKind::kTanh, -1e-3f, 1e-3f, 3.0, d_tanh);
}

TEST_F(VecMath, Erf) {
  check("erf", OpKind::kErf, -6.0f, 6.0f, 3.0, d_erf);
  check("erf", OpKind::kErf, -1e-3f, 1e-3f, 3.0, d_erf);
}

TEST_F(VecMath, SigmoidAndGelu) {
  check("sigmoid", OpKind::kSigmoid, -80.0f, 30.0f, 4.0, sigmoid_ref);
  check("gelu", OpKind::kGelu, -10.0f, 10.0f, 16.0, gelu_ref);
  check("gelu", OpKind::kGelu, -13.0f, -10.0f, 16.0, gelu_ref);  // results near 1e-37
}

TEST_F(VecMath, SpecialValues) {
  const cpu::F32Kernels& k = cpu::avx2_f32_kernels();
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x = {0.0f, -0.0f, inf, -inf, nan, -1.0f, 1e-45f, 100.0f, -200.0f};
  std::vector<float> y(x.size());
  auto run = [&](OpKind op) { k.unary[static_cast<int>(op)](x.data(), y.data(), x.size()); };
  run(OpKind::kExp);
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[2], inf);
  EXPECT_EQ(y[3], 0.0f);
  EXPECT_TRUE(std::isnan(y[4]));
  EXPECT_EQ(y[7], inf);
  EXPECT_EQ(y[8], 0.0f);
  run(OpKind::kLog);
  EXPECT_EQ(y[0], -inf);
  EXPECT_EQ(y[1], -inf);
  EXPECT_EQ(y[2], inf);
  EXPECT_TRUE(std::isnan(y[3]));
  EXPECT_TRUE(std::isnan(y[4]));
  EXPECT_TRUE(std::isnan(y[5]));
  EXPECT_NEAR(y[6], std::log(static_cast<double>(1e-45f)), 1e-5);
  run(OpKind::kTanh);
  EXPECT_EQ(y[2], 1.0f);
  EXPECT_EQ(y[3], -1.0f);
  EXPECT_TRUE(std::isnan(y[4]));
  run(OpKind::kErf);
  EXPECT_EQ(y[2], 1.0f);
  EXPECT_EQ(y[3], -1.0f);
  EXPECT_TRUE(std::isnan(y[4]));
  run(OpKind::kSigmoid);
  EXPECT_EQ(y[2], 1.0f);
  EXPECT_EQ(y[3], 0.0f);
  EXPECT_TRUE(std::isnan(y[4]));
  run(OpKind::kGelu);
  EXPECT_EQ(y[2], inf);
  EXPECT_EQ(y[8], -0.0f);
  EXPECT_TRUE(std::isnan(y[4]));
  run(OpKind::kRelu);
  EXPECT_TRUE(std::isnan(y[4]));
  EXPECT_EQ(y[5], 0.0f);
}

}  // namespace
}  // namespace tessera
