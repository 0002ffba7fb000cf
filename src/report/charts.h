// The report's charts, each a pure function from the JSON to one inline <svg> (or a short
// paragraph saying why there is nothing to draw). Targets keep one colour across charts.
//
//   page += metric_bars(report["targets"], kLatencyBars);
//   for (size_t i = 0; i < targets.size(); ++i) page += roofline_chart(targets[i], i);
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tessera::report {

// The colour of target `index` in every chart and in the table's legend swatches.
std::string_view target_colour(size_t index);
// The colour of a layer's bound ("compute", "memory", anything else).
std::string_view bound_colour(std::string_view bound);

// One horizontal bar per target for one figure of the comparison.
struct BarSpec {
  std::string_view id;         // svg id
  std::string_view key;        // field of a target, e.g. "latency_seconds"
  std::string_view unit;       // SI unit for labels, e.g. "s"
  std::string_view axis;       // axis title
  bool lower_is_better;
};
inline constexpr BarSpec kLatencyBars{"chart-latency", "latency_seconds", "s",
                                      "latency at batch 1", true};
inline constexpr BarSpec kEnergyBars{"chart-energy", "energy_per_inference_joules", "J",
                                     "energy per inference", true};
inline constexpr BarSpec kThroughputBars{"chart-throughput", "throughput_per_second",
                                         "/s", "throughput (samples/s)", false};

std::string metric_bars(const nlohmann::json& targets, const BarSpec& spec);

// A log–log roofline of one target: its compute and bandwidth roofs, its layers as points.
std::string roofline_chart(const nlohmann::json& target, size_t index);

// 100 % stacked bars: each target's time at the throughput batch split by layer.
std::string layer_breakdown_chart(const nlohmann::json& targets);

// Accuracy (y) against numerics (x, widest first) for every target, joined per target.
std::string accuracy_chart(const nlohmann::json& report);

// One scatter plot of the exploration's points over two objectives, the Pareto points
// highlighted and the two-objective front drawn as a staircase.
struct ParetoSpec {
  std::string_view id;
  std::string_view x_key, y_key;
  std::string_view x_unit, y_unit;  // "%" formats a 0..1 fraction as a percentage
  std::string_view x_axis, y_axis;
  bool x_lower_is_better, y_lower_is_better;
};
inline constexpr ParetoSpec kParetoLatencyEnergy{
    "chart-pareto-latency-energy", "latency_seconds", "energy_per_inference_joules", "s", "J",
    "latency at batch 1", "energy per inference", true, true};
inline constexpr ParetoSpec kParetoLatencyAccuracy{
    "chart-pareto-latency-accuracy", "latency_seconds", "accuracy", "s", "%",
    "latency at batch 1", "accuracy", true, false};
inline constexpr ParetoSpec kParetoEnergyArea{
    "chart-pareto-energy-area", "energy_per_inference_joules", "area_mm2", "J", "mm\u00b2",
    "energy per inference", "area", true, true};

std::string pareto_chart(const nlohmann::json& exploration, const ParetoSpec& spec);

// A paragraph standing in for a chart that has no data.
std::string empty_chart(std::string_view why);

}  // namespace tessera::report
