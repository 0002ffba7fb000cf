// The data-parallel training step over N chips: per-chip compute from the caller, the
// gradients' all-reduce from pod_allreduce.cpp, the part of it the backward pass hides, and
// the resulting step time, throughput, scaling efficiency and communication share; printed
// as a table and written as JSON (schema: docs/simulators/pod.md).
#include "tessera/sim/pod.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "tessera/core/error.h"

namespace tessera::sim {

namespace {

void validate(const PodOptions& o) {
  validate(o.interconnect);
  TS_CHECK(!o.chips.empty(), ErrorKind::kInvalidArgument,
           "pod options: chips is empty; expected at least one chip count");
  for (size_t i = 0; i < o.chips.size(); ++i)
    TS_CHECK(o.chips[i] >= 1, ErrorKind::kInvalidArgument,
             "pod options: chips[{}] = {}; expected >= 1", i, o.chips[i]);
  if (o.scaling == PodScaling::kWeak) {
    TS_CHECK(o.per_chip_batch >= 1, ErrorKind::kInvalidArgument,
             "pod options: per_chip_batch = {}; expected >= 1 under weak scaling",
             o.per_chip_batch);
  } else {
    TS_CHECK(o.global_batch >= 1, ErrorKind::kInvalidArgument,
             "pod options: global_batch = {}; expected >= 1 under strong scaling", o.global_batch);
  }
  TS_CHECK(std::isfinite(o.gradient_bytes) && o.gradient_bytes >= 0, ErrorKind::kInvalidArgument,
           "pod options: gradient_bytes = {}; expected a finite value >= 0", o.gradient_bytes);
  TS_CHECK(o.overlap >= 0 && o.overlap <= 1, ErrorKind::kInvalidArgument,
           "pod options: overlap = {}; expected a fraction in [0, 1]", o.overlap);
  TS_CHECK(o.backward_share >= 0 && o.backward_share <= 1, ErrorKind::kInvalidArgument,
           "pod options: backward_share = {}; expected a fraction in [0, 1]", o.backward_share);
}

std::string topology_of(const AllReduceCost& cost, AllReduceAlgorithm a, int chips) {
  if (chips == 1) return "1 chip";
  return fmt::format("{} {}", a == AllReduceAlgorithm::kRing ? "ring" : "torus", cost.shape.str());
}

// Human-sized times: the table spans microseconds (all-reduces of small models) to seconds.
std::string ms(double seconds) { return fmt::format("{:.3f}", seconds * 1e3); }

}  // namespace

const char* scaling_name(PodScaling s) {
  switch (s) {
    case PodScaling::kWeak:
      return "weak";
    case PodScaling::kStrong:
      return "strong";
  }
  return "?";
}

std::vector<PodStep> simulate_pod(const PodOptions& options, const ComputeSecondsFn& compute) {
  validate(options);
  TS_CHECK(static_cast<bool>(compute), ErrorKind::kInvalidArgument,
           "pod: no compute-time callback given");
  // A chip simulator can be slow: ask it once per distinct per-chip batch.
  std::map<int64_t, double> seconds_for;
  auto compute_seconds = [&](int64_t batch) {
    auto it = seconds_for.find(batch);
    if (it != seconds_for.end()) return it->second;
    double s = compute(batch);
    TS_CHECK(std::isfinite(s) && s > 0, ErrorKind::kInvalidArgument,
             "pod: the compute callback returned {} s for per-chip batch {}; expected a "
             "finite time > 0",
             s, batch);
    seconds_for.emplace(batch, s);
    return s;
  };

  const bool weak = options.scaling == PodScaling::kWeak;
  // The baseline: the same global batch (strong) or per-chip batch (weak) on one chip.
  const int64_t base_batch = weak ? options.per_chip_batch : options.global_batch;
  const double base_throughput = static_cast<double>(base_batch) / compute_seconds(base_batch);

  std::vector<PodStep> steps;
  steps.reserve(options.chips.size());
  for (int n : options.chips) {
    PodStep s;
    s.chips = n;
    if (weak) {
      s.per_chip_batch = options.per_chip_batch;
      s.global_batch = options.per_chip_batch * n;
    } else {
      // Rounded up: every chip runs the same static shape, so a batch that does not divide
      // is padded and the padding is wasted work (it lowers the efficiency).
      s.per_chip_batch = (options.global_batch + n - 1) / n;
      s.global_batch = options.global_batch;
    }
    AllReduceCost cost = allreduce_cost(options.gradient_bytes, n, options.algorithm,
                                        options.interconnect, options.torus);
    s.topology = topology_of(cost, options.algorithm, n);
    s.allreduce_bytes = n > 1 ? options.gradient_bytes : 0.0;
    s.compute_seconds = compute_seconds(s.per_chip_batch);
    s.allreduce_seconds = cost.seconds;
    double hidden =
        std::min(options.overlap * cost.seconds, options.backward_share * s.compute_seconds);
    s.exposed_comm_seconds = cost.seconds - hidden;
    s.step_seconds = s.compute_seconds + s.exposed_comm_seconds;
    s.samples_per_second = static_cast<double>(s.global_batch) / s.step_seconds;
    s.scaling_efficiency = s.samples_per_second / (n * base_throughput);
    s.comm_share = s.exposed_comm_seconds / s.step_seconds;
    steps.push_back(std::move(s));
  }
  return steps;
}

std::string format_pod(const std::vector<PodStep>& steps) {
  std::string out =
      fmt::format("{:>6}  {:<14} {:>9} {:>8} {:>11} {:>11} {:>11} {:>11} {:>13} {:>7} {:>6}\n",
                  "chips", "topology", "batch", "per-chip", "compute ms", "allred ms", "exposed ms",
                  "step ms", "samples/s", "eff %", "comm %");
  for (const PodStep& s : steps) {
    out += fmt::format(
        "{:>6}  {:<14} {:>9} {:>8} {:>11} {:>11} {:>11} {:>11} {:>13.1f} {:>7.1f} {:>6.1f}\n",
        s.chips, s.topology, s.global_batch, s.per_chip_batch, ms(s.compute_seconds),
        ms(s.allreduce_seconds), ms(s.exposed_comm_seconds), ms(s.step_seconds),
        s.samples_per_second, 100.0 * s.scaling_efficiency, 100.0 * s.comm_share);
  }
  return out;
}

nlohmann::json pod_to_json(const std::vector<PodStep>& steps, const PodOptions& options) {
  const InterconnectConfig& ic = options.interconnect;
  nlohmann::json j;
  j["interconnect"] = {{"name", ic.name},
                       {"link_bandwidth", ic.link_bandwidth},
                       {"link_latency", ic.link_latency},
                       {"links_per_chip", ic.links_per_chip},
                       {"torus_dimensions", ic.torus_dimensions},
                       {"source", ic.source}};
  j["algorithm"] = algorithm_name(options.algorithm);
  j["scaling"] = scaling_name(options.scaling);
  if (options.scaling == PodScaling::kWeak)
    j["per_chip_batch"] = options.per_chip_batch;
  else
    j["global_batch"] = options.global_batch;
  j["gradient_bytes"] = options.gradient_bytes;
  j["overlap"] = options.overlap;
  j["backward_share"] = options.backward_share;
  nlohmann::json rows = nlohmann::json::array();
  for (const PodStep& s : steps) {
    rows.push_back({{"chips", s.chips},
                    {"topology", s.topology},
                    {"global_batch", s.global_batch},
                    {"per_chip_batch", s.per_chip_batch},
                    {"allreduce_bytes", s.allreduce_bytes},
                    {"compute_seconds", s.compute_seconds},
                    {"allreduce_seconds", s.allreduce_seconds},
                    {"exposed_comm_seconds", s.exposed_comm_seconds},
                    {"step_seconds", s.step_seconds},
                    {"samples_per_second", s.samples_per_second},
                    {"scaling_efficiency", s.scaling_efficiency},
                    {"comm_share", s.comm_share}});
  }
  j["steps"] = std::move(rows);
  return j;
}

}  // namespace tessera::sim
