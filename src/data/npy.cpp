// NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
// "\x93NUMPY", a version (1.0, 2.0, 3.0), a little-endian header length (u16 in v1, u32
// after), and a Python dict literal {'descr': '<f4', 'fortran_order': False,
// 'shape': (2, 3), } padded with spaces to a multiple of 64 bytes and ending in '\n'.
#include <algorithm>
#include <bit>
#include <cstring>
#include <optional>

#include "formats.h"
#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"
#include "tessera/data/loaders.h"

namespace tessera {
namespace data_internal {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the .npy reader and writer assume a little-endian host");

constexpr std::string_view kMagic = "\x93NUMPY";
// No legitimate header is anywhere near this long (numpy itself refuses > 10000 bytes by
// default); the cap keeps a corrupt length field from driving the parser.
constexpr size_t kMaxHeaderLength = size_t{1} << 20;

struct NpyType {
  const char* descr;  // without the byte-order character
  size_t size;
  DType dtype;  // what Tessera makes of it
};
constexpr NpyType kNpyTypes[] = {
    {"f4", 4, kF32}, {"f8", 8, kF32}, {"f2", 2, kF16}, {"i1", 1, kI8},   {"i2", 2, kI32},
    {"i4", 4, kI32}, {"i8", 8, kI64}, {"u1", 1, kI32}, {"b1", 1, kBool},
};

// A cursor over the header dict, which is a tiny subset of Python literal syntax.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& name) : text_(text), name_(name) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw_error(ErrorKind::kInvalidArgument,
                fmt::format("file '{}': bad .npy header at offset {}: {} (header: {})", name_, pos_,
                            what, excerpt()));
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool consume(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!consume(c)) fail(fmt::format("expected '{}'", c));
  }
  bool peek(char c) {
    skip_space();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  std::string_view string() {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
      fail("expected a quoted string");
    }
    char quote = text_[pos_++];
    size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string_view s = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }
  bool boolean() {
    skip_space();
    if (text_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (text_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail("expected True or False");
  }
  int64_t integer() {
    skip_space();
    size_t start = pos_;
    uint64_t v = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (v > (uint64_t{1} << 62)) fail("dimension too large");
      v = v * 10 + static_cast<uint64_t>(text_[pos_++] - '0');
    }
    if (pos_ == start) fail("expected a non-negative integer");
    // Python 2 era files may write 3L.
    if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;
    if (v > (uint64_t{1} << 62)) fail("dimension too large");
    return static_cast<int64_t>(v);
  }
  bool at_end() {
    skip_space();
    return pos_ == text_.size();
  }

 private:
  std::string excerpt() const {
    std::string s(text_.substr(0, 120));
    for (char& c : s) {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
    }
    return "\"" + s + (text_.size() > 120 ? "...\"" : "\"");
  }

  std::string_view text_;
  const std::string& name_;
  size_t pos_ = 0;
};

struct NpyHeader {
  const NpyType* type = nullptr;
  Shape shape;
  size_t data_offset = 0;
};

NpyHeader parse_header(std::string_view bytes, const std::string& name) {
  TS_CHECK(!bytes.empty(), ErrorKind::kInvalidArgument, "file '{}' is empty (expected .npy)", name);
  TS_CHECK(bytes.substr(0, 6) == kMagic.substr(0, std::min<size_t>(bytes.size(), 6)),
           ErrorKind::kInvalidArgument,
           "file '{}': not a .npy file (it does not start with \\x93NUMPY)", name);
  TS_CHECK(bytes.size() >= 10, ErrorKind::kInvalidArgument,
           "file '{}': truncated .npy header ({} bytes)", name, bytes.size());
  auto u8 = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
  int major = u8(6);
  TS_CHECK(major >= 1 && major <= 3, ErrorKind::kUnsupported,
           "file '{}': .npy format version {}.{} is not supported (expected 1.0, 2.0 or 3.0)", name,
           major, u8(7));
  size_t preamble = major == 1 ? 10 : 12;
  TS_CHECK(bytes.size() >= preamble, ErrorKind::kInvalidArgument,
           "file '{}': truncated .npy header ({} bytes)", name, bytes.size());
  size_t header_len =
      major == 1 ? (u8(8) | (u8(9) << 8))
                 : (u8(8) | (u8(9) << 8) | (u8(10) << 16) | (static_cast<size_t>(u8(11)) << 24));
  TS_CHECK(header_len <= kMaxHeaderLength && header_len <= bytes.size() - preamble,
           ErrorKind::kInvalidArgument,
           "file '{}': the .npy header claims {} bytes but the file has {} after the preamble",
           name, header_len, bytes.size() - preamble);

  HeaderParser hp(bytes.substr(preamble, header_len), name);
  std::optional<std::string_view> descr;
  std::optional<bool> fortran;
  std::optional<Shape> shape;
  hp.expect('{');
  while (!hp.consume('}')) {
    std::string_view key = hp.string();
    hp.expect(':');
    if (key == "descr") {
      if (hp.peek('[')) {
        throw_error(ErrorKind::kUnsupported,
                    fmt::format("file '{}': structured .npy arrays are not supported", name));
      }
      descr = hp.string();
    } else if (key == "fortran_order") {
      fortran = hp.boolean();
    } else if (key == "shape") {
      Shape s;
      hp.expect('(');
      while (!hp.consume(')')) {
        if (s.rank() == kMaxRank) {
          throw_error(
              ErrorKind::kUnsupported,
              fmt::format("file '{}': arrays of rank above {} are not supported", name, kMaxRank));
        }
        s.push_back(hp.integer());
        if (!hp.consume(',')) {
          hp.expect(')');
          break;
        }
      }
      shape = s;
    } else {
      hp.fail(fmt::format("unexpected key '{}'", key));
    }
    if (!hp.consume(',')) {
      hp.expect('}');
      break;
    }
  }
  if (!hp.at_end()) hp.fail("unexpected text after the dict");
  if (!descr || !fortran || !shape) hp.fail("'descr', 'fortran_order' and 'shape' are required");
  TS_CHECK(!*fortran, ErrorKind::kUnsupported,
           "file '{}': Fortran-order .npy arrays are not supported (save with "
           "np.ascontiguousarray)",
           name);

  NpyHeader h;
  std::string_view d = *descr;
  char order = d.empty() ? '?' : d[0];
  std::string_view code = d.empty() ? d : d.substr(1);
  for (const NpyType& t : kNpyTypes) {
    if (code == t.descr) h.type = &t;
  }
  bool order_ok = order == '<' || order == '|' || (order == '>' && h.type && h.type->size == 1);
  TS_CHECK(h.type != nullptr && order_ok, ErrorKind::kUnsupported,
           "file '{}': .npy dtype '{}' is not supported (expected little-endian f2, f4, f8, "
           "i1, i2, i4, i8, u1 or b1)",
           name, d);
  h.shape = *shape;
  h.data_offset = preamble + header_len;
  return h;
}

}  // namespace

