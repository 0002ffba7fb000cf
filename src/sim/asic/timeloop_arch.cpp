// Timeloop v0.4 architectures (`architecture: {version: 0.4, nodes: [...]}`) and Accelergy
// ERT / ART tables into the model's Architecture. Conventions:
// docs/simulators/asic.md.
#include <fmt/core.h>

#include <cmath>
#include <optional>

#include "tessera/core/error.h"
#include "timeloop_common.h"

namespace tessera::sim {
namespace {

using timeloop_detail::iequals;

bool is_compute_class(std::string_view cls) {
  return cls == "intmac" || cls == "fpmac" || cls == "mac" || cls == "intmac_pipelined";
}

// "40nm", "45 nm", 40 -> 40.
double parse_technology(const YamlConfigReader& r, const YAML::Node& n) {
  std::string s = r.string(n, "attributes.technology");
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string rest = s.substr(used);
  while (!rest.empty() && rest.front() == ' ') rest.erase(rest.begin());
  if (used == 0 || !(v > 0) || (!rest.empty() && rest != "nm"))
    r.fail(n, fmt::format("'attributes.technology' must be a node like \"40nm\", got '{}'", s));
  return v;
}

class ArchReader {
 public:
  ArchReader(const YamlConfigReader& r, const TimeloopProblem& problem)
      : r_(r), problem_(problem) {}

  TimeloopArchitecture read(const YAML::Node& root) {
    YAML::Node a = timeloop_detail::section(r_, root, "architecture");
    if (a.IsMap() && (a["subtree"] || a["local"]))
      r_.fail(a, "the v0.3 'subtree'/'local' architecture layout is not read; write the "
                 "v0.4 'nodes:' list (docs/simulators/asic.md)");
    r_.expect_keys(a, "architecture", {"version", "nodes"});
    if (a["version"]) {
      std::string v = r_.string(a["version"], "architecture.version");
      if (v != "0.4")
        r_.fail(a["version"], fmt::format("'architecture.version' must be 0.4, got '{}'", v));
    }
    if (!a["nodes"] || !a["nodes"].IsSequence() || a["nodes"].size() == 0)
      r_.fail(a, "'architecture.nodes' must be a non-empty list of !Container / !Component");
    walk(a["nodes"], "nodes");
    if (!have_compute_)
      r_.fail(a["nodes"], "the architecture has no compute component (class intmac or fpmac) "
                          "after its storage levels");
    out_.arch.source = r_.source();
    try {
      out_.arch.validate(r_.source());
    } catch (const Error& e) {
      r_.fail(a["nodes"], e.what());
    }
    return std::move(out_);
  }

 private:
  void walk(const YAML::Node& nodes, const std::string& at) {
    int i = 0;
    for (const auto& n : nodes) {
      std::string here = fmt::format("{}[{}]", at, i++);
      const std::string& tag = n.Tag();
      if (!n.IsMap()) r_.fail(n, fmt::format("'{}' must be a !Container or !Component", here));
      if (tag == "!Parallel" || tag == "!Hierarchical" || tag == "!Nothing") {
        r_.expect_keys(n, here, {"nodes"});
        if (n["nodes"]) {
          if (!n["nodes"].IsSequence()) r_.fail(n["nodes"], "'nodes' must be a list");
          // Sibling buffers that each keep one dataspace behave as consecutive levels with
          // no fan-out between them (as Timeloop flattens them).
          walk(n["nodes"], here + ".nodes");
        }
      } else if (tag == "!Container") {
        container(n, here);
      } else if (tag == "!Component") {
        component(n, here);
      } else {
        r_.fail(n, fmt::format("'{}': expected a !Container, !Component or !Parallel node{}",
                               here, tag.empty() || tag == "?" ? "" : ", got tag " + tag));
      }
    }
  }

  void top_attributes(const YAML::Node& attrs) {
    if (!attrs) return;
    if (!attrs.IsMap()) r_.fail(attrs, "'attributes' must be a mapping");
    if (attrs["technology"]) out_.arch.technology_nm = parse_technology(r_, attrs["technology"]);
    if (attrs["global_cycle_seconds"])
      out_.arch.clock_hz = 1.0 / r_.positive(attrs["global_cycle_seconds"],
                                             "attributes.global_cycle_seconds");
  }

