// libFuzzer target for the simulators' config parsers: TPU YAML configs, SCALE-Sim .cfg files,
// SCALE-Sim topology .csv files, hls4ml-style FPGA configs, precision strings, and Timeloop
// v0.4 architectures, problems, mappings, Accelergy ERT / ART tables and GPU YAML configs. The
// first byte picks the parser; any text must parse or fail with a tessera::Error naming the
// file and line, never crash.
#include <cstdint>
#include <string>

#include "tessera/core/error.h"
#include "tessera/sim/fpga/fpga_config.h"
#include "tessera/sim/asic/timeloop.h"
#include "tessera/sim/fpga/precision.h"
#include "tessera/sim/gpu/gpu_config.h"
#include "tessera/sim/tpu/scalesim.h"
#include "tessera/sim/tpu/tpu_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 11) {
      case 0: tessera::sim::parse_tpu_config(text, "fuzz.yaml"); break;
      case 1: tessera::sim::parse_scalesim_config(text, "fuzz.cfg"); break;
      case 2: tessera::sim::parse_scalesim_topology(text, "fuzz.csv"); break;
      case 3: tessera::sim::parse_fpga_config(text, "fuzz_fpga.yaml"); break;
      case 4: tessera::sim::parse_precision_spec(text); break;
      case 5: tessera::sim::parse_timeloop_architecture(text, "arch.yaml"); break;
      case 6: tessera::sim::parse_timeloop_problem(text, "prob.yaml"); break;
      case 7: {
        // A mapping needs an architecture and a problem: a fixed two-level design.
        static const char* const kArch =
            "architecture:\n  version: 0.4\n  nodes:\n  - !Component\n    name: DRAM\n"
            "    class: DRAM\n    attributes: {datawidth: 8}\n  - !Container\n    name: PE\n"
            "    spatial: {meshX: 4}\n  - !Component\n    name: RF\n    class: regfile\n"
            "    attributes: {depth: 64, datawidth: 8}\n  - !Component\n    name: mac\n"
            "    class: intmac\n";
        static const char* const kProb =
            "problem:\n  shape:\n    name: Conv1D\n    dimensions: [R, P]\n"
            "    data_spaces:\n    - {name: Weights, projection: [[[R]]]}\n"
            "    - {name: Inputs, projection: [[[R], [P]]]}\n"
            "    - {name: Outputs, projection: [[[P]]], read_write: true}\n"
            "  instance: {R: 3, P: 8}\n";
        tessera::sim::TimeloopArchitecture arch =
            tessera::sim::parse_timeloop_architecture(kArch, "arch.yaml");
        tessera::sim::TimeloopProblem prob = tessera::sim::parse_timeloop_problem(kProb, "p.yaml");
        tessera::sim::parse_timeloop_mapping(text, "map.yaml", arch, prob);
        break;
      }
      case 8: {
        tessera::sim::AccelergyTables t;
        tessera::sim::parse_accelergy_ert(text, "ERT.yaml", t);
        break;
      }
      case 9: {
        tessera::sim::AccelergyTables t;
        tessera::sim::parse_accelergy_art(text, "ART.yaml", t);
        break;
      }
      default: tessera::sim::parse_gpu_config(text, "fuzz_gpu.yaml"); break;
    }
  } catch (const tessera::Error&) {
  }
  return 0;
}
