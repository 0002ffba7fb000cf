// Checkpoints: round trip, bit-exact resume, atomic saves, and a corpus of corrupted files
// that must all be reported as Error (never a crash, never a silently wrong model).
#include "tessera/train/checkpoint.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <zlib.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "tessera/core/error.h"
#include "tessera/nn/layers.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;

std::string temp_dir() {
  fs::path dir =
      fs::temp_directory_path() / ("tessera_ckpt_" + std::to_string(::getpid()) + "_" +
                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

Sequential small_model(bool dropout = false) {
  std::vector<LayerPtr> layers = {Dense(16, {.activation = "relu", .input_shape = Shape{8}})};
  if (dropout) layers.push_back(Dropout(0.25));
  layers.push_back(Dense(4, {.activation = "softmax"}));
  return Sequential(layers, "small");
}

CompileConfig adam_config() {
  return {.optimizer = "adam",
          .optimizer_options = {.learning_rate = 0.01},
          .loss = "sparse_categorical_crossentropy",
          .metrics = {"accuracy"}};
}

Dataset small_data() { return synthetic_classification(5, 200, 8, 4); }

std::vector<std::string> all_bytes(Model& m) {
  std::vector<std::string> out;
  auto add = [&](const std::vector<VariablePtr>& vs) {
    for (const VariablePtr& v : vs) {
      Tensor t = v->value.contiguous();
      out.push_back(v->name + ":" +
                    std::string(static_cast<const char*>(t.raw_data()), t.nbytes()));
    }
  };
  add(m.net().variables());
  if (m.compiled()) add(m.optimizer()->variables());
  return out;
}

// Rewrites a checkpoint's JSON header (keeping the data section), fixing the prelude.
std::string with_header(const std::string& file, const std::function<void(nlohmann::json&)>& f) {
  uint64_t header_bytes, file_bytes;
  std::memcpy(&header_bytes, file.data() + 16, 8);
  std::memcpy(&file_bytes, file.data() + 24, 8);
  auto align = [](size_t n) { return (n + 63) / 64 * 64; };
  size_t data_start = align(32 + header_bytes);
  nlohmann::json header = nlohmann::json::parse(file.substr(32, header_bytes));
  f(header);
  std::string text = header.dump();
  std::string out = file.substr(0, 32) + text;
  out.resize(align(out.size()), '\0');
  out += file.substr(data_start);
  uint64_t size = out.size(), len = text.size();
  uint32_t crc = static_cast<uint32_t>(
      ::crc32(0, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(len)));
  std::memcpy(out.data() + 12, &crc, 4);
  std::memcpy(out.data() + 16, &len, 8);
  std::memcpy(out.data() + 24, &size, 8);
  return out;
}

void expect_error_naming(const std::string& path, const std::string& needle) {
  try {
    load_model(path);
    ADD_FAILURE() << "loading " << path << " succeeded; expected an error with '" << needle << "'";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find(needle), std::string::npos) << what;
  }
}

TEST(Checkpoint, RoundTripRestoresWeightsOptimizerStateAndEpoch) {
  std::string dir = temp_dir(), path = dir + "/m.tsm";
  Sequential model = small_model();
  model.compile(adam_config());
  Dataset data = small_data();
  model.fit(data, {.epochs = 2, .batch_size = 32, .seed = 1, .verbose = 0});
  save_model(model, path);
  EXPECT_TRUE(is_checkpoint_file(path));

  Model loaded = load_model(path);
  EXPECT_EQ(loaded.epoch(), model.epoch());
  EXPECT_EQ(loaded.epoch(), 2);
  ASSERT_TRUE(loaded.compiled());
  EXPECT_EQ(loaded.compile_config().optimizer, "adam");
  EXPECT_EQ(loaded.compile_config().metrics, std::vector<std::string>{"accuracy"});
  EXPECT_EQ(all_bytes(loaded), all_bytes(model));
  EXPECT_EQ(loaded.summary(), model.summary());
  EXPECT_EQ(loaded.predict(data.x).to_f32_vector(), model.predict(data.x).to_f32_vector());

  nlohmann::json h = read_checkpoint_header(path);
  EXPECT_EQ(h.at("version"), 1);
  EXPECT_EQ(h.at("compile").at("loss"), "sparse_categorical_crossentropy");
  for (const auto& t : h.at("tensors")) EXPECT_EQ(t.at("offset").get<uint64_t>() % 64, 0u);
}

TEST(Checkpoint, UncompiledModelHasNoOptimizerState) {
  std::string dir = temp_dir(), path = dir + "/m.tsm";
  Sequential model = small_model();
  save_model(model, path);
  Model loaded = load_model(path);
  EXPECT_FALSE(loaded.compiled());
  EXPECT_EQ(all_bytes(loaded), all_bytes(model));
}

TEST(Checkpoint, ResumeReproducesAnUninterruptedRunBitForBit) {
  std::string dir = temp_dir(), path = dir + "/resume.tsm";
  Dataset data = small_data();
  FitOptions fit{.epochs = 4, .batch_size = 24, .seed = 9, .verbose = 0};

  Sequential straight = small_model(/*dropout=*/true);
  straight.compile(adam_config());
  straight.fit(data, fit);

  Sequential first = small_model(/*dropout=*/true);
  first.compile(adam_config());
  FitOptions half = fit;
  half.epochs = 2;
  first.fit(data, half);
  save_model(first, path);
  Model resumed = load_model(path);
  ASSERT_EQ(resumed.epoch(), 2);
  FitOptions rest = fit;
  rest.initial_epoch = resumed.epoch();
  resumed.fit(data, rest);

  EXPECT_EQ(resumed.epoch(), 4);
  EXPECT_EQ(all_bytes(resumed), all_bytes(straight));
}

TEST(Checkpoint, FailedSaveLeavesThePreviousFileIntact) {
  std::string dir = temp_dir(), path = dir + "/keep.tsm";
  Sequential model = small_model();
  model.compile(adam_config());
  save_model(model, path);
  std::string before = read_bytes(path);

  // A file-size limit makes the write fail (this works as root too, unlike chmod).
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit small = saved;
  small.rlim_cur = 256;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  Dataset data = small_data();
  model.fit(data, {.epochs = 1, .batch_size = 32, .verbose = 0});
  bool threw = false;
  try {
    save_model(model, path);
  } catch (const Error& e) {
    threw = true;
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  EXPECT_TRUE(threw);
  EXPECT_EQ(read_bytes(path), before);
  int files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1) << "a temporary file was left behind";
  EXPECT_NO_THROW(load_model(path));
}

TEST(Checkpoint, MissingFileAndBadMagicNameTheFile) {
  std::string dir = temp_dir();
  expect_error_naming(dir + "/none.tsm", "cannot open");
  write_bytes(dir + "/text.tsm", std::string(100, 'x'));
  expect_error_naming(dir + "/text.tsm", "bad magic");
  write_bytes(dir + "/tiny.tsm", "TESS");
  expect_error_naming(dir + "/tiny.tsm", "truncated");
}

TEST(Checkpoint, TruncationAtEverySixteenthIsAnError) {
  std::string dir = temp_dir(), path = dir + "/m.tsm", bad = dir + "/bad.tsm";
  Sequential model = small_model();
  model.compile(adam_config());
  save_model(model, path);
  std::string bytes = read_bytes(path);
  for (int k = 0; k < 16; ++k) {
    write_bytes(bad, bytes.substr(0, bytes.size() * k / 16));
    EXPECT_THROW(load_model(bad), Error) << "truncated to " << k << "/16";
  }
  write_bytes(bad, bytes.substr(0, bytes.size() - 1));
  expect_error_naming(bad, "truncated");
  write_bytes(bad, bytes + "extra");
  EXPECT_THROW(load_model(bad), Error);
}

TEST(Checkpoint, EveryFlippedByteIsAnError) {
  std::string dir = temp_dir(), path = dir + "/m.tsm", bad = dir + "/bad.tsm";
  Sequential model = small_model();
  model.compile(adam_config());
  save_model(model, path);
  std::string bytes = read_bytes(path);
  size_t stride = std::max<size_t>(1, bytes.size() / 1500);
  for (size_t i = 0; i < bytes.size(); i += stride) {
    std::string copy = bytes;
    copy[i] = static_cast<char>(copy[i] ^ 0x5a);
    write_bytes(bad, copy);
    EXPECT_THROW(load_model(bad), Error) << "flipped byte " << i << " of " << bytes.size();
  }
}

TEST(Checkpoint, TensorCrcMismatchNamesTheTensor) {
  std::string dir = temp_dir(), path = dir + "/m.tsm";
  Sequential model = small_model();
  save_model(model, path);
  std::string bytes = read_bytes(path);
  bytes[bytes.size() - 1] ^= 1;  // the last tensor's last byte
  write_bytes(path, bytes);
  expect_error_naming(path, "CRC32 mismatch");
}

TEST(Checkpoint, TableAndModelMismatchesAreErrors) {
  std::string dir = temp_dir(), path = dir + "/m.tsm", bad = dir + "/bad.tsm";
  Sequential model = small_model();
  model.compile(adam_config());
  save_model(model, path);
  std::string bytes = read_bytes(path);

  write_bytes(bad, with_header(bytes, [](nlohmann::json& h) {
                h["tensors"][0]["name"] = "nonexistent/kernel";
              }));
  expect_error_naming(bad, "matches no variable");

  write_bytes(bad, with_header(bytes, [](nlohmann::json& h) {
                h["tensors"][0]["shape"] = {128};  // same byte count, other shape
              }));
  expect_error_naming(bad, "in the file, the model has");

  write_bytes(bad, with_header(bytes, [](nlohmann::json& h) { h["compile"] = nullptr; }));
  expect_error_naming(bad, "matches no variable");  // optimizer tensors without an optimizer

  write_bytes(bad, with_header(bytes, [](nlohmann::json& h) {
                h["model"]["layers"][0]["class_name"] = "Conv9D";
              }));
  expect_error_naming(bad, "header field 'model'");

  write_bytes(bad, with_header(bytes, [](nlohmann::json& h) { h["tensors"][0]["dtype"] = "q7"; }));
  expect_error_naming(bad, "unknown dtype 'q7'");

  write_bytes(bad, with_header(bytes, [](nlohmann::json& h) { h.erase("epoch"); }));
  expect_error_naming(bad, "missing field 'epoch'");
}

}  // namespace
}  // namespace tessera
