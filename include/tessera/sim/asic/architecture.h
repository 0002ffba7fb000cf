// An accelerator for the ASIC simulator, in Timeloop's terms: a chain of storage levels from
// the outermost (DRAM) inwards — each with its component class, size, word width,
// bandwidth, which dataspaces it keeps (the others bypass it) and the spatial fan-out in X
// and Y to the instances of the next level (the last level fans out to the MACs) — plus
// the MAC precision, the clock and the technology node the energy and area tables scale to.
// Presets come from published designs (docs/simulators/asic.md cites them); YAML files
// describe others (schema in the same page).
//
//   Architecture a = asic_preset("eyeriss");
//   Architecture mine = load_asic_architecture("configs/asic/my_npu.yaml");  // file:line errors
//   int64_t pes = a.num_macs();  // 168
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/sim/asic/loop_nest.h"

namespace tessera::sim {

// The component classes the energy and area tables know (Accelergy's primitive classes).
enum class ComponentClass : uint8_t { kDram, kSram, kRegfile };
const char* component_class_name(ComponentClass c);  // "DRAM", "SRAM", "regfile"
// Accepts our names and Accelergy's ("smartbuffer_SRAM", "smartbuffer_RF", "storage" is not
// one: it has no energy). Error naming `where` and listing the known classes otherwise.
ComponentClass parse_component_class(std::string_view name, std::string_view where);

struct StorageLevel {
  std::string name;
  ComponentClass cls = ComponentClass::kSram;
  std::string dram_type = "ddr";  // kDram: "ddr" (DDR3/4 class) or "hbm2"
  int64_t size_words = 0;         // per instance; 0 = unbounded (DRAM)
  int word_bits = 16;
  // Words per cycle per instance; 0 = unlimited.
  double read_bandwidth = 0;
  double write_bandwidth = 0;
  std::array<bool, kNumDataSpaces> keeps = {true, true, true};
  // Spatial fan-out from one instance of this level to the instances of the next level (or
  // to the MACs below the last level), as a 2-D mesh.
  int64_t fanout_x = 1;
  int64_t fanout_y = 1;
  // Per-word energy (pJ) and per-instance area (um^2) overrides, e.g. from an Accelergy
  // ERT/ART; negative = from the built-in tables.
  double read_pj = -1;
  double write_pj = -1;
  double area_um2 = -1;

  bool keeps_ds(DataSpace ds) const { return keeps[static_cast<int>(ds)]; }
  int64_t fanout() const { return fanout_x * fanout_y; }
};

struct Architecture {
  std::string name = "custom";
  std::string source;  // where the figures come from (a paper, a file)
  std::vector<StorageLevel> levels;  // outermost (DRAM) first
  int mac_bits = 16;
  bool mac_float = false;  // false: integer/fixed-point MACs
  double clock_hz = 1e9;
  double technology_nm = 45;
  double mac_pj = -1;       // override (pJ per MAC); negative = from the table
  double mac_area_um2 = -1; // override (um^2 per MAC); negative = from the table

  int num_levels() const { return static_cast<int>(levels.size()); }
  // Instances of level i: the product of the fan-outs above it. num_macs(): below the last.
  int64_t instances(int level) const;
  int64_t num_macs() const;
  // Errors naming `where`, the level and field: no levels, level 0 not keeping every
  // dataspace, a non-positive size/width/fan-out, a negative bandwidth, a dataspace kept
  // nowhere. More than kMaxAsicLevels levels is an error too.
  void validate(std::string_view where) const;
};

inline constexpr int kMaxAsicLevels = 8;

// "eyeriss", "ws-16x16", "os-16x16", "nvdla-like", "edge-npu". Error(kNotFound) lists them.
Architecture asic_preset(std::string_view name);
std::vector<std::string> asic_preset_names();

// YAML (docs/simulators/asic.md): unknown keys, wrong types, unknown component classes and
// non-positive sizes are errors naming the file, line and field.
Architecture parse_asic_architecture(const std::string& text, const std::string& source);
Architecture load_asic_architecture(const std::string& path);

}  // namespace tessera::sim
