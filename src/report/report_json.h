// Reading a tessera.compare_report/1 document (docs/report.md): the schema check that runs
// before anything is drawn, and lenient accessors that turn missing, null, mistyped or
// non-finite figures into "absent" so the renderer never draws a NaN.
//
//   validate_report(doc);                                  // throws naming the field
//   if (auto s = number_at(target, "latency_seconds")) draw(*s);
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tessera::report {

inline constexpr std::string_view kReportSchema = "tessera.compare_report/1";

// Throws Error(kInvalidArgument) naming the field ("targets[2].latency_seconds") and the
// type expected when the document does not follow the schema. Optional fields may be
// absent or null; when present they must have the documented type.
void validate_report(const nlohmann::json& report);

// A finite number under `key`, else nullopt (absent, null, not a number, NaN or inf).
std::optional<double> number_at(const nlohmann::json& object, std::string_view key);

// The string under `key`, else `fallback`.
std::string string_at(const nlohmann::json& object, std::string_view key,
                      std::string_view fallback = "");

// The array or object under `key`, else nullptr.
const nlohmann::json* array_at(const nlohmann::json& object, std::string_view key);
const nlohmann::json* object_at(const nlohmann::json& object, std::string_view key);

// A scalar as text for a table cell (strings verbatim, numbers compact, null as "—");
// objects and arrays as compact JSON. Not escaped.
std::string value_text(const nlohmann::json& value);

}  // namespace tessera::report
