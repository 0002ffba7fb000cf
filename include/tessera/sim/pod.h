// Pod scale: a training step data-parallel over N chips (tf.distribute's TPUStrategy), with
// closed-form (alpha-beta) all-reduce models of the inter-chip links — a ring, and 2-D and
// 3-D tori — giving step time, scaling efficiency and communication share for N = 1 … 1024.
// The per-chip compute time comes from the caller (a chip simulator's training-step
// seconds for a per-chip batch), so this file knows links and collectives only.
// Formulas, presets and their sources: docs/simulators/pod.md.
//
//   PodOptions o;
//   o.interconnect = interconnect_preset("tpu-v4-ici");
//   o.algorithm = AllReduceAlgorithm::kTorus2D;
//   o.per_chip_batch = 32;
//   o.gradient_bytes = allreduce_bytes(workload, kBF16);
//   auto steps = simulate_pod(o, [&](int64_t b) { return tpu_step_seconds(b); });
//   fmt::print("{}", format_pod(steps));
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/core/dtype.h"
#include "tessera/sim/workload.h"

namespace tessera::sim {

// The links between chips. A link is full duplex: `link_bandwidth` flows each way at once.
struct InterconnectConfig {
  std::string name;           // preset name or "custom"
  double link_bandwidth = 0;  // bytes/s per direction per link
  double link_latency = 0;    // s per message step (alpha): wire, switch and launch overhead
  int links_per_chip = 1;     // ports a chip drives at once (1: one NIC into a switch)
  int torus_dimensions = 0;   // the physical topology: 2 or 3 for a torus, 0 for a switch
  std::string source;         // where the figures come from
};

// "tpu-v4-ici", "tpu-v3-ici", "tpu-v5e-ici", "ethernet-100g". Throws Error naming the known
// presets for any other name.
InterconnectConfig interconnect_preset(std::string_view name);
std::vector<std::string> interconnect_presets();

// Throws Error(kInvalidArgument) naming the field and value when a figure is out of range.
void validate(const InterconnectConfig& config);

enum class AllReduceAlgorithm : uint8_t {
  kRing,     // one ring through all N chips (bidirectional when a chip has 2+ links)
  kTorus2D,  // X x Y: reduce-scatter along X, all-reduce along Y, all-gather along X
  kTorus3D,  // X x Y x Z: the same, one more dimension (TPU v4's physical topology)
};
const char* algorithm_name(AllReduceAlgorithm a);  // "ring", "torus2d", "torus3d"
// Inverse of algorithm_name(); throws Error naming the known algorithms.
AllReduceAlgorithm parse_algorithm(std::string_view name);
int torus_rank(AllReduceAlgorithm a);  // 1 for the ring, 2, 3

// The chips along each dimension of a torus (one entry for a ring).
struct TorusShape {
  std::vector<int> dims;
  int64_t chips() const;
  std::string str() const;  // "32x32", "1024"
};

// The shape of `rank` dimensions holding exactly `chips`, with the fewest chips along its
// dimensions summed (fewest latency steps; the most square or cubic shape). A prime N has
// no such shape: it becomes 1 x N, a ring.
TorusShape torus_shape(int chips, int rank);

// One all-reduce, split into its latency (alpha) and bandwidth (beta) terms.
struct AllReduceCost {
  double seconds = 0;
  double latency_seconds = 0;    // the message steps' alpha
  double bandwidth_seconds = 0;  // the bytes over the links
  int steps = 0;                 // message steps along the critical path
  TorusShape shape;              // the rings' layout ({N} for the ring)
};

// The time to all-reduce `bytes` (every chip holds `bytes`, ends holding their sum) over
// `chips`. `shape` (torus algorithms only; empty dims = torus_shape()) must multiply to
// `chips`. N = 1 costs nothing.
AllReduceCost allreduce_cost(double bytes, int chips, AllReduceAlgorithm algorithm,
                             const InterconnectConfig& link, const TorusShape& shape = {});

// The bytes a data-parallel step all-reduces: one value per trainable parameter at `dtype`
// (kF32, or kBF16 when gradients are cast before the reduction).
double allreduce_bytes(const Workload& workload, DType dtype = kF32);

enum class PodScaling : uint8_t {
  kWeak,    // per-chip batch fixed: global batch = per_chip_batch x N (TPUStrategy's way)
  kStrong,  // global batch fixed: per-chip batch = ceil(global_batch / N)
};
const char* scaling_name(PodScaling s);  // "weak", "strong"

struct PodOptions {
  InterconnectConfig interconnect;  // required: interconnect_preset() or your own
  AllReduceAlgorithm algorithm = AllReduceAlgorithm::kRing;
  TorusShape torus;  // fixed torus shape (one chip count only); empty: auto
  std::vector<int> chips = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
  PodScaling scaling = PodScaling::kWeak;
  int64_t per_chip_batch = 0;  // kWeak
  int64_t global_batch = 0;    // kStrong
  double gradient_bytes = 0;   // bytes all-reduced per step (allreduce_bytes())
  // Fraction of the all-reduce that runs under the backward pass (0..1). Default 0: the step
  // reduces after the backward pass, as a plain data-parallel step does (docs).
  double overlap = 0;
  // Share of the per-chip compute spent in the backward pass: an upper bound on the time
  // the all-reduce can hide under (forward : backward is about 1 : 2 in flops).
  double backward_share = 2.0 / 3.0;
};

struct PodStep {
  int chips = 1;
  std::string topology;        // "ring 8", "torus 32x32"
  int64_t global_batch = 0;    // samples per step (strong scaling: the requested batch)
  int64_t per_chip_batch = 0;  // what each chip computes (rounded up under strong scaling)
  double allreduce_bytes = 0;
  double compute_seconds = 0;  // per chip, from the callback
  double allreduce_seconds = 0;
  double exposed_comm_seconds = 0;  // the all-reduce minus what overlaps the backward pass
  double step_seconds = 0;          // compute + exposed communication
  double scaling_efficiency = 0;    // throughput(N) / (N x throughput(1))
  double comm_share = 0;            // exposed communication / step
  double samples_per_second = 0;    // global_batch / step
};

// Per-chip compute seconds for a per-chip batch: a chip simulator's training step.
using ComputeSecondsFn = std::function<double(int64_t per_chip_batch)>;

// One row per entry of options.chips. The single-chip baseline for scaling efficiency is
// computed whether or not 1 is in the list. Throws Error(kInvalidArgument) naming the field
// and value for bad options, and when the callback returns a non-finite or non-positive time.
std::vector<PodStep> simulate_pod(const PodOptions& options, const ComputeSecondsFn& compute);

// The terminal table, and JSON (schema: docs/simulators/pod.md).
std::string format_pod(const std::vector<PodStep>& steps);
nlohmann::json pod_to_json(const std::vector<PodStep>& steps, const PodOptions& options);

}  // namespace tessera::sim
