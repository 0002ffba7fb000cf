#include "tessera/backends/scheduler.h"

#include <fmt/core.h>

#include <algorithm>

#include "tessera/core/error.h"
#include "tessera/ir/op_table.h"
#include "tessera/ir/passes.h"

namespace tessera {

// A run of consecutive nodes on one backend, compiled as a graph of its own whose inputs
// are the values it takes from the program and whose outputs are the values it gives back.
struct Program::Segment {
  std::unique_ptr<Executable> exe;
  std::string backend;         // the backend's name, for profiles
  std::vector<ValueId> takes;  // program value ids, in the segment graph's input order
  std::vector<ValueId> gives;  // program value ids, in the segment graph's output order
  std::vector<Tensor> feed;
};

Program::~Program() = default;
Program::Program(Program&&) noexcept = default;
Program& Program::operator=(Program&&) noexcept = default;

int64_t Program::arena_bytes() const {
  int64_t total = 0;
  for (const auto& s : segments_) total += s->exe->arena_bytes();
  return total;
}

namespace {

bool is_leaf(const Node& n) { return op_info(n.op).op_class == OpClass::kLeaf; }

Backend* assign_backend(const Graph& g, ValueId id, const std::vector<Backend*>& prefs) {
  for (Backend* b : prefs)
    if (b->supports(g, id)) return b;
  std::string types;
  for (ValueId in : g.node(id).inputs) types += (types.empty() ? "" : ", ") + g.type(in).str();
  throw_error(ErrorKind::kUnsupported,
              fmt::format("no backend supports {} with inputs ({})", g.describe(id), types));
}

}  // namespace

Program compile_program(const Graph& input_graph, const ProgramOptions& options) {
  Program p;
  p.graph_ = specialize(input_graph, options.batch);
  const Graph& g = p.graph_;
  g.validate();

  std::vector<Backend*> prefs;
  for (const std::shared_ptr<Backend>& b : options.custom) {
    TS_CHECK(b != nullptr, ErrorKind::kInvalidArgument,
             "ProgramOptions::custom holds a null backend");
    prefs.push_back(b.get());
  }
  p.custom_ = options.custom;
  for (const std::string& name : options.backends) prefs.push_back(&backend_registry().get(name));
  Backend& cpu = backend_registry().get("cpu");
  if (std::find(prefs.begin(), prefs.end(), &cpu) == prefs.end()) prefs.push_back(&cpu);

  // Backends are told apart by instance: a custom one may share a registered one's name.
  std::vector<Backend*> chosen(g.size(), nullptr);
  p.assignment_.assign(g.size(), "");
  for (ValueId id = 0; id < g.size(); ++id) {
    if (is_leaf(g.node(id))) continue;
    chosen[id] = assign_backend(g, id, prefs);
    p.assignment_[id] = std::string(chosen[id]->name());
  }
  p.graph_inputs_ = g.inputs();

  // Segment boundaries: consecutive compute nodes with the same backend.
  std::vector<std::pair<Backend*, std::vector<ValueId>>> runs;
  for (ValueId id = 0; id < g.size(); ++id) {
    if (is_leaf(g.node(id))) continue;
    if (runs.empty() || runs.back().first != chosen[id]) runs.push_back({chosen[id], {}});
    runs.back().second.push_back(id);
  }

  if (runs.size() <= 1) {
    // The common case: the whole graph on one backend, updates applied by the executable.
    auto seg = std::make_unique<Program::Segment>();
    Backend& backend = runs.empty() ? cpu : *runs[0].first;
    seg->exe = backend.compile(g, options.compile);
    seg->backend = std::string(backend.name());
    seg->takes = p.graph_inputs_;
    seg->gives = g.outputs();
    p.segments_.push_back(std::move(seg));
    p.values_.resize(g.size());
    p.outputs_.resize(g.outputs().size());
    return p;
  }

  // Several backends: which values must leave each segment.
  std::vector<int> segment_of(g.size(), -1);
  for (size_t s = 0; s < runs.size(); ++s)
    for (ValueId id : runs[s].second) segment_of[id] = static_cast<int>(s);
  std::vector<bool> needed_outside(g.size(), false);
  for (ValueId id = 0; id < g.size(); ++id)
    for (ValueId in : g.node(id).inputs)
      if (segment_of[in] >= 0 && segment_of[in] != segment_of[id]) needed_outside[in] = true;
  for (ValueId o : g.outputs()) needed_outside[o] = true;
  for (const auto& u : g.updates()) needed_outside[u.value] = true;

  for (const auto& [backend, ids] : runs) {
    Graph sub;
    std::vector<ValueId> map(g.size(), kNoValue);
    auto seg = std::make_unique<Program::Segment>();
    auto bring = [&](ValueId v) {
      if (map[v] != kNoValue) return map[v];
      const Node& n = g.node(v);
      Node leaf;
      leaf.name = n.name;
      leaf.type = n.type;
      if (n.op == OpKind::kParameter || n.op == OpKind::kConstant) {
        leaf.op = n.op;
        leaf.value = n.value;
        leaf.trainable = n.trainable;
      } else {
        leaf.op = OpKind::kInput;
        seg->takes.push_back(v);
      }
      return map[v] = sub.add_node(std::move(leaf));
    };
    for (ValueId id : ids) {
      Node n = g.node(id);
      for (ValueId& in : n.inputs) in = bring(in);
      map[id] = sub.add_node(std::move(n));
      if (needed_outside[id]) {
        sub.outputs().push_back(map[id]);
        seg->gives.push_back(id);
      }
    }
    seg->exe = backend->compile(sub, options.compile);
    seg->backend = std::string(backend->name());
    p.segments_.push_back(std::move(seg));
  }
  p.values_.resize(g.size());
  p.outputs_.resize(g.outputs().size());
  return p;
}

namespace {

// Profiles one segment (one run) into `times`.
void profile_segment(Executable& exe, const std::string& backend, int index,
                     std::span<const Tensor> feed, std::vector<ProfiledNode>& times) {
  std::vector<NodeTime> t;
  try {
    t = exe.profile(feed);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::kUnsupported) throw;
    throw_error(ErrorKind::kUnsupported,
                fmt::format("profile: backend '{}' (segment {}): {}", backend, index, e.what()));
  }
  const Graph* graph = exe.compiled_graph();
  for (const NodeTime& n : t) times.push_back({index, backend, graph, n.id, n.seconds});
}

}  // namespace

