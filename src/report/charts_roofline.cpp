// The roofline of one target: attainable ops/s = min(peak, bandwidth × intensity), on
// log–log axes, with each layer at its arithmetic intensity and achieved ops/s.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "chart_util.h"
#include "charts.h"
#include "report_json.h"
#include "text.h"

namespace tessera::report {

using nlohmann::json;

std::string roofline_chart(const json& target, size_t index) {
  const std::string name = string_at(target, "target", "?");
  const auto peak = number_at(target, "peak_ops_per_second");
  const auto bandwidth = number_at(target, "memory_bandwidth_bytes_per_second");
  struct Point {
    std::string name, bound;
    double intensity, achieved;
  };
  std::vector<Point> points;
  size_t skipped = 0;
  if (const json* layers = array_at(target, "layers")) {
    for (size_t l = 0; l < layers->size(); ++l) {
      const json& layer = (*layers)[l];
      const auto macs = number_at(layer, "macs");
      const auto bytes = number_at(layer, "bytes");
      const auto seconds = number_at(layer, "seconds");
      // A layer without MACs (an activation) has no place on a roofline of MAC throughput.
      if (!macs || !bytes || !seconds || *macs <= 0 || *bytes <= 0 || *seconds <= 0) {
        ++skipped;
        continue;
      }
      points.push_back({string_at(layer, "name", fmt::format("layer {}", l)),
                        string_at(layer, "bound"), 2.0 * *macs / *bytes, 2.0 * *macs / *seconds});
    }
  }
  const bool has_peak = peak && *peak > 0;
  const bool has_bw = bandwidth && *bandwidth > 0;
  if (points.empty() && !(has_peak && has_bw)) {
    return empty_chart(fmt::format("{}: no roofline (no peak, bandwidth or per-layer figures).",
                                   name));
  }

  // Domains cover the points and the ridge (peak / bandwidth) with some air either side.
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = 0.0;
  double y_lo = std::numeric_limits<double>::infinity(), y_hi = 0.0;
  for (const Point& p : points) {
    x_lo = std::min(x_lo, p.intensity), x_hi = std::max(x_hi, p.intensity);
    y_lo = std::min(y_lo, p.achieved), y_hi = std::max(y_hi, p.achieved);
  }
  const double ridge = has_peak && has_bw ? *peak / *bandwidth : 0.0;
  if (ridge > 0) x_lo = std::min(x_lo, ridge), x_hi = std::max(x_hi, ridge);
  x_lo /= 3.0, x_hi *= 3.0;
  if (has_peak) y_hi = std::max(y_hi, *peak);
  if (has_bw) y_lo = std::min(y_lo, *bandwidth * x_lo);
  if (has_peak && !has_bw && points.empty()) y_lo = *peak / 100.0;
  y_lo /= 3.0, y_hi *= 2.0;

  const int width = 430, height = 300;
  const PlotArea area{92, 14, width - 16.0, height - 52.0};
  const Scale x = Scale::log(x_lo, x_hi, area.left, area.right);
  const Scale y = Scale::log(y_lo, y_hi, area.bottom, area.top);
  Svg svg(fmt::format("chart-roofline-{}", index), width, height,
          fmt::format("roofline of {}", name));
  draw_x_axis(svg, x, area, "arithmetic intensity (ops/byte, log)",
              [](double v) { return v >= 1000 ? format_tick(v, "") : fmt::format("{:g}", v); });
  draw_y_axis(svg, y, area, "achieved ops/s (log)", tick_format("OP/s"));

  // The roof: bandwidth × intensity up to the ridge, flat at the peak after it.
  const std::string_view roof_colour = "#2f3540";
  if (has_peak && has_bw) {
    svg.polyline({{x(x.lo()), y(*bandwidth * x.lo())}, {x(ridge), y(*peak)}, {x(x.hi()), y(*peak)}},
                 roof_colour, 2.0);
    svg.line(x(ridge), y(*peak), x(ridge), area.bottom, "#8a919c", 1.0, "3 3");
  } else if (has_peak) {
    svg.line(area.left, y(*peak), area.right, y(*peak), roof_colour, 2.0);
  } else if (has_bw) {
    svg.polyline({{x(x.lo()), y(*bandwidth * x.lo())}, {x(x.hi()), y(*bandwidth * x.hi())}},
                 roof_colour, 2.0);
  }
  if (has_peak) {
    svg.text(area.right - 4, y(*peak) - 6, "peak " + format_si(*peak, "OP/s"), "end", "roof");
  }
  if (has_bw) {
    // Label the slope near its lower-left end, where it is clear of the points.
    const double lx = x(x.lo()) + 8;
    const double ly = y(*bandwidth * x.lo() * 1.6) - 8;
    svg.text(lx, std::clamp(ly, area.top + 12, area.bottom - 6),
             format_si(*bandwidth, "B/s"), "start", "roof");
  }
  for (const Point& p : points) {
    svg.circle(x(p.intensity), y(p.achieved), 5, bound_colour(p.bound), "#ffffff",
               fmt::format("{}: {} ops/byte, {}{}", p.name, format_count(p.intensity),
                           format_si(p.achieved, "OP/s"),
                           p.bound.empty() ? "" : ", " + p.bound + "-bound"),
               1.2);
  }
  // Tag the figure with the target's colour so it matches the bars.
  svg.rect(area.left + 6, area.top + 6, 10, 10, target_colour(index));
  svg.text(area.left + 21, area.top + 15, shorten(name, 34), "start", "label");
  if (points.empty()) {
    svg.text((area.left + area.right) / 2, (area.top + area.bottom) / 2, "no per-layer figures",
             "middle", "missing");
  } else if (skipped > 0) {
    svg.text(area.left + 21, area.top + 29,
             fmt::format("{} layer{} without MACs not shown", skipped, skipped == 1 ? "" : "s"),
             "start", "sublabel");
  }
  return svg.finish();
}

}  // namespace tessera::report
