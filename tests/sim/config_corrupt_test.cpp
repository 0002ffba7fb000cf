// Truncated and corrupted config files: every prefix of a valid TPU YAML config, SCALE-Sim
// .cfg and topology .csv, and each with bytes flipped, either parses or fails with a
// tessera::Error — never another exception, never a crash (the fuzz target
// tests/fuzz/sim_config_fuzz.cpp explores further).
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "tessera/core/error.h"
#include "tessera/core/rng.h"
#include "tessera/sim/fpga/fpga_config.h"
#include "tessera/sim/fpga/precision.h"
#include "tessera/sim/tpu/scalesim.h"
#include "tessera/sim/tpu/tpu_config.h"

namespace tessera::sim {
namespace {

const char* const kTpuYaml = R"(name: t
base: tpu-v4
matrix_units: 2
array: {rows: 64, cols: 32, dataflow: os}
sram_kib: {ifmap: 512, filter: 256, ofmap: 128}
numerics: int8
clock_mhz: 900
dram: {bandwidth_gbps: 100, name: ddr5}
vector: {lanes: 128, transcendental_cycles: 2, memory_kib: 4096}
energy_pj: {mac: 0.2, sram_byte: 1, dram_byte: 20, vector_op: 0.1}
fidelity: analytic
)";

const char* const kScaleSimCfg =
    "[general]\nrun_name = t\n[architecture_presets]\nArrayHeight: 8\nArrayWidth: 4\n"
    "IfmapSramSzkB: 64\nFilterSramSzkB: 64\nOfmapSramSzkB: 64\nIfmapOffset: 0\n"
    "FilterOffset: 10000000\nOfmapOffset: 20000000\nDataflow: is\nBandwidth: 10\n"
    "MemoryBanks: 1\n[run_presets]\nInterfaceBandwidth: USER\n";

const char* const kTopology =
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
    "Strides,\nconv1, 28, 28, 3, 3, 1, 32, 1,\nconv2, 14, 14, 3, 3, 32, 64, 2,\nfc, 1, 1, 1, 1, "
    "3136, 10, 1,\n";

void survives(const std::string& text, const std::function<void(const std::string&)>& parse) {
  try {
    parse(text);
  } catch (const Error&) {
  }  // any other exception fails the test
}

void prefixes_and_flips(const std::string& valid,
                        const std::function<void(const std::string&)>& parse) {
  parse(valid);  // the valid file parses
  for (size_t n = 0; n < valid.size(); ++n) survives(valid.substr(0, n), parse);
  Rng rng(7);
  for (int trial = 0; trial < 400; ++trial) {
    std::string s = valid;
    for (int k = 0; k < 3; ++k) {
      size_t at = static_cast<size_t>(rng.next_u64() % s.size());
      s[at] = static_cast<char>(rng.next_u64() % 256);
    }
    survives(s, parse);
  }
}

TEST(SimConfigCorrupt, TpuYaml) {
  prefixes_and_flips(kTpuYaml, [](const std::string& t) { parse_tpu_config(t, "t.yaml"); });
}

TEST(SimConfigCorrupt, ScaleSimConfig) {
  prefixes_and_flips(kScaleSimCfg,
                     [](const std::string& t) { parse_scalesim_config(t, "t.cfg"); });
}

TEST(SimConfigCorrupt, ScaleSimTopology) {
  prefixes_and_flips(kTopology,
                     [](const std::string& t) { parse_scalesim_topology(t, "t.csv"); });
}

const char* const kFpgaConfig = R"(Model: {Precision: 'ap_fixed<16,6>', ReuseFactor: 2, Strategy: Latency}
IOType: io_parallel
LayerName:
  dense: {Precision: {weight: 'ap_fixed<8,3>', bias: 'ap_fixed<8,3>', accum: auto, result: 'ap_fixed<16,6,AP_RND,AP_SAT>'}, ReuseFactor: 4}
  dense_1: {Precision: 'auto<12>', Strategy: Resource}
Device: xczu9eg
ClockPeriod: 5
)";

TEST(SimConfigCorrupt, FpgaConfig) {
  prefixes_and_flips(kFpgaConfig, [](const std::string& t) { parse_fpga_config(t, "f.yaml"); });
}

TEST(SimConfigCorrupt, PrecisionStrings) {
  prefixes_and_flips("ap_ufixed<18, 7, AP_RND_CONV, AP_SAT_SYM, 0>",
                     [](const std::string& t) { parse_precision_spec(t); });
}

}  // namespace
}  // namespace tessera::sim
