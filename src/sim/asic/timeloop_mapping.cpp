// Timeloop v0.4 mappings (`mapping:` directives) into the model's Mapping, and the loader
// that reads a whole Timeloop design (architecture, problem, mapping, ERT, ART) from files
// that each hold one or more of those keys. Conventions: docs/simulators/asic.md.
#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

#include "tessera/core/error.h"
#include "timeloop_common.h"

namespace tessera::sim {
namespace {

struct Target {
  int level = -1;      // a storage level
  int container = -1;  // or a spatial container
};

Target resolve_target(const YamlConfigReader& r, const YAML::Node& n,
                      const TimeloopArchitecture& tl) {
  std::string name = r.string(n, "mapping[].target");
  for (int i = 0; i < tl.arch.num_levels(); ++i)
    if (tl.arch.levels[i].name == name) return {i, -1};
  for (size_t c = 0; c < tl.containers.size(); ++c) {
    const std::string& cn = tl.containers[c].name;
    if (name == cn || name == "inter_" + cn + "_spatial") return {-1, static_cast<int>(c)};
  }
  std::string known;
  for (const auto& l : tl.arch.levels) known += (known.empty() ? "" : ", ") + l.name;
  for (const auto& c : tl.containers) known += ", " + c.name;
  r.fail(n, fmt::format("'mapping[].target': no storage level or spatial container named '{}' "
                        "(known: {})",
                        name, known));
}

// Splits "R=3 P=16", "R=3,P=1", "C1 M8" or a YAML list into tokens.
std::vector<std::pair<std::string, YAML::Node>> tokens(const YamlConfigReader& r,
                                                       const YAML::Node& n,
                                                       std::string_view field,
                                                       bool split_chars) {
  std::vector<std::pair<std::string, YAML::Node>> out;
  auto split = [&](const std::string& s, const YAML::Node& at) {
    bool has_sep = s.find_first_of(" ,\t") != std::string::npos;
    if (split_chars && !has_sep) {
      for (char c : s) out.emplace_back(std::string(1, c), at);
      return;
    }
    std::string cur;
    for (char c : s) {
      if (c == ' ' || c == ',' || c == '\t') {
        if (!cur.empty()) out.emplace_back(cur, at);
        cur.clear();
      } else {
        cur += c;
      }
    }
    if (!cur.empty()) out.emplace_back(cur, at);
  };
  if (n.IsScalar()) {
    split(n.Scalar(), n);
  } else if (n.IsSequence()) {
    for (const auto& e : n) split(r.string(e, field), e);
  } else {
    r.fail(n, fmt::format("'{}' must be a string or a list", field));
  }
  return out;
}

Dim problem_dim(const YamlConfigReader& r, const YAML::Node& at, const std::string& name,
                const TimeloopProblem& p, std::string_view field) {
  for (int d = 0; d < kNumDims; ++d)
    if (!p.dim_names[d].empty() && p.dim_names[d] == name) return static_cast<Dim>(d);
  std::string known;
  for (const auto& n : p.dim_names)
    if (!n.empty()) known += (known.empty() ? "" : " ") + n;
  r.fail(at, fmt::format("'{}': '{}' is not a dimension of problem '{}' ({})", field, name,
                         p.shape, known));
}

// Factors: per dimension of ours, 1 where not given.
DimArray parse_factors(const YamlConfigReader& r, const YAML::Node& n, const TimeloopProblem& p,
                       std::string_view field) {
  DimArray f = kUnitDims;
  std::array<bool, kNumDims> seen{};
  for (const auto& [tok, at] : tokens(r, n, field, false)) {
    size_t i = 0;
    while (i < tok.size() && std::isalpha(static_cast<unsigned char>(tok[i]))) ++i;
    std::string name = tok.substr(0, i);
    std::string num = tok.substr(i < tok.size() && tok[i] == '=' ? i + 1 : i);
    bool digits = !num.empty() && num.size() <= 12 &&
                  std::all_of(num.begin(), num.end(),
                              [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    if (name.empty() || !digits)
      r.fail(at, fmt::format("'{}': expected DIM=N (like C=3), got '{}'", field, tok));
    Dim d = problem_dim(r, at, name, p, field);
    int64_t v = std::stoll(num);
    if (v <= 0)
      r.fail(at, fmt::format("'{}': factor of {} must be positive, got {} (residual factors "
                             "are not modelled)",
                             field, name, v));
    if (seen[dim_index(d)]) r.fail(at, fmt::format("'{}': {} given twice", field, name));
    seen[dim_index(d)] = true;
    f[dim_index(d)] = v;
  }
  return f;
}

// Timeloop lists a permutation innermost first and puts missing dimensions outside; ours is
// outermost first.
std::vector<Dim> parse_permutation(const YamlConfigReader& r, const YAML::Node& n,
                                   const TimeloopProblem& p, std::string_view field) {
  std::vector<Dim> inner_first;
  std::array<bool, kNumDims> seen{};
  if (n)
    for (const auto& [tok, at] : tokens(r, n, field, true)) {
      Dim d = problem_dim(r, at, tok, p, field);
      if (seen[dim_index(d)]) r.fail(at, fmt::format("'{}': {} given twice", field, tok));
      seen[dim_index(d)] = true;
      inner_first.push_back(d);
    }
  for (int d = 0; d < kNumDims; ++d)
    if (!seen[d]) inner_first.push_back(static_cast<Dim>(d));
  return inner_first;
}

}  // namespace

Mapping parse_timeloop_mapping(const std::string& text, const std::string& source,
                               TimeloopArchitecture& tl, const TimeloopProblem& problem) {
  YamlConfigReader r(source);
  YAML::Node root = r.load(text);
  YAML::Node list = timeloop_detail::section(r, root, "mapping");
  if (!list.IsSequence()) r.fail(list, "'mapping' must be a list of directives");

  Mapping m;
  m.num_levels = tl.arch.num_levels();
  // Per container: the X and Y factors it carries (checked against its mesh).
  std::vector<std::pair<DimArray, DimArray>> container_xy(tl.containers.size(),
                                                          {kUnitDims, kUnitDims});
  std::set<std::pair<std::string, std::string>> seen;
  std::vector<bool> container_given(tl.containers.size(), false);
  std::vector<bool> level_spatial_given(tl.arch.levels.size(), false);
  int idx = 0;
  for (const auto& d : list) {
    std::string at = fmt::format("mapping[{}]", idx++);
    r.expect_keys(d, at, {"target", "type", "factors", "permutation", "split", "keep", "bypass"});
    if (!d["target"]) r.fail(d, fmt::format("'{}.target' is required", at));
    if (!d["type"]) r.fail(d, fmt::format("'{}.type' is required", at));
    std::string type = r.string(d["type"], at + ".type");
    if (type == "datatype" || type == "bypass") type = "dataspace";
    if (type != "temporal" && type != "spatial" && type != "dataspace")
      r.fail(d["type"], fmt::format("'{}.type' must be temporal, spatial, dataspace, datatype or "
                                    "bypass, got '{}'",
                                    at, type));
    Target t = resolve_target(r, d["target"], tl);
    std::string target = d["target"].Scalar();
    if (!seen.insert({target, type}).second)
      r.fail(d, fmt::format("'{}': a second {} directive for '{}'", at, type, target));

    if (type == "dataspace") {
      if (d["factors"] || d["permutation"] || d["split"])
        r.fail(d, fmt::format("'{}': a {} directive takes keep / bypass only", at, type));
      if (t.level < 0) continue;  // spatial containers hold nothing
      auto& keep = tl.keep[t.level];
      std::array<bool, kNumDataSpaces> kept_here{};
      if (d["keep"])
        for (const auto& e : timeloop_detail::name_list(r, d["keep"], at + ".keep")) {
          int ds = static_cast<int>(
              timeloop_detail::resolve_dataspace(r, e, problem, at + ".keep"));
          keep[ds] = 1;
          kept_here[ds] = true;
        }
      if (d["bypass"])
        for (const auto& e : timeloop_detail::name_list(r, d["bypass"], at + ".bypass")) {
          int ds = static_cast<int>(
              timeloop_detail::resolve_dataspace(r, e, problem, at + ".bypass"));
          if (kept_here[ds])
            r.fail(e, fmt::format("'{}': '{}' is both kept and bypassed", at, e.Scalar()));
          keep[ds] = 0;
        }
      continue;
    }
    if (d["keep"] || d["bypass"])
      r.fail(d, fmt::format("'{}': keep / bypass belong in a dataspace directive", at));
    if (!d["factors"]) r.fail(d, fmt::format("'{}.factors' is required", at));
    DimArray f = parse_factors(r, d["factors"], problem, at + ".factors");
    std::vector<Dim> perm = parse_permutation(r, d["permutation"], problem, at + ".permutation");

    if (type == "temporal") {
      if (d["split"]) r.fail(d["split"], fmt::format("'{}': split is for spatial directives", at));
      if (t.level < 0) {
        for (int k = 0; k < kNumDims; ++k)
          if (f[k] != 1)
            r.fail(d["factors"], fmt::format("'{}': temporal loops at spatial container '{}' are "
                                             "not modelled ({} = {})",
                                             at, target, dim_name(Dim(k)), f[k]));
        continue;
      }
      LevelMapping& lm = m.levels[t.level];
      lm.temporal = f;
      for (int k = 0; k < kNumDims; ++k) lm.order[k] = perm[kNumDims - 1 - k];
      continue;
    }

    // Spatial: loops at permutation positions below `split` (innermost first) go to X, the
    // rest to Y. Without a split, a mesh that is only tall puts everything on Y.
    int64_t mesh_x = 0, mesh_y = 0;
    int level = t.level;
    if (t.container >= 0) {
      const auto& c = tl.containers[t.container];
      mesh_x = c.mesh_x;
      mesh_y = c.mesh_y;
      level = c.level;
    } else {
      mesh_x = tl.arch.levels[level].fanout_x;
      mesh_y = tl.arch.levels[level].fanout_y;
    }
    int64_t split = (mesh_x == 1 && mesh_y > 1) ? 0 : kNumDims;
    if (d["split"]) {
      double s = r.non_negative(d["split"], at + ".split");
      split = static_cast<int64_t>(s);
    }
    DimArray x = kUnitDims, y = kUnitDims;
    int64_t px = 1, py = 1;
    for (int pos = 0; pos < kNumDims; ++pos) {
      int k = dim_index(perm[pos]);
      (pos < split ? x : y)[k] *= f[k];
      (pos < split ? px : py) *= f[k];
    }
    if (px > mesh_x || py > mesh_y)
      r.fail(d, fmt::format("'{}': spatial factors X {} x Y {} at '{}' exceed its mesh {} x {}",
                            at, px, py, target, mesh_x, mesh_y));
    if (t.container >= 0) {
      container_xy[t.container] = {x, y};
      container_given[t.container] = true;
    } else {
      m.levels[level].spatial_x = x;
      m.levels[level].spatial_y = y;
      level_spatial_given[level] = true;
    }
  }
  for (size_t c = 0; c < tl.containers.size(); ++c) {
    const int level = tl.containers[c].level;
    if (container_given[c] && level_spatial_given[level])
      r.fail(list, fmt::format("spatial factors for '{}' are given both at the level and at its "
                               "container '{}'",
                               tl.arch.levels[level].name, tl.containers[c].name));
    LevelMapping& lm = m.levels[level];
    for (int k = 0; k < kNumDims; ++k) {
      lm.spatial_x[k] *= container_xy[c].first[k];
      lm.spatial_y[k] *= container_xy[c].second[k];
    }
  }
  // The dataspace directives decide what each level keeps; what nothing fixed is kept.
  for (int i = 0; i < tl.arch.num_levels(); ++i)
    for (int ds = 0; ds < kNumDataSpaces; ++ds) tl.arch.levels[i].keeps[ds] = tl.keep[i][ds] != 0;
  try {
    tl.arch.validate(source);
    validate_mapping(problem.nest, tl.arch, m);
  } catch (const Error& e) {
    r.fail(list, e.what());
  }
  return m;
}

TimeloopDesign parse_timeloop_design(const std::vector<TimeloopSource>& files) {
  // Which file holds which key (Timeloop merges all its inputs into one document).
  const TimeloopSource* arch = nullptr;
  const TimeloopSource* prob = nullptr;
  const TimeloopSource* map = nullptr;
  std::vector<const TimeloopSource*> ert, art;
  for (const TimeloopSource& f : files) {
    YamlConfigReader r(f.source);
    YAML::Node root = r.load(f.text);
    if (!root.IsMap())
      r.fail(root, "a Timeloop input is a mapping with architecture, problem, mapping, ERT or "
                   "ART keys");
    auto take = [&](const char* key, const TimeloopSource*& slot) {
      if (!root[key]) return;
      if (slot)
        r.fail(root[key], fmt::format("'{}' is also given in {}", key, slot->source));
      slot = &f;
    };
    take("architecture", arch);
    take("problem", prob);
    take("mapping", map);
    if (root["ERT"]) ert.push_back(&f);
    if (root["ART"]) art.push_back(&f);
  }
  std::string names;
  for (const auto& f : files) names += (names.empty() ? "" : ", ") + f.source;
  TS_CHECK(arch && prob, ErrorKind::kInvalidArgument, "Timeloop design ({}): missing {}{}",
           names, arch ? "" : "'architecture' ", prob ? "" : "'problem'");
  TimeloopDesign d;
  d.problem = parse_timeloop_problem(prob->text, prob->source);
  d.tl = parse_timeloop_architecture(arch->text, arch->source, d.problem);
  AccelergyTables tables;
  for (const auto* f : ert) parse_accelergy_ert(f->text, f->source, tables);
  for (const auto* f : art) parse_accelergy_art(f->text, f->source, tables);
  apply_accelergy_tables(tables, d.tl);
  if (map) {
    d.mapping = parse_timeloop_mapping(map->text, map->source, d.tl, d.problem);
    d.mapped = true;
  }
  d.arch = d.tl.arch;
  d.nest = d.problem.nest;
  return d;
}

TimeloopDesign load_timeloop_design(const std::vector<std::string>& paths) {
  std::vector<TimeloopSource> files;
  for (const auto& p : paths) files.push_back({p, read_config_file(p, "Timeloop input")});
  return parse_timeloop_design(files);
}

}  // namespace tessera::sim
