// synthesize: write the design, run Yosys on a script file, parse `stat`.
#include "tessera/sim/fpga/yosys.h"

#include <filesystem>
#include <regex>
#include <sstream>

#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"
#include "tessera/sim/fpga/verilog.h"
#include "tool_process.h"

namespace tessera::sim {
namespace {

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

bool yosys_available() { return !rtl::find_tool("yosys").empty(); }

SynthResult parse_yosys_stat(const std::string& text, const std::string& family) {
  SynthResult s;
  s.family = family;
  // The last statistics block: "Number of cells: N" followed by "  <cell>  <count>" lines.
  const size_t at = text.rfind("Number of cells:");
  TS_CHECK(at != std::string::npos, ErrorKind::kIo,
           "no Yosys statistics ('Number of cells:') in the synthesis log");
  std::istringstream lines(text.substr(at));
  std::string line;
  std::getline(lines, line);
  static const std::regex cell_line(R"(^\s+(\S+)\s+(\d+)\s*$)");
  while (std::getline(lines, line)) {
    std::smatch m;
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      if (!s.cells.empty()) break;  // the blank line after the cell list
      continue;
    }
    if (!std::regex_match(line, m, cell_line)) break;
    s.cells[m[1].str()] += std::stoll(m[2].str());
  }
  for (const auto& [cell, n] : s.cells) {
    if (family == "xilinx") {
      if (std::regex_match(cell, std::regex("LUT[1-6]"))) s.lut += n;
      else if (starts_with(cell, "FD")) s.ff += n;
      else if (starts_with(cell, "DSP48")) s.dsp += n;
      else if (cell == "RAMB36E1") s.bram += n, s.bram18 += 2 * n;
      else if (cell == "RAMB18E1") s.bram += n, s.bram18 += n;
      else if (cell == "CARRY4") s.carry += n;
      else if (std::regex_match(cell, std::regex("RAM\\d+[MSX].*"))) s.lutram += n;
    } else {
      if (cell == "LUT4") s.lut += n;
      else if (cell == "TRELLIS_FF") s.ff += n;
      else if (cell == "MULT18X18D" || cell == "ALU54B") s.dsp += n;
      else if (cell == "DP16KD") s.bram += n, s.bram18 += n;
      else if (cell == "CCU2C") s.carry += n;
      else if (cell == "TRELLIS_DPR16X4") s.lutram += n;
    }
  }
  return s;
}

SynthResult synthesize(const FixedNetwork& net, const std::string& family,
                       const std::string& work_dir) {
  TS_CHECK(family == "xilinx" || family == "ecp5", ErrorKind::kInvalidArgument,
           "unknown FPGA family '{}' for Yosys synthesis (expected 'xilinx' or 'ecp5')", family);
  TS_CHECK(yosys_available(), ErrorKind::kNotFound,
           "yosys is not installed (scripts/install-deps.sh installs it; Debian package 'yosys')");
  const std::string dir = std::filesystem::absolute(work_dir).string();
  const VerilogDesign d = write_verilog(net, dir + "/rtl");
  std::string script = "read_verilog";
  for (const std::string& f : d.files) script += " rtl/" + f;
  script += "\n";
  script += family == "xilinx" ? fmt::format("synth_xilinx -flatten -top {}\n", d.top)
                               : fmt::format("synth_ecp5 -top {}\n", d.top);
  script += fmt::format("tee -o stat_{}.txt stat\n", family);
  const std::string script_path = dir + "/synth_" + family + ".ys";
  write_file_atomic(script_path, script);
  const std::string log = dir + "/yosys_" + family + ".log";
  const rtl::ToolRun run = rtl::run_tool({"yosys", "-q", "-s", script_path}, dir, log);
  TS_CHECK(run.exit_code == 0, ErrorKind::kIo,
           "yosys failed to synthesize '{}' for {} in {} (exit {}); the end of its log:\n{}",
           net.name, family, dir, run.exit_code, run.tail);
  const std::string stat_text = rtl::file_tail(dir + "/stat_" + family + ".txt", size_t{1} << 20);
  SynthResult s = parse_yosys_stat(stat_text, family);
  s.top = d.top;
  s.seconds = run.seconds;
  s.log_path = log;
  return s;
}

}  // namespace tessera::sim
