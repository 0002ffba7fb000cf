// libFuzzer target for the CSV dataset reader. A first byte below 0x20 picks the options
// (header, integer labels, delimiter, label column) and the rest is the file; otherwise the
// whole input is a file read with the default options, so the seed corpus is plain CSV.
// Any input must either parse into x [n, columns - 1] and y [n], or throw tessera::Error;
// a crash, a sanitizer report or any other exception is a bug.
//
//   cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DTESSERA_FUZZ=ON \
//         -DTESSERA_BUILD_BENCH=OFF
//   ninja -C build-fuzz csv_fuzz
//   build-fuzz/tests/csv_fuzz tests/fuzz/corpus/csv -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "formats.h"
#include "tessera/core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tessera::CsvOptions options;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size > 0 && data[0] < 0x20) {
    uint8_t flags = data[0];
    options.header = flags & 1;
    options.integer_labels = flags & 2;
    constexpr char kDelimiters[] = {',', ';', '\t', '|'};
    options.delimiter = kDelimiters[(flags >> 2) & 3];
    if (flags & 16) options.label_column = (flags & 1) ? "label" : "0";
    text.remove_prefix(1);
  }
  try {
    tessera::Dataset d = tessera::data_internal::parse_csv(text, "fuzz.csv", options);
    if (d.x.rank() != 2 || d.y.rank() != 1 || d.x.shape()[0] != d.y.shape()[0] ||
        d.x.shape()[0] < 1 || d.x.shape()[1] < 1) {
      std::abort();
    }
  } catch (const tessera::Error&) {
    // Rejected input: the expected outcome for most of what the fuzzer makes.
  }
  return 0;
}
