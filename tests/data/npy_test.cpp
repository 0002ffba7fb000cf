// NPY round trips for every dtype, headers as numpy writes them, NPZ (stored and deflated)
// and corrupt files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "data_test_util.h"
#include "tessera/data/loaders.h"

namespace tessera {
namespace {

using testing::expect_error;
using testing::read_bytes;
using testing::TempDir;
using testing::write_bytes;
using testing::write_zip;

// An .npy file as numpy would write it, with a hand-written header dict.
std::string npy(const std::string& dict, const std::string& data, int major = 1) {
  std::string header = dict;
  size_t pre = major == 1 ? 10 : 12;
  header.append((64 - (pre + header.size() + 1) % 64) % 64, ' ');
  header.push_back('\n');
  std::string out = std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
  size_t n = header.size();
  out.push_back(static_cast<char>(n & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  if (major > 1) {
    out.push_back(static_cast<char>((n >> 16) & 0xff));
    out.push_back(static_cast<char>(n >> 24));
  }
  return out + header + data;
}

template <typename T>
std::string raw(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

TEST(Npy, RoundTripsEveryExpressibleDtype) {
  TempDir dir;
  std::vector<double> values = {0, 1, -2, 3.5, 100, -7, 0.25, 1};
  for (DType dtype : {kF32, kF16, kI8, kI32, kI64, kBool}) {
    for (Shape shape : {Shape{8}, Shape{2, 4}, Shape{2, 2, 2}, Shape{1, 8, 1}}) {
      Tensor t = Tensor::zeros(dtype, shape);
      for (int64_t i = 0; i < 8; ++i) t.set(i, values[static_cast<size_t>(i)]);
      std::string path = dir.file("a.npy");
      write_npy(path, t);
      EXPECT_EQ(read_bytes(path).size() % 64, t.nbytes() % 64)
          << "the header is padded to 64 bytes";
      Tensor back = read_npy(path);
      EXPECT_EQ(back.dtype(), dtype) << dtype.name();
      EXPECT_EQ(back.shape(), shape);
      EXPECT_EQ(std::memcmp(back.raw_data(), t.raw_data(), t.nbytes()), 0) << dtype.name();
    }
  }
  // Scalars, empty arrays and non-contiguous views.
  write_npy(dir.file("s.npy"), Tensor::scalar(2.5));
  Tensor s = read_npy(dir.file("s.npy"));
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.data<float>()[0], 2.5f);
  write_npy(dir.file("e.npy"), Tensor::zeros(kF32, {0, 3}));
  EXPECT_EQ(read_npy(dir.file("e.npy")).shape(), Shape({0, 3}));
  Tensor m = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor transposed(m.buffer(), 0, Shape{3, 2}, Shape{1, 3}, kF32);
  write_npy(dir.file("t.npy"), transposed);
  EXPECT_EQ(read_npy(dir.file("t.npy")).to_f32_vector(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

TEST(Npy, HeaderTextIsWhatNumpyWrites) {
  TempDir dir;
  write_npy(dir.file("v.npy"), Tensor::zeros(kI32, {3}));
  std::string bytes = read_bytes(dir.file("v.npy"));
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_NE(bytes.find("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }"),
            std::string::npos);
  size_t header_end = 10 + (static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8));
  EXPECT_EQ(header_end % 64, 0u);
  EXPECT_EQ(bytes[header_end - 1], '\n');
  write_npy(dir.file("m.npy"), Tensor::zeros(kF32, {2, 3}));
  EXPECT_NE(read_bytes(dir.file("m.npy")).find("'shape': (2, 3), }"), std::string::npos);
}

TEST(Npy, ConvertsTypesTesseraLacks) {
  TempDir dir;
  auto load = [&](const std::string& descr, const std::string& shape, const std::string& data,
                  int major = 1) {
    std::string path = dir.file("x.npy");
    write_bytes(path,
                npy("{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }",
                    data, major));
    return read_npy(path);
  };
  Tensor f8 = load("<f8", "(2,)", raw<double>({0.5, -3.25}));
  EXPECT_EQ(f8.dtype(), kF32);
  EXPECT_EQ(f8.to_f32_vector(), (std::vector<float>{0.5f, -3.25f}));
  Tensor u1 = load("|u1", "(3,)", raw<uint8_t>({0, 200, 255}));
  EXPECT_EQ(u1.dtype(), kI32);
  EXPECT_EQ(u1.to_f32_vector(), (std::vector<float>{0, 200, 255}));
  Tensor i2 = load("<i2", "(2, 1)", raw<int16_t>({-300, 7}));
  EXPECT_EQ(i2.dtype(), kI32);
  EXPECT_EQ(i2.shape(), Shape({2, 1}));
  EXPECT_EQ(i2.to_f32_vector(), (std::vector<float>{-300, 7}));
  Tensor b1 = load("|b1", "(2,)", raw<uint8_t>({0, 1}));
  EXPECT_EQ(b1.dtype(), kBool);
  EXPECT_EQ(load("<f4", "()", raw<float>({9}), 2).data<float>()[0], 9.f);          // v2.0
  EXPECT_EQ(load("<i8", "(1,)", raw<int64_t>({-5}), 3).to_f32_vector()[0], -5.f);  // v3.0
  // Double quotes, no trailing comma, keys in another order: all legal Python.
  std::string path = dir.file("y.npy");
  write_bytes(path, npy("{\"shape\": (1,), \"fortran_order\": False, \"descr\": \"<f4\"}",
                        raw<float>({4})));
  EXPECT_EQ(read_npy(path).to_f32_vector(), (std::vector<float>{4}));
}

TEST(Npy, WriteRefusesTypesNumpyCannotHold) {
  TempDir dir;
  std::string path = dir.file("b.npy");
  expect_error([&] { write_npy(path, Tensor::zeros(kBF16, {2})); }, "cast first");
  expect_error([&] { write_npy(path, Tensor::zeros(DType::fixed(16, 6), {2})); }, path);
  EXPECT_FALSE(std::filesystem::exists(path));
  // A failed write leaves the previous file intact.
  write_npy(path, Tensor::zeros(kF32, {2}));
  std::string before = read_bytes(path);
  expect_error([&] { write_npy(path, Tensor::zeros(kBF16, {2})); }, "bf16");
  EXPECT_EQ(read_bytes(path), before);
  expect_error([&] { write_npy(dir.file("no/such/dir/x.npy"), Tensor::zeros(kF32, {2})); },
               "no/such/dir");
}

TEST(Npy, BadFilesGiveOneClearError) {
  TempDir dir;
  auto check = [&](const std::string& name, const std::string& bytes, const std::string& what) {
    std::string path = dir.file(name);
    write_bytes(path, bytes);
    expect_error([&] { read_npy(path); }, "file '" + path + "'");
    expect_error([&] { read_npy(path); }, what);
  };
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  std::string good = npy(dict, std::string(24, '\0'));
  check("empty", "", "is empty");
  check("magic", "\x93NUMPX" + good.substr(6), "not a .npy file");
  check("short", good.substr(0, 8), "truncated .npy header");
  check("version", "\x93NUMPY\x04" + good.substr(7), "version 4.0");
  check("header-len", good.substr(0, 8) + "\xff\xff" + good.substr(10), "header claims 65535");
  check("truncated", good.substr(0, good.size() - 1),
        "expected 24 bytes of data after the header (shape [2, 3], 'f4'), found 23");
  check("header-cut", good.substr(0, 40), "header claims");
  check("fortran", npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", ""),
        "Fortran-order");
  check("big-endian", npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", "1234"),
        "'>f4' is not supported");
  check("complex", npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", "12345678"),
        "'<c8'");
  check("object", npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "12345678"),
        "not supported");
  check("structured",
        npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", "1234"),
        "structured");
  check("no-shape", npy("{'descr': '<f4', 'fortran_order': False, }", ""), "are required");
  check("extra-key", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}", ""),
        "unexpected key 'x'");
  check("negative", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", ""),
        "non-negative integer");
  check("absurd",
        npy("{'descr': '<f8', 'fortran_order': False, 'shape': "
            "(4611686018427387904, 4611686018427387904), }",
            ""),
        "more than 2^64");
  check("huge-dim",
        npy("{'descr': '<f4', 'fortran_order': False, 'shape': "
            "(99999999999999999999999,), }",
            ""),
        "dimension too large");
  check("rank9",
        npy("{'descr': '<f4', 'fortran_order': False, 'shape': "
            "(1, 1, 1, 1, 1, 1, 1, 1, 1), }",
            "1234"),
        "rank above 8");
  check("unterminated", npy("{'descr': '<f4", ""), "unterminated string");
  check("garbage", npy("not a dict at all", ""), "expected '{'");
  check("trailing", npy(dict + " junk", std::string(24, '\0')), "unexpected text");
  check("bool-word", npy("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", "1234"),
        "True or False");
}

TEST(Npz, ReadsStoredAndDeflatedMembers) {
  TempDir dir;
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector<int32_t>({7, 8, 9}, {3}, kI32);
  write_npy(dir.file("a.npy"), a);
  write_npy(dir.file("b.npy"), b);
  std::string a_bytes = read_bytes(dir.file("a.npy"));
  std::string b_bytes = read_bytes(dir.file("b.npy"));
  for (bool deflate : {false, true}) {
    std::string path = dir.file(deflate ? "c.npz" : "s.npz");
    write_zip(path, {{"x_train.npy", a_bytes}, {"y.npy", b_bytes}, {"README", "not an array"}},
              deflate);
    auto arrays = read_npz(path);
    ASSERT_EQ(arrays.size(), 2u);
    EXPECT_EQ(arrays.at("x_train").shape(), Shape({2, 3}));
    EXPECT_EQ(arrays.at("x_train").to_f32_vector(), a.to_f32_vector());
    EXPECT_EQ(arrays.at("y").dtype(), kI32);
    EXPECT_EQ(arrays.at("y").to_f32_vector(), b.to_f32_vector());
  }
}

TEST(Npz, BadArchivesGiveOneClearError) {
  TempDir dir;
  std::string member =
      read_bytes((write_npy(dir.file("m.npy"), Tensor::zeros(kF32, {64})), dir.file("m.npy")));
  std::string path = dir.file("good.npz");
  write_zip(path, {{"m.npy", member}}, true);
  std::string good = read_bytes(path);
  auto check = [&](const std::string& name, const std::string& bytes, const std::string& what) {
    std::string p = dir.file(name);
    write_bytes(p, bytes);
    expect_error([&] { read_npz(p); }, p);
    expect_error([&] { read_npz(p); }, what);
  };
  check("empty.npz", "", "is empty");
  check("not-zip.npz", "hello world, this is not a zip archive", "not a readable .npz");
  check("truncated.npz", good.substr(0, good.size() / 2), "not a readable .npz");
  std::string flipped = good;
  flipped[40] = static_cast<char>(flipped[40] ^ 0xff);  // inside the deflated member
  check("corrupt.npz", flipped, "m.npy");

  write_zip(dir.file("bad-member.npz"), {{"m.npy", member.substr(0, 70)}}, false);
  expect_error([&] { read_npz(dir.file("bad-member.npz")); }, "m.npy");
  expect_error([&] { read_npz(dir.file("missing.npz")); }, "does not exist");
}

}  // namespace
}  // namespace tessera
