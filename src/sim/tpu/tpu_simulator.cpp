// The TPU simulator: matrix units through the systolic engines, a vector unit, DMA.
#include "tessera/sim/tpu/tpu_simulator.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "tessera/core/error.h"
#include "tessera/ir/op_table.h"
#include "tessera/sim/roofline.h"

namespace tessera::sim {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

GemmStats run_engine(const GemmShape& g, const SystolicArray& a, Fidelity f) {
  return f == Fidelity::kCycle ? simulate_gemm(g, a) : estimate_gemm(g, a);
}

}  // namespace

const char* mxu_split_name(MxuSplit s) {
  switch (s) {
    case MxuSplit::kBatch: return "batch";
    case MxuSplit::kRows: return "m";
    case MxuSplit::kColumns: return "n";
  }
  return "?";
}

TpuSimulator::TpuSimulator(TpuConfig config) : config_(std::move(config)) {
  config_.validate(config_.name);
}

bool TpuSimulator::supports(const WorkOp& op, std::string* reason) const {
  if (!config_.training && (op.phase == Phase::kBackward || op.phase == Phase::kUpdate)) {
    if (reason)
      *reason = fmt::format("{} runs inference only: no backward pass or optimizer update",
                            config_.name);
    return false;
  }
  return true;
}

MxuMapping TpuSimulator::map_gemm(const GemmShape& gemm, Fidelity fidelity) const {
  const int64_t units = config_.matrix_units;
  SystolicArray array = config_.array;
  auto candidate = [&](MxuSplit split) {
    MxuMapping m;
    m.split = split;
    GemmShape g{.batch = 1, .m = gemm.m, .n = gemm.n, .k = gemm.k};
    switch (split) {
      case MxuSplit::kBatch:
        m.units_used = std::min(units, gemm.batch);
        m.repeats = ceil_div(gemm.batch, m.units_used);
        break;
      case MxuSplit::kRows:
        m.units_used = std::min(units, gemm.m);
        g.m = ceil_div(gemm.m, m.units_used);
        m.repeats = gemm.batch;
        break;
      case MxuSplit::kColumns:
        m.units_used = std::min(units, gemm.n);
        g.n = ceil_div(gemm.n, m.units_used);
        m.repeats = gemm.batch;
        break;
    }
    m.per_unit = g;
    return m;
  };
  // The units share the DRAM link.
  auto with_bandwidth = [&](int64_t used) {
    SystolicArray a = array;
    a.dram_words_per_cycle = config_.dram_bandwidth / config_.clock_hz /
                             static_cast<double>(a.operand_bytes) / static_cast<double>(used);
    return a;
  };
  MxuMapping best;
  double best_cycles = -1;
  for (MxuSplit s : {MxuSplit::kBatch, MxuSplit::kRows, MxuSplit::kColumns}) {
    if (s == MxuSplit::kBatch && gemm.batch == 1 && units > 1) continue;
    MxuMapping m = candidate(s);
    GemmStats est = estimate_gemm(m.per_unit, with_bandwidth(m.units_used));
    double cycles = static_cast<double>(est.total_cycles()) * static_cast<double>(m.repeats);
    if (best_cycles < 0 || cycles < best_cycles) {
      best = m;
      best.stats = est;
      best_cycles = cycles;
    }
  }
  if (fidelity == Fidelity::kCycle)
    best.stats = run_engine(best.per_unit, with_bandwidth(best.units_used), fidelity);
  return best;
}

void TpuSimulator::finish_op(OpReport& r, double dram_bytes) const {
  r.seconds = r.cycles / config_.clock_hz;
  r.energy_j += config_.static_power_w * r.seconds;
  place_on_roofline(r, dram_bytes, config_.peak_flops(), config_.dram_bandwidth);
}

