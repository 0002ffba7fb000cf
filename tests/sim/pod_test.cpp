// Pod scale: the all-reduce formulas against hand-computed values, torus shapes, the
// data-parallel step's bookkeeping (weak and strong scaling, overlap), the report formats
// and the errors for bad input.
#include "tessera/sim/pod.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "tessera/core/error.h"

namespace tessera::sim {
namespace {

// alpha = 1 us, beta = 1 GB/s per direction: hand-computed times stay readable.
InterconnectConfig link_with(int ports, double latency = 1e-6) {
  InterconnectConfig c;
  c.name = "test";
  c.link_bandwidth = 1e9;
  c.link_latency = latency;
  c.links_per_chip = ports;
  return c;
}

constexpr double kBytes = 8e6;
constexpr double kTol = 1e-12;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(PodAllReduce, OneChipCostsNothing) {
  for (AllReduceAlgorithm a :
       {AllReduceAlgorithm::kRing, AllReduceAlgorithm::kTorus2D, AllReduceAlgorithm::kTorus3D}) {
    AllReduceCost c = allreduce_cost(kBytes, 1, a, link_with(4));
    EXPECT_EQ(c.seconds, 0.0);
    EXPECT_EQ(c.steps, 0);
  }
}

TEST(PodAllReduce, UnidirectionalRingMatchesTheFormula) {
  // 2(N-1) steps of (alpha + B/N / beta): 6 x (1 us + 2 ms).
  AllReduceCost c = allreduce_cost(kBytes, 4, AllReduceAlgorithm::kRing, link_with(1));
  EXPECT_NEAR(c.seconds, 6 * (1e-6 + 2e-3), kTol);
  EXPECT_EQ(c.steps, 6);
  EXPECT_NEAR(c.latency_seconds, 6e-6, kTol);
  EXPECT_EQ(c.shape.str(), "4");
}

TEST(PodAllReduce, BidirectionalRingHalvesTheLinkLoad) {
  // Two ports: half the data goes each way round, 6 x (1 us + 1 ms).
  AllReduceCost c = allreduce_cost(kBytes, 4, AllReduceAlgorithm::kRing, link_with(2));
  EXPECT_NEAR(c.seconds, 6 * (1e-6 + 1e-3), kTol);
}

TEST(PodAllReduce, TorusOverOnePortMatchesTheFormula) {
  // 4 x 4 with the phases taking turns: 2(X-1)(a + B/(X b)) + 2(Y-1)(a + B/(XY b)).
  double expected = 2 * 3 * (1e-6 + kBytes / 4 / 1e9) + 2 * 3 * (1e-6 + kBytes / 16 / 1e9);
  AllReduceCost c = allreduce_cost(kBytes, 16, AllReduceAlgorithm::kTorus2D, link_with(1));
  EXPECT_NEAR(c.seconds, expected, kTol);
  EXPECT_EQ(c.shape.str(), "4x4");
  EXPECT_EQ(c.steps, 12);
  // 2 x 4: 2(1)(a + B/2b) + 2(3)(a + B/8b) = 8.002 ms + 6.006 ms.
  c = allreduce_cost(kBytes, 8, AllReduceAlgorithm::kTorus2D, link_with(1));
  EXPECT_NEAR(c.seconds, 14.008e-3, kTol);
}

TEST(PodAllReduce, TorusBandwidthTermEqualsTheRingsOnOnePort) {
  // The per-dimension shares telescope to 2B(N-1)/N: only the latency term differs.
  InterconnectConfig free = link_with(1, 0.0);
  for (int n : {4, 8, 12, 64, 1024}) {
    double ring = allreduce_cost(kBytes, n, AllReduceAlgorithm::kRing, free).seconds;
    double t2 = allreduce_cost(kBytes, n, AllReduceAlgorithm::kTorus2D, free).seconds;
    double t3 = allreduce_cost(kBytes, n, AllReduceAlgorithm::kTorus3D, free).seconds;
    EXPECT_NEAR(t2, ring, 1e-12) << n;
    EXPECT_NEAR(t3, ring, 1e-12) << n;
    EXPECT_NEAR(ring, 2 * kBytes * (n - 1) / n / 1e9, 1e-12) << n;
  }
}

TEST(PodAllReduce, ConcurrentSquareTorusUsesAllFourLinks) {
  // 4 x 4 with 4 ports: both dimensions at once on half the data each, both ways round:
  // 2B(N-1)/N / (2 dims x 2 directions x beta) + 12 alpha.
  AllReduceCost c = allreduce_cost(kBytes, 16, AllReduceAlgorithm::kTorus2D, link_with(4));
  EXPECT_NEAR(c.bandwidth_seconds, 2 * kBytes * 15 / 16 / 4e9, kTol);
  EXPECT_NEAR(c.seconds, 3.75e-3 + 12e-6, kTol);
}

TEST(PodAllReduce, ConcurrentOblongTorusIsSetByItsBusiestDimension) {
  // 2 x 4, 4 ports. Order X,Y on B/2: X carries B/2, Y 2(3)/4 x B/4 = 3B/8. Order Y,X:
  // Y carries 3B/4, X B/8. Y's links: 9B/8 = 9 MB at 2 GB/s.
  AllReduceCost c = allreduce_cost(kBytes, 8, AllReduceAlgorithm::kTorus2D, link_with(4));
  EXPECT_EQ(c.shape.str(), "2x4");
  EXPECT_NEAR(c.seconds, 9e6 / 2e9 + 8e-6, kTol);
}

TEST(PodAllReduce, ThreeDimensionalTorusOnSixLinks) {
  // 4x4x4 with 6 ports: three dimensions at once, both ways: 2B(63/64) / (3 x 2 x beta).
  AllReduceCost c = allreduce_cost(kBytes, 64, AllReduceAlgorithm::kTorus3D, link_with(6));
  EXPECT_EQ(c.shape.str(), "4x4x4");
  EXPECT_NEAR(c.seconds, 2 * kBytes * 63 / 64 / 6e9 + 18e-6, kTol);
}

TEST(PodAllReduce, TorusShapes) {
  EXPECT_EQ(torus_shape(1024, 2).str(), "32x32");
  EXPECT_EQ(torus_shape(512, 2).str(), "16x32");
  EXPECT_EQ(torus_shape(12, 2).str(), "3x4");
  EXPECT_EQ(torus_shape(7, 2).str(), "1x7");
  EXPECT_EQ(torus_shape(1024, 3).str(), "8x8x16");
  EXPECT_EQ(torus_shape(64, 3).str(), "4x4x4");
  EXPECT_EQ(torus_shape(2, 3).str(), "1x1x2");
  EXPECT_EQ(torus_shape(1, 2).str(), "1x1");
}

TEST(PodAllReduce, PrimeChipCountsMakeTheTorusARing) {
  InterconnectConfig link = link_with(4);
  EXPECT_NEAR(allreduce_cost(kBytes, 7, AllReduceAlgorithm::kTorus2D, link).seconds,
              allreduce_cost(kBytes, 7, AllReduceAlgorithm::kRing, link).seconds, kTol);
}

TEST(PodAllReduce, AGivenShapeIsUsed) {
  AllReduceCost c =
      allreduce_cost(kBytes, 16, AllReduceAlgorithm::kTorus2D, link_with(1), TorusShape{{2, 8}});
  EXPECT_EQ(c.shape.str(), "2x8");
  EXPECT_EQ(c.steps, 2 * 1 + 2 * 7);
}

TEST(PodAllReduce, TorusBeatsRingWhenLatencyBound) {
  // 1 KiB over 1024 chips: 2046 ring steps against 2(31) + 2(31) torus steps.
  for (const char* preset : {"ethernet-100g", "tpu-v3-ici"}) {
    InterconnectConfig link = interconnect_preset(preset);
    AllReduceCost ring = allreduce_cost(1024, 1024, AllReduceAlgorithm::kRing, link);
    AllReduceCost torus = allreduce_cost(1024, 1024, AllReduceAlgorithm::kTorus2D, link);
    EXPECT_EQ(ring.steps, 2046);
    EXPECT_EQ(torus.steps, 124);
    EXPECT_LT(torus.seconds * 10, ring.seconds) << preset;
  }
}

TEST(PodAllReduce, TorusHalvesTheRingOnFourLinksWhenBandwidthBound) {
  // 1 GB of gradients: the ring drives 2 of a chip's 4 links, the torus all 4.
  InterconnectConfig link = interconnect_preset("tpu-v3-ici");
  double ring = allreduce_cost(1e9, 1024, AllReduceAlgorithm::kRing, link).bandwidth_seconds;
  double torus = allreduce_cost(1e9, 1024, AllReduceAlgorithm::kTorus2D, link).bandwidth_seconds;
  EXPECT_NEAR(torus / ring, 0.5, 1e-9);
}

TEST(PodAllReduce, BytesFromAWorkload) {
  Workload w;
  w.parameter_count = 1000;
  w.gradient_bytes = 4000;
  EXPECT_EQ(allreduce_bytes(w), 4000.0);
  EXPECT_EQ(allreduce_bytes(w, kBF16), 2000.0);
  EXPECT_NE(error_of([&] { allreduce_bytes(w, kI8); }).find("expected f32, bf16"),
            std::string::npos);
}

TEST(PodAllReduce, Presets) {
  for (const std::string& name : interconnect_presets()) {
    InterconnectConfig c = interconnect_preset(name);
    EXPECT_EQ(c.name, name);
    EXPECT_NO_THROW(validate(c));
    EXPECT_FALSE(c.source.empty());
  }
  EXPECT_EQ(interconnect_preset("tpu-v4-ici").links_per_chip, 6);
  EXPECT_EQ(interconnect_preset("tpu-v4-ici").torus_dimensions, 3);
  EXPECT_EQ(interconnect_preset("tpu-v3-ici").torus_dimensions, 2);
  std::string e = error_of([] { interconnect_preset("infiniband"); });
  EXPECT_NE(e.find("'infiniband'"), std::string::npos) << e;
  EXPECT_NE(e.find("tpu-v4-ici"), std::string::npos) << e;
  EXPECT_EQ(parse_algorithm("torus2d"), AllReduceAlgorithm::kTorus2D);
  EXPECT_NE(error_of([] { parse_algorithm("tree"); }).find("'tree'"), std::string::npos);
}

PodOptions weak_options(AllReduceAlgorithm a, InterconnectConfig link) {
  PodOptions o;
  o.interconnect = std::move(link);
  o.algorithm = a;
  o.per_chip_batch = 32;
  o.gradient_bytes = kBytes;
  return o;
}

// A chip whose step takes 1 ms per sample.
double linear_chip(int64_t batch) { return 1e-3 * static_cast<double>(batch); }

TEST(PodStep, OneChipHasNoCommunicationAndFullEfficiency) {
  auto steps = simulate_pod(weak_options(AllReduceAlgorithm::kRing, link_with(2)), linear_chip);
  ASSERT_EQ(steps.size(), 11u);
  const PodStep& one = steps.front();
  EXPECT_EQ(one.chips, 1);
  EXPECT_EQ(one.allreduce_seconds, 0.0);
  EXPECT_EQ(one.exposed_comm_seconds, 0.0);
  EXPECT_EQ(one.comm_share, 0.0);
  EXPECT_DOUBLE_EQ(one.scaling_efficiency, 1.0);
  EXPECT_DOUBLE_EQ(one.step_seconds, 32e-3);
  EXPECT_EQ(steps.back().chips, 1024);
  EXPECT_EQ(steps.back().global_batch, 32 * 1024);
}

TEST(PodStep, WeakScalingBookkeeping) {
  auto steps = simulate_pod(weak_options(AllReduceAlgorithm::kRing, link_with(1)), linear_chip);
  const PodStep& s = steps[2];  // 4 chips
  EXPECT_EQ(s.chips, 4);
  EXPECT_EQ(s.topology, "ring 4");
  EXPECT_EQ(s.per_chip_batch, 32);
  EXPECT_EQ(s.global_batch, 128);
  double ar = 6 * (1e-6 + 2e-3);
  EXPECT_NEAR(s.allreduce_seconds, ar, kTol);
  EXPECT_NEAR(s.step_seconds, 32e-3 + ar, kTol);
  EXPECT_NEAR(s.samples_per_second, 128 / (32e-3 + ar), 1e-6);
  EXPECT_NEAR(s.scaling_efficiency, 32e-3 / (32e-3 + ar), 1e-12);
  EXPECT_NEAR(s.comm_share, ar / (32e-3 + ar), 1e-12);
}

TEST(PodStep, WeakScalingEfficiencyFallsMonotonically) {
  // A ring's all-reduce only grows with N; so does a torus's when its phases take turns.
  for (auto [a, ports] :
       {std::pair{AllReduceAlgorithm::kRing, 2}, std::pair{AllReduceAlgorithm::kTorus2D, 1},
        std::pair{AllReduceAlgorithm::kTorus3D, 1}}) {
    auto steps = simulate_pod(weak_options(a, link_with(ports)), linear_chip);
    for (size_t i = 1; i < steps.size(); ++i) {
      EXPECT_LT(steps[i].scaling_efficiency, steps[i - 1].scaling_efficiency)
          << algorithm_name(a) << " at " << steps[i].chips;
      EXPECT_GT(steps[i].comm_share, steps[i - 1].comm_share);
    }
  }
}

TEST(PodStep, ASecondTorusDimensionCanRaiseEfficiency) {
  // With 4 ports, 2 chips (1 x 2) drive 2 links; 4 chips (2 x 2) drive 4: the all-reduce
  // of 8 MB gets shorter (3B/8b + 4a < B/2b + 2a), so efficiency rises from 2 to 4 chips.
  auto steps = simulate_pod(weak_options(AllReduceAlgorithm::kTorus2D, link_with(4)), linear_chip);
  EXPECT_LT(steps[2].allreduce_seconds, steps[1].allreduce_seconds);
  EXPECT_GT(steps[2].scaling_efficiency, steps[1].scaling_efficiency);
  EXPECT_NEAR(steps[1].allreduce_seconds, 2e-6 + kBytes / 2e9, kTol);
  EXPECT_NEAR(steps[2].allreduce_seconds, 4e-6 + 3 * kBytes / 8e9, kTol);
}

TEST(PodStep, StrongScalingBookkeeping) {
  PodOptions o;
  o.interconnect = link_with(2, 0.0);
  o.scaling = PodScaling::kStrong;
  o.global_batch = 100;
  o.chips = {1, 3, 8, 128};
  o.gradient_bytes = 0;  // no communication: only padding costs efficiency
  auto steps = simulate_pod(o, linear_chip);
  ASSERT_EQ(steps.size(), 4u);
  const int64_t per_chip[] = {100, 34, 13, 1};
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i].global_batch, 100);
    EXPECT_EQ(steps[i].per_chip_batch, per_chip[i]);
    EXPECT_EQ(steps[i].allreduce_seconds, 0.0);
  }
  EXPECT_DOUBLE_EQ(steps[0].scaling_efficiency, 1.0);
  EXPECT_NEAR(steps[1].scaling_efficiency, (100 / 34e-3) / (3 * 1000.0), 1e-12);
  EXPECT_NEAR(steps[3].scaling_efficiency, 1e5 / (128 * 1000.0), 1e-12);  // 0.78125
}

