// Timeloop v0.4 problems (`problem: {shape, instance}`) into LoopNests, and the helpers the
// other Timeloop readers share. Conventions: docs/simulators/asic.md.
#include <fmt/core.h>

#include <cctype>
#include <cmath>
#include <optional>

#include "tessera/core/error.h"
#include "timeloop_common.h"

namespace tessera::sim {
namespace timeloop_detail {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

YAML::Node section(const YamlConfigReader& r, const YAML::Node& root, const char* key) {
  if (!root.IsMap() || !root[key])
    r.fail(root, fmt::format("expected a top-level '{}:' key (a Timeloop v0.4 input)", key));
  return root[key];
}

std::vector<YAML::Node> name_list(const YamlConfigReader& r, const YAML::Node& n,
                                  std::string_view field) {
  std::vector<YAML::Node> out;
  if (n.IsNull()) return out;
  if (n.IsScalar()) {
    out.push_back(n);
    return out;
  }
  if (!n.IsSequence()) r.fail(n, fmt::format("'{}' must be a list of names", field));
  for (const auto& e : n) {
    if (!e.IsScalar()) r.fail(e, fmt::format("'{}' must be a list of names", field));
    out.push_back(e);
  }
  return out;
}

DataSpace resolve_dataspace(const YamlConfigReader& r, const YAML::Node& n,
                            const TimeloopProblem& problem, std::string_view field) {
  std::string name = r.string(n, field);
  for (int i = 0; i < kNumDataSpaces; ++i)
    if (iequals(name, problem.dataspace_names[i])) return static_cast<DataSpace>(i);
  for (int i = 0; i < kNumDataSpaces; ++i)
    if (iequals(name, dataspace_name(static_cast<DataSpace>(i)))) return static_cast<DataSpace>(i);
  r.fail(n, fmt::format("'{}': unknown dataspace '{}' (the problem's are {}, {}, {})", field,
                        name, problem.dataspace_names[0], problem.dataspace_names[1],
                        problem.dataspace_names[2]));
}

std::string short_component_name(std::string_view full) {
  // Drop the trailing instance range first: its ".." is not a hierarchy separator.
  if (!full.empty() && full.back() == ']') {
    size_t b = full.rfind('[');
    if (b != std::string_view::npos) full = full.substr(0, b);
  }
  size_t dot = full.rfind('.');
  return std::string(dot == std::string_view::npos ? full : full.substr(dot + 1));
}

}  // namespace timeloop_detail

namespace {

using timeloop_detail::iequals;

// Timeloop's CNN_Layer names; its output-channel dimension is M (our K).
std::optional<Dim> cnn_dim(std::string_view name) {
  static constexpr std::pair<const char*, Dim> kNames[] = {
      {"R", Dim::kR}, {"S", Dim::kS}, {"P", Dim::kP}, {"Q", Dim::kQ},
      {"C", Dim::kC}, {"M", Dim::kK}, {"K", Dim::kK}, {"N", Dim::kN}};
  for (const auto& [n, d] : kNames)
    if (name == n) return d;
  return std::nullopt;
}

struct Term {
  Dim dim;
  std::string coefficient;  // empty: 1
};

struct Projection {
  std::string name;
  bool read_write = false;
  std::vector<std::vector<Term>> terms;  // one per rank: a sum of dim x coefficient
  YAML::Node node;
};

}  // namespace

TimeloopProblem parse_timeloop_problem(const std::string& text, const std::string& source) {
  YamlConfigReader r(source);
  YAML::Node root = r.load(text);
  YAML::Node p = timeloop_detail::section(r, root, "problem");
  r.expect_keys(p, "problem", {"version", "shape", "instance"});
  if (!p["shape"]) r.fail(p, "'problem.shape' is required");
  if (!p["instance"]) r.fail(p, "'problem.instance' is required");
  YAML::Node shape = p["shape"];
  r.expect_keys(shape, "problem.shape", {"name", "dimensions", "data_spaces", "coefficients"});

  TimeloopProblem out;
  out.shape = shape["name"] ? r.string(shape["name"], "problem.shape.name") : "CNN_Layer";

  // Dimensions: a subset of CNN_Layer's.
  std::vector<std::pair<std::string, Dim>> dims;
  if (!shape["dimensions"] || !shape["dimensions"].IsSequence())
    r.fail(shape, "'problem.shape.dimensions' must be a list of dimension names");
  for (const auto& d : shape["dimensions"]) {
    std::string name = r.string(d, "problem.shape.dimensions");
    std::optional<Dim> dim = cnn_dim(name);
    if (!dim)
      r.fail(d, fmt::format("'problem.shape.dimensions': '{}' is not one of CNN_Layer's (R, S, "
                            "P, Q, C, M, N; K for M); other problem shapes are not modelled",
                            name));
    if (!out.dim_names[dim_index(*dim)].empty())
      r.fail(d, fmt::format("'problem.shape.dimensions': '{}' repeats dimension {} (as '{}')",
                            name, dim_name(*dim), out.dim_names[dim_index(*dim)]));
    out.dim_names[dim_index(*dim)] = name;
    dims.emplace_back(name, *dim);
  }
  auto find_dim = [&](const YAML::Node& n, std::string_view field) -> Dim {
    std::string name = r.string(n, field);
    for (const auto& [nm, d] : dims)
      if (nm == name) return d;
    r.fail(n, fmt::format("'{}': '{}' is not a dimension of the shape", field, name));
  };

  // Coefficients: name -> default.
  std::vector<std::pair<std::string, int64_t>> coefs;
  if (YAML::Node cs = shape["coefficients"]) {
    if (!cs.IsSequence()) r.fail(cs, "'problem.shape.coefficients' must be a list");
    for (const auto& c : cs) {
      r.expect_keys(c, "problem.shape.coefficients[]", {"name", "default"});
      if (!c["name"]) r.fail(c, "'problem.shape.coefficients[].name' is required");
      int64_t def = c["default"] ? r.positive_int(c["default"], "coefficients[].default") : 1;
      coefs.emplace_back(r.string(c["name"], "problem.shape.coefficients[].name"), def);
    }
  }

  // Dataspaces and their projections.
  std::vector<Projection> spaces;
  if (!shape["data_spaces"] || !shape["data_spaces"].IsSequence() ||
      shape["data_spaces"].size() != 3)
    r.fail(shape["data_spaces"] ? shape["data_spaces"] : shape,
           "'problem.shape.data_spaces' must list three dataspaces (weights, inputs, outputs)");
  for (YAML::Node ds : shape["data_spaces"]) {
    r.expect_keys(ds, "problem.shape.data_spaces[]", {"name", "projection", "read_write"});
    Projection pr;
    pr.node = ds;
    if (!ds["name"]) r.fail(ds, "'data_spaces[].name' is required");
    pr.name = r.string(ds["name"], "data_spaces[].name");
    if (ds["read_write"]) pr.read_write = r.boolean(ds["read_write"], "data_spaces[].read_write");
    std::string at = fmt::format("data_spaces[{}].projection", pr.name);
    if (!ds["projection"] || !ds["projection"].IsSequence())
      r.fail(ds, fmt::format("'{}' must be a list of ranks", at));
    for (const auto& rank : ds["projection"]) {
      // A rank is [[dim]], [[dim, coef], [dim, coef]], or (shorthand) a bare dim name.
      std::vector<Term> terms;
      if (rank.IsScalar()) {
        terms.push_back({find_dim(rank, at), ""});
      } else if (rank.IsSequence()) {
        for (const auto& term : rank) {
          if (!term.IsSequence() || term.size() < 1 || term.size() > 2)
            r.fail(term, fmt::format("'{}': a term is [dimension] or [dimension, coefficient]",
                                     at));
          Term t{find_dim(term[0], at), ""};
          if (term.size() == 2) t.coefficient = r.string(term[1], at);
          terms.push_back(t);
        }
      } else {
        r.fail(rank, fmt::format("'{}' must be a list of ranks", at));
      }
      pr.terms.push_back(std::move(terms));
    }
    spaces.push_back(std::move(pr));
  }

  // Roles: the read-write dataspace is the outputs; of the other two, the one whose name says
  // so, else the one that projects on an output dimension (P, Q or N) is the inputs.
  auto uses = [](const Projection& pr, Dim d) {
    for (const auto& rank : pr.terms)
      for (const auto& t : rank)
        if (t.dim == d) return true;
    return false;
  };
  int role[3] = {-1, -1, -1};  // role[our dataspace] = index into spaces
  for (int i = 0; i < 3; ++i)
    if (spaces[i].read_write) {
      if (role[2] >= 0)
        r.fail(spaces[i].node, "only one dataspace may be read_write (the outputs)");
      role[2] = i;
    }
  if (role[2] < 0) r.fail(shape["data_spaces"], "no dataspace is read_write: True (the outputs)");
  for (int i = 0; i < 3; ++i) {
    if (i == role[2]) continue;
    bool named_inputs = iequals(spaces[i].name, "inputs") || iequals(spaces[i].name, "ifmap");
    bool named_weights = iequals(spaces[i].name, "weights") || iequals(spaces[i].name, "filter");
    bool window = uses(spaces[i], Dim::kP) || uses(spaces[i], Dim::kQ) || uses(spaces[i], Dim::kN);
    int want = named_inputs ? 1 : named_weights ? 0 : window ? 1 : 0;
    if (role[want] >= 0) want = 1 - want;
    role[want] = i;
  }
  for (int dsi = 0; dsi < 3; ++dsi) out.dataspace_names[dsi] = spaces[role[dsi]].name;

  // Instance: bounds and coefficient values.
  YAML::Node inst = p["instance"];
  if (!inst.IsMap()) r.fail(inst, "'problem.instance' must map dimensions to sizes");
  std::vector<std::pair<std::string, int64_t>> coef_values = coefs;
  for (const auto& kv : inst) {
    std::string key = r.string(kv.first, "problem.instance");
    std::string field = "problem.instance." + key;
    bool found = false;
    for (const auto& [nm, d] : dims)
      if (nm == key) {
        out.nest.bounds[dim_index(d)] = r.positive_int(kv.second, field);
        found = true;
      }
    for (auto& [nm, v] : coef_values)
      if (nm == key) {
        v = r.positive_int(kv.second, field);
        found = true;
      }
    if (!found) {
      bool is_cnn_coef = key == "Wstride" || key == "Hstride" || key == "Wdilation" ||
                         key == "Hdilation";
      if (!is_cnn_coef)
        r.fail(kv.first, fmt::format("'problem.instance': '{}' is neither a dimension nor a "
                                     "coefficient of shape '{}'{}",
                                     key, out.shape,
                                     key == "densities" ? " (sparsity is not modelled)" : ""));
      coef_values.emplace_back(key, r.positive_int(kv.second, field));
    }
  }
  auto coef_value = [&](const std::string& name, const YAML::Node& at) -> int64_t {
    if (name.empty()) return 1;
    for (const auto& [nm, v] : coef_values)
      if (nm == name) return v;
    r.fail(at, fmt::format("coefficient '{}' has no value in 'problem.coefficients' or "
                           "'problem.instance'",
                           name));
  };

  // Each dataspace must project as CNN_Layer's does, restricted to the shape's dimensions:
  // weights on R S C K, outputs on N K P Q, inputs on N C and the windows P·stride + R·dilation
  // and Q·stride + S·dilation.
  for (int dsi = 0; dsi < 3; ++dsi) {
    const Projection& pr = spaces[role[dsi]];
    DataSpace ds = static_cast<DataSpace>(dsi);
    for (const auto& [nm, d] : dims) {
      bool expected = is_relevant(ds, d);
      if (expected != uses(pr, d))
        r.fail(pr.node,
               fmt::format("dataspace '{}' ({}) {} dimension '{}': the model reads CNN_Layer "
                           "projections only (weights R S C M, inputs N C P+R Q+S, outputs N "
                           "M P Q)",
                           pr.name, dataspace_name(ds),
                           expected ? "does not project on" : "projects on", nm));
    }
    for (const auto& rank : pr.terms) {
      if (rank.size() == 1) {
        bool window_dim = ds == DataSpace::kInputs &&
                          (rank[0].dim == Dim::kP || rank[0].dim == Dim::kQ ||
                           rank[0].dim == Dim::kR || rank[0].dim == Dim::kS);
        // A lone window dimension is fine when its partner is absent from the shape.
        if (!rank[0].coefficient.empty() && !window_dim)
          r.fail(pr.node, fmt::format("dataspace '{}': a coefficient on '{}' is not modelled",
                                      pr.name, dim_name(rank[0].dim)));
        if (window_dim) {
          int64_t c = coef_value(rank[0].coefficient, pr.node);
          if (rank[0].dim == Dim::kP) out.nest.stride_p = c;
          if (rank[0].dim == Dim::kQ) out.nest.stride_q = c;
          if (rank[0].dim == Dim::kR) out.nest.dilation_r = c;
          if (rank[0].dim == Dim::kS) out.nest.dilation_s = c;
        }
        continue;
      }
      if (ds != DataSpace::kInputs || rank.size() != 2)
        r.fail(pr.node, fmt::format("dataspace '{}': only the inputs may have a two-term "
                                    "(sliding-window) rank",
                                    pr.name));
      Dim a = rank[0].dim, b = rank[1].dim;
      bool pr_pair = (a == Dim::kR && b == Dim::kP) || (a == Dim::kP && b == Dim::kR);
      bool qs_pair = (a == Dim::kS && b == Dim::kQ) || (a == Dim::kQ && b == Dim::kS);
      if (!pr_pair && !qs_pair)
        r.fail(pr.node, fmt::format("dataspace '{}': a window pairs R with P or S with Q, got "
                                    "{} + {}",
                                    pr.name, dim_name(a), dim_name(b)));
      for (const Term& t : rank) {
        int64_t c = coef_value(t.coefficient, pr.node);
        switch (t.dim) {
          case Dim::kP: out.nest.stride_p = c; break;
          case Dim::kQ: out.nest.stride_q = c; break;
          case Dim::kR: out.nest.dilation_r = c; break;
          case Dim::kS: out.nest.dilation_s = c; break;
          default: break;
        }
      }
    }
  }
  out.nest.name = out.shape;
  try {
    out.nest.validate();
  } catch (const Error& e) {
    r.fail(inst, e.what());
  }
  return out;
}

}  // namespace tessera::sim
