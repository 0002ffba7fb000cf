// libFuzzer target for the byte-level text dataset. An input that starts with a 0x00 byte
// picks the options from its next two bytes (context 1..64, stride 0..71) and the rest is the
// text; otherwise the whole input is a text read with the default options (context 128), so
// the seed corpus is plain files. Any input must either give exactly the next-byte windows
// of the text, or throw tessera::Error; a crash, a sanitizer report, any other exception or
// a wrong window is a bug.
//
//   cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DTESSERA_FUZZ=ON \
//         -DTESSERA_BUILD_BENCH=OFF
//   ninja -C build-fuzz text_fuzz
//   build-fuzz/tests/text_fuzz tests/fuzz/corpus/text -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "formats.h"
#include "tessera/core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tessera::TextOptions options;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size >= 3 && data[0] == 0) {
    options.context = 1 + data[1] % 64;
    options.stride = data[2] % 72;
    text.remove_prefix(3);
  }
  try {
    tessera::Dataset d = tessera::data_internal::parse_text_bytes(text, "fuzz.txt", options);
    const int64_t context = options.context;
    const int64_t stride = options.stride == 0 ? context : options.stride;
    const auto n = static_cast<int64_t>(text.size());
    if (n <= context || d.x.shape() != tessera::Shape({(n - context - 1) / stride + 1, context}) ||
        d.y.shape() != d.x.shape()) {
      std::abort();
    }
    const int32_t* x = d.x.data<int32_t>();
    const int32_t* y = d.y.data<int32_t>();
    for (int64_t w = 0; w < d.size(); ++w) {
      for (int64_t t = 0; t < context; ++t) {
        auto byte = [&](int64_t i) { return static_cast<int32_t>(static_cast<uint8_t>(text[i])); };
        if (x[w * context + t] != byte(w * stride + t) ||
            y[w * context + t] != byte(w * stride + t + 1)) {
          std::abort();
        }
      }
    }
  } catch (const tessera::Error&) {
    // Rejected input (empty, shorter than context + 1): the expected outcome for those.
  }
  return 0;
}
