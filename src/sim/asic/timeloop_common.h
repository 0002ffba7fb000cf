// Internal: helpers shared by the Timeloop v0.4 / Accelergy readers (timeloop_*.cpp).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

#include "../config_yaml.h"
#include "tessera/sim/asic/timeloop.h"

namespace tessera::sim::timeloop_detail {

bool iequals(std::string_view a, std::string_view b);

// The value of the top-level `key` of a Timeloop input (`architecture`, `problem`, ...): the
// file must be a mapping that has it.
YAML::Node section(const YamlConfigReader& r, const YAML::Node& root, const char* key);

// A list of names (`keep: [Inputs, Outputs]`); a single scalar counts as a one-element list.
std::vector<YAML::Node> name_list(const YamlConfigReader& r, const YAML::Node& n,
                                  std::string_view field);

// A dataspace by the problem's name for it ("Weights") or ours ("weights").
DataSpace resolve_dataspace(const YamlConfigReader& r, const YAML::Node& n,
                            const TimeloopProblem& problem, std::string_view field);

// A component's short name: "system_top_level.PE[0..167].ifmap_spad[1..168]" -> "ifmap_spad".
std::string short_component_name(std::string_view full);

}  // namespace tessera::sim::timeloop_detail
