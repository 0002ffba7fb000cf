// FixedEvaluator: each layer compiled once into the cheapest integer kernel that is provably
// bit-identical to the reference (fixed_network.cpp). The proofs are bounds: the largest
// product (input format's range × the largest weight) must fit the lane type with the
// rounding constant, and a partial sum that can never leave the accumulator's range (bias +
// Σ |rounded product|) needs no per-step overflow handling. AP_WRAP needs no bound for the
// sums at all: wrapping to W bits after every step equals wrapping once at the end, since
// reduction mod 2^W commutes with addition when the lanes are at least W bits wide.
#include "tessera/sim/fpga/fixed_evaluator.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "fixed_kernels.h"
#include "tessera/core/error.h"

namespace tessera::sim {
namespace {

using i128 = __int128;

int64_t extend(uint64_t bits, const FixedFormat& f) {
  if (f.width >= 64) return static_cast<int64_t>(bits);
  const uint64_t mask = (uint64_t{1} << f.width) - 1;
  bits &= mask;
  if (f.is_signed && ((bits >> (f.width - 1)) & 1u)) bits |= ~mask;
  return static_cast<int64_t>(bits);
}

int64_t raw_max(const FixedFormat& f) {
  const int value_bits = f.is_signed ? f.width - 1 : f.width;
  return extend(value_bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << value_bits) - 1, f);
}

int64_t raw_min(const FixedFormat& f) {
  return f.is_signed ? extend(uint64_t{1} << (f.width - 1), f) : 0;
}

// The largest magnitude a raw value of `f` can have.
long double max_magnitude(const FixedFormat& f) {
  return std::max(std::fabs(static_cast<long double>(raw_min(f))),
                  f.is_signed ? static_cast<long double>(raw_max(f))
                              : static_cast<long double>(static_cast<uint64_t>(raw_max(f))));
}

// ap_fixed's overflow handling of an exactly rounded value z (core's quantize_scaled).
// `hi` is the raw maximum as stored (a 64-bit unsigned maximum reads as -1).
int64_t overflow(i128 z, const FixedFormat& f, int64_t lo, int64_t hi) {
  const bool sym = f.overflow == Overflow::kSymmetricSaturate && f.is_signed;
  const i128 top = f.is_signed ? i128{hi} : i128{static_cast<uint64_t>(hi)};
  if (z <= top && (sym ? z > lo : z >= lo)) return static_cast<int64_t>(z);
  switch (f.overflow) {
    case Overflow::kWrap: return extend(static_cast<uint64_t>(z), f);
    case Overflow::kSaturate:
    case Overflow::kSymmetricSaturate:
      if (z > 0) return hi;
      return sym ? (lo | 1) : lo;
    case Overflow::kSaturateZero: return 0;
  }
  return 0;
}

}  // namespace

Requantizer::Requantizer(const FixedFormat& from, const FixedFormat& to)
    : to_(to),
      shift_(to.frac_bits() - from.frac_bits()),
      from_signed_(from.is_signed),
      min_(raw_min(to)),
      max_(raw_max(to)) {}

int64_t Requantizer::operator()(int64_t raw) const {
  if (raw == 0) return 0;
  // The common case of the saturating chain: same scale, already in range.
  if (shift_ == 0 && from_signed_ && raw <= max_ && raw > min_) return raw;
  // The source value: an unsigned 64-bit raw with its top bit set is a large positive.
  const i128 v = from_signed_ ? i128{raw} : i128{static_cast<uint64_t>(raw)};
  i128 z;
  if (shift_ >= 0) {
    const int bits = 64 - __builtin_clzll(static_cast<uint64_t>(v < 0 ? -v : v) | 1);
    if (bits + shift_ > 126) {
      // Far beyond every 64-bit range; wrap keeps the low bits.
      if (to_.overflow == Overflow::kWrap)
        return extend(shift_ >= 64 ? 0 : static_cast<uint64_t>(v) << shift_, to_);
      z = v > 0 ? (i128{1} << 100) : -(i128{1} << 100);
    } else {
      z = v << shift_;
    }
  } else {
    // Beyond 66 dropped bits |v| < 2^64 lies below one half: every k >= 66 rounds alike.
    z = fpga_kernels::round_shift<i128>(v, std::min(-shift_, 66), to_.rounding);
  }
  return overflow(z, to_, min_, max_);
}

