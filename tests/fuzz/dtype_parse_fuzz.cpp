// libFuzzer target for DType::parse. Any input must either parse into a type whose name()
// parses back to the same type, or throw tessera::Error; a crash, a sanitizer report or
// any other exception is a bug.
//
//   cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DTESSERA_FUZZ=ON \
//         -DTESSERA_BUILD_BENCH=OFF
//   ninja -C build-fuzz dtype_parse_fuzz
//   build-fuzz/tests/dtype_parse_fuzz tests/fuzz/corpus/dtype_parse -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tessera/core/dtype.h"
#include "tessera/core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    tessera::DType t = tessera::DType::parse(text);
    if (!(tessera::DType::parse(t.name()) == t)) std::abort();
    (void)t.size();
  } catch (const tessera::Error&) {
    // Rejected input: the expected outcome for most of what the fuzzer makes.
  }
  return 0;
}
