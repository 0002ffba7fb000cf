// The inter-chip links and the all-reduce cost models: interconnect presets, torus shapes and
// the closed-form (alpha-beta) time of a ring and of 2-D/3-D torus all-reduces. The formulas
// and the sources of the presets' figures are in docs/simulators/pod.md.
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "tessera/core/error.h"
#include "tessera/sim/pod.h"

namespace tessera::sim {

namespace {

// Links are full duplex; the figures are per direction. Latencies are assumptions (the
// sources give bandwidths only): see docs/simulators/pod.md#presets.
std::vector<InterconnectConfig> presets() {
  return {
      {"tpu-v4-ici", 50e9, 1e-6, 6, 3,
       "6 ICI links per chip in a 3-D torus (Cloud TPU v4 docs); 50 GB/s per link per "
       "direction is the commonly quoted figure (the docs' 1.1 PB/s all-reduce bandwidth per "
       "4096-chip pod gives 45 GB/s); latency 1 us assumed"},
      {"tpu-v3-ici", 83e9, 1e-6, 4, 2,
       "4 ICI links per chip in a 2-D torus; 340 TB/s all-reduce bandwidth per 1024-chip pod "
       "(Cloud TPU v3 docs) / (1024 x 4) = 83 GB/s per link per direction; latency 1 us "
       "assumed"},
      {"tpu-v5e-ici", 50e9, 1e-6, 4, 2,
       "4 ICI ports per chip, 400 GB/s bidirectional per chip, 2-D torus (Cloud TPU v5e "
       "docs): 50 GB/s per link per direction; latency 1 us assumed"},
      {"ethernet-100g", 12.5e9, 10e-6, 1, 0,
       "one 100 Gbit/s NIC per chip into a switch: 12.5 GB/s per direction; 10 us per "
       "message assumed (RDMA through one switch plus launch overhead)"},
  };
}

bool finite(double x) { return std::isfinite(x); }

// The dimensions with more than one chip: a dimension of 1 has no ring to run.
std::vector<int> effective_dims(const TorusShape& shape) {
  std::vector<int> out;
  for (int d : shape.dims)
    if (d > 1) out.push_back(d);
  return out;
}

// Every way to write `n` as `rank` factors >= `min_factor`, ascending; keeps the one with
// the smallest sum (fewest message steps), then the smallest largest factor.
void search_shapes(int64_t n, int rank, int64_t min_factor, std::vector<int>& current,
                   std::vector<int>& best, int64_t& best_sum) {
  if (rank == 1) {
    if (n < min_factor) return;
    current.push_back(static_cast<int>(n));
    int64_t sum = 0;
    for (int d : current) sum += d;
    if (best.empty() || sum < best_sum || (sum == best_sum && current.back() < best.back())) {
      best = current;
      best_sum = sum;
    }
    current.pop_back();
    return;
  }
  for (int64_t f = min_factor; f <= n; ++f) {
    // f is the smallest of the remaining `rank` factors, so f^rank <= n.
    int64_t power = 1;
    bool over = false;
    for (int i = 0; i < rank && !over; ++i) over = (power *= f) > n;
    if (over) break;
    if (n % f != 0) continue;
    current.push_back(static_cast<int>(f));
    search_shapes(n / f, rank - 1, f, current, best, best_sum);
    current.pop_back();
  }
}

}  // namespace

InterconnectConfig interconnect_preset(std::string_view name) {
  for (InterconnectConfig& c : presets())
    if (c.name == name) return c;
  throw Error(ErrorKind::kNotFound, fmt::format("unknown interconnect preset '{}'; known: {}", name,
                                                fmt::join(interconnect_presets(), ", ")));
}

std::vector<std::string> interconnect_presets() {
  std::vector<std::string> names;
  for (const InterconnectConfig& c : presets()) names.push_back(c.name);
  return names;
}

void validate(const InterconnectConfig& c) {
  const std::string name = c.name.empty() ? "custom" : c.name;
  TS_CHECK(finite(c.link_bandwidth) && c.link_bandwidth > 0, ErrorKind::kInvalidArgument,
           "interconnect '{}': link_bandwidth = {} bytes/s; expected a finite value > 0", name,
           c.link_bandwidth);
  TS_CHECK(finite(c.link_latency) && c.link_latency >= 0, ErrorKind::kInvalidArgument,
           "interconnect '{}': link_latency = {} s; expected a finite value >= 0", name,
           c.link_latency);
  TS_CHECK(c.links_per_chip >= 1, ErrorKind::kInvalidArgument,
           "interconnect '{}': links_per_chip = {}; expected >= 1", name, c.links_per_chip);
  TS_CHECK(c.torus_dimensions >= 0 && c.torus_dimensions <= 3, ErrorKind::kInvalidArgument,
           "interconnect '{}': torus_dimensions = {}; expected 0 (switched), 1, 2 or 3", name,
           c.torus_dimensions);
}

const char* algorithm_name(AllReduceAlgorithm a) {
  switch (a) {
    case AllReduceAlgorithm::kRing:
      return "ring";
    case AllReduceAlgorithm::kTorus2D:
      return "torus2d";
    case AllReduceAlgorithm::kTorus3D:
      return "torus3d";
  }
  return "?";
}

AllReduceAlgorithm parse_algorithm(std::string_view name) {
  for (AllReduceAlgorithm a :
       {AllReduceAlgorithm::kRing, AllReduceAlgorithm::kTorus2D, AllReduceAlgorithm::kTorus3D})
    if (name == algorithm_name(a)) return a;
  throw Error(
      ErrorKind::kInvalidArgument,
      fmt::format("unknown all-reduce algorithm '{}'; expected ring, torus2d or torus3d", name));
}

int torus_rank(AllReduceAlgorithm a) {
  switch (a) {
    case AllReduceAlgorithm::kRing:
      return 1;
    case AllReduceAlgorithm::kTorus2D:
      return 2;
    case AllReduceAlgorithm::kTorus3D:
      return 3;
  }
  return 1;
}

int64_t TorusShape::chips() const {
  int64_t n = 1;
  for (int d : dims) n *= d;
  return n;
}

std::string TorusShape::str() const { return fmt::format("{}", fmt::join(dims, "x")); }

TorusShape torus_shape(int chips, int rank) {
  TS_CHECK(chips >= 1, ErrorKind::kInvalidArgument, "torus shape: chips = {}; expected >= 1",
           chips);
  TS_CHECK(rank >= 1 && rank <= 3, ErrorKind::kInvalidArgument,
           "torus shape: rank = {}; expected 1, 2 or 3", rank);
  std::vector<int> current, best;
  int64_t best_sum = 0;
  search_shapes(chips, rank, 1, current, best, best_sum);
  TS_ASSERT(static_cast<int>(best.size()) == rank);
  return TorusShape{best};
}

AllReduceCost allreduce_cost(double bytes, int chips, AllReduceAlgorithm algorithm,
                             const InterconnectConfig& link, const TorusShape& shape) {
  validate(link);
  TS_CHECK(chips >= 1, ErrorKind::kInvalidArgument, "all-reduce: chips = {}; expected >= 1", chips);
  TS_CHECK(finite(bytes) && bytes >= 0, ErrorKind::kInvalidArgument,
           "all-reduce: bytes = {}; expected a finite value >= 0", bytes);
  const int rank = torus_rank(algorithm);
  AllReduceCost cost;
  if (!shape.dims.empty()) {
    TS_CHECK(static_cast<int>(shape.dims.size()) == rank, ErrorKind::kInvalidArgument,
             "{} all-reduce: torus shape {} has {} dimensions; expected {}",
             algorithm_name(algorithm), shape.str(), shape.dims.size(), rank);
    for (int d : shape.dims)
      TS_CHECK(d >= 1, ErrorKind::kInvalidArgument,
               "{} all-reduce: torus shape {} has a dimension of {}; expected >= 1",
               algorithm_name(algorithm), shape.str(), d);
    TS_CHECK(shape.chips() == chips, ErrorKind::kInvalidArgument,
             "{} all-reduce: torus shape {} holds {} chips; expected chips = {}",
             algorithm_name(algorithm), shape.str(), shape.chips(), chips);
    cost.shape = shape;
  } else {
    cost.shape = torus_shape(chips, rank);
  }
  if (chips == 1) return cost;

  const std::vector<int> dims = effective_dims(cost.shape);
  const int k = static_cast<int>(dims.size());
  const int ports = link.links_per_chip;
  // The dimensions' rings run at once, each on its own links, when a chip has a port per
  // dimension; each ring runs both ways (halving its per-link load) with two ports per
  // dimension. Otherwise the phases take turns on the ports there are.
  const bool concurrent = k >= 2 && ports >= k;
  const int directions = concurrent ? (ports >= 2 * k ? 2 : 1) : std::min(ports, 2);
  const int parts = concurrent ? k : 1;
  const double alpha = link.link_latency;
  const double beta = link.link_bandwidth * directions;

  // Reduce-scatter then all-gather along each dimension in turn, each on the share the
  // previous dimensions left: 2(D-1) steps of (share / D) bytes. With `parts` concurrent
  // orders (the data split evenly, each order starting at another dimension), a dimension's
  // links carry the sum of what every order puts on them and the busiest dimension sets the
  // time; taking turns, the dimensions' times add up.
  std::vector<double> load(k, 0.0);
  for (int start = 0; start < parts; ++start) {
    double share = bytes / parts;
    for (int i = 0; i < k; ++i) {
      int dim = (start + i) % k;
      load[dim] += 2.0 * (dims[dim] - 1) * share / dims[dim];
      share /= dims[dim];
    }
  }
  for (int d : dims) cost.steps += 2 * (d - 1);
  cost.latency_seconds = cost.steps * alpha;
  double busiest = *std::max_element(load.begin(), load.end());
  double total = 0;
  for (double l : load) total += l;
  cost.bandwidth_seconds = (concurrent ? busiest : total) / beta;
  cost.seconds = cost.latency_seconds + cost.bandwidth_seconds;
  return cost;
}

double allreduce_bytes(const Workload& workload, DType dtype) {
  TS_CHECK(dtype == kF32 || dtype == kBF16 || dtype == kF16, ErrorKind::kInvalidArgument,
           "all-reduce dtype {}: expected f32, bf16 or f16", dtype.name());
  if (workload.parameter_count == 0) return workload.gradient_bytes;
  return static_cast<double>(workload.parameter_count) * static_cast<double>(dtype.size());
}

}  // namespace tessera::sim
