// Keras' initializers: VarianceScaling (glorot/he/lecun, uniform or truncated normal),
// RandomUniform, RandomNormal, Zeros, Ones.
#include "tessera/nn/initializers.h"

#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>

#include "tessera/core/error.h"

#include "nn_internal.h"

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

// "random_normal(stddev=0.02)" -> base "random_normal", {stddev: 0.02}. Names without
// parentheses have no arguments. Throws naming the initializer on a malformed spelling.
struct Spelling {
  std::string base;
  std::vector<std::pair<std::string, double>> args;
};

Spelling parse_spelling(const std::string& name) {
  Spelling s;
  size_t open = name.find('(');
  if (open == std::string::npos) {
    s.base = name;
    return s;
  }
  s.base = name.substr(0, open);
  TS_CHECK(name.back() == ')', ErrorKind::kInvalidArgument,
           "initializer '{}': expected 'name(key=value, ...)'", name);
  std::string body = name.substr(open + 1, name.size() - open - 2);
  size_t at = 0;
  while (at < body.size()) {
    size_t comma = body.find(',', at);
    std::string item = body.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    at = comma == std::string::npos ? body.size() : comma + 1;
    auto trim = [](std::string x) {
      size_t b = x.find_first_not_of(' '), e = x.find_last_not_of(' ');
      return b == std::string::npos ? std::string() : x.substr(b, e - b + 1);
    };
    size_t eq = item.find('=');
    TS_CHECK(eq != std::string::npos, ErrorKind::kInvalidArgument,
             "initializer '{}': argument '{}' is not key=value", name, trim(item));
    std::string key = trim(item.substr(0, eq)), value = trim(item.substr(eq + 1));
    char* end = nullptr;
    double v = std::strtod(value.c_str(), &end);
    TS_CHECK(!value.empty() && end == value.c_str() + value.size() && std::isfinite(v),
             ErrorKind::kInvalidArgument, "initializer '{}': '{}' is not a number", name, value);
    s.args.emplace_back(key, v);
  }
  return s;
}

// The value of argument `key` (or `fallback`); `allowed` lists every key the base accepts.
double arg_or(const Spelling& s, const std::string& name, const std::string& key, double fallback,
              std::initializer_list<const char*> allowed) {
  double v = fallback;
  for (const auto& [k, x] : s.args) {
    bool known = false;
    for (const char* a : allowed) known = known || k == a;
    std::string keys;
    for (const char* a : allowed) keys += (keys.empty() ? "" : ", ") + std::string(a);
    TS_CHECK(known, ErrorKind::kInvalidArgument,
             "initializer '{}': unknown argument '{}' (known: {})", name, k, keys);
    if (k == key) v = x;
  }
  return v;
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
  Spelling spelling = parse_spelling(name);
  if (spelling.base == "random_normal" || spelling.base == "random_uniform") {
    // Keras' RandomNormal(mean, stddev) and RandomUniform(minval, maxval), with its defaults.
    if (spelling.base == "random_normal") {
      double mean = arg_or(spelling, name, "mean", 0.0, {"mean", "stddev"});
      double stddev = arg_or(spelling, name, "stddev", 0.05, {"mean", "stddev"});
      TS_CHECK(stddev >= 0, ErrorKind::kInvalidArgument,
               "initializer '{}': stddev must be >= 0", name);
      rng.fill_normal(t, mean, stddev);
    } else {
      double lo = arg_or(spelling, name, "minval", -0.05, {"minval", "maxval"});
      double hi = arg_or(spelling, name, "maxval", 0.05, {"minval", "maxval"});
      TS_CHECK(lo <= hi, ErrorKind::kInvalidArgument,
               "initializer '{}': minval must be <= maxval", name);
      rng.fill_uniform(t, lo, hi);
    }
    return t;
  }
  TS_CHECK(spelling.args.empty(), ErrorKind::kInvalidArgument,
           "initializer '{}' takes no arguments (random_normal and random_uniform do)", name);
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

bool is_initializer(const std::string& name) {
  try {
    Rng rng;
    initialize(name, Shape{0}, rng);  // an empty tensor: parses and checks, draws nothing
    return true;
  } catch (const Error&) {
    return false;
  }
}

void check_initializer(const std::string& initializer, const std::string& where) {
  if (is_initializer(initializer)) return;
  std::string known;
  for (const std::string& n : initializer_names()) known += (known.empty() ? "" : ", ") + n;
  throw_error(ErrorKind::kInvalidArgument,
              fmt::format("{}: unknown initializer '{}' (known: {}; random_normal and "
                          "random_uniform take arguments, e.g. random_normal(stddev=0.02))",
                          where, initializer, known));
}

}  // namespace tessera