Tensor parse_npy(std::string_view bytes, const std::string& name) {
  NpyHeader h = parse_header(bytes, name);
  uint64_t count = 1, expected = 0;
  bool overflow = false;
  for (int64_t d : h.shape) overflow = overflow || __builtin_mul_overflow(count, d, &count);
  overflow = overflow || __builtin_mul_overflow(count, uint64_t{h.type->size}, &expected);
  size_t payload = bytes.size() - h.data_offset;
  TS_CHECK(!overflow && expected == payload, ErrorKind::kInvalidArgument,
           "file '{}': expected {} bytes of data after the header (shape {}, '{}'), found {}", name,
           overflow ? std::string("more than 2^64") : std::to_string(expected), h.shape.str(),
           h.type->descr, payload);

  Tensor t = Tensor::zeros(h.type->dtype, h.shape);
  const char* src = bytes.data() + h.data_offset;
  size_t n = static_cast<size_t>(count);
  std::string_view code = h.type->descr;
  if (code == "f8") {
    float* dst = t.data<float>();
    for (size_t i = 0; i < n; ++i) {
      double v;
      std::memcpy(&v, src + 8 * i, 8);
      dst[i] = static_cast<float>(v);
    }
  } else if (code == "u1") {
    int32_t* dst = t.data<int32_t>();
    for (size_t i = 0; i < n; ++i) dst[i] = static_cast<uint8_t>(src[i]);
  } else if (code == "i2") {
    int32_t* dst = t.data<int32_t>();
    for (size_t i = 0; i < n; ++i) {
      int16_t v;
      std::memcpy(&v, src + 2 * i, 2);
      dst[i] = v;
    }
  } else if (code == "b1") {
    // numpy writes 0 or 1; anything else is normalised rather than stored as a bad bool.
    uint8_t* dst = t.data<uint8_t>();
    for (size_t i = 0; i < n; ++i) dst[i] = src[i] != 0;
  } else {
    // f4, f2, i1, i4, i8: the bytes are already in Tessera's layout.
    std::memcpy(t.raw_data(), src, expected);
  }
  return t;
}

std::string encode_npy(const Tensor& t, const std::string& name) {
  TS_CHECK(t.defined(), ErrorKind::kInvalidArgument, "cannot write '{}': the tensor is empty",
           name);
  const char* descr = nullptr;
  switch (t.dtype().id()) {
    case DTypeId::kF32:
      descr = "<f4";
      break;
    case DTypeId::kF16:
      descr = "<f2";
      break;
    case DTypeId::kI8:
      descr = "|i1";
      break;
    case DTypeId::kI32:
      descr = "<i4";
      break;
    case DTypeId::kI64:
      descr = "<i8";
      break;
    case DTypeId::kBool:
      descr = "|b1";
      break;
    case DTypeId::kBF16:
    case DTypeId::kFixed:
      throw_error(ErrorKind::kUnsupported,
                  fmt::format("cannot write '{}': .npy has no {} type; cast first, e.g. "
                              "t.to(kF32)",
                              name, t.dtype().name()));
  }
  std::string shape;
  for (int64_t d : t.shape()) shape += fmt::format("{}, ", d);
  if (t.rank() > 1) shape.resize(shape.size() - 2);  // (3,) keeps its comma, (2, 3) does not
  if (t.rank() == 1) shape.pop_back();
  std::string dict =
      fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr, shape);
  // numpy pads the preamble + header with spaces to a multiple of 64 and ends with '\n'.
  size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict.push_back('\n');

  Tensor c = t.contiguous();
  std::string out;
  out.reserve(10 + dict.size() + c.nbytes());
  out.append(kMagic);
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(dict.size() & 0xff));
  out.push_back(static_cast<char>(dict.size() >> 8));
  out.append(dict);
  out.append(static_cast<const char*>(c.raw_data()), c.nbytes());
  return out;
}

}  // namespace data_internal

Tensor read_npy(const std::string& path) {
  return data_internal::parse_npy(data_internal::read_file_bytes(path), path);
}

void write_npy(const std::string& path, const Tensor& t) {
  write_file_atomic(path, data_internal::encode_npy(t, path));
}

}  // namespace tessera
