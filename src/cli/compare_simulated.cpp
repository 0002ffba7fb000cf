// The simulated and modelled rows of `tessera compare` / `explore` / `advise`: the TPU,
// FPGA and ASIC simulators and the GPU performance model at batch 1 (latency) and batch B
// (throughput, energy, utilization, per-layer figures), each with its accuracy in the
// target's numerics from the functional mode — the same machinery as `simulate --accuracy`.
// Explore's sweep keys are applied here as overrides of the preset or file.
#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "compare_eval.h"
#include "tessera/backends/gpu_devices.h"
#include "tessera/core/error.h"
#include "tessera/sim/asic/asic_simulator.h"
#include "tessera/sim/fpga/fpga_config.h"
#include "tessera/sim/fpga/fpga_simulator.h"
#include "tessera/sim/fpga/precision.h"
#include "tessera/sim/functional.h"
#include "tessera/sim/gpu/gpu_simulator.h"
#include "tessera/sim/tpu/tpu_simulator.h"
#include "tessera/sim/workload.h"

namespace tessera::cli {
namespace {

[[noreturn]] void bad_value(const TargetSpec& t, const std::string& key, const std::string& value,
                            const std::string& expected) {
  throw_error(ErrorKind::kInvalidArgument,
              fmt::format("{} key '{}': invalid value '{}' (expected {})", t.kind, key, value,
                          expected));
}

// A number and its unit suffix ("1.05GHz" -> 1.05, "GHz").
std::pair<double, std::string> number_unit(const std::string& text, bool* ok) {
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  *ok = ec == std::errc() && std::isfinite(v) && v > 0;
  std::string unit(p, static_cast<size_t>(text.data() + text.size() - p));
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return {v, unit};
}

double parse_hz(const TargetSpec& t, const std::string& key, const std::string& v) {
  bool ok = false;
  auto [x, unit] = number_unit(v, &ok);
  double scale = unit == "hz" || unit.empty() ? 1 : unit == "khz" ? 1e3 : unit == "mhz" ? 1e6
                                                 : unit == "ghz" ? 1e9 : -1;
  if (!ok || scale < 0 || x * scale < 1e3) bad_value(t, key, v, "a clock such as 200MHz or 1.05GHz");
  return x * scale;
}

int64_t parse_bytes(const TargetSpec& t, const std::string& key, const std::string& v) {
  bool ok = false;
  auto [x, unit] = number_unit(v, &ok);
  double scale = unit.empty() || unit == "b" ? 1 : unit == "k" || unit == "kib" || unit == "kb" ? 1024
               : unit == "m" || unit == "mib" || unit == "mb" ? 1024.0 * 1024 : -1;
  if (!ok || scale < 0 || x * scale < 1)
    bad_value(t, key, v, "a size in bytes such as 65536, 64KiB or 1MiB");
  return static_cast<int64_t>(std::llround(x * scale));
}

double parse_bandwidth(const TargetSpec& t, const std::string& key, const std::string& v) {
  bool ok = false;
  auto [x, unit] = number_unit(v, &ok);
  double scale = unit.empty() || unit == "b/s" ? 1 : unit == "gb/s" ? 1e9 : unit == "tb/s" ? 1e12
               : unit == "mb/s" ? 1e6 : -1;
  if (!ok || scale < 0) bad_value(t, key, v, "bytes/s such as 1.2e12 or 600GB/s");
  return x * scale;
}

int64_t parse_count(const TargetSpec& t, const std::string& key, const std::string& v) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < 1 || n > (int64_t{1} << 30))
    bad_value(t, key, v, "a positive integer");
  return n;
}

std::pair<int64_t, int64_t> parse_grid(const TargetSpec& t, const std::string& key,
                                       const std::string& v) {
  size_t x = v.find('x');
  if (x == std::string::npos) bad_value(t, key, v, "ROWSxCOLS such as 128x128");
  return {parse_count(t, key, v.substr(0, x)), parse_count(t, key, v.substr(x + 1))};
}

double positive(double x) { return std::isfinite(x) && x > 0 ? x : 0; }
nlohmann::json or_null(double x) {
  return positive(x) > 0 ? nlohmann::json(x) : nlohmann::json(nullptr);
}

