// The per-layer summary of a SimReport and its terminal table: one row per layer and phase
// (or per op), the totals, the machine's roofline, target figures, accuracy and notes, in
// human units (k/M/G, ns/µs/ms/s, pJ/nJ/µJ/mJ/J, B/kB/MB/GB, decimal prefixes).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "tessera/sim/report.h"
#include "tessera/sim/roofline.h"

namespace tessera::sim {
namespace {

double dram_bytes(const std::vector<MemoryTraffic>& traffic) {
  double b = 0;
  for (const MemoryTraffic& t : traffic)
    if (t.level == "dram") b += t.read_bytes + t.write_bytes;
  return b;
}

// A number with a decimal prefix and three significant digits or so: 950, 1.23k, 45.6M.
std::string scaled(double v, const char* const* prefixes, size_t count, double step,
                   const char* unit) {
  if (v == 0) return fmt::format("0{}", unit);
  if (!std::isfinite(v)) return "inf";
  double a = std::abs(v);
  size_t i = 0;
  while (i + 1 < count && a >= step * 0.9995) {
    a /= step;
    v /= step;
    ++i;
  }
  int decimals = a < 10 ? 2 : a < 100 ? 1 : 0;
  if (i == 0 && std::abs(v - std::round(v)) < 1e-9) decimals = 0;  // whole counts
  return fmt::format("{:.{}f}{}{}", v, decimals, prefixes[i], unit);
}

std::string count(double v) {
  static const char* const p[] = {"", "k", "M", "G", "T", "P", "E"};
  return scaled(v, p, std::size(p), 1000.0, "");
}

std::string bytes(double v) {
  static const char* const p[] = {"", "k", "M", "G", "T", "P"};
  return scaled(v, p, std::size(p), 1000.0, "B");
}

// Small quantities (seconds, joules): the largest prefix that keeps the value >= 1.
std::string small_unit(double v, const char* unit) {
  if (v == 0) return fmt::format("0{}", unit);
  static const std::array<std::pair<double, const char*>, 5> p = {
      {{1.0, ""}, {1e-3, "m"}, {1e-6, "µ"}, {1e-9, "n"}, {1e-12, "p"}}};
  for (const auto& [scale, prefix] : p) {
    if (std::abs(v) >= scale * 0.9995 || scale == 1e-12) {
      double x = v / scale;
      int decimals = std::abs(x) < 10 ? 2 : std::abs(x) < 100 ? 1 : 0;
      return fmt::format("{:.{}f}{}{}", x, decimals, prefix, unit);
    }
  }
  return "?";
}

std::string seconds(double v) { return small_unit(v, "s"); }
std::string joules(double v) { return small_unit(v, "J"); }

std::string intensity(double flops, double v) {
  if (flops <= 0) return "-";
  if (v >= 1e29) return "inf";
  return v < 10    ? fmt::format("{:.2f}", v)
         : v < 100 ? fmt::format("{:.1f}", v)
                   : fmt::format("{:.0f}", v);
}

// Display width: code points, not bytes ("µ" is two bytes, one column).
size_t width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;
  return w;
}

std::string pad(const std::string& s, size_t w, bool right) {
  size_t have = width(s);
  std::string fill(have < w ? w - have : 0, ' ');
  return right ? fill + s : s + fill;
}

struct Table {
  std::vector<std::string> header;
  std::vector<bool> right;                     // numbers align right
  std::vector<std::vector<std::string>> rows;  // an empty row is a rule