TEST(PodStep, TheBaselineIsComputedWithoutOneInTheList) {
  PodOptions o = weak_options(AllReduceAlgorithm::kRing, link_with(2));
  o.chips = {4};
  auto steps = simulate_pod(o, linear_chip);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_NEAR(steps[0].scaling_efficiency, 32e-3 / steps[0].step_seconds, 1e-12);
}

TEST(PodStep, OverlapHidesUpToTheBackwardPass) {
  PodOptions o = weak_options(AllReduceAlgorithm::kRing, link_with(1));
  o.chips = {4};
  double ar = 6 * (1e-6 + 2e-3);  // 12.006 ms
  o.overlap = 0.5;
  PodStep s = simulate_pod(o, linear_chip)[0];
  EXPECT_NEAR(s.exposed_comm_seconds, ar / 2, kTol);
  // Full overlap, but the backward pass (2/3 of a 9 ms step) is only 6 ms long.
  o.overlap = 1;
  s = simulate_pod(o, [](int64_t) { return 9e-3; })[0];
  EXPECT_NEAR(s.exposed_comm_seconds, ar - 6e-3, kTol);
  EXPECT_NEAR(s.step_seconds, 9e-3 + ar - 6e-3, kTol);
}

TEST(PodStep, TableAndJson) {
  PodOptions o = weak_options(AllReduceAlgorithm::kTorus2D, interconnect_preset("tpu-v3-ici"));
  auto steps = simulate_pod(o, linear_chip);
  std::string table = format_pod(steps);
  EXPECT_NE(table.find("chips"), std::string::npos);
  EXPECT_NE(table.find("torus 32x32"), std::string::npos) << table;
  nlohmann::json j = pod_to_json(steps, o);
  EXPECT_EQ(j["algorithm"], "torus2d");
  EXPECT_EQ(j["scaling"], "weak");
  EXPECT_EQ(j["interconnect"]["name"], "tpu-v3-ici");
  ASSERT_EQ(j["steps"].size(), steps.size());
  EXPECT_EQ(j["steps"][10]["chips"], 1024);
  EXPECT_EQ(j["steps"][10]["topology"], "torus 32x32");
  EXPECT_DOUBLE_EQ(j["steps"][10]["scaling_efficiency"].get<double>(),
                   steps[10].scaling_efficiency);
}