OpReport TpuSimulator::gemm_op(const WorkOp& op) const {
  OpReport r;
  r.unit = "mxu";
  MxuMapping m = map_gemm(op.gemm, config_.fidelity);
  const double n = static_cast<double>(m.units_used * m.repeats);  // unit-GEMMs in total
  const double reps = static_cast<double>(m.repeats);
  const GemmStats& s = m.stats;
  r.cycles = static_cast<double>(s.total_cycles()) * reps;
  r.stall_cycles = static_cast<double>(s.stall_cycles) * reps;
  r.macs = static_cast<double>(op.macs());
  r.flops = 2.0 * r.macs;
  r.utilization = r.cycles > 0 ? r.macs / (r.cycles * config_.peak_macs_per_cycle()) : 0.0;
  r.mapping_efficiency = s.mapping_efficiency;
  const double in_b = static_cast<double>(config_.array.operand_bytes);
  const double out_b = static_cast<double>(config_.array.accumulator_bytes);
  MemoryTraffic dram{"dram",
                     n * in_b * static_cast<double>(s.ifmap_dram_reads + s.filter_dram_reads),
                     n * out_b * static_cast<double>(s.ofmap_dram_writes)};
  MemoryTraffic ifmap{"ifmap_sram", n * in_b * static_cast<double>(s.ifmap_sram_reads), 0};
  MemoryTraffic filter{"filter_sram", n * in_b * static_cast<double>(s.filter_sram_reads), 0};
  MemoryTraffic ofmap{"ofmap_sram", 0, n * out_b * static_cast<double>(s.ofmap_sram_writes)};
  r.traffic = {dram, ifmap, filter, ofmap};
  const double sram_bytes = ifmap.read_bytes + filter.read_bytes + ofmap.write_bytes;
  const double dram_bytes = dram.read_bytes + dram.write_bytes;
  r.energy_j = (r.macs * config_.mac_pj + sram_bytes * config_.sram_byte_pj +
                dram_bytes * config_.dram_byte_pj) *
               1e-12;
  finish_op(r, dram_bytes);
  return r;
}

OpReport TpuSimulator::vector_op(const WorkOp& op) const {
  OpReport r;
  r.unit = "vector";
  // One transcendental per element costs `transcendental_cycles` lane-cycles.
  double ops = op.vector_ops;
  if (op.vector == VectorKind::kTranscendental || op.vector == VectorKind::kSoftmax)
    ops += (config_.transcendental_cycles - 1) * static_cast<double>(op.elements);
  const double compute = std::ceil(std::max(ops, 1.0) / static_cast<double>(config_.vector_lanes));
  const double bytes = op.bytes_read + op.bytes_written;
  r.flops = op.vector_ops;
  double dram_bytes = 0;
  if (bytes <= static_cast<double>(config_.vector_memory_bytes)) {
    r.cycles = compute;
    r.traffic = {{"vmem", op.bytes_read, op.bytes_written}};
  } else {
    // Does not fit on chip: streamed from and to DRAM, overlapped with the arithmetic.
    double memory = std::ceil(bytes / (config_.dram_bandwidth / config_.clock_hz));
    r.cycles = std::max(compute, memory);
    r.stall_cycles = r.cycles - compute;
    r.traffic = {{"dram", op.bytes_read, op.bytes_written}};
    dram_bytes = bytes;
  }
  r.energy_j = (op.vector_ops * config_.vector_op_pj + dram_bytes * config_.dram_byte_pj +
                (bytes - dram_bytes) * config_.sram_byte_pj) *
               1e-12;
  finish_op(r, dram_bytes);
  return r;
}

OpReport TpuSimulator::memory_op(const WorkOp& op) const {
  OpReport r;
  r.unit = "dma";
  const double bytes = op.bytes_read + op.bytes_written;
  double dram_bytes = 0;
  if (bytes <= static_cast<double>(config_.vector_memory_bytes)) {
    // On chip: the vector unit moves one f32 per lane per cycle.
    r.cycles = std::ceil(bytes / (4.0 * static_cast<double>(config_.vector_lanes)));
    r.traffic = {{"vmem", op.bytes_read, op.bytes_written}};
  } else {
    r.cycles = std::ceil(bytes / (config_.dram_bandwidth / config_.clock_hz));
    r.stall_cycles = r.cycles;
    r.traffic = {{"dram", op.bytes_read, op.bytes_written}};
    dram_bytes = bytes;
  }
  r.energy_j = (dram_bytes * config_.dram_byte_pj + (bytes - dram_bytes) * config_.sram_byte_pj) *
               1e-12;
  finish_op(r, dram_bytes);
  return r;
}

