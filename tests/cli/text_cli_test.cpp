// Text in the tessera command: `train` on text:FILE (next-byte windows, nats per token), the
// text data source, and `generate` from a checkpoint: streaming output, --json, sampling
// flags, the KV cache against --no-cache, the context limit and clear errors.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tessera/cli/cli.h"
#include "tessera/cli/model_spec.h"
#include "tessera/cli/sources.h"
#include "tessera/core/error.h"
#include "tessera/nn/gpt.h"
#include "tessera/train/checkpoint.h"

#include "cli_test_util.h"

namespace tessera::cli {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// A text with plenty of repetition, so one short epoch already learns something.
std::string corpus() {
  std::string s;
  for (int i = 0; i < 24; ++i) s += "the cat sat on the mat. ";
  return s;  // 576 bytes: 35 windows of 16
}

// The smallest GPT worth the name: 1 layer, 2 heads, d_model 16, context 16, bytes.
GptConfig small_gpt() {
  GptConfig c;
  c.vocab_size = 256;
  c.context = 16;
  c.d_model = 16;
  c.num_heads = 2;
  c.num_layers = 1;
  c.d_ff = 32;
  return c;
}

class TextCli : public ScratchDirTest {
 protected:
  TextCli() : ScratchDirTest("tessera_text_cli_") {}
  void SetUp() override {
    ScratchDirTest::SetUp();
    write("cat.txt", corpus());
  }
  // An untrained small GPT saved as "gpt.tsm" (compiled as the zoo's language models are),
  // then trained for one epoch on cat.txt by `tessera train` into "trained.tsm".
  void train_small_gpt() const {
    Model m(make_gpt(small_gpt(), "small-gpt"));
    m.compile(*zoo_spec("gpt-tiny").compile);
    save_model(m, path("gpt.tsm"));
    Result r = run({"train", path("gpt.tsm"), "--dataset", "text:" + path("cat.txt"), "--epochs",
                    "2", "--batch-size", "8", "--learning-rate", "0.01", "--seed", "1", "--verbose",
                    "0", "--save", path("trained.tsm"), "--json", path("train.json")});
    ASSERT_EQ(r.code, 0) << r.err;
  }
};

TEST_F(TextCli, TextSourceSplitsTheEndOfTheTextForTesting) {
  DataSource d = open_dataset("text:" + path("cat.txt"), {.context = 16});
  EXPECT_EQ(d.name, "text:" + path("cat.txt"));
  ASSERT_TRUE(d.test.has_value());
  EXPECT_EQ(d.train.size() + d.test->size(), 35);
  EXPECT_EQ(d.train.size(), 31);  // floor(0.9 * 35)
  EXPECT_EQ(d.train.x.dtype(), kI32);
  EXPECT_EQ(d.train.y.shape(), Shape({31, 16}));
  // Fewer than 10 windows: all for training.
  DataSource small = open_dataset("text:" + path("cat.txt"), {.context = 100});
  EXPECT_EQ(small.train.size(), 5);
  EXPECT_FALSE(small.test.has_value());
  EXPECT_TRUE(is_text_dataset("text"));
  EXPECT_TRUE(is_text_dataset("text:x"));
  EXPECT_FALSE(is_text_dataset("texts.csv"));
  if (fs::exists("/usr/share/common-licenses/GPL-3")) {
    DataSource gpl = open_dataset("text", {.context = 128});
    EXPECT_EQ(gpl.name, "text:/usr/share/common-licenses/GPL-3");
    EXPECT_GT(gpl.train.size(), 200);
  }
}

TEST_F(TextCli, ConformKeepsTokenIdsAndChecksEveryPosition) {
  Model m(make_gpt(small_gpt(), "small-gpt"));
  Dataset d = open_dataset("text:" + path("cat.txt"), {.context = 16}).train;
  Dataset ok = conform(d, m, "text", "sparse_categorical_crossentropy");
  EXPECT_EQ(ok.x.dtype(), kI32);
  EXPECT_EQ(ok.y.shape(), d.y.shape());
  Tensor y = d.y.clone();
  y.data<int32_t>()[2 * 16 + 5] = 300;
  try {
    conform(Dataset{d.x, y, "d"}, m, "text", "sparse_categorical_crossentropy");
    ADD_FAILURE() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "text: label 300 of record 2 (position 5) is out of range: the model has 256 "
              "classes (expected an integer in 0..255)");
  }
  try {
    conform(Dataset{d.x.to(kF32), d.y, "d"}, m, "floats", "sparse_categorical_crossentropy");
    ADD_FAILURE() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "floats: the model takes token ids (i32), got f32 values"))
        << e.what();
  }
  try {
    conform(Dataset{d.x, Tensor::zeros(kI32, {d.size()}), "d"}, m, "labels",
            "sparse_categorical_crossentropy");
    ADD_FAILURE() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(),
                         "labels: expected one class label per position (shape [31, "
                         "16]), got labels of shape [31]"))
        << e.what();
  }
}