TEST(PodErrors, BadInputNamesTheFieldAndValue) {
  auto expect = [](const std::function<void()>& f, const std::string& what) {
    std::string e = error_of(f);
    EXPECT_NE(e.find(what), std::string::npos) << "got: " << e;
  };
  PodOptions good = weak_options(AllReduceAlgorithm::kRing, link_with(2));
  auto run = [&](PodOptions o) { simulate_pod(o, linear_chip); };

  PodOptions o = good;
  o.chips = {1, 0};
  expect([&] { run(o); }, "chips[1] = 0; expected >= 1");
  o = good;
  o.interconnect.link_bandwidth = 0;
  expect([&] { run(o); }, "link_bandwidth = 0 bytes/s");
  o = good;
  o.interconnect.link_latency = -1e-6;
  expect([&] { run(o); }, "link_latency = -1e-06 s");
  o = good;
  o.interconnect.links_per_chip = 0;
  expect([&] { run(o); }, "links_per_chip = 0");
  o = good;
  o.per_chip_batch = 0;
  expect([&] { run(o); }, "per_chip_batch = 0");
  o = good;
  o.scaling = PodScaling::kStrong;
  expect([&] { run(o); }, "global_batch = 0");
  o = good;
  o.overlap = 1.5;
  expect([&] { run(o); }, "overlap = 1.5");
  o = good;
  o.gradient_bytes = -1;
  expect([&] { run(o); }, "gradient_bytes = -1");
  o = good;
  o.algorithm = AllReduceAlgorithm::kTorus2D;
  o.chips = {16};
  o.torus = TorusShape{{4, 3}};
  expect([&] { run(o); }, "torus shape 4x3 holds 12 chips; expected chips = 16");
  o.torus = TorusShape{{16}};
  expect([&] { run(o); }, "has 1 dimensions; expected 2");
  expect([&] { simulate_pod(good, [](int64_t) { return 0.0; }); },
         "returned 0 s for per-chip batch 32");
  expect([&] { simulate_pod(good, [](int64_t) { return std::nan(""); }); },
         "expected a finite time > 0");
  expect([&] { allreduce_cost(1, 0, AllReduceAlgorithm::kRing, link_with(1)); },
         "chips = 0; expected >= 1");
}

}  // namespace
}  // namespace tessera::sim
