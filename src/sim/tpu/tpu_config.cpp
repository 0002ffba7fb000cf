// TPU presets (figures and sources: docs/simulators/tpu.md) and the YAML config reader.
#include "tessera/sim/tpu/tpu_config.h"

#include <fmt/core.h>

#include "../config_yaml.h"
#include "tessera/core/error.h"

namespace tessera::sim {
namespace {

constexpr int64_t kKiB = 1024;
constexpr int64_t kMiB = 1024 * 1024;

// Energy per action at 45 nm (Horowitz, "Computing's energy problem", ISSCC 2014), scaled to
// other nodes in proportion to the feature size (switched capacitance ~ size at similar
// voltage) — a first-order rule; DRAM/HBM energies are interface figures and do not scale.
constexpr double kInt8MacPj45 = 0.2 + 0.1;   // 8-bit multiply + 32-bit integer add
constexpr double kBf16MacPj45 = 1.1 + 0.9;   // 16-bit float multiply + 32-bit float add
constexpr double kSramBytePj45 = 100.0 / 8;  // 1 MB SRAM: 100 pJ per 64-bit read
constexpr double kF32AddPj45 = 0.9;
double at_node(double pj45, double nm) { return pj45 * nm / 45.0; }

int64_t operand_bytes_of(const std::string& numerics) { return numerics == "int8" ? 1 : 2; }

TpuConfig tpu_v1() {
  TpuConfig c;
  c.name = "tpu-v1";
  c.source = "Jouppi et al., In-Datacenter Performance Analysis of a Tensor Processing Unit, "
             "ISCA 2017";
  c.matrix_units = 1;
  c.array = {.rows = 256,
             .cols = 256,
             .dataflow = Dataflow::kWeightStationary,
             .ifmap_sram_bytes = 24 * kMiB,   // the Unified Buffer
             .filter_sram_bytes = 256 * kKiB, // the weight FIFO: four 64 KiB tiles
             .ofmap_sram_bytes = 4 * kMiB,    // the accumulators: 4096 x 256 x 32 bit
             .operand_bytes = 1,
             .accumulator_bytes = 4,
             .accumulate_partial_sums = true};
  c.numerics = "int8";
  c.clock_hz = 700e6;
  c.dram_bandwidth = 34e9;
  c.dram_name = "ddr3";
  c.vector_lanes = 256;  // the activation pipeline takes one 256-wide row per cycle
  c.transcendental_cycles = 1;  // nonlinearities are hardwired in that pipeline
  c.vector_memory_bytes = 24 * kMiB;
  c.training = false;
  c.mac_pj = at_node(kInt8MacPj45, 28);
  c.sram_byte_pj = at_node(kSramBytePj45, 28);
  c.dram_byte_pj = 2000.0 / 8;  // DDR3: 1.3–2.6 nJ per 64-bit access (Horowitz 2014)
  c.vector_op_pj = at_node(kF32AddPj45, 28);
  c.static_power_w = 28;  // the die's idle power in the paper's Table 2 (busy: 40 W)
  return c;
}

TpuConfig tpu_v4() {
  TpuConfig c;
  c.name = "tpu-v4";
  c.source = "Jouppi et al., TPU v4: An Optically Reconfigurable Supercomputer for Machine "
             "Learning with Hardware Support for Embeddings, ISCA 2023 (one TensorCore)";
  c.matrix_units = 4;
  // 16 MiB of vector memory per core; the split among the four MXUs' operand buffers is our
  // assumption (docs/simulators/tpu.md).
  c.array = {.rows = 128,
             .cols = 128,
             .dataflow = Dataflow::kWeightStationary,
             .ifmap_sram_bytes = 2 * kMiB,
             .filter_sram_bytes = 1 * kMiB,
             .ofmap_sram_bytes = 1 * kMiB,
             .operand_bytes = 2,
             .accumulator_bytes = 4,
             .accumulate_partial_sums = true};
  c.numerics = "bf16";
  c.clock_hz = 1050e6;
  c.dram_bandwidth = 1200e9;
  c.dram_name = "hbm2";
  c.vector_lanes = 8 * 128;  // one (8, 128) f32 vector register per cycle
  c.transcendental_cycles = 4;
  c.vector_memory_bytes = 16 * kMiB;
  c.training = true;
  c.mac_pj = at_node(kBf16MacPj45, 7);
  c.sram_byte_pj = at_node(kSramBytePj45, 7);
  c.dram_byte_pj = 3.9 * 8;  // HBM2: 3.9 pJ/bit (O'Connor et al., MICRO 2017)
  c.vector_op_pj = at_node(kF32AddPj45, 7);
  c.static_power_w = 0;  // not published per core; dynamic energy only
  return c;
}

TpuConfig edge_tpu() {
  TpuConfig c;
  c.name = "edge-tpu";
  c.source = "Coral Edge TPU: 4 TOPS int8 at 2 TOPS/W, about 8 MB of on-chip SRAM, PCIe Gen2 "
             "x1 host link (coral.ai); the 64 x 64 array at 480 MHz is our assumption that "
             "gives the published peak";
  c.matrix_units = 1;
  c.array = {.rows = 64,
             .cols = 64,
             .dataflow = Dataflow::kWeightStationary,
             .ifmap_sram_bytes = 2 * kMiB,
             .filter_sram_bytes = 5 * kMiB,  // the compiler caches parameters on chip
             .ofmap_sram_bytes = 1 * kMiB,
             .operand_bytes = 1,
             .accumulator_bytes = 4,
             .accumulate_partial_sums = true};
  c.numerics = "int8";
  c.clock_hz = 480e6;
  c.dram_bandwidth = 0.5e9;  // parameters that do not fit stream from the host
  c.dram_name = "host (pcie)";
  c.vector_lanes = 64;
  c.transcendental_cycles = 1;
  c.vector_memory_bytes = 2 * kMiB;
  c.training = false;
  // Calibrated so that the array at full use draws about the published 2 W.
  c.mac_pj = 0.9;
  c.sram_byte_pj = 2.0;
  c.dram_byte_pj = 2000.0 / 8;
  c.vector_op_pj = 0.5;
  c.static_power_w = 0;
  return c;
}

}  // namespace

const char* fidelity_name(Fidelity f) { return f == Fidelity::kCycle ? "cycle" : "analytic"; }

Fidelity parse_fidelity(std::string_view text, std::string_view where) {
  if (text == "cycle") return Fidelity::kCycle;
  if (text == "analytic") return Fidelity::kAnalytic;
  throw Error(ErrorKind::kInvalidArgument,
              fmt::format("{}: unknown fidelity '{}' (expected cycle or analytic)", where, text));
}

void TpuConfig::validate(std::string_view where) const {
  auto positive = [&](double v, const char* field) {
    TS_CHECK(v > 0, ErrorKind::kInvalidArgument, "{}: '{}' must be positive, got {}", where,
             field, v);
  };
  positive(static_cast<double>(matrix_units), "matrix_units");
  positive(static_cast<double>(array.rows), "array.rows");
  positive(static_cast<double>(array.cols), "array.cols");
  positive(static_cast<double>(array.ifmap_sram_bytes), "sram_kib.ifmap");
  positive(static_cast<double>(array.filter_sram_bytes), "sram_kib.filter");
  positive(static_cast<double>(array.ofmap_sram_bytes), "sram_kib.ofmap");
  positive(clock_hz, "clock_mhz");
  positive(dram_bandwidth, "dram.bandwidth_gbps");
  positive(static_cast<double>(vector_lanes), "vector.lanes");
  positive(transcendental_cycles, "vector.transcendental_cycles");
  positive(static_cast<double>(vector_memory_bytes), "vector.memory_kib");
  TS_CHECK(numerics == "bf16" || numerics == "int8", ErrorKind::kInvalidArgument,
           "{}: 'numerics' must be bf16 or int8, got '{}'", where, numerics);
  for (auto [v, field] : {std::pair{mac_pj, "energy_pj.mac"},
                          std::pair{sram_byte_pj, "energy_pj.sram_byte"},
                          std::pair{dram_byte_pj, "energy_pj.dram_byte"},
                          std::pair{vector_op_pj, "energy_pj.vector_op"},
                          std::pair{static_power_w, "static_power_w"}})
    TS_CHECK(v >= 0, ErrorKind::kInvalidArgument, "{}: '{}' must be zero or more, got {}",
             where, field, v);
}

std::vector<std::string> tpu_preset_names() { return {"tpu-v1", "tpu-v4", "edge-tpu"}; }

TpuConfig tpu_preset(std::string_view name) {
  if (name == "tpu-v1") return tpu_v1();
  if (name == "tpu-v4") return tpu_v4();
  if (name == "edge-tpu") return edge_tpu();
  throw Error(ErrorKind::kNotFound,
              fmt::format("unknown TPU preset '{}' (known: tpu-v1, tpu-v4, edge-tpu; or a "
                          ".yaml config or a SCALE-Sim .cfg)",
                          name));
}

TpuConfig parse_tpu_config(const std::string& text, const std::string& source) {
  YamlConfigReader r(source);
  YAML::Node root = r.load(text);
  if (!root.IsMap()) r.fail(root, "a TPU config is a mapping (see docs/simulators/tpu.md)");
  r.expect_keys(root, "tpu config",
                {"name", "base", "matrix_units", "array", "sram_kib", "numerics", "clock_mhz",
                 "dram", "vector", "training", "energy_pj", "static_power_w", "fidelity"});
  TpuConfig c;
  c.array.accumulate_partial_sums = true;  // a TPU's accumulators
  if (root["base"]) {
    std::string base = r.string(root["base"], "base");
    try {
      c = tpu_preset(base);
    } catch (const Error& e) {
      r.fail(root["base"], e.what());
    }
  }
  c.name = root["name"] ? r.string(root["name"], "name") : source;
  c.source = source;
  if (root["matrix_units"]) c.matrix_units = r.positive_int(root["matrix_units"], "matrix_units");
  if (YAML::Node a = root["array"]) {
    r.expect_keys(a, "array", {"rows", "cols", "dataflow", "accumulate_partial_sums"});
    if (a["accumulate_partial_sums"])
      c.array.accumulate_partial_sums =
          r.boolean(a["accumulate_partial_sums"], "array.accumulate_partial_sums");
    if (a["rows"]) c.array.rows = r.positive_int(a["rows"], "array.rows");
    if (a["cols"]) c.array.cols = r.positive_int(a["cols"], "array.cols");
    if (a["dataflow"]) {
      std::string d = r.string(a["dataflow"], "array.dataflow");
      try {
        c.array.dataflow = parse_dataflow(d, "array.dataflow");
      } catch (const Error& e) {
        r.fail(a["dataflow"], e.what());
      }
    }
  }
  if (YAML::Node s = root["sram_kib"]) {
    r.expect_keys(s, "sram_kib", {"ifmap", "filter", "ofmap"});
    if (s["ifmap"]) c.array.ifmap_sram_bytes = r.positive_int(s["ifmap"], "sram_kib.ifmap") * kKiB;
    if (s["filter"])
      c.array.filter_sram_bytes = r.positive_int(s["filter"], "sram_kib.filter") * kKiB;
    if (s["ofmap"]) c.array.ofmap_sram_bytes = r.positive_int(s["ofmap"], "sram_kib.ofmap") * kKiB;
  }
  if (root["numerics"]) {
    c.numerics = r.string(root["numerics"], "numerics");
    if (c.numerics != "bf16" && c.numerics != "int8")
      r.fail(root["numerics"], fmt::format("'numerics' must be bf16 or int8, got '{}'",
                                           c.numerics));
  }
  c.array.operand_bytes = operand_bytes_of(c.numerics);
  c.array.accumulator_bytes = 4;
  if (root["clock_mhz"]) c.clock_hz = r.positive(root["clock_mhz"], "clock_mhz") * 1e6;
  if (YAML::Node d = root["dram"]) {
    r.expect_keys(d, "dram", {"bandwidth_gbps", "name"});
    if (d["bandwidth_gbps"])
      c.dram_bandwidth = r.positive(d["bandwidth_gbps"], "dram.bandwidth_gbps") * 1e9;
    if (d["name"]) c.dram_name = r.string(d["name"], "dram.name");
  }
  if (YAML::Node v = root["vector"]) {
    r.expect_keys(v, "vector", {"lanes", "transcendental_cycles", "memory_kib"});
    if (v["lanes"]) c.vector_lanes = r.positive_int(v["lanes"], "vector.lanes");
    if (v["transcendental_cycles"])
      c.transcendental_cycles =
          r.positive(v["transcendental_cycles"], "vector.transcendental_cycles");
    if (v["memory_kib"])
      c.vector_memory_bytes = r.positive_int(v["memory_kib"], "vector.memory_kib") * kKiB;
  }
  if (root["training"]) c.training = r.boolean(root["training"], "training");
  if (YAML::Node e = root["energy_pj"]) {
    r.expect_keys(e, "energy_pj", {"mac", "sram_byte", "dram_byte", "vector_op"});
    if (e["mac"]) c.mac_pj = r.non_negative(e["mac"], "energy_pj.mac");
    if (e["sram_byte"]) c.sram_byte_pj = r.non_negative(e["sram_byte"], "energy_pj.sram_byte");
    if (e["dram_byte"]) c.dram_byte_pj = r.non_negative(e["dram_byte"], "energy_pj.dram_byte");
    if (e["vector_op"]) c.vector_op_pj = r.non_negative(e["vector_op"], "energy_pj.vector_op");
  }
  if (root["static_power_w"])
    c.static_power_w = r.non_negative(root["static_power_w"], "static_power_w");
  if (root["fidelity"]) {
    std::string f = r.string(root["fidelity"], "fidelity");
    try {
      c.fidelity = parse_fidelity(f, "fidelity");
    } catch (const Error& e) {
      r.fail(root["fidelity"], e.what());
    }
  }
  c.validate(source);
  return c;
}

TpuConfig load_tpu_config(const std::string& path) {
  return parse_tpu_config(read_config_file(path, "TPU config"), path);
}

}  // namespace tessera::sim
