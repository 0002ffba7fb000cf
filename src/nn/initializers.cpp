// Keras' initializers: VarianceScaling (glorot/he/lecun, uniform or truncated normal),
// RandomUniform, RandomNormal, Zeros, Ones.
#include "tessera/nn/initializers.h"

#include <cmath>

#include "tessera/core/error.h"

namespace tessera {
namespace {

// Keras divides the truncated normal's stddev by the stddev of a unit normal truncated at
// ±2σ, so that the drawn values have the intended variance.
constexpr double kTruncatedStddev = 0.87962566103423978;

struct Fans {
  double in, out;
};

// As Keras' _compute_fans: [..., in, out] with the leading dims a receptive field.
Fans compute_fans(const Shape& s) {
  if (s.rank() == 0) return {1, 1};
  if (s.rank() == 1) return {static_cast<double>(s[0]), static_cast<double>(s[0])};
  double receptive = 1;
  for (int i = 0; i < s.rank() - 2; ++i) receptive *= static_cast<double>(s[i]);
  return {static_cast<double>(s[s.rank() - 2]) * receptive,
          static_cast<double>(s[s.rank() - 1]) * receptive};
}

enum class Mode { kFanIn, kFanAvg };
enum class Dist { kUniform, kTruncatedNormal };

void variance_scaling(Tensor& t, Rng& rng, double scale, Mode mode, Dist dist) {
  Fans f = compute_fans(t.shape());
  double n = mode == Mode::kFanIn ? f.in : (f.in + f.out) / 2.0;
  double var = scale / std::max(1.0, n);
  if (dist == Dist::kUniform) {
    double limit = std::sqrt(3.0 * var);
    rng.fill_uniform(t, -limit, limit);
  } else {
    rng.fill_truncated_normal(t, 0.0, std::sqrt(var) / kTruncatedStddev);
  }
}

}  // namespace

std::vector<std::string> initializer_names() {
  return {"glorot_uniform", "glorot_normal", "he_uniform",     "he_normal",     "lecun_uniform",
          "lecun_normal",   "random_uniform", "random_normal", "zeros",         "ones"};
}

Tensor initialize(const std::string& name, const Shape& shape, Rng& rng, DType dtype) {
  TS_CHECK(shape.is_static(), ErrorKind::kInvalidArgument,
           "initializer '{}': shape {} must be static", name, shape.str());
  Tensor t = Tensor::zeros(dtype, shape);
  // glorot: scale 1 over the fan average (limit √(6/(in+out))); he: 2 over fan_in;
  // lecun: 1 over fan_in.
  if (name == "glorot_uniform") {
    variance_scaling(t, rng, 1.0, Mode::kFanAvg, Dist::kUniform);
  } else if (name == "glorot_normal") {
    variance_scaling(t, rng, 1.0, Mode::kFanAvg, Dist::kTruncatedNormal);
  } else if (name == "he_uniform") {
    variance_scaling(t, rng, 2.0, Mode::kFanIn, Dist::kUniform);
  } else if (name == "he_normal") {
    variance_scaling(t, rng, 2.0, Mode::kFanIn, Dist::kTruncatedNormal);
  } else if (name == "lecun_uniform") {
    variance_scaling(t, rng, 1.0, Mode::kFanIn, Dist::kUniform);
  } else if (name == "lecun_normal") {
    variance_scaling(t, rng, 1.0, Mode::kFanIn, Dist::kTruncatedNormal);
  } else if (name == "random_uniform") {
    rng.fill_uniform(t, -0.05, 0.05);
  } else if (name == "random_normal") {
    rng.fill_normal(t, 0.0, 0.05);
  } else if (name == "zeros") {
    // Tensor::zeros already holds it.
  } else if (name == "ones") {
    t = Tensor::full(dtype, shape, 1.0);
  } else {
    std::string known;
    for (const std::string& n : initializer_names()) known += (known.empty() ? "" : ", ") + n;
    throw_error(ErrorKind::kInvalidArgument,
                fmt::format("unknown initializer '{}' (known: {})", name, known));
  }
  return t;
}

}  // namespace tessera
