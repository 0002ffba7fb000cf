// FPGA numerics: the fast evaluator's conversions and layers against core's requantize_fixed
// and the reference FixedNetwork::run, every quantization and overflow mode against an
// independent long-double reference, and precision strings.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "tessera/core/error.h"
#include "tessera/sim/fpga/fixed_evaluator.h"
#include "tessera/sim/fpga/precision.h"

namespace tessera::sim {
namespace {

FixedFormat random_format(std::mt19937_64& rng, int max_width) {
  std::uniform_int_distribution<int> w(1, max_width);
  FixedFormat f;
  f.width = w(rng);
  f.int_bits = std::uniform_int_distribution<int>(-4, f.width)(rng);
  f.is_signed = rng() % 4 != 0;
  f.rounding = static_cast<Rounding>(rng() % kRoundingCount);
  f.overflow = static_cast<Overflow>(rng() % kOverflowCount);
  return f;
}

int64_t random_raw(std::mt19937_64& rng, const FixedFormat& f) {
  const uint64_t bits = rng();
  if (f.width >= 64) return static_cast<int64_t>(bits);
  const uint64_t mask = (uint64_t{1} << f.width) - 1;
  uint64_t v = bits & mask;
  if (f.is_signed && ((v >> (f.width - 1)) & 1u)) v |= ~mask;
  return static_cast<int64_t>(v);
}

TEST(FpgaNumerics, RequantizerEqualsCoreForRandomFormatsAndEveryMode) {
  std::mt19937_64 rng(7);
  for (int t = 0; t < 200000; ++t) {
    const FixedFormat from = random_format(rng, 64), to = random_format(rng, 64);
    const int64_t raw = random_raw(rng, from);
    ASSERT_EQ(Requantizer(from, to)(raw), requantize_fixed(raw, from, to))
        << precision_string(from) << " -> " << precision_string(to) << " raw " << raw;
  }
}

TEST(FpgaNumerics, QuantizeF32EqualsCore) {
  std::mt19937_64 rng(8);
  std::normal_distribution<float> n(0.0f, 8.0f);
  for (int t = 0; t < 200000; ++t) {
    const FixedFormat f = random_format(rng, 64);
    float v = n(rng);
    if (t % 5 == 0) v = std::ldexp(std::round(v * 4) / 4, static_cast<int>(rng() % 8) - 4);  // ties
    ASSERT_EQ(quantize_f32(v, f), quantize_fixed(v, f)) << precision_string(f) << " " << v;
  }
  const FixedFormat f{.width = 8, .int_bits = 3, .overflow = Overflow::kSaturate};
  EXPECT_EQ(quantize_f32(INFINITY, f), quantize_fixed(INFINITY, f));
  EXPECT_EQ(quantize_f32(NAN, f), 0);
}

// An independent model of ap_fixed on real numbers: v exact in long double (the values here
// have at most 40 significant bits), rounded by the mode's definition, then the overflow mode.
long double independent_quantize(long double v, const FixedFormat& f) {
  const long double scaled = std::ldexp(v, f.frac_bits());
  const long double fl = std::floor(scaled), frac = scaled - fl;
  long double q = fl;
  switch (f.rounding) {
    case Rounding::kTruncate: break;
    case Rounding::kTruncateZero: q = std::trunc(scaled); break;
    case Rounding::kHalfUp: q = std::floor(scaled + 0.5L); break;
    case Rounding::kHalfZero: q = frac == 0.5L ? std::trunc(scaled) : std::round(scaled); break;
    case Rounding::kHalfAway: q = std::round(scaled); break;
    case Rounding::kHalfDown: q = std::ceil(scaled - 0.5L); break;
    case Rounding::kHalfEven:
      q = frac == 0.5L ? (std::fmod(fl, 2.0L) == 0 ? fl : fl + 1) : std::round(scaled);
      break;
  }
  const long double hi = std::ldexp(1.0L, f.is_signed ? f.width - 1 : f.width) - 1;
  const long double lo = f.is_signed ? -std::ldexp(1.0L, f.width - 1) : 0;
  const bool sym = f.overflow == Overflow::kSymmetricSaturate && f.is_signed;
  if (q > hi || q < lo || (sym && q == lo)) {
    switch (f.overflow) {
      case Overflow::kWrap: {
        const long double m = std::ldexp(1.0L, f.width);
        q = std::fmod(q, m);
        if (q < 0) q += m;
        if (f.is_signed && q > hi) q -= m;
        break;
      }
      case Overflow::kSaturate: q = q > 0 ? hi : lo; break;
      case Overflow::kSymmetricSaturate: q = q > 0 ? hi : (f.is_signed ? -hi : lo); break;
      case Overflow::kSaturateZero: q = 0; break;
    }
  }
  return q;  // raw
}

FixedLayer small_dense(const FixedFormat& in, const FixedFormat& w, const FixedFormat& acc,
                       const FixedFormat& res, int64_t n_in, int64_t n_out) {
  FixedLayer l;
  l.name = "dense";
  l.kind = FixedLayerKind::kDense;
  l.input_shape = Shape{n_in};
  l.output_shape = Shape{n_out};
  l.input = in;
  l.weight = l.bias = w;
  l.accum = acc;
  l.result = res;
  return l;
}

// Every rounding × overflow mode of the accumulator and the result, a dense layer computed
// (a) by the reference, (b) by the fast evaluator, (c) independently on real numbers.
TEST(FpgaNumerics, DenseLayerEveryModeMatchesAnIndependentRealReference) {
  std::mt19937_64 rng(9);
  for (int r = 0; r < kRoundingCount; ++r)
    for (int o = 0; o < kOverflowCount; ++o)
      for (bool is_signed : {true, false}) {
        const FixedFormat in{.width = 8, .int_bits = 3};
        const FixedFormat w{.width = 8, .int_bits = 2};
        FixedFormat acc{.width = 9, .int_bits = 4, .is_signed = is_signed,
                        .rounding = static_cast<Rounding>(r), .overflow = static_cast<Overflow>(o)};
        FixedFormat res = acc;
        res.width = 6;
        res.int_bits = 3;
        FixedLayer l = small_dense(in, w, acc, res, 12, 5);
        for (int i = 0; i < 60; ++i) l.weights.push_back(random_raw(rng, w));
        for (int j = 0; j < 5; ++j) l.biases.push_back(random_raw(rng, w));
        const FixedNetwork net{.name = "t", .input = in, .layers = {l}};
        FixedEvaluator ev(net);
        for (int s = 0; s < 200; ++s) {
          std::vector<int64_t> x;
          for (int i = 0; i < 12; ++i) x.push_back(rng() % 3 == 0 ? 0 : random_raw(rng, in));
          const std::vector<int64_t> ref = net.run(x);
          ASSERT_EQ(ev.run(x), ref) << precision_string(acc);
          for (int j = 0; j < 5; ++j) {
            long double a = independent_quantize(fixed_to_real(l.biases[j], w), acc);
            for (int i = 0; i < 12; ++i) {
              const long double p = fixed_to_real(x[i], in) * fixed_to_real(l.weights[i * 5 + j], w);
              const long double pa = independent_quantize(p, acc);
              a = independent_quantize(std::ldexp(a + pa, -acc.frac_bits()), acc);
            }
            a = independent_quantize(std::ldexp(a, -acc.frac_bits()), res);
            ASSERT_EQ(static_cast<int64_t>(a), ref[j]) << precision_string(acc) << " output " << j;
          }
        }
      }
}

FixedLayer random_dense(std::mt19937_64& rng, int64_t n_in, int64_t n_out, const FixedFormat& in) {
  FixedFormat w = random_format(rng, 16), acc = random_format(rng, 40), res = random_format(rng, 20);
  if (rng() % 2) acc.overflow = Overflow::kWrap;  // the folded-wrap path
  if (rng() % 3 == 0) acc.width = 40, acc.int_bits = 24, acc.overflow = Overflow::kSaturate;
  FixedLayer l = small_dense(in, w, acc, res, n_in, n_out);
  for (int64_t i = 0; i < n_in * n_out; ++i) l.weights.push_back(random_raw(rng, w));
  if (rng() % 2)
    for (int64_t j = 0; j < n_out; ++j) l.biases.push_back(random_raw(rng, w));
  return l;
}

TEST(FpgaNumerics, FastEvaluatorIsBitIdenticalToTheReferenceOnRandomNetworks) {
  std::mt19937_64 rng(10);
  int paths32 = 0;
  for (int t = 0; t < 400; ++t) {
    FixedNetwork net{.name = "t", .input = random_format(rng, 16)};
    FixedFormat cur = net.input;
    const int64_t n0 = 1 + static_cast<int64_t>(rng() % 24);
    const int64_t n1 = 1 + static_cast<int64_t>(rng() % 16);
    net.layers.push_back(random_dense(rng, n0, n1, cur));
    cur = net.layers.back().result;
    FixedLayer relu = small_dense(cur, cur, cur, random_format(rng, 16), n1, n1);
    relu.kind = rng() % 2 ? FixedLayerKind::kRelu : FixedLayerKind::kLinear;
    net.layers.push_back(relu);
    cur = relu.result;
    net.layers.push_back(random_dense(rng, n1, 3, cur));
    FixedEvaluator ev(net);
    for (const std::string& p : ev.plan()) paths32 += p.find("int32") != std::string::npos;
    for (int s = 0; s < 30; ++s) {
      std::vector<int64_t> x;
      for (int64_t i = 0; i < n0; ++i) x.push_back(rng() % 4 == 0 ? 0 : random_raw(rng, net.input));
      ASSERT_EQ(ev.run(x), net.run(x)) << "network " << t << " sample " << s << " plan "
                                      << ev.plan()[0] << " / " << ev.plan()[2];
    }
  }
  EXPECT_GT(paths32, 50);  // the vectorized path was exercised
}

TEST(FpgaPrecision, ParsesHls4mlStringsAndRoundTrips) {
  const FixedFormat a = parse_precision("ap_fixed<16,6>");
  EXPECT_EQ(a.width, 16);
  EXPECT_EQ(a.int_bits, 6);
  EXPECT_TRUE(a.is_signed);
  EXPECT_EQ(a.rounding, Rounding::kTruncate);
  EXPECT_EQ(a.overflow, Overflow::kWrap);
  const FixedFormat b = parse_precision(" ap_ufixed < 8 , 3 , AP_RND_CONV , AP_SAT_SYM , 0 > ");
  EXPECT_FALSE(b.is_signed);
  EXPECT_EQ(b.rounding, Rounding::kHalfEven);
  EXPECT_EQ(b.overflow, Overflow::kSymmetricSaturate);
  EXPECT_EQ(parse_precision("ap_int<8>"), (FixedFormat{.width = 8, .int_bits = 8}));
  EXPECT_EQ(parse_precision("ap_uint<4>"), (FixedFormat{.width = 4, .int_bits = 4, .is_signed = false}));
  EXPECT_EQ(parse_precision("fixed<8,3,RND,SAT>"), parse_precision("ap_fixed<8,3,AP_RND,AP_SAT>"));
  EXPECT_EQ(precision_string(parse_precision("ap_fixed<8,3,AP_RND,AP_SAT>")), "ap_fixed<8,3,AP_RND,AP_SAT>");
  for (int r = 0; r < kRoundingCount; ++r)
    for (int o = 0; o < kOverflowCount; ++o)
      for (bool s : {true, false}) {
        const FixedFormat f{.width = 12, .int_bits = -2, .is_signed = s,
                            .rounding = static_cast<Rounding>(r), .overflow = static_cast<Overflow>(o)};
        EXPECT_EQ(parse_precision(precision_string(f)), f) << precision_string(f);
      }
  EXPECT_EQ(parse_precision_spec("auto").kind, PrecisionSpec::Kind::kAuto);
  const PrecisionSpec p = parse_precision_spec("auto<12, AP_RND, AP_SAT>");
  EXPECT_EQ(p.kind, PrecisionSpec::Kind::kProfile);
  EXPECT_EQ(p.format.width, 12);
  EXPECT_EQ(precision_spec_string(p), "auto<12,AP_RND,AP_SAT>");
  EXPECT_EQ(parse_precision_spec(precision_spec_string(p)), p);
}

void expect_error(const std::string& text, const std::string& needle) {
  try {
    parse_precision(text);
    ADD_FAILURE() << "no error for " << text;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

TEST(FpgaPrecision, RejectsBadStringsWithTheNumbers) {
  expect_error("ap_fixed<6,8>", "W = 6 is less than I = 8");
  expect_error("ap_fixed<65,8>", "W = 65");
  expect_error("ap_fixed<0,0>", "W = 0");
  expect_error("ap_fixed<8,3,AP_ROUND>", "unknown quantization mode 'AP_ROUND'");
  expect_error("ap_fixed<8,3,AP_RND,AP_CLAMP>", "unknown overflow mode 'AP_CLAMP'");
  expect_error("ap_fixed<8,3,AP_RND,AP_SAT,2>", "N = 2");
  expect_error("ap_float<8,3>", "unknown type 'ap_float'");
  expect_error("ap_fixed<8>", "2 to 5 arguments");
  expect_error("ap_fixed<8,x>", "'x'");
  expect_error("16,6", "expected a type");
}

}  // namespace
}  // namespace tessera::sim
