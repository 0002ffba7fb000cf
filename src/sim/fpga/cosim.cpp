// run_verilator: write, build (verilator --binary), run, parse.
#include "tessera/sim/fpga/cosim.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"
#include "tessera/sim/fpga/verilog.h"
#include "tool_process.h"

namespace tessera::sim {
namespace {

// One value of `width` bits at field `index` of a bus given as hex digits (most significant
// first), sign-extended for signed formats.
int64_t bus_field(const std::string& hex, int64_t index, const FixedFormat& f) {
  uint64_t bits = 0;
  const auto digits = static_cast<int64_t>(hex.size());
  for (int b = f.width - 1; b >= 0; --b) {
    const int64_t bit = index * f.width + b, digit = digits - 1 - bit / 4;
    unsigned nibble = 0;
    if (digit >= 0) {
      const char c = hex[static_cast<size_t>(digit)];
      nibble = static_cast<unsigned>(c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0');
    }
    bits = (bits << 1) | ((nibble >> (bit % 4)) & 1u);
  }
  if (f.is_signed && f.width < 64 && ((bits >> (f.width - 1)) & 1u))
    bits |= ~((uint64_t{1} << f.width) - 1);
  return static_cast<int64_t>(bits);
}

bool is_hex(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace

bool verilator_available() { return !rtl::find_tool("verilator").empty(); }

CosimResult run_verilator(const FixedNetwork& net, const std::vector<std::vector<int64_t>>& inputs,
                          const std::string& work_dir) {
  TS_CHECK(verilator_available(), ErrorKind::kNotFound,
           "verilator is not installed (scripts/install-deps.sh installs it; Debian package "
           "'verilator', version 5 or later)");
  const std::string dir = std::filesystem::absolute(work_dir).string();
  const VerilogDesign d = write_verilog(net, dir + "/rtl");
  write_file_atomic(dir + "/inputs.hex", testbench_inputs(net, inputs));

  std::vector<std::string> build = {"verilator", "--binary", "-j", "2", "-Wno-WIDTH",
                                    "--top-module", "tb", "-Mdir", "obj_dir", "-o", "sim"};
  // Verilator's runtime objects are the same for every design: ccache makes them free.
  if (!rtl::find_tool("ccache").empty()) {
    build.push_back("-MAKEFLAGS");
    build.push_back("OBJCACHE=ccache");
  }
  build.push_back("rtl/" + d.testbench);
  for (const std::string& f : d.files) build.push_back("rtl/" + f);
  const rtl::ToolRun b = rtl::run_tool(build, dir, dir + "/verilator_build.log");
  TS_CHECK(b.exit_code == 0, ErrorKind::kIo,
           "verilator failed to build the design of '{}' in {} (exit {}); the end of "
           "verilator_build.log:\n{}",
           net.name, dir, b.exit_code, b.tail);

  std::filesystem::remove(dir + "/outputs.txt");
  const rtl::ToolRun r = rtl::run_tool({dir + "/obj_dir/sim", "+in=inputs.hex", "+out=outputs.txt"},
                                       dir, dir + "/sim.log");
  TS_CHECK(r.exit_code == 0, ErrorKind::kIo,
           "the Verilator simulation of '{}' in {} failed (exit {}); the end of sim.log:\n{}",
           net.name, dir, r.exit_code, r.tail);

  CosimResult res;
  res.expected_latency = d.latency;
  res.initiation_interval = d.initiation_interval;
  res.build_seconds = b.seconds;
  res.run_seconds = r.seconds;
  res.work_dir = dir;
  std::ifstream in(dir + "/outputs.txt");
  TS_CHECK(in.good(), ErrorKind::kIo, "the simulation of '{}' wrote no {}/outputs.txt; sim.log:\n{}",
           net.name, dir, r.tail);
  const FixedFormat& out = net.layers.back().result;
  const int64_t n_out = net.outputs();
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    std::istringstream fields(line);
    int64_t latency = -1;
    std::string hex;
    fields >> latency >> hex;
    TS_CHECK(latency >= 0 && is_hex(hex) && static_cast<int64_t>(hex.size()) * 4 >= d.output_bits,
             ErrorKind::kIo, "{}/outputs.txt:{}: expected '<latency> <{} hex digits>', got '{}'",
             dir, line_no, (d.output_bits + 3) / 4, line);
    std::vector<int64_t> y(static_cast<size_t>(n_out));
    for (int64_t j = 0; j < n_out; ++j) y[static_cast<size_t>(j)] = bus_field(hex, j, out);
    res.outputs.push_back(std::move(y));
    res.latencies.push_back(latency);
  }
  TS_CHECK(res.outputs.size() == inputs.size(), ErrorKind::kIo,
           "the simulation of '{}' gave {} results for {} samples ({}/outputs.txt); sim.log:\n{}",
           net.name, res.outputs.size(), inputs.size(), dir, r.tail);
  return res;
}

}  // namespace tessera::sim