  // A mesh multiplies the fan-out of the storage level above it.
  void spatial(const YAML::Node& n, const std::string& name, const std::string& at) {
    YAML::Node s = n["spatial"];
    if (!s) return;
    r_.expect_keys(s, at + ".spatial", {"meshX", "meshY"});
    int64_t x = s["meshX"] ? r_.positive_int(s["meshX"], at + ".spatial.meshX") : 1;
    int64_t y = s["meshY"] ? r_.positive_int(s["meshY"], at + ".spatial.meshY") : 1;
    if (x * y == 1) return;
    if (out_.arch.levels.empty())
      r_.fail(s, fmt::format("'{}' ({}): a spatial mesh above the first storage level is not "
                             "modelled (the outermost level has one instance)",
                             at, name));
    StorageLevel& parent = out_.arch.levels.back();
    parent.fanout_x *= x;
    parent.fanout_y *= y;
    out_.containers.push_back({name, out_.arch.num_levels() - 1, x, y});
  }

  void container(const YAML::Node& n, const std::string& at) {
    r_.expect_keys(n, at, {"name", "attributes", "spatial", "constraints", "description"});
    std::string name = n["name"] ? r_.string(n["name"], at + ".name") : at;
    if (out_.arch.levels.empty() && out_.arch.name == "custom") out_.arch.name = name;
    if (have_compute_)
      r_.fail(n, fmt::format("'{}' ({}): nothing may follow the compute component", at, name));
    top_attributes(n["attributes"]);
    spatial(n, name, at);
    // Container constraints are the mapper's (factors, permutations): not needed to evaluate.
  }

