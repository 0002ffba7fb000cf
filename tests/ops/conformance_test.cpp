// The conformance tests, registered from the op case table at start-up so that each case ×
// dtype × backend is its own, readably named test:
//
//   Forward.matmul_transpose_b_f16_cpu     backend vs ref (tolerances in harness.cpp);
//     …_cpu_scalar: the cpu's scalar fallbacks; …_inplace: the op's inputs are arena values
//     that die at it, so the memory planner runs it in place
//   Gradient.softmax_last_cpu              autodiff on a backend vs finite differences on ref
//   Decomposition.softmax_last_bf16        a composite's decomposition vs its ref kernel
//
// Filter with e.g. --gtest_filter='Forward.*_cpu' or 'Gradient.matmul*'.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "harness.h"
#include "tessera/backends/cpu/cpu_backend.h"
#include "tessera/backends/gpu_devices.h"
#include "tessera/backends/scheduler.h"
#include "tessera/core/error.h"
#include "tessera/core/rng.h"
#include "tessera/ir/autodiff.h"
#include "tessera/ir/op_table.h"
#include "tessera/ir/passes.h"

namespace tessera::ops_test {
namespace {

uint64_t seed_of(const std::string& s) { return std::hash<std::string>{}(s)&0xffffffff; }

std::string input_types(const Graph& g, ValueId id) {
  std::string s;
  for (ValueId in : g.node(id).inputs) s += (s.empty() ? "" : ", ") + g.type(in).str();
  return s;
}

bool is_leaf(const Node& n) { return op_info(n.op).op_class == OpClass::kLeaf; }

// Runs `g` on `backend`, turning a tessera::Error into a test failure (returns false).
bool try_run(const Graph& g, const std::string& backend, int64_t batch,
             const std::vector<Tensor>& inputs, std::vector<Tensor>* out) {
  try {
    *out = run_on(g, backend, batch, inputs);
    return true;
  } catch (const Error& e) {
    ADD_FAILURE() << "running on '" << backend << "' (batch " << batch << ") threw: " << e.what();
    return false;
  }
}

// ---- forward -----------------------------------------------------------------------

// How a forward test runs the backend under test.
struct Variant {
  std::string backend;
  bool scalar = false;    // cpu: cpu_force_scalar(true), the fallbacks of non-AVX2 machines
  bool in_place = false;  // data inputs pass through cast(x, same dtype) first, so that they
                          // are arena values dying at the op: the planner runs it in place
  std::string tag() const {
    return backend + (scalar ? "_scalar" : "") + (in_place ? "_inplace" : "");
  }
};

// Forces (or not) the cpu scalar fallbacks for its lifetime.
class ScalarScope {
 public:
  explicit ScalarScope(bool force) : previous_(cpu_force_scalar(force)) {}
  ~ScalarScope() { cpu_force_scalar(previous_); }

