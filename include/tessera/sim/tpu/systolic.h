// The systolic array: cycles, utilization and memory traffic of one GEMM on a rows x cols
// grid of MACs with weight-, output- or input-stationary dataflow, double-buffered input,
// weight and output SRAMs, and a DRAM link of limited bandwidth. Two engines answer the same
// question: simulate_gemm walks every fold and tile (cycle-level, the reference) and
// estimate_gemm uses closed forms (fast; agrees on compute cycles within 1%). Conventions
// follow SCALE-Sim v2 where it has one (docs/simulators/tpu.md lists them).
//
//   SystolicArray a{.rows = 128, .cols = 128, .dataflow = Dataflow::kWeightStationary};
//   GemmStats s = simulate_gemm({.m = 1024, .n = 768, .k = 768}, a);
//   fmt::print("{} cycles, {:.1f}% utilized\n", s.total_cycles(), 100 * s.overall_utilization);
#pragma once

#include <cstdint>
#include <string_view>

#include "tessera/sim/workload.h"

namespace tessera::sim {

enum class Dataflow : uint8_t { kWeightStationary, kOutputStationary, kInputStationary };
const char* dataflow_name(Dataflow d);  // "ws", "os", "is"
// Accepts ws/os/is and weight_stationary/output_stationary/input_stationary, any case.
// Throws Error naming `where` (file and field) and the accepted names otherwise.
Dataflow parse_dataflow(std::string_view text, std::string_view where);

struct SystolicArray {
  int64_t rows = 128;  // SCALE-Sim's ArrayHeight
  int64_t cols = 128;  // SCALE-Sim's ArrayWidth
  Dataflow dataflow = Dataflow::kWeightStationary;
  // SRAM capacities in bytes; each is double-buffered (one half fills while the other is read).
  int64_t ifmap_sram_bytes = 1 << 20;
  int64_t filter_sram_bytes = 1 << 20;
  int64_t ofmap_sram_bytes = 1 << 20;
  int64_t operand_bytes = 1;      // bytes per input/weight word (int8: 1, bf16: 2)
  int64_t accumulator_bytes = 4;  // bytes per output word (int32/f32 accumulators)
  // DRAM words per cycle shared by the three streams; 0: unlimited (SCALE-Sim's CALC mode,
  // no stalls).
  double dram_words_per_cycle = 0;
  // Weight- and input-stationary folds that share output columns add their partial sums in
  // the ofmap SRAM (a TPU's accumulators), so only the last of them sends outputs to DRAM —
  // when one fold's partial sums fit in half the ofmap SRAM. false: every fold's partial
  // sums go to DRAM, as SCALE-Sim counts them.
  bool accumulate_partial_sums = false;
};

struct GemmStats {
  int64_t compute_cycles = 0;  // the array working, fill and drain included
  int64_t stall_cycles = 0;    // waiting for DRAM
  int64_t folds = 0;           // tiles of the operation mapped onto the array, one after another
  int64_t macs = 0;
  double mapping_efficiency = 0;   // PEs holding work averaged over folds, 0..1
  double compute_utilization = 0;  // MACs / (PEs x compute_cycles)
  double overall_utilization = 0;  // MACs / (PEs x total cycles)
  // Words moved (SCALE-Sim's access counts).
  int64_t ifmap_sram_reads = 0, filter_sram_reads = 0, ofmap_sram_writes = 0;
  int64_t ifmap_dram_reads = 0, filter_dram_reads = 0, ofmap_dram_writes = 0;
  int64_t total_cycles() const { return compute_cycles + stall_cycles; }
};

// The exact engine: every fold and tile, cycle by cycle where stalls depend on it.
GemmStats simulate_gemm(const GemmShape& gemm, const SystolicArray& array);
// The analytic engine: closed forms for compute cycles and traffic, a bandwidth model for
// stalls. Cost independent of the GEMM's size.
GemmStats estimate_gemm(const GemmShape& gemm, const SystolicArray& array);

}  // namespace tessera::sim
