// libFuzzer target for the simulators' config parsers: TPU YAML configs, SCALE-Sim .cfg files
// and SCALE-Sim topology .csv files. The first byte picks the parser; any text must parse or
// fail with a tessera::Error naming the file and line, never crash.
#include <cstdint>
#include <string>

#include "tessera/core/error.h"
#include "tessera/sim/tpu/scalesim.h"
#include "tessera/sim/tpu/tpu_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 3) {
      case 0: tessera::sim::parse_tpu_config(text, "fuzz.yaml"); break;
      case 1: tessera::sim::parse_scalesim_config(text, "fuzz.cfg"); break;
      default: tessera::sim::parse_scalesim_topology(text, "fuzz.csv"); break;
    }
  } catch (const tessera::Error&) {
  }
  return 0;
}
