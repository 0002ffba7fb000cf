// Yosys resource counts of generated networks next to the architecture model's estimate
// (estimate_network), for synth_xilinx (against xc7z020) and synth_ecp5 (against lfe5u-85f):
// the calibration table of docs/simulators/fpga.md. The sweep covers what users build:
// dense sizes 8x4 … 64x32, widths 8/12/16, reuse factors 1, 2, 4, n_in, both strategies,
// two-layer networks with a relu between, wrapping and saturating accumulators, rounding
// modes, and accumulators wider than the data (hls4ml's usual choice).
//
//   build/bench/fpga_synth_sweep [--jobs N] [--reuse] [--only SUBSTR] [work_dir]
//
// --reuse parses a design's earlier stat_<family>.txt in work_dir instead of running Yosys
// again (for iterating on the model; the RTL must not have changed). --jobs runs that many
// Yosys processes at once (default 2). Prints a Markdown table and, per family, the worst and
// median |relative error| of LUT, FF and DSP.
#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <numeric>
#include <random>
#include <sstream>
#include <thread>

#include "tessera/sim/fpga/fixed_network.h"
#include "tessera/sim/fpga/fpga_estimate.h"
#include "tessera/sim/fpga/yosys.h"

#include "fpga_sweep_designs.h"

using namespace tessera;
using namespace tessera::sim;
using namespace tessera::sim::fpga_sweep;

namespace {


// (estimate - yosys) / yosys; a resource Yosys does not use counts against 1.
double rel_error(int64_t est, int64_t yosys) {
  if (est == yosys) return 0;
  return static_cast<double>(est - yosys) / static_cast<double>(std::max<int64_t>(yosys, 1));
}

struct Row {
  std::string name;
  Point p;
  std::string family;
  SynthResult y;
  NetworkEstimate e;
};

SynthResult synth_or_reuse(const FixedNetwork& net, const std::string& family,
                           const std::string& dir, bool reuse) {
  const std::string stat = dir + "/stat_" + family + ".txt";
  const std::string secs = dir + "/seconds_" + family + ".txt";
  if (reuse && std::filesystem::exists(stat)) {
    std::ifstream in(stat);
    std::stringstream text;
    text << in.rdbuf();
    SynthResult s = parse_yosys_stat(text.str(), family);
    std::ifstream t(secs);
    t >> s.seconds;
    return s;
  }
  SynthResult s = synthesize(net, family, dir);
  std::ofstream(secs) << s.seconds << "\n";
  return s;
}

// The LUTs a design takes from the device: on ECP5 a CCU2C carry cell is two LUT4s in carry
// mode (Yosys lists it apart from LUT4); a Xilinx CARRY4 sits beside its LUTs and takes none.
int64_t device_luts(const SynthResult& s) {
  return s.family == "ecp5" ? s.lut + 2 * s.carry : s.lut;
}

void summarize(const std::vector<Row>& rows, const std::string& family) {
  std::vector<double> lut, ff, dsp;
  std::string worst_lut, worst_dsp, worst_ff;
  double wl = -1, wd = -1, wf = -1;
  for (const Row& r : rows) {
    if (r.family != family) continue;
    const double l = std::abs(rel_error(r.e.total.lut, device_luts(r.y)));
    const double f = std::abs(rel_error(r.e.total.ff, r.y.ff));
    const double d = std::abs(rel_error(r.e.total.dsp, r.y.dsp));
    lut.push_back(l), ff.push_back(f), dsp.push_back(d);
    if (l > wl) wl = l, worst_lut = r.name;
    if (f > wf) wf = f, worst_ff = r.name;
    if (d > wd) wd = d, worst_dsp = r.name;
  }
  auto median = [](std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  };
  auto within = [](const std::vector<double>& v) {
    return std::count_if(v.begin(), v.end(), [](double x) { return x <= 0.25 + 1e-12; });
  };
  std::printf("%s (%zu designs): LUT worst %.1f%% (%s) median %.1f%% within 25%%: %td; "
              "DSP worst %.1f%% (%s) median %.1f%% within 25%%: %td; "
              "FF worst %.1f%% (%s) median %.1f%% within 25%%: %td\n",
              family.c_str(), lut.size(), 100 * wl, worst_lut.c_str(), 100 * median(lut),
              within(lut), 100 * wd, worst_dsp.c_str(), 100 * median(dsp), within(dsp),
              100 * wf, worst_ff.c_str(), 100 * median(ff), within(ff));
}

}  // namespace