TEST_F(TextCli, TrainOnTextReportsNatsPerTokenAndTokensPerSecond) {
  train_small_gpt();
  nlohmann::json j = read_json("train.json");
  EXPECT_EQ(j["dataset"], "text:" + path("cat.txt"));
  EXPECT_EQ(j["context"], 16);
  EXPECT_EQ(j["loss"], "sparse_categorical_crossentropy");
  ASSERT_EQ(j["history"]["loss"].size(), 2u);
  // Nats per token: an untrained byte model starts near ln 256 = 5.55 and only goes down.
  double first = j["history"]["loss"][0].get<double>();
  EXPECT_LT(first, 6.5);
  EXPECT_LT(j["history"]["loss"][1].get<double>(), first);
  EXPECT_TRUE(j["final"].contains("test_loss"));
  EXPECT_GT(j["timings"]["train_tokens_per_second"].get<double>(), 0.0);
  EXPECT_NEAR(j["timings"]["train_tokens_per_second"].get<double>(),
              16 * j["timings"]["train_samples_per_second"].get<double>(), 1e-6);
  // evaluate reads the same windows from the checkpoint's input length.
  Result r = run({"evaluate", path("trained.tsm"), "--dataset", "text:" + path("cat.txt"), "--json",
                  path("eval.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NEAR(read_json("eval.json")["metrics"]["loss"].get<double>(),
              j["final"]["test_loss"].get<double>(), 1e-5);
}

TEST_F(TextCli, TextErrorsNameTheFileAndTheValue) {
  Model m(make_gpt(small_gpt(), "small-gpt"));
  save_model(m, path("gpt.tsm"));
  Result r = run({"train", path("gpt.tsm"), "--dataset", "text:" + path("missing.txt")});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: text: file '" + path("missing.txt") + "' does not exist\n");
  write("empty.txt", "");
  r = run({"train", path("gpt.tsm"), "--dataset", "text:" + path("empty.txt")});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: text '" + path("empty.txt") +
                       "' is empty: next-byte training needs at least context + 1 = 17 bytes\n");
  write("short.txt", "too short");
  r = run({"train", path("gpt.tsm"), "--dataset", "text:" + path("short.txt")});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "has 9 bytes, shorter than context + 1 = 17")) << r.err;
  r = run({"train", path("gpt.tsm"), "--dataset", "text:"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "give the text file after 'text:'")) << r.err;
  r = run({"train", path("gpt.tsm"), "--dataset", "text:" + path("cat.txt"), "--context", "8"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "--context 8 does not match the input length of model")) << r.err;
  EXPECT_TRUE(contains(r.err, "(16 tokens)")) << r.err;
  // A model without token ids in has no window length to offer.
  r = run({"train", "seed-mlp", "--dataset", "text:" + path("cat.txt")});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "the window length is unknown: give --context")) << r.err;
  EXPECT_EQ(run({"train", path("gpt.tsm"), "--context", "0"}).code, 2);
}