double dram_bytes(const sim::OpReport& op) {
  for (const sim::MemoryTraffic& m : op.traffic) {
    std::string l = m.level;
    for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (l.find("dram") != std::string::npos || l.find("hbm") != std::string::npos)
      return m.read_bytes + m.write_bytes;
  }
  return op.traffic.empty() ? 0 : op.traffic.front().read_bytes + op.traffic.front().write_bytes;
}

// --- TPU ------------------------------------------------------------------------------

sim::TpuConfig tpu_config(const TargetSpec& t) {
  sim::TpuConfig c = sim::load_tpu_target(t.base);
  for (const auto& [k, v] : t.overrides) {
    if (k == "array") {
      auto [r, cols] = parse_grid(t, k, v);
      c.array.rows = r;
      c.array.cols = cols;
    } else if (k == "units") {
      c.matrix_units = parse_count(t, k, v);
    } else if (k == "sram") {
      c.array.ifmap_sram_bytes = c.array.filter_sram_bytes = c.array.ofmap_sram_bytes =
          parse_bytes(t, k, v);
    } else if (k == "ifmap_sram") {
      c.array.ifmap_sram_bytes = parse_bytes(t, k, v);
    } else if (k == "filter_sram") {
      c.array.filter_sram_bytes = parse_bytes(t, k, v);
    } else if (k == "ofmap_sram") {
      c.array.ofmap_sram_bytes = parse_bytes(t, k, v);
    } else if (k == "clock") {
      c.clock_hz = parse_hz(t, k, v);
    } else if (k == "dataflow") {
      c.array.dataflow = sim::parse_dataflow(v, "tpu key 'dataflow'");
    } else if (k == "numerics") {
      if (v != "bf16" && v != "int8") bad_value(t, k, v, "bf16 or int8");
      c.numerics = v;
      c.array.operand_bytes = v == "int8" ? 1 : 2;
    } else if (k == "bandwidth") {
      c.dram_bandwidth = parse_bandwidth(t, k, v);
    } else {
      bad_value(t, k, v, "a tpu key");
    }
  }
  if (!t.overrides.empty()) c.name += "*";
  c.validate(t.label());
  return c;
}

sim::TargetNumerics tpu_numerics(const std::string& name, const sim::TpuConfig& c) {
  sim::TargetNumerics n = sim::parse_numerics(name, "numerics");
  // bf16 partial sums are added to the accumulator once per pass down the array.
  if (n.mode == sim::NumericsMode::kBF16) n.fold_rows = c.array.rows;
  return n;
}

std::optional<sim::AccuracyReport> functional_accuracy(CompareContext& ctx,
                                                       const sim::TargetNumerics& n,
                                                       std::string* error) {
  return ctx.accuracy(
      "functional " + n.str(),
      [&] {
        return sim::measure_accuracy(*ctx.predict, n, ctx.data->calibration, ctx.data->test.x,
                                     ctx.data->test.y, 256);
      },
      error);
}

// --- FPGA -----------------------------------------------------------------------------

struct FpgaSetup {
  std::unique_ptr<sim::FpgaSimulator> simulator;
  sim::FpgaConfig config;
};

FpgaSetup fpga_setup(const TargetSpec& t) {
  std::unique_ptr<sim::FpgaSimulator> base = sim::make_fpga_simulator(t.base);
  sim::FpgaConfig config = base->config();
  sim::FpgaDevice device = base->device();
  double clock = base->clock_hz();
  for (const auto& [k, v] : t.overrides) {
    if (k == "reuse") {
      config.reuse_factor = parse_count(t, k, v);
    } else if (k == "precision") {
      try {
        config.precision = sim::parse_precision_spec(v);
      } catch (const Error& e) {
        bad_value(t, k, v, "an hls4ml precision such as ap_fixed<16,6> or auto<12>");
      }
    } else if (k == "clock") {
      clock = parse_hz(t, k, v);
      config.clock_period_ns = 1e9 / clock;
    } else if (k == "device") {
      try {
        device = sim::fpga_device(v);
      } catch (const Error&) {
        std::string names;
        for (const std::string& n : sim::fpga_device_names()) names += (names.empty() ? "" : ", ") + n;
        bad_value(t, k, v, names);
      }
      config.device = device.name;
    } else if (k == "strategy") {
      if (v != "latency" && v != "resource") bad_value(t, k, v, "latency or resource");
      config.strategy = v == "latency" ? sim::Strategy::kLatency : sim::Strategy::kResource;
    } else if (k == "io") {
      if (v != "parallel" && v != "stream") bad_value(t, k, v, "parallel or stream");
      config.io = v == "parallel" ? sim::IoType::kParallel : sim::IoType::kStream;
    } else {
      bad_value(t, k, v, "an fpga key");
    }
  }
  FpgaSetup s;
  s.simulator = std::make_unique<sim::FpgaSimulator>(device, clock, config.io, base->cost_model());
  s.simulator->set_config(config);
  s.config = std::move(config);
  return s;
}

