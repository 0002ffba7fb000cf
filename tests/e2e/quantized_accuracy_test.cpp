// The numerics bar: mnist-mlp trained briefly on Fashion-MNIST keeps its accuracy
// in the TPU-like target's numerics — within 1 point of f32 at int8 (calibrated on a slice
// of the training set) and within 0.3 points at bf16, on the 10k test images. The figures
// printed here are recorded in docs/simulators/numerics.md.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <optional>

#include "tessera/cli/model_spec.h"
#include "tessera/core/error.h"
#include "tessera/data/loaders.h"
#include "tessera/sim/functional.h"
#include "tessera/train/model.h"

#include "e2e_test_util.h"

namespace tessera {
namespace {

TEST(QuantizedAccuracy, MnistMlpKeepsItsAccuracyInBf16AndInt8) {
  std::optional<Dataset> train = e2e::fashion_mnist_if_installed("train");
  std::optional<Dataset> test = e2e::fashion_mnist_if_installed("test");
  if (!train || !test) GTEST_SKIP() << "Fashion-MNIST is not installed (see data/loaders.h)";

  cli::ModelSpec spec = cli::zoo_spec("mnist-mlp");
  Model m = cli::build_model(spec, 0);
  m.compile(*spec.compile);
  m.fit(*train, {.epochs = 2, .batch_size = 128, .seed = 1, .verbose = 0});
  const Graph& graph = m.predict_graph();
  const Tensor calibration = train->slice(0, 2000).x;

  double reference = -1;
  for (const char* name : {"bf16", "int8", "int8-per-tensor"}) {
    const sim::TargetNumerics numerics = sim::parse_numerics(name, "test");
    auto t0 = std::chrono::steady_clock::now();
    sim::AccuracyReport r =
        sim::measure_accuracy(graph, numerics, calibration, test->x, test->y, 1000);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("mnist-mlp %-16s f32 %.4f  target %.4f  agreement %.4f  (%lld samples, %.2f s)\n",
                r.numerics.c_str(), r.reference, r.target, r.agreement,
                static_cast<long long>(r.samples), secs);
    EXPECT_EQ(r.samples, 10000);
    if (reference >= 0) {
      EXPECT_EQ(r.reference, reference);  // the same f32 model each time
    }
    reference = r.reference;
    EXPECT_GE(r.reference, 0.8) << "the briefly trained f32 model";
    const double bar = numerics.mode == sim::NumericsMode::kBF16 ? 0.003 : 0.01;
    EXPECT_LE(std::abs(r.target - r.reference), bar) << r.numerics;
  }
}

}  // namespace
}  // namespace tessera