TEST_F(TextCli, GenerateStreamsTextAndWritesJson) {
  train_small_gpt();
  Result r = run({"generate", "--model", path("trained.tsm"), "--prompt", "the c", "--max-tokens",
                  "8", "--temperature", "0", "--json", path("g.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j = read_json("g.json");
  EXPECT_EQ(j["command"], "generate");
  EXPECT_EQ(j["prompt"], "the c");
  EXPECT_EQ(j["prompt_tokens"], 5);
  ASSERT_EQ(j["tokens"].size(), 8u);
  EXPECT_EQ(j["new_tokens"], 8);
  EXPECT_EQ(j["stopped"], "max_tokens");
  EXPECT_EQ(j["context"], 16);
  EXPECT_EQ(j["kv_cache"], true);
  std::string text;
  for (const auto& t : j["tokens"]) {
    int v = t.get<int>();
    ASSERT_GE(v, 0);
    ASSERT_LT(v, 256);
    text.push_back(static_cast<char>(v));
  }
  // The output is the prompt, then the new bytes as they came (this corpus is printable).
  EXPECT_EQ(r.out.rfind("the c" + text + "\n", 0), 0u) << r.out;
  // ASCII comes back as it is (other bytes are checked in GenerateEscapesBytesAndKeepsJsonValid).
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
    EXPECT_EQ(j["text"], text);
  }
  EXPECT_TRUE(contains(r.out, "generated 8 tokens in")) << r.out;
  EXPECT_TRUE(contains(r.out, "tokens/s")) << r.out;
  const auto& t = j["timings"];
  EXPECT_GT(t["prefill_seconds"].get<double>(), 0.0);
  EXPECT_GT(t["tokens_per_second"].get<double>(), 0.0);
  EXPECT_GT(t["decode_tokens_per_second"].get<double>(), 0.0);
  EXPECT_GT(t["per_token_ms_median"].get<double>(), 0.0);
  EXPECT_NEAR(t["total_seconds"].get<double>(),
              t["prefill_seconds"].get<double>() + t["decode_seconds"].get<double>(), 1e-9);
}

TEST_F(TextCli, CacheAndNoCacheAgreeAndSeedsRepeat) {
  train_small_gpt();
  auto tokens = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"generate", "--model", path("trained.tsm"),
                                     "--prompt", "the mat", "--max-tokens",
                                     "9",        "--json",  path("o.json")};
    args.insert(args.end(), extra.begin(), extra.end());
    Result r = run(args);
    EXPECT_EQ(r.code, 0) << r.err;
    return read_json("o.json")["tokens"];
  };
  nlohmann::json cached = tokens({"--temperature", "0"});
  EXPECT_EQ(read_json("o.json")["kv_cache"], true);
  EXPECT_EQ(cached, tokens({"--temperature", "0", "--no-cache"}));
  EXPECT_EQ(read_json("o.json")["kv_cache"], false);
  std::vector<std::string> sampled = {"--temperature", "1.5",  "--top-k", "20",
                                      "--top-p",       "0.95", "--seed",  "7"};
  nlohmann::json a = tokens(sampled);
  EXPECT_EQ(a, tokens(sampled));
  std::vector<std::string> uncached = sampled;
  uncached.push_back("--no-cache");
  EXPECT_EQ(a, tokens(uncached));
  EXPECT_EQ(read_json("o.json")["sampling"]["top_k"], 20);
}