// A network that does not fit the device at the config's reuse factors: the dense layers
// share multipliers (Resource strategy), each layer's reuse factor the smallest divisor of
// its inputs at least R, for R = 2, 4, … until the estimate fits (or R passes every layer's
// inputs). The row's notes say what was chosen.
void fit_reuse(sim::FixedNetwork& net, const sim::FpgaSimulator& simulator, nlohmann::json& row) {
  int64_t widest = 1;
  for (const sim::FixedLayer& l : net.layers)
    if (l.kind == sim::FixedLayerKind::kDense) widest = std::max(widest, l.inputs());
  for (int64_t r = 2; r <= widest; r *= 2) {
    for (sim::FixedLayer& l : net.layers) {
      if (l.kind != sim::FixedLayerKind::kDense) continue;
      int64_t d = std::min(r, l.inputs());
      while (l.inputs() % d != 0) ++d;
      l.reuse_factor = d;
      l.strategy = sim::Strategy::kResource;
    }
    if (simulator.simulate_network(net, 1).figures.at("fits") != 0) break;
  }
  std::string chosen;
  for (const sim::FixedLayer& l : net.layers)
    if (l.kind == sim::FixedLayerKind::kDense)
      chosen += fmt::format("{}{} {}", chosen.empty() ? "" : ", ", l.name, l.reuse_factor);
  bool fits = simulator.simulate_network(net, 1).figures.at("fits") != 0;
  row["notes"].push_back(fmt::format(
      "reuse factors chosen to fit {} (Resource strategy): {}{}", simulator.device().name, chosen,
      fits ? "" : "; it does not fit even so"));
}

// --- ASIC -----------------------------------------------------------------------------

sim::Architecture asic_arch(const TargetSpec& t) {
  sim::Architecture a = sim::load_asic_target(t.base);
  for (const auto& [k, v] : t.overrides) {
    if (k == "array") {
      auto [x, y] = parse_grid(t, k, v);
      int widest = 0;
      for (int i = 0; i < a.num_levels(); ++i)
        if (a.levels[i].fanout() > a.levels[widest].fanout()) widest = i;
      a.levels[widest].fanout_x = x;
      a.levels[widest].fanout_y = y;
    } else if (k == "buffer") {
      int64_t bytes = parse_bytes(t, k, v);
      bool set = false;
      for (sim::StorageLevel& l : a.levels)
        if (l.cls == sim::ComponentClass::kSram) {
          l.size_words = std::max<int64_t>(1, bytes * 8 / l.word_bits);
          set = true;
          break;
        }
      if (!set) bad_value(t, k, v, "an architecture with an SRAM level");
    } else if (k == "clock") {
      a.clock_hz = parse_hz(t, k, v);
    } else if (k == "technology") {
      bool ok = false;
      auto [nm, unit] = number_unit(v, &ok);
      if (!ok || !(unit.empty() || unit == "nm") || nm < 3 || nm > 180)
        bad_value(t, k, v, "a technology node in nm, 3 to 180");
      a.technology_nm = nm;
    } else if (k == "precision") {
      if (v != "int8" && v != "int16") bad_value(t, k, v, "int8 or int16");
      int bits = v == "int8" ? 8 : 16;
      for (sim::StorageLevel& l : a.levels)
        if (l.word_bits == a.mac_bits) {
          // Keep each buffer's bytes: narrower words, more of them.
          if (l.size_words > 0) l.size_words = l.size_words * l.word_bits / bits;
          l.word_bits = bits;
        }
      a.mac_bits = bits;
      a.mac_float = false;
    } else {
      bad_value(t, k, v, "an asic key");
    }
  }
  if (!t.overrides.empty()) a.name += "*";
  a.validate(t.label());
  return a;
}

