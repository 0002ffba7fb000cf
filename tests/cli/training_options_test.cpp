// The training-at-scale settings in YAML specs (`compile:`) and as `tessera train` flags:
// dtype_policy, recompute, gradient_accumulation_steps, clipvalue / global_clipnorm, with
// errors that name the line, the field and the expected values.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tessera/cli/cli.h"
#include "tessera/cli/model_spec.h"
#include "tessera/core/error.h"

namespace tessera::cli {
namespace {

const char* kLayers = "input_shape: [32]\nlayers:\n  - Dense: {units: 10, activation: softmax}\n";

std::string parse_error(const std::string& compile) {
  try {
    parse_model_spec(std::string(kLayers) + "compile:\n" + compile, "m.yaml");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(TrainingOptions, SpecCompileSettings) {
  ModelSpec spec = parse_model_spec(std::string(kLayers) + R"(compile:
  optimizer: sgd
  dtype_policy: mixed_bfloat16
  recompute: true
  gradient_accumulation_steps: 4
  global_clipnorm: 1.5
)",
                                    "m.yaml");
  ASSERT_TRUE(spec.compile);
  EXPECT_EQ(spec.compile->dtype_policy, "mixed_bfloat16");
  EXPECT_TRUE(spec.compile->recompute);
  EXPECT_EQ(spec.compile->optimizer_options.gradient_accumulation_steps, 4);
  EXPECT_DOUBLE_EQ(spec.compile->optimizer_options.global_clipnorm, 1.5);
  EXPECT_DOUBLE_EQ(spec.compile->optimizer_options.clipnorm, 0.0);
}

TEST(TrainingOptions, SpecErrorsNameTheFieldAndExpectedValues) {
  EXPECT_EQ(parse_error("  dtype_policy: float8\n"),
            "m.yaml:5: compile: unknown dtype_policy 'float8' (known: float32, mixed_bfloat16)");
  EXPECT_EQ(parse_error("  clipnorm: 1\n  clipvalue: 0.5\n"),
            "m.yaml:6: compile: only one of clipnorm, clipvalue and global_clipnorm can be set "
            "('clipnorm' is set already)");
  EXPECT_EQ(parse_error("  clipvalue: -1\n"),
            "m.yaml:5: compile: 'clipvalue' must be positive, got -1");
  EXPECT_EQ(parse_error("  gradient_accumulation_steps: 0\n"),
            "m.yaml:5: compile: 'gradient_accumulation_steps' must be >= 1, got 0");
  EXPECT_EQ(parse_error("  gradient_accumulation_steps: two\n"),
            "m.yaml:5: compile: 'gradient_accumulation_steps' must be an integer, got 'two'");
  EXPECT_EQ(parse_error("  recompute: maybe\n"),
            "m.yaml:5: compile: 'recompute' must be true or false, got 'maybe'");
}

int run(std::vector<std::string> args, std::string* err = nullptr) {
  args.insert(args.begin(), "tessera");
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  int code = run_cli(args);
  testing::internal::GetCapturedStdout();
  std::string e = testing::internal::GetCapturedStderr();
  if (err) *err = e;
  return code;
}

TEST(TrainingOptions, TrainFlags) {
  auto json = (std::filesystem::temp_directory_path() /
               ("tessera_training_options_" + std::to_string(::getpid()) + ".json"))
                  .string();
  std::string err;
  ASSERT_EQ(run({"train", "seed-mlp", "--dataset", "synthetic", "--epochs", "1", "--batch-size",
                 "128", "--verbose", "0", "--dtype-policy", "mixed_bfloat16", "--recompute",
                 "--gradient-accumulation-steps", "2", "--clipvalue", "5", "--json", json},
                &err),
            0)
      << err;
  std::ifstream in(json);
  nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["dtype_policy"], "mixed_bfloat16");
  EXPECT_EQ(j["recompute"], true);
  EXPECT_EQ(j["gradient_accumulation_steps"], 2);
  EXPECT_GT(j["final"]["test_accuracy"].get<double>(), 0.5);
  std::filesystem::remove(json);
  // Usage errors exit with 2.
  EXPECT_EQ(run({"train", "seed-mlp", "--dtype-policy", "float16"}), 2);
  EXPECT_EQ(run({"train", "seed-mlp", "--clipnorm", "1", "--clipvalue", "1"}), 2);
  EXPECT_EQ(run({"train", "seed-mlp", "--gradient-accumulation-steps", "0"}), 2);
}

}  // namespace
}  // namespace tessera::cli
