// IDX reading (raw and gzip), corrupt IDX files, and Fashion-MNIST when it is installed.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "data_test_util.h"
#include "tessera/data/loaders.h"

namespace tessera {
namespace {

using testing::expect_error;
using testing::gzip;
using testing::idx_bytes;
using testing::TempDir;
using testing::write_bytes;

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

class IdxTypes : public ::testing::TestWithParam<bool> {};  // gzip or raw

TEST_P(IdxTypes, ReadsEveryElementType) {
  TempDir dir;
  bool compress = GetParam();
  auto put = [&](const std::string& name, const std::string& bytes) {
    std::string path = dir.file(name);
    write_bytes(path, compress ? gzip(bytes) : bytes);
    return path;
  };

  std::string u8 = idx_bytes(0x08, {2, 3}, std::string("\x00\x01\x02\x7f\x80\xff", 6));
  Tensor labels = read_idx(put("u8", u8));
  EXPECT_EQ(labels.dtype(), kI32);
  EXPECT_EQ(labels.shape(), Shape({2, 3}));
  EXPECT_EQ(labels.to_f32_vector(), (std::vector<float>{0, 1, 2, 127, 128, 255}));
  Tensor pixels = read_idx(put("u8n", u8), /*normalize=*/true);
  EXPECT_EQ(pixels.dtype(), kF32);
  EXPECT_FLOAT_EQ(pixels.data<float>()[5], 1.f);
  EXPECT_FLOAT_EQ(pixels.data<float>()[3], 127.f / 255.f);

  Tensor i8 = read_idx(put("i8", idx_bytes(0x09, {3}, std::string("\xff\x00\x7f", 3))));
  EXPECT_EQ(i8.dtype(), kI8);
  EXPECT_EQ(i8.to_f32_vector(), (std::vector<float>{-1, 0, 127}));

  Tensor i16 = read_idx(put("i16", idx_bytes(0x0B, {2}, std::string("\xff\xfe\x01\x00", 4))));
  EXPECT_EQ(i16.dtype(), kI32);
  EXPECT_EQ(i16.to_f32_vector(), (std::vector<float>{-2, 256}));

  Tensor i32 = read_idx(put("i32", idx_bytes(0x0C, {2}, be32(0xfffffffd) + be32(70000))));
  EXPECT_EQ(i32.to_f32_vector(), (std::vector<float>{-3, 70000}));

  uint32_t bits;
  float f = -1.5f;
  std::memcpy(&bits, &f, 4);
  Tensor f32 = read_idx(put("f32", idx_bytes(0x0D, {1, 1, 1}, be32(bits))));
  EXPECT_EQ(f32.shape(), Shape({1, 1, 1}));
  EXPECT_EQ(f32.data<float>()[0], -1.5f);

  double g = 0.25;
  uint64_t wide;
  std::memcpy(&wide, &g, 8);
  Tensor f64 = read_idx(put("f64", idx_bytes(0x0E, {1},
                                             be32(static_cast<uint32_t>(wide >> 32)) +
                                                 be32(static_cast<uint32_t>(wide)))));
  EXPECT_EQ(f64.dtype(), kF32);
  EXPECT_EQ(f64.data<float>()[0], 0.25f);

  Tensor empty = read_idx(put("empty-dim", idx_bytes(0x08, {0, 28}, "")));
  EXPECT_EQ(empty.shape(), Shape({0, 28}));
}

INSTANTIATE_TEST_SUITE_P(RawAndGzip, IdxTypes, ::testing::Values(false, true));

TEST(Idx, LargeImageFileMatchesElementwise) {
  // Large enough to take the parallel conversion path.
  TempDir dir;
  std::string payload(600 * 28 * 28, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>((i * 7) % 251);
  std::string path = dir.file("images.gz");
  write_bytes(path, gzip(idx_bytes(0x08, {600, 28, 28}, payload)));
  Tensor t = read_idx(path, true);
  ASSERT_EQ(t.shape(), Shape({600, 28, 28}));
  for (size_t i = 0; i < payload.size(); ++i) {
    ASSERT_EQ(t.data<float>()[i], static_cast<float>((i * 7) % 251) * (1.0f / 255.0f)) << i;
  }
}

TEST(Idx, ConcatenatedGzipMembers) {
  TempDir dir;
  std::string raw = idx_bytes(0x08, {4}, std::string("\x01\x02\x03\x04", 4));
  std::string path = dir.file("two-members.gz");
  write_bytes(path, gzip(raw.substr(0, 6)) + gzip(raw.substr(6)));
  EXPECT_EQ(read_idx(path).to_f32_vector(), (std::vector<float>{1, 2, 3, 4}));
}

TEST(Idx, BadFilesGiveOneClearError) {
  TempDir dir;
  auto check = [&](const std::string& name, const std::string& bytes, const std::string& what) {
    std::string path = dir.file(name);
    write_bytes(path, bytes);
    expect_error([&] { read_idx(path); }, "file '" + path + "'");
    expect_error([&] { read_idx(path); }, what);
  };
  std::string good = idx_bytes(0x08, {2, 2}, "abcd");
  check("empty", "", "is empty");
  check("short", std::string("\0\0", 2), "too short");
  check("magic", "PK\x03\x04" + good.substr(4), "not an IDX file");
  check("type", idx_bytes(0x07, {1}, "a"), "unknown IDX element type 0x07");
  check("rank0", std::string("\0\0\x08\0", 4), "rank 0");
  check("rank9", std::string("\0\0\x08\x09", 4) + std::string(36, '\1'), "rank 9");
  check("header", good.substr(0, 9), "truncated IDX header");
  check("truncated", good.substr(0, good.size() - 1),
        "expected 4 bytes of data after the header (shape [2, 2], u8), found 3");
  check("long", good + "x", "found 5");
  check("absurd", idx_bytes(0x0E, {0xffffffff, 0xffffffff, 0xffffffff}, ""), "more than 2^64");
  check("huge", idx_bytes(0x08, {60000, 28, 28}, "tiny"), "expected 47040000 bytes");
  check("gz-truncated", gzip(good).substr(0, 15), "gzip stream is truncated");
  std::string corrupt = gzip(good);
  corrupt[12] = static_cast<char>(corrupt[12] ^ 0x55);
  std::string path = dir.file("gz-corrupt");
  write_bytes(path, corrupt);
  expect_error([&] { read_idx(path); }, path);
  check("gz-trailing", gzip(good) + "junk", "unexpected data after the gzip stream");
  check("gz-bad-idx", gzip(good.substr(0, 7)), "truncated IDX header");

  expect_error([&] { read_idx(dir.file("missing")); }, "does not exist");
  try {
    read_idx(dir.file("missing"));
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
  }
  expect_error([&] { read_idx(dir.path()); }, "directory");
}

TEST(FashionMnist, MissingDirectorySaysHowToInstall) {
  TempDir dir;
  try {
    load_fashion_mnist("train", dir.path());
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    std::string msg = e.what();
    EXPECT_NE(msg.find(dir.file("train-images-idx3-ubyte.gz")), std::string::npos) << msg;
    EXPECT_NE(msg.find("apt-get install dataset-fashion-mnist"), std::string::npos) << msg;
  }
  expect_error([&] { load_fashion_mnist("validation", dir.path()); }, "'validation'");
}

TEST(FashionMnist, ChecksCountsAndLabelRange) {
  TempDir dir;
  std::string images = idx_bytes(0x08, {2, 28, 28}, std::string(2 * 28 * 28, '\x80'));
  write_bytes(dir.file("t10k-images-idx3-ubyte.gz"), gzip(images));
  write_bytes(dir.file("t10k-labels-idx1-ubyte.gz"), gzip(idx_bytes(0x08, {2}, "\x01\x09")));
  Dataset d = load_fashion_mnist("test", dir.path());
  EXPECT_EQ(d.x.shape(), Shape({2, 28, 28}));
  EXPECT_EQ(d.y.to_f32_vector(), (std::vector<float>{1, 9}));

  write_bytes(dir.file("t10k-labels-idx1-ubyte.gz"), gzip(idx_bytes(0x08, {2}, "\x01\x0a")));
  expect_error([&] { load_fashion_mnist("test", dir.path()); },
               "label 10 of record 1 is out of range");
  write_bytes(dir.file("t10k-labels-idx1-ubyte.gz"), gzip(idx_bytes(0x08, {3}, "\x01\x02\x03")));
  expect_error([&] { load_fashion_mnist("test", dir.path()); }, "holds 2 images");
  write_bytes(dir.file("t10k-images-idx3-ubyte.gz"),
              gzip(idx_bytes(0x08, {2, 27, 29}, std::string(2 * 27 * 29, '\0'))));
  expect_error([&] { load_fashion_mnist("test", dir.path()); }, "[n, 28, 28]");
}

TEST(FashionMnist, DefaultDirectoryFollowsTesseraDataDir) {
  const char* old = std::getenv("TESSERA_DATA_DIR");
  std::string saved = old ? old : "";
  ::setenv("TESSERA_DATA_DIR", "/data/root", 1);
  EXPECT_EQ(default_fashion_mnist_dir(), "/data/root/fashion-mnist");
  ::unsetenv("TESSERA_DATA_DIR");
  EXPECT_EQ(default_fashion_mnist_dir(), "/usr/share/datasets/fashion-mnist");
  if (old) ::setenv("TESSERA_DATA_DIR", saved.c_str(), 1);
}

TEST(FashionMnist, RealData) {
  std::string dir = default_fashion_mnist_dir();
  if (!std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "Fashion-MNIST is not installed in " << dir;
  }
  auto start = std::chrono::steady_clock::now();
  Dataset train = load_fashion_mnist("train");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("loaded Fashion-MNIST train in %.3f s\n", seconds);
  Dataset test = load_fashion_mnist("test");
  EXPECT_EQ(train.x.shape(), Shape({60000, 28, 28}));
  EXPECT_EQ(train.y.shape(), Shape({60000}));
  EXPECT_EQ(test.x.shape(), Shape({10000, 28, 28}));
  EXPECT_EQ(test.y.shape(), Shape({10000}));
  train.validate();
  double sum = 0;
  float lo = 1, hi = 0;
  const float* px = train.x.data<float>();
  for (int64_t i = 0; i < train.x.numel(); ++i) {
    sum += px[i];
    lo = std::min(lo, px[i]);
    hi = std::max(hi, px[i]);
  }
  EXPECT_NEAR(sum / static_cast<double>(train.x.numel()), 0.2860, 0.001);
  EXPECT_EQ(lo, 0.f);
  EXPECT_EQ(hi, 1.f);
  // Fashion-MNIST is balanced: 6000 training images per class.
  std::vector<int> counts(10, 0);
  for (int64_t i = 0; i < 60000; ++i) ++counts[train.y.data<int32_t>()[i]];
  for (int c : counts) EXPECT_EQ(c, 6000);
}

}  // namespace
}  // namespace tessera
