// The cuda executable and backend object.
//
// Memory: the memory planner's arena is one device allocation; every input, parameter and
// constant has its own (so that running out of memory names the tensor). Parameters and
// constants are uploaded at compile time and stay on the device. A run copies the inputs
// host→device, enqueues every node on one stream, applies the parameter updates on the
// device, then copies the outputs and each updated parameter device→host (one async copy
// each) and synchronizes once.
//
// Parameter freshness: before a run, a parameter is uploaded again only when its host
// buffer's generation (core/tensor.h: it changes whenever a mutable pointer to the data is
// taken) differs from the one seen after the last upload or write-back. Another executable
// writing the same parameters (the evaluation program after training steps, a cpu segment,
// set_weights, a checkpoint load, the optimizer's learning rate) therefore costs one upload
// of what changed; steps of one training program cost no upload at all.
#include <chrono>
#include <cstdlib>

#include "cuda_common.h"
#include "tessera/backends/gpu_devices.h"
#include "tessera/core/error.h"
#include "tessera/ir/fusion.h"
#include "tessera/ir/memory_plan.h"
#include "tessera/ir/op_table.h"
#include "tessera/ir/passes.h"

namespace tessera::cuda {
namespace {

bool is_leaf(const Node& n) { return op_info(n.op).op_class == OpClass::kLeaf; }

class CudaExecutable final : public Executable {
 public:
  CudaExecutable(Graph g, const CudaOptions& options, int compute_major)
      : graph_(std::move(g)), options_(options) {
    graph_.validate();
    for (ValueId id = 0; id < graph_.size(); ++id) {
      const Node& n = graph_.node(id);
      TS_CHECK(n.type.shape.is_static(), ErrorKind::kInvalidArgument,
               "backend 'cuda': node '{}' has a symbolic shape {}; specialize the graph first",
               n.name, n.type.str());
      if (!is_leaf(n) && !cuda_supports(graph_, id, compute_major)) {
        std::string types;
        for (ValueId in : n.inputs) types += (types.empty() ? "" : ", ") + graph_.type(in).str();
        throw_error(ErrorKind::kUnsupported,
                    fmt::format("backend 'cuda' does not support {} with inputs ({})",
                                graph_.describe(id), types));
      }
    }
    what_ = graph_.outputs().empty() ? fmt::format("graph of {} nodes", graph_.size())
                                     : fmt::format("graph of {} nodes (output '{}')", graph_.size(),
                                                   graph_.node(graph_.outputs()[0]).name);
    ok(cudaSetDevice(options_.device), "cudaSetDevice");
    // A throwing constructor runs no destructor: release the stream and library handles
    // here, or every failed compile (out of memory, no cuDNN algorithm) would leak them.
    try {
      ok(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
      check_cublas(cublasCreate(&cublas_), "cublasCreate", what_);
      check_cublas(cublasSetStream(cublas_, stream_), "cublasSetStream", what_);
      check_cudnn(cudnnCreate(&cudnn_), "cudnnCreate", what_);
      check_cudnn(cudnnSetStream(cudnn_, stream_), "cudnnSetStream", what_);
      allocate();
      lower(compute_major);
    } catch (...) {
      release();
      throw;
    }
  }

  ~CudaExecutable() override { release(); }

  const std::vector<Tensor>& run(std::span<const Tensor> inputs) override {
    run_steps(inputs, false);
    return outputs_;
  }

  int64_t arena_bytes() const override { return plan_.arena_bytes; }
  const Graph* compiled_graph() const override { return &graph_; }
  const std::vector<Tensor>& outputs() const override { return outputs_; }

  std::vector<NodeTime> profile(std::span<const Tensor> inputs) override {
    while (events_.size() < steps_.size() + 1) {  // a failed creation leaves no null event
      cudaEvent_t e = nullptr;
      ok(cudaEventCreate(&e), "cudaEventCreate");
      events_.push_back(e);
    }
    run_steps(inputs, true);
    std::vector<NodeTime> times;
    for (size_t i = 0; i < steps_.size(); ++i) {
      float ms = 0;
      ok(cudaEventElapsedTime(&ms, events_[i], events_[i + 1]), "cudaEventElapsedTime");
      times.push_back({steps_[i].id, ms * 1e-3});
    }
    return times;
  }

 private:
  struct Step {
    ValueId id;
    Lowered lowered;
  };
  struct Leaf {  // a parameter or constant kept on the device
    ValueId id;
    uint64_t seen_generation;
  };

  void ok(cudaError_t e, std::string_view call) { check_cuda(e, call, what_); }

  // Waits for the stream (the device blocks are freed after this, by their destructors) and
  // destroys the events, handles and stream.
  void release() noexcept {
    if (stream_ != nullptr) cudaStreamSynchronize(stream_);
    for (cudaEvent_t e : events_) cudaEventDestroy(e);
    events_.clear();
    if (cudnn_ != nullptr) cudnnDestroy(cudnn_);
    if (cublas_ != nullptr) cublasDestroy(cublas_);
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
    cudnn_ = nullptr;
    cublas_ = nullptr;
    stream_ = nullptr;
  }

  void allocate() {
    plan_ = plan_memory(graph_, {.alignment = 256});
    arena_ =
        DeviceBlock(static_cast<size_t>(plan_.arena_bytes), fmt::format("the arena for {}", what_));
    status_ = DeviceBlock(sizeof(DeviceStatus), "the device status word");
    ptr_.assign(graph_.size(), nullptr);
    char* base = static_cast<char*>(arena_.get());
    for (ValueId id = 0; id < graph_.size(); ++id) {
      const Node& n = graph_.node(id);
      const size_t bytes = static_cast<size_t>(n.type.shape.numel()) * n.type.dtype.size();
      if (is_leaf(n)) {
        blocks_.emplace_back(bytes,
                             fmt::format("{} '{}' ({})", op_name(n.op), n.name, n.type.str()));
        ptr_[id] = blocks_.back().get();
        if (n.op == OpKind::kInput) {
          input_ids_.push_back(id);
        } else {
          upload(id);
          leaves_.push_back({id, n.value.buffer() ? n.value.buffer()->generation() : 0});
        }
      } else if (plan_.writes_parameter[id] != kNoValue) {
        ptr_[id] = ptr_[plan_.writes_parameter[id]];
      } else {
        TS_ASSERT(plan_.offsets[id] >= 0);
        ptr_[id] = base + plan_.offsets[id];
      }
    }
    ok(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
    for (ValueId o : graph_.outputs())
      outputs_.push_back(Tensor::zeros(graph_.type(o).dtype, graph_.type(o).shape));
  }

  // Host -> device copy of a parameter or constant (the host tensor made contiguous).
  void upload(ValueId id) {
    const Node& n = graph_.node(id);
    const Tensor host = n.value.contiguous();
    TS_CHECK(host.defined() && host.dtype() == n.type.dtype && host.shape() == n.type.shape,
             ErrorKind::kInvalidArgument, "{}: its value does not match its type {}",
             graph_.describe(id), n.type.str());
    ok(cudaMemcpyAsync(ptr_[id], host.raw_data(), host.nbytes(), cudaMemcpyHostToDevice, stream_),
       "cudaMemcpyAsync (parameter upload)");
  }

  void lower(int compute_major) {
    LowerContext c{graph_,        ptr_,   static_cast<DeviceStatus*>(status_.get()),
                   cublas_,       cudnn_, options_,
                   compute_major, &keep_};
    size_t scratch = 0;
    for (ValueId id = 0; id < graph_.size(); ++id) {
      const Node& n = graph_.node(id);
      if (is_leaf(n) || plan_.alias_of[id] != kNoValue) continue;
      steps_.push_back({id, lower_node(c, id)});
      scratch = std::max(scratch, steps_.back().lowered.scratch_bytes);
    }
    scratch_ = DeviceBlock(scratch, fmt::format("the convolution scratch of {}", what_));
  }

  void run_steps(std::span<const Tensor> inputs, bool timed) {
    TS_CHECK(inputs.size() == input_ids_.size(), ErrorKind::kInvalidArgument,
             "backend 'cuda': the graph takes {} inputs, got {}", input_ids_.size(), inputs.size());
    ok(cudaSetDevice(options_.device), "cudaSetDevice");
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Node& n = graph_.node(input_ids_[i]);
      TS_CHECK(inputs[i].defined() && inputs[i].dtype() == n.type.dtype &&
                   inputs[i].shape() == n.type.shape,
               ErrorKind::kInvalidArgument, "input '{}': expected {}, got {}", n.name, n.type.str(),
               inputs[i].defined() ? TensorType{inputs[i].dtype(), inputs[i].shape()}.str()
                                   : std::string("no tensor"));
      const Tensor host = inputs[i].contiguous();
      ok(cudaMemcpyAsync(ptr_[input_ids_[i]], host.raw_data(), host.nbytes(),
                         cudaMemcpyHostToDevice, stream_),
         "cudaMemcpyAsync (input)");
    }
    for (Leaf& l : leaves_) {
      const Tensor& v = graph_.node(l.id).value;
      const uint64_t gen = v.buffer()->generation();
      if (gen != l.seen_generation) {
        upload(l.id);
        l.seen_generation = gen;
      }
    }
    ok(cudaMemsetAsync(status_.get(), 0, sizeof(DeviceStatus), stream_), "cudaMemsetAsync");
    const LaunchEnv env{stream_, scratch_.get()};
    if (timed) ok(cudaEventRecord(events_[0], stream_), "cudaEventRecord");
    for (size_t i = 0; i < steps_.size(); ++i) {
      Step& s = steps_[i];
      s.lowered.launch(env);
      if (timed) ok(cudaEventRecord(events_[i + 1], stream_), "cudaEventRecord");
      if (options_.sync_each_node) {
        cudaError_t e = cudaStreamSynchronize(stream_);
        check_cuda(e, fmt::format("'{}' (synchronized after the node)", s.lowered.kernel),
                   graph_.describe(s.id));
      }
    }
    // Updates: values not computed in place are copied into their parameters' storage,
    // then every updated parameter goes back to its host tensor.
    for (const Graph::Update& u : graph_.updates()) {
      const size_t bytes = static_cast<size_t>(graph_.type(u.parameter).shape.numel()) *
                           graph_.type(u.parameter).dtype.size();
      if (ptr_[u.value] != ptr_[u.parameter])
        ok(cudaMemcpyAsync(ptr_[u.parameter], ptr_[u.value], bytes, cudaMemcpyDeviceToDevice,
                           stream_),
           "cudaMemcpyAsync (parameter update)");
    }
    for (const Graph::Update& u : graph_.updates()) {
      Tensor& host = graph_.mutable_node(u.parameter).value;
      ok(cudaMemcpyAsync(host.raw_data(), ptr_[u.parameter], host.nbytes(), cudaMemcpyDeviceToHost,
                         stream_),
         "cudaMemcpyAsync (parameter write-back)");
    }
    for (size_t i = 0; i < outputs_.size(); ++i)
      ok(cudaMemcpyAsync(outputs_[i].raw_data(), ptr_[graph_.outputs()[i]], outputs_[i].nbytes(),
                         cudaMemcpyDeviceToHost, stream_),
         "cudaMemcpyAsync (output)");
    DeviceStatus st{};
    ok(cudaMemcpyAsync(&st, status_.get(), sizeof st, cudaMemcpyDeviceToHost, stream_),
       "cudaMemcpyAsync (status)");
    check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (end of step)",
               what_ + "; set TESSERA_CUDA_SYNC=1 to find the node");
    // The write-backs took mutable pointers: what the host holds now is what the device has.
    for (Leaf& l : leaves_) {
      const Tensor& v = graph_.node(l.id).value;
      if (is_updated(l.id)) l.seen_generation = v.buffer()->generation();
    }
    if (st.code != 0) report(st);
  }

