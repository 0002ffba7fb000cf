// SimReport as JSON, schema "tessera.sim_report/1" (docs/simulators/report.md). Field names
// are the structs' own; a change that renames or removes a field bumps the version, one
// that adds a field does not.
#include <nlohmann/json.hpp>

#include "tessera/sim/report.h"
#include "tessera/sim/roofline.h"

namespace tessera::sim {
namespace {

constexpr const char* kSchema = "tessera.sim_report/1";

const char* bound_json(Bound b) {
  switch (b) {
    case Bound::kCompute:
      return "compute";
    case Bound::kMemory:
      return "memory";
    case Bound::kNone:
      return "none";
  }
  return "none";
}

// roofline() marks "no DRAM traffic at all" with a huge intensity; JSON says null.
nlohmann::json intensity_json(double v) {
  return v >= 1e29 ? nlohmann::json(nullptr) : nlohmann::json(v);
}

nlohmann::json traffic_json(const std::vector<MemoryTraffic>& traffic) {
  nlohmann::json a = nlohmann::json::array();
  for (const MemoryTraffic& t : traffic)
    a.push_back({{"level", t.level}, {"read_bytes", t.read_bytes}, {"write_bytes", t.write_bytes}});
  return a;
}

nlohmann::json op_json(const OpReport& op) {
  return {
      {"name", op.name},
      {"layer", op.layer},
      {"phase", phase_name(op.phase)},
      {"op", op.op},
      {"unit", op.unit},
      {"cycles", op.cycles},
      {"stall_cycles", op.stall_cycles},
      {"seconds", op.seconds},
      {"macs", op.macs},
      {"flops", op.flops},
      {"utilization", op.utilization},
      {"mapping_efficiency", op.mapping_efficiency},
      {"energy_j", op.energy_j},
      {"traffic", traffic_json(op.traffic)},
      {"operational_intensity", intensity_json(op.operational_intensity)},
      {"attainable_flops", op.attainable_flops},
      {"bound", bound_json(op.bound)},
  };
}

}  // namespace

nlohmann::json to_json(const SimReport& r) {
  nlohmann::json j;
  j["schema"] = kSchema;
  j["target"] = r.target;
  j["config"] = r.config;
  j["model"] = r.model;
  j["training"] = r.training;
  j["batch"] = r.batch;
  const double ridge = r.dram_bandwidth > 0 ? r.peak_flops / r.dram_bandwidth : 0.0;
  j["machine"] = {{"clock_hz", r.clock_hz},
                  {"peak_flops", r.peak_flops},
                  {"dram_bandwidth", r.dram_bandwidth},
                  {"ridge_intensity", ridge}};
  j["totals"] = {{"cycles", r.cycles},
                 {"stall_cycles", r.stall_cycles},
                 {"seconds", r.seconds},
                 {"macs", r.macs},
                 {"flops", r.flops},
                 {"energy_j", r.energy_j},
                 {"utilization", r.utilization},
                 {"operational_intensity", intensity_json(r.operational_intensity)},
                 {"attainable_flops", r.attainable_flops},
                 {"bound", bound_json(r.bound)},
                 {"traffic", traffic_json(r.traffic)}};
  nlohmann::json ops = nlohmann::json::array();
  for (const OpReport& op : r.ops) ops.push_back(op_json(op));
  j["ops"] = std::move(ops);
  nlohmann::json layers = nlohmann::json::array();
  for (const OpReport& row : layer_summary(r)) layers.push_back(op_json(row));
  j["layers"] = std::move(layers);
  nlohmann::json figures = nlohmann::json::object();
  for (const auto& [name, value] : r.figures) figures[name] = value;
  j["figures"] = std::move(figures);
  if (r.accuracy) {
    const AccuracyReport& a = *r.accuracy;
    j["accuracy"] = {{"numerics", a.numerics},   {"metric", a.metric},
                     {"reference", a.reference}, {"target", a.target},
                     {"agreement", a.agreement}, {"samples", a.samples}};
  } else {
    j["accuracy"] = nullptr;
  }
  j["notes"] = r.notes;
  return j;
}

}  // namespace tessera::sim
