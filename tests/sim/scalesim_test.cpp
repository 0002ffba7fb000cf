// SCALE-Sim compatibility: its .cfg and topology .csv formats, a run with SCALE-Sim's numbers
// (recorded from SCALE-Sim v2 on the same inputs), the report files, and bad input.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>
#include <string>

#include "tessera/core/error.h"
#include "tessera/sim/tpu/scalesim.h"

namespace tessera::sim {
namespace {

std::string config_text(const std::string& dataflow, const std::string& mode = "CALC") {
  return "[general]\nrun_name = t_" + dataflow +
         "\n\n[architecture_presets]\nArrayHeight:    8\nArrayWidth:     4\n"
         "IfmapSramSzkB:    64\nFilterSramSzkB:   64\nOfmapSramSzkB:    64\n"
         "IfmapOffset:    0\nFilterOffset:   10000000\nOfmapOffset:    20000000\n"
         "Dataflow : " + dataflow + "\nBandwidth : 10\nMemoryBanks: 1\n\n"
         "[run_presets]\nInterfaceBandwidth: " + mode + "\n";
}

const char* const kGemmTopology = "Layer, M, N, K,\na, 5, 3, 7,\nb, 20, 9, 13,\nc, 100, 50, 70,\n";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ScaleSimTest, ParsesItsConfigDialect) {
  const ScaleSimConfig c = parse_scalesim_config(config_text("os"), "t.cfg");
  EXPECT_EQ(c.run_name, "t_os");
  EXPECT_EQ(c.array.rows, 8);
  EXPECT_EQ(c.array.cols, 4);
  EXPECT_EQ(c.array.ifmap_sram_bytes, 64 * 1024);
  EXPECT_EQ(c.array.dataflow, Dataflow::kOutputStationary);
  EXPECT_FALSE(c.user_bandwidth);
  EXPECT_EQ(c.array.dram_words_per_cycle, 0);
  EXPECT_EQ(c.filter_offset, 10000000);
  const ScaleSimConfig u = parse_scalesim_config(config_text("ws", "USER"), "t.cfg");
  EXPECT_TRUE(u.user_bandwidth);
  ASSERT_EQ(u.bandwidths.size(), 1u);
  EXPECT_EQ(u.array.dram_words_per_cycle, 30);  // three streams of 10 words per cycle
  // Unknown sections and keys are ignored, keys are case-insensitive, comments skipped.
  const ScaleSimConfig x = parse_scalesim_config(
      "# comment\n[general]\nrun_name=x\n[extra]\nfoo: 1\n[architecture_presets]\n"
      "arrayheight: 2\nARRAYWIDTH: 3\nifmapsramszkb: 1\nfiltersramszkb: 1\nofmapsramszkb: 1\n"
      "ifmapoffset: 0\nfilteroffset: 0\nofmapoffset: 0\ndataflow: is\nUnknownKey: z\n"
      "[run_presets]\nInterfaceBandwidth: CALC\n[network_presets]\n"
      "TopologyCsvLoc: \"net.csv\"\n",
      "x.cfg");
  EXPECT_EQ(x.array.rows, 2);
  EXPECT_EQ(x.array.cols, 3);
  EXPECT_EQ(x.topology, "net.csv");
}

TEST(ScaleSimTest, ConfigErrorsNameFileLineAndKey) {
  std::string bad = config_text("ws");
  bad.replace(bad.find("ArrayHeight:    8"), 17, "ArrayHeight: 0");
  std::string e = error_of([&] { parse_scalesim_config(bad, "a.cfg"); });
  EXPECT_NE(e.find("a.cfg:5"), std::string::npos) << e;
  EXPECT_NE(e.find("ArrayHeight"), std::string::npos) << e;

  bad = config_text("ws");
  bad.replace(bad.find("IfmapSramSzkB:    64"), 20, "IfmapSramSzkB: lots");
  e = error_of([&] { parse_scalesim_config(bad, "a.cfg"); });
  EXPECT_NE(e.find("expected an integer"), std::string::npos) << e;

  e = error_of([&] { parse_scalesim_config(config_text("rs"), "a.cfg"); });
  EXPECT_NE(e.find("Dataflow"), std::string::npos) << e;
  EXPECT_NE(e.find("a.cfg:13"), std::string::npos) << e;

  e = error_of([&] { parse_scalesim_config(config_text("ws", "FAST"), "a.cfg"); });
  EXPECT_NE(e.find("InterfaceBandwidth"), std::string::npos) << e;

  bad = config_text("ws");
  bad.erase(bad.find("OfmapOffset"), bad.find('\n', bad.find("OfmapOffset")) -
                                         bad.find("OfmapOffset") + 1);
  e = error_of([&] { parse_scalesim_config(bad, "a.cfg"); });
  EXPECT_NE(e.find("OfmapOffset is missing"), std::string::npos) << e;

  e = error_of([&] { parse_scalesim_config(config_text("ws") + "[general]\n", "a.cfg"); });
  EXPECT_NE(e.find("twice"), std::string::npos) << e;
  EXPECT_THROW(read_scalesim_config("/nonexistent/x.cfg"), Error);
}

TEST(ScaleSimTest, ParsesConvAndGemmTopologies) {
  const auto conv = parse_scalesim_topology(
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
      "Strides,\nConv1, 224, 224, 11, 11, 3, 96, 4,\n\nConv2, 27, 27, 5, 5, 96, 256, 1\n"
      "Rect, 10, 20, 3, 5, 4, 8, 1, 2,\n",
      "n.csv");
  ASSERT_EQ(conv.size(), 3u);
  EXPECT_EQ(conv[0].conv.p, 55);  // ceil((224 - 11) / 4) + 1, no padding (SCALE-Sim's rule)
  EXPECT_EQ(conv[0].gemm.m, 55 * 55);
  EXPECT_EQ(conv[0].gemm.n, 96);
  EXPECT_EQ(conv[0].gemm.k, 11 * 11 * 3);
  EXPECT_EQ(conv[1].gemm.m, 23 * 23);
  EXPECT_EQ(conv[2].conv.stride_w, 2);
  EXPECT_EQ(conv[2].conv.q, 9);  // ceil((20 - 5) / 2) + 1

  const auto gemm = parse_scalesim_topology(kGemmTopology, "g.csv");
  ASSERT_EQ(gemm.size(), 3u);
  EXPECT_FALSE(gemm[1].is_conv);
  EXPECT_EQ(gemm[1].gemm.m, 20);
  EXPECT_EQ(gemm[1].gemm.n, 9);
  EXPECT_EQ(gemm[1].gemm.k, 13);

  // Depthwise ("DP" in the name): one single-channel layer per channel, as SCALE-Sim.
  const auto dw = parse_scalesim_topology("h\nDP1, 8, 8, 3, 3, 4, 1, 1,\n", "d.csv");
  ASSERT_EQ(dw.size(), 4u);
  EXPECT_EQ(dw[3].name, "DP1Channel_3");
  EXPECT_EQ(dw[3].gemm.k, 9);
}

TEST(ScaleSimTest, TopologyErrorsNameFileLineAndColumn) {
  const std::string head = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                           "Channels, Num Filter, Strides,\n";
  std::string e = error_of([&] { parse_scalesim_topology(head + "c, 8, 8, 3, 3, 4,\n", "n.csv"); });
  EXPECT_NE(e.find("n.csv:2"), std::string::npos) << e;
  EXPECT_NE(e.find("got 6"), std::string::npos) << e;
  e = error_of([&] { parse_scalesim_topology(head + "c, 8, x8, 3, 3, 4, 1, 1,\n", "n.csv"); });
  EXPECT_NE(e.find("IFMAP Width"), std::string::npos) << e;
  e = error_of([&] { parse_scalesim_topology(head + "\nc, 8, 8, 3, 3, 0, 1, 1,\n", "n.csv"); });
  EXPECT_NE(e.find("n.csv:3"), std::string::npos) << e;
  EXPECT_NE(e.find("Channels"), std::string::npos) << e;
  e = error_of([&] { parse_scalesim_topology(head + "c, 8, 8, 9, 3, 1, 1, 1,\n", "n.csv"); });
  EXPECT_NE(e.find("Filter Height 9 is larger than IFMAP Height 8"), std::string::npos) << e;
  e = error_of([&] { parse_scalesim_topology("Layer, M, N, K,\ng, 1, 2,\n", "g.csv"); });
  EXPECT_NE(e.find("g.csv:2"), std::string::npos) << e;
  e = error_of([&] { parse_scalesim_topology("Layer, M, N, K,\ng, 1, -2, 3\n", "g.csv"); });
  EXPECT_NE(e.find("column 'N'"), std::string::npos) << e;
  EXPECT_THROW(parse_scalesim_topology("", "e.csv"), Error);
  EXPECT_THROW(parse_scalesim_topology(head, "e.csv"), Error);
}

// Recorded from SCALE-Sim v2 (commit 22f88b1, `python3 scalesim/scale.py -c <cfg> -t g.csv -i
// gemm`) on the config above (8x4 array, 64 kB SRAMs, CALC) and kGemmTopology: COMPUTE_REPORT
// and the SRAM / DRAM read counts of DETAILED_ACCESS_REPORT.
TEST(ScaleSimTest, MatchesRecordedScaleSimRuns) {
  struct Expected {
    const char* df;
    int64_t cycles[3];
    double mapping[3];
    int64_t ifmap_sram[3], filter_sram[3];
  };
  const Expected cases[] = {
      {"ws", {22, 227, 13805}, {65.625, 60.9375, 93.48290598290599},
       {35, 780, 91000}, {21, 117, 3500}},
      {"os", {16, 206, 13519}, {46.875, 62.5, 92.45562130177515},
       {35, 780, 91000}, {21, 351, 45500}},
      {"is", {41, 269, 15299}, {54.6875, 81.25, 97.22222222222221},
       {35, 260, 7000}, {42, 585, 87500}},
  };
  const auto layers = parse_scalesim_topology(kGemmTopology, "g.csv");
  for (const Expected& x : cases) {
    SCOPED_TRACE(x.df);
    const ScaleSimConfig cfg = parse_scalesim_config(config_text(x.df), "t.cfg");
    for (bool cycle_engine : {true, false}) {
      const ScaleSimRun run = run_scalesim(cfg, layers, cycle_engine);
      ASSERT_EQ(run.rows.size(), 3u);
      for (int i = 0; i < 3; ++i) {
        const ScaleSimRow& r = run.rows[i];
        EXPECT_EQ(r.total_cycles, x.cycles[i]);
        EXPECT_EQ(r.stall_cycles, 0);
        EXPECT_NEAR(r.mapping_efficiency_pct, x.mapping[i], 1e-9);
        EXPECT_EQ(r.stats.ifmap_sram_reads, x.ifmap_sram[i]);
        EXPECT_EQ(r.stats.filter_sram_reads, x.filter_sram[i]);
        // Everything fits in the SRAMs: SCALE-Sim reads each operand word from DRAM once.
        EXPECT_EQ(r.stats.ifmap_dram_reads, layers[i].gemm.m * layers[i].gemm.k);
        EXPECT_EQ(r.stats.filter_dram_reads, layers[i].gemm.k * layers[i].gemm.n);
      }
      EXPECT_EQ(run.total_cycles(), x.cycles[0] + x.cycles[1] + x.cycles[2]);
    }
  }
  // SCALE-Sim's "Compute Util %" (ws, layer a): 21 PEs x 5 / (32 x (2R + 2C + T - 3 = 26)).
  const ScaleSimRun ws = run_scalesim(parse_scalesim_config(config_text("ws"), "t.cfg"), layers);
  EXPECT_NEAR(ws.rows[0].compute_util_pct, 12.620192307692307, 1e-9);
  EXPECT_NEAR(ws.rows[0].overall_util_pct, 14.914772727272727, 1e-9);
}

// A convolution's ifmap is fetched once per distinct pixel when it fits, not per im2col word.
TEST(ScaleSimTest, ConvIfmapDramReadsCountDistinctPixels) {
  const ScaleSimConfig cfg = parse_scalesim_config(config_text("ws"), "t.cfg");
  const auto layers =
      parse_scalesim_topology("h\nc, 10, 10, 3, 3, 2, 4, 1,\n", "c.csv");
  const ScaleSimRun run = run_scalesim(cfg, layers);
  EXPECT_EQ(run.rows[0].stats.ifmap_dram_reads, 10 * 10 * 2);
  EXPECT_EQ(run.rows[0].stats.ifmap_sram_reads, 64 * 18);  // 8x8 outputs x 3*3*2 window
}

TEST(ScaleSimTest, StallsInUserModeVanishInCalcMode) {
  std::string text = config_text("ws", "USER");
  text.replace(text.find("Bandwidth : 10"), 14, "Bandwidth : 1");
  ScaleSimConfig user = parse_scalesim_config(text, "u.cfg");
  user.array.ifmap_sram_bytes = user.array.filter_sram_bytes = 1024;
  const auto layers = parse_scalesim_topology("Layer, M, N, K\nbig, 400, 64, 300\n", "g.csv");
  const ScaleSimRun slow = run_scalesim(user, layers);
  EXPECT_GT(slow.rows[0].stall_cycles, 0);
  ScaleSimConfig calc = user;
  calc.array.dram_words_per_cycle = 0;
  const ScaleSimRun fast = run_scalesim(calc, layers);
  EXPECT_EQ(fast.rows[0].stall_cycles, 0);
  EXPECT_EQ(fast.rows[0].total_cycles + slow.rows[0].stall_cycles, slow.rows[0].total_cycles);
}

TEST(ScaleSimTest, WritesItsReportFiles) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tessera_scalesim_test_" + std::to_string(::getpid()));
  const ScaleSimRun run = run_scalesim(parse_scalesim_config(config_text("ws"), "t.cfg"),
                                       parse_scalesim_topology(kGemmTopology, "g.csv"));
  write_scalesim_reports(run, dir.string());
  auto read = [&](const char* name) {
    std::ifstream in(dir / name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  const std::string compute = read("COMPUTE_REPORT.csv");
  EXPECT_EQ(compute.substr(0, compute.find('\n')),
            "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, "
            "Compute Util %,");
  EXPECT_NE(compute.find("\n0, 22, 0, 14.914772727272727, 65.625, "), std::string::npos)
      << compute;
  EXPECT_NE(read("BANDWIDTH_REPORT.csv").find("Avg IFMAP SRAM BW"), std::string::npos);
  const std::string detail = read("DETAILED_ACCESS_REPORT.csv");
  EXPECT_NE(detail.find("DRAM OFMAP Writes,\n"), std::string::npos);
  EXPECT_NE(detail.find("\n2, 0, 13804, 91000, "), std::string::npos) << detail;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tessera::sim
