// The page: sections in reading order, the stylesheet and the small sorting script inline,
// so the file opens anywhere without a network. Charts need no script.
#include "tessera/report/html_report.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "charts.h"
#include "report_json.h"
#include "sections.h"
#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"
#include "text.h"

namespace tessera::report {

using nlohmann::json;

namespace {

constexpr std::string_view kStyle = R"css(
:root { --ink: #1f2328; --muted: #5b6470; --rule: #d8dde3; --paper: #ffffff; --tint: #f5f7f9; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--paper); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1480px; margin: 0 auto; padding: 20px 28px 40px; }
h1 { font-size: 24px; margin: 0 0 8px; font-weight: 650; }
h2 { font-size: 18px; margin: 30px 0 6px; padding-top: 10px; border-top: 1px solid var(--rule); }
h3 { font-size: 15px; margin: 14px 0 4px; }
p.lead, figcaption, .hint { color: var(--muted); }
.model-name { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
dl.facts { display: flex; flex-wrap: wrap; gap: 6px 26px; margin: 6px 0; }
dl.facts div { display: flex; gap: 6px; } dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; font-weight: 600; }
nav.contents { margin: 10px 0 0; font-size: 13px; } nav.contents a { margin-right: 14px; color: #1b6ca8; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 5px 9px; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
thead th { background: var(--tint); font-weight: 600; cursor: pointer; white-space: nowrap; }
thead th small { font-weight: 400; color: var(--muted); }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.best { font-weight: 700; background: #eef7ee; }
td.missing { color: #9aa1ab; }
td.error { color: #b42318; background: #fdf0ef; }
tr.pareto td { background: #fff5f4; } td.pareto-mark { color: #c0392b; font-weight: 600; }
ul.notes { margin: 4px 0 0; padding-left: 16px; color: var(--muted); font-size: 12px; min-width: 320px; }
details.notes summary { cursor: pointer; color: var(--muted); font-size: 12px; white-space: nowrap; }
td.target { white-space: nowrap; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
.badge { display: inline-block; padding: 1px 7px; border-radius: 9px; font-size: 12px; background: #e9ecef; }
.badge-measured { background: #dcf2dc; color: #1e6b1e; }
.badge-modelled { background: #fdf0d5; color: #8a5a00; }
.badge-simulated { background: #e3ebf8; color: #22508f; }
.grid { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
figure { margin: 8px 0; flex: 0 0 auto; }
figcaption { font-size: 12.5px; margin-top: 2px; width: 0; min-width: 100%; } /* as wide as its chart */
svg.chart { display: block; overflow: visible; }
svg .tick { font-size: 11px; fill: #59606b; }
svg .axis-title { font-size: 12px; fill: #3a414b; }
svg .label { font-size: 12px; fill: #1f2328; font-weight: 600; }
svg .sublabel { font-size: 10.5px; fill: #6b7380; }
svg .value { font-size: 11.5px; fill: #1f2328; font-variant-numeric: tabular-nums; }
svg .missing { font-size: 11.5px; fill: #9aa1ab; font-style: italic; }
svg .roof { font-size: 11px; fill: #2f3540; font-weight: 600; }
svg .legend { font-size: 11.5px; fill: #3a414b; }
svg .in-bar { font-size: 10.5px; fill: #ffffff; font-weight: 600; }
.legend-row { display: flex; gap: 16px; font-size: 12.5px; color: var(--muted); margin: 4px 0; }
.dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 5px; vertical-align: -1px; }
p.empty-chart { color: var(--muted); font-style: italic; padding: 10px 14px; background: var(--tint); border-radius: 6px; }
.verdict { padding: 1px 8px; border-radius: 9px; font-size: 12.5px; }
.verdict-met { background: #dcf2dc; color: #1e6b1e; } .verdict-unmet { background: #fdf0ef; color: #b42318; }
table.figures { margin: 4px 0 8px; } table.figures th { background: none; cursor: default; font-weight: 500; color: var(--muted); }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; }
@media print { nav.contents { display: none; } h2 { break-after: avoid; } figure { break-inside: avoid; } }
)css";

// Click a column head to sort a table (numbers by their data-sort value, blanks last).
constexpr std::string_view kScript = R"js(
(function () {
  var tables = document.querySelectorAll('table.sortable');
  Array.prototype.forEach.call(tables, function (table) {
    if (!table.tHead || !table.tBodies.length) return;
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.title = 'sort by this column';
      th.addEventListener('click', function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var dir = th.getAttribute('data-dir') === 'asc' ? -1 : 1;
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('data-dir'); });
        th.setAttribute('data-dir', dir === 1 ? 'asc' : 'desc');
        function key(row) {
          var c = row.cells[col];
          if (!c || row.className === 'failed' && col > 2) return null;
          var s = c.getAttribute('data-sort');
          if (s !== null) return s === '' ? null : parseFloat(s);
          return c.textContent;
        }
        rows.sort(function (a, b) {
          var x = key(a), y = key(b);
          if (x === null) return y === null ? 0 : 1;
          if (y === null) return -1;
          if (typeof x === 'number' && typeof y === 'number') return (x - y) * dir;
          return String(x).localeCompare(String(y)) * dir;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
)js";

std::string figure(const std::string& chart, std::string_view caption) {
  return "<figure>" + chart + "<figcaption>" + html_escape(caption) + "</figcaption></figure>";
}

std::string bound_legend() {
  return fmt::format(
      "<div class=\"legend-row\"><span><span class=\"dot\" style=\"background:{}\"></span>"
      "compute-bound layer</span><span><span class=\"dot\" style=\"background:{}\"></span>"
      "memory-bound layer</span><span><span class=\"dot\" style=\"background:{}\"></span>"
      "other</span><span>\u2014 roof: min(peak, bandwidth \u00d7 intensity)</span></div>",
      bound_colour("compute"), bound_colour("memory"), bound_colour(""));
}

std::string exploration_section(const json& exploration) {
  std::string out = "<section id=\"exploration\"><h2>Design-space exploration";
  const std::string target = string_at(exploration, "target");
  const std::string base = string_at(exploration, "base");
  if (!target.empty()) {
    out += ": " + html_escape(target) + (base.empty() ? "" : " (" + html_escape(base) + ")");
  }
  out += "</h2>";
  if (const json* sweep = object_at(exploration, "sweep"); sweep && !sweep->empty()) {
    out += "<p class=\"lead\">Swept ";
    bool first = true;
    for (const auto& [key, values] : sweep->items()) {
      out += (first ? "" : "; ") + ("<b>" + html_escape(key) + "</b> \u2208 ") +
             html_escape(value_text(values));
      first = false;
    }
    out += ".</p>";
  }
  out += "<p class=\"hint\">Filled red points are on the Pareto front of all the objectives; the "
         "red staircase is the front of the two objectives plotted (no point beats it on "
         "both). Hollow points are dominated. Hover a point for its configuration.</p>";
  out += "<div class=\"grid\">";
  out += figure(pareto_chart(exploration, kParetoLatencyEnergy),
                "Latency against energy: down and left is better.");
  out += figure(pareto_chart(exploration, kParetoLatencyAccuracy),
                "Latency against accuracy: up and left is better.");
  out += figure(pareto_chart(exploration, kParetoEnergyArea),
                "Energy against silicon area: down and left is better.");
  out += "</div><h3>Configurations</h3>" + exploration_table(exploration) + "</section>";
  return out;
}

}  // namespace

std::string render_html_report(const json& report) {
  validate_report(report);
  const json& targets = report["targets"];
  const std::string model = string_at(report["model"], "name", "?");
  const json* exploration = object_at(report, "exploration");
  const json* advice = object_at(report, "advice");

  std::string page;
  page.reserve(64 * 1024);
  page += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
          "<title>Tessera report: " + html_escape(model) + "</title><style>";
  page += kStyle;
  page += "</style></head><body><main>";
  page += header_section(report);
  page += "<nav class=\"contents\"><a href=\"#comparison\">comparison</a>"
          "<a href=\"#speed-energy\">latency, energy, throughput</a>"
          "<a href=\"#rooflines\">rooflines</a><a href=\"#layers\">per layer</a>"
          "<a href=\"#accuracy\">accuracy</a>";
  if (exploration != nullptr) page += "<a href=\"#exploration\">exploration</a>";
  if (advice != nullptr) page += "<a href=\"#advice\">advice</a>";
  page += "</nav>";

  page += "<section id=\"comparison-section\"><h2 id=\"comparison-title\">Comparison</h2>"
          "<p class=\"hint\">How each figure was obtained: " + method_badge("measured") +
          " on this machine, " + method_badge("modelled") + " by an analytical model, " +
          method_badge("simulated") + " by a cycle-level simulator. The best value of a "
          "column is shaded. Click a column head to sort.</p>" + comparison_table(report) +
          "</section>";

  page += "<section id=\"speed-energy\"><h2>Latency, energy and throughput</h2><div class=\"grid\">";
  page += figure(metric_bars(targets, kLatencyBars),
                 "Time for one sample at batch 1. The axis turns logarithmic when targets differ "
                 "by more than 30\u00d7: equal steps are equal ratios.");
  page += figure(metric_bars(targets, kEnergyBars),
                 "Energy per inference at the throughput batch (joules per sample).");
  page += figure(metric_bars(targets, kThroughputBars),
                 "Samples per second at the throughput batch.");
  page += "</div></section>";

  page += "<section id=\"rooflines\"><h2>Rooflines</h2><p class=\"hint\">One per target, "
          "log\u2013log. A layer sits at its arithmetic intensity (2 \u00d7 MACs per byte moved) "
          "and the ops per second it achieved. Under the slope it is limited by memory "
          "bandwidth, under the flat roof by peak compute; the gap to the roof is "
          "headroom.</p>" + bound_legend() + "<div class=\"grid\">";
  for (size_t i = 0; i < targets.size(); ++i) {
    page += figure(roofline_chart(targets[i], i), string_at(targets[i], "device",
                                                            string_at(targets[i], "target")));
  }
  if (targets.empty()) page += empty_chart("No targets.");
  page += "</div></section>";

  page += "<section id=\"layers\"><h2>Time per layer</h2>";
  page += figure(layer_breakdown_chart(targets),
                 "Each bar is one target's inference at the throughput batch, split by layer "
                 "(share of its own total, which is printed on the right). Layers that dominate "
                 "on one target and not another show where the architectures differ.");
  page += "</section>";

  page += "<section id=\"accuracy\"><h2>Accuracy against precision</h2>";
  page += figure(accuracy_chart(report),
                 "Test accuracy of each target in the numerics it computes in (and the other "
                 "precisions it reports), widest numerics first. The dashed line is the trained "
                 "model's own accuracy.");
  page += "</section>";

  if (exploration != nullptr) page += exploration_section(*exploration);
  if (advice != nullptr) {
    page += "<section id=\"advice\"><h2>Advice</h2>" + advice_section(*advice) + "</section>";
  }
  page += "<footer>Rendered by Tessera from a " + html_escape(kReportSchema) +
          " document. Self-contained: no network, no external files.</footer></main><script>";
  page += kScript;
  page += "</script></body></html>\n";
  return page;
}

void render_html_report_file(const std::string& json_path, const std::string& html_path) {
  std::ifstream in(json_path, std::ios::binary);
  TS_CHECK(in.good(), ErrorKind::kNotFound, "report: cannot read '{}'", json_path);
  std::stringstream text;
  text << in.rdbuf();
  json report;
  try {
    report = json::parse(text.str());
  } catch (const json::parse_error& e) {
    throw_error(ErrorKind::kInvalidArgument,
                fmt::format("report: '{}' is not valid JSON: {}", json_path, e.what()));
  }
  std::string html;
  try {
    html = render_html_report(report);
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("{}: {}", json_path, e.what()));
  }
  write_file_atomic(html_path, html);
}

}  // namespace tessera::report
