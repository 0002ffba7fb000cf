// Text for the HTML report: escaping every string that comes from the JSON, and the
// human-readable numbers (SI prefixes, percentages) shared by the tables and the charts.
//
//   out += "<td>" + html_escape(name) + "</td>";
//   format_si(1.2e-5, "s")   // "12.0 µs"
#pragma once

#include <string>
#include <string_view>

namespace tessera::report {

// Escapes & < > " ' so a string is safe as element text and inside quoted attributes.
std::string html_escape(std::string_view text);

// A value with an SI prefix and a unit, 3 significant digits: 1.2e-5 s → "12.0 µs".
// Non-finite values give "—": a figure that cannot be shown is never printed as nan.
std::string format_si(double value, std::string_view unit);

// For axis ticks: like format_si but without trailing zeros ("2 µs", "1.5 GOP/s").
std::string format_tick(double value, std::string_view unit);

// A plain number with 3–4 significant digits, SI-prefixed when large: 235146 → "235k".
std::string format_count(double value);

// A 0..1 fraction as a percentage: 0.8650 → "86.50 %" (digits after the point).
std::string format_percent(double fraction, int digits = 1);

// "—", the mark for a figure the report does not have.
inline constexpr std::string_view kMissing = "\u2014";

}  // namespace tessera::report