int64_t quantize_f32(float v, const FixedFormat& f) {
  const int frac = f.frac_bits();
  if (!std::isfinite(v) || frac < -200 || frac > 200) return quantize_fixed(v, f);
  const double d = std::ldexp(static_cast<double>(v), frac);  // exact: 24 bits, no underflow
  if (std::fabs(d) >= 0x1p62) return quantize_fixed(v, f);
  const double fl = std::floor(d);
  const double rest = d - fl;  // exact
  auto q = static_cast<int64_t>(fl);
  bool up = false;
  switch (f.rounding) {
    case Rounding::kTruncate: break;
    case Rounding::kTruncateZero: up = rest != 0 && d < 0; break;
    case Rounding::kHalfUp: up = rest >= 0.5; break;
    case Rounding::kHalfZero: up = rest > 0.5 || (rest == 0.5 && d < 0); break;
    case Rounding::kHalfAway: up = rest > 0.5 || (rest == 0.5 && d >= 0); break;
    case Rounding::kHalfDown: up = rest > 0.5; break;
    case Rounding::kHalfEven: up = rest > 0.5 || (rest == 0.5 && (q & 1) != 0); break;
  }
  q += up ? 1 : 0;
  if (q == 0) return 0;
  return overflow(q, f, raw_min(f), raw_max(f));
}

struct FixedEvaluator::Stage {
  enum class Kind { kDense32, kDense64, kDenseChain, kRelu, kLinear, kFlatten, kReference };
  Kind kind = Kind::kReference;
  int64_t n_in = 0, n_out = 0;
  int k = 0;  // product fractional bits - accumulator fractional bits
  FixedFormat accum;
  std::vector<int32_t> w32;
  std::vector<int64_t> w64;
  std::vector<int64_t> bias_acc;  // the biases in the accumulator's format (0 without)
  Requantizer to_result;          // dense: accum -> result; relu/linear: input -> result
  Requantizer product_to_accum;   // chain: one product into the accumulator
  Requantizer accum_overflow;     // chain: a sum back into the accumulator's range
  bool chain_shift = false;       // chain: products convert by an int64 shift (no Requantizer)
  FixedNetwork single;            // kReference: the layer alone
};

FixedEvaluator::~FixedEvaluator() = default;
FixedEvaluator::FixedEvaluator(FixedEvaluator&&) noexcept = default;
FixedEvaluator& FixedEvaluator::operator=(FixedEvaluator&&) noexcept = default;

