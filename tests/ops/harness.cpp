// The harness machinery: graphs and inputs from op cases, running on a backend, and the
// per-dtype comparison.
//
// Tolerances of the forward check (backend vs the double-precision oracle `ref`):
//
//   dtype            | agree when
//   -----------------+--------------------------------------------------------------------
//   f32              | |got - ref| <= 1e-5 * s * |ref| + 1e-6 * s   (s = tol_scale: 1, or
//                    |   10 for matmul, reductions and softmax, which accumulate in f32)
//   f16, bf16        | |got - ref| <= 2 ulps of ref in the type (computing in f32 and
//                    |   rounding once may land one ulp off the double-rounded oracle)
//   i8, i32, i64     | exact (wrapping arithmetic is specified bit for bit)
//   bool             | exact
//   fixed<W,I>       | exact raw integers (the dtype table is the one converter)
//   any float        | NaN where ref has NaN; infinities equal
//
// The decomposition and gradient checks use their own, documented, tolerances.
#include "harness.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "tessera/backends/scheduler.h"
#include "tessera/core/error.h"
#include "tessera/core/rng.h"
#include "tessera/ir/fusion.h"
#include "tessera/ir/op_table.h"

namespace tessera::ops_test {
namespace {

DType arg_dtype(const Arg& a, DType dtype) {
  switch (a.kind) {
    case ArgKind::kData:
      return dtype;
    case ArgKind::kIndex:
      return a.index_dtype;
    case ArgKind::kBool:
      return kBool;
  }
  return dtype;
}

std::pair<int64_t, int64_t> int_range(DType t) {
  switch (t.id()) {
    case DTypeId::kI8:
      return {INT8_MIN, INT8_MAX};
    case DTypeId::kI32:
      return {INT32_MIN, INT32_MAX};
    case DTypeId::kBool:
      return {0, 1};
    default:
      return {INT64_MIN, INT64_MAX};
  }
}

int64_t draw_int(Rng& rng, int64_t lo, int64_t hi) {
  uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  uint64_t r = span == UINT64_MAX ? rng.next_u64() : rng.next_below(span + 1);
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + r);
}

void fill_arg(const Arg& a, Tensor& t, Rng& rng, bool specials) {
  DType dt = t.dtype();
  int64_t n = t.numel();
  char* p = static_cast<char*>(t.raw_data());
  size_t es = dt.size();
  if (a.kind == ArgKind::kIndex) {
    for (int64_t i = 0; i < n; ++i)
      store_i64(draw_int(rng, static_cast<int64_t>(a.lo), static_cast<int64_t>(a.hi)), p + i * es,
                dt);
    return;
  }
  if (dt.kind() == DTypeKind::kInt || dt.kind() == DTypeKind::kBool) {
    auto [tlo, thi] = int_range(dt);
    int64_t lo = a.int_lo.value_or(tlo), hi = a.int_hi.value_or(thi);
    std::vector<int64_t> special = {tlo, thi, 0, -1, 1, tlo + 1};
    for (int64_t i = 0; i < n; ++i) {
      int64_t v = draw_int(rng, lo, hi);
      if (specials && i < static_cast<int64_t>(special.size())) v = special[i];
      if (a.nonzero && v == 0) v = 1;
      if (dt.kind() == DTypeKind::kBool) v = v != 0;
      store_i64(v, p + i * es, dt);
    }
    return;
  }
  // Floats and fixed point: real values stored through the dtype table.
  std::vector<double> order;
  if (a.distinct) {
    for (int64_t i = 0; i < n; ++i) order.push_back(static_cast<double>(i));
    for (int64_t i = n - 1; i > 0; --i)
      std::swap(order[i], order[rng.next_below(static_cast<uint64_t>(i + 1))]);
  }
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> special = {std::nan(""), inf, -inf, -0.0, 0.0, 2.5, -2.5, 1e10, -1e10};
  if (dt.kind() == DTypeKind::kFixed) special = {0.0, -0.0, 2.5, -2.5, 1e10, -1e10};
  for (int64_t i = 0; i < n; ++i) {
    double v;
    if (a.distinct) {
      v = a.lo + (a.hi - a.lo) * (order[i] + 0.5) / static_cast<double>(n);
    } else {
      v = a.lo + (a.hi - a.lo) * rng.next_uniform();
      if (a.random_sign && rng.next_below(2) == 0) v = -v;
      if (a.grid > 0) v = std::round(v / a.grid) * a.grid;
    }
    if (specials && i < static_cast<int64_t>(special.size())) v = special[i];
    store_f64(v, p + i * es, dt);
  }
}

class FnTest : public testing::Test {
 public:
  explicit FnTest(std::function<void()> body) : body_(std::move(body)) {}
  void TestBody() override { body_(); }

 private:
  std::function<void()> body_;
};

bool is_float(DType t) { return t.kind() == DTypeKind::kFloat; }

// The spacing of the type's representable numbers at |v| (its ulp).
double ulp_of(double v, DType t) {
  int mantissa_bits = t.id() == DTypeId::kF16 ? 10 : t.id() == DTypeId::kBF16 ? 7 : 23;
  int min_exp = t.id() == DTypeId::kF16 ? -14 : -126;
  int e = v == 0 ? min_exp : std::max(std::ilogb(v), min_exp);
  return std::ldexp(1.0, e - mantissa_bits);
}

}  // namespace

