// Helpers shared by the chart files: labels that fit and tick formats.
//
//   svg.text(x, y, shorten(target_name, 20), "end", "label");
//   draw_x_axis(svg, scale, area, "latency", tick_format("s"));   // ticks "10 µs", "1 ms"
#pragma once

#include <string>
#include <string_view>

#include "svg.h"

namespace tessera::report {

// At most `max_chars` characters (UTF-8 aware), with "…" when cut.
std::string shorten(std::string_view text, size_t max_chars);

// A tick formatter for a unit: "%" shows a 0..1 fraction as a percentage, else SI.
TickFormat tick_format(std::string_view unit);

// A value formatted like the ticks of `unit`, for labels and tooltips.
std::string format_value(double value, std::string_view unit);

}  // namespace tessera::report
