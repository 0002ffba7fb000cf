// Accuracy against precision: what each target's numerics cost in accuracy.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
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

// The width in bits a numerics name speaks of: "f32" 32, "bf16" 16, "fixed<16,6>" 16,
// "tf32" 19 (its mantissa is 10 bits); 0 when it names none.
int precision_bits(std::string_view numerics) {
  std::string lower;
  for (char c : numerics) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "tf32") return 19;
  for (size_t i = 0; i < lower.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(lower[i]))) {
      int bits = 0;
      for (size_t j = i; j < lower.size() && std::isdigit(static_cast<unsigned char>(lower[j]));
           ++j) {
        bits = std::min(bits * 10 + (lower[j] - '0'), 1 << 20);
      }
      return bits;
    }
  }
  return 0;
}

}  // namespace

std::string accuracy_chart(const json& report) {
  struct Point {
    size_t target;
    std::string numerics;
    double accuracy;
  };
  std::vector<Point> points;
  std::vector<std::string> categories;
  auto add = [&](size_t target, const std::string& numerics, double accuracy) {
    if (numerics.empty()) return;
    for (const Point& p : points) {
      if (p.target == target && p.numerics == numerics) return;  // listed twice
    }
    points.push_back({target, numerics, accuracy});
    if (std::find(categories.begin(), categories.end(), numerics) == categories.end()) {
      categories.push_back(numerics);
    }
  };
  const json* targets = array_at(report, "targets");
  std::vector<std::string> names;
  for (size_t i = 0; targets != nullptr && i < targets->size(); ++i) {
    const json& t = (*targets)[i];
    names.push_back(string_at(t, "target", "?"));
    if (auto a = number_at(t, "accuracy")) add(i, string_at(t, "numerics"), *a);
    if (const json* more = array_at(t, "accuracy_by_precision")) {
      for (const json& entry : *more) {
        if (auto a = number_at(entry, "accuracy")) add(i, string_at(entry, "numerics"), *a);
      }
    }
  }
  std::optional<double> reference;
  if (const json* model = object_at(report, "model")) {
    if (const json* training = object_at(*model, "training")) {
      reference = number_at(*training, "test_accuracy");
    }
  }
  if (points.empty()) return empty_chart("No target reports an accuracy.");

  // Widest numerics on the left: reading rightwards is reading "cheaper and coarser".
  std::stable_sort(categories.begin(), categories.end(), [](const auto& a, const auto& b) {
    return precision_bits(a) > precision_bits(b);
  });
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const Point& p : points) lo = std::min(lo, p.accuracy), hi = std::max(hi, p.accuracy);
  if (reference) lo = std::min(lo, *reference), hi = std::max(hi, *reference);
  // Zoom on the data (differences are often a fraction of a point) but keep within 0..1.
  const double pad = std::max((hi - lo) * 0.15, 0.002);
  lo = std::max(0.0, lo - pad);
  hi = std::min(1.0, hi + pad);

  std::vector<bool> has_points(names.size(), false);
  for (const Point& p : points) has_points[p.target] = true;
  const size_t shown = static_cast<size_t>(std::count(has_points.begin(), has_points.end(), true));
  const int width = 720;
  const size_t legend_rows = (shown + 4) / 5;
  const int height = static_cast<int>(316 + 20 * legend_rows);
  const PlotArea area{74, 14, width - 20.0, 240};
  const Scale y = Scale::linear(lo, hi, area.bottom, area.top);
  Svg svg("chart-accuracy", width, height, "accuracy against numerics per target");
  draw_y_axis(svg, y, area, "test accuracy", tick_format("%"));
  const double band = (area.right - area.left) / categories.size();
  auto cx = [&](const std::string& numerics, size_t target) {
    const size_t c = static_cast<size_t>(
        std::find(categories.begin(), categories.end(), numerics) - categories.begin());
    // Dodge targets inside a category so equal accuracies stay visible.
    const double dodge = names.size() > 1
                             ? (static_cast<double>(target) / (names.size() - 1) - 0.5) * band * 0.4
                             : 0.0;
    return area.left + band * (c + 0.5) + dodge;
  };
  // Narrow bands stagger their labels over two rows so long names (fixed<16,6>) stay apart.
  const bool stagger = band < 80.0;
  for (size_t c = 0; c < categories.size(); ++c) {
    const double x = area.left + band * (c + 0.5);
    const double dy = stagger && c % 2 == 1 ? 13.0 : 0.0;
    svg.line(x, area.bottom, x, area.bottom + 4 + dy, "#59606b");
    svg.text(x, area.bottom + 16 + dy, shorten(categories[c], 14), "middle", "tick");
  }
  svg.line(area.left, area.bottom, area.right, area.bottom, "#59606b");
  svg.text((area.left + area.right) / 2, area.bottom + 46, "numerics (widest first)", "middle",
           "axis-title");
  if (reference) {
    svg.line(area.left, y(*reference), area.right, y(*reference), "#59606b", 1.2, "5 4");
    svg.text(area.right - 4, y(*reference) - 5,
             "trained model: " + format_percent(*reference, 2), "end", "roof");
  }
  for (size_t t = 0; t < names.size(); ++t) {
    std::vector<std::pair<double, double>> line;
    std::vector<const Point*> mine;
    for (const Point& p : points) {
      if (p.target == t) mine.push_back(&p);
    }
    std::sort(mine.begin(), mine.end(), [&](const Point* a, const Point* b) {
      return cx(a->numerics, t) < cx(b->numerics, t);
    });
    for (const Point* p : mine) line.emplace_back(cx(p->numerics, t), y(p->accuracy));
    svg.polyline(line, target_colour(t), 1.5);
    for (const Point* p : mine) {
      svg.circle(cx(p->numerics, t), y(p->accuracy), 5, target_colour(t), "#ffffff",
                 fmt::format("{} in {}: {}", names[t], p->numerics, format_percent(p->accuracy, 2)),
                 1.2);
    }
  }
  for (size_t t = 0, k = 0; t < names.size(); ++t) {
    if (!has_points[t]) continue;
    const double lx = area.left + (k % 5) * 125.0;
    const double ly = area.bottom + 70 + 20.0 * (k / 5);
    svg.circle(lx + 5, ly - 4, 5, target_colour(t), "#ffffff");
    svg.text(lx + 14, ly, shorten(names[t], 16), "start", "legend");
    ++k;
  }
  return svg.finish();
}

}  // namespace tessera::report
