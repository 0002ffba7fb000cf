// SimReport: totals, the per-layer summary, the terminal table and the JSON schema.
#include "tessera/sim/report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace tessera::sim {
namespace {

OpReport op(std::string name, std::string layer, Phase phase, std::string kind, std::string unit,
            double cycles, double macs, double flops, double dram_read, double dram_write) {
  OpReport o;
  o.name = std::move(name);
  o.layer = std::move(layer);
  o.phase = phase;
  o.op = std::move(kind);
  o.unit = std::move(unit);
  o.cycles = cycles;
  o.stall_cycles = cycles / 10;
  o.seconds = cycles / 1e9;
  o.macs = macs;
  o.flops = flops;
  o.utilization = 0.5;
  o.mapping_efficiency = macs > 0 ? 0.75 : 0;
  o.energy_j = cycles * 1e-12;
  o.traffic = {{"dram", dram_read, dram_write}, {"sram", 2 * dram_read, dram_write}};
  return o;
}

// A machine of 1 GHz, 64 MACs per cycle (128 GFLOP/s), 16 GB/s: ridge at 8 flop/B.
SimReport sample() {
  SimReport r;
  r.target = "tpu";
  r.config = "tiny";
  r.model = "mlp";
  r.training = true;
  r.batch = 4;
  r.clock_hz = 1e9;
  r.peak_flops = 128e9;
  r.dram_bandwidth = 16e9;
  r.ops = {
      op("hidden/matmul_3", "hidden", Phase::kForward, "matmul", "mxu", 1000, 32000, 64000, 1000,
         200),
      op("hidden/relu_4", "hidden", Phase::kForward, "relu", "vector", 100, 0, 400, 800, 800),
      op("out/matmul_5", "out", Phase::kForward, "matmul", "mxu", 500, 16000, 32000, 500, 100),
      op("loss/cross_entropy_6", "loss", Phase::kLoss, "cross_entropy", "vector", 50, 0, 200, 80,
         16),
      op("out/grad/matmul_9", "out", Phase::kBackward, "matmul", "mxu", 600, 16000, 32000, 500,
         100),
      op("hidden/matmul_10_copy", "hidden", Phase::kForward, "matmul", "mxu", 10, 320, 640, 0, 0),
      op("optimizer/add_12", "optimizer", Phase::kUpdate, "add", "vector", 70, 0, 300, 1200, 1200),
  };
  r.figures = {{"area_mm2", 12.5}, {"power_w", 3.25}};
  r.accuracy = AccuracyReport{.numerics = "int8 per-channel",
                              .metric = "accuracy",
                              .reference = 0.885,
                              .target = 0.879,
                              .agreement = 0.98,
                              .samples = 10000};
  r.notes = {"weights stay in SRAM between steps"};
  r.finalize();
  return r;
}

TEST(SimReport, FinalizeSumsTheOps) {
  SimReport r = sample();
  EXPECT_DOUBLE_EQ(r.cycles, 2330);
  EXPECT_DOUBLE_EQ(r.macs, 64320);
  EXPECT_DOUBLE_EQ(r.utilization, 64320 / (2330.0 * 64));
  ASSERT_EQ(r.traffic.size(), 2u);
  EXPECT_EQ(r.traffic[0].level, "dram");
  EXPECT_DOUBLE_EQ(r.traffic[0].read_bytes, 4080);
}

TEST(SimReport, LayerSummaryGroupsByLayerAndPhaseInFirstSeenOrder) {
  SimReport r = sample();
  std::vector<OpReport> rows = layer_summary(r);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].layer, "hidden");
  EXPECT_EQ(rows[0].phase, Phase::kForward);
  EXPECT_EQ(rows[1].layer, "out");
  EXPECT_EQ(rows[1].phase, Phase::kForward);
  EXPECT_EQ(rows[2].layer, "loss");
  EXPECT_EQ(rows[3].layer, "out");
  EXPECT_EQ(rows[3].phase, Phase::kBackward);
  EXPECT_EQ(rows[4].layer, "optimizer");
  const OpReport& h = rows[0];
  EXPECT_EQ(h.name, "hidden");
  EXPECT_DOUBLE_EQ(h.cycles, 1110);
  EXPECT_DOUBLE_EQ(h.macs, 32320);
  EXPECT_DOUBLE_EQ(h.flops, 65040);
  EXPECT_DOUBLE_EQ(h.stall_cycles, 111);
  EXPECT_EQ(h.op, "matmul");        // the op that took the most cycles
  EXPECT_EQ(h.unit, "mxu+vector");  // every unit, first seen first
  EXPECT_DOUBLE_EQ(h.utilization, 32320 / (1110.0 * 64));
  EXPECT_DOUBLE_EQ(h.mapping_efficiency, 0.75);
  ASSERT_EQ(h.traffic.size(), 2u);
  EXPECT_DOUBLE_EQ(h.traffic[0].read_bytes, 1800);
  EXPECT_DOUBLE_EQ(h.traffic[0].write_bytes, 1000);
  EXPECT_DOUBLE_EQ(h.operational_intensity, 65040 / 2800.0);
  EXPECT_EQ(h.bound, Bound::kCompute);  // 23 flop/B is past the ridge of 8
  EXPECT_EQ(rows[4].bound, Bound::kMemory);
  double cycles = 0;
  for (const OpReport& row : rows) cycles += row.cycles;
  EXPECT_DOUBLE_EQ(cycles, r.cycles);
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(SimReport, TableHasLayersTotalsMachineAndExtras) {
  SimReport r = sample();
  std::string t = format_report(r);
  for (const char* part : {"mlp on tpu:tiny",
                           "training step",
                           "layer",
                           "phase",
                           "MACs",
                           "util %",
                           "flop/B",
                           "hidden",
                           "out",
                           "loss",
                           "optimizer",
                           "forward",
                           "backward",
                           "update",
                           "matmul/mxu+vector",
                           "total",
                           "64.3k",
                           "2.33k",
                           "2.33µs",
                           "compute",
                           "memory",
                           "clock 1 GHz",
                           "128 GFLOP/s",
                           "16.0GB/s",
                           "ridge point 8.0 flop/B",
                           "area_mm2 12.5",
                           "int8 per-channel",
                           "87.90% (f32 88.50%, -0.60 points)",
                           "note: weights stay in SRAM"})
    EXPECT_TRUE(contains(t, part)) << "missing '" << part << "' in\n" << t;
  EXPECT_FALSE(contains(t, "hidden/relu_4"));  // per layer, not per op
  std::string per_op = format_report(r, /*per_op=*/true);
  EXPECT_TRUE(contains(per_op, "hidden/relu_4")) << per_op;
  EXPECT_TRUE(contains(per_op, "relu/vector")) << per_op;
}

