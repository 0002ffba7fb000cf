// STUB (being written): the reference backend.
#include "tessera/backends/ref/ref_backend.h"
namespace tessera {
namespace {
class RefBackend final : public Backend {
 public:
  std::string_view name() const override { return "ref"; }
  bool supports(const Graph& g, ValueId id) const override { return ref_kernel(g, id) != nullptr; }
  std::unique_ptr<Executable> compile(const Graph& g, const CompileOptions& o) override {
    CompileOptions ref_options = o;
    ref_options.fuse_elementwise = false;
    return compile_with_kernels(g, ref_options, ref_kernel, "ref");
  }
};
}  // namespace
std::unique_ptr<Backend> make_ref_backend() { return std::make_unique<RefBackend>(); }
KernelFn ref_kernel(const Graph&, ValueId) { return nullptr; }
Tensor ref_evaluate(const Graph& g, ValueId id, std::span<const Tensor> inputs) {
  return evaluate_with_kernels(g, id, inputs, ref_kernel, "ref");
}
}  // namespace tessera
