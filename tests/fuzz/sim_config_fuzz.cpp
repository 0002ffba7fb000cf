// libFuzzer target for the simulators' config parsers: TPU YAML configs, SCALE-Sim .cfg files,
// SCALE-Sim topology .csv files, hls4ml-style FPGA configs and precision strings. The first byte picks the parser; any text must parse or
// fail with a tessera::Error naming the file and line, never crash.
#include <cstdint>
#include <string>

#include "tessera/core/error.h"
#include "tessera/sim/fpga/fpga_config.h"
#include "tessera/sim/fpga/precision.h"
#include "tessera/sim/tpu/scalesim.h"
#include "tessera/sim/tpu/tpu_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 5) {
      case 0: tessera::sim::parse_tpu_config(text, "fuzz.yaml"); break;
      case 1: tessera::sim::parse_scalesim_config(text, "fuzz.cfg"); break;
      case 2: tessera::sim::parse_scalesim_topology(text, "fuzz.csv"); break;
      case 3: tessera::sim::parse_fpga_config(text, "fuzz_fpga.yaml"); break;
      default: tessera::sim::parse_precision_spec(text); break;
    }
  } catch (const tessera::Error&) {
  }
  return 0;
}
