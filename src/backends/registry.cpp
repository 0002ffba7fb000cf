#include "tessera/backends/backend.h"
#include "tessera/backends/cpu/cpu_backend.h"
#include "tessera/backends/cuda/cuda_backend.h"
#include "tessera/backends/ref/ref_backend.h"
#include "tessera/core/error.h"

namespace tessera {

std::vector<NodeTime> Executable::profile(std::span<const Tensor>) {
  throw_error(ErrorKind::kUnsupported, "this backend cannot time its nodes one by one");
}

const std::vector<Tensor>& Executable::outputs() const {
  throw_error(ErrorKind::kUnsupported, "this backend does not keep its last outputs");
}

const std::vector<Tensor>& Executable::run_with_listener(std::span<const Tensor> inputs,
                                                        OutputListener& listener) {
  const std::vector<Tensor>& out = run(inputs);
  for (size_t k = 0; k < out.size(); ++k) listener.output_ready(k, out[k]);
  return out;
}

void BackendRegistry::add(std::unique_ptr<Backend> backend) {
  TS_CHECK(find(backend->name()) == nullptr, ErrorKind::kInvalidArgument,
           "backend '{}' is registered twice", backend->name());
  backends_.push_back(std::move(backend));
}

Backend* BackendRegistry::find(std::string_view name) const {
  for (const auto& b : backends_)
    if (b->name() == name) return b.get();
  return nullptr;
}

Backend& BackendRegistry::get(std::string_view name) const {
  Backend* b = find(name);
  if (b == nullptr) {
    std::string known;
    for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
    throw_error(ErrorKind::kNotFound,
                fmt::format("unknown backend '{}' (known: {})", name, known));
  }
  return *b;
}

std::vector<std::string> BackendRegistry::names() const {
  std::vector<std::string> r;
  for (const auto& b : backends_) r.emplace_back(b->name());
  return r;
}

namespace {
// The one place where backends are registered.
void register_builtin_backends(BackendRegistry& r) {
  r.add(make_ref_backend());
  r.add(make_cpu_backend());
#ifdef TESSERA_HAVE_CUDA
  // Registered without a GPU too: supports() answers, compile() says why it cannot.
  r.add(make_cuda_backend());
#endif
}
}  // namespace

BackendRegistry& backend_registry() {
  static BackendRegistry* registry = [] {
    auto* r = new BackendRegistry();
    register_builtin_backends(*r);
    return r;
  }();
  return *registry;
}

}  // namespace tessera
