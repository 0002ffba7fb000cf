// The GPU config reader: YAML (schema in docs/simulators/gpu.md) over a preset or the
// defaults, every error naming the file, line and field.
#include <fmt/core.h>

#include "../config_yaml.h"
#include "tessera/core/error.h"
#include "tessera/sim/gpu/gpu_config.h"

namespace tessera::sim {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kGiB = 1024.0 * kMiB;

}  // namespace

GpuConfig parse_gpu_config(const std::string& text, const std::string& source) {
  YamlConfigReader r(source);
  YAML::Node root = r.load(text);
  if (!root.IsMap()) r.fail(root, "a GPU config is a mapping (see docs/simulators/gpu.md)");
  r.expect_keys(
      root, "gpu config",
      {"name", "base", "sm_count", "sm_clock_mhz", "peak_tflops", "sfu_per_sm", "memory", "l2",
       "launch_overhead_us", "efficiency", "allow_tf32", "fuse_elementwise", "power"});
  // A size in MiB or GiB as bytes, with room to add sizes up.
  auto bytes = [&](const YAML::Node& n, const char* field, double unit) {
    double v = r.positive(n, field) * unit;
    if (v >= 1e18) r.fail(n, fmt::format("'{}' is too large", field));
    return static_cast<int64_t>(v);
  };
  GpuConfig c;
  if (root["base"]) {
    std::string base = r.string(root["base"], "base");
    try {
      c = gpu_preset(base);
    } catch (const Error& e) {
      r.fail(root["base"], e.what());
    }
  }
  c.name = root["name"] ? r.string(root["name"], "name") : source;
  c.source = source;
  if (root["sm_count"]) c.sm_count = r.positive_int(root["sm_count"], "sm_count");
  if (root["sm_clock_mhz"]) c.sm_clock_hz = r.positive(root["sm_clock_mhz"], "sm_clock_mhz") * 1e6;
  if (YAML::Node p = root["peak_tflops"]) {
    r.expect_keys(p, "peak_tflops", {"fp32", "tf32", "bf16", "fp16", "int8"});
    if (p["fp32"]) c.fp32_flops = r.positive(p["fp32"], "peak_tflops.fp32") * 1e12;
    if (p["tf32"]) c.tf32_flops = r.non_negative(p["tf32"], "peak_tflops.tf32") * 1e12;
    if (p["bf16"]) c.bf16_flops = r.non_negative(p["bf16"], "peak_tflops.bf16") * 1e12;
    if (p["fp16"]) c.fp16_flops = r.non_negative(p["fp16"], "peak_tflops.fp16") * 1e12;
    if (p["int8"]) c.int8_ops = r.non_negative(p["int8"], "peak_tflops.int8") * 1e12;
  }
  if (root["sfu_per_sm"]) c.sfu_per_sm = r.positive_int(root["sfu_per_sm"], "sfu_per_sm");
  if (YAML::Node m = root["memory"]) {
    r.expect_keys(m, "memory", {"bandwidth_gbps", "capacity_gib", "name"});
    if (m["bandwidth_gbps"])
      c.hbm_bandwidth = r.positive(m["bandwidth_gbps"], "memory.bandwidth_gbps") * 1e9;
    if (m["capacity_gib"]) c.hbm_bytes = bytes(m["capacity_gib"], "memory.capacity_gib", kGiB);
    if (m["name"]) c.hbm_name = r.string(m["name"], "memory.name");
  }
  if (YAML::Node l2 = root["l2"]) {
    r.expect_keys(l2, "l2", {"size_mib", "bandwidth_gbps", "resident_fraction"});
    if (l2["size_mib"]) c.l2_bytes = bytes(l2["size_mib"], "l2.size_mib", kMiB);
    if (l2["bandwidth_gbps"])
      c.l2_bandwidth = r.positive(l2["bandwidth_gbps"], "l2.bandwidth_gbps") * 1e9;
    if (l2["resident_fraction"])
      c.l2_resident_fraction = r.positive(l2["resident_fraction"], "l2.resident_fraction");
  }
  if (root["launch_overhead_us"])
    c.launch_overhead_s = r.non_negative(root["launch_overhead_us"], "launch_overhead_us") * 1e-6;
  if (YAML::Node e = root["efficiency"]) {
    r.expect_keys(e, "efficiency", {"tensor", "simt", "attention", "memory", "l2"});
    if (e["tensor"]) c.tensor_efficiency = r.positive(e["tensor"], "efficiency.tensor");
    if (e["simt"]) c.simt_efficiency = r.positive(e["simt"], "efficiency.simt");
    if (e["attention"]) c.attention_efficiency = r.positive(e["attention"], "efficiency.attention");
    if (e["memory"]) c.memory_efficiency = r.positive(e["memory"], "efficiency.memory");
    if (e["l2"]) c.l2_efficiency = r.positive(e["l2"], "efficiency.l2");
  }
  if (root["allow_tf32"]) c.allow_tf32 = r.boolean(root["allow_tf32"], "allow_tf32");
  if (root["fuse_elementwise"])
    c.fuse_elementwise = r.boolean(root["fuse_elementwise"], "fuse_elementwise");
  if (YAML::Node p = root["power"]) {
    r.expect_keys(p, "power", {"tdp_w", "idle_w", "dram_byte_pj", "l2_byte_pj"});
    if (p["tdp_w"]) c.tdp_w = r.positive(p["tdp_w"], "power.tdp_w");
    if (p["idle_w"]) c.idle_w = r.non_negative(p["idle_w"], "power.idle_w");
    if (p["dram_byte_pj"]) c.dram_byte_pj = r.non_negative(p["dram_byte_pj"], "power.dram_byte_pj");
    if (p["l2_byte_pj"]) c.l2_byte_pj = r.non_negative(p["l2_byte_pj"], "power.l2_byte_pj");
  }
  c.validate(source);
  return c;
}

GpuConfig load_gpu_config(const std::string& path) {
  return parse_gpu_config(read_config_file(path, "GPU config"), path);
}

}  // namespace tessera::sim