TEST(SimReport, EmptyReportFormats) {
  SimReport r;
  r.finalize();
  std::string t = format_report(r);
  EXPECT_TRUE(contains(t, "total")) << t;
  EXPECT_TRUE(contains(t, "inference")) << t;
  nlohmann::json j = to_json(r);
  EXPECT_TRUE(j["accuracy"].is_null());
  EXPECT_EQ(j["totals"]["bound"], "none");
  EXPECT_TRUE(j["ops"].empty());
}

TEST(SimReport, JsonRoundTripKeepsEveryField) {
  SimReport r = sample();
  nlohmann::json j = nlohmann::json::parse(to_json(r).dump(2));
  EXPECT_EQ(j["schema"], "tessera.sim_report/1");
  EXPECT_EQ(j["target"], "tpu");
  EXPECT_EQ(j["config"], "tiny");
  EXPECT_EQ(j["model"], "mlp");
  EXPECT_EQ(j["training"], true);
  EXPECT_EQ(j["batch"], 4);
  EXPECT_DOUBLE_EQ(j["machine"]["clock_hz"].get<double>(), 1e9);
  EXPECT_DOUBLE_EQ(j["machine"]["peak_flops"].get<double>(), 128e9);
  EXPECT_DOUBLE_EQ(j["machine"]["dram_bandwidth"].get<double>(), 16e9);
  EXPECT_DOUBLE_EQ(j["machine"]["ridge_intensity"].get<double>(), 8);
  const nlohmann::json& t = j["totals"];
  EXPECT_DOUBLE_EQ(t["cycles"].get<double>(), r.cycles);
  EXPECT_DOUBLE_EQ(t["stall_cycles"].get<double>(), r.stall_cycles);
  EXPECT_DOUBLE_EQ(t["seconds"].get<double>(), r.seconds);
  EXPECT_DOUBLE_EQ(t["macs"].get<double>(), r.macs);
  EXPECT_DOUBLE_EQ(t["flops"].get<double>(), r.flops);
  EXPECT_DOUBLE_EQ(t["energy_j"].get<double>(), r.energy_j);
  EXPECT_DOUBLE_EQ(t["utilization"].get<double>(), r.utilization);
  EXPECT_DOUBLE_EQ(t["operational_intensity"].get<double>(), r.operational_intensity);
  EXPECT_DOUBLE_EQ(t["attainable_flops"].get<double>(), r.attainable_flops);
  EXPECT_EQ(t["bound"], bound_name(r.bound));
  ASSERT_EQ(t["traffic"].size(), 2u);
  EXPECT_EQ(t["traffic"][1]["level"], "sram");
  EXPECT_DOUBLE_EQ(t["traffic"][1]["read_bytes"].get<double>(), r.traffic[1].read_bytes);
  EXPECT_DOUBLE_EQ(t["traffic"][1]["write_bytes"].get<double>(), r.traffic[1].write_bytes);

  ASSERT_EQ(j["ops"].size(), r.ops.size());
  for (size_t i = 0; i < r.ops.size(); ++i) {
    const OpReport& o = r.ops[i];
    const nlohmann::json& x = j["ops"][i];
    EXPECT_EQ(x["name"], o.name);
    EXPECT_EQ(x["layer"], o.layer);
    EXPECT_EQ(x["phase"], phase_name(o.phase));
    EXPECT_EQ(x["op"], o.op);
    EXPECT_EQ(x["unit"], o.unit);
    EXPECT_DOUBLE_EQ(x["cycles"].get<double>(), o.cycles);
    EXPECT_DOUBLE_EQ(x["stall_cycles"].get<double>(), o.stall_cycles);
    EXPECT_DOUBLE_EQ(x["seconds"].get<double>(), o.seconds);
    EXPECT_DOUBLE_EQ(x["macs"].get<double>(), o.macs);
    EXPECT_DOUBLE_EQ(x["flops"].get<double>(), o.flops);
    EXPECT_DOUBLE_EQ(x["utilization"].get<double>(), o.utilization);
    EXPECT_DOUBLE_EQ(x["mapping_efficiency"].get<double>(), o.mapping_efficiency);
    EXPECT_DOUBLE_EQ(x["energy_j"].get<double>(), o.energy_j);
    EXPECT_EQ(x["traffic"].size(), o.traffic.size());
    EXPECT_DOUBLE_EQ(x["attainable_flops"].get<double>(), o.attainable_flops);
    EXPECT_EQ(x["bound"], o.bound == Bound::kNone ? "none" : bound_name(o.bound));
    if (o.operational_intensity >= 1e29) {
      EXPECT_TRUE(x["operational_intensity"].is_null());
    } else {
      EXPECT_DOUBLE_EQ(x["operational_intensity"].get<double>(), o.operational_intensity);
    }
  }
  ASSERT_EQ(j["layers"].size(), layer_summary(r).size());
  EXPECT_EQ(j["layers"][0]["name"], "hidden");
  EXPECT_EQ(j["layers"][0]["unit"], "mxu+vector");
  EXPECT_DOUBLE_EQ(j["figures"]["area_mm2"].get<double>(), 12.5);
  EXPECT_DOUBLE_EQ(j["figures"]["power_w"].get<double>(), 3.25);
  const nlohmann::json& a = j["accuracy"];
  EXPECT_EQ(a["numerics"], "int8 per-channel");
  EXPECT_EQ(a["metric"], "accuracy");
  EXPECT_DOUBLE_EQ(a["reference"].get<double>(), 0.885);
  EXPECT_DOUBLE_EQ(a["target"].get<double>(), 0.879);
  EXPECT_DOUBLE_EQ(a["agreement"].get<double>(), 0.98);
  EXPECT_EQ(a["samples"], 10000);
  ASSERT_EQ(j["notes"].size(), 1u);
  EXPECT_EQ(j["notes"][0], "weights stay in SRAM between steps");
}

}  // namespace
}  // namespace tessera::sim