const std::vector<Tensor>& Program::run(std::span<const Tensor> inputs) {
  return run_segments(inputs, nullptr);
}

std::vector<ProfiledNode> Program::profile(std::span<const Tensor> inputs) {
  std::vector<ProfiledNode> times;
  if (segments_.size() == 1) {  // the executable applies the updates; no outputs to hand on
    TS_CHECK(inputs.size() == graph_inputs_.size(), ErrorKind::kInvalidArgument,
             "the program takes {} inputs, got {}", graph_inputs_.size(), inputs.size());
    profile_segment(*segments_[0]->exe, segments_[0]->backend, 0, inputs, times);
  } else {
    run_segments(inputs, &times);
  }
  return times;
}

const std::vector<Tensor>& Program::run_segments(std::span<const Tensor> inputs,
                                                 std::vector<ProfiledNode>* times) {
  TS_CHECK(inputs.size() == graph_inputs_.size(), ErrorKind::kInvalidArgument,
           "the program takes {} inputs, got {}", graph_inputs_.size(), inputs.size());
  if (segments_.size() == 1) return segments_[0]->exe->run(inputs);

  for (size_t i = 0; i < inputs.size(); ++i) values_[graph_inputs_[i]] = inputs[i];
  for (ValueId id = 0; id < graph_.size(); ++id) {
    const Node& n = graph_.node(id);
    if (n.op == OpKind::kParameter || n.op == OpKind::kConstant) values_[id] = n.value;
  }
  for (size_t s = 0; s < segments_.size(); ++s) {
    Segment& seg = *segments_[s];
    seg.feed.resize(seg.takes.size());
    for (size_t i = 0; i < seg.takes.size(); ++i) seg.feed[i] = values_[seg.takes[i]];
    if (times != nullptr)
      profile_segment(*seg.exe, seg.backend, static_cast<int>(s), seg.feed, *times);
    // Profiling ran the segment; its outputs are kept by the executable until its next run.
    const std::vector<Tensor>& out = times != nullptr ? seg.exe->outputs() : seg.exe->run(seg.feed);
    for (size_t i = 0; i < seg.gives.size(); ++i) values_[seg.gives[i]] = out[i];
  }
  for (const Graph::Update& u : graph_.updates())
    graph_.mutable_node(u.parameter).value.copy_from(values_[u.value]);
  for (size_t i = 0; i < outputs_.size(); ++i) outputs_[i] = values_[graph_.outputs()[i]];
  return outputs_;
}

}  // namespace tessera

namespace tessera {

const std::vector<Tensor>& Program::run_with_listener(std::span<const Tensor> inputs,
                                                      OutputListener& listener) {
  if (segments_.size() == 1) {
    TS_CHECK(inputs.size() == graph_inputs_.size(), ErrorKind::kInvalidArgument,
             "the program takes {} inputs, got {}", graph_inputs_.size(), inputs.size());
    return segments_[0]->exe->run_with_listener(inputs, listener);
  }
  const std::vector<Tensor>& out = run(inputs);
  for (size_t k = 0; k < out.size(); ++k) listener.output_ready(k, out[k]);
  return out;
}

}  // namespace tessera
