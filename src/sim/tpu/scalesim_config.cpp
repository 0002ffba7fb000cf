// SCALE-Sim .cfg files. SCALE-Sim reads them with Python's configparser, so this accepts the
// same dialect: [sections], "key: value" or "key = value", keys in any case, whole-line '#' and
// ';' comments. Keys SCALE-Sim does not read (MemoryBanks aside) are ignored, as it ignores them.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

#include "scalesim_text.h"
#include "tessera/core/error.h"
#include "tessera/sim/tpu/scalesim.h"

namespace tessera::sim {
namespace {

struct Entry {
  std::string value;
  int line = 0;
};
// section -> key -> value, both lower-cased.
using Ini = std::map<std::string, std::map<std::string, Entry>>;

Ini parse_ini(std::string_view text, std::string_view source) {
  Ini ini;
  std::string section;
  int line_no = 0;
  for (std::string_view line : scalesim_text::split_lines(text)) {
    ++line_no;
    const std::string_view s = scalesim_text::trim(line);
    if (s.empty() || s[0] == '#' || s[0] == ';') continue;
    if (s[0] == '[') {
      TS_CHECK(s.back() == ']', ErrorKind::kInvalidArgument,
               "{}:{}: malformed section header '{}' (expected [name])", source, line_no, s);
      section = scalesim_text::lower(scalesim_text::trim(s.substr(1, s.size() - 2)));
      TS_CHECK(!ini.contains(section), ErrorKind::kInvalidArgument,
               "{}:{}: section [{}] appears twice", source, line_no, section);
      ini[section];
      continue;
    }
    const size_t colon = s.find(':'), equals = s.find('=');
    const size_t sep = std::min(colon, equals);
    TS_CHECK(sep != std::string_view::npos, ErrorKind::kInvalidArgument,
             "{}:{}: expected 'key: value' or 'key = value', got '{}'", source, line_no, s);
    TS_CHECK(!section.empty(), ErrorKind::kInvalidArgument,
             "{}:{}: key outside of any [section]", source, line_no);
    const std::string key = scalesim_text::lower(scalesim_text::trim(s.substr(0, sep)));
    TS_CHECK(!key.empty(), ErrorKind::kInvalidArgument, "{}:{}: empty key", source, line_no);
    auto& keys = ini[section];
    TS_CHECK(!keys.contains(key), ErrorKind::kInvalidArgument,
             "{}:{}: key '{}' in [{}] appears twice (first on line {})", source, line_no, key,
             section, keys[key].line);
    keys[key] = {std::string(scalesim_text::trim(s.substr(sep + 1))), line_no};
  }
  return ini;
}

class Reader {
 public:
  Reader(const Ini& ini, std::string_view source) : ini_(ini), source_(source) {}

  const Entry* find(const std::string& section, const std::string& key) const {
    auto s = ini_.find(section);
    if (s == ini_.end()) return nullptr;
    auto k = s->second.find(scalesim_text::lower(key));
    return k == s->second.end() ? nullptr : &k->second;
  }
  const Entry& need(const std::string& section, const std::string& key) const {
    const Entry* e = find(section, key);
    TS_CHECK(e != nullptr, ErrorKind::kInvalidArgument, "{}: [{}] {} is missing", source_,
             section, key);
    return *e;
  }
  int64_t integer(const std::string& section, const std::string& key, int64_t min) const {
    const Entry& e = need(section, key);
    const auto v = scalesim_text::to_int(e.value);
    TS_CHECK(v.has_value(), ErrorKind::kInvalidArgument,
             "{}:{}: [{}] {}: expected an integer, got '{}'", source_, e.line, section, key,
             e.value);
    TS_CHECK(*v >= min, ErrorKind::kInvalidArgument,
             "{}:{}: [{}] {}: expected a value >= {}, got {}", source_, e.line, section, key, min,
             *v);
    return *v;
  }

 private:
  const Ini& ini_;
  std::string_view source_;
};

}  // namespace

ScaleSimConfig parse_scalesim_config(std::string_view text, std::string_view source) {
  const Ini ini = parse_ini(text, source);
  const Reader r(ini, source);
  ScaleSimConfig c;
  c.run_name = r.need("general", "run_name").value;
  TS_CHECK(!c.run_name.empty(), ErrorKind::kInvalidArgument, "{}:{}: [general] run_name is empty",
           source, r.need("general", "run_name").line);

  const Entry& mode = r.need("run_presets", "InterfaceBandwidth");
  if (mode.value == "USER") {
    c.user_bandwidth = true;
  } else {
    TS_CHECK(mode.value == "CALC", ErrorKind::kInvalidArgument,
             "{}:{}: [run_presets] InterfaceBandwidth: expected USER or CALC, got '{}'", source,
             mode.line, mode.value);
  }

  const std::string arch = "architecture_presets";
  c.array.rows = r.integer(arch, "ArrayHeight", 1);
  c.array.cols = r.integer(arch, "ArrayWidth", 1);
  c.array.ifmap_sram_bytes = 1024 * r.integer(arch, "IfmapSramSzkB", 1);
  c.array.filter_sram_bytes = 1024 * r.integer(arch, "FilterSramSzkB", 1);
  c.array.ofmap_sram_bytes = 1024 * r.integer(arch, "OfmapSramSzkB", 1);
  c.ifmap_offset = r.integer(arch, "IfmapOffset", 0);
  c.filter_offset = r.integer(arch, "FilterOffset", 0);
  c.ofmap_offset = r.integer(arch, "OfmapOffset", 0);
  const Entry& df = r.need(arch, "Dataflow");
  c.array.dataflow =
      parse_dataflow(df.value, fmt::format("{}:{}: [{}] Dataflow", source, df.line, arch));
  if (r.find(arch, "MemoryBanks") != nullptr) c.memory_banks = r.integer(arch, "MemoryBanks", 1);
  // SCALE-Sim's words are one byte wide (single_layer_sim.py: word_size = 1).
  c.array.operand_bytes = 1;
  c.array.accumulator_bytes = 1;

  if (c.user_bandwidth) {
    const Entry& bw = r.need(arch, "Bandwidth");
    int column = 0;
    for (std::string_view field : scalesim_text::split(bw.value, ',')) {
      ++column;
      const auto v = scalesim_text::to_int(scalesim_text::trim(field));
      TS_CHECK(v.has_value() && *v > 0, ErrorKind::kInvalidArgument,
               "{}:{}: [{}] Bandwidth: value {} must be a positive integer, got '{}'", source,
               bw.line, arch, column, scalesim_text::trim(field));
      c.bandwidths.push_back(*v);
    }
    c.array.dram_words_per_cycle = 3.0 * static_cast<double>(c.bandwidths.front());
  } else {
    c.array.dram_words_per_cycle = 0;
  }

  if (const Entry* topo = r.find("network_presets", "TopologyCsvLoc")) {
    std::string t = topo->value;
    t.erase(std::remove(t.begin(), t.end(), '"'), t.end());
    c.topology = t;
  }
  return c;
}

ScaleSimConfig read_scalesim_config(const std::string& path) {
  return parse_scalesim_config(scalesim_text::read_text_file(path, "SCALE-Sim config"), path);
}

}  // namespace tessera::sim