// The accuracy in the ASIC's MAC precision: int8 MACs run the int8 functional mode; floats
// bf16 or f32; wider integer MACs the fixed-point evaluator with W-bit types whose integer
// bits are profiled on the calibration data.
void asic_accuracy(nlohmann::json& row, const sim::Architecture& a, CompareContext& ctx) {
  std::string error;
  if (a.mac_float || a.mac_bits <= 8) {
    std::string name = a.mac_float ? (a.mac_bits <= 16 ? "bf16" : "f32") : "int8";
    sim::TargetNumerics n = sim::parse_numerics(name, "numerics");
    std::optional<sim::AccuracyReport> r;
    if (ctx.data) r = functional_accuracy(ctx, n, &error);
    set_accuracy(row, r, n.str(), ctx.data ? error : ctx.data_note);
    return;
  }
  std::string spec = fmt::format("auto<{}>", a.mac_bits);
  std::string label = fmt::format("int{} (fixed point, ranges profiled)", a.mac_bits);
  std::optional<sim::AccuracyReport> r;
  if (ctx.data)
    r = ctx.accuracy(
        "fixed " + spec,
        [&] {
          sim::FpgaConfig fc;
          fc.precision = sim::parse_precision_spec(spec);
          sim::FixedNetwork net = sim::build_fixed_network(*ctx.predict, fc, &ctx.data->calibration);
          return sim::fixed_point_accuracy(*ctx.predict, net, ctx.data->test.x, ctx.data->test.y);
        },
        &error);
  set_accuracy(row, r, label, ctx.data ? error : ctx.data_note);
}

}  // namespace

nlohmann::json empty_row(const TargetSpec& t) {
  bool gpu_measured = t.kind == "gpu" && t.base.empty() && !gpu_devices().empty();
  std::string method = t.kind == "cpu" || gpu_measured ? "measured"
                       : t.kind == "gpu"               ? "modelled"
                                                       : "simulated";
  return {{"target", t.label()},
          {"kind", t.kind},
          {"method", method},
          {"device", nullptr},
          {"numerics", nullptr},
          {"accuracy", nullptr},
          {"latency_seconds", nullptr},
          {"throughput_per_second", nullptr},
          {"energy_per_inference_joules", nullptr},
          {"power_watts", nullptr},
          {"area_mm2", nullptr},
          {"fpga_resources", nullptr},
          {"utilization", nullptr},
          {"bound", nullptr},
          {"peak_ops_per_second", nullptr},
          {"memory_bandwidth_bytes_per_second", nullptr},
          {"layers", nlohmann::json::array()},
          {"accuracy_by_precision", nlohmann::json::array()},
          {"notes", nlohmann::json::array()},
          {"error", nullptr}};
}

