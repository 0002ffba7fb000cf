// Coverage of the harness itself: every op has a case, every dtype an op claims is run, the
// ops that must have gradient rules and decompositions have them, and ref has a kernel for
// every node of every case.
#include <gtest/gtest.h>

#include <algorithm>

#include "harness.h"
#include "tessera/backends/ref/ref_backend.h"
#include "tessera/ir/op_table.h"
#include "tessera/ir/passes.h"

namespace tessera::ops_test {
namespace {

bool is_leaf(OpKind k) { return op_info(k).op_class == OpClass::kLeaf; }

TEST(Coverage, EveryOpHasACase) {
  for (int i = 0; i < kOpKindCount; ++i) {
    auto k = static_cast<OpKind>(i);
    if (is_leaf(k)) continue;  // every case's graph is made of input leaves
    bool found = std::any_of(op_cases().begin(), op_cases().end(),
                             [k](const OpCase& c) { return c.op == k; });
    EXPECT_TRUE(found) << "op '" << op_name(k) << "' has no case in tests/ops/op_cases.cpp";
  }
}

TEST(Coverage, EveryClaimedDtypeIsRun) {
  for (int i = 0; i < kOpKindCount; ++i) {
    auto k = static_cast<OpKind>(i);
    if (is_leaf(k)) continue;
    for (DType t : op_dtypes(k)) {
      bool found = std::any_of(op_cases().begin(), op_cases().end(), [&](const OpCase& c) {
        return c.op == k && std::find(c.dtypes.begin(), c.dtypes.end(), t) != c.dtypes.end();
      });
      EXPECT_TRUE(found) << "op '" << op_name(k) << "' claims " << t.name()
                         << " but no case runs it";
    }
  }
}

TEST(Coverage, CaseNamesAreUnique) {
  std::vector<std::string> names;
  for (const OpCase& c : op_cases()) names.push_back(c.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
}

TEST(Coverage, SymbolicBatchCases) {
  int n = static_cast<int>(std::count_if(op_cases().begin(), op_cases().end(), has_dynamic_batch));
  EXPECT_GE(n, 3);
}

// Differentiable by their semantics (docs/ops.md): every op but leaves, comparisons, one_hot,
// random_uniform and fused nodes (autodiff runs before fusion).
TEST(Coverage, DifferentiableOpsHaveGradientRules) {
  for (int i = 0; i < kOpKindCount; ++i) {
    auto k = static_cast<OpKind>(i);
    OpClass cls = op_info(k).op_class;
    bool differentiable = cls != OpClass::kLeaf && cls != OpClass::kCompare &&
                          cls != OpClass::kFused && k != OpKind::kOneHot &&
                          k != OpKind::kRandomUniform;
    if (differentiable) {
      EXPECT_NE(op_info(k).grad, nullptr) << "op '" << op_name(k) << "' has no gradient rule";
    }
  }
}

TEST(Coverage, CompositesHaveDecompositions) {
  for (int i = 0; i < kOpKindCount; ++i) {
    auto k = static_cast<OpKind>(i);
    OpClass cls = op_info(k).op_class;
    if (cls == OpClass::kComposite || cls == OpClass::kFused) {
      EXPECT_NE(op_info(k).decompose, nullptr) << "op '" << op_name(k) << "' has no decomposition";
    }
  }
}

TEST(Coverage, RefHasAKernelForEveryNodeOfEveryCase) {
  for (const OpCase& c : op_cases()) {
    std::vector<DType> dtypes = c.dtypes;
    dtypes.insert(dtypes.end(), c.extra_dtypes.begin(), c.extra_dtypes.end());
    for (DType dt : dtypes) {
      Graph g = specialize(build_graph(c, dt), batch_sizes(c)[0]);
      for (ValueId id = 0; id < g.size(); ++id) {
        const Node& n = g.node(id);
        if (is_leaf(n.op)) continue;
        bool fused = n.op == OpKind::kFusedElementwise;
        EXPECT_EQ(ref_kernel(g, id) == nullptr, fused) << c.name << " " << dt.name();
        EXPECT_TRUE(backend_registry().get("ref").supports(g, id)) << c.name << " " << dt.name();
      }
    }
  }
}

TEST(Coverage, CpuIsRegistered) {
  std::vector<std::string> b = test_backends();
  EXPECT_NE(std::find(b.begin(), b.end(), "cpu"), b.end());
}

}  // namespace
}  // namespace tessera::ops_test