bool has_dynamic_batch(const OpCase& c) {
  for (const Arg& a : c.args)
    if (!a.shape.is_static()) return true;
  return false;
}

std::vector<int64_t> batch_sizes(const OpCase& c) {
  return has_dynamic_batch(c) ? std::vector<int64_t>{2, 5} : std::vector<int64_t>{1};
}

Graph build_graph(const OpCase& c, DType dtype) {
  GraphBuilder b;
  std::vector<ValueId> in;
  for (size_t i = 0; i < c.args.size(); ++i)
    in.push_back(b.input(fmt::format("x{}", i), arg_dtype(c.args[i], dtype), c.args[i].shape));
  b.output(c.emit(b, in, dtype));
  Graph g = b.finish();
  if (c.fuse) g = fuse_elementwise(g);
  return g;
}

std::vector<Tensor> make_inputs(const OpCase& c, DType dtype, int64_t batch, uint64_t seed,
                                bool specials) {
  Rng rng(seed);
  std::vector<Tensor> r;
  for (const Arg& a : c.args) {
    Tensor t = Tensor::zeros(arg_dtype(a, dtype), a.shape.with_batch(batch));
    fill_arg(a, t, rng, specials && a.specials);
    r.push_back(t);
  }
  return r;
}

std::vector<Tensor> run_on(const Graph& g, const std::string& backend, int64_t batch,
                           const std::vector<Tensor>& inputs) {
  Program p = compile_program(g, {.batch = batch, .backends = {backend}});
  std::vector<Tensor> out;
  for (const Tensor& t : p.run(inputs)) out.push_back(t.clone());
  return out;
}

Tolerance forward_tolerance(const OpCase& c, const std::string& backend) {
  Tolerance t;
  t.f32_rtol *= c.tol_scale;
  t.f32_atol *= c.tol_scale;
  if (backend == "cuda") {
    t.f32_rtol *= 4;
    t.f32_atol *= 4;
    t.half_ulps = 3;
  }
  return t;
}

std::string compare(const Tensor& want, const Tensor& got, const Tolerance& tol) {
  if (want.dtype() != got.dtype() || want.shape() != got.shape())
    return fmt::format("type differs: want {}{}, got {}{}", want.dtype().name(), want.shape().str(),
                       got.dtype().name(), got.shape().str());
  Tensor w = want.contiguous(), g = got.contiguous();
  DType dt = w.dtype();
  size_t es = dt.size();
  const char* pw = static_cast<const char*>(w.raw_data());
  const char* pg = static_cast<const char*>(g.raw_data());
  std::string report;
  int bad = 0;
  double worst = 0;
  for (int64_t i = 0; i < w.numel(); ++i) {
    const char* a = pw + i * es;
    const char* b = pg + i * es;
    bool ok;
    std::string shown;
    if (dt.kind() == DTypeKind::kFixed) {
      ok = std::memcmp(a, b, es) == 0;
      shown = fmt::format("{} vs {}", load_f64(a, dt), load_f64(b, dt));
    } else if (!is_float(dt)) {
      int64_t x = load_i64(a, dt), y = load_i64(b, dt);
      ok = x == y;
      shown = fmt::format("{} vs {}", x, y);
    } else {
      double x = load_f64(a, dt), y = load_f64(b, dt);
      double err = std::fabs(x - y);
      double allowed = dt == kF32 ? tol.f32_rtol * std::fabs(x) + tol.f32_atol
                                  : tol.half_ulps * ulp_of(x, dt) + tol.half_atol * ulp_of(1.0, dt);
      // Non-finite values must match exactly (NaN where ref has NaN, infinities equal).
      ok = (std::isnan(x) && std::isnan(y)) || x == y ||
           (std::isfinite(x) && std::isfinite(y) && err <= allowed);
      if (!ok) worst = std::max(worst, std::isnan(err) ? INFINITY : err / allowed);
      shown = fmt::format("{:.9g} vs {:.9g} (|diff| {:.3g}, allowed {:.3g})", x, y, err, allowed);
    }
    if (!ok && ++bad <= 5) report += fmt::format("\n  at {}: want vs got {}", i, shown);
  }
  if (bad == 0) return "";
  return fmt::format("{} of {} elements differ{}:{}", bad, w.numel(),
                     worst > 0 ? fmt::format(" (worst {:.3g}x the tolerance)", worst) : "", report);
}

void register_test(const std::string& suite, const std::string& name, std::function<void()> fn) {
  testing::RegisterTest(suite.c_str(), name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                        [fn]() -> testing::Test* { return new FnTest(fn); });
}

std::vector<std::string> test_backends() {
  std::vector<std::string> r;
  for (const std::string& n : backend_registry().names())
    if (n != "ref") r.push_back(n);
  return r;
}

std::string dtype_tag(DType t) {
  if (t.id() != DTypeId::kFixed) return t.name();
  const FixedFormat& f = t.fixed_format();
  return fmt::format(
      "{}fixed{}_{}{}", f.is_signed ? "" : "u", f.width, f.int_bits,
      f.rounding != Rounding::kTruncate || f.overflow != Overflow::kWrap
          ? fmt::format("_r{}o{}", static_cast<int>(f.rounding), static_cast<int>(f.overflow))
          : "");
}

}  // namespace tessera::ops_test