  std::string str() const {
    std::vector<size_t> w(header.size());
    for (size_t c = 0; c < header.size(); ++c) w[c] = width(header[c]);
    for (const auto& row : rows)
      for (size_t c = 0; c < row.size(); ++c) w[c] = std::max(w[c], width(row[c]));
    size_t total = 0;
    for (size_t x : w) total += x + 2;
    std::string rule(total > 2 ? total - 2 : 0, '-');
    auto line = [&](const std::vector<std::string>& cells) {
      std::string s;
      for (size_t c = 0; c < cells.size(); ++c) {
        if (c) s += "  ";
        s += pad(cells[c], w[c], right[c]);
      }
      while (!s.empty() && s.back() == ' ') s.pop_back();
      return s + "\n";
    };
    std::string out = line(header) + rule + "\n";
    for (const auto& row : rows) out += row.empty() ? rule + "\n" : line(row);
    return out;
  }
};

std::vector<std::string> row_of(const std::string& first, const OpReport& op) {
  double dram = dram_bytes(op.traffic);
  std::string op_unit = op.unit.empty() ? op.op : op.op.empty() ? op.unit : op.op + "/" + op.unit;
  return {first.empty() ? "-" : first,
          phase_name(op.phase),
          op_unit.empty() ? "-" : op_unit,
          count(op.macs),
          count(op.cycles),
          seconds(op.seconds),
          fmt::format("{:.1f}", 100.0 * op.utilization),
          bytes(dram),
          intensity(op.flops, op.operational_intensity),
          bound_name(op.bound),
          joules(op.energy_j)};
}

std::string frequency(double hz) {
  return hz >= 1e9 ? fmt::format("{:.3g} GHz", hz / 1e9) : fmt::format("{:.4g} MHz", hz / 1e6);
}

std::string flop_rate(double f) {
  return f >= 1e12 ? fmt::format("{:.3g} TFLOP/s", f / 1e12)
                   : fmt::format("{:.4g} GFLOP/s", f / 1e9);
}

}  // namespace

std::vector<OpReport> layer_summary(const SimReport& r) {
  std::vector<OpReport> rows;
  std::vector<double> top_cycles;               // the dominant op's cycles, per row
  std::vector<double> mapped_macs;              // MACs weighting mapping efficiency, per row
  std::vector<std::vector<std::string>> units;  // first-seen order, per row
  for (const OpReport& op : r.ops) {
    auto it = std::find_if(rows.begin(), rows.end(), [&](const OpReport& x) {
      return x.layer == op.layer && x.phase == op.phase;
    });
    size_t i = static_cast<size_t>(it - rows.begin());
    if (it == rows.end()) {
      OpReport row;
      row.name = op.layer;
      row.layer = op.layer;
      row.phase = op.phase;
      rows.push_back(std::move(row));
      top_cycles.push_back(-1);
      mapped_macs.push_back(0);
      units.emplace_back();
    }
    OpReport& row = rows[i];
    // The row's op is the one that took the most cycles; its unit lists every unit used.
    if (op.cycles > top_cycles[i]) {
      top_cycles[i] = op.cycles;
      row.op = op.op;
    }
    if (!op.unit.empty() && std::find(units[i].begin(), units[i].end(), op.unit) == units[i].end())
      units[i].push_back(op.unit);
    row.cycles += op.cycles;
    row.stall_cycles += op.stall_cycles;
    row.seconds += op.seconds;
    row.macs += op.macs;
    row.flops += op.flops;
    row.energy_j += op.energy_j;
    row.utilization += op.utilization * op.cycles;  // cycle-weighted; divided below
    if (op.macs > 0) {
      row.mapping_efficiency += op.mapping_efficiency * op.macs;
      mapped_macs[i] += op.macs;
    }
    add_traffic(row.traffic, op.traffic);
  }
  const double peak_macs_per_cycle = r.clock_hz > 0 ? r.peak_flops / 2.0 / r.clock_hz : 0.0;
  for (size_t i = 0; i < rows.size(); ++i) {
    OpReport& row = rows[i];
    for (const std::string& u : units[i]) row.unit += (row.unit.empty() ? "" : "+") + u;
    // As the totals: MACs done over MACs the matrix units could have done in the row's
    // cycles; without a peak, the ops' own utilizations weighted by their cycles.
    if (peak_macs_per_cycle > 0)
      row.utilization = row.cycles > 0 ? row.macs / (row.cycles * peak_macs_per_cycle) : 0.0;
    else
      row.utilization = row.cycles > 0 ? row.utilization / row.cycles : 0.0;
    row.mapping_efficiency = mapped_macs[i] > 0 ? row.mapping_efficiency / mapped_macs[i] : 0.0;
    place_on_roofline(row, dram_bytes(row.traffic), r.peak_flops, r.dram_bandwidth);
  }
  return rows;
}

