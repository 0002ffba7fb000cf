// The scheduler: gives each node to the first backend in the preference list that supports
// it, falling back to "cpu", and compiles the graph into one Program. Consecutive nodes on
// the same backend form one segment compiled by that backend; values crossing segments
// are handed over at run time.
//
//   Program p = compile_program(graph, {.batch = 32, .backends = {"cpu"}});
//   const std::vector<Tensor>& out = p.run({x, y});
//
// Backend instances that are not in the registry (a simulator's numerics, a test double)
// go in ProgramOptions::custom and are tried before the named ones:
//
//   Program q = compile_program(graph, {.batch = 32, .custom = {my_backend}});
//
// Program::profile runs once like run() and says how long each node took, on which backend,
// as a node of which segment's compiled graph:
//
//   for (const ProfiledNode& n : p.profile({x, y}))
//     fmt::print("{} {} {:.1f} us\n", n.backend, n.graph->node(n.id).name, n.seconds * 1e6);
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tessera/backends/backend.h"

namespace tessera {

struct ProgramOptions {
  int64_t batch = 1;  // the value of the symbolic batch dimension
  std::vector<std::string> backends = {"cpu"};  // in order of preference; "cpu" is implied last
  CompileOptions compile;
  // Backend instances tried before `backends`, in order; the program keeps them alive.
  std::vector<std::shared_ptr<Backend>> custom;
};

// One node's time in a profiled run (Program::profile).
struct ProfiledNode {
  int segment = 0;               // the compiled segment that ran it
  std::string backend;           // that segment's backend
  const Graph* graph = nullptr;  // its compiled graph (Executable::compiled_graph()), owned by
                                 // the program; nullptr when the backend exposes none
  ValueId id = kNoValue;         // the node in `graph`
  double seconds = 0;
};

class Program {
 public:
  Program() = default;
  Program(Program&&) noexcept;
  Program& operator=(Program&&) noexcept;
  ~Program();

  const std::vector<Tensor>& run(std::span<const Tensor> inputs);
  // Runs once like run() (the same effects, parameter updates included) and returns every
  // node that ran, segment by segment in execution order, with its time. Throws
  // kUnsupported naming the backend when one cannot time its nodes.
  std::vector<ProfiledNode> profile(std::span<const Tensor> inputs);
  // As run(), telling `listener` when each output is final (Executable::run_with_listener):
  // during the run for a one-segment program, after it otherwise.
  const std::vector<Tensor>& run_with_listener(std::span<const Tensor> inputs,
                                               OutputListener& listener);
  const Graph& graph() const { return graph_; }  // the specialized graph
  // Which backend runs each node of graph(), for reports.
  const std::vector<std::string>& assignment() const { return assignment_; }
  int num_segments() const { return static_cast<int>(segments_.size()); }
  int64_t arena_bytes() const;

 private:
  friend Program compile_program(const Graph& g, const ProgramOptions& options);
  struct Segment;
  // run() and profile(): with `times`, every segment is profiled into it.
  const std::vector<Tensor>& run_segments(std::span<const Tensor> inputs,
                                          std::vector<ProfiledNode>* times);
  Graph graph_;
  std::vector<std::string> assignment_;
  std::vector<std::unique_ptr<Segment>> segments_;
  std::vector<Tensor> outputs_;
  std::vector<Tensor> values_;  // values crossing segments
  std::vector<ValueId> graph_inputs_;
  std::vector<std::shared_ptr<Backend>> custom_;  // kept alive for the executables
};

Program compile_program(const Graph& g, const ProgramOptions& options);

}  // namespace tessera
