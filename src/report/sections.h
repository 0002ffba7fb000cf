// The report's HTML sections other than charts: the model header, the comparison table,
// the exploration's table of points and the advice.
//
//   page += header_section(report);
//   page += comparison_table(report);
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace tessera::report {

std::string header_section(const nlohmann::json& report);
std::string comparison_table(const nlohmann::json& report);
std::string exploration_table(const nlohmann::json& exploration);
std::string advice_section(const nlohmann::json& advice);

// A coloured badge for a method ("measured", "modelled", "simulated").
std::string method_badge(const std::string& method);

}  // namespace tessera::report