std::string format_report(const SimReport& r, bool per_op) {
  std::string out = fmt::format(
      "{} on {}{}{} — {}, batch {}\n\n", r.model.empty() ? "model" : r.model, r.target,
      r.config.empty() ? "" : ":", r.config, r.training ? "training step" : "inference", r.batch);

  Table t;
  t.header = {per_op ? "op" : "layer",
              "phase",
              "op/unit",
              "MACs",
              "cycles",
              "time",
              "util %",
              "DRAM",
              "flop/B",
              "bound",
              "energy"};
  t.right = {false, false, false, true, true, true, true, true, true, false, true};
  if (per_op) {
    for (const OpReport& op : r.ops) t.rows.push_back(row_of(op.name, op));
  } else {
    for (const OpReport& row : layer_summary(r)) t.rows.push_back(row_of(row.layer, row));
  }
  t.rows.emplace_back();
  OpReport total;
  total.op = "";
  total.unit = "";
  total.macs = r.macs;
  total.cycles = r.cycles;
  total.seconds = r.seconds;
  total.utilization = r.utilization;
  total.traffic = r.traffic;
  total.flops = r.flops;
  total.operational_intensity = r.operational_intensity;
  total.bound = r.bound;
  total.energy_j = r.energy_j;
  std::vector<std::string> total_row = row_of("total", total);
  total_row[1] = r.training ? "step" : "all";
  t.rows.push_back(std::move(total_row));
  out += t.str();

  out += fmt::format("\ncycles {} ({} stalled on memory, {:.1f}%), time {}, energy {}\n",
                     count(r.cycles), count(r.stall_cycles),
                     r.cycles > 0 ? 100.0 * r.stall_cycles / r.cycles : 0.0, seconds(r.seconds),
                     joules(r.energy_j));
  out += fmt::format("MACs {}, flops {}, achieved {}, matrix-unit utilization {:.1f}%\n",
                     count(r.macs), count(r.flops),
                     r.seconds > 0 ? flop_rate(r.flops / r.seconds) : std::string("-"),
                     100.0 * r.utilization);
  for (const MemoryTraffic& m : r.traffic)
    out += fmt::format("  {:<12} read {:>9}  written {:>9}\n", m.level, bytes(m.read_bytes),
                       bytes(m.write_bytes));

  if (r.clock_hz > 0 || r.peak_flops > 0 || r.dram_bandwidth > 0) {
    Roofline roof = roofline(r.flops, dram_bytes(r.traffic), r.peak_flops, r.dram_bandwidth);
    out += fmt::format("machine: clock {}, peak {}, DRAM {}/s, ridge point {} flop/B\n",
                       frequency(r.clock_hz), flop_rate(r.peak_flops), bytes(r.dram_bandwidth),
                       roof.ridge > 0 ? fmt::format("{:.1f}", roof.ridge) : std::string("-"));
    out += fmt::format("roofline: intensity {} flop/B, attainable {}, {}\n",
                       intensity(r.flops, r.operational_intensity), flop_rate(r.attainable_flops),
                       r.bound == Bound::kNone ? std::string("no work")
                                               : fmt::format("{}-bound", bound_name(r.bound)));
  }
  if (!r.figures.empty()) {
    out += "figures:";
    for (const auto& [name, value] : r.figures) {
      // Counts (LUTs, DSPs, cycles) read best whole; other figures with 4 digits.
      const bool whole = value == std::floor(value) && std::fabs(value) < 1e15;
      out += whole ? fmt::format(" {} {};", name, static_cast<int64_t>(value))
                   : fmt::format(" {} {:.4g};", name, value);
    }
    out.back() = '\n';
  }
  if (r.accuracy) {
    const AccuracyReport& a = *r.accuracy;
    out += fmt::format(
        "{} in {}: {:.2f}% (f32 {:.2f}%, {:+.2f} points), top-1 agreement {:.2f}% over {} "
        "samples\n",
        a.metric, a.numerics, 100.0 * a.target, 100.0 * a.reference,
        100.0 * (a.target - a.reference), 100.0 * a.agreement, a.samples);
  }
  for (const std::string& note : r.notes) out += fmt::format("note: {}\n", note);
  return out;
}

}  // namespace tessera::sim
