// IDX files (LeCun's MNIST format and its family): a 4-byte magic 0x00 0x00 TYPE NDIMS,
// NDIMS big-endian u32 dimensions, then the data, big-endian, row-major.
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "formats.h"
#include "tessera/core/error.h"
#include "tessera/core/thread_pool.h"
#include "tessera/data/loaders.h"

namespace tessera {
namespace data_internal {
namespace {

struct IdxType {
  uint8_t code;
  const char* name;
  size_t size;
  DType dtype;  // what Tessera makes of it (u8 without normalize)
};
constexpr IdxType kIdxTypes[] = {
    {0x08, "u8", 1, kI32},  {0x09, "i8", 1, kI8},   {0x0B, "i16", 2, kI32},
    {0x0C, "i32", 4, kI32}, {0x0D, "f32", 4, kF32}, {0x0E, "f64", 8, kF32},
};

uint32_t load_be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// Element-wise conversion of big-endian source data, split over the thread pool for the
// large image files (the result does not depend on the split).
template <typename F>
void convert_parallel(int64_t n, F&& convert_range) {
  if (n < (int64_t{1} << 18)) {
    convert_range(int64_t{0}, n);
    return;
  }
  default_thread_pool().parallel_for(n, int64_t{1} << 16, convert_range);
}

}  // namespace

Tensor parse_idx(std::string_view bytes, const std::string& name, bool normalize) {
  TS_CHECK(!bytes.empty(), ErrorKind::kInvalidArgument, "file '{}' is empty (expected IDX)", name);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  TS_CHECK(bytes.size() >= 4, ErrorKind::kInvalidArgument,
           "file '{}': {} bytes is too short for an IDX header", name, bytes.size());
  TS_CHECK(p[0] == 0 && p[1] == 0, ErrorKind::kInvalidArgument,
           "file '{}': not an IDX file (magic {:02x} {:02x} {:02x} {:02x}, expected 00 00 "
           "<type> <rank>)",
           name, p[0], p[1], p[2], p[3]);
  const IdxType* type = nullptr;
  for (const IdxType& t : kIdxTypes) {
    if (t.code == p[2]) type = &t;
  }
  TS_CHECK(type != nullptr, ErrorKind::kInvalidArgument,
           "file '{}': unknown IDX element type 0x{:02x} (expected 08, 09, 0b, 0c, 0d or 0e)", name,
           p[2]);
  int rank = p[3];
  TS_CHECK(rank >= 1 && rank <= kMaxRank, ErrorKind::kInvalidArgument,
           "file '{}': IDX rank {} is out of range (expected 1 to {})", name, rank, kMaxRank);
  size_t header = 4 + 4 * static_cast<size_t>(rank);
  TS_CHECK(bytes.size() >= header, ErrorKind::kInvalidArgument,
           "file '{}': truncated IDX header ({} bytes, rank {} needs {})", name, bytes.size(), rank,
           header);

  Shape shape;
  // Each dimension is at most 2^32 - 1 and the rank at most 8, so the product is checked
  // step by step; it must equal the payload exactly before anything is allocated.
  uint64_t count = 1;
  bool overflow = false;
  for (int i = 0; i < rank; ++i) {
    uint32_t d = load_be32(p + 4 + 4 * i);
    shape.push_back(static_cast<int64_t>(d));
    overflow = overflow || __builtin_mul_overflow(count, uint64_t{d}, &count);
  }
  uint64_t expected = 0;
  overflow = overflow || __builtin_mul_overflow(count, uint64_t{type->size}, &expected);
  size_t payload = bytes.size() - header;
  TS_CHECK(!overflow && expected == payload, ErrorKind::kInvalidArgument,
           "file '{}': expected {} bytes of data after the header (shape {}, {}), found {}", name,
           overflow ? std::string("more than 2^64") : std::to_string(expected), shape.str(),
           type->name, payload);

  DType dtype = (type->code == 0x08 && normalize) ? kF32 : type->dtype;
  Tensor t = Tensor::zeros(dtype, shape);
  const unsigned char* src = p + header;
  int64_t n = static_cast<int64_t>(count);
  switch (type->code) {
    case 0x08:
      if (normalize) {
        float* dst = t.data<float>();
        convert_parallel(n, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) dst[i] = static_cast<float>(src[i]) * (1.0f / 255.0f);
        });
      } else {
        int32_t* dst = t.data<int32_t>();
        convert_parallel(n, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) dst[i] = src[i];
        });
      }
      break;
    case 0x09:
      std::memcpy(t.raw_data(), src, static_cast<size_t>(n));
      break;
    case 0x0B: {
      int32_t* dst = t.data<int32_t>();
      for (int64_t i = 0; i < n; ++i) {
        dst[i] = static_cast<int16_t>(static_cast<uint16_t>((src[2 * i] << 8) | src[2 * i + 1]));
      }
      break;
    }
    case 0x0C:
    case 0x0D: {
      // Both are 32-bit words; f32 bits are reinterpreted through memcpy.
      char* dst = static_cast<char*>(t.raw_data());
      convert_parallel(n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          uint32_t w = load_be32(src + 4 * i);
          std::memcpy(dst + 4 * i, &w, 4);
        }
      });
      break;
    }
    case 0x0E: {
      float* dst = t.data<float>();
      for (int64_t i = 0; i < n; ++i) {
        uint64_t w = (uint64_t{load_be32(src + 8 * i)} << 32) | load_be32(src + 8 * i + 4);
        double v;
        std::memcpy(&v, &w, 8);
        dst[i] = static_cast<float>(v);
      }
      break;
    }
    default:
      TS_ASSERT(false);
  }
  return t;
}

}  // namespace data_internal

