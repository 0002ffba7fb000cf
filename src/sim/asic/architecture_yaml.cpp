// The ASIC architecture YAML reader (schema in docs/simulators/asic.md).
#include <fmt/core.h>

#include <cmath>

#include "../config_yaml.h"
#include "tessera/core/error.h"
#include "tessera/sim/asic/architecture.h"

namespace tessera::sim {
namespace {

StorageLevel parse_level(const YamlConfigReader& r, const YAML::Node& n, int index) {
  std::string at = fmt::format("levels[{}]", index);
  r.expect_keys(n, at,
                {"name", "class", "dram_type", "word_bits", "size_words", "size_kib",
                 "read_bandwidth", "write_bandwidth", "keeps", "fanout", "energy_pj", "area_um2"});
  StorageLevel l;
  if (!n["name"]) r.fail(n, fmt::format("'{}.name' is required", at));
  l.name = r.string(n["name"], at + ".name");
  if (!n["class"]) r.fail(n, fmt::format("'{}.class' is required (DRAM, SRAM or regfile)", at));
  try {
    l.cls = parse_component_class(r.string(n["class"], at + ".class"), at + ".class");
  } catch (const Error& e) {
    r.fail(n["class"], e.what());
  }
  if (n["dram_type"]) {
    l.dram_type = r.string(n["dram_type"], at + ".dram_type");
    if (l.dram_type != "ddr" && l.dram_type != "hbm2")
      r.fail(n["dram_type"],
             fmt::format("'{}.dram_type' must be ddr or hbm2, got '{}'", at, l.dram_type));
  }
  if (n["word_bits"])
    l.word_bits = static_cast<int>(r.positive_int(n["word_bits"], at + ".word_bits"));
  if (n["size_words"] && n["size_kib"])
    r.fail(n, fmt::format("'{}': give size_words or size_kib, not both", at));
  if (n["size_words"]) {
    double v = r.non_negative(n["size_words"], at + ".size_words");
    if (v != std::floor(v))
      r.fail(n["size_words"], fmt::format("'{}.size_words' must be an integer", at));
    l.size_words = static_cast<int64_t>(v);
  }
  if (n["size_kib"]) {
    double kib = r.positive(n["size_kib"], at + ".size_kib");
    l.size_words = static_cast<int64_t>(std::floor(kib * 1024 * 8 / l.word_bits));
  }
  if (l.cls != ComponentClass::kDram && l.size_words <= 0)
    r.fail(n, fmt::format("'{}' ({}): an on-chip level needs size_words or size_kib", at, l.name));
  if (n["read_bandwidth"])
    l.read_bandwidth = r.non_negative(n["read_bandwidth"], at + ".read_bandwidth");
  if (n["write_bandwidth"])
    l.write_bandwidth = r.non_negative(n["write_bandwidth"], at + ".write_bandwidth");
  if (YAML::Node k = n["keeps"]) {
    if (!k.IsSequence())
      r.fail(k, fmt::format("'{}.keeps' must be a list of weights, inputs, outputs", at));
    l.keeps = {false, false, false};
    for (const auto& e : k) {
      try {
        DataSpace ds = parse_dataspace(r.string(e, at + ".keeps"), at + ".keeps");
        l.keeps[static_cast<int>(ds)] = true;
      } catch (const Error& err) {
        r.fail(e, err.what());
      }
    }
  }
  if (YAML::Node f = n["fanout"]) {
    r.expect_keys(f, at + ".fanout", {"x", "y"});
    if (f["x"]) l.fanout_x = r.positive_int(f["x"], at + ".fanout.x");
    if (f["y"]) l.fanout_y = r.positive_int(f["y"], at + ".fanout.y");
  }
  if (YAML::Node e = n["energy_pj"]) {
    r.expect_keys(e, at + ".energy_pj", {"read", "write"});
    if (e["read"]) l.read_pj = r.non_negative(e["read"], at + ".energy_pj.read");
    if (e["write"]) l.write_pj = r.non_negative(e["write"], at + ".energy_pj.write");
  }
  if (n["area_um2"]) l.area_um2 = r.non_negative(n["area_um2"], at + ".area_um2");
  return l;
}

}  // namespace

Architecture parse_asic_architecture(const std::string& text, const std::string& source) {
  YamlConfigReader r(source);
  YAML::Node root = r.load(text);
  if (!root.IsMap())
    r.fail(root, "an ASIC architecture is a mapping (see docs/simulators/asic.md)");
  r.expect_keys(root, "asic architecture",
                {"name", "base", "technology_nm", "clock_mhz", "mac", "levels"});
  Architecture a;
  if (root["base"]) {
    try {
      a = asic_preset(r.string(root["base"], "base"));
    } catch (const Error& e) {
      r.fail(root["base"], e.what());
    }
  } else if (!root["levels"]) {
    r.fail(root, "'levels' is required (or 'base' naming a preset)");
  }
  a.name = root["name"] ? r.string(root["name"], "name") : source;
  a.source = source;
  if (root["technology_nm"]) a.technology_nm = r.positive(root["technology_nm"], "technology_nm");
  if (root["clock_mhz"]) a.clock_hz = r.positive(root["clock_mhz"], "clock_mhz") * 1e6;
  if (YAML::Node m = root["mac"]) {
    r.expect_keys(m, "mac", {"bits", "type", "energy_pj", "area_um2"});
    if (m["bits"]) a.mac_bits = static_cast<int>(r.positive_int(m["bits"], "mac.bits"));
    if (m["type"]) {
      std::string t = r.string(m["type"], "mac.type");
      if (t != "int" && t != "float")
        r.fail(m["type"], fmt::format("'mac.type' must be int or float, got '{}'", t));
      a.mac_float = t == "float";
    }
    if (m["energy_pj"]) a.mac_pj = r.non_negative(m["energy_pj"], "mac.energy_pj");
    if (m["area_um2"]) a.mac_area_um2 = r.non_negative(m["area_um2"], "mac.area_um2");
  }
  if (YAML::Node ls = root["levels"]) {
    if (!ls.IsSequence() || ls.size() == 0)
      r.fail(ls, "'levels' must be a non-empty list, outermost (DRAM) first");
    a.levels.clear();
    int i = 0;
    for (const auto& n : ls) a.levels.push_back(parse_level(r, n, i++));
  }
  try {
    a.validate(source);
  } catch (const Error& e) {
    r.fail(root["levels"] ? root["levels"] : root, e.what());
  }
  return a;
}

Architecture load_asic_architecture(const std::string& path) {
  return parse_asic_architecture(read_config_file(path, "ASIC architecture"), path);
}

}  // namespace tessera::sim
