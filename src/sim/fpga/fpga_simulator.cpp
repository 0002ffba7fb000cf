// The FPGA simulator: the architecture model's estimate as a SimReport.
#include "tessera/sim/fpga/fpga_simulator.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "tessera/core/error.h"

namespace tessera::sim {
namespace {

const char* io_name(IoType io) { return io == IoType::kStream ? "io_stream" : "io_parallel"; }

// The unit a stage's work runs on, for the report's table.
const char* stage_unit(const LayerEstimate& e) {
  if (e.multipliers > 0) return e.dsp_multipliers > 0 ? "dsp" : "lut";
  return e.kind == FixedLayerKind::kFlatten ? "wires" : "logic";
}

}  // namespace

FpgaSimulator::FpgaSimulator(FpgaDevice device, double clock_hz, IoType io, FpgaCostModel model)
    : device_(std::move(device)),
      clock_hz_(clock_hz > 0 ? clock_hz : device_.typical_clock_hz),
      io_(io),
      model_(model) {
  TS_CHECK(clock_hz_ > 0, ErrorKind::kInvalidArgument, "fpga device '{}': clock {} Hz must be > 0",
           device_.name, clock_hz_);
}

bool FpgaSimulator::supports(const WorkOp& op, std::string* reason) const {
  if (reason)
    *reason = fmt::format(
        "the FPGA target costs a fixed-point dataflow network built from the model's graph, not "
        "workload op '{}'",
        op.name);
  return false;
}

SimReport FpgaSimulator::simulate(const Workload& w) const {
  throw Error(ErrorKind::kUnsupported,
              fmt::format("fpga '{}': cannot simulate workload '{}' op by op; the FPGA target "
                          "builds its fixed-point dataflow network from the model's graph "
                          "(simulate_graph) or takes a FixedNetwork (simulate_network)",
                          device_.name, w.name));
}

NetworkEstimate FpgaSimulator::estimate(const FixedNetwork& net) const {
  return estimate_network(net, device_, clock_hz_, model_);
}

SimReport FpgaSimulator::simulate_network(const FixedNetwork& net, int64_t batch) const {
  TS_CHECK(batch >= 1, ErrorKind::kInvalidArgument, "fpga network '{}': batch {} must be >= 1",
           net.name, batch);
  const NetworkEstimate e = estimate(net);
  const double B = static_cast<double>(batch);
  const int64_t total_cycles = e.cycles_for_batch(batch);
  const double total_s = static_cast<double>(total_cycles) / clock_hz_;

  SimReport rep;
  rep.target = "fpga";
  rep.config = device_.name;
  rep.model = net.name;
  rep.batch = batch;
  rep.clock_hz = clock_hz_;
  int64_t multipliers = 0;
  for (const LayerEstimate& l : e.layers) multipliers += l.multipliers;
  rep.peak_flops = 2.0 * static_cast<double>(multipliers) * clock_hz_;
  rep.dram_bandwidth = 0;  // everything stays on chip

  // The first stage with the largest II paces the stream and carries its extra cycles.
  size_t bottleneck = 0;
  for (size_t i = 0; i < e.layers.size(); ++i)
    if (e.layers[i].ii_cycles > e.layers[bottleneck].ii_cycles) bottleneck = i;

  for (size_t i = 0; i < e.layers.size(); ++i) {
    const LayerEstimate& l = e.layers[i];
    const FixedLayer& fl = net.layers[i];
    OpReport op;
    op.name = l.name;
    op.layer = l.name;
    op.op = fixed_layer_kind_name(l.kind);
    op.unit = stage_unit(l);
    op.cycles = static_cast<double>(l.latency_cycles);
    if (i == bottleneck) op.cycles += static_cast<double>((batch - 1) * e.ii_cycles);
    op.seconds = op.cycles / clock_hz_;
    op.macs = B * static_cast<double>(l.multiplications);
    op.flops = l.multiplications > 0 ? 2.0 * op.macs : B * static_cast<double>(fl.outputs());
    // Multipliers busy over the whole run (every stage works while the stream flows).
    if (l.multipliers > 0 && total_cycles > 0)
      op.utilization =
          op.macs / (static_cast<double>(l.multipliers) * static_cast<double>(total_cycles));
    op.mapping_efficiency = l.multipliers > 0 ? 1.0 : 0.0;
    MemoryTraffic regs{"registers", B * static_cast<double>(l.input_bits) / 8.0,
                       B * static_cast<double>(l.output_bits) / 8.0};
    MemoryTraffic bram{"bram", 0, 0};
    const double rom_bytes = B * static_cast<double>(l.rom_reads * l.rom_word_bits) / 8.0;
    if (l.res.bram > 0 || l.res.uram > 0) {
      bram.read_bytes += rom_bytes;
      if (l.rom_word_bits == 0) {  // a line buffer: every pixel written once, read per row
        bram.write_bytes += B * static_cast<double>(l.input_bits) / 8.0;
        bram.read_bytes += B * static_cast<double>(l.input_bits * (fl.kernel_h - 1)) / 8.0;
      }
    } else {
      regs.read_bytes += rom_bytes;  // a distributed ROM in LUTs
    }
    op.traffic = {regs};
    if (bram.read_bytes > 0 || bram.write_bytes > 0) op.traffic.push_back(bram);
    // Static power over the stage's share of the time; its logic toggles all run long.
    op.energy_j = device_.static_power_w * op.seconds + l.dynamic_power_w * total_s;
    rep.ops.push_back(std::move(op));
  }
  rep.finalize();

  const auto pct = [](const ResourceFit& f) { return 100.0 * f.fraction(); };
  for (const ResourceFit& f : e.fit) {
    rep.figures[f.resource] = static_cast<double>(f.used);
    rep.figures[f.resource + "_available"] = static_cast<double>(f.available);
    if (f.available > 0) rep.figures[f.resource + "_pct"] = pct(f);
  }
  rep.figures["multipliers"] = static_cast<double>(multipliers);
  rep.figures["power_w"] = e.power_w;
  rep.figures["static_power_w"] = e.static_power_w;
  rep.figures["dynamic_power_w"] = e.dynamic_power_w;
  rep.figures["fits"] = e.fits ? 1.0 : 0.0;
  rep.figures["latency_cycles"] = static_cast<double>(e.latency_cycles);
  rep.figures["ii_cycles"] = static_cast<double>(e.ii_cycles);
  rep.figures["latency_s"] = e.latency_s;
  rep.figures["throughput_per_s"] = e.throughput_per_s;
  rep.figures["clock_mhz"] = clock_hz_ / 1e6;

  rep.notes.push_back(fmt::format(
      "{} at {:.0f} MHz, {}: latency {} cycles ({:.3g} us), II {} cycles, {:.4g} samples/s; "
      "{} samples streamed take latency + (batch - 1) x II = {} cycles",
      device_.part, clock_hz_ / 1e6, io_name(net.io), e.latency_cycles, e.latency_s * 1e6,
      e.ii_cycles, e.throughput_per_s, batch, total_cycles));
  rep.notes.push_back(fmt::format(
      "resources: {} LUT, {} FF, {} DSP, {} BRAM, {} URAM; power {:.3f} W ({:.3f} static + "
      "{:.3f} dynamic at {:.1f}% toggle)",
      e.total.lut, e.total.ff, e.total.dsp, e.total.bram, e.total.uram, e.power_w, e.static_power_w,
      e.dynamic_power_w, 100.0 * model_.toggle_rate));
  if (!e.fits)
    rep.notes.push_back(
        fmt::format("DOES NOT FIT {}: {}", device_.name, fmt::join(e.overflows, "; ")));
  if (batch > 1)
    rep.notes.push_back(
        fmt::format("stage '{}' (II {}) paces the stream and carries its {} extra "
                    "cycles in the per-layer table",
                    e.layers[bottleneck].name, e.ii_cycles, (batch - 1) * e.ii_cycles));
  return rep;
}

void FpgaSimulator::set_config(FpgaConfig config, Tensor calibration) {
  config_ = std::move(config);
  calibration_ = std::move(calibration);
}

SimReport FpgaSimulator::simulate_graph(const Graph& g, int64_t batch,
                                        const std::string& name) const {
  FixedNetwork net =
      build_fixed_network(g, config_, calibration_.defined() ? &calibration_ : nullptr);
  if (!name.empty()) net.name = name;
  SimReport r = simulate_network(net, batch);
  for (const std::string& n : net.notes) r.notes.push_back(n);
  return r;
}

std::unique_ptr<FpgaSimulator> make_fpga_simulator(std::string_view spec) {
  const bool yaml = spec.ends_with(".yaml") || spec.ends_with(".yml");
  if (!yaml) {
    auto sim = std::make_unique<FpgaSimulator>(fpga_device(spec.empty() ? "xc7z020" : spec));
    FpgaConfig c;
    c.clock_period_ns = 1e9 / sim->clock_hz();
    sim->set_config(std::move(c));
    return sim;
  }
  FpgaConfig c = load_fpga_config(std::string(spec));
  auto sim = std::make_unique<FpgaSimulator>(fpga_device(c.device.empty() ? "xc7z020" : c.device),
                                             1e9 / c.clock_period_ns, c.io);
  sim->set_config(std::move(c));
  return sim;
}

}  // namespace tessera::sim
