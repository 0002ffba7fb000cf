// `tessera predict CHECKPOINT --input FILE --output FILE.npy`: the model's outputs for every
// sample of the input, written atomically as NPY.
#include <fmt/core.h>

#include <chrono>
#include <cmath>

#include "commands.h"
#include "tessera/cli/sources.h"
#include "tessera/core/error.h"
#include "tessera/data/loaders.h"

namespace tessera::cli {
namespace {

struct PredictArgs {
  std::string model, input, output, json, backend = "cpu";
  int64_t batch_size = 256;
  int threads = 0;
};

void run_predict(const PredictArgs& a) {
  apply_threads(a.threads);
  ModelSource m = open_model(a.model, 0, {a.backend});
  if (!m.model.compiled()) {
    // predict needs no optimizer, but compile is where the device is chosen.
    CompileConfig c;
    if (m.compile) c = *m.compile;
    c.backends = {a.backend};
    m.model.compile(std::move(c));
  }
  Tensor raw = read_input_file(a.input);
  Tensor x = conform_input(raw, m.model, "input '" + a.input + "'");
  const float* p = x.data<float>();
  for (int64_t i = 0; i < x.numel(); ++i) {
    TS_CHECK(std::isfinite(p[i]), ErrorKind::kInvalidArgument, "input '{}': sample {} contains {}",
             a.input, i / (x.numel() / x.shape()[0]), p[i]);
  }
  auto t0 = std::chrono::steady_clock::now();
  Tensor y = m.model.predict(x, a.batch_size);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  write_npy(a.output, y);
  fmt::print("wrote {}: {} {} ({} samples in {:.3f} s)\n", a.output, y.dtype().name(),
             y.shape().str(), x.shape()[0], secs);
  nlohmann::json j = {{"command", "predict"},
                      {"model", m.name},
                      {"input", a.input},
                      {"output", a.output},
                      {"samples", x.shape()[0]},
                      {"output_shape", y.shape().to_vector()},
                      {"timings", {{"predict_seconds", secs}}}};
  write_json(a.json, j);
}

}  // namespace

void add_predict_command(CLI::App& app) {
  auto a = std::make_shared<PredictArgs>();
  CLI::App* cmd = app.add_subcommand("predict", "Run a trained model on new samples");
  cmd->add_option("CHECKPOINT", a->model, "Checkpoint (or zoo model / YAML spec)")->required();
  cmd->add_option("--input", a->input, "Samples: FILE.npy, FILE.csv or IDX (.idx, .idx.gz)")
      ->required();
  cmd->add_option("--output", a->output, "Where to write the outputs (NPY)")
      ->required()
      ->type_name("FILE.npy");
  cmd->add_option("--batch-size", a->batch_size, "Samples per step")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  add_threads_option(cmd, &a->threads);
  add_backend_option(cmd, &a->backend);
  add_json_option(cmd, &a->json);
  cmd->callback([a] { run_predict(*a); });
}

}  // namespace tessera::cli