TEST_F(TextCli, GenerateStopsAtTheContextLength) {
  Model m(make_gpt(small_gpt(), "small-gpt"));
  save_model(m, path("gpt.tsm"));
  // 10 prompt bytes in a context of 16: 6 more positions, and the 7th token is the
  // prediction after the last one.
  Result r = run({"generate", "--model", path("gpt.tsm"), "--prompt", "0123456789", "--max-tokens",
                  "100", "--json", path("g.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j = read_json("g.json");
  EXPECT_EQ(j["new_tokens"], 7);
  EXPECT_EQ(j["stopped"], "context");
  EXPECT_TRUE(contains(r.out, "note: stopped after 7 tokens at the context length")) << r.out;
}

TEST_F(TextCli, GenerateEscapesBytesAndKeepsJsonValid) {
  Model m(make_gpt(small_gpt(), "small-gpt"));
  save_model(m, path("gpt.tsm"));
  write("prompt.bin", std::string("a\x01\xff\n", 4));
  Result r = run({"generate", "--model", path("gpt.tsm"), "--prompt-file", path("prompt.bin"),
                  "--max-tokens", "3", "--seed", "2", "--json", path("g.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("a\\x01\\xff\n", 0), 0u) << r.out;
  nlohmann::json j = read_json("g.json");
  EXPECT_EQ(j["prompt"], "a\x01\xef\xbf\xbd\n");  // 0xff is not UTF-8: U+FFFD
  EXPECT_EQ(j["prompt_tokens"], 4);
}

TEST_F(TextCli, GenerateErrors) {
  Model m(make_gpt(small_gpt(), "small-gpt"));
  save_model(m, path("gpt.tsm"));
  std::string model = path("gpt.tsm");
  Result r = run({"generate", "--model", model});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "give --prompt TEXT or --prompt-file FILE")) << r.err;
  EXPECT_EQ(run({"generate", "--prompt", "x"}).code, 2);  // --model missing
  EXPECT_EQ(run({"generate", "--model", model, "--prompt", "x", "--prompt-file", "f"}).code, 2);
  EXPECT_EQ(run({"generate", "--model", model, "--prompt", "x", "--max-tokens", "0"}).code, 2);

  r = run({"generate", "--model", model, "--prompt", ""});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "error: the prompt is empty: give at least one byte for the model to continue\n");
  write("empty.txt", "");
  r = run({"generate", "--model", model, "--prompt-file", path("empty.txt")});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "the prompt file '" + path("empty.txt") + "' is empty")) << r.err;
  r = run({"generate", "--model", model, "--prompt-file", path("none.txt")});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: prompt file '" + path("none.txt") + "' does not exist\n");
  r = run({"generate", "--model", model, "--prompt", std::string(17, 'a')});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(
      contains(r.err, "the prompt has 17 bytes but model '" + model + "' reads at most 16 tokens"))
      << r.err;
  r = run({"generate", "--model", model, "--prompt", "x", "--top-p", "1.5"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "'top_p' must be in (0, 1]")) << r.err;
  r = run({"generate", "--model", model, "--prompt", "x", "--temperature", "-1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "'temperature'")) << r.err;
  r = run({"generate", "--model", model, "--prompt", "x", "--top-k", "-2"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "'top_k'")) << r.err;
  r = run({"generate", "--model", path("none.tsm"), "--prompt", "x"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: model file '" + path("none.tsm") + "' does not exist\n");
  // Not a language model: the error names it.
  r = run({"generate", "--model", "seed-mlp", "--prompt", "x"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(contains(r.err, "seed-mlp")) << r.err;
}

TEST_F(TextCli, ZooLanguageModel) {
  Result r = run({"summary", "gpt-tiny", "--json", path("s.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GT(read_json("s.json")["params"].get<int64_t>(), 0);
  r = run({"summary", "--list"});
  EXPECT_TRUE(contains(r.out, "gpt-tiny")) << r.out;
  // Untrained, but a language model all the same.
  r = run({"generate", "--model", "gpt-tiny", "--prompt", "Hi", "--max-tokens", "2",
           "--temperature", "0"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "generated 2 tokens")) << r.out;
}

}  // namespace
}  // namespace tessera::cli