  bool is_updated(ValueId param) const {
    for (const Graph::Update& u : graph_.updates())
      if (u.parameter == param) return true;
    return false;
  }

  [[noreturn]] void report(const DeviceStatus& st) const {
    const ValueId node = static_cast<ValueId>(st.node);
    const std::string where =
        node >= 0 && node < graph_.size() ? graph_.describe(node) : std::string("a node");
    switch (st.code) {
      case kStatusLabelOutOfRange:
        throw_error(
            ErrorKind::kInvalidArgument,
            fmt::format("{}: label {} at position {} is out of range [0, {})", where, st.value,
                        st.position, graph_.type(graph_.node(node).inputs[0]).shape.dim(-1)));
      case kStatusOneHotOutOfRange:
        throw_error(ErrorKind::kInvalidArgument,
                    fmt::format("{}: index {} at position {} is out of range [0, {})", where,
                                st.value, st.position, graph_.node(node).attrs.get_int("depth")));
      default:
        throw_error(ErrorKind::kInvalidArgument,
                    fmt::format("{}: index {} at position {} is out of range", where, st.value,
                                st.position));
    }
  }

  Graph graph_;
  CudaOptions options_;
  std::string what_;
  MemoryPlan plan_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  cudnnHandle_t cudnn_ = nullptr;
  DeviceBlock arena_, status_, scratch_;
  std::vector<DeviceBlock> blocks_;  // inputs, parameters, constants
  std::vector<DeviceBlock> keep_;    // fused programs
  std::vector<void*> ptr_;
  std::vector<ValueId> input_ids_;
  std::vector<Leaf> leaves_;
  std::vector<Step> steps_;
  std::vector<Tensor> outputs_;
  std::vector<cudaEvent_t> events_;
};

// Constant folding evaluates a node on the cpu backend (a graph of its constants and it).
Tensor evaluate_on_cpu(const Graph& g, ValueId id, std::span<const Tensor> inputs) {
  Graph one;
  const Node& n = g.node(id);
  Node copy = n;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    Node leaf;
    leaf.op = OpKind::kConstant;
    leaf.name = g.node(n.inputs[i]).name;
    leaf.type = g.type(n.inputs[i]);
    leaf.value = inputs[i].contiguous();
    copy.inputs[i] = one.add_node(std::move(leaf));
  }
  one.outputs().push_back(one.add_node(std::move(copy)));
  CompileOptions plain{
      .fuse_elementwise = false, .fold_constants = false, .eliminate_common_subexpressions = false};
  std::unique_ptr<Executable> exe = backend_registry().get("cpu").compile(one, plain);
  return exe->run({}).at(0).clone();
}

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(CudaOptions options) : options_(std::move(options)) {}
  std::string_view name() const override { return "cuda"; }