void fill_from_reports(nlohmann::json& row, const sim::SimReport& one, const sim::SimReport& many,
                       int64_t batch) {
  const double b = static_cast<double>(batch);
  row["latency_seconds"] = or_null(one.seconds);
  row["throughput_per_second"] = many.seconds > 0 ? nlohmann::json(b / many.seconds) : nullptr;
  row["energy_per_inference_joules"] = or_null(many.energy_j / b);
  auto power = many.figures.find("power_w");
  row["power_watts"] = power != many.figures.end()
                           ? or_null(power->second)
                           : (many.seconds > 0 ? or_null(many.energy_j / many.seconds) : nullptr);
  auto area = many.figures.find("area_mm2");
  if (area != many.figures.end()) row["area_mm2"] = or_null(area->second);
  row["utilization"] = many.utilization;
  std::string bound = sim::bound_name(many.bound);
  row["bound"] = bound == "-" ? nlohmann::json(nullptr) : nlohmann::json(bound);
  row["peak_ops_per_second"] = or_null(many.peak_flops);
  row["memory_bandwidth_bytes_per_second"] = or_null(many.dram_bandwidth);
  nlohmann::json layers = nlohmann::json::array();
  // An FPGA dataflow design runs every stage at once while the batch streams through: each
  // layer is busy for the whole run, so that is its time here (the simulator's own table
  // charges the streaming to the pacing stage so that its rows add up to the total, which
  // would put the other stages far above their roofline).
  const bool dataflow = row["kind"] == "fpga";
  if (dataflow)
    row["notes"].push_back(
        "per-layer times: every stage of the dataflow pipeline is busy for the whole batch");
  for (const sim::OpReport& l : sim::layer_summary(many)) {
    std::string lb = sim::bound_name(l.bound);
    layers.push_back({{"name", l.layer.empty() ? l.name : l.layer},
                      {"seconds", dataflow && l.macs > 0 ? many.seconds : l.seconds},
                      {"macs", l.macs},
                      {"bytes", dram_bytes(l)},
                      {"energy_joules", l.energy_j},
                      {"bound", lb == "-" ? nlohmann::json(nullptr) : nlohmann::json(lb)}});
  }
  row["layers"] = layers;
  for (const std::string& n : many.notes) row["notes"].push_back(n);
}

void set_accuracy(nlohmann::json& row, const std::optional<sim::AccuracyReport>& r,
                  const std::string& numerics, const std::string& error) {
  row["numerics"] = numerics;
  if (r) {
    row["accuracy"] = r->target;
  } else {
    row["notes"].push_back("accuracy: " + (error.empty() ? std::string("not measured") : error));
  }
}

nlohmann::json simulate_tpu(const TargetSpec& t, CompareContext& ctx) {
  nlohmann::json row = empty_row(t);
  sim::TpuConfig c = tpu_config(t);
  row["device"] = fmt::format("{} ({} x {}x{} MXU, {}, {:.0f} MHz)", c.name, c.matrix_units,
                              c.array.rows, c.array.cols, c.numerics, c.clock_hz / 1e6);
  sim::TpuSimulator simulator(c);
  sim::SimReport one = simulator.simulate(sim::lower_to_workload(*ctx.predict, {.batch = 1}));
  sim::SimReport many =
      simulator.simulate(sim::lower_to_workload(*ctx.predict, {.batch = ctx.batch}));
  fill_from_reports(row, one, many, ctx.batch);
  std::string error = ctx.data_note;
  sim::TargetNumerics n = tpu_numerics(c.numerics, c);
  std::optional<sim::AccuracyReport> r;
  if (ctx.data) r = functional_accuracy(ctx, n, &error);
  set_accuracy(row, r, n.str(), error);
  if (ctx.all_precisions && ctx.data) {
    for (const std::string other : {"bf16", "int8"}) {
      if (other == c.numerics) continue;
      std::string e;
      sim::TargetNumerics o = tpu_numerics(other, c);
      std::optional<sim::AccuracyReport> ro = functional_accuracy(ctx, o, &e);
      row["accuracy_by_precision"].push_back(
          {{"numerics", o.str()}, {"accuracy", ro ? nlohmann::json(ro->target) : nullptr}});
    }
    if (std::optional<double> f32 = ctx.f32_accuracy())
      row["accuracy_by_precision"].push_back({{"numerics", "f32"}, {"accuracy", *f32}});
  }
  return row;
}

