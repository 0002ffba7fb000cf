// libFuzzer target for the IDX reader (gzip or raw). Any input must either parse into a
// tensor whose size matches its shape, or throw tessera::Error; a crash, a sanitizer report
// or any other exception is a bug.
//
//   cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DTESSERA_FUZZ=ON \
//         -DTESSERA_BUILD_BENCH=OFF
//   ninja -C build-fuzz idx_fuzz
//   build-fuzz/tests/idx_fuzz tests/fuzz/corpus/idx -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "formats.h"
#include "tessera/core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  const std::string name = "fuzz.idx";
  for (bool normalize : {false, true}) {
    try {
      std::string raw = tessera::data_internal::is_gzip(bytes)
                            ? tessera::data_internal::gunzip(bytes, name)
                            : bytes;
      tessera::Tensor t = tessera::data_internal::parse_idx(raw, name, normalize);
      // The header's rank and the payload bound what can come out.
      if (t.rank() != static_cast<uint8_t>(raw[3]) || static_cast<size_t>(t.numel()) > raw.size()) {
        std::abort();
      }
    } catch (const tessera::Error&) {
      // Rejected input: the expected outcome for most of what the fuzzer makes.
    }
  }
  return 0;
}
