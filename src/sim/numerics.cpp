// TargetNumerics: names and parsing; bf16 rounding and int8 quantization through the dtype
// table (no conversion routine of our own).
#include "tessera/sim/numerics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tessera/core/dtype.h"
#include "tessera/core/error.h"
#include "tessera/core/thread_pool.h"

namespace tessera::sim {

std::string TargetNumerics::str() const {
  switch (mode) {
    case NumericsMode::kF32:
      return "f32";
    case NumericsMode::kBF16:
      return fold_rows > 0 ? fmt::format("bf16 fold {}", fold_rows) : "bf16";
    case NumericsMode::kInt8:
      return per_channel ? "int8 per-channel" : "int8 per-tensor";
  }
  return "?";
}

TargetNumerics parse_numerics(std::string_view text, std::string_view where) {
  TargetNumerics t;
  if (text == "f32") {
    t.mode = NumericsMode::kF32;
  } else if (text == "bf16") {
    t.mode = NumericsMode::kBF16;
  } else if (text == "int8" || text == "int8-per-channel") {
    t.mode = NumericsMode::kInt8;
  } else if (text == "int8-per-tensor") {
    t.mode = NumericsMode::kInt8;
    t.per_channel = false;
  } else {
    throw_error(ErrorKind::kInvalidArgument,
                fmt::format("{}: unknown numerics '{}' (expected f32, bf16, int8, "
                            "int8-per-channel or int8-per-tensor)",
                            where, text));
  }
  return t;
}

void round_to_bf16(const float* x, float* out, int64_t n) {
  // In chunks, so that a large tensor needs no second full-size buffer.
  constexpr int64_t kChunk = 4096;
  uint16_t bits[kChunk];
  for (int64_t i = 0; i < n; i += kChunk) {
    const size_t len = static_cast<size_t>(std::min(kChunk, n - i));
    convert(x + i, kF32, bits, kBF16, len);
    convert(bits, kBF16, out + i, kF32, len);
  }
}

float int8_scale(float max_abs, std::string_view what) {
  TS_CHECK(std::isfinite(max_abs) && max_abs >= 0, ErrorKind::kInvalidArgument,
           "{}: int8 quantization needs finite values, got a largest magnitude of {}", what,
           max_abs);
  if (max_abs == 0) return 1.0f;
  return max_abs / 127.0f;
}

namespace {
// fixed<8,8> is an integer in one signed byte; rnd_conv rounds half to even and sat_sym
// clamps to [-127, 127] (NaN gives 0): exactly the int8 rule, from the dtype table.
DType int8_symmetric() {
  return DType::fixed(8, 8, true, Rounding::kHalfEven, Overflow::kSymmetricSaturate);
}
}  // namespace

void quantize_int8(const float* x, int64_t n, float scale, int8_t* q) {
  quantize_int8_per_channel(x, 1, 1, n, &scale, q);
}

void quantize_int8_per_channel(const float* x, int64_t outer, int64_t channels, int64_t inner,
                               const float* scales, int8_t* q) {
  static const DType kQ8 = int8_symmetric();
  // The ratios x / s in chunks, each chunk converted in one bulk call; chunks in parallel
  // (each element's result depends on that element alone).
  constexpr int64_t kChunk = 4096;
  const int64_t n = outer * channels * inner;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  default_thread_pool().parallel_for(chunks, 4, [&](int64_t c0, int64_t c1) {
    float ratio[kChunk];
    for (int64_t i = c0 * kChunk; i < std::min(n, c1 * kChunk); i += kChunk) {
      const int64_t len = std::min(kChunk, n - i);
      for (int64_t j = 0; j < len; ++j) ratio[j] = x[i + j] / scales[((i + j) / inner) % channels];
      convert(ratio, kF32, q + i, kQ8, static_cast<size_t>(len));
    }
  });
}

}  // namespace tessera::sim