nlohmann::json simulate_fpga(const TargetSpec& t, CompareContext& ctx) {
  // A plain "fpga": the smallest preset device the network fits (reuse factors chosen).
  if (t.base.empty() && t.overrides.empty()) {
    nlohmann::json row;
    for (const char* device : {"xc7z020", "xczu9eg", "xcu250"}) {
      row = simulate_fpga({"fpga", device, {}}, ctx);
      if (!row["error"].is_null() || !row["fpga_resources"].is_object() ||
          row["fpga_resources"].value("fits", false))
        break;
    }
    row["notes"].push_back(
        "fpga: the smallest of xc7z020, xczu9eg, xcu250 the network fits (else xcu250)");
    row["target"] = t.label() + ":" + row["fpga_resources"].value("device", std::string("?"));
    return row;
  }
  nlohmann::json row = empty_row(t);
  FpgaSetup s = fpga_setup(t);
  TS_CHECK(ctx.data || !s.config.needs_calibration(), ErrorKind::kInvalidArgument,
           "{}: a profiled precision (auto<W>) needs data to calibrate on ({})", t.label(),
           ctx.data_note);
  sim::FixedNetwork net = sim::build_fixed_network(
      *ctx.predict, s.config, ctx.data ? &ctx.data->calibration : nullptr);
  net.name = ctx.source->name;
  const sim::FpgaDevice& d = s.simulator->device();
  row["device"] = fmt::format("{} at {:.0f} MHz", d.part, s.simulator->clock_hz() / 1e6);
  if (!t.overrides.count("reuse") && !t.overrides.count("strategy") &&
      s.simulator->simulate_network(net, 1).figures.at("fits") == 0)
    fit_reuse(net, *s.simulator, row);
  sim::SimReport one = s.simulator->simulate_network(net, 1);
  sim::SimReport many = s.simulator->simulate_network(net, ctx.batch);
  fill_from_reports(row, one, many, ctx.batch);
  for (const std::string& n : net.notes) row["notes"].push_back(n);
  nlohmann::json res = {{"device", d.name}};
  for (const char* r : {"lut", "ff", "dsp", "bram", "uram"}) {
    auto used = many.figures.find(r);
    if (used == many.figures.end()) continue;
    res[r] = used->second;
    auto pct = many.figures.find(std::string(r) + "_pct");
    if (pct != many.figures.end()) res[std::string(r) + "_percent"] = pct->second;
  }
  auto fits = many.figures.find("fits");
  if (fits != many.figures.end()) res["fits"] = fits->second != 0;
  row["fpga_resources"] = res;
  const std::string precision = sim::precision_spec_string(s.config.precision);
  std::string error = ctx.data_note;
  std::optional<sim::AccuracyReport> r;
  if (ctx.data)
    r = ctx.accuracy(
        "fpga " + hash_json(resolved_config(t)["precision_key"]),
        [&] {
          return sim::fixed_point_accuracy(*ctx.predict, net, ctx.data->test.x, ctx.data->test.y);
        },
        &error);
  set_accuracy(row, r, precision, error);
  return row;
}

nlohmann::json simulate_asic(const TargetSpec& t, CompareContext& ctx) {
  nlohmann::json row = empty_row(t);
  sim::Architecture a = asic_arch(t);
  row["device"] = fmt::format("{} ({} PEs, {}-bit {}, {:.0f} MHz, {:.0f} nm)", a.name,
                              a.num_macs(), a.mac_bits, a.mac_float ? "float" : "integer",
                              a.clock_hz / 1e6, a.technology_nm);
  sim::AsicSimulatorOptions o;
  o.mapper.max_trials = ctx.asic_trials;
  o.mapper.threads = 1;  // rows already run in parallel
  sim::AsicSimulator simulator(a, o);
  sim::SimReport one = simulator.simulate(sim::lower_to_workload(*ctx.predict, {.batch = 1}));
  sim::SimReport many =
      simulator.simulate(sim::lower_to_workload(*ctx.predict, {.batch = ctx.batch}));
  fill_from_reports(row, one, many, ctx.batch);
  asic_accuracy(row, a, ctx);
  return row;
}

nlohmann::json model_gpu(const TargetSpec& t, CompareContext& ctx) {
  nlohmann::json row = empty_row(t);
  sim::GpuSimulator simulator(sim::load_gpu_target(t.base));
  row["device"] = simulator.config().name + " (performance model)";
  sim::SimReport one = simulator.simulate_graph(*ctx.predict, 1, ctx.source->name);
  sim::SimReport many = simulator.simulate_graph(*ctx.predict, ctx.batch, ctx.source->name);
  fill_from_reports(row, one, many, ctx.batch);
  row["notes"].insert(row["notes"].begin(),
                      gpu_devices().empty()
                          ? "modelled: no GPU present"
                          : "modelled: the GPU performance model of " + simulator.config().name);
  // The GPU runs the model's f32 GEMMs in fp32 (no TF32): its accuracy is the f32 model's.
  std::optional<double> f32 = ctx.f32_accuracy();
  row["numerics"] = "f32";
  if (f32) row["accuracy"] = *f32;
  return row;
}

