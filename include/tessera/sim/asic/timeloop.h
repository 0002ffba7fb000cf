// Readers for Timeloop v0.4 specifications and Accelergy tables, so a design written for
// Timeloop evaluates here: the architecture (`architecture: {version: 0.4, nodes: [...]}` with
// `!Container`, `!Component`, `!Parallel` nodes), the problem (`problem: {shape, instance}`),
// the mapping (`mapping:` directives temporal / spatial / dataspace|datatype|bypass) and
// Accelergy's energy and area reference tables (`ERT:` / `ART:`). They translate into the
// model's Architecture, LoopNest and Mapping; the subset read and every convention that
// differs are in docs/simulators/asic.md. Errors name the file, line and field.
//
//   TimeloopDesign d = load_timeloop_design({"arch.yaml", "prob.yaml", "map.yaml",
//                                            "ERT.yaml", "ART.yaml"});
//   AsicEvaluation e = AsicEvaluator(d.arch).evaluate(d.nest, d.mapping);
//   fmt::print("{} cycles, {:.3f} pJ/MAC\n", e.cycles, e.pj_per_mac());
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "tessera/sim/asic/architecture.h"
#include "tessera/sim/asic/loop_nest.h"
#include "tessera/sim/asic/mapping.h"

namespace tessera::sim {

// A problem: Timeloop's CNN_Layer (dimensions R S P Q C M N, Wstride/Hstride,
// Wdilation/Hdilation) or a custom shape whose dimensions are a subset of those names (K is
// accepted for M) and whose dataspaces project like the CNN layer's (Conv1D, Conv1D_OC, ...).
struct TimeloopProblem {
  LoopNest nest;
  std::string shape;  // the shape's name
  // Timeloop's name of each of our dimensions ("M" for K); empty when the shape lacks it.
  std::array<std::string, kNumDims> dim_names{};
  // The shape's name of each of our dataspaces ("Weights", "Inputs", "Outputs").
  std::array<std::string, kNumDataSpaces> dataspace_names{"Weights", "Inputs", "Outputs"};
};

// An architecture and what the mapping reader needs to resolve Timeloop's level names.
struct TimeloopArchitecture {
  Architecture arch;
  // A `!Container` (or replicated `!Component`) with a `spatial` mesh: the storage level whose
  // fan-out it is. Its mapping target is its name or `inter_<name>_spatial`.
  struct Container {
    std::string name;
    int level = 0;
    int64_t mesh_x = 1, mesh_y = 1;
  };
  std::vector<Container> containers;
  std::string compute_name;          // the MAC component's name
  std::vector<int64_t> block_words;  // per level: words per access (width / datawidth)
  // Per level and dataspace: 1 kept, 0 bypassed by the architecture's constraints, -1 free.
  std::vector<std::array<int8_t, kNumDataSpaces>> keep;
};

// An Accelergy ERT and/or ART: per component (its name without the hierarchy prefix and the
// `[1..N]` instance range) the energy of each action (pJ) and the area (um^2; < 0 absent).
struct AccelergyTables {
  struct Component {
    std::map<std::string, double> action_pj;
    double area_um2 = -1;
  };
  std::map<std::string, Component> components;
};

// Each parser looks for its top-level key (`architecture`, `problem`, `mapping`, `ERT`, `ART`)
// in `text`; `source` names the file in errors.
TimeloopProblem parse_timeloop_problem(const std::string& text, const std::string& source);
// `problem` resolves the dataspace names of `constraints: {dataspace: {keep, bypass}}`;
// without one, Timeloop's Weights / Inputs / Outputs.
TimeloopArchitecture parse_timeloop_architecture(const std::string& text,
                                                 const std::string& source,
                                                 const TimeloopProblem& problem);
TimeloopArchitecture parse_timeloop_architecture(const std::string& text,
                                                 const std::string& source);
// Applies the mapping's dataspace directives to `arch.keep` (then `arch.arch.levels[].keeps`)
// and returns the mapping, validated against the problem (factors that do not multiply to a
// bound, a spatial split over a container's mesh, an overflowing tile: errors with numbers).
Mapping parse_timeloop_mapping(const std::string& text, const std::string& source,
                               TimeloopArchitecture& arch, const TimeloopProblem& problem);
// Merges the ERT's actions / the ART's areas into `tables`.
void parse_accelergy_ert(const std::string& text, const std::string& source,
                         AccelergyTables& tables);
void parse_accelergy_art(const std::string& text, const std::string& source,
                         AccelergyTables& tables);
// Per-word read / write energies (action energy / words per access; `update` stands in for a
// missing `write`), the MAC's `compute` energy and the areas into the architecture's
// overrides. Components absent from the tables keep the built-in figures.
void apply_accelergy_tables(const AccelergyTables& tables, TimeloopArchitecture& arch);

// Everything a Timeloop run reads, from files that each hold one or more of the top-level
// keys (as Timeloop merges its inputs). Architecture and problem are required; without a
// mapping (`mapped` false) the caller searches one (timeloop-mapper's job).
struct TimeloopDesign {
  TimeloopArchitecture tl;
  TimeloopProblem problem;
  Architecture arch;  // tl.arch with the mapping's bypasses and the tables applied
  LoopNest nest;
  Mapping mapping;
  bool mapped = false;  // a mapping was given
};
struct TimeloopSource {
  std::string source;  // the file name errors give
  std::string text;
};
TimeloopDesign parse_timeloop_design(const std::vector<TimeloopSource>& files);
TimeloopDesign load_timeloop_design(const std::vector<std::string>& paths);

}  // namespace tessera::sim
