// Replays malformed inputs through every parser, as CI's stand-in for the libFuzzer targets
// (tests/fuzz/{idx,npy,csv,text}_fuzz.cpp): every prefix and many single-byte corruptions of
// valid files (in memory, through the same entry points as the fuzz targets), plus the seed
// corpora under tests/fuzz/corpus/ (as files, through the public readers). Each input must
// load or throw one tessera::Error naming its source; anything else fails the test.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "../../src/data/formats.h"
#include "data_test_util.h"
#include "tessera/data/loaders.h"

namespace tessera {
namespace {

using testing::gzip;
using testing::idx_bytes;
using testing::read_bytes;
using testing::TempDir;
using testing::write_zip;

using Parser = std::function<void(const std::string& bytes, const std::string& name)>;
using Loader = std::function<void(const std::string& path)>;

struct Outcome {
  int loaded = 0;
  int rejected = 0;
};

void replay(const std::string& path, const Loader& load, Outcome& outcome) {
  try {
    load(path);
    ++outcome.loaded;
  } catch (const Error& e) {
    ++outcome.rejected;
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos)
        << "the message does not name the file: " << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << path << ": not a tessera::Error: " << e.what();
  }
}

// Every prefix, and at `step`-spaced positions the byte set to 0x00, 0xff and flipped.
Outcome mutate(const std::string& valid, const Parser& parse, size_t step) {
  Outcome outcome;
  int serial = 0;
  auto run = [&](const std::string& bytes) {
    std::string name = "input-" + std::to_string(serial++);
    replay(
        name, [&](const std::string&) { parse(bytes, name); }, outcome);
  };
  for (size_t n = 0; n < valid.size(); n += (n < 64 ? 1 : step)) run(valid.substr(0, n));
  for (size_t i = 0; i < valid.size(); i += (i < 64 ? 1 : step)) {
    for (int kind = 0; kind < 3; ++kind) {
      std::string bad = valid;
      bad[i] = kind == 0 ? '\0' : kind == 1 ? '\xff' : static_cast<char>(bad[i] ^ 0x5a);
      run(bad);
    }
  }
  Outcome whole;
  replay(
      "valid", [&](const std::string&) { parse(valid, "valid"); }, whole);
  EXPECT_EQ(whole.loaded, 1) << "the unmutated input must load";
  return outcome;
}

// Files named valid_* must load; every other seed is malformed and must be rejected.
void replay_seed_corpus(const std::string& name, const Loader& load) {
  namespace fs = std::filesystem;
  fs::path root = fs::path(TESSERA_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / name;
  if (!fs::is_directory(root)) GTEST_SKIP() << "no seed corpus at " << root;
  int files = 0;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    Outcome outcome;
    replay(entry.path().string(), load, outcome);
    bool valid = entry.path().filename().string().starts_with("valid");
    EXPECT_EQ(outcome.loaded, valid ? 1 : 0) << entry.path();
    ++files;
  }
  EXPECT_GT(files, 3);
}

TEST(Corpus, Idx) {
  Parser parse = [](const std::string& bytes, const std::string& name) {
    if (data_internal::is_gzip(bytes)) {
      data_internal::parse_idx(data_internal::gunzip(bytes, name), name, true);
    } else {
      data_internal::parse_idx(bytes, name, true);
    }
  };
  Loader load = [](const std::string& p) { read_idx(p, true); };
  std::string payload;
  for (int i = 0; i < 2 * 5 * 7; ++i) payload.push_back(static_cast<char>(i * 37));
  std::string raw = idx_bytes(0x08, {2, 5, 7}, payload);
  Outcome a = mutate(raw, parse, 1);
  Outcome b = mutate(gzip(raw), parse, 1);
  Outcome c = mutate(idx_bytes(0x0E, {3}, std::string(24, '\x3f')), parse, 1);
  EXPECT_GT(a.rejected + b.rejected + c.rejected, 500);
  replay_seed_corpus("idx", load);
}

TEST(Corpus, Npy) {
  TempDir dir;
  Parser parse = [](const std::string& b, const std::string& n) { data_internal::parse_npy(b, n); };
  Loader load = [](const std::string& p) { read_npy(p); };
  std::string path = dir.file("valid.npy");
  write_npy(path, Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3}));
  Outcome a = mutate(read_bytes(path), parse, 1);
  write_npy(path, Tensor::zeros(kBool, {5}));
  Outcome b = mutate(read_bytes(path), parse, 1);
  EXPECT_GT(a.rejected + b.rejected, 300);
  replay_seed_corpus("npy", load);
}

TEST(Corpus, Npz) {
  TempDir dir;
  Parser parse = [](const std::string& b, const std::string& n) { data_internal::parse_npz(b, n); };
  Loader load = [](const std::string& p) { read_npz(p); };
  std::string member_path = dir.file("m.npy");
  write_npy(member_path, Tensor::from_vector<int32_t>({1, 2, 3, 4, 5, 6, 7, 8}, {8}, kI32));
  std::string member = read_bytes(member_path);
  for (bool deflate : {false, true}) {
    std::string path = dir.file("valid.npz");
    write_zip(path, {{"a.npy", member}, {"b.npy", member}}, deflate);
    Outcome o = mutate(read_bytes(path), parse, 1);
    EXPECT_GT(o.rejected, 100);
  }
  replay_seed_corpus("npz", load);
}

TEST(Corpus, Csv) {
  Parser parse = [](const std::string& b, const std::string& n) {
    data_internal::parse_csv(b, n, {.label_column = "label"});
  };
  Loader load = [](const std::string& p) { read_csv_dataset(p, {.label_column = "label"}); };
  std::string text = "\"f,1\",f2,label\r\n1.5,-2,3\r\n\"4\",5e-3,6\n\n7,8,9\n";
  Outcome o = mutate(text, parse, 1);
  EXPECT_GT(o.rejected, 50);
  replay_seed_corpus("csv", load);
}

TEST(Corpus, Text) {
  // Bytes are never corrupt: a mutated text loads whenever it is long enough, and every
  // prefix shorter than context + 1 bytes is rejected naming the input.
  Parser parse = [](const std::string& b, const std::string& n) {
    data_internal::parse_text_bytes(b, n, {.context = 16, .stride = 5});
  };
  Loader load = [](const std::string& p) { load_text_bytes(p); };
  std::string text = "GNU GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007\n";
  Outcome o = mutate(text, parse, 1);
  EXPECT_EQ(o.rejected, 17);  // the prefixes of 0..16 bytes
  EXPECT_GT(o.loaded, 150);
  replay_seed_corpus("text", load);
}

}  // namespace
}  // namespace tessera
