// Scatter plots of a design-space exploration over two objectives at a time.
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

namespace {

std::string config_summary(const json& point) {
  std::string out;
  if (const json* config = object_at(point, "config")) {
    for (const auto& [key, value] : config->items()) {
      if (!out.empty()) out += ", ";
      out += key + "=" + value_text(value);
    }
  }
  return out.empty() ? "(base configuration)" : out;
}

}  // namespace

std::string pareto_chart(const json& exploration, const ParetoSpec& spec) {
  struct Point {
    double x, y;
    bool pareto;
    std::string config;
  };
  std::vector<Point> points;
  size_t total = 0;
  const json* all = array_at(exploration, "points");
  for (size_t i = 0; all != nullptr && i < all->size(); ++i) {
    const json& p = (*all)[i];
    ++total;
    if (!string_at(p, "error").empty()) continue;
    const auto x = number_at(p, spec.x_key);
    const auto y = number_at(p, spec.y_key);
    if (!x || !y) continue;
    const auto flag = p.find("pareto");
    points.push_back({*x, *y, flag != p.end() && flag->is_boolean() && flag->get<bool>(),
                      config_summary(p)});
  }
  if (points.empty()) {
    return empty_chart(fmt::format("No configuration reports both {} and {}.", spec.x_axis,
                                   spec.y_axis));
  }
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  for (const Point& p : points) {
    x_lo = std::min(x_lo, p.x), x_hi = std::max(x_hi, p.x);
    y_lo = std::min(y_lo, p.y), y_hi = std::max(y_hi, p.y);
  }
  const int width = 460, height = 320;
  const PlotArea area{78, 14, width - 16.0, height - 52.0};
  // Log where an objective spans decades (latency, energy, area); accuracy stays linear and
  // zoomed on its range.
  auto make_scale = [](double lo, double hi, double px_lo, double px_hi, std::string_view unit) {
    if (unit == "%") {
      const double pad = std::max((hi - lo) * 0.1, 0.002);
      return Scale::linear(std::max(0.0, lo - pad), std::min(1.0, hi + pad), px_lo, px_hi);
    }
    if (lo > 0 && hi / lo >= 10.0) return Scale::log(lo, hi, px_lo, px_hi);
    const double pad = std::max((hi - lo) * 0.1, std::fabs(hi) * 0.05);
    return Scale::linear(std::max(0.0, lo - pad), hi + pad, px_lo, px_hi);
  };
  const Scale x = make_scale(x_lo, x_hi, area.left, area.right, spec.x_unit);
  const Scale y = make_scale(y_lo, y_hi, area.bottom, area.top, spec.y_unit);
  Svg svg(spec.id, width, height, fmt::format("{} against {}", spec.y_axis, spec.x_axis));
  draw_x_axis(svg, x, area,
              fmt::format("{}{} ({})", spec.x_axis, x.is_log() ? ", log" : "",
                          spec.x_lower_is_better ? "lower is better" : "higher is better"),
              tick_format(spec.x_unit));
  draw_y_axis(svg, y, area,
              fmt::format("{}{} ({})", spec.y_axis, y.is_log() ? ", log" : "",
                          spec.y_lower_is_better ? "lower is better" : "higher is better"),
              tick_format(spec.y_unit));

  // The front of these two objectives: the points no other point beats on both. Sorted by
  // x it is a staircase; the region behind it is what this pair of objectives rules out.
  auto better_or_equal = [](double a, double b, bool lower) { return lower ? a <= b : a >= b; };
  std::vector<const Point*> front;
  for (const Point& p : points) {
    bool dominated = false;
    for (const Point& q : points) {
      if (&q == &p) continue;
      const bool as_good = better_or_equal(q.x, p.x, spec.x_lower_is_better) &&
                           better_or_equal(q.y, p.y, spec.y_lower_is_better);
      const bool strictly = q.x != p.x || q.y != p.y;
      if (as_good && strictly) {
        dominated = true;
        break;
      }
    }
    if (!dominated) front.push_back(&p);
  }
  std::sort(front.begin(), front.end(), [](const Point* a, const Point* b) {
    return a->x != b->x ? a->x < b->x : a->y < b->y;
  });
  std::vector<std::pair<double, double>> stairs;
  for (size_t i = 0; i < front.size(); ++i) {
    if (i > 0) stairs.emplace_back(x(front[i]->x), y(front[i - 1]->y));
    stairs.emplace_back(x(front[i]->x), y(front[i]->y));
  }
  svg.polyline(stairs, "#e15759", 1.8, "");

  // Dominated points first, so the highlighted ones are drawn on top.
  size_t on_front = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (const Point& p : points) {
      if (p.pareto != (pass == 1)) continue;
      const std::string tip =
          fmt::format("{}: {} {}, {} {}{}", p.config, spec.x_axis, format_value(p.x, spec.x_unit),
                      spec.y_axis, format_value(p.y, spec.y_unit), p.pareto ? " (Pareto)" : "");
      if (p.pareto) {
        ++on_front;
        svg.circle(x(p.x), y(p.y), 5.5, "#e15759", "#ffffff", tip, 1.2);
      } else {
        svg.circle(x(p.x), y(p.y), 4, "#ffffff", "#7b8390", tip, 1.4);
      }
    }
  }
  svg.text(area.right - 4, area.top + 12,
           fmt::format("{} of {} configurations \u00b7 {} Pareto", points.size(), total, on_front),
           "end", "sublabel");
  return svg.finish();
}

}  // namespace tessera::report
