// Byte-level text datasets: next-byte windows, strides, the validation split, and errors that
// name the file and the value for missing, unreadable, empty and too-short texts.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "../../src/data/formats.h"
#include "data_test_util.h"
#include "tessera/data/loaders.h"

namespace tessera {
namespace {

using testing::expect_error;
using testing::TempDir;
using testing::write_bytes;

std::vector<int32_t> ints(const Tensor& t) {
  const int32_t* p = t.data<int32_t>();
  return {p, p + t.numel()};
}

std::vector<int32_t> ids(const std::string& s) {
  std::vector<int32_t> out;
  for (char c : s) out.push_back(static_cast<unsigned char>(c));
  return out;
}

class Text : public ::testing::Test {
 protected:
  std::string put(const std::string& bytes) {
    std::string path = dir_.file("t" + std::to_string(count_++) + ".txt");
    write_bytes(path, bytes);
    return path;
  }
  TempDir dir_;
  int count_ = 0;
};

TEST_F(Text, NonOverlappingWindowsByDefault) {
  // 11 bytes, context 3: windows start at 0, 3, 6 (the one at 9 would need byte 12).
  Dataset d = load_text_bytes(put("abcdefghijk"), {.context = 3});
  ASSERT_EQ(d.x.dtype(), kI32);
  ASSERT_EQ(d.y.dtype(), kI32);
  EXPECT_EQ(d.x.shape(), Shape({3, 3}));
  EXPECT_EQ(d.y.shape(), Shape({3, 3}));
  EXPECT_EQ(ints(d.x), ids("abcdefghi"));
  EXPECT_EQ(ints(d.y), ids("bcdefghij"));
  EXPECT_NE(d.name.find(".txt"), std::string::npos) << d.name;
  d.validate();
}

TEST_F(Text, StrideGivesOverlappingWindows) {
  Dataset d = load_text_bytes(put("abcdef"), {.context = 3, .stride = 1});
  // Starts 0, 1, 2: each needs start + 4 bytes.
  EXPECT_EQ(d.x.shape(), Shape({3, 3}));
  EXPECT_EQ(ints(d.x), ids("abcbcdcde"));
  EXPECT_EQ(ints(d.y), ids("bcdcdedef"));
  // A stride longer than the context skips bytes between windows.
  Dataset skip = load_text_bytes(put("abcdefghij"), {.context = 2, .stride = 4});
  EXPECT_EQ(ints(skip.x), ids("abef"));
  EXPECT_EQ(ints(skip.y), ids("bcfg"));
}

TEST_F(Text, ExactlyContextPlusOneBytesIsOneWindow) {
  Dataset d = load_text_bytes(put("xyz"), {.context = 2});
  EXPECT_EQ(d.x.shape(), Shape({1, 2}));
  EXPECT_EQ(ints(d.x), ids("xy"));
  EXPECT_EQ(ints(d.y), ids("yz"));
}

TEST_F(Text, EveryByteValueIsATokenId) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  all.push_back('\0');
  Dataset d = load_text_bytes(put(all), {.context = 256});
  ASSERT_EQ(d.x.shape(), Shape({1, 256}));
  for (int i = 0; i < 256; ++i) {
    EXPECT_EQ(d.x.data<int32_t>()[i], i);
    EXPECT_EQ(d.y.data<int32_t>()[i], (i + 1) % 256);
  }
}

TEST_F(Text, ValidationSplitTakesTheEndOfTheText) {
  std::string text;
  for (int i = 0; i < 41; ++i) text.push_back(static_cast<char>('a' + i % 26));
  Dataset d = load_text_bytes(put(text), {.context = 4});
  ASSERT_EQ(d.size(), 10);
  auto [train, val] = d.split(0.8);
  EXPECT_EQ(train.size(), 8);
  EXPECT_EQ(val.size(), 2);
  EXPECT_EQ(val.x.data<int32_t>()[0], static_cast<unsigned char>(text[32]));
  EXPECT_EQ(val.y.data<int32_t>()[7], static_cast<unsigned char>(text[40]));
}

TEST_F(Text, MissingFileNamesIt) {
  std::string path = dir_.file("no-such.txt");
  try {
    load_text_bytes(path);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
}

TEST_F(Text, DirectoryIsAnIoError) {
  try {
    load_text_bytes(dir_.path());
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
    EXPECT_NE(std::string(e.what()).find(dir_.path()), std::string::npos) << e.what();
  }
}

TEST_F(Text, UnreadableFileIsAnIoError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads files whatever their mode";
  std::string path = put("some text that nobody may read");
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);
  try {
    load_text_bytes(path, {.context = 4});
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST_F(Text, EmptyFileIsAnErrorNamingIt) {
  std::string path = put("");
  expect_error([&] { load_text_bytes(path); }, "text '" + path + "' is empty");
  expect_error([&] { load_text_bytes(path, {.context = 7}); }, "context + 1 = 8 bytes");
}

TEST_F(Text, TooShortFileNamesSizeAndContext) {
  std::string path = put("0123456789");  // 10 bytes
  expect_error([&] { load_text_bytes(path, {.context = 10}); },
               "text '" + path + "' has 10 bytes, shorter than context + 1 = 11");
  expect_error([&] { load_text_bytes(path); }, "context + 1 = 129");
  EXPECT_EQ(load_text_bytes(path, {.context = 9}).size(), 1);
}

TEST_F(Text, BadOptionsNameTheValue) {
  std::string path = put("plenty of text for any small context");
  expect_error([&] { load_text_bytes(path, {.context = 0}); }, "context must be >= 1 byte, got 0");
  expect_error([&] { load_text_bytes(path, {.context = -5}); }, "got -5");
  expect_error([&] { load_text_bytes(path, {.context = 4, .stride = -1}); },
               "stride must be >= 1 byte (or 0 for the context, 4), got -1");
  // Checked before the file is read.
  expect_error([&] { load_text_bytes(dir_.file("missing"), {.context = 0}); }, "got 0");
  // A huge context is a size error, not an overflow.
  expect_error([&] { load_text_bytes(path, {.context = INT64_MAX}); },
               "context + 1 = 9223372036854775808");
}

TEST_F(Text, EveryPrefixLoadsOrNamesTheInput) {
  std::string text = "The quick brown fox jumps over the lazy dog.\n";
  for (size_t n = 0; n <= text.size(); ++n) {
    std::string name = "prefix-" + std::to_string(n);
    try {
      Dataset d = data_internal::parse_text_bytes(text.substr(0, n), name, {.context = 8});
      EXPECT_GE(n, 9u);
      EXPECT_EQ(d.size(), (static_cast<int64_t>(n) - 9) / 8 + 1);
    } catch (const Error& e) {
      EXPECT_LT(n, 9u);
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
}

TEST(TextDefault, DebianLicenseText) {
  std::string path = default_text_path();
  EXPECT_EQ(path, "/usr/share/common-licenses/GPL-3");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is not installed";
  Dataset d = load_text_bytes(path);
  EXPECT_GT(d.size(), 200);  // 35 KB / 128
  EXPECT_EQ(d.x.shape()[1], 128);
  auto [train, val] = d.split(0.9);
  EXPECT_GT(val.size(), 0);
}

}  // namespace
}  // namespace tessera
