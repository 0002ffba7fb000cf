// STUB (being written): the cpu backend.
#include "tessera/backends/cpu/cpu_backend.h"
namespace tessera {
namespace {
class CpuBackend final : public Backend {
 public:
  std::string_view name() const override { return "cpu"; }
  bool supports(const Graph& g, ValueId id) const override { return cpu_kernel(g, id) != nullptr; }
  std::unique_ptr<Executable> compile(const Graph& g, const CompileOptions& o) override {
    return compile_with_kernels(g, o, cpu_kernel, "cpu");
  }
};
}  // namespace
std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }
KernelFn cpu_kernel(const Graph&, ValueId) { return nullptr; }
bool cpu_has_avx2() { return false; }
bool cpu_force_scalar(bool) { return false; }
}  // namespace tessera