OpReport TpuSimulator::simulate_op(const WorkOp& op) const {
  std::string reason;
  if (!supports(op, &reason))
    throw Error(ErrorKind::kUnsupported,
                fmt::format("tpu '{}': cannot run node '{}' ({}, {}): {}", config_.name, op.name,
                            op_name(op.op), phase_name(op.phase), reason));
  OpReport r;
  switch (op.kind) {
    case WorkKind::kGemm: r = gemm_op(op); break;
    case WorkKind::kVector: r = vector_op(op); break;
    case WorkKind::kMemory: r = memory_op(op); break;
    case WorkKind::kNone: break;
  }
  r.name = op.name;
  r.layer = op.layer;
  r.phase = op.phase;
  r.op = op_name(op.op);
  return r;
}

SimReport TpuSimulator::simulate(const Workload& w) const {
  SimReport rep;
  rep.target = "tpu";
  rep.config = config_.name;
  rep.model = w.name;
  rep.training = w.training;
  rep.batch = w.batch;
  rep.clock_hz = config_.clock_hz;
  rep.peak_flops = config_.peak_flops();
  rep.dram_bandwidth = config_.dram_bandwidth;
  for (const WorkOp& op : w.ops) {
    if (op.kind == WorkKind::kNone) continue;
    rep.ops.push_back(simulate_op(op));
  }
  rep.finalize();
  rep.figures["matrix_units"] = static_cast<double>(config_.matrix_units);
  rep.figures["array_rows"] = static_cast<double>(config_.array.rows);
  rep.figures["array_cols"] = static_cast<double>(config_.array.cols);
  if (rep.seconds > 0) rep.figures["power_w"] = rep.energy_j / rep.seconds;
  rep.notes.push_back(fmt::format(
      "{} MXU(s) of {}x{} {} ({}) at {:.0f} MHz, {} {:.1f} GB/s; {} engine",
      config_.matrix_units, config_.array.rows, config_.array.cols,
      dataflow_name(config_.array.dataflow), config_.numerics, config_.clock_hz / 1e6,
      config_.dram_name, config_.dram_bandwidth / 1e9, fidelity_name(config_.fidelity)));
  rep.notes.push_back(
      "every matrix op reads its operands from DRAM once and writes its result back (SCALE-Sim's "
      "convention); vector work stays on chip when its data fits in vector memory");
  return rep;
}

TpuConfig tpu_config_from_scalesim(const ScaleSimConfig& cfg, const std::string& source) {
  TpuConfig c = tpu_preset("tpu-v4");
  c.name = cfg.run_name;
  c.source = source;
  c.matrix_units = 1;
  c.array = cfg.array;
  c.numerics = "int8";
  c.array.operand_bytes = 1;
  c.array.accumulator_bytes = 4;
  c.clock_hz = 1e9;
  c.dram_name = "dram";
  c.dram_bandwidth = cfg.user_bandwidth ? cfg.array.dram_words_per_cycle * c.clock_hz : 1e15;
  c.static_power_w = 0;
  return c;
}

TpuConfig load_tpu_target(std::string_view spec) {
  if (spec.empty()) return tpu_preset("tpu-v4");
  if (spec.ends_with(".cfg"))
    return tpu_config_from_scalesim(read_scalesim_config(std::string(spec)), std::string(spec));
  if (spec.ends_with(".yaml") || spec.ends_with(".yml"))
    return load_tpu_config(std::string(spec));
  return tpu_preset(spec);
}

std::unique_ptr<TpuSimulator> make_tpu_simulator(std::string_view spec) {
  return std::make_unique<TpuSimulator>(load_tpu_target(spec));
}

}  // namespace tessera::sim
