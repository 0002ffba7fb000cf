// libFuzzer target for the NPY and NPZ readers (inputs starting with "PK" go to the NPZ
// reader). Any input must either parse, or throw tessera::Error; an array that parses must
// survive write -> read unchanged. A crash, a sanitizer report or any other exception is a
// bug.
//
//   cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DTESSERA_FUZZ=ON \
//         -DTESSERA_BUILD_BENCH=OFF
//   ninja -C build-fuzz npy_fuzz
//   build-fuzz/tests/npy_fuzz tests/fuzz/corpus/npy tests/fuzz/corpus/npz -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "formats.h"
#include "tessera/core/error.h"

namespace {

void round_trip(const tessera::Tensor& t) {
  using tessera::data_internal::encode_npy;
  using tessera::data_internal::parse_npy;
  tessera::Tensor back = parse_npy(encode_npy(t, "fuzz.npy"), "fuzz.npy");
  if (!(back.dtype() == t.dtype()) || back.shape() != t.shape() ||
      std::memcmp(back.raw_data(), t.raw_data(), t.nbytes()) != 0) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    if (bytes.substr(0, 2) == "PK") {
      for (const auto& [key, t] : tessera::data_internal::parse_npz(bytes, "fuzz.npz")) {
        round_trip(t);
      }
    } else {
      round_trip(tessera::data_internal::parse_npy(bytes, "fuzz.npy"));
    }
  } catch (const tessera::Error&) {
    // Rejected input: the expected outcome for most of what the fuzzer makes.
  }
  return 0;
}
