#include "svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "text.h"

namespace tessera::report {

std::string svg_number(double value) {
  if (!std::isfinite(value)) return "0";
  // Pixel coordinates stay within a few thousand; clamp wild values before printing.
  value = std::clamp(value, -1e6, 1e6);
  std::string out = fmt::format("{:.1f}", value);
  if (out.size() > 2 && out.compare(out.size() - 2, 2, ".0") == 0) out.resize(out.size() - 2);
  if (out == "-0") out = "0";
  return out;
}

namespace {

// The 1, 2, 5 × 10^k step giving about `count` intervals over `span`.
double nice_step(double span, int count) {
  const double raw = span / count;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double fraction = raw / magnitude;
  const double nice = fraction <= 1.0 ? 1.0 : fraction <= 2.0 ? 2.0 : fraction <= 5.0 ? 5.0 : 10.0;
  return nice * magnitude;
}

bool finite_all(double a, double b) { return std::isfinite(a) && std::isfinite(b); }

}  // namespace

Scale Scale::linear(double lo, double hi, double px_lo, double px_hi) {
  if (!finite_all(lo, hi)) lo = 0.0, hi = 1.0;
  if (lo > hi) std::swap(lo, hi);
  if (hi - lo <= std::max(std::fabs(hi), 1e-300) * 1e-9) {
    const double pad = lo == 0.0 ? 1.0 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double step = nice_step(hi - lo, 5);
  lo = std::floor(lo / step + 1e-9) * step;
  hi = std::ceil(hi / step - 1e-9) * step;
  return Scale(lo, hi, px_lo, px_hi, false, step);
}

Scale Scale::log(double lo, double hi, double px_lo, double px_hi) {
  if (!finite_all(lo, hi) || hi <= 0.0) lo = 1.0, hi = 10.0;
  if (lo <= 0.0) lo = hi / 1e3;
  if (lo > hi) std::swap(lo, hi);
  double dlo = std::floor(std::log10(lo) + 1e-9);
  double dhi = std::ceil(std::log10(hi) - 1e-9);
  if (dhi <= dlo) dhi = dlo + 1.0;
  return Scale(std::pow(10.0, dlo), std::pow(10.0, dhi), px_lo, px_hi, true, 0.0);
}

Scale Scale::auto_for(double lo, double hi, double px_lo, double px_hi, double ratio) {
  if (finite_all(lo, hi) && lo > 0.0 && hi / lo >= ratio) return log(lo, hi, px_lo, px_hi);
  return linear(std::min(0.0, lo), hi, px_lo, px_hi);
}

double Scale::operator()(double value) const {
  if (!std::isfinite(value)) value = lo_;
  value = std::clamp(value, lo_, hi_);
  double t;
  if (log_) {
    t = (std::log10(value) - std::log10(lo_)) / (std::log10(hi_) - std::log10(lo_));
  } else {
    t = (value - lo_) / (hi_ - lo_);
  }
  if (!std::isfinite(t)) t = 0.0;
  return px_lo_ + t * (px_hi_ - px_lo_);
}

std::vector<double> Scale::ticks() const {
  std::vector<double> out;
  if (log_) {
    const int dlo = static_cast<int>(std::lround(std::log10(lo_)));
    const int dhi = static_cast<int>(std::lround(std::log10(hi_)));
    const int decades = dhi - dlo;
    // Up to ~8 labelled ticks: every decade, every other one when wider, 1-2-5 within one.
    const int every = std::max(1, (decades + 7) / 8);
    for (int d = dlo; d <= dhi; d += every) {
      const double decade = std::pow(10.0, d);
      out.push_back(decade);
      if (decades <= 1 && d < dhi) {
        out.push_back(2.0 * decade);
        out.push_back(5.0 * decade);
      }
    }
    return out;
  }
  const int count = static_cast<int>(std::lround((hi_ - lo_) / step_));
  for (int i = 0; i <= count && i <= 20; ++i) {
    double v = lo_ + i * step_;
    if (std::fabs(v) < step_ * 1e-9) v = 0.0;
    out.push_back(v);
  }
  return out;
}

Svg::Svg(std::string_view id, int width, int height, std::string_view label)
    : id_(id), label_(label), width_(width), height_(height) {}

namespace {


std::string dash_attribute(std::string_view dash) {
  return dash.empty() ? std::string() : fmt::format(" stroke-dasharray=\"{}\"", html_escape(dash));
}

}  // namespace

// Ends an element opened without its '>': self-closing, or with a <title> child (a tooltip).
// Appended piecewise: g++ 12 warns (-Wrestrict) on `"literal" + std::string&&` here.
void Svg::close_element(std::string_view tag, std::string_view title) {
  if (title.empty()) {
    body_ += "/>";
    return;
  }
  body_ += "><title>";
  body_ += html_escape(title);
  body_ += "</title></";
  body_ += tag;
  body_ += '>';
}

void Svg::rect(double x, double y, double w, double h, std::string_view fill,
               std::string_view title, std::string_view extra) {
  body_ += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"{}{}",
                       svg_number(x), svg_number(y), svg_number(std::max(0.0, w)),
                       svg_number(std::max(0.0, h)), html_escape(fill),
                       extra.empty() ? "" : " ", extra);
  close_element("rect", title);
}

void Svg::line(double x1, double y1, double x2, double y2, std::string_view stroke,
               double stroke_width, std::string_view dash) {
  body_ += fmt::format(
      "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{}/>",
      svg_number(x1), svg_number(y1), svg_number(x2), svg_number(y2), html_escape(stroke),
      svg_number(stroke_width), dash_attribute(dash));
}

void Svg::circle(double cx, double cy, double r, std::string_view fill, std::string_view stroke,
                 std::string_view title, double stroke_width) {
  body_ += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\" stroke=\"{}\" "
                       "stroke-width=\"{}\"",
                       svg_number(cx), svg_number(cy), svg_number(r), html_escape(fill),
                       html_escape(stroke), svg_number(stroke_width));
  close_element("circle", title);
}

