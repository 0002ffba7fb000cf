// The self-contained HTML report: one file, no network, inline SVG charts, rendered from
// the JSON that `tessera compare`, `explore` and `advise` write (schema
// tessera.compare_report/1, docs/report.md). The HTML is a pure function of that JSON, so
// a saved report.json can be re-rendered and the renderer is tested without running models.
//
//   nlohmann::json j = comparison_to_json(result);        // the command's own JSON
//   write_file_atomic("report.html", render_html_report(j));
//   render_html_report_file("report.json", "report.html");   // re-render a saved report
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace tessera::report {

// Throws Error(kInvalidArgument) naming the field when `report` does not follow the schema.
std::string render_html_report(const nlohmann::json& report);

// Re-renders a saved report: reads the JSON at `json_path` and writes the page to
// `html_path` atomically. Throws Error naming the path when it cannot be read or parsed.
void render_html_report_file(const std::string& json_path, const std::string& html_path);

}  // namespace tessera::report
