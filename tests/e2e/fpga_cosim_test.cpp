// The FPGA flow end to end on the issue's bar: mnist-mlp, trained briefly on Fashion-MNIST,
// converted at ap_fixed<16,6> (Resource strategy, reuse factors 784 / 256 / 128), written as
// Verilog and co-simulated with Verilator over 1000 test images — every output bit-identical
// to the C++ fixed-point model, every latency the one the architecture model predicts.
// `tessera export --format verilog … --cosim 1000` runs the same check from the command line
// (docs/simulators/fpga.md).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include "tessera/cli/model_spec.h"
#include "tessera/core/error.h"
#include "tessera/data/loaders.h"
#include "tessera/sim/fpga/cosim.h"
#include "tessera/sim/fpga/fixed_evaluator.h"
#include "tessera/sim/fpga/fpga_config.h"
#include "tessera/sim/fpga/fpga_simulator.h"
#include "tessera/train/model.h"

#include "e2e_test_util.h"

namespace tessera {
namespace {

TEST(FpgaCosim, MnistMlpAtApFixed16_6IsBitExactOver1000TestImages) {
  if (!sim::verilator_available()) GTEST_SKIP() << "verilator is not installed";
  std::optional<Dataset> train = e2e::fashion_mnist_if_installed("train");
  std::optional<Dataset> test = e2e::fashion_mnist_if_installed("test");
  if (!train || !test) GTEST_SKIP() << "Fashion-MNIST is not installed (see data/loaders.h)";

  cli::ModelSpec spec = cli::zoo_spec("mnist-mlp");
  Model m = cli::build_model(spec, 0);
  m.compile(*spec.compile);
  m.fit(train->slice(0, 10000), {.epochs = 1, .batch_size = 128, .seed = 1, .verbose = 0});

  sim::FpgaConfig config = sim::parse_fpga_config(R"(
Model: {Precision: 'ap_fixed<16,6>', Strategy: Resource}
LayerName:
  dense: {ReuseFactor: 784}
  dense_1: {ReuseFactor: 256}
  dense_2: {ReuseFactor: 128}
)",
                                                  "mnist-mlp.yaml");
  sim::FixedNetwork net = sim::build_fixed_network(m.predict_graph(), config, nullptr);
  net.name = "mnist_mlp";

  const int64_t n = 1000, per = net.inputs();
  std::vector<float> x = test->slice(0, n).x.to_f32_vector();
  std::vector<std::vector<int64_t>> inputs;
  for (int64_t s = 0; s < n; ++s)
    inputs.push_back(
        net.quantize_input(std::span<const float>(x.data() + s * per, static_cast<size_t>(per))));

  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("tessera_fpga_cosim_" + std::to_string(::getpid())))
                              .string();
  sim::CosimResult r = sim::run_verilator(net, inputs, dir);
  ASSERT_EQ(r.outputs.size(), static_cast<size_t>(n));

  // The architecture model's latency is the contract's and the RTL's.
  sim::FpgaSimulator fpga(sim::fpga_device("xc7z020"));
  const int64_t predicted = fpga.estimate(net).latency_cycles;
  EXPECT_EQ(r.expected_latency, predicted);
  sim::FixedEvaluator eval(net);
  int64_t mismatches = 0;
  for (int64_t s = 0; s < n; ++s) {
    EXPECT_EQ(r.latencies[s], predicted) << "sample " << s;
    if (r.outputs[s] != eval.run(inputs[s])) ++mismatches;
  }
  EXPECT_EQ(mismatches, 0);
  for (int64_t s = 0; s < 20; ++s) EXPECT_EQ(r.outputs[s], net.run(inputs[s])) << "sample " << s;
  std::printf("mnist-mlp ap_fixed<16,6>: %lld images bit-exact, latency %lld cycles; Verilator "
              "build %.1f s, run %.1f s\n",
              static_cast<long long>(n - mismatches), static_cast<long long>(predicted),
              r.build_seconds, r.run_seconds);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tessera
