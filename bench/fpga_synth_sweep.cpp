// Yosys resource counts of generated dense layers over a small sweep of sizes, widths and
// reuse factors, for synth_xilinx and synth_ecp5: the table of docs/simulators/fpga-rtl.md.
// Each design is one dense layer (random weights, ap_fixed<W, W/2> everywhere, bias) followed
// by a relu; R > 1 uses the Resource strategy (a weight ROM).
//
//   build/bench/fpga_synth_sweep [work_dir]      # prints a Markdown table
#include <fmt/core.h>

#include <cstdio>
#include <filesystem>
#include <random>

#include "tessera/sim/fpga/fixed_network.h"
#include "tessera/sim/fpga/yosys.h"

using namespace tessera;
using namespace tessera::sim;

namespace {

FixedNetwork sweep_design(int64_t n_in, int64_t n_out, int width, int64_t reuse) {
  std::mt19937_64 rng(static_cast<uint64_t>(n_in * 1000 + n_out * 10 + width + reuse));
  const FixedFormat f{.width = width, .int_bits = width / 2};
  FixedLayer d;
  d.name = "fc";
  d.kind = FixedLayerKind::kDense;
  d.input_shape = Shape{n_in};
  d.output_shape = Shape{n_out};
  d.input = d.weight = d.bias = d.accum = d.result = f;
  d.reuse_factor = reuse;
  d.strategy = reuse > 1 ? Strategy::kResource : Strategy::kLatency;
  std::uniform_int_distribution<int64_t> raw(-(int64_t{1} << (width - 1)),
                                             (int64_t{1} << (width - 1)) - 1);
  for (int64_t k = 0; k < n_in * n_out; ++k) d.weights.push_back(raw(rng));
  for (int64_t j = 0; j < n_out; ++j) d.biases.push_back(raw(rng));
  FixedLayer relu = d;
  relu.name = "relu";
  relu.kind = FixedLayerKind::kRelu;
  relu.input_shape = relu.output_shape = Shape{n_out};
  relu.weights.clear();
  relu.biases.clear();
  relu.reuse_factor = 1;
  return FixedNetwork{.name = fmt::format("d{}x{}_w{}_r{}", n_in, n_out, width, reuse),
                      .input = f,
                      .layers = {d, relu}};
}

}  // namespace

int main(int argc, char** argv) {
  const std::string work = argc > 1 ? argv[1] : (std::filesystem::temp_directory_path() /
                                                 "tessera_fpga_synth_sweep").string();
  struct Point {
    int64_t n_in, n_out;
    int width;
    int64_t reuse;
  };
  const Point points[] = {{16, 8, 8, 1},  {16, 8, 8, 4},   {16, 8, 16, 1}, {16, 8, 16, 4},
                          {32, 16, 8, 4}, {32, 16, 16, 4}, {32, 16, 16, 16}, {64, 8, 16, 8}};
  std::printf("| design | n_in x n_out | W | R | mults | xilinx LUT | FF | DSP | BRAM18 | "
              "ecp5 LUT4 | FF | MULT18 | DP16KD | yosys s (x/e) |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const Point& p : points) {
    const FixedNetwork net = sweep_design(p.n_in, p.n_out, p.width, p.reuse);
    const SynthResult x = synthesize(net, "xilinx", work + "/" + net.name);
    const SynthResult e = synthesize(net, "ecp5", work + "/" + net.name);
    std::printf("| %s | %lld x %lld | %d | %lld | %lld | %lld | %lld | %lld | %lld | %lld | %lld | "
                "%lld | %lld | %.1f / %.1f |\n",
                net.name.c_str(), static_cast<long long>(p.n_in), static_cast<long long>(p.n_out),
                p.width, static_cast<long long>(p.reuse),
                static_cast<long long>(p.n_in * p.n_out / p.reuse), static_cast<long long>(x.lut),
                static_cast<long long>(x.ff), static_cast<long long>(x.dsp),
                static_cast<long long>(x.bram18), static_cast<long long>(e.lut),
                static_cast<long long>(e.ff), static_cast<long long>(e.dsp),
                static_cast<long long>(e.bram), x.seconds, e.seconds);
    std::fflush(stdout);
  }
  return 0;
}
