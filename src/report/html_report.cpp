// Placeholder until the renderer lands: a page with the JSON, so callers link.
#include "tessera/report/html_report.h"

namespace tessera::report {

std::string render_html_report(const nlohmann::json& report) {
  return "<!DOCTYPE html><html><body><pre>" + report.dump(2) + "</pre></body></html>\n";
}

}  // namespace tessera::report
