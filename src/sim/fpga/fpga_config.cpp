// The hls4ml-shaped FPGA config: YAML parsing and per-layer precision resolution.
#include "tessera/sim/fpga/fpga_config.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <regex>

#include "../config_yaml.h"
#include "tessera/core/error.h"

namespace tessera::sim {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

PrecisionSpec spec(const YamlConfigReader& r, const YAML::Node& n, std::string_view field) {
  const std::string text = r.string(n, field);
  try {
    return parse_precision_spec(text);
  } catch (const Error& e) {
    r.fail(n, fmt::format("'{}': {}", field, e.what()));
  }
}

// Precision: a string (every type) or a map of weight/bias/accum/result (+ default).
void read_precision(const YamlConfigReader& r, const YAML::Node& n, std::string_view where,
                    PrecisionSet& set, std::optional<PrecisionSpec>* all) {
  if (n.IsScalar()) {
    const PrecisionSpec s = spec(r, n, fmt::format("{} Precision", where));
    if (all != nullptr) {
      *all = s;
    } else {
      set.weight = set.bias = set.accum = set.result = s;
    }
    return;
  }
  if (!n.IsMap()) r.fail(n, fmt::format("{} Precision must be a string or a map of types", where));
  r.expect_keys(n, fmt::format("{} Precision", where),
                {"default", "weight", "bias", "accum", "result"});
  if (n["default"]) {
    const PrecisionSpec s = spec(r, n["default"], "default");
    if (all != nullptr) {
      *all = s;
    } else {
      set.weight = set.bias = set.accum = set.result = s;
    }
  }
  if (n["weight"]) set.weight = spec(r, n["weight"], "weight");
  if (n["bias"]) set.bias = spec(r, n["bias"], "bias");
  if (n["accum"]) set.accum = spec(r, n["accum"], "accum");
  if (n["result"]) set.result = spec(r, n["result"], "result");
}

Strategy strategy(const YamlConfigReader& r, const YAML::Node& n) {
  const std::string s = lower(r.string(n, "Strategy"));
  if (s == "latency") return Strategy::kLatency;
  if (s == "resource") return Strategy::kResource;
  r.fail(n, fmt::format("Strategy must be Latency or Resource, got '{}'", n.as<std::string>()));
}

const std::optional<PrecisionSpec>& member(const PrecisionSet& s, const std::string& type) {
  if (type == "weight") return s.weight;
  if (type == "bias") return s.bias;
  if (type == "accum") return s.accum;
  TS_CHECK(type == "result", ErrorKind::kInvalidArgument,
           "precision type '{}': expected weight, bias, accum or result", type);
  return s.result;
}

// hls4ml configs write precisions unquoted inside flow maps ({Precision: ap_fixed<16,6>}),
// where YAML would split at the comma: quote every precision-like template id first (within
// its line, so error lines stay right).
std::string quote_precisions(const std::string& text) {
  static const std::regex kType(
      R"((^|[\s:{\[,])((?:ap_u?fixed|u?fixed|ap_u?int|u?int|auto)\s*<[^>\n"']*>))",
      std::regex::icase | std::regex::multiline);
  return std::regex_replace(text, kType, "$1\"$2\"");
}

}  // namespace

PrecisionSpec FpgaConfig::precision_of(const std::string& layer, const std::string& type) const {
  auto it = layers.find(layer);
  if (it != layers.end() && member(it->second.precision, type)) return *member(it->second.precision, type);
  if (member(model_types, type)) return *member(model_types, type);
  return precision;
}