void Svg::polyline(const std::vector<std::pair<double, double>>& points, std::string_view stroke,
                   double stroke_width, std::string_view dash) {
  if (points.size() < 2) return;
  std::string coords;
  for (const auto& [x, y] : points) {
    if (!coords.empty()) coords += ' ';
    coords += svg_number(x) + "," + svg_number(y);
  }
  body_ += fmt::format(
      "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" "
      "stroke-linejoin=\"round\"{}/>",
      coords, html_escape(stroke), svg_number(stroke_width), dash_attribute(dash));
}

void Svg::text(double x, double y, std::string_view content, std::string_view anchor,
               std::string_view cls, std::string_view extra) {
  body_ += fmt::format("<text x=\"{}\" y=\"{}\"", svg_number(x), svg_number(y));
  if (anchor != "start") body_ += fmt::format(" text-anchor=\"{}\"", html_escape(anchor));
  if (!cls.empty()) body_ += fmt::format(" class=\"{}\"", html_escape(cls));
  if (!extra.empty()) body_ += fmt::format(" {}", extra);
  body_ += '>';
  body_ += html_escape(content);
  body_ += "</text>";
}

std::string Svg::finish() const {
  return fmt::format(
      "<svg id=\"{}\" class=\"chart\" width=\"{}\" "
      "height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">"
      "<rect class=\"chart-bg\" x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>"
      "{}</svg>",
      html_escape(id_), width_, height_, width_, height_, html_escape(label_), width_, height_,
      body_);
}

void draw_x_axis(Svg& svg, const Scale& scale, const PlotArea& area, std::string_view title,
                 const TickFormat& format) {
  // Labels that would overlap the previous one are left out (their gridline stays). The
  // width is estimated at the tick font's average advance, ~6.2 px a character.
  double last_right = -1e9;
  for (double tick : scale.ticks()) {
    const double x = scale(tick);
    svg.line(x, area.top, x, area.bottom, "#e3e6ea");
    svg.line(x, area.bottom, x, area.bottom + 4, "#59606b");
    const std::string label = format(tick);
    const double half = 3.1 * static_cast<double>(label.size()) + 4;
    if (x - half < last_right) continue;
    svg.text(x, area.bottom + 16, label, "middle", "tick");
    last_right = x + half;
  }
  svg.line(area.left, area.bottom, area.right, area.bottom, "#59606b");
  svg.text((area.left + area.right) / 2, area.bottom + 34, title, "middle", "axis-title");
}

void draw_y_axis(Svg& svg, const Scale& scale, const PlotArea& area, std::string_view title,
                 const TickFormat& format) {
  for (double tick : scale.ticks()) {
    const double y = scale(tick);
    svg.line(area.left, y, area.right, y, "#e3e6ea");
    svg.line(area.left - 4, y, area.left, y, "#59606b");
    svg.text(area.left - 7, y + 4, format(tick), "end", "tick");
  }
  svg.line(area.left, area.top, area.left, area.bottom, "#59606b");
  const double cy = (area.top + area.bottom) / 2;
  svg.text(14, cy, title, "middle", "axis-title",
           fmt::format("transform=\"rotate(-90 14 {})\"", svg_number(cy)));
}

}  // namespace tessera::report
