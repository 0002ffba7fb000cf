// The ASIC simulator: every matrix op of a Workload mapped and evaluated on the
// architecture, vector work on one lane per PE over DRAM, data movement as DRAM copies.
#include "tessera/sim/asic/asic_simulator.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "tessera/core/error.h"
#include "tessera/ir/op_table.h"
#include "tessera/sim/roofline.h"

namespace tessera::sim {
namespace {

// Mapper samples per second the time budget assumes when it sizes the sample count: the
// search stops at the deadline, so this only has to be an upper bound (measured: ~8 M
// samples/s per core on a conv layer) that keeps the per-block bookkeeping small.
constexpr double kSamplesPerSecond = 2e7;
constexpr int64_t kMaxTimedTrials = 20'000'000;

// Layers with the same shape get the same mapping; `repeat` only multiplies the counts.
using NestKey = std::array<int64_t, kNumDims + 4>;
NestKey key_of(const LoopNest& n) {
  NestKey k{};
  for (int d = 0; d < kNumDims; ++d) k[d] = n.bounds[d];
  k[kNumDims] = n.stride_p;
  k[kNumDims + 1] = n.stride_q;
  k[kNumDims + 2] = n.dilation_r;
  k[kNumDims + 3] = n.dilation_s;
  return k;
}

// Bits of one operand element as the MAC sees it; 0 for floats (quantized to the MAC).
int integer_bits(DType t) {
  if (t.id() == DTypeId::kFixed) return t.fixed_format().width;
  if (t.is_int()) return static_cast<int>(t.size() * 8);
  return 0;
}

std::string factors(const DimArray& f) {
  std::string s;
  for (int d = 0; d < kNumDims; ++d)
    if (f[d] != 1) s += fmt::format("{}{}{}", s.empty() ? "" : " ", dim_name(Dim(d)), f[d]);
  return s;
}

std::string level_name(const Architecture& a, int i) {
  return i == 0 ? std::string("dram") : a.levels[i].name;
}

}  // namespace

AsicSimulator::AsicSimulator(Architecture arch, AsicSimulatorOptions options)
    : evaluator_(std::move(arch)), options_(std::move(options)) {
  TS_CHECK(options_.time_budget_s >= 0 && std::isfinite(options_.time_budget_s),
           ErrorKind::kInvalidArgument, "asic: the time budget must be zero or more, got {} s",
           options_.time_budget_s);
}

LoopNest AsicSimulator::nest_of(const WorkOp& op) {
  TS_CHECK(op.kind == WorkKind::kGemm, ErrorKind::kInvalidArgument,
           "op '{}': only matrix work maps to the PE array", op.name);
  if (op.is_conv && op.op == OpKind::kConv2D) return loop_nest_from_conv(op.conv, op.name);
  return loop_nest_from_gemm(op.gemm, op.name);
}

bool AsicSimulator::supports(const WorkOp& op, std::string* reason) const {
  if (op.kind != WorkKind::kGemm) return true;
  const Architecture& a = arch();
  const int bits = integer_bits(op.input_dtype);
  if (bits > a.mac_bits) {
    if (reason)
      *reason = fmt::format("its {} operands are wider than the {}-bit MACs of {} (integer "
                            "products must be exact)",
                            op.input_dtype.name(), a.mac_bits, a.name);
    return false;
  }
  try {
    nest_of(op);
  } catch (const Error& e) {
    if (reason) *reason = fmt::format("not a valid loop nest: {}", e.what());
    return false;
  }
  return true;
}

AsicRun AsicSimulator::run(const Workload& w) const {
  const Architecture& a = arch();
  const int levels = a.num_levels();
  // Check everything first: an unsupported op fails before minutes of mapping.
  for (const WorkOp& op : w.ops) {
    if (op.kind == WorkKind::kNone) continue;
    std::string reason;
    if (!supports(op, &reason))
      throw Error(ErrorKind::kUnsupported,
                  fmt::format("asic '{}': cannot run node '{}' ({}, {}): {}", a.name, op.name,
                              op_name(op.op), phase_name(op.phase), reason));
  }

  // Distinct layer shapes, in order of first appearance.
  AsicRun out;
  std::map<NestKey, size_t> index;
  std::vector<size_t> layer_of_op(w.ops.size(), 0);
  for (size_t i = 0; i < w.ops.size(); ++i) {
    const WorkOp& op = w.ops[i];
    if (op.kind != WorkKind::kGemm) continue;
    LoopNest nest = nest_of(op);
    auto [it, added] = index.emplace(key_of(nest), out.layers.size());
    if (added) {
      nest.repeat = 1;
      out.layers.push_back({std::move(nest), {}, {}});
    }
    out.layers[it->second].ops.push_back(op.name);
    layer_of_op[i] = it->second;
  }

  MapperOptions mo = options_.mapper;
  if (options_.time_budget_s > 0 && !out.layers.empty()) {
    mo.time_limit_s = options_.time_budget_s / static_cast<double>(out.layers.size());
    mo.max_trials = std::clamp<int64_t>(static_cast<int64_t>(mo.time_limit_s * kSamplesPerSecond),
                                        2048, kMaxTimedTrials);
  }
  double mapper_seconds = 0;
  int64_t evaluated = 0;
  for (AsicLayer& l : out.layers) {
    l.mapper = map_layer(l.nest, evaluator_, mo);
    TS_CHECK(l.mapper.found, ErrorKind::kUnsupported,
             "asic '{}': no mapping of layer {} fits the architecture (every buffer is too "
             "small for even a one-element tile of the dataspaces it keeps)",
             a.name, l.nest.str());
    mapper_seconds += l.mapper.seconds;
    evaluated += l.mapper.evaluated;
  }

  SimReport& rep = out.report;
  rep.target = "asic";
  rep.config = a.name;
  rep.model = w.name;
  rep.training = w.training;
  rep.batch = w.batch;
  rep.clock_hz = a.clock_hz;
  const double pes = static_cast<double>(a.num_macs());
  rep.peak_flops = 2.0 * pes * a.clock_hz;
  const StorageLevel& dram = a.levels[0];
  const double dram_word_bytes = dram.word_bits / 8.0;
  // Bytes per cycle each way; 0 = unlimited.
  const double dram_read_bpc = dram.read_bandwidth * dram_word_bytes;
  const double dram_write_bpc = dram.write_bandwidth * dram_word_bytes;
  rep.dram_bandwidth = dram_read_bpc * a.clock_hz;
  const ComponentCosts& dram_cost = evaluator_.costs(0);
  const double mac_pj = evaluator_.mac_pj();
  double gemm_energy_pj = 0, gemm_macs = 0;

  // A DRAM pass moving `rd` bytes in and `wr` bytes out, overlapped with `compute` cycles.
  auto dram_pass = [&](OpReport& r, double rd, double wr, double compute, double op_pj) {
    double mem = std::max(dram_read_bpc > 0 ? rd / dram_read_bpc : 0.0,
                          dram_write_bpc > 0 ? wr / dram_write_bpc : 0.0);
    r.cycles = std::max({compute, std::ceil(mem), 1.0});
    r.stall_cycles = r.cycles - std::min(compute, r.cycles);
    r.traffic = {{"dram", rd, wr}};
    r.energy_j = (op_pj + rd / dram_word_bytes * dram_cost.read_pj +
                  wr / dram_word_bytes * dram_cost.write_pj) *
                 1e-12;
    place_on_roofline(r, rd + wr, rep.peak_flops, rep.dram_bandwidth);
  };

  for (size_t i = 0; i < w.ops.size(); ++i) {
    const WorkOp& op = w.ops[i];
    if (op.kind == WorkKind::kNone) continue;
    OpReport r;
    r.name = op.name;
    r.layer = op.layer;
    r.phase = op.phase;
    r.op = op_name(op.op);
    if (op.kind == WorkKind::kGemm) {
      const AsicLayer& l = out.layers[layer_of_op[i]];
      LoopNest nest = nest_of(op);
      AsicEvaluation e = evaluator_.evaluate(nest, l.mapper.mapping);
      r.unit = "pe_array";
      r.cycles = e.cycles;
      r.stall_cycles = e.cycles - e.compute_cycles;
      r.macs = e.macs;
      r.flops = 2.0 * e.macs;
      r.utilization = e.utilization;
      double used = 1;  // PEs given work: every spatial factor
      for (int lv = 0; lv < levels; ++lv)
        for (int d = 0; d < kNumDims; ++d)
          used *= static_cast<double>(l.mapper.mapping.levels[lv].spatial(d));
      r.mapping_efficiency = used / pes;
      r.energy_j = e.energy_pj * 1e-12;
      double dram_bytes = 0;
      for (int lv = 0; lv < levels; ++lv) {
        const AsicLevelStats& s = e.levels[lv];
        const double wb = a.levels[lv].word_bits / 8.0;
        double rd = 0, wr = 0;
        for (int ds = 0; ds < kNumDataSpaces; ++ds) {
          rd += s.reads[ds] * wb;
          wr += (s.fills[ds] + s.updates[ds]) * wb;
        }
        r.traffic.push_back({level_name(a, lv), rd, wr});
        if (lv == 0) dram_bytes = rd + wr;
      }
      place_on_roofline(r, dram_bytes, rep.peak_flops, rep.dram_bandwidth);
      gemm_energy_pj += e.energy_pj;
      gemm_macs += e.macs;
    } else if (op.kind == WorkKind::kVector) {
      // One lane per PE, one operation per lane per cycle, each at most a MAC's energy.
      r.unit = "vector";
      r.flops = op.vector_ops;
      dram_pass(r, op.bytes_read, op.bytes_written, std::ceil(std::max(op.vector_ops, 1.0) / pes),
                op.vector_ops * mac_pj);
    } else {
      r.unit = "dma";
      dram_pass(r, op.bytes_read, op.bytes_written, 0, 0);
    }
    r.seconds = r.cycles / a.clock_hz;
    rep.ops.push_back(std::move(r));
  }
  rep.finalize();

  rep.figures["pe_count"] = pes;
  rep.figures["area_mm2"] = evaluator_.area_um2() * 1e-6;
  rep.figures["clock_mhz"] = a.clock_hz / 1e6;
  rep.figures["technology_nm"] = a.technology_nm;
  if (gemm_macs > 0) rep.figures["pj_per_mac"] = gemm_energy_pj / gemm_macs;
  if (rep.seconds > 0) rep.figures["power_w"] = rep.energy_j / rep.seconds;
  rep.figures["mapped_layers"] = static_cast<double>(out.layers.size());
  rep.figures["mapper_evaluations"] = static_cast<double>(evaluated);
  rep.figures["mapper_seconds"] = mapper_seconds;

  rep.notes.push_back(fmt::format(
      "{}: {} {}-bit {} MACs at {:.0f} MHz, {} nm, {} levels ({}); mapper {}, {}", a.name,
      a.num_macs(), a.mac_bits, a.mac_float ? "float" : "integer", a.clock_hz / 1e6,
      a.technology_nm, levels,
      [&] {
        std::string s;
        for (int lv = 0; lv < levels; ++lv) s += (lv ? " > " : "") + a.levels[lv].name;
        return s;
      }(),
      mapper_objective_name(mo.objective),
      options_.time_budget_s > 0 ? fmt::format("{:g} s budget", options_.time_budget_s)
                                 : fmt::format("{} trials per layer", mo.max_trials)));
  rep.notes.push_back(
      "every layer reads its tensors from DRAM and writes its result back (Timeloop's "
      "convention); float operands are taken as quantized to the MAC precision; vector work "
      "runs on one lane per PE, streamed from and to DRAM; pj_per_mac counts the matrix work");
  for (const AsicLayer& l : out.layers)
    rep.notes.push_back(fmt::format(
        "{} x{} [{}]: {} ({:.2f} pJ/MAC, util {:.0f}%{})", l.nest.name, l.ops.size(),
        factors(l.nest.bounds), mapping_summary(l.mapper.mapping, a),
        l.mapper.evaluation.pj_per_mac(), 100 * l.mapper.evaluation.utilization,
        l.mapper.evaluation.bottleneck >= 0
            ? ", bound by " + a.levels[l.mapper.evaluation.bottleneck].name
            : ""));
  return out;
}

std::string mapping_summary(const Mapping& m, const Architecture& arch) {
  std::string s;
  for (int i = 0; i < m.num_levels; ++i) {
    const LevelMapping& l = m.levels[i];
    std::string part;
    std::string t;
    for (Dim d : l.order)  // outermost first
      if (l.temporal[dim_index(d)] != 1)
        t += fmt::format("{}{}{}", t.empty() ? "" : " ", dim_name(d), l.temporal[dim_index(d)]);
    part = t;
    std::string x = factors(l.spatial_x), y = factors(l.spatial_y);
    if (!x.empty()) part += (part.empty() ? "" : " ") + ("X[" + x + "]");
    if (!y.empty()) part += (part.empty() ? "" : " ") + ("Y[" + y + "]");
    if (part.empty()) continue;
    s += fmt::format("{}{}: {}", s.empty() ? "" : " | ",
                     i < arch.num_levels() ? arch.levels[i].name : fmt::format("level{}", i),
                     part);
  }
  return s.empty() ? "-" : s;
}

nlohmann::json asic_layers_to_json(const std::vector<AsicLayer>& layers,
                                   const Architecture& arch) {
  nlohmann::json out = nlohmann::json::array();
  for (const AsicLayer& l : layers) {
    const AsicEvaluation& e = l.mapper.evaluation;
    nlohmann::json bounds = nlohmann::json::object();
    for (int d = 0; d < kNumDims; ++d) bounds[dim_name(Dim(d))] = l.nest.bounds[d];
    out.push_back({{"name", l.nest.name},
                   {"nest", l.nest.str()},
                   {"bounds", bounds},
                   {"ops", l.ops},
                   {"mapping", mapping_summary(l.mapper.mapping, arch)},
                   {"loop_nest", l.mapper.mapping.str(arch)},
                   {"cycles", e.cycles},
                   {"energy_pj", e.energy_pj},
                   {"pj_per_mac", e.pj_per_mac()},
                   {"utilization", e.utilization},
                   {"bottleneck", e.bottleneck >= 0 ? arch.levels[e.bottleneck].name : "compute"},
                   {"exhaustive", l.mapper.exhaustive},
                   {"space_size", l.mapper.space_size},
                   {"evaluated", l.mapper.evaluated},
                   {"mapper_seconds", l.mapper.seconds}});
  }
  return out;
}

Architecture load_asic_target(std::string_view spec) {
  if (spec.empty()) return asic_preset("eyeriss");
  if (spec.ends_with(".yaml") || spec.ends_with(".yml"))
    return load_asic_architecture(std::string(spec));
  return asic_preset(spec);
}

std::unique_ptr<AsicSimulator> make_asic_simulator(std::string_view spec,
                                                   AsicSimulatorOptions options) {
  return std::make_unique<AsicSimulator>(load_asic_target(spec), std::move(options));
}

}  // namespace tessera::sim