 private:
  bool previous_;
};

bool may_run_in_place(OpKind op) {
  OpClass c = op_info(op).op_class;
  return c == OpClass::kUnary || c == OpClass::kBinary;
}

// Backends on a device this machine may lack ("cuda") skip without it, and do not have to
// claim every node the op table allows: what they leave runs on the cpu (the scheduler's
// fallback), which its own tests cover.
bool needs_gpu(const std::string& backend) { return backend == "cuda"; }

void forward_check(const OpCase& c, DType dtype, const Variant& v, bool required) {
  if (needs_gpu(v.backend) && gpu_devices().empty())
    GTEST_SKIP() << "no GPU: the '" << v.backend << "' cases run where the CUDA runtime finds one";
  if (needs_gpu(v.backend)) required = false;
  Graph g = build_graph(c, dtype);
  Graph tested = g;
  if (v.in_place) {
    OpCase pre = c;
    pre.emit = [&c](GraphBuilder& b, const std::vector<ValueId>& in, DType dt) {
      std::vector<ValueId> copies;
      for (ValueId x : in) copies.push_back(b.cast(x, b.dtype(x)));
      return c.emit(b, copies, dt);
    };
    tested = build_graph(pre, dtype);
  }
  if (c.fuse) {
    ASSERT_TRUE(std::any_of(g.nodes().begin(), g.nodes().end(),
                            [](const Node& n) { return n.op == OpKind::kFusedElementwise; }))
        << "fuse_elementwise left this chain unfused:\n"
        << g.str();
  }
  ScalarScope scalar(v.scalar);
  for (int64_t batch : batch_sizes(c)) {
    SCOPED_TRACE(fmt::format("batch {}", batch));
    Graph spec = specialize(tested, batch);
    const Backend& be = backend_registry().get(v.backend);
    for (ValueId id = 0; id < spec.size(); ++id) {
      if (is_leaf(spec.node(id)) || be.supports(spec, id)) continue;
      std::string what = fmt::format("'{}' does not support {} with inputs ({})", v.backend,
                                     spec.describe(id), input_types(spec, id));
      if (required) FAIL() << what << ", which the op table allows";
      GTEST_SKIP() << what << " (not claimed by the op table)";
    }
    std::vector<Tensor> inputs = make_inputs(c, dtype, batch, seed_of(c.name), true);
    std::vector<Tensor> want, got;
    if (!try_run(g, "ref", batch, inputs, &want) ||
        !try_run(tested, v.backend, batch, inputs, &got))
      return;
    std::string diff = compare(want[0], got[0], forward_tolerance(c, v.backend));
    EXPECT_TRUE(diff.empty()) << "node " << g.node(g.outputs()[0]).name << " on '" << v.tag()
                              << "' vs ref: " << diff;
  }
}

// ---- gradients ---------------------------------------------------------------------

// loss = Σ y·r for a fixed random r (an extra input, so that the graph keeps its symbolic
// batch and autodiff runs on it). Analytic gradients (differentiate(), run on `backend`)
// against central differences of the same loss evaluated on ref:
//   eps = 1e-3·max(1, |x|), the divisor being the difference actually stored in f32;
//   agree when |analytic - fd| <= 5e-3·|fd| + 1e-3·max(1, max |fd|).
// With f32 storage of y the loss carries ~1e-7 relative noise, i.e. ~1e-4 after dividing by
// 2·eps; the O(eps²) truncation error stays below 1e-4 for the value ranges of the cases.
// (Measured: the worst case, log_softmax_batch, uses about a third of this tolerance.)
void gradient_check(const OpCase& c, const std::string& backend) {
  if (needs_gpu(backend) && gpu_devices().empty())
    GTEST_SKIP() << "no GPU: the '" << backend << "' cases run where the CUDA runtime finds one";
  int64_t batch = batch_sizes(c).back();
  GraphBuilder b;
  std::vector<ValueId> in, wrt;
  std::vector<size_t> wrt_arg;
  for (size_t i = 0; i < c.args.size(); ++i) {
    DType t = c.args[i].kind == ArgKind::kData    ? kF32
              : c.args[i].kind == ArgKind::kIndex ? c.args[i].index_dtype
                                                  : kBool;
    in.push_back(b.input(fmt::format("x{}", i), t, c.args[i].shape));
    if (c.args[i].kind == ArgKind::kData) {
      wrt.push_back(in.back());
      wrt_arg.push_back(i);
    }
  }
  ValueId y = c.emit(b, in, kF32);
  ASSERT_EQ(b.dtype(y), kF32);
  ValueId r_in = b.input("r", kF32, b.shape(y));
  Graph forward = b.graph();
  forward.outputs() = {y};
  ValueId loss = b.reduce_sum(b.mul(y, r_in), {});
  Graph with_loss = b.finish();

  Gradients d;
  try {
    d = differentiate(with_loss, loss, wrt);
  } catch (const Error& e) {
    FAIL() << "differentiate() threw: " << e.what();
  }
  for (size_t k = 0; k < wrt.size(); ++k)
    ASSERT_NE(d.grads[k], kNoValue) << "no gradient reaches input x" << wrt_arg[k];
  d.graph.outputs() = d.grads;

  std::vector<Tensor> inputs = make_inputs(c, kF32, batch, seed_of(c.name), false);
  Rng rng(seed_of(c.name) + 1);
  Tensor r = Tensor::zeros(kF32, forward.type(y).shape.with_batch(batch));
  rng.fill_uniform(r, -1.0, 1.0);
  inputs.push_back(r);
  std::vector<Tensor> analytic;
  if (!try_run(d.graph, backend, batch, inputs, &analytic)) return;

  Program ref = compile_program(forward, {.batch = batch, .backends = {"ref"}});
  auto loss_at = [&](const std::vector<Tensor>& xs) {
    const Tensor& yv = ref.run(xs)[0];
    double sum = 0;
    for (int64_t i = 0; i < yv.numel(); ++i) sum += yv.get(i) * r.get(i);
    return sum;
  };
  for (size_t k = 0; k < wrt.size(); ++k) {
    Tensor& x = inputs[wrt_arg[k]];
    std::vector<double> fd(x.numel());
    double max_fd = 1.0;
    for (int64_t i = 0; i < x.numel(); ++i) {
      double x0 = x.get(i), eps = 1e-3 * std::max(1.0, std::fabs(x0));
      x.set(i, x0 + eps);
      double xp = x.get(i), lp = loss_at(inputs);
      x.set(i, x0 - eps);
      double xm = x.get(i), lm = loss_at(inputs);
      x.set(i, x0);
      fd[i] = (lp - lm) / (xp - xm);
      max_fd = std::max(max_fd, std::fabs(fd[i]));
    }
    int bad = 0;
    std::string report;
    for (int64_t i = 0; i < x.numel(); ++i) {
      double a = analytic[k].get(i);
      double allowed = 5e-3 * std::fabs(fd[i]) + 1e-3 * max_fd;
      if (!(std::fabs(a - fd[i]) <= allowed) && ++bad <= 5)
        report += fmt::format("\n  at {}: analytic {:.7g}, finite difference {:.7g}", i, a, fd[i]);
    }
    EXPECT_EQ(bad, 0) << "d loss / d x" << wrt_arg[k] << " on '" << backend << "': " << bad
                      << " of " << x.numel() << " elements differ" << report;
  }
}

// ---- decompositions ----------------------------------------------------------------

// A composite's decomposition (intermediates rounded to the dtype) vs its direct ref kernel
// (one rounding): f32 within 1e-4 relative + 1e-5; f16/bf16 within 8 ulps of the value plus
// 2 ulps of 1.0 (cancellation against intermediates of magnitude ~1).
void decomposition_check(const OpCase& c, DType dtype) {
  Graph direct = build_graph(c, dtype);
  OpKind op = c.op;
  Graph expanded = decompose(direct, [op](const Node& n) { return n.op == op; });
  for (const Node& n : expanded.nodes())
    ASSERT_NE(n.op, op) << "decompose() left " << n.name << " in the graph";
  if (c.fuse) {
    // The fused node's decomposition must give back the unfused chain's values.
    OpCase unfused = c;
    unfused.fuse = false;
    direct = build_graph(unfused, dtype);
  }
  Tolerance tol{.f32_rtol = 1e-4, .f32_atol = 1e-5, .half_ulps = 8, .half_atol = 2};
  for (int64_t batch : batch_sizes(c)) {
    SCOPED_TRACE(fmt::format("batch {}", batch));
    std::vector<Tensor> inputs = make_inputs(c, dtype, batch, seed_of(c.name), false);
    std::vector<Tensor> want, got;
    if (!try_run(direct, "ref", batch, inputs, &want) ||
        !try_run(expanded, "ref", batch, inputs, &got))
      return;
    std::string diff = compare(want[0], got[0], tol);
    EXPECT_TRUE(diff.empty()) << "decomposition vs direct kernel: " << diff;
  }
}

// ---- registration ------------------------------------------------------------------

bool contains(const std::vector<DType>& v, DType t) {
  return std::find(v.begin(), v.end(), t) != v.end();
}

bool register_all() {
  std::vector<std::string> backends = test_backends();
  // Without a GPU the GPU backends' cases are one skipped test, not a thousand (each
  // registered test is a process under CTest).
  if (gpu_devices().empty()) {
    for (const std::string& be : backends)
      if (needs_gpu(be))
        register_test("Forward", "all_" + be, [be] {
          GTEST_SKIP() << "no GPU: the '" << be
                       << "' conformance cases (Forward.*_" << be << ", Gradient.*_" << be
                       << ") are registered and run where the CUDA runtime finds a device";
        });
    std::erase_if(backends, needs_gpu);
  }
  for (const OpCase& c : op_cases()) {
    std::vector<DType> dtypes = c.dtypes;
    dtypes.insert(dtypes.end(), c.extra_dtypes.begin(), c.extra_dtypes.end());
    for (DType dt : dtypes) {
      bool required = contains(c.dtypes, dt);
      std::vector<Variant> variants;
      for (const std::string& be : backends) {
        variants.push_back({be});
        if (be == "cpu" && cpu_has_avx2()) variants.push_back({be, /*scalar=*/true});
      }
      if (may_run_in_place(c.op)) {
        variants.push_back({"ref", false, /*in_place=*/true});
        for (const std::string& be : backends) variants.push_back({be, false, true});
      }
      for (const Variant& v : variants)
        register_test("Forward", c.name + "_" + dtype_tag(dt) + "_" + v.tag(),
                      [&c, dt, v, required] { forward_check(c, dt, v, required); });
      if (op_info(c.op).decompose != nullptr)
        register_test("Decomposition", c.name + "_" + dtype_tag(dt),
                      [&c, dt] { decomposition_check(c, dt); });
    }
    if (c.gradient && !c.fuse && op_info(c.op).grad != nullptr && contains(c.dtypes, kF32)) {
      std::vector<std::string> grad_backends = {"ref"};
      grad_backends.insert(grad_backends.end(), backends.begin(), backends.end());
      for (const std::string& be : grad_backends)
        register_test("Gradient", c.name + "_" + be, [&c, be] { gradient_check(c, be); });
    }
  }
  return true;
}

[[maybe_unused]] const bool kRegistered = register_all();

}  // namespace
}  // namespace tessera::ops_test
