// fuse_elementwise keeps every fused node within kMaxFusedInputs inputs, so that a large
// elementwise tree (a gradient summing many window positions, say) still runs on backends
// that hold a fused node's inputs in fixed arrays.
#include <gtest/gtest.h>

#include "passes_test_util.h"
#include "tessera/backends/scheduler.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/fusion.h"

namespace tessera {
namespace {

TEST(FusionLimits, GroupsStopAtTheInputLimit) {
  GraphBuilder b;
  std::vector<ValueId> xs;
  for (int i = 0; i < 40; ++i) xs.push_back(b.input(fmt::format("x{}", i), kF32, {3, 5}));
  ValueId acc = b.relu(xs[0]);
  for (int i = 1; i < 40; ++i) acc = b.add(acc, b.mul(xs[i], xs[i]));
  b.output(acc);
  Graph g = b.finish();
  Graph f = fuse_elementwise(g);
  int fused = 0;
  for (const Node& n : f.nodes()) {
    if (n.op != OpKind::kFusedElementwise) continue;
    ++fused;
    EXPECT_LE(static_cast<int>(n.inputs.size()), kMaxFusedInputs) << n.name;
  }
  EXPECT_GE(fused, 3);  // 40 inputs need at least three groups
  Rng rng(2);
  std::vector<Tensor> inputs;
  for (int i = 0; i < 40; ++i) inputs.push_back(testing::random_tensor(rng, {3, 5}));
  Program p = compile_program(g, {.batch = 1, .backends = {"cpu"}});
  testing::expect_close(p.run(inputs)[0], testing::eval_outputs(g, inputs)[0]);
}

}  // namespace
}  // namespace tessera
