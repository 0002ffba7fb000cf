// The simulators' functional mode in the conformance harness: every matmul and conv2d case
// run through the numerics backend in bf16 (as the TPU's matrix unit computes) against ref on
// the same inputs rounded to bf16. Products of bf16 values are exact in f32, so the only
// difference left is the order of the f32 additions — the f32 tolerance of the case applies.
// (int8 needs calibrated scales; its kernels are checked bit for bit in
// tests/sim/numerics_test.cpp and end to end in tests/e2e/quantized_accuracy_test.cpp.)
//   FunctionalMode.<case>_bf16, FunctionalMode.<case>_bf16_fold4
#include <fmt/core.h>
#include <gtest/gtest.h>

#include "harness.h"
#include "tessera/backends/scheduler.h"
#include "tessera/ir/passes.h"
#include "tessera/sim/numerics_backend.h"

namespace tessera::ops_test {
namespace {

void functional_check(const OpCase& c, int64_t fold_rows) {
  sim::TargetNumerics t = sim::parse_numerics("bf16", "test");
  t.fold_rows = fold_rows;
  std::shared_ptr<Backend> mxu = sim::make_numerics_backend(t);
  Graph g = build_graph(c, kF32);
  for (int64_t batch : batch_sizes(c)) {
    SCOPED_TRACE(fmt::format("batch {}", batch));
    std::vector<Tensor> inputs = make_inputs(c, kF32, batch, 1234, false);
    std::vector<Tensor> rounded;
    for (const Tensor& x : inputs)
      rounded.push_back(x.dtype() == kF32 ? x.to(kBF16).to(kF32) : x);
    std::vector<Tensor> want = run_on(g, "ref", batch, rounded);
    Program p = compile_program(g, {.batch = batch, .custom = {mxu}});
    int on_mxu = 0;
    for (const std::string& b : p.assignment()) on_mxu += b == mxu->name();
    ASSERT_EQ(on_mxu, 1) << "the matrix-unit node did not run on " << mxu->name();
    Tensor got = p.run(inputs)[0].clone();
    std::string diff = compare(want[0], got, forward_tolerance(c));
    EXPECT_TRUE(diff.empty()) << c.name << " in " << t.str() << " vs ref on bf16 inputs: " << diff;
  }
}

bool register_all() {
  for (const OpCase& c : op_cases()) {
    if (c.op != OpKind::kMatMul && c.op != OpKind::kConv2D) continue;
    if (std::find(c.dtypes.begin(), c.dtypes.end(), kF32) == c.dtypes.end()) continue;
    register_test("FunctionalMode", c.name + "_bf16", [&c] { functional_check(c, 0); });
    register_test("FunctionalMode", c.name + "_bf16_fold4", [&c] { functional_check(c, 4); });
  }
  return true;
}

[[maybe_unused]] const bool kRegistered = register_all();

}  // namespace
}  // namespace tessera::ops_test
