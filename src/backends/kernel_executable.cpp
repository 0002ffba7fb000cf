#include "tessera/backends/kernel_executable.h"

#include <chrono>

#include "tessera/core/error.h"
#include "tessera/ir/fusion.h"
#include "tessera/ir/memory_plan.h"
#include "tessera/ir/op_table.h"

namespace tessera {
namespace {

void check_supported(const Graph& g, KernelLookup lookup, std::string_view backend) {
  for (ValueId id = 0; id < g.size(); ++id) {
    const Node& n = g.node(id);
    if (op_info(n.op).op_class == OpClass::kLeaf) continue;
    if (lookup(g, id) == nullptr) {
      std::string types;
      for (ValueId in : n.inputs) types += (types.empty() ? "" : ", ") + g.type(in).str();
      throw_error(ErrorKind::kUnsupported,
                  fmt::format("backend '{}' does not support {} with inputs ({})", backend,
                              g.describe(id), types));
    }
  }
}

class KernelExecutable final : public Executable {
 public:
  KernelExecutable(Graph g, KernelLookup lookup, std::string_view backend)
      : graph_(std::move(g)), backend_(backend) {
    graph_.validate();
    for (const Node& n : graph_.nodes())
      TS_CHECK(n.type.shape.is_static(), ErrorKind::kInvalidArgument,
               "backend '{}': node '{}' has a symbolic shape {}; specialize the graph first",
               backend_, n.name, n.type.str());
    check_supported(graph_, lookup, backend_);
    plan_ = plan_memory(graph_);
    arena_ = std::make_shared<Buffer>(static_cast<size_t>(plan_.arena_bytes));
    bind(lookup);
  }

  const std::vector<Tensor>& run(std::span<const Tensor> inputs) override {
    TS_CHECK(inputs.size() == input_ids_.size(), ErrorKind::kInvalidArgument,
             "backend '{}': the graph takes {} inputs, got {}", backend_, input_ids_.size(),
             inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Node& n = graph_.node(input_ids_[i]);
      TS_CHECK(inputs[i].defined() && inputs[i].dtype() == n.type.dtype &&
                   inputs[i].shape() == n.type.shape,
               ErrorKind::kInvalidArgument, "input '{}': expected {}, got {}", n.name,
               n.type.str(),
               inputs[i].defined() ? TensorType{inputs[i].dtype(), inputs[i].shape()}.str()
                                   : std::string("no tensor"));
      values_[input_ids_[i]] = inputs[i].contiguous();
    }
    if (listener_ != nullptr)
      for (size_t k : ready_at_start_) listener_->output_ready(k, values_[graph_.outputs()[k]]);
    for (Step& s : steps_) {
      std::chrono::steady_clock::time_point start;
      if (times_ != nullptr) start = std::chrono::steady_clock::now();
      for (const auto& [slot, value] : s.input_refs) s.inputs[slot] = values_[value];
      if (s.kernel == nullptr) {  // an alias: storage already shared
        if (listener_ != nullptr)
          for (size_t k : s.outputs_ready) listener_->output_ready(k, values_[s.id]);
        continue;
      }
      KernelArgs args{graph_, s.id, graph_.node(s.id), s.inputs, values_[s.id]};
      s.kernel(args);
      if (times_ != nullptr)
        times_->push_back(
            {s.id, std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                       .count()});
      if (listener_ != nullptr)
        for (size_t k : s.outputs_ready) listener_->output_ready(k, values_[s.id]);
    }
    for (const Graph::Update& u : graph_.updates()) {
      Tensor& param = graph_.mutable_node(u.parameter).value;
      if (param.raw_data() != values_[u.value].raw_data()) param.copy_from(values_[u.value]);
    }
    for (size_t i = 0; i < outputs_.size(); ++i) outputs_[i] = values_[graph_.outputs()[i]];
    return outputs_;
  }

  const std::vector<Tensor>& run_with_listener(std::span<const Tensor> inputs,
                                               OutputListener& listener) override {
    listener_ = &listener;
    try {
      run(inputs);
    } catch (...) {
      listener_ = nullptr;
      throw;
    }
    listener_ = nullptr;
    return outputs_;
  }

  int64_t arena_bytes() const override { return plan_.arena_bytes; }
  const Graph* compiled_graph() const override { return &graph_; }
  const std::vector<Tensor>& outputs() const override { return outputs_; }