Tensor read_idx(const std::string& path, bool normalize) {
  std::string bytes = data_internal::read_file_bytes(path);
  if (data_internal::is_gzip(bytes)) bytes = data_internal::gunzip(bytes, path);
  return data_internal::parse_idx(bytes, path, normalize);
}

std::string default_fashion_mnist_dir() {
  const char* root = std::getenv("TESSERA_DATA_DIR");
  if (root != nullptr && root[0] != '\0') return std::string(root) + "/fashion-mnist";
  return "/usr/share/datasets/fashion-mnist";
}

Dataset load_fashion_mnist(const std::string& split, const std::string& dir) {
  namespace fs = std::filesystem;
  TS_CHECK(split == "train" || split == "test", ErrorKind::kInvalidArgument,
           "Fashion-MNIST split '{}' does not exist (expected 'train' or 'test')", split);
  std::string root = dir.empty() ? default_fashion_mnist_dir() : dir;
  std::string prefix = split == "train" ? "train" : "t10k";
  // Debian ships the gzip files; an unpacked copy is accepted too.
  auto locate = [&](const std::string& base) {
    std::string gz = root + "/" + base + ".gz";
    std::error_code ec;
    if (fs::exists(gz, ec)) return gz;
    if (fs::exists(root + "/" + base, ec)) return root + "/" + base;
    throw_error(ErrorKind::kNotFound,
                fmt::format("Fashion-MNIST file '{}' not found; install it with `apt-get "
                            "install dataset-fashion-mnist`, or set TESSERA_DATA_DIR to a "
                            "directory holding fashion-mnist/",
                            gz));
  };
  std::string images_path = locate(prefix + "-images-idx3-ubyte");
  std::string labels_path = locate(prefix + "-labels-idx1-ubyte");

  Dataset d;
  d.name = "fashion-mnist/" + split;
  d.x = read_idx(images_path, /*normalize=*/true);
  TS_CHECK(d.x.rank() == 3 && d.x.shape()[1] == 28 && d.x.shape()[2] == 28 && d.x.dtype() == kF32,
           ErrorKind::kInvalidArgument,
           "file '{}': expected u8 images of shape [n, 28, 28], found {} of shape {}", images_path,
           d.x.dtype().name(), d.x.shape().str());
  d.y = read_idx(labels_path);
  TS_CHECK(d.y.rank() == 1 && d.y.dtype() == kI32, ErrorKind::kInvalidArgument,
           "file '{}': expected u8 labels of shape [n], found {} of shape {}", labels_path,
           d.y.dtype().name(), d.y.shape().str());
  TS_CHECK(d.y.shape()[0] == d.x.shape()[0], ErrorKind::kInvalidArgument,
           "Fashion-MNIST {}: '{}' holds {} images but '{}' holds {} labels", split, images_path,
           d.x.shape()[0], labels_path, d.y.shape()[0]);
  const int32_t* labels = d.y.data<int32_t>();
  for (int64_t i = 0; i < d.y.shape()[0]; ++i) {
    TS_CHECK(labels[i] >= 0 && labels[i] < 10, ErrorKind::kInvalidArgument,
             "file '{}': label {} of record {} is out of range (expected 0 to 9)", labels_path,
             labels[i], i);
  }
  return d;
}

}  // namespace tessera