  bool supports(const Graph& g, ValueId id) const override {
    return cuda_supports(g, id, compute_major());
  }

  std::unique_ptr<Executable> compile(const Graph& g, const CompileOptions& options) override {
    const CudaOptions o = resolve_options(options_);
    const std::vector<GpuDeviceInfo>& gpus = gpu_devices();
    if (gpus.empty())
      throw_error(ErrorKind::kUnsupported,
                  "no CUDA device: the cuda backend was built, but the CUDA runtime finds no "
                  "GPU on this machine (use device 'cpu' or 'auto')");
    TS_CHECK(o.device < static_cast<int>(gpus.size()), ErrorKind::kInvalidArgument,
             "no CUDA device: device {} was asked for, this machine has {} GPU(s)", o.device,
             gpus.size());
    Graph work = g;
    if (options.fold_constants) work = fold_constants(work, evaluate_on_cpu);
    if (options.eliminate_common_subexpressions) work = eliminate_common_subexpressions(work);
    if (options.fuse_elementwise) work = fuse_elementwise(work);
    work = eliminate_dead_code(work);
    return std::make_unique<CudaExecutable>(std::move(work), o, gpus[o.device].compute_major);
  }

 private:
  int compute_major() const {
    const std::vector<GpuDeviceInfo>& gpus = gpu_devices();
    return gpus.empty() ? 0 : gpus[0].compute_major;
  }
  CudaOptions options_;
};

}  // namespace
}  // namespace tessera::cuda

namespace tessera {

std::unique_ptr<Backend> make_cuda_backend(CudaOptions options) {
  // A bad explicit option fails here, where it was given (the environment is read, and
  // checked, at compile time).
  if (!options.matmul.empty()) cuda::resolve_options(options);
  return std::make_unique<cuda::CudaBackend>(std::move(options));
}

}  // namespace tessera
