// SCALE-Sim v2 compatibility: its .cfg files and topology .csv files (convolution rows or
// M,N,K GEMM rows), a run of the systolic engines over every layer with the quantities SCALE-Sim
// reports, and its report files (COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv,
// DETAILED_ACCESS_REPORT.csv). docs/simulators/tpu.md lists where the numbers agree with
// SCALE-Sim's and the conventions behind any difference.
//
//   ScaleSimConfig cfg = read_scalesim_config("google.cfg");
//   std::vector<ScaleSimLayer> layers = read_scalesim_topology("resnet.csv");
//   ScaleSimRun run = run_scalesim(cfg, layers, /*use_cycle_engine=*/true);
//   write_scalesim_reports(run, "out/" + cfg.run_name);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/sim/tpu/systolic.h"
#include "tessera/sim/workload.h"

namespace tessera::sim {

struct ScaleSimConfig {
  std::string run_name = "scale_run";  // [general] run_name
  // ArrayHeight, ArrayWidth, Dataflow, *SramSzkB (x 1024 bytes), one-byte words as in SCALE-Sim,
  // and dram_words_per_cycle: 0 in CALC mode, 3 x Bandwidth in USER mode (SCALE-Sim gives each
  // of the three streams its own Bandwidth; the engines share one link among them).
  SystolicArray array;
  bool user_bandwidth = false;     // [run_presets] InterfaceBandwidth: USER (true) or CALC
  std::vector<int64_t> bandwidths; // Bandwidth: words per cycle (read in USER mode)
  int64_t ifmap_offset = 0, filter_offset = 10000000, ofmap_offset = 20000000;
  int64_t memory_banks = 1;        // MemoryBanks (read, not modelled; SCALE-Sim v2 ignores it)
  std::string topology;            // [network_presets] TopologyCsvLoc, when present
};

// Parses SCALE-Sim's INI dialect (Python's configparser: "key: value" or "key = value",
// case-insensitive keys, '#' and ';' comment lines). Unknown sections and keys are ignored, as
// SCALE-Sim ignores them; missing required keys, non-integers, sizes <= 0, an unknown dataflow
// or InterfaceBandwidth, and duplicate keys throw Error naming the file, line and key.
ScaleSimConfig parse_scalesim_config(std::string_view text, std::string_view source);
ScaleSimConfig read_scalesim_config(const std::string& path);

struct ScaleSimLayer {
  std::string name;
  bool is_conv = true;  // a convolution row (`conv` holds it); else an M,N,K row
  ConvShape conv;       // batch 1, no padding: p = ceil((h - r) / stride_h) + 1, as SCALE-Sim
  GemmShape gemm;       // m = p * q output pixels, n = filters, k = r * s * c (SCALE-Sim's view)
};

enum class TopologyFormat : uint8_t {
  kAuto,  // a header "Layer name, M, N, K" means GEMM rows; anything else convolution rows
  kConv,  // Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels,
          // Num Filter, Strides[, Stride width]
  kGemm,  // Layer name, M, N, K
};

// The first line is a header; blank lines are skipped; a trailing comma is allowed. A
// convolution whose name contains "DP" is depthwise: SCALE-Sim splits it into one single-channel
// layer per channel ("<name>Channel_<i>"), and so do we. Bad rows (missing fields,
// non-numbers, values <= 0, a filter larger than the ifmap) throw Error naming the file, line
// and column.
std::vector<ScaleSimLayer> parse_scalesim_topology(std::string_view text, std::string_view source,
                                                   TopologyFormat format = TopologyFormat::kAuto);
std::vector<ScaleSimLayer> read_scalesim_topology(const std::string& path,
                                                  TopologyFormat format = TopologyFormat::kAuto);

// One layer's row of SCALE-Sim's reports.
struct ScaleSimRow {
  std::string layer;
  GemmStats stats;                 // the engine's answer
  int64_t total_cycles = 0;        // compute + stall cycles ("Total Cycles")
  int64_t stall_cycles = 0;
  double overall_util_pct = 0;     // MACs / (PEs x total cycles)
  double mapping_efficiency_pct = 0;
  double compute_util_pct = 0;     // SCALE-Sim's per-fold average (see scalesim_run.cpp)
  double avg_ifmap_sram_bw = 0, avg_filter_sram_bw = 0, avg_ofmap_sram_bw = 0;  // words/cycle
  double avg_ifmap_dram_bw = 0, avg_filter_dram_bw = 0, avg_ofmap_dram_bw = 0;
};

struct ScaleSimRun {
  ScaleSimConfig config;
  bool cycle_engine = true;
  std::vector<ScaleSimRow> rows;
  int64_t total_cycles() const;
};

// Runs every layer through simulate_gemm (use_cycle_engine) or estimate_gemm.
ScaleSimRun run_scalesim(const ScaleSimConfig& config, const std::vector<ScaleSimLayer>& layers,
                         bool use_cycle_engine = true);

// Writes COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv and DETAILED_ACCESS_REPORT.csv into `dir`
// (created if missing), each atomically, with SCALE-Sim's column names.
void write_scalesim_reports(const ScaleSimRun& run, const std::string& dir);

}  // namespace tessera::sim
