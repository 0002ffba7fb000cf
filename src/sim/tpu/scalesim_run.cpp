// run_scalesim and SCALE-Sim's report files.
//
// Per layer: SCALE-Sim's GEMM view of the layer goes through one engine; a convolution also
// passes its distinct input pixels, so that the ifmap is fetched from DRAM once per pixel (as
// SCALE-Sim's buffer, which looks addresses up, does) rather than once per im2col element.
// "Compute Util %" follows SCALE-Sim's definition, the average over folds of
//   PEs used x T / (PEs x (padded demand rows + cols - 1)),
// which for SCALE-Sim's equal-length folds is mapping efficiency x T / util_cycles_per_fold.
#include <algorithm>
#include <filesystem>

#include "systolic_internal.h"
#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"
#include "tessera/sim/tpu/scalesim.h"

namespace tessera::sim {
namespace {

double ratio(int64_t num, int64_t den) {
  return den > 0 ? static_cast<double>(num) / static_cast<double>(den) : 0.0;
}

// Distinct ifmap words a convolution reads: the rows and columns its windows touch, all channels.
double conv_ifmap_words(const ConvShape& c) {
  const int64_t rows = std::min(c.h, (c.p - 1) * c.stride_h + c.r);
  const int64_t cols = std::min(c.w, (c.q - 1) * c.stride_w + c.s);
  return static_cast<double>(rows) * static_cast<double>(cols) * static_cast<double>(c.c);
}

// Python's str() of a float, close enough for reports: shortest round-trip digits, with ".0"
// for whole numbers.
std::string py_float(double v) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eE") == std::string::npos && s.find("inf") == std::string::npos &&
      s.find("nan") == std::string::npos)
    s += ".0";
  return s;
}

}  // namespace

int64_t ScaleSimRun::total_cycles() const {
  int64_t t = 0;
  for (const ScaleSimRow& r : rows) t += r.total_cycles;
  return t;
}

ScaleSimRun run_scalesim(const ScaleSimConfig& config, const std::vector<ScaleSimLayer>& layers,
                         bool use_cycle_engine) {
  ScaleSimRun run;
  run.config = config;
  run.cycle_engine = use_cycle_engine;
  const SystolicArray& a = config.array;
  const int64_t pes = a.rows * a.cols;
  for (const ScaleSimLayer& layer : layers) {
    const double ifmap_words = layer.is_conv ? conv_ifmap_words(layer.conv) : -1;
    ScaleSimRow row;
    row.layer = layer.name;
    try {
      row.stats = use_cycle_engine ? detail::simulate_gemm_with(layer.gemm, a, ifmap_words)
                                   : detail::estimate_gemm_with(layer.gemm, a, ifmap_words);
    } catch (const Error& e) {
      throw Error(e.kind(), fmt::format("layer '{}': {}", layer.name, e.what()));
    }
    const GemmStats& s = row.stats;
    const detail::FoldPlan plan = detail::plan_folds(layer.gemm, a);
    row.total_cycles = s.total_cycles();
    row.stall_cycles = s.stall_cycles;
    row.overall_util_pct = 100.0 * static_cast<double>(s.macs) /
                           (static_cast<double>(row.total_cycles) * static_cast<double>(pes));
    row.mapping_efficiency_pct = 100.0 * s.mapping_efficiency;
    row.compute_util_pct = 100.0 * s.mapping_efficiency * static_cast<double>(plan.t) /
                           static_cast<double>(plan.util_cycles_per_fold);
    row.avg_ifmap_sram_bw = ratio(s.ifmap_sram_reads, row.total_cycles);
    row.avg_filter_sram_bw = ratio(s.filter_sram_reads, row.total_cycles);
    row.avg_ofmap_sram_bw = ratio(s.ofmap_sram_writes, row.total_cycles);
    row.avg_ifmap_dram_bw = ratio(s.ifmap_dram_reads, row.total_cycles);
    row.avg_filter_dram_bw = ratio(s.filter_dram_reads, row.total_cycles);
    row.avg_ofmap_dram_bw = ratio(s.ofmap_dram_writes, row.total_cycles);
    run.rows.push_back(std::move(row));
  }
  return run;
}

void write_scalesim_reports(const ScaleSimRun& run, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  TS_CHECK(!ec, ErrorKind::kIo, "cannot create report directory '{}': {}", dir, ec.message());

  std::string compute =
      "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, "
      "Compute Util %,\n";
  std::string bandwidth =
      "LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW, Avg IFMAP DRAM BW, "
      "Avg FILTER DRAM BW, Avg OFMAP DRAM BW,\n";
  std::string detail =
      "LayerID, SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, "
      "SRAM Filter Start Cycle, SRAM Filter Stop Cycle, SRAM Filter Reads, "
      "SRAM OFMAP Start Cycle, SRAM OFMAP Stop Cycle, SRAM OFMAP Writes, "
      "DRAM IFMAP Start Cycle, DRAM IFMAP Stop Cycle, DRAM IFMAP Reads, "
      "DRAM Filter Start Cycle, DRAM Filter Stop Cycle, DRAM Filter Reads, "
      "DRAM OFMAP Start Cycle, DRAM OFMAP Stop Cycle, DRAM OFMAP Writes,\n";
  for (size_t i = 0; i < run.rows.size(); ++i) {
    const ScaleSimRow& r = run.rows[i];
    const GemmStats& s = r.stats;
    compute += fmt::format("{}, {}, {}, {}, {}, {},\n", i, r.total_cycles, r.stall_cycles,
                           py_float(r.overall_util_pct), py_float(r.mapping_efficiency_pct),
                           py_float(r.compute_util_pct));
    bandwidth += fmt::format("{}, {}, {}, {}, {}, {}, {},\n", i, py_float(r.avg_ifmap_sram_bw),
                             py_float(r.avg_filter_sram_bw), py_float(r.avg_ofmap_sram_bw),
                             py_float(r.avg_ifmap_dram_bw), py_float(r.avg_filter_dram_bw),
                             py_float(r.avg_ofmap_dram_bw));
    // The engines count accesses, not their timing within a layer: every stream's window is
    // reported as the whole layer (cycle 0 to the last cycle).
    const int64_t last = std::max<int64_t>(r.total_cycles - 1, 0);
    detail += fmt::format(
        "{}, 0, {}, {}, 0, {}, {}, 0, {}, {}, 0, {}, {}, 0, {}, {}, 0, {}, {},\n", i, last,
        s.ifmap_sram_reads, last, s.filter_sram_reads, last, s.ofmap_sram_writes, last,
        s.ifmap_dram_reads, last, s.filter_dram_reads, last, s.ofmap_dram_writes);
  }
  const std::filesystem::path d(dir);
  write_file_atomic((d / "COMPUTE_REPORT.csv").string(), compute);
  write_file_atomic((d / "BANDWIDTH_REPORT.csv").string(), bandwidth);
  write_file_atomic((d / "DETAILED_ACCESS_REPORT.csv").string(), detail);
}

}  // namespace tessera::sim