namespace {

using Stage = FixedEvaluator::Stage;

// Chooses the dense kernel (see the file comment for the conditions) and fills `s`.
std::string compile_dense(const FixedLayer& l, Stage& s) {
  s.n_in = l.inputs();
  s.n_out = l.outputs();
  s.accum = l.accum;
  s.to_result = Requantizer(l.accum, l.result);
  const int prod_frac = l.input.frac_bits() + l.weight.frac_bits();
  s.k = prod_frac - l.accum.frac_bits();
  const Requantizer bias_to_acc(l.bias, l.accum);
  s.bias_acc.assign(static_cast<size_t>(s.n_out), 0);
  for (int64_t j = 0; j < s.n_out && !l.biases.empty(); ++j)
    s.bias_acc[j] = bias_to_acc(l.biases[j]);

  const long double max_x = max_magnitude(l.input);
  long double max_w = 0;
  for (int64_t w : l.weights) max_w = std::max(max_w, std::fabs(static_cast<long double>(w)));
  const long double max_p = max_x * max_w;
  // B: the largest |partial sum| any output can reach.
  long double bound = 0;
  for (int64_t j = 0; j < s.n_out; ++j) {
    long double b = std::fabs(static_cast<long double>(s.bias_acc[j]));
    for (int64_t i = 0; i < s.n_in; ++i) {
      const long double p = max_x * std::fabs(static_cast<long double>(l.weights[i * s.n_out + j]));
      b += s.k > 0 ? std::floor(std::ldexp(p, -s.k)) + 1 : std::ldexp(p, -s.k);
    }
    bound = std::max(bound, b);
  }
  const bool no_overflow =
      l.accum.is_signed && bound <= static_cast<long double>(raw_max(l.accum));
  const bool wrap = l.accum.overflow == Overflow::kWrap;
  auto lanes_fit = [&](int bits) {
    const long double limit = std::ldexp(1.0L, bits - 1);
    const bool products = s.k > 0 ? s.k < bits - 1 && max_p + std::ldexp(1.0L, s.k) < limit
                                  : -s.k < bits && max_p < limit;
    if (!products) return false;
    if (no_overflow) return bound < limit;
    return wrap && l.accum.width <= bits;
  };
  const char* why = no_overflow ? "no overflow possible" : "wrapping";
  if (lanes_fit(32)) {
    s.kind = Stage::Kind::kDense32;
    s.w32.assign(l.weights.begin(), l.weights.end());
    return fmt::format("dense int32 sums ({})", why);
  }
  if (lanes_fit(64)) {
    s.kind = Stage::Kind::kDense64;
    s.w64 = l.weights;
    return fmt::format("dense int64 sums ({})", why);
  }
  if (!wrap && max_p < 0x1p62L) {
    s.kind = Stage::Kind::kDenseChain;
    s.w64 = l.weights;
    const FixedFormat prod{.width = std::min(64, l.input.width + l.weight.width),
                           .int_bits = l.input.int_bits + l.weight.int_bits,
                           .is_signed = true};
    s.product_to_accum = Requantizer(prod, l.accum);
    FixedFormat sum = l.accum;  // the chain's sums are exact signed values at the accum's scale
    sum.is_signed = true;
    s.accum_overflow = Requantizer(sum, l.accum);
    s.chain_shift = s.k > 0 ? s.k < 62 : std::ldexp(max_p, -s.k) < 0x1p62L;
    return "dense saturating chain";
  }
  return "";
}

}  // namespace

FixedEvaluator::FixedEvaluator(const FixedNetwork& net) : net_(net) {
  for (const FixedLayer& l : net_.layers) {
    Stage s;
    std::string how;
    switch (l.kind) {
      case FixedLayerKind::kDense: how = compile_dense(l, s); break;
      case FixedLayerKind::kRelu:
        s.kind = Stage::Kind::kRelu;
        s.to_result = Requantizer(l.input, l.result);
        how = "relu";
        break;
      case FixedLayerKind::kLinear:
        s.kind = Stage::Kind::kLinear;
        s.to_result = Requantizer(l.input, l.result);
        how = "linear";
        break;
      case FixedLayerKind::kFlatten:
        s.kind = Stage::Kind::kFlatten;
        how = "flatten";
        break;
      default: break;
    }
    if (how.empty()) {
      s.kind = Stage::Kind::kReference;
      s.single = FixedNetwork{.name = net_.name, .input = l.input, .layers = {l}};
      how = "reference";
    }
    plan_.push_back(fmt::format("{}: {}", l.name, how));
    stages_.push_back(std::move(s));
  }
}

