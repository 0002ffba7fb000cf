// Bar charts: one figure per target (latency, energy, throughput) and the per-layer split.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <vector>

#include "chart_util.h"
#include "charts.h"
#include "report_json.h"
#include "text.h"

namespace tessera::report {

using nlohmann::json;

namespace {

// Tableau 10: distinct hues that stay apart for the common colour-vision deficiencies.
constexpr std::array<std::string_view, 10> kPalette{"#4e79a7", "#f28e2b", "#59a14f", "#e15759",
                                                    "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
                                                    "#9c755f", "#bab0ac"};
// Layers use a second set so a layer's colour is never read as a target's.
constexpr std::array<std::string_view, 10> kLayerPalette{"#1b6ca8", "#f4a259", "#5b8e7d",
                                                         "#bc4b51", "#8cb369", "#7a5195",
                                                         "#ef5675", "#ffa600", "#3d5a80",
                                                         "#98c1d9"};
constexpr std::string_view kOtherLayers = "#c9ccd1";

}  // namespace

std::string_view target_colour(size_t index) { return kPalette[index % kPalette.size()]; }

std::string_view bound_colour(std::string_view bound) {
  if (bound == "compute") return "#e15759";
  if (bound == "memory") return "#4e79a7";
  return "#9c755f";
}

std::string empty_chart(std::string_view why) {
  return "<p class=\"empty-chart\">" + html_escape(why) + "</p>";
}

std::string shorten(std::string_view text, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;  // continuation
    if (chars == max_chars) return std::string(text.substr(0, i)) + "\u2026";
    ++chars;
  }
  return std::string(text);
}

std::string format_value(double value, std::string_view unit) {
  if (unit == "%") return format_percent(value, std::fabs(value) >= 0.1 ? 1 : 2);
  return format_si(value, unit);
}

TickFormat tick_format(std::string_view unit) {
  const std::string u(unit);
  if (u == "%") return [](double v) { return fmt::format("{:.4g} %", v * 100.0); };
  return [u](double v) { return format_tick(v, u); };
}

std::string metric_bars(const json& targets, const BarSpec& spec) {
  struct Row {
    std::string label, method;
    std::optional<double> value;
    bool failed;
    size_t index;
  };
  std::vector<Row> rows;
  double lo = std::numeric_limits<double>::infinity(), hi = 0.0;
  for (size_t i = 0; i < targets.size(); ++i) {
    const json& t = targets[i];
    Row row{string_at(t, "target", "?"), string_at(t, "method"), number_at(t, spec.key),
            !string_at(t, "error").empty(), i};
    if (row.value && *row.value < 0.0) row.value.reset();  // figures are non-negative
    if (row.value) {
      hi = std::max(hi, *row.value);
      if (*row.value > 0.0) lo = std::min(lo, *row.value);
    }
    rows.push_back(std::move(row));
  }
  if (rows.empty() || hi <= 0.0) {
    return empty_chart(fmt::format("No target reports its {}.", spec.axis));
  }
  constexpr double kRow = 30.0, kTop = 10.0, kLeft = 150.0, kRightMargin = 78.0;
  const int width = 430;
  const int height = static_cast<int>(kTop + kRow * rows.size() + 46);
  const PlotArea area{kLeft, kTop, width - kRightMargin, kTop + kRow * rows.size()};
  // Figures of accelerators span decades: a log axis keeps the small bars readable.
  const Scale x = Scale::auto_for(lo, hi, area.left, area.right);
  Svg svg(spec.id, width, height, std::string(spec.axis) + " per target");
  draw_x_axis(svg, x, area,
              fmt::format("{}{} \u2014 {} is better", spec.axis, x.is_log() ? " (log scale)" : "",
                          spec.lower_is_better ? "shorter" : "longer"),
              tick_format(spec.unit));
  for (size_t r = 0; r < rows.size(); ++r) {
    const Row& row = rows[r];
    const double y = area.top + kRow * r;
    svg.text(kLeft - 8, y + 14, shorten(row.label, 20), "end", "label");
    if (!row.method.empty()) svg.text(kLeft - 8, y + 25, row.method, "end", "sublabel");
    if (!row.value) {
      svg.text(area.left + 6, y + 19, row.failed ? "failed (see table)" : "not reported", "start",
               "missing");
      continue;
    }
    const double x0 = x(x.lo() > 0.0 ? x.lo() : 0.0);
    const double x1 = x(*row.value);
    const std::string shown = format_value(*row.value, spec.unit);
    svg.rect(x0, y + 6, std::max(1.5, x1 - x0), 18, target_colour(row.index),
             fmt::format("{}: {} ({})", row.label, shown, row.method.empty() ? "?" : row.method));
    svg.text(std::max(x0, x1) + 5, y + 19, shown, "start", "value");
  }
  return svg.finish();
}

