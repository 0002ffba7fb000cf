// ASIC architectures: validation and the built-in presets (sources in
// docs/simulators/asic.md).
#include "tessera/sim/asic/architecture.h"

#include <fmt/core.h>

#include "tessera/core/error.h"

namespace tessera::sim {
namespace {

constexpr int64_t kKiB = 1024;

StorageLevel dram(int word_bits, double bandwidth_words, std::string type = "ddr") {
  StorageLevel l;
  l.name = "DRAM";
  l.cls = ComponentClass::kDram;
  l.dram_type = std::move(type);
  l.word_bits = word_bits;
  l.read_bandwidth = l.write_bandwidth = bandwidth_words;
  return l;
}

StorageLevel buffer(std::string name, ComponentClass cls, int64_t words, int word_bits,
                    std::array<bool, 3> keeps, int64_t fx = 1, int64_t fy = 1) {
  StorageLevel l;
  l.name = std::move(name);
  l.cls = cls;
  l.size_words = words;
  l.word_bits = word_bits;
  l.keeps = keeps;
  l.fanout_x = fx;
  l.fanout_y = fy;
  return l;
}

constexpr std::array<bool, 3> kAll = {true, true, true};
constexpr std::array<bool, 3> kW = {true, false, false};
constexpr std::array<bool, 3> kI = {false, true, false};
constexpr std::array<bool, 3> kO = {false, false, true};
constexpr std::array<bool, 3> kIO = {false, true, true};
constexpr std::array<bool, 3> kWI = {true, true, false};

Architecture eyeriss() {
  Architecture a;
  a.name = "eyeriss";
  a.source = "Chen et al., Eyeriss: An Energy-Efficient Reconfigurable Accelerator for Deep "
             "Convolutional Neural Networks, JSSC 2017 (65 nm, 12 x 14 PEs, 108 KB GLB, "
             "spads 12/224/24 x 16 b, 200 MHz, 64-bit off-chip bus)";
  a.levels.push_back(dram(16, 4));
  // The GLB holds input feature maps and partial sums; filters go from DRAM to the spads.
  a.levels.push_back(
      buffer("shared_glb", ComponentClass::kSram, 108 * kKiB * 8 / 16, 16, kIO, 14, 12));
  a.levels.push_back(buffer("psum_spad", ComponentClass::kRegfile, 24, 16, kO));
  a.levels.push_back(buffer("weights_spad", ComponentClass::kRegfile, 224, 16, kW));
  a.levels.push_back(buffer("ifmap_spad", ComponentClass::kRegfile, 12, 16, kI));
  a.mac_bits = 16;
  a.clock_hz = 200e6;
  a.technology_nm = 65;
  return a;
}

// A 16 x 16 array under a 128 KiB global buffer, 16-bit, 1 GHz, 45 nm (our sizes); `pe_keeps`
// picks the one-word register each PE holds: a weight (weight-stationary) or a partial sum
// (output-stationary).
Architecture array16(std::string name, std::string reg_name, std::array<bool, 3> pe_keeps) {
  Architecture a;
  a.name = std::move(name);
  a.source = "a generic 16 x 16 systolic-style array (sizes ours, docs/simulators/asic.md)";
  a.levels.push_back(dram(16, 16));
  a.levels.push_back(buffer("global_buffer", ComponentClass::kSram, 128 * kKiB * 8 / 16, 16,
                            kAll, 16, 16));
  a.levels.push_back(buffer(std::move(reg_name), ComponentClass::kRegfile, 1, 16, pe_keeps));
  a.mac_bits = 16;
  a.clock_hz = 1e9;
  a.technology_nm = 45;
  return a;
}

Architecture nvdla_like() {
  Architecture a;
  a.name = "nvdla-like";
  a.source = "NVDLA v1 hardware architecture (nvdla.org/hw/v1/hwarch.html), nv_full: 2048 "
             "int8 MACs as atomic-C 64 x atomic-K 32, 512 KiB convolution buffer; 1 GHz and "
             "16 nm are our assumptions; accumulator depth ours";
  a.levels.push_back(dram(8, 32));
  a.levels.push_back(buffer("cbuf", ComponentClass::kSram, 512 * kKiB, 8, kWI, 1, 32));
  StorageLevel cacc = buffer("cacc", ComponentClass::kRegfile, 256, 32, kO, 64, 1);
  a.levels.push_back(cacc);
  a.levels.push_back(buffer("weight_latch", ComponentClass::kRegfile, 1, 8, kW));
  a.mac_bits = 8;
  a.clock_hz = 1e9;
  a.technology_nm = 16;
  return a;
}

Architecture edge_npu() {
  Architecture a;
  a.name = "edge-npu";
  a.source = "an edge NPU at the scale of Arm Ethos-U55's largest configuration (256 int8 "
             "MACs/cycle, developer.arm.com); 256 KiB SRAM, 16 x 16 output-stationary "
             "array, 500 MHz and 16 nm are our assumptions";
  a.levels.push_back(dram(8, 8));
  a.levels.push_back(buffer("sram", ComponentClass::kSram, 256 * kKiB, 8, kAll, 16, 16));
  a.levels.push_back(buffer("accumulator", ComponentClass::kRegfile, 4, 32, kO));
  a.mac_bits = 8;
  a.clock_hz = 500e6;
  a.technology_nm = 16;
  return a;
}

}  // namespace

const char* component_class_name(ComponentClass c) {
  switch (c) {
    case ComponentClass::kDram:
      return "DRAM";
    case ComponentClass::kSram:
      return "SRAM";
    case ComponentClass::kRegfile:
      return "regfile";
  }
  return "?";
}

ComponentClass parse_component_class(std::string_view name, std::string_view where) {
  if (name == "DRAM" || name == "dram") return ComponentClass::kDram;
  if (name == "SRAM" || name == "sram" || name == "smartbuffer_SRAM" || name == "buffer")
    return ComponentClass::kSram;
  if (name == "regfile" || name == "smartbuffer_RF" || name == "register" || name == "reg")
    return ComponentClass::kRegfile;
  throw Error(ErrorKind::kInvalidArgument,
              fmt::format("{}: unknown component class '{}' (known: DRAM, SRAM, regfile; "
                          "Accelergy's smartbuffer_SRAM, smartbuffer_RF)",
                          where, name));
}

int64_t Architecture::instances(int level) const {
  int64_t n = 1;
  for (int i = 0; i < level; ++i) n *= levels[i].fanout();
  return n;
}

int64_t Architecture::num_macs() const { return instances(num_levels()); }

void Architecture::validate(std::string_view where) const {
  TS_CHECK(!levels.empty(), ErrorKind::kInvalidArgument,
           "{}: an architecture needs at least one storage level", where);
  TS_CHECK(num_levels() <= kMaxAsicLevels, ErrorKind::kInvalidArgument,
           "{}: {} storage levels, at most {} are supported", where, num_levels(),
           kMaxAsicLevels);
  for (int d = 0; d < kNumDataSpaces; ++d)
    TS_CHECK(levels[0].keeps[d], ErrorKind::kInvalidArgument,
             "{}: the outermost level '{}' must keep every dataspace (it bypasses {})", where,
             levels[0].name, dataspace_name(static_cast<DataSpace>(d)));
  for (int i = 0; i < num_levels(); ++i) {
    const StorageLevel& l = levels[i];
    auto at = fmt::format("{}: level {} '{}'", where, i, l.name);
    TS_CHECK(!l.name.empty(), ErrorKind::kInvalidArgument, "{}: a level needs a name", at);
    TS_CHECK(l.size_words >= 0, ErrorKind::kInvalidArgument,
             "{}: 'size_words' must be zero (unbounded) or more, got {}", at, l.size_words);
    TS_CHECK(l.cls == ComponentClass::kDram || l.size_words > 0, ErrorKind::kInvalidArgument,
             "{}: an on-chip {} needs a positive 'size_words'", at,
             component_class_name(l.cls));
    TS_CHECK(l.word_bits > 0 && l.word_bits <= 1024, ErrorKind::kInvalidArgument,
             "{}: 'word_bits' must be in 1..1024, got {}", at, l.word_bits);
    TS_CHECK(l.read_bandwidth >= 0 && l.write_bandwidth >= 0, ErrorKind::kInvalidArgument,
             "{}: bandwidths must be zero (unlimited) or more, got read {} write {}", at,
             l.read_bandwidth, l.write_bandwidth);
    TS_CHECK(l.fanout_x > 0 && l.fanout_y > 0, ErrorKind::kInvalidArgument,
             "{}: fan-out must be positive, got {} x {}", at, l.fanout_x, l.fanout_y);
    TS_CHECK(l.dram_type == "ddr" || l.dram_type == "hbm2", ErrorKind::kInvalidArgument,
             "{}: 'dram_type' must be ddr or hbm2, got '{}'", at, l.dram_type);
  }
  TS_CHECK(mac_bits > 0 && mac_bits <= 64, ErrorKind::kInvalidArgument,
           "{}: 'mac.bits' must be in 1..64, got {}", where, mac_bits);
  TS_CHECK(clock_hz > 0, ErrorKind::kInvalidArgument, "{}: the clock must be positive, got {}",
           where, clock_hz);
  TS_CHECK(technology_nm >= 3 && technology_nm <= 180, ErrorKind::kInvalidArgument,
           "{}: 'technology_nm' must be in 3..180, got {}", where, technology_nm);
}

std::vector<std::string> asic_preset_names() {
  return {"eyeriss", "ws-16x16", "os-16x16", "nvdla-like", "edge-npu"};
}

Architecture asic_preset(std::string_view name) {
  if (name == "eyeriss") return eyeriss();
  if (name == "ws-16x16") return array16("ws-16x16", "weight_reg", kW);
  if (name == "os-16x16") return array16("os-16x16", "accumulator", kO);
  if (name == "nvdla-like") return nvdla_like();
  if (name == "edge-npu") return edge_npu();
  throw Error(ErrorKind::kNotFound,
              fmt::format("unknown ASIC preset '{}' (known: eyeriss, ws-16x16, os-16x16, "
                          "nvdla-like, edge-npu; or an architecture .yaml)",
                          name));
}

}  // namespace tessera::sim
