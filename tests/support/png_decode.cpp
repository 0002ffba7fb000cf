#include "png_decode.h"

#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace tessera::test_support {

namespace {

uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

int paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

[[noreturn]] void fail(const std::string& why) { throw std::runtime_error("png: " + why); }

}  // namespace

Image decode_png(const std::vector<uint8_t>& png) {
  static constexpr uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (png.size() < 8 || std::memcmp(png.data(), kSignature, 8) != 0) fail("not a PNG file");
  Image image;
  int channels = 0;
  std::vector<uint8_t> compressed;
  size_t pos = 8;
  while (pos + 12 <= png.size()) {
    const uint32_t length = be32(&png[pos]);
    if (length > png.size() - pos - 12) fail("truncated chunk");
    const std::string type(reinterpret_cast<const char*>(&png[pos + 4]), 4);
    const uint8_t* data = &png[pos + 8];
    if (type == "IHDR") {
      if (length < 13) fail("short IHDR");
      image.width = static_cast<int>(be32(data));
      image.height = static_cast<int>(be32(data + 4));
      const int depth = data[8], colour = data[9], interlace = data[12];
      if (depth != 8 || interlace != 0 || (colour != 2 && colour != 6)) {
        fail("only 8-bit RGB/RGBA without interlacing is supported");
      }
      channels = colour == 6 ? 4 : 3;
      if (image.width <= 0 || image.height <= 0 || image.width > 20000 || image.height > 60000) {
        fail("implausible size");
      }
    } else if (type == "IDAT") {
      compressed.insert(compressed.end(), data, data + length);
    } else if (type == "IEND") {
      break;
    }
    pos += 12 + length;
  }
  if (channels == 0) fail("no IHDR");
  const size_t stride = static_cast<size_t>(image.width) * channels;
  std::vector<uint8_t> raw((stride + 1) * image.height);
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, compressed.data(), compressed.size()) != Z_OK ||
      raw_size != raw.size()) {
    fail("bad image data");
  }
  // Undo the per-row filters (PNG spec, section 9) in place.
  std::vector<uint8_t> pixels(stride * image.height);
  for (int y = 0; y < image.height; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t* in = &raw[y * (stride + 1) + 1];
    uint8_t* out = &pixels[y * stride];
    const uint8_t* up = y > 0 ? &pixels[(y - 1) * stride] : nullptr;
    for (size_t i = 0; i < stride; ++i) {
      const int a = i >= static_cast<size_t>(channels) ? out[i - channels] : 0;
      const int b = up ? up[i] : 0;
      const int c = up && i >= static_cast<size_t>(channels) ? up[i - channels] : 0;
      int v = in[i];
      switch (filter) {
        case 0: break;
        case 1: v += a; break;
        case 2: v += b; break;
        case 3: v += (a + b) / 2; break;
        case 4: v += paeth(a, b, c); break;
        default: fail("bad row filter");
      }
      out[i] = static_cast<uint8_t>(v);
    }
  }
  image.rgb_data.resize(static_cast<size_t>(image.width) * image.height * 3);
  for (size_t p = 0; p < static_cast<size_t>(image.width) * image.height; ++p) {
    std::memcpy(&image.rgb_data[p * 3], &pixels[p * channels], 3);
  }
  return image;
}

}  // namespace tessera::test_support