FpgaConfig parse_fpga_config(const std::string& yaml_text, const std::string& source) {
  YamlConfigReader r(source);
  const YAML::Node root = r.load(quote_precisions(yaml_text));
  if (!root.IsMap())
    r.fail(root, "an FPGA config is a mapping in hls4ml's shape (see docs/simulators/fpga.md)");
  r.expect_keys(root, "FPGA config", {"Model", "IOType", "LayerName", "Device", "ClockPeriod"});
  FpgaConfig c;
  c.source = source;
  if (const YAML::Node m = root["Model"]) {
    if (!m.IsMap()) r.fail(m, "Model must be a map {Precision, ReuseFactor, Strategy}");
    r.expect_keys(m, "Model", {"Precision", "ReuseFactor", "Strategy"});
    if (m["Precision"]) {
      std::optional<PrecisionSpec> all;
      read_precision(r, m["Precision"], "Model", c.model_types, &all);
      if (all) c.precision = *all;
      if (c.precision.kind == PrecisionSpec::Kind::kAuto)
        r.fail(m["Precision"], "Model Precision 'auto' has nothing to infer from: give a format "
                               "such as ap_fixed<16,6> or a profiled auto<16>");
    }
    if (m["ReuseFactor"]) c.reuse_factor = r.positive_int(m["ReuseFactor"], "Model ReuseFactor");
    if (m["Strategy"]) c.strategy = strategy(r, m["Strategy"]);
  }
  if (const YAML::Node io = root["IOType"]) {
    const std::string s = lower(r.string(io, "IOType"));
    if (s == "io_parallel") {
      c.io = IoType::kParallel;
    } else if (s == "io_stream") {
      c.io = IoType::kStream;
    } else {
      r.fail(io, fmt::format("IOType must be io_parallel or io_stream, got '{}'", s));
    }
  }
  if (const YAML::Node layers = root["LayerName"]) {
    if (!layers.IsMap()) r.fail(layers, "LayerName must map layer names to their settings");
    for (const auto& kv : layers) {
      const std::string name = kv.first.as<std::string>();
      const YAML::Node& l = kv.second;
      if (!l.IsMap()) r.fail(l, fmt::format("LayerName '{}' must be a map", name));
      r.expect_keys(l, fmt::format("LayerName '{}'", name), {"Precision", "ReuseFactor", "Strategy"});
      LayerConfig lc;
      if (l["Precision"]) read_precision(r, l["Precision"], fmt::format("layer '{}'", name), lc.precision, nullptr);
      if (l["ReuseFactor"])
        lc.reuse_factor = r.positive_int(l["ReuseFactor"], fmt::format("layer '{}' ReuseFactor", name));
      if (l["Strategy"]) lc.strategy = strategy(r, l["Strategy"]);
      c.layers[name] = lc;
    }
  }
  if (root["Device"]) c.device = r.string(root["Device"], "Device");
  if (root["ClockPeriod"]) c.clock_period_ns = r.positive(root["ClockPeriod"], "ClockPeriod");
  return c;
}

FpgaConfig load_fpga_config(const std::string& path) {
  return parse_fpga_config(read_config_file(path, "FPGA config"), path);
}

FixedFormat infer_dense_accum(const FixedFormat& input, const FixedFormat& weight,
                              const FixedFormat& bias, int64_t n_in, bool has_bias) {
  // hls4ml's _infer_common_precision: the products' exact format widened by ceil(log2 n_in)
  // carry bits, then (with a bias) one more integer bit over the wider of the two, signed
  // bits adjusted when exactly one side is unsigned, and the finer of the fractions.
  const int carry = n_in > 1 ? static_cast<int>(std::ceil(std::log2(static_cast<double>(n_in)))) : 0;
  int width = weight.width + input.width + carry;
  int integers = weight.int_bits + input.int_bits + carry;
  bool is_signed = weight.is_signed || input.is_signed;
  const int frac = width - integers;
  if (has_bias) {
    integers = std::max(integers + (bias.is_signed && !is_signed ? 1 : 0),
                        bias.int_bits + (is_signed && !bias.is_signed ? 1 : 0)) + 1;
    width = integers + std::max(frac, bias.width - bias.int_bits);
    is_signed = is_signed || bias.is_signed;
  }
  TS_CHECK(width <= 64, ErrorKind::kUnsupported,
           "accum 'auto': inferred ap_fixed<{},{}> from input {}, weight {}, bias {} and n_in = "
           "{} is wider than 64 bits; give the accumulator a format",
           width, integers, precision_string(input), precision_string(weight),
           precision_string(bias), n_in);
  return {.width = width, .int_bits = integers, .is_signed = is_signed};
}

bool FpgaConfig::needs_calibration() const {
  auto profiled = [](const std::optional<PrecisionSpec>& p) {
    return p && p->kind == PrecisionSpec::Kind::kProfile;
  };
  auto any = [&](const PrecisionSet& s) {
    return profiled(s.weight) || profiled(s.bias) || profiled(s.accum) || profiled(s.result);
  };
  if (precision.kind == PrecisionSpec::Kind::kProfile || any(model_types)) return true;
  for (const auto& [name, layer] : layers)
    if (any(layer.precision)) return true;
  return false;
}

}  // namespace tessera::sim