std::string layer_breakdown_chart(const json& targets) {
  struct Segment {
    std::string layer;
    double seconds;
  };
  struct Row {
    std::string label;
    size_t index;
    double total = 0.0;
    std::vector<Segment> segments;
  };
  std::vector<Row> rows;
  std::vector<std::string> layer_order;         // first-seen order
  std::map<std::string, double> layer_share;    // summed fraction over targets
  for (size_t i = 0; i < targets.size(); ++i) {
    const json* layers = array_at(targets[i], "layers");
    if (layers == nullptr) continue;
    Row row{string_at(targets[i], "target", "?"), i};
    for (size_t l = 0; l < layers->size(); ++l) {
      const auto seconds = number_at((*layers)[l], "seconds");
      if (!seconds || *seconds <= 0.0) continue;
      std::string name = string_at((*layers)[l], "name", fmt::format("layer {}", l));
      row.segments.push_back({name, *seconds});
      row.total += *seconds;
      if (!layer_share.count(name)) layer_order.push_back(name);
      layer_share[name] += 0.0;
    }
    if (row.total <= 0.0) continue;
    for (const Segment& s : row.segments) layer_share[s.layer] += s.seconds / row.total;
    rows.push_back(std::move(row));
  }
  if (rows.empty()) return empty_chart("No target reports per-layer times.");

  // Nine named layers at most; the rest (smallest overall share) merge into "other".
  constexpr size_t kMaxNamed = 9;
  std::vector<std::string> named = layer_order;
  if (named.size() > kMaxNamed) {
    std::vector<std::string> by_share = layer_order;
    std::stable_sort(by_share.begin(), by_share.end(), [&](const auto& a, const auto& b) {
      return layer_share[a] > layer_share[b];
    });
    by_share.resize(kMaxNamed);
    std::erase_if(named, [&](const std::string& n) {
      return std::find(by_share.begin(), by_share.end(), n) == by_share.end();
    });
  }
  const bool has_other = named.size() < layer_order.size();
  auto colour_of = [&](const std::string& layer) -> std::string_view {
    auto it = std::find(named.begin(), named.end(), layer);
    if (it == named.end()) return kOtherLayers;
    return kLayerPalette[static_cast<size_t>(it - named.begin()) % kLayerPalette.size()];
  };

  constexpr double kRow = 30.0, kTop = 10.0, kLeft = 150.0;
  const int width = 940;
  const double plot_bottom = kTop + kRow * rows.size();
  const size_t legend_items = named.size() + (has_other ? 1 : 0);
  const size_t legend_rows = (legend_items + 4) / 5;
  const int height = static_cast<int>(plot_bottom + 44 + 20 * legend_rows + 6);
  const PlotArea area{kLeft, kTop, width - 110.0, plot_bottom};
  const Scale x = Scale::linear(0.0, 1.0, area.left, area.right);
  Svg svg("chart-layers", width, height, "time per layer, per target");
  draw_x_axis(svg, x, area, "share of the target's time at the throughput batch",
              tick_format("%"));
  for (size_t r = 0; r < rows.size(); ++r) {
    const Row& row = rows[r];
    const double y = area.top + kRow * r;
    svg.text(kLeft - 8, y + 19, shorten(row.label, 20), "end", "label");
    double acc = 0.0;
    for (const Segment& s : row.segments) {
      const double share = s.seconds / row.total;
      const double x0 = x(acc), x1 = x(acc + share);
      svg.rect(x0, y + 6, x1 - x0, 18, colour_of(s.layer),
               fmt::format("{} \u00b7 {}: {} ({})", row.label, s.layer, format_si(s.seconds, "s"),
                           format_percent(share)),
               "stroke=\"#ffffff\" stroke-width=\"0.5\"");
      if (x1 - x0 > 38) {
        svg.text((x0 + x1) / 2, y + 19, format_percent(share, 0), "middle", "in-bar");
      }
      acc += share;
    }
    svg.text(area.right + 6, y + 19, "\u03a3 " + format_si(row.total, "s"), "start", "value");
  }
  // Legend: five entries a row under the axis.
  std::vector<std::string> legend = named;
  if (has_other) legend.push_back("other");
  for (size_t k = 0; k < legend.size(); ++k) {
    const double lx = kLeft + (k % 5) * 150.0;
    const double ly = plot_bottom + 48 + 20.0 * (k / 5);
    svg.rect(lx, ly - 10, 12, 12, k < named.size() ? colour_of(legend[k]) : kOtherLayers);
    svg.text(lx + 17, ly, shorten(legend[k], 18), "start", "legend");
  }
  return svg.finish();
}

}  // namespace tessera::report