  void component(const YAML::Node& n, const std::string& at) {
    r_.expect_keys(n, at, {"name", "class", "subclass", "attributes", "spatial", "constraints",
                           "required_actions", "enabled", "description"});
    if (!n["name"]) r_.fail(n, fmt::format("'{}.name' is required", at));
    std::string name = r_.string(n["name"], at + ".name");
    if (!n["class"]) r_.fail(n, fmt::format("'{}.class' is required", at));
    std::string cls = r_.string(n["class"], at + ".class");
    if (have_compute_)
      r_.fail(n, fmt::format("'{}' ({}): nothing may follow the compute component '{}'", at,
                             name, out_.compute_name));
    YAML::Node attrs = n["attributes"];
    if (attrs && !attrs.IsMap())
      r_.fail(attrs, fmt::format("'{}.attributes' must be a mapping", at));
    spatial(n, name, at);

    if (is_compute_class(cls)) {
      have_compute_ = true;
      out_.compute_name = name;
      out_.arch.mac_float = cls == "fpmac";
      if (attrs) {
        for (const char* key : {"multiplier_width", "datawidth", "width"})
          if (attrs[key]) {
            out_.arch.mac_bits = static_cast<int>(
                r_.positive_int(attrs[key], fmt::format("{}.attributes.{}", at, key)));
            break;
          }
      }
      return;
    }

    StorageLevel l;
    l.name = name;
    try {
      l.cls = parse_component_class(cls, fmt::format("{}.class", at));
    } catch (const Error& e) {
      r_.fail(n["class"], fmt::format("{} or a compute class (intmac, fpmac)", e.what()));
    }
    for (const auto& existing : out_.arch.levels)
      if (existing.name == name)
        r_.fail(n["name"], fmt::format("'{}.name': a second component named '{}'", at, name));
    if (static_cast<int>(out_.arch.levels.size()) >= kMaxAsicLevels)
      r_.fail(n, fmt::format("'{}' ({}): more than {} storage levels are not modelled", at, name,
                             kMaxAsicLevels));
    auto attr = [&](const char* key) { return attrs ? attrs[key] : YAML::Node(); };
    auto field = [&](const char* key) { return fmt::format("{}.attributes.{}", at, key); };

    int64_t datawidth = 0;
    if (attr("datawidth")) datawidth = r_.positive_int(attr("datawidth"), field("datawidth"));
    else if (attr("word_bits")) datawidth = r_.positive_int(attr("word_bits"), field("word_bits"));
    else if (attr("word-bits")) datawidth = r_.positive_int(attr("word-bits"), field("word-bits"));
    else
      r_.fail(attrs ? attrs : n, fmt::format("'{}' ({}): 'attributes.datawidth' (bits per word) "
                                             "is required",
                                             at, name));
    int64_t block = 1;
    if (attr("block_size")) {
      block = r_.positive_int(attr("block_size"), field("block_size"));
    } else if (attr("width")) {
      int64_t width = r_.positive_int(attr("width"), field("width"));
      if (width % datawidth != 0)
        r_.fail(attr("width"), fmt::format("'{}': width {} is not a multiple of datawidth {}",
                                           field("width"), width, datawidth));
      block = width / datawidth;
    }
    l.word_bits = static_cast<int>(datawidth);
    if (attr("depth")) {
      l.size_words = r_.positive_int(attr("depth"), field("depth")) * block;
    } else if (attr("size")) {
      l.size_words = r_.positive_int(attr("size"), field("size"));
    } else if (l.cls != ComponentClass::kDram) {
      r_.fail(attrs ? attrs : n, fmt::format("'{}' ({}): an on-chip buffer needs "
                                             "'attributes.depth'",
                                             at, name));
    }
    if (l.cls == ComponentClass::kDram) {
      l.size_words = 0;  // unbounded
      if (attr("type")) {
        std::string t = r_.string(attr("type"), field("type"));
        l.dram_type = t.find("HBM") != std::string::npos || t.find("hbm") != std::string::npos
                          ? "hbm2"
                          : "ddr";
      }
    }
    if (attr("shared_bandwidth"))
      l.read_bandwidth = l.write_bandwidth =
          r_.non_negative(attr("shared_bandwidth"), field("shared_bandwidth"));
    if (attr("read_bandwidth"))
      l.read_bandwidth = r_.non_negative(attr("read_bandwidth"), field("read_bandwidth"));
    if (attr("write_bandwidth"))
      l.write_bandwidth = r_.non_negative(attr("write_bandwidth"), field("write_bandwidth"));

    std::array<int8_t, kNumDataSpaces> keep = {-1, -1, -1};
    if (YAML::Node c = n["constraints"]) {
      r_.expect_keys(c, at + ".constraints", {"dataspace", "temporal", "spatial"});
      if (YAML::Node d = c["dataspace"]) {
        std::string f = at + ".constraints.dataspace";
        r_.expect_keys(d, f, {"keep", "bypass"});
        if (d["keep"]) {
          // Listing only what is kept bypasses the rest.
          if (!d["bypass"]) keep = {0, 0, 0};
          for (const auto& e : timeloop_detail::name_list(r_, d["keep"], f + ".keep"))
            keep[static_cast<int>(
                timeloop_detail::resolve_dataspace(r_, e, problem_, f + ".keep"))] = 1;
        }
        if (d["bypass"])
          for (const auto& e : timeloop_detail::name_list(r_, d["bypass"], f + ".bypass")) {
            int ds = static_cast<int>(
                timeloop_detail::resolve_dataspace(r_, e, problem_, f + ".bypass"));
            if (keep[ds] == 1)
              r_.fail(e, fmt::format("'{}': '{}' is both kept and bypassed", f, e.Scalar()));
            keep[ds] = 0;
          }
      }
    }
    for (int ds = 0; ds < kNumDataSpaces; ++ds) l.keeps[ds] = keep[ds] != 0;
    out_.keep.push_back(keep);
    out_.block_words.push_back(block);
    out_.arch.levels.push_back(std::move(l));
  }

