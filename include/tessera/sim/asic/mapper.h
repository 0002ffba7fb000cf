// The mapper: searches the mappings of a loop nest onto an architecture for the lowest
// energy, delay or energy-delay product. The space is every ordered factorization of each
// dimension over the mapping's slots (each level's temporal loops, and the X and Y spatial
// loops of each level with a fan-out, capped by that fan-out) times a loop order per level
// from a set of canonical orders (one per stationary dataspace). Small spaces are searched
// exhaustively with pruning (orders are tried only at levels with two or more loops; tiles
// that overflow a buffer are skipped before evaluation); large ones by uniform random
// sampling, a sample that overflows a buffer being repaired by moving factors outwards.
// Work is split into fixed blocks over the thread pool and the best of each block is
// combined in block order, so a seed gives the same answer on any thread count (unless a
// time limit cuts the search).
//
//   AsicEvaluator ev(asic_preset("eyeriss"));
//   MapperResult r = map_layer(nest, ev, {.objective = MapperObjective::kEdp,
//                                         .max_trials = 50000, .seed = 7});
//   if (r.found) fmt::print("{}", format_asic_evaluation(r.evaluation, ev.arch()));
#pragma once

#include <cstdint>
#include <string_view>

#include "tessera/sim/asic/evaluate.h"

namespace tessera::sim {

enum class MapperObjective : uint8_t { kEnergy, kDelay, kEdp };
const char* mapper_objective_name(MapperObjective o);  // "energy", "delay", "edp"
MapperObjective parse_mapper_objective(std::string_view text, std::string_view where);

struct MapperOptions {
  MapperObjective objective = MapperObjective::kEdp;
  // Spaces with at most this many points are enumerated completely; larger ones are sampled.
  int64_t exhaustive_limit = 200000;
  int64_t max_trials = 20000;  // samples drawn in random mode
  double time_limit_s = 0;     // 0: none; otherwise stops early (then not deterministic)
  uint64_t seed = 1;
  int threads = 0;             // 0: the default thread pool; otherwise a pool of this size
  // Also evaluate the four dataflow templates, so the result is never worse than them.
  bool include_templates = true;
};

struct MapperResult {
  bool found = false;
  Mapping mapping;
  AsicEvaluation evaluation;
  bool exhaustive = false;
  double space_size = 0;    // points in the search space
  int64_t evaluated = 0;    // mappings evaluated (valid ones)
  int64_t considered = 0;   // points drawn or enumerated, pruned ones included
  double seconds = 0;
};

// The cost the objective minimizes: energy (pJ), delay (cycles) or their product.
double mapper_cost(MapperObjective o, const AsicEvaluation& e);

MapperResult map_layer(const LoopNest& nest, const AsicEvaluator& evaluator,
                       const MapperOptions& options = {});

// The canonical loop orders the search tries at each level (outermost first).
const std::array<std::array<Dim, kNumDims>, 3>& mapper_orders();

}  // namespace tessera::sim