  std::vector<NodeTime> profile(std::span<const Tensor> inputs) override {
    std::vector<NodeTime> times;
    times.reserve(steps_.size());
    times_ = &times;
    try {
      run(inputs);
    } catch (...) {
      times_ = nullptr;
      throw;
    }
    times_ = nullptr;
    return times;
  }

 private:
  struct Step {
    ValueId id;
    KernelFn kernel;
    std::vector<Tensor> inputs;
    std::vector<std::pair<int, ValueId>> input_refs;  // slots that change per run
    std::vector<size_t> outputs_ready;  // graph outputs final once this step has run
  };

  void bind(KernelLookup lookup) {
    values_.resize(graph_.size());
    for (ValueId id = 0; id < graph_.size(); ++id) {
      const Node& n = graph_.node(id);
      switch (n.op) {
        case OpKind::kInput:
          input_ids_.push_back(id);
          continue;
        case OpKind::kParameter:
        case OpKind::kConstant:
          values_[id] = n.value;
          continue;
        default:
          break;
      }
      if (plan_.writes_parameter[id] != kNoValue) {
        values_[id] = graph_.node(plan_.writes_parameter[id]).value;  // an in-place update
      } else {
        TS_ASSERT(plan_.offsets[id] >= 0);
        values_[id] = Tensor(arena_, static_cast<size_t>(plan_.offsets[id]), n.type.shape,
                             contiguous_strides(n.type.shape), n.type.dtype);
      }
      Step s{id, plan_.alias_of[id] != kNoValue ? nullptr : lookup(graph_, id), {}, {}};
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        ValueId in = n.inputs[k];
        s.inputs.push_back(values_[in]);
        if (graph_.node(in).op == OpKind::kInput)
          s.input_refs.emplace_back(static_cast<int>(k), in);
      }
      steps_.push_back(std::move(s));
    }
    outputs_.resize(graph_.outputs().size());
    // When each output is final: after the step computing it (outputs stay live to the end
    // of the run, so nothing overwrites them), or at once for inputs and constants.
    std::vector<int> step_of(graph_.size(), -1);
    for (size_t i = 0; i < steps_.size(); ++i) step_of[steps_[i].id] = static_cast<int>(i);
    for (size_t k = 0; k < graph_.outputs().size(); ++k) {
      int s = step_of[graph_.outputs()[k]];
      if (s < 0) {
        ready_at_start_.push_back(k);
      } else {
        steps_[s].outputs_ready.push_back(k);
      }
    }
  }

  Graph graph_;
  std::string backend_;
  MemoryPlan plan_;
  std::shared_ptr<Buffer> arena_;
  std::vector<Tensor> values_;
  std::vector<ValueId> input_ids_;
  std::vector<Step> steps_;
  std::vector<Tensor> outputs_;
  std::vector<NodeTime>* times_ = nullptr;  // set while profile() runs
  std::vector<size_t> ready_at_start_;      // outputs that are inputs or constants
  OutputListener* listener_ = nullptr;      // set while run_with_listener() runs
};

}  // namespace

Tensor evaluate_with_kernels(const Graph& g, ValueId id, std::span<const Tensor> inputs,
                             KernelLookup lookup, std::string_view backend_name) {
  KernelFn k = lookup(g, id);
  TS_CHECK(k != nullptr, ErrorKind::kUnsupported, "backend '{}' does not support {}",
           backend_name, g.describe(id));
  const Node& n = g.node(id);
  Tensor out = Tensor::zeros(n.type.dtype, n.type.shape);
  std::vector<Tensor> contiguous;
  for (const Tensor& t : inputs) contiguous.push_back(t.contiguous());
  KernelArgs args{g, id, n, contiguous, out};
  k(args);
  return out;
}

std::unique_ptr<Executable> compile_with_kernels(const Graph& g, const CompileOptions& options,
                                                 KernelLookup lookup,
                                                 std::string_view backend_name) {
  Graph work = g;
  if (options.fold_constants) {
    std::string name(backend_name);
    work = fold_constants(work, [lookup, name](const Graph& gg, ValueId id,
                                               std::span<const Tensor> ins) {
      return evaluate_with_kernels(gg, id, ins, lookup, name);
    });
  }
  if (options.eliminate_common_subexpressions) work = eliminate_common_subexpressions(work);
  if (options.fuse_elementwise) work = fuse_elementwise(work);
  work = eliminate_dead_code(work);
  return std::make_unique<KernelExecutable>(std::move(work), lookup, backend_name);
}

}  // namespace tessera