void FixedEvaluator::run_into(std::span<const int64_t> in) {
  TS_CHECK(static_cast<int64_t>(in.size()) == net_.inputs(), ErrorKind::kInvalidArgument,
           "fpga network '{}': {} input values, expected {}", net_.name, in.size(),
           net_.inputs());
  a_.assign(in.begin(), in.end());
  std::vector<int32_t> x32, acc32;
  for (Stage& s : stages_) {
    switch (s.kind) {
      case Stage::Kind::kDense32: {
        x32.assign(a_.begin(), a_.end());
        acc32.resize(static_cast<size_t>(s.n_out));
        for (int64_t j = 0; j < s.n_out; ++j) acc32[j] = static_cast<int32_t>(s.bias_acc[j]);
        fpga_kernels::dense_i32(acc32.data(), s.w32.data(), x32.data(), s.n_in, s.n_out, s.k,
                                s.accum.rounding);
        b_.resize(static_cast<size_t>(s.n_out));
        for (int64_t j = 0; j < s.n_out; ++j)
          b_[j] = s.to_result(extend(static_cast<uint64_t>(static_cast<int64_t>(acc32[j])), s.accum));
        break;
      }
      case Stage::Kind::kDense64: {
        b_ = s.bias_acc;
        fpga_kernels::dense_i64(b_.data(), s.w64.data(), a_.data(), s.n_in, s.n_out, s.k,
                                s.accum.rounding);
        for (int64_t& v : b_) v = s.to_result(extend(static_cast<uint64_t>(v), s.accum));
        break;
      }
      case Stage::Kind::kDenseChain: {
        b_ = s.bias_acc;
        for (int64_t i = 0; i < s.n_in; ++i) {
          const int64_t xi = a_[i];
          if (xi == 0) continue;  // adds an exact zero: the accumulator is already in range
          const int64_t* row = s.w64.data() + i * s.n_out;
          if (s.chain_shift && s.k > 0) {
            for (int64_t j = 0; j < s.n_out; ++j)
              b_[j] = s.accum_overflow(
                  b_[j] + s.accum_overflow(fpga_kernels::round_shift<int64_t>(xi * row[j], s.k,
                                                                              s.accum.rounding)));
          } else if (s.chain_shift) {
            for (int64_t j = 0; j < s.n_out; ++j)
              b_[j] = s.accum_overflow(b_[j] + s.accum_overflow((xi * row[j]) << -s.k));
          } else {
            for (int64_t j = 0; j < s.n_out; ++j)
              b_[j] = s.accum_overflow(b_[j] + s.product_to_accum(xi * row[j]));
          }
        }
        for (int64_t& v : b_) v = s.to_result(v);
        break;
      }
      case Stage::Kind::kRelu:
        b_.resize(a_.size());
        for (size_t i = 0; i < a_.size(); ++i) b_[i] = s.to_result(a_[i] > 0 ? a_[i] : 0);
        break;
      case Stage::Kind::kLinear:
        b_.resize(a_.size());
        for (size_t i = 0; i < a_.size(); ++i) b_[i] = s.to_result(a_[i]);
        break;
      case Stage::Kind::kFlatten: b_ = a_; break;
      case Stage::Kind::kReference: b_ = s.single.run(a_); break;
    }
    std::swap(a_, b_);
  }
}

std::vector<int64_t> FixedEvaluator::run(std::span<const int64_t> in) {
  run_into(in);
  return a_;
}

Tensor FixedEvaluator::predict(const Tensor& x) {
  const int64_t n = x.shape().rank() == 0 ? 1 : x.shape()[0];
  const int64_t per = net_.inputs(), out = net_.outputs();
  TS_CHECK(x.numel() == n * per, ErrorKind::kInvalidArgument,
           "fpga network '{}': input {} does not hold {} values per sample", net_.name,
           x.shape().str(), per);
  const std::vector<float> xv = x.to_f32_vector();
  std::vector<float> y(static_cast<size_t>(n * out));
  std::vector<int64_t> raw(static_cast<size_t>(per));
  const FixedFormat& res = net_.layers.back().result;
  for (int64_t s = 0; s < n; ++s) {
    for (int64_t i = 0; i < per; ++i) raw[i] = quantize_f32(xv[s * per + i], net_.input);
    run_into(raw);
    for (int64_t j = 0; j < out; ++j) y[s * out + j] = static_cast<float>(fixed_to_real(a_[j], res));
  }
  return Tensor::from_vector(y, {n, out});
}

std::vector<int64_t> FixedEvaluator::classify(const Tensor& x) {
  const int64_t n = x.shape().rank() == 0 ? 1 : x.shape()[0];
  const int64_t per = net_.inputs();
  TS_CHECK(x.numel() == n * per, ErrorKind::kInvalidArgument,
           "fpga network '{}': input {} does not hold {} values per sample", net_.name,
           x.shape().str(), per);
  const Tensor xf = x.dtype() == kF32 ? x.contiguous() : x.to(kF32);
  const auto* xv = static_cast<const float*>(xf.raw_data());
  std::vector<int64_t> top(static_cast<size_t>(n));
  std::vector<int64_t> raw(static_cast<size_t>(per));
  for (int64_t s = 0; s < n; ++s) {
    for (int64_t i = 0; i < per; ++i) raw[i] = quantize_f32(xv[s * per + i], net_.input);
    run_into(raw);
    top[s] = std::max_element(a_.begin(), a_.end()) - a_.begin();
  }
  return top;
}

}  // namespace tessera::sim
