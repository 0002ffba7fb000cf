// The backend contract: what it takes to run graphs on a kind of hardware.
//
// A backend says honestly which nodes it supports and compiles a graph (with static shapes,
// every node supported) into an Executable. Executables own their memory (one arena from
// the memory planner) and allocate nothing per run. Adding an op never changes this file.
//
//   Backend& cpu = backend_registry().get("cpu");
//   std::unique_ptr<Executable> exe = cpu.compile(specialize(graph, 32), {});
//   const std::vector<Tensor>& out = exe->run({x_batch, y_batch});
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/core/tensor.h"
#include "tessera/ir/graph.h"

namespace tessera {

// One node's measured time in a profiled run (Executable::profile).
struct NodeTime {
  ValueId id;      // a node of Executable::compiled_graph()
  double seconds;  // wall time on the host, or the device's own clock for device kernels
};

struct CompileOptions {
  bool fuse_elementwise = true;  // run the fusion pass before planning
  bool fold_constants = true;
  bool eliminate_common_subexpressions = true;
};

// Told by Executable::run_with_listener when a graph output holds its final value, so that
// work on it (a gradient's all-reduce) can start while the rest of the graph runs.
class OutputListener {
 public:
  // `index` is the output's position in Graph::outputs(); `value` stays valid, and is not
  // written again, until the run returns.
  virtual void output_ready(size_t index, const Tensor& value) = 0;

 protected:
  ~OutputListener() = default;
};

class Executable {
 public:
  virtual ~Executable() = default;
  // One tensor per graph input (Graph::inputs() order) with the compiled shapes and dtypes.
  // Returns the outputs, which stay valid until the next run; parameter updates are
  // written into the parameters' tensors when the step ends.
  virtual const std::vector<Tensor>& run(std::span<const Tensor> inputs) = 0;
  // Bytes held for intermediate values (the arena).
  virtual int64_t arena_bytes() const = 0;
  // The graph as this executable runs it, after its own passes (folding, fusion): the ids
  // of profile() refer to it. nullptr when the backend does not expose one.
  virtual const Graph* compiled_graph() const { return nullptr; }
  // Runs once like run() (same effects, outputs valid afterwards) and returns the time of
  // each node that ran, in execution order. Throws kUnsupported when the backend cannot.
  virtual std::vector<NodeTime> profile(std::span<const Tensor> inputs);
  // The outputs of the last run() or profile() (what run() returns), valid until the next
  // one: Program::profile hands them on from segment to segment. Throws kUnsupported when
  // the backend does not keep them.
  virtual const std::vector<Tensor>& outputs() const;
  // Runs like run() and calls listener.output_ready(k, value) for every output k, as early
  // as the backend knows that the value is final. The default calls it for every output, in
  // order, after run(): correct for any backend; the host-kernel executable calls it right
  // after the node that computes the output.
  virtual const std::vector<Tensor>& run_with_listener(std::span<const Tensor> inputs,
                                                       OutputListener& listener);
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  // Whether this backend can run node `id` of `g` (its op and dtypes).
  virtual bool supports(const Graph& g, ValueId id) const = 0;
  // `g` has static shapes and only supported nodes; throws Error otherwise.
  virtual std::unique_ptr<Executable> compile(const Graph& g, const CompileOptions& options) = 0;
};

// Backends are registered explicitly, in register_builtin_backends(); no static constructors.
class BackendRegistry {
 public:
  void add(std::unique_ptr<Backend> backend);
  Backend& get(std::string_view name) const;  // throws kNotFound listing the known names
  Backend* find(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  std::vector<std::unique_ptr<Backend>> backends_;
};

// The process-wide registry, with the built-in backends ("ref", "cpu") registered.
BackendRegistry& backend_registry();

}  // namespace tessera
