// A small SVG builder for the report's charts: scales (linear and log, with "nice" ticks),
// axes with gridlines, and shapes whose coordinates are always finite. Every string given
// to it is escaped; markup passed to raw() is trusted.
//
//   Svg svg("chart-latency", 480, 220, "Latency at batch 1");
//   PlotArea area{140, 12, 410, 180};
//   Scale x = Scale::log(1e-6, 3e-3, area.left, area.right);
//   draw_x_axis(svg, x, area, "latency", [](double v) { return format_si(v, "s"); });
//   svg.rect(area.left, 20, x(2e-5) - area.left, 18, "#4e79a7", "cpu: 20 µs");
//   std::string markup = svg.finish();
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::report {

// A coordinate as SVG text: one decimal, and 0 for a non-finite value (never "nan").
std::string svg_number(double value);

// Maps a data domain onto a pixel range. Values outside the domain (and, on a log scale,
// values <= 0) are clamped to its ends, so a mapped coordinate is always finite.
class Scale {
 public:
  // The domain is widened to "nice" round ends (1, 2, 5 × 10^k steps); lo == hi is widened.
  static Scale linear(double lo, double hi, double px_lo, double px_hi);
  // The domain is widened to whole decades; lo must be > 0 (smaller values are raised).
  static Scale log(double lo, double hi, double px_lo, double px_hi);
  // Log when both ends are positive and span at least `ratio`, else linear from zero.
  static Scale auto_for(double lo, double hi, double px_lo, double px_hi, double ratio = 30.0);

  double operator()(double value) const;
  std::vector<double> ticks() const;
  bool is_log() const { return log_; }
  double lo() const { return lo_; }
  double hi() const { return hi_; }
  double px_lo() const { return px_lo_; }
  double px_hi() const { return px_hi_; }

 private:
  Scale(double lo, double hi, double px_lo, double px_hi, bool log, double step)
      : lo_(lo), hi_(hi), px_lo_(px_lo), px_hi_(px_hi), log_(log), step_(step) {}
  double lo_, hi_, px_lo_, px_hi_;
  bool log_;
  double step_;  // linear tick step
};

// The plot rectangle inside an SVG, in pixels (top < bottom).
struct PlotArea {
  double left, top, right, bottom;
};

class Svg {
 public:
  // `id` lets pages and tests find the chart; `label` is its accessible name.
  Svg(std::string_view id, int width, int height, std::string_view label);

  int width() const { return width_; }
  int height() const { return height_; }

  // `title` (optional) becomes a native tooltip; `extra` is trusted attribute text.
  void rect(double x, double y, double w, double h, std::string_view fill,
            std::string_view title = "", std::string_view extra = "");
  void line(double x1, double y1, double x2, double y2, std::string_view stroke,
            double stroke_width = 1.0, std::string_view dash = "");
  void circle(double cx, double cy, double r, std::string_view fill, std::string_view stroke,
              std::string_view title = "", double stroke_width = 1.0);
  void polyline(const std::vector<std::pair<double, double>>& points, std::string_view stroke,
                double stroke_width = 1.5, std::string_view dash = "");
  // anchor: start | middle | end. `cls` is a CSS class of the page's stylesheet.
  void text(double x, double y, std::string_view content, std::string_view anchor = "start",
            std::string_view cls = "", std::string_view extra = "");
  void raw(std::string_view markup) { body_ += markup; }

  std::string finish() const;

 private:
  void close_element(std::string_view tag, std::string_view title);

  std::string id_;
  std::string label_;
  int width_, height_;
  std::string body_;
};

using TickFormat = std::function<std::string(double)>;

// Axis line, ticks, tick labels, light gridlines across the plot and the axis title.
void draw_x_axis(Svg& svg, const Scale& scale, const PlotArea& area, std::string_view title,
                 const TickFormat& format);
void draw_y_axis(Svg& svg, const Scale& scale, const PlotArea& area, std::string_view title,
                 const TickFormat& format);

}  // namespace tessera::report
