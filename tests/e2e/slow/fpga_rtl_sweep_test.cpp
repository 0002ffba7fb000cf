// The Verilator co-simulation sweep: for every overflow mode and reuse factor R in {1, 2, n_in}
// a network whose seven requantization points use the seven rounding modes (rotated between
// networks), signed and unsigned accumulators, constant weights and weight ROMs; 200 random
// samples each, fed one network II apart, must match FixedNetwork::run bit for bit with the
// contract's latency. Twelve Verilator builds: label slow.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>

#include "../../sim/fpga_rtl_support.h"
#include "tessera/sim/fpga/cosim.h"
#include "tessera/sim/fpga/verilog.h"

namespace tessera::sim {
namespace {

using testing::dense_layer;
using testing::elementwise_layer;
using testing::fx;
using testing::ufx;

FixedNetwork sweep_network(Overflow o, int reuse_index, std::mt19937_64& rng) {
  const int rot = static_cast<int>(o) * 3 + reuse_index;
  auto rnd = [&](int point) { return static_cast<Rounding>((point + rot) % kRoundingCount); };
  const bool unsigned_acc = rot % 2 == 1;
  FixedNetwork net;
  net.name = fmt::format("sweep_o{}_r{}", static_cast<int>(o), reuse_index);
  net.input = fx(10, 3);
  const int64_t r1[] = {1, 2, 8}, r2[] = {1, 2, 6};
  testing::DenseSpec d1{.name = "fc1", .n_in = 8, .n_out = 6, .reuse = r1[reuse_index],
                        .strategy = rot % 3 == 0 ? Strategy::kLatency : Strategy::kResource,
                        .input = net.input, .weight = fx(6, 1), .bias = fx(8, 3),
                        .accum = fx(12, 4, rnd(0), o), .result = fx(9, 3, rnd(1), o)};
  net.layers.push_back(dense_layer(d1, rng));
  const FixedFormat lin1 = fx(7, 2, rnd(2), o);
  net.layers.push_back(elementwise_layer("lin1", FixedLayerKind::kLinear, 6, d1.result, lin1));
  testing::DenseSpec d2{.name = "fc2", .n_in = 6, .n_out = 4, .reuse = r2[reuse_index],
                        .strategy = rot % 3 == 1 ? Strategy::kLatency : Strategy::kResource,
                        .input = lin1, .weight = fx(6, 1), .bias = fx(6, 2),
                        .accum = unsigned_acc ? ufx(10, 3, rnd(3), o) : fx(10, 3, rnd(3), o),
                        .result = fx(7, 2, rnd(4), o)};
  net.layers.push_back(dense_layer(d2, rng));
  const FixedFormat lin2 = fx(5, 1, rnd(5), o);
  net.layers.push_back(elementwise_layer("lin2", FixedLayerKind::kLinear, 4, d2.result, lin2));
  net.layers.push_back(elementwise_layer("relu", FixedLayerKind::kRelu, 4, lin2, ufx(3, 1, rnd(6), o)));
  return net;
}

TEST(FpgaCosimSweep, EveryOverflowModeAndReuseFactorBitExact) {
  if (!verilator_available()) GTEST_SKIP() << "verilator is not installed (scripts/install-deps.sh)";
  std::mt19937_64 rng(11);
  for (int o = 0; o < kOverflowCount; ++o)
    for (int ri = 0; ri < 3; ++ri) {
      const FixedNetwork net = sweep_network(static_cast<Overflow>(o), ri, rng);
      const auto inputs = testing::random_inputs(net, 200, rng);
      const auto dir = (std::filesystem::temp_directory_path() /
                        ("tessera_fpga_sweep_" + net.name + "_" + std::to_string(::getpid())))
                           .string();
      const CosimResult r = run_verilator(net, inputs, dir);
      const int64_t expected = describe_verilog(net).latency;
      ASSERT_EQ(r.outputs.size(), inputs.size()) << net.name;
      int mismatches = 0;
      for (size_t s = 0; s < inputs.size(); ++s) {
        if (r.outputs[s] != net.run(inputs[s])) ++mismatches;
        EXPECT_EQ(r.latencies[s], expected) << net.name << " sample " << s;
      }
      EXPECT_EQ(mismatches, 0) << net.name;
      std::filesystem::remove_all(dir);
    }
}

}  // namespace
}  // namespace tessera::sim