  const YamlConfigReader& r_;
  const TimeloopProblem& problem_;
  TimeloopArchitecture out_;
  bool have_compute_ = false;
};

void read_tables(const std::string& text, const std::string& source, const char* key,
                 AccelergyTables& tables) {
  YamlConfigReader r(source);
  YAML::Node root = r.load(text);
  YAML::Node t = timeloop_detail::section(r, root, key);
  r.expect_keys(t, key, {"version", "tables"});
  if (!t["tables"] || !t["tables"].IsSequence())
    r.fail(t, fmt::format("'{}.tables' must be a list of components", key));
  bool ert = std::string_view(key) == "ERT";
  int i = 0;
  for (const auto& c : t["tables"]) {
    std::string at = fmt::format("{}.tables[{}]", key, i++);
    if (ert) r.expect_keys(c, at, {"name", "actions"});
    else r.expect_keys(c, at, {"name", "area", "primitive_estimations"});
    if (!c["name"]) r.fail(c, fmt::format("'{}.name' is required", at));
    std::string name = timeloop_detail::short_component_name(r.string(c["name"], at + ".name"));
    AccelergyTables::Component& comp = tables.components[name];
    if (!ert) {
      if (!c["area"]) r.fail(c, fmt::format("'{}.area' is required", at));
      comp.area_um2 = r.non_negative(c["area"], at + ".area");
      continue;
    }
    if (!c["actions"] || !c["actions"].IsSequence())
      r.fail(c, fmt::format("'{}.actions' must be a list", at));
    for (const auto& a : c["actions"]) {
      r.expect_keys(a, at + ".actions[]", {"name", "energy", "arguments"});
      if (!a["name"] || !a["energy"])
        r.fail(a, fmt::format("'{}.actions[]' needs 'name' and 'energy'", at));
      std::string action = r.string(a["name"], at + ".actions[].name");
      double pj = r.non_negative(a["energy"], at + ".actions[].energy");
      // Older tables list an action once per argument set; the first one is used.
      comp.action_pj.emplace(action, pj);
    }
  }
}

}  // namespace

TimeloopArchitecture parse_timeloop_architecture(const std::string& text,
                                                 const std::string& source,
                                                 const TimeloopProblem& problem) {
  YamlConfigReader r(source);
  YAML::Node root = r.load(text);
  return ArchReader(r, problem).read(root);
}

TimeloopArchitecture parse_timeloop_architecture(const std::string& text,
                                                 const std::string& source) {
  static const TimeloopProblem kCnnNames;
  return parse_timeloop_architecture(text, source, kCnnNames);
}

void parse_accelergy_ert(const std::string& text, const std::string& source,
                         AccelergyTables& tables) {
  read_tables(text, source, "ERT", tables);
}

void parse_accelergy_art(const std::string& text, const std::string& source,
                         AccelergyTables& tables) {
  read_tables(text, source, "ART", tables);
}

void apply_accelergy_tables(const AccelergyTables& tables, TimeloopArchitecture& tl) {
  auto find = [&](const std::string& name) -> const AccelergyTables::Component* {
    auto it = tables.components.find(name);
    return it == tables.components.end() ? nullptr : &it->second;
  };
  auto action = [](const AccelergyTables::Component& c,
                   std::initializer_list<const char*> names) -> std::optional<double> {
    for (const char* n : names) {
      auto it = c.action_pj.find(n);
      if (it != c.action_pj.end()) return it->second;
    }
    return std::nullopt;
  };
  for (int i = 0; i < tl.arch.num_levels(); ++i) {
    StorageLevel& l = tl.arch.levels[i];
    const AccelergyTables::Component* c = find(l.name);
    if (!c) continue;
    // One action moves a block of `block_words` words: the model counts words.
    const double block = static_cast<double>(tl.block_words[i]);
    if (auto rd = action(*c, {"read"})) l.read_pj = *rd / block;
    if (auto wr = action(*c, {"write", "update"})) l.write_pj = *wr / block;
    if (c->area_um2 >= 0) l.area_um2 = c->area_um2;
  }
  if (const AccelergyTables::Component* c = find(tl.compute_name)) {
    if (auto e = action(*c, {"compute", "mac_random", "multiply_accumulate"})) tl.arch.mac_pj = *e;
    if (c->area_um2 >= 0) tl.arch.mac_area_um2 = c->area_um2;
  }
}

}  // namespace tessera::sim
