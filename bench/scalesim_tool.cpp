// tessera_scalesim: SCALE-Sim v2's command line on Tessera's systolic engines. Reads a SCALE-Sim
// .cfg and topology .csv, runs every layer, prints a line per layer and writes SCALE-Sim's
// report files into <outdir>/<run_name>/ (SCALE-Sim's layout).
//
//   tessera_scalesim -c google.cfg -t resnet.csv -p runs [--analytic] [-i gemm|conv] [--quiet]
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "tessera/core/error.h"
#include "tessera/sim/tpu/scalesim.h"

namespace {

constexpr const char* kUsage =
    "usage: tessera_scalesim -c CONFIG.cfg -t TOPOLOGY.csv [-p OUTDIR] [-i conv|gemm] "
    "[--analytic] [--quiet]\n"
    "  -c  SCALE-Sim config (.cfg)\n"
    "  -t  topology (.csv); default: the config's TopologyCsvLoc\n"
    "  -p  report directory (default .); reports go to OUTDIR/<run_name>/\n"
    "  -i  topology rows: conv or gemm (default: from the header)\n"
    "  --analytic  closed-form engine instead of the fold-by-fold one\n"
    "  --quiet     no per-layer lines\n";

int run(int argc, char** argv) {
  std::string config_path, topology_path, out_dir = ".";
  tessera::sim::TopologyFormat format = tessera::sim::TopologyFormat::kAuto;
  bool analytic = false, quiet = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        fmt::print(stderr, "error: {} needs a value\n{}", arg, kUsage);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "-c") config_path = value();
    else if (arg == "-t") topology_path = value();
    else if (arg == "-p") out_dir = value();
    else if (arg == "-i") {
      const std::string f = value();
      if (f == "gemm") format = tessera::sim::TopologyFormat::kGemm;
      else if (f == "conv") format = tessera::sim::TopologyFormat::kConv;
      else {
        fmt::print(stderr, "error: -i expects conv or gemm, got '{}'\n", f);
        return 2;
      }
    } else if (arg == "--analytic") analytic = true;
    else if (arg == "--quiet") quiet = true;
    else if (arg == "-h" || arg == "--help") {
      fmt::print("{}", kUsage);
      return 0;
    } else {
      fmt::print(stderr, "error: unknown argument '{}'\n{}", arg, kUsage);
      return 2;
    }
  }
  if (config_path.empty()) {
    fmt::print(stderr, "error: -c CONFIG is required\n{}", kUsage);
    return 2;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const tessera::sim::ScaleSimConfig config = tessera::sim::read_scalesim_config(config_path);
  if (topology_path.empty()) topology_path = config.topology;
  if (topology_path.empty()) {
    fmt::print(stderr, "error: no topology: give -t or [network_presets] TopologyCsvLoc\n");
    return 2;
  }
  const auto layers = tessera::sim::read_scalesim_topology(topology_path, format);
  const tessera::sim::ScaleSimRun result = tessera::sim::run_scalesim(config, layers, !analytic);
  const std::string dir = out_dir + "/" + config.run_name;
  tessera::sim::write_scalesim_reports(result, dir);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!quiet) {
    fmt::print("{} {}x{} {} {} engine, {} layers\n", config.run_name, config.array.rows,
               config.array.cols, tessera::sim::dataflow_name(config.array.dataflow),
               analytic ? "analytic" : "fold-by-fold", result.rows.size());
    for (const auto& r : result.rows)
      fmt::print("  {:<24} cycles {:>12}  stalls {:>10}  util {:6.2f}%  mapping {:6.2f}%\n",
                 r.layer, r.total_cycles, r.stall_cycles, r.overall_util_pct,
                 r.mapping_efficiency_pct);
  }
  fmt::print("total cycles {}  wall {:.6f} s  reports in {}\n", result.total_cycles(), seconds,
             dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
