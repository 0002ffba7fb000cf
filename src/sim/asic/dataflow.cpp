// The dataflow templates: weight-, output-, input- and row-stationary mappings for any
// problem and architecture.
#include <fmt/core.h>

#include <vector>

#include "tessera/core/error.h"
#include "tessera/sim/asic/mapping.h"

namespace tessera::sim {
namespace {

using D = Dim;

struct Template {
  std::vector<Dim> x, y;                // spatial preference, first filled first
  std::array<Dim, kNumDims> order;      // per level, outermost first
};

Template template_of(AsicDataflow df) {
  switch (df) {
    case AsicDataflow::kWeightStationary:
      // Weights stay while the loops that do not touch them (N, P, Q) run innermost; the
      // array spreads output channels across X and reduces input channels down Y.
      return {{D::kK, D::kN}, {D::kC, D::kR, D::kS},
              {D::kR, D::kS, D::kC, D::kK, D::kN, D::kP, D::kQ}};
    case AsicDataflow::kOutputStationary:
      return {{D::kQ, D::kP, D::kN}, {D::kK},
              {D::kN, D::kK, D::kP, D::kQ, D::kC, D::kR, D::kS}};
    case AsicDataflow::kInputStationary:
      return {{D::kQ, D::kP, D::kN}, {D::kC},
              {D::kN, D::kC, D::kP, D::kQ, D::kR, D::kS, D::kK}};
    case AsicDataflow::kRowStationary:
      // Eyeriss: a PE column holds one filter row per PE (R down Y) and one output row per
      // column (P across X); inside a PE, a 1-D convolution of a filter row (S) over an
      // input row (Q) with its partial sums.
      return {{D::kP, D::kK, D::kN}, {D::kR, D::kC},
              {D::kN, D::kK, D::kC, D::kP, D::kR, D::kQ, D::kS}};
  }
  return {};
}

int64_t largest_divisor_at_most(int64_t n, int64_t cap) {
  for (int64_t f = std::min(n, cap); f > 1; --f)
    if (n % f == 0) return f;
  return 1;
}

int64_t smallest_prime_factor(int64_t n) {
  for (int64_t p = 2; p * p <= n; ++p)
    if (n % p == 0) return p;
  return n;
}

}  // namespace

const char* asic_dataflow_name(AsicDataflow d) {
  switch (d) {
    case AsicDataflow::kWeightStationary:
      return "ws";
    case AsicDataflow::kOutputStationary:
      return "os";
    case AsicDataflow::kInputStationary:
      return "is";
    case AsicDataflow::kRowStationary:
      return "rs";
  }
  return "?";
}

AsicDataflow parse_asic_dataflow(std::string_view t, std::string_view where) {
  if (t == "ws" || t == "weight-stationary") return AsicDataflow::kWeightStationary;
  if (t == "os" || t == "output-stationary") return AsicDataflow::kOutputStationary;
  if (t == "is" || t == "input-stationary") return AsicDataflow::kInputStationary;
  if (t == "rs" || t == "row-stationary") return AsicDataflow::kRowStationary;
  throw Error(ErrorKind::kInvalidArgument,
              fmt::format("{}: unknown dataflow '{}' (expected ws, os, is or rs)", where, t));
}

Mapping dataflow_mapping(AsicDataflow df, const LoopNest& nest, const Architecture& arch) {
  arch.validate(arch.name);
  nest.validate();
  const Template t = template_of(df);
  Mapping m = trivial_mapping(nest, arch);
  DimArray& rest = m.levels[0].temporal;  // what is not yet placed elsewhere
  for (int i = 0; i < m.num_levels; ++i) m.levels[i].order = t.order;

  // Spatial: fill each level's fan-out with the template's dimensions, outermost level first.
  for (int i = 0; i < m.num_levels; ++i) {
    const StorageLevel& s = arch.levels[i];
    auto fill = [&](const std::vector<Dim>& dims, int64_t fanout, DimArray& spatial) {
      int64_t left = fanout;
      for (Dim d : dims) {
        int k = dim_index(d);
        int64_t f = largest_divisor_at_most(rest[k], left);
        spatial[k] *= f;
        rest[k] /= f;
        left /= f;
      }
    };
    if (s.fanout_x > 1) fill(t.x, s.fanout_x, m.levels[i].spatial_x);
    if (s.fanout_y > 1) fill(t.y, s.fanout_y, m.levels[i].spatial_y);
  }

  // Temporal: move prime factors from DRAM into the innermost levels first, innermost loops
  // of the template first, as long as every tile still fits.
  for (int i = m.num_levels - 1; i >= 1; --i) {
    bool keeps_any = false;
    for (bool k : arch.levels[i].keeps) keeps_any = keeps_any || k;
    if (!keeps_any) continue;
    for (int o = kNumDims - 1; o >= 0; --o) {
      int k = dim_index(t.order[o]);
      while (rest[k] > 1) {
        int64_t p = smallest_prime_factor(rest[k]);
        rest[k] /= p;
        m.levels[i].temporal[k] *= p;
        if (!mapping_fits(nest, arch, m)) {
          m.levels[i].temporal[k] /= p;
          rest[k] *= p;
          break;
        }
      }
    }
  }
  validate_mapping(nest, arch, m);
  return m;
}

}  // namespace tessera::sim
