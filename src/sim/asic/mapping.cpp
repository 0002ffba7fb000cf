// Mappings: tiles, validation with the numbers, and the listing.
#include "tessera/sim/asic/mapping.h"

#include <fmt/core.h>

#include "tessera/core/error.h"

namespace tessera::sim {
namespace {

// Tiles of every level at once: tiles[i] = product of factors at levels >= i.
void all_tiles(const Mapping& m, std::array<DimArray, kMaxAsicLevels + 1>& tiles) {
  tiles[m.num_levels] = kUnitDims;
  for (int i = m.num_levels - 1; i >= 0; --i) {
    const LevelMapping& l = m.levels[i];
    for (int d = 0; d < kNumDims; ++d)
      tiles[i][d] = tiles[i + 1][d] * l.temporal[d] * l.spatial_x[d] * l.spatial_y[d];
  }
}

int64_t product(const DimArray& a) {
  int64_t p = 1;
  for (int64_t v : a) p *= v;
  return p;
}

std::string factors_str(const DimArray& a) {
  std::string s;
  for (int d = 0; d < kNumDims; ++d)
    if (a[d] != 1) s += fmt::format("{}{}{}", s.empty() ? "" : " ", dim_name(Dim(d)), a[d]);
  return s.empty() ? "-" : s;
}

}  // namespace

DimArray Mapping::tile(int level) const {
  DimArray t = kUnitDims;
  for (int i = level; i < num_levels; ++i)
    for (int d = 0; d < kNumDims; ++d)
      t[d] *= levels[i].temporal[d] * levels[i].spatial_x[d] * levels[i].spatial_y[d];
  return t;
}

std::string Mapping::str(const Architecture& arch) const {
  std::string s;
  std::string indent;
  for (int i = 0; i < num_levels; ++i) {
    const LevelMapping& l = levels[i];
    s += fmt::format("{}{}  [temporal {}]\n", indent,
                     i < arch.num_levels() ? arch.levels[i].name : fmt::format("level{}", i),
                     factors_str(l.temporal));
    for (Dim d : l.order) {
      if (l.temporal[dim_index(d)] == 1) continue;
      s += fmt::format("{}| for {} in [0:{})\n", indent, dim_name(d), l.temporal[dim_index(d)]);
      indent += "  ";
    }
    for (int d = 0; d < kNumDims; ++d)
      if (l.spatial_x[d] != 1)
        s += fmt::format("{}| parallel-for {} in [0:{}) (X)\n", indent, dim_name(Dim(d)),
                         l.spatial_x[d]);
    for (int d = 0; d < kNumDims; ++d)
      if (l.spatial_y[d] != 1)
        s += fmt::format("{}| parallel-for {} in [0:{}) (Y)\n", indent, dim_name(Dim(d)),
                         l.spatial_y[d]);
  }
  return s + indent + "MAC\n";
}

Mapping trivial_mapping(const LoopNest& nest, const Architecture& arch) {
  Mapping m;
  m.num_levels = arch.num_levels();
  m.levels[0].temporal = nest.bounds;
  return m;
}

std::optional<std::string> mapping_error(const LoopNest& nest, const Architecture& arch,
                                         const Mapping& m) {
  if (m.num_levels != arch.num_levels())
    return fmt::format("it has {} levels, the architecture '{}' has {}", m.num_levels,
                       arch.name, arch.num_levels());
  for (int i = 0; i < m.num_levels; ++i) {
    const LevelMapping& l = m.levels[i];
    const StorageLevel& s = arch.levels[i];
    std::array<bool, kNumDims> seen{};
    for (Dim d : l.order) {
      int k = dim_index(d);
      if (k < 0 || k >= kNumDims || seen[k])
        return fmt::format("level '{}': the loop order must name each of R S P Q C K N once",
                           s.name);
      seen[k] = true;
    }
    for (int d = 0; d < kNumDims; ++d)
      if (l.temporal[d] < 1 || l.spatial_x[d] < 1 || l.spatial_y[d] < 1)
        return fmt::format("level '{}': factors of {} must be positive (temporal {}, X {}, Y {})",
                           s.name, dim_name(Dim(d)), l.temporal[d], l.spatial_x[d],
                           l.spatial_y[d]);
  }
  std::array<DimArray, kMaxAsicLevels + 1> tiles;
  all_tiles(m, tiles);
  for (int d = 0; d < kNumDims; ++d)
    if (tiles[0][d] != nest.bounds[d]) {
      std::string parts;
      for (int i = 0; i < m.num_levels; ++i) {
        const LevelMapping& l = m.levels[i];
        parts += fmt::format("{}{}={}", parts.empty() ? "" : " x ", arch.levels[i].name,
                             l.temporal[d]);
        if (l.spatial(d) != 1) parts += fmt::format("(spatial {})", l.spatial(d));
      }
      return fmt::format("the factors of {} multiply to {} ({}), the problem has {} = {}",
                         dim_name(Dim(d)), tiles[0][d], parts, dim_name(Dim(d)),
                         nest.bounds[d]);
    }
  for (int i = 0; i < m.num_levels; ++i) {
    const LevelMapping& l = m.levels[i];
    const StorageLevel& s = arch.levels[i];
    int64_t px = product(l.spatial_x), py = product(l.spatial_y);
    if (px > s.fanout_x || py > s.fanout_y)
      return fmt::format("level '{}': spatial factors X {} ({}) x Y {} ({}) exceed its fan-out "
                         "{} x {}",
                         s.name, px, factors_str(l.spatial_x), py, factors_str(l.spatial_y),
                         s.fanout_x, s.fanout_y);
    if (s.size_words > 0) {
      int64_t used = 0;
      std::string parts;
      for (int ds = 0; ds < kNumDataSpaces; ++ds)
        if (s.keeps[ds]) {
          int64_t f = nest.footprint(DataSpace(ds), tiles[i]);
          used += f;
          parts += fmt::format("{}{} {}", parts.empty() ? "" : " + ",
                               dataspace_name(DataSpace(ds)), f);
        }
      if (used > s.size_words)
        return fmt::format("level '{}': the tiles it keeps need {} words ({}) for tile [{}], "
                           "it holds {}",
                           s.name, used, parts, factors_str(tiles[i]), s.size_words);
    }
  }
  return std::nullopt;
}

void validate_mapping(const LoopNest& nest, const Architecture& arch, const Mapping& m) {
  if (auto e = mapping_error(nest, arch, m))
    throw Error(ErrorKind::kInvalidArgument, fmt::format("mapping for '{}': {}", nest.name, *e));
}

bool mapping_fits(const LoopNest& nest, const Architecture& arch, const Mapping& m) {
  DimArray tile = kUnitDims;
  for (int i = m.num_levels - 1; i >= 0; --i) {
    const LevelMapping& l = m.levels[i];
    const StorageLevel& s = arch.levels[i];
    int64_t px = 1, py = 1;
    for (int d = 0; d < kNumDims; ++d) {
      px *= l.spatial_x[d];
      py *= l.spatial_y[d];
      tile[d] *= l.temporal[d] * l.spatial_x[d] * l.spatial_y[d];
    }
    if (px > s.fanout_x || py > s.fanout_y) return false;
    if (s.size_words > 0) {
      int64_t used = 0;
      for (int ds = 0; ds < kNumDataSpaces; ++ds)
        if (s.keeps[ds]) used += nest.footprint(DataSpace(ds), tile);
      if (used > s.size_words) return false;
    }
  }
  return true;
}

}  // namespace tessera::sim
