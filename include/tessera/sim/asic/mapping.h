// A mapping of a loop nest onto an architecture, in Timeloop's form: for every storage level
// (outermost first) the temporal loop bounds and their order, and the spatial loop bounds in
// X and Y that split the level's tile across the instances of the next level (or the MACs).
// The whole nest, outermost to innermost, is
//   [level 0 temporal][level 0 spatial X,Y][level 1 temporal][level 1 spatial] ... MAC.
// A level's tile is the product of every factor at that level and below. Also here: the
// checks that make a mapping valid, and the dataflow templates (weight-, output-, input- and
// row-stationary) that build a valid mapping for any problem and architecture.
//
//   Mapping m = dataflow_mapping(Dataflow::kRowStationary, nest, arch);
//   validate_mapping(nest, arch, m);         // Error with the numbers when invalid
//   fmt::print("{}", m.str(arch));
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/sim/asic/architecture.h"
#include "tessera/sim/asic/loop_nest.h"

namespace tessera::sim {

struct LevelMapping {
  DimArray temporal = kUnitDims;
  // Outermost first; a permutation of all seven dimensions.
  std::array<Dim, kNumDims> order = {Dim::kN, Dim::kK, Dim::kC, Dim::kP, Dim::kQ, Dim::kR,
                                     Dim::kS};
  DimArray spatial_x = kUnitDims;
  DimArray spatial_y = kUnitDims;

  int64_t spatial(int d) const { return spatial_x[d] * spatial_y[d]; }
};

struct Mapping {
  int num_levels = 0;
  std::array<LevelMapping, kMaxAsicLevels> levels{};

  // Tile bounds of `level` (per instance): the product of the factors at it and below.
  DimArray tile(int level) const;
  std::string str(const Architecture& arch) const;  // Timeloop-like loop nest listing
};

// The problem kept in the outermost level: every factor temporal at level 0.
Mapping trivial_mapping(const LoopNest& nest, const Architecture& arch);

// Why a mapping is invalid, with the numbers; nullopt when it is valid: the level count
// differs from the architecture's, a dimension's factors do not multiply to its bound, an
// order is not a permutation, a level's spatial factors exceed its fan-out in X or Y, or the
// tiles a level keeps overflow its size.
std::optional<std::string> mapping_error(const LoopNest& nest, const Architecture& arch,
                                         const Mapping& m);
// Throws Error(kInvalidArgument, "mapping for '<nest>': " + the reason) when invalid.
void validate_mapping(const LoopNest& nest, const Architecture& arch, const Mapping& m);
// The fast check the mapper uses (no messages): fan-out and capacity only, the factors
// being correct by construction.
bool mapping_fits(const LoopNest& nest, const Architecture& arch, const Mapping& m);

enum class AsicDataflow : uint8_t {
  kWeightStationary,
  kOutputStationary,
  kInputStationary,
  kRowStationary,
};
const char* asic_dataflow_name(AsicDataflow d);  // "ws", "os", "is", "rs"
AsicDataflow parse_asic_dataflow(std::string_view text, std::string_view where);

// A valid mapping in the style of the dataflow: its spatial dimensions fill the array's
// fan-out (WS: C on Y and K on X; OS: P/Q on X and K on Y; IS: P/Q on X and C on Y;
// RS: filter rows R on Y and output rows P on X, then C/K), its stationary dataspace's
// irrelevant loops innermost at every level, and factors moved greedily from DRAM into the
// innermost levels that can hold them.
Mapping dataflow_mapping(AsicDataflow dataflow, const LoopNest& nest, const Architecture& arch);

}  // namespace tessera::sim