int main(int argc, char** argv) {
  std::string work =
      (std::filesystem::temp_directory_path() / "tessera_fpga_synth_sweep").string();
  bool reuse = false;
  int jobs = 2;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reuse") reuse = true;
    else if (a == "--jobs" && i + 1 < argc) jobs = std::max(1, std::atoi(argv[++i]));
    else if (a == "--only" && i + 1 < argc) only = argv[++i];
    else work = a;
  }
  const Strategy kRes = Strategy::kResource, kLat = Strategy::kLatency;
  const std::vector<Point> points = {
      // Hard-wired (R = 1): sizes and widths.
      {8, 4, 8, 1},
      {16, 8, 8, 1},
      {16, 8, 12, 1},
      {16, 8, 16, 1},
      {32, 16, 8, 1},
      {32, 16, 12, 1},
      // Shared multipliers, Latency strategy (constants muxed per pass).
      {16, 8, 8, 2, kLat},
      {16, 8, 12, 4, kLat},
      {32, 16, 8, 4, kLat},
      // Resource strategy (a weight ROM).
      {16, 8, 8, 4, kRes},
      {16, 8, 16, 4, kRes},
      {32, 16, 8, 4, kRes},
      {32, 16, 16, 16, kRes},
      {64, 8, 16, 8, kRes},
      {16, 8, 12, 16, kRes},
      {64, 32, 8, 64, kRes},
      {64, 32, 8, 8, kRes},
      // Two layers with a relu between.
      {16, 8, 8, 1, kLat, 4},
      {32, 16, 12, 2, kRes, 8},
      // Accumulators: saturating, wider, rounding.
      {16, 8, 8, 1, kLat, 0, Overflow::kSaturate},
      {16, 8, 12, 4, kRes, 0, Overflow::kSaturate},
      {16, 8, 8, 1, kLat, 0, Overflow::kWrap, Rounding::kHalfUp},
      {16, 8, 12, 1, kLat, 0, Overflow::kSaturate, Rounding::kHalfEven},
      {16, 8, 8, 1, kLat, 0, Overflow::kWrap, Rounding::kTruncate, 8},
      {32, 16, 8, 4, kRes, 0, Overflow::kSaturate, Rounding::kHalfUp, 8},
  };
  std::vector<Row> rows;
  for (const Point& p : points) {
    if (!only.empty() && point_name(p).find(only) == std::string::npos) continue;
    for (const char* fam : {"xilinx", "ecp5"}) rows.push_back(Row{point_name(p), p, fam, {}, {}});
  }
  // The largest designs first so the pool ends evenly; the table keeps the sweep's order.
  std::vector<size_t> order(rows.size());
  std::iota(order.begin(), order.end(), size_t{0});
  auto size = [&](size_t i) { return rows[i].p.n_in * rows[i].p.n_out / rows[i].p.reuse; };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return size(a) > size(b); });
  std::atomic<size_t> next{0};
  std::mutex print;
  auto worker = [&] {
    for (size_t k; (k = next++) < rows.size();) {
      Row& r = rows[order[k]];
      const FixedNetwork net = sweep_design(r.p);
      r.y = synth_or_reuse(net, r.family, work + "/" + r.name, reuse);
      r.e = estimate_network(net, fpga_device(r.family == "xilinx" ? "xc7z020" : "lfe5u-85f"));
      std::lock_guard<std::mutex> lock(print);
      std::fprintf(stderr, "%s %s: %.1f s\n", r.name.c_str(), r.family.c_str(), r.y.seconds);
    }
  };
  std::vector<std::thread> pool;
  for (int j = 0; j < jobs; ++j) pool.emplace_back(worker);
  for (std::thread& t : pool) t.join();

  std::printf("| design | family | mults | LUT yosys | LUT est | err | FF yosys | FF est | err | "
              "DSP yosys | DSP est | err | BRAM yosys | BRAM est | yosys s |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  double total_s = 0;
  for (const Row& r : rows) {
    int64_t mults = 0;
    for (const LayerEstimate& l : r.e.layers) mults += l.multipliers;
    // BRAM in the estimate's blocks: 36 Kb on xilinx (Yosys' bram18 / 2), 18 Kb EBR on ecp5.
    const double yb = r.family == "xilinx" ? r.y.bram18 / 2.0 : static_cast<double>(r.y.bram);
    std::printf("| %s | %s | %lld | %lld | %lld | %+.0f%% | %lld | %lld | %+.0f%% | %lld | %lld | "
                "%+.0f%% | %g | %lld | %.1f |\n",
                r.name.c_str(), r.family.c_str(), static_cast<long long>(mults),
                static_cast<long long>(device_luts(r.y)), static_cast<long long>(r.e.total.lut),
                100 * rel_error(r.e.total.lut, device_luts(r.y)), static_cast<long long>(r.y.ff),
                static_cast<long long>(r.e.total.ff), 100 * rel_error(r.e.total.ff, r.y.ff),
                static_cast<long long>(r.y.dsp), static_cast<long long>(r.e.total.dsp),
                100 * rel_error(r.e.total.dsp, r.y.dsp), yb, static_cast<long long>(r.e.total.bram),
                r.y.seconds);
    total_s += r.y.seconds;
  }
  std::printf("\n");
  summarize(rows, "xilinx");
  summarize(rows, "ecp5");
  std::printf("Yosys time summed over designs: %.0f s\n", total_s);
  return 0;
}