nlohmann::json resolved_config(const TargetSpec& t) {
  if (t.kind == "tpu") {
    sim::TpuConfig c = tpu_config(t);
    return {{"name", c.name},
            {"source", c.source},
            {"matrix_units", c.matrix_units},
            {"array", {c.array.rows, c.array.cols}},
            {"dataflow", sim::dataflow_name(c.array.dataflow)},
            {"sram", {c.array.ifmap_sram_bytes, c.array.filter_sram_bytes, c.array.ofmap_sram_bytes}},
            {"operand_bytes", c.array.operand_bytes},
            {"numerics", c.numerics},
            {"clock_hz", c.clock_hz},
            {"dram_bandwidth", c.dram_bandwidth},
            {"vector_lanes", c.vector_lanes},
            {"energy_pj", {c.mac_pj, c.sram_byte_pj, c.dram_byte_pj, c.vector_op_pj}},
            {"static_power_w", c.static_power_w},
            {"fidelity", sim::fidelity_name(c.fidelity)}};
  }
  if (t.kind == "fpga") {
    FpgaSetup s = fpga_setup(t);
    nlohmann::json layers = nlohmann::json::object();
    for (const auto& [name, l] : s.config.layers) {
      auto p = [](const std::optional<sim::PrecisionSpec>& x) {
        return x ? nlohmann::json(sim::precision_spec_string(*x)) : nlohmann::json(nullptr);
      };
      layers[name] = {p(l.precision.weight), p(l.precision.bias), p(l.precision.accum),
                      p(l.precision.result), l.reuse_factor ? *l.reuse_factor : 0};
    }
    nlohmann::json precision_key = {{"precision", sim::precision_spec_string(s.config.precision)},
                                    {"layers", layers}};
    return {{"device", s.simulator->device().name},
            {"clock_hz", s.simulator->clock_hz()},
            {"reuse_factor", s.config.reuse_factor},
            {"strategy", s.config.strategy == sim::Strategy::kLatency ? "latency" : "resource"},
            {"io", s.config.io == sim::IoType::kParallel ? "parallel" : "stream"},
            {"precision_key", precision_key}};
  }
  if (t.kind == "asic") {
    sim::Architecture a = asic_arch(t);
    nlohmann::json levels = nlohmann::json::array();
    for (const sim::StorageLevel& l : a.levels)
      levels.push_back({l.name, sim::component_class_name(l.cls), l.size_words, l.word_bits,
                        l.read_bandwidth, l.write_bandwidth, l.fanout_x, l.fanout_y,
                        {l.keeps[0], l.keeps[1], l.keeps[2]}, l.read_pj, l.write_pj,
                        l.area_um2});
    return {{"name", a.name},   {"levels", levels},        {"mac_bits", a.mac_bits},
            {"mac_float", a.mac_float}, {"clock_hz", a.clock_hz},
            {"technology_nm", a.technology_nm}, {"mac_pj", a.mac_pj},
            {"mac_area_um2", a.mac_area_um2}};
  }
  return {{"target", t.label()}};
}

nlohmann::json evaluate_target(const TargetSpec& t, CompareContext& ctx) {
  try {
    if (t.kind == "cpu") return measure_cpu(t, ctx);
    if (t.kind == "gpu")
      return t.base.empty() && !gpu_devices().empty() ? measure_gpu(t, ctx) : model_gpu(t, ctx);
    if (t.kind == "tpu") return simulate_tpu(t, ctx);
    if (t.kind == "fpga") return simulate_fpga(t, ctx);
    if (t.kind == "asic") return simulate_asic(t, ctx);
    throw_error(ErrorKind::kInvalidArgument, "unknown target kind '" + t.kind + "'");
  } catch (const std::exception& e) {
    nlohmann::json row = empty_row(t);
    row["layers"] = nullptr;
    row["accuracy_by_precision"] = nullptr;
    row["error"] = e.what();
    return row;
  }
}

}  // namespace tessera::cli
