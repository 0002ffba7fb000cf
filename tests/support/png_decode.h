// Decoding the PNG screenshots a headless browser returns, so tests can check pixels.
// Handles what browsers write: 8-bit RGB or RGBA, not interlaced.
//
//   tessera::test_support::Image img = tessera::test_support::decode_png(bytes);
//   auto [r, g, b] = img.rgb(x, y);
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::test_support {

struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb_data;  // width × height × 3, row-major

  std::array<uint8_t, 3> rgb(int x, int y) const {
    const size_t i = (static_cast<size_t>(y) * width + x) * 3;
    return {rgb_data[i], rgb_data[i + 1], rgb_data[i + 2]};
  }
};

// Throws std::runtime_error describing what is wrong with `png`.
Image decode_png(const std::vector<uint8_t>& png);

}  // namespace tessera::test_support
