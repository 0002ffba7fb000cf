// The mapper: pruned exhaustive or random search over factorizations and loop orders.
#include "tessera/sim/asic/mapper.h"

#include <fmt/core.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "tessera/core/error.h"
#include "tessera/core/thread_pool.h"

namespace tessera::sim {
namespace {

using D = Dim;
using Clock = std::chrono::steady_clock;

// One place a factor of a dimension can go: a level's temporal loops or its X / Y spatial
// loops (capped by the fan-out).
struct Slot {
  int level;
  int kind;  // 0 temporal, 1 spatial X, 2 spatial Y
  int64_t cap;
};

struct Space {
  std::vector<Slot> slots;
  // factorizations[d]: flattened ordered factorizations of bounds[d], slots.size() each.
  std::array<std::vector<int64_t>, kNumDims> factorizations;
  std::array<int64_t, kNumDims> counts{};
  int levels = 0;
  double size = 0;
};

void factorize(int64_t n, size_t slot, const std::vector<Slot>& slots, std::vector<int64_t>& cur,
               std::vector<int64_t>& out) {
  if (slot + 1 == slots.size()) {
    if (n > slots[slot].cap) return;
    cur[slot] = n;
    out.insert(out.end(), cur.begin(), cur.end());
    return;
  }
  for (int64_t f = 1; f <= n && f <= slots[slot].cap; ++f) {
    if (n % f) continue;
    cur[slot] = f;
    factorize(n / f, slot + 1, slots, cur, out);
  }
}

Space build_space(const LoopNest& nest, const Architecture& arch) {
  Space s;
  s.levels = arch.num_levels();
  for (int i = 0; i < s.levels; ++i) {
    const StorageLevel& l = arch.levels[i];
    s.slots.push_back({i, 0, std::numeric_limits<int64_t>::max()});
    if (l.fanout_x > 1) s.slots.push_back({i, 1, l.fanout_x});
    if (l.fanout_y > 1) s.slots.push_back({i, 2, l.fanout_y});
  }
  s.size = std::pow(3.0, s.levels);
  std::vector<int64_t> cur(s.slots.size());
  for (int d = 0; d < kNumDims; ++d) {
    factorize(nest.bounds[d], 0, s.slots, cur, s.factorizations[d]);
    s.counts[d] = static_cast<int64_t>(s.factorizations[d].size() / s.slots.size());
    s.size *= static_cast<double>(s.counts[d]);
  }
  return s;
}

// Digits: one factorization per dimension, then one order per level.
struct Point {
  std::array<int64_t, kNumDims> fact{};
  std::array<int, kMaxAsicLevels> order{};
};

// Fills `m` from `pt`; false when the point is a duplicate the pruning skips (an order other
// than the first at a level with fewer than two loops).
bool decode(const Space& s, const Point& pt, Mapping& m) {
  const size_t ns = s.slots.size();
  m.num_levels = s.levels;
  for (int i = 0; i < s.levels; ++i) {
    m.levels[i].temporal = kUnitDims;
    m.levels[i].spatial_x = kUnitDims;
    m.levels[i].spatial_y = kUnitDims;
  }
  for (int d = 0; d < kNumDims; ++d) {
    const int64_t* f = &s.factorizations[d][static_cast<size_t>(pt.fact[d]) * ns];
    for (size_t k = 0; k < ns; ++k) {
      const Slot& sl = s.slots[k];
      LevelMapping& l = m.levels[sl.level];
      (sl.kind == 0 ? l.temporal : sl.kind == 1 ? l.spatial_x : l.spatial_y)[d] = f[k];
    }
  }
  for (int i = 0; i < s.levels; ++i) {
    int loops = 0;
    for (int64_t t : m.levels[i].temporal) loops += t > 1;
    if (loops < 2 && pt.order[i] != 0) return false;
    m.levels[i].order = mapper_orders()[pt.order[i]];
  }
  return true;
}

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

int64_t smallest_prime(int64_t n) {
  for (int64_t p = 2; p * p <= n; ++p)
    if (n % p == 0) return p;
  return n;
}

// Random samples of a space with small buffers mostly overflow one. Repairs a sample by
// moving one prime factor at a time from the innermost overflowing level (or a level below
// it) to the level outside it, which shrinks that level's tile and keeps every factor
// product intact. Returns whether the result fits.
bool repair(const LoopNest& nest, const Architecture& arch, Mapping& m) {
  for (int step = 0; step < 64; ++step) {
    DimArray tile = kUnitDims;
    int over = -1;
    for (int i = m.num_levels - 1; i >= 0 && over < 0; --i) {
      const LevelMapping& l = m.levels[i];
      for (int d = 0; d < kNumDims; ++d) tile[d] *= l.temporal[d] * l.spatial(d);
      const StorageLevel& s = arch.levels[i];
      if (s.size_words <= 0) continue;
      int64_t used = 0;
      for (int ds = 0; ds < kNumDataSpaces; ++ds)
        if (s.keeps[ds]) used += nest.footprint(DataSpace(ds), tile);
      if (used > s.size_words) over = i;
    }
    if (over < 0) return true;
    if (over == 0) return false;
    // The largest temporal factor at the overflowing level or inside it moves out.
    int from = -1, dim = -1;
    int64_t largest = 1;
    for (int i = over; i < m.num_levels && from < 0; ++i)
      for (int d = 0; d < kNumDims; ++d)
        if (m.levels[i].temporal[d] > largest) {
          largest = m.levels[i].temporal[d];
          from = i;
          dim = d;
        }
    if (from < 0) return false;  // only spatial factors left: leave it invalid
    int64_t p = smallest_prime(largest);
    m.levels[from].temporal[dim] /= p;
    m.levels[over - 1].temporal[dim] *= p;
  }
  return false;
}

struct Best {
  double cost = std::numeric_limits<double>::infinity();
  int64_t index = -1;
  Mapping mapping;
  AsicEvaluation eval;
  int64_t evaluated = 0;
  int64_t considered = 0;
};

}  // namespace

const std::array<std::array<Dim, kNumDims>, 3>& mapper_orders() {
  static const std::array<std::array<Dim, kNumDims>, 3> orders = {{
      // Weights stay: N, P, Q innermost.
      {D::kR, D::kS, D::kC, D::kK, D::kN, D::kP, D::kQ},
      // Outputs stay: C, R, S innermost.
      {D::kN, D::kK, D::kP, D::kQ, D::kC, D::kR, D::kS},
      // Inputs stay: K innermost.
      {D::kN, D::kC, D::kP, D::kQ, D::kR, D::kS, D::kK},
  }};
  return orders;
}

const char* mapper_objective_name(MapperObjective o) {
  switch (o) {
    case MapperObjective::kEnergy:
      return "energy";
    case MapperObjective::kDelay:
      return "delay";
    case MapperObjective::kEdp:
      return "edp";
  }
  return "?";
}

MapperObjective parse_mapper_objective(std::string_view t, std::string_view where) {
  if (t == "energy") return MapperObjective::kEnergy;
  if (t == "delay") return MapperObjective::kDelay;
  if (t == "edp") return MapperObjective::kEdp;
  throw Error(
      ErrorKind::kInvalidArgument,
      fmt::format("{}: unknown mapper objective '{}' (expected energy, delay or edp)", where, t));
}

double mapper_cost(MapperObjective o, const AsicEvaluation& e) {
  switch (o) {
    case MapperObjective::kEnergy:
      return e.energy_pj;
    case MapperObjective::kDelay:
      // Ties in cycles go to the lower energy (a relative nudge far below one cycle).
      return e.cycles * (1 + 1e-12) + e.energy_pj * 1e-18;
    case MapperObjective::kEdp:
      return e.energy_pj * e.cycles;
  }
  return e.energy_pj;
}

MapperResult map_layer(const LoopNest& nest, const AsicEvaluator& ev, const MapperOptions& opt) {
  nest.validate();
  TS_CHECK(opt.max_trials >= 0 && opt.exhaustive_limit >= 0 && opt.time_limit_s >= 0,
           ErrorKind::kInvalidArgument,
           "mapper: budgets must be zero or more (trials {}, exhaustive limit {}, time {} s)",
           opt.max_trials, opt.exhaustive_limit, opt.time_limit_s);
  const Architecture& arch = ev.arch();
  const auto start = Clock::now();
  const Space space = build_space(nest, arch);
  MapperResult result;
  result.space_size = space.size;
  result.exhaustive = space.size <= static_cast<double>(opt.exhaustive_limit);
  const int64_t total = result.exhaustive ? static_cast<int64_t>(space.size) : opt.max_trials;
  constexpr int64_t kBlock = 2048;
  const int64_t blocks = (total + kBlock - 1) / kBlock;
  std::vector<Best> best(static_cast<size_t>(blocks));
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(
                  std::chrono::duration<double>(opt.time_limit_s > 0 ? opt.time_limit_s : 1e9));

  auto run_block = [&](int64_t b) {
    Best& out = best[static_cast<size_t>(b)];
    Mapping m;
    Point pt;
    uint64_t rng = opt.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(b) + 1;
    const int64_t begin = b * kBlock, end = std::min(total, begin + kBlock);
    for (int64_t idx = begin; idx < end; ++idx) {
      if (((idx - begin) & 255) == 0 && opt.time_limit_s > 0 && Clock::now() > deadline) break;
      ++out.considered;
      if (result.exhaustive) {
        int64_t x = idx;  // orders are the fastest-moving digits
        for (int i = space.levels - 1; i >= 0; --i) {
          pt.order[i] = static_cast<int>(x % 3);
          x /= 3;
        }
        for (int d = kNumDims - 1; d >= 0; --d) {
          pt.fact[d] = x % space.counts[d];
          x /= space.counts[d];
        }
      } else {
        for (int d = 0; d < kNumDims; ++d)
          pt.fact[d] =
              static_cast<int64_t>(splitmix64(rng) % static_cast<uint64_t>(space.counts[d]));
        for (int i = 0; i < space.levels; ++i) pt.order[i] = static_cast<int>(splitmix64(rng) % 3);
      }
      if (!decode(space, pt, m)) continue;
      if (!mapping_fits(nest, arch, m) &&
          (result.exhaustive || !repair(nest, arch, m) || !mapping_fits(nest, arch, m)))
        continue;
      AsicEvaluation e = ev.evaluate(nest, m);
      ++out.evaluated;
      double c = mapper_cost(opt.objective, e);
      if (c < out.cost) {
        out.cost = c;
        out.index = idx;
        out.mapping = m;
        out.eval = e;
      }
    }
  };

  std::unique_ptr<ThreadPool> own;
  if (opt.threads > 0) own = std::make_unique<ThreadPool>(opt.threads);
  ThreadPool& pool = own ? *own : default_thread_pool();
  pool.parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) run_block(b);
  });

  Best final;
  for (const Best& b : best) {
    result.evaluated += b.evaluated;
    result.considered += b.considered;
    if (b.index >= 0 && b.cost < final.cost) final = b;  // block order: lowest index wins ties
  }
  if (opt.include_templates) {
    for (AsicDataflow df : {AsicDataflow::kWeightStationary, AsicDataflow::kOutputStationary,
                            AsicDataflow::kInputStationary, AsicDataflow::kRowStationary}) {
      Mapping m;
      try {
        m = dataflow_mapping(df, nest, arch);
      } catch (const Error&) {
        continue;  // the template cannot fit this problem here
      }
      AsicEvaluation e = ev.evaluate(nest, m);
      ++result.evaluated;
      double c = mapper_cost(opt.objective, e);
      if (c < final.cost) {
        final.cost = c;
        final.index = 0;
        final.mapping = m;
        final.eval = e;
      }
    }
  }
  result.found = final.index >= 0;
  if (result.found) {
    result.mapping = final.mapping;
    result.evaluation = final.eval;
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace tessera::sim
