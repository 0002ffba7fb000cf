// The GEMM part of the GPU model: output tiles scheduled in waves over the SMs, the tile
// shape and split-K factor a cuBLAS-style heuristic would pick (the fastest here), and the
// achievable fraction of peak for that tile and reduction length.
#include <algorithm>
#include <cmath>

#include "tessera/sim/gpu/gpu_simulator.h"

namespace tessera::sim {
namespace {

// Output tile shapes, the tiles an SM holds at once, and each shape's efficiency relative to
// the largest: a smaller tile re-reads its operands more often per multiply-add and keeps
// fewer tensor-core instructions in flight.
struct TileShape {
  int64_t m, n, ctas_per_sm;
  double relative_efficiency;
};
constexpr TileShape kTiles[] = {{128, 128, 1, 1.0}, {128, 64, 2, 0.9}, {64, 64, 4, 0.75}};

// Per tile, loading the first operands and writing the result cost about as much as this
// many steps of the reduction: short reductions reach a smaller fraction of peak.
constexpr double kTileOverheadK = 64;

// Split-K factors tried when the output has too few tiles to fill the SMs; each slice keeps
// at least kMinSliceK of the reduction.
constexpr int64_t kSplits[] = {1, 2, 4, 8, 16, 32};
constexpr int64_t kMinSliceK = 128;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

GemmPlan plan_gemm(const GemmShape& g, GpuPrecision precision, const GpuConfig& c) {
  GemmPlan best;
  best.precision = precision;
  best.tensor_cores = c.on_tensor_cores(precision);
  if (g.macs() <= 0) return best;
  const double peak_per_sm = c.peak_flops(precision) / static_cast<double>(c.sm_count);
  const double base = best.tensor_cores ? c.tensor_efficiency : c.simt_efficiency;
  const double split_bandwidth = c.l2_bandwidth * c.l2_efficiency;
  double best_seconds = -1;
  for (const TileShape& t : kTiles) {
    for (int64_t split : kSplits) {
      if (split > 1 && g.k / split < kMinSliceK) break;
      const int64_t k_slice = ceil_div(g.k, split);
      GemmPlan p = best;
      p.tile_m = t.m;
      p.tile_n = t.n;
      p.ctas_per_sm = t.ctas_per_sm;
      p.split_k = split;
      p.tiles = g.batch * ceil_div(g.m, t.m) * ceil_div(g.n, t.n) * split;
      p.waves = ceil_div(p.tiles, c.sm_count * t.ctas_per_sm);
      const double k = static_cast<double>(k_slice);
      p.efficiency = base * t.relative_efficiency * k / (k + kTileOverheadK);
      // Tiles are dealt out evenly; an SM works through its share at its achievable rate
      // (the tiles it holds at once share it), so the busiest SM sets the time.
      const int64_t per_sm = ceil_div(p.tiles, c.sm_count);
      const double tile_flops = 2.0 * static_cast<double>(t.m * t.n) * k;
      p.quantization = static_cast<double>(g.macs()) /
                       (static_cast<double>(per_sm * c.sm_count) * tile_flops / 2.0);
      // Partial sums of all slices (f32) written and read back once by the reduction.
      p.split_k_bytes = split > 1 ? 2.0 * static_cast<double>(split) *
                                        static_cast<double>(g.batch * g.m * g.n) * 4.0
                                  : 0.0;
      p.compute_seconds = static_cast<double>(per_sm) * tile_flops / (peak_per_sm * p.efficiency) +
                          p.split_k_bytes / split_bandwidth;
      if (best_seconds < 0 || p.compute_seconds < best_seconds) {
        best = p;
        best_seconds = p.compute_seconds;
      }
    }
  }
  return best;
}

}  // namespace tessera::sim
