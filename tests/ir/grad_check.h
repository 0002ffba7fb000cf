// Test-only: finite-difference checks of differentiate() with the double interpreter.
//
//   GradChecker c;
//   ValueId w = c.param("w", {2, 3});
//   ValueId y = c.b.tanh(w);
//   c.check(y, {w});     // loss = ½ Σ (y + R)², R random: dy = y + R is generic
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "double_eval.h"
#include "tessera/backends/ref/ref_backend.h"
#include "tessera/ir/autodiff.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/op_table.h"

namespace tessera::adtest {

class GradChecker {
 public:
  explicit GradChecker(int64_t batch = 1, uint32_t seed = 7) : batch_(batch), rng_(seed) {}

  // A trainable f32 parameter with uniform values in [lo, hi].
  ValueId param(const std::string& name, const Shape& shape, double lo = -2, double hi = 2,
                DType dtype = kF32) {
    DTensor v = random_dtensor(shape, rng_, lo, hi);
    Tensor t = Tensor::from_vector(v.v, shape, dtype);
    ValueId id = b.parameter(name, t);
    feeds[id] = from_tensor(t);  // the stored (rounded) values
    return id;
  }
  // Values in ±[lo, hi]: away from the kinks of abs and relu at 0.
  ValueId param_away_from_zero(const std::string& name, const Shape& shape, double lo = 0.2,
                               double hi = 2) {
    ValueId id = param(name, shape, lo, hi);
    std::bernoulli_distribution flip(0.5);
    for (double& x : feeds[id].v)
      if (flip(rng_)) x = -x;
    b.graph().mutable_node(id).value = Tensor::from_vector(feeds[id].v, shape, kF32);
    return id;
  }
  // An input fed with uniform values; `shape` may hold kDynamic (fed with the batch).
  ValueId input(const std::string& name, const Shape& shape, double lo = -2, double hi = 2) {
    ValueId id = b.input(name, kF32, shape);
    feeds[id] = random_dtensor(shape.with_batch(batch_), rng_, lo, hi);
    return id;
  }
  ValueId index_input(const std::string& name, const Shape& shape,
                      const std::vector<int64_t>& values) {
    ValueId id = b.input(name, kI64, shape);
    DTensor t = dtensor(shape.with_batch(batch_));
    for (int64_t i = 0; i < t.numel(); ++i) t.v[i] = static_cast<double>(values.at(i));
    feeds[id] = t;
    return id;
  }
  ValueId indices(const std::vector<int64_t>& values, const Shape& shape) {
    return b.constant(Tensor::from_vector(values, shape, kI64));
  }

  // Differentiates a scalar loss built from `y` and compares every gradient with central
  // differences. Returns the differentiated graph for further checks.
  Gradients check(ValueId y, const std::vector<ValueId>& wrt, double tol = 1e-6) {
    ValueId loss = y;
    if (b.shape(y).rank() != 0) {
      Shape rs = b.shape(y);
      for (int i = 0; i < rs.rank(); ++i)
        if (rs[i] == kDynamic) rs[i] = 1;
      DTensor r = random_dtensor(rs, rng_, -1, 1);
      ValueId rc = b.constant(Tensor::from_vector(r.v, rs, b.dtype(y)));
      ValueId e = b.add(y, rc);
      loss = b.mul(b.scalar(0.5, b.dtype(y)), b.reduce_sum(b.mul(e, e), {}));
    }
    Graph g = b.graph();
    Gradients d = differentiate(g, loss, wrt);
    EXPECT_NO_THROW(d.graph.validate()) << d.graph.str();
    EXPECT_EQ(d.grads.size(), wrt.size());
    for (ValueId i = 0; i < g.size(); ++i) {
      EXPECT_EQ(d.graph.node(i).op, g.node(i).op) << "forward node " << i << " changed";
      EXPECT_EQ(d.graph.node(i).inputs, g.node(i).inputs) << "forward node " << i;
    }
    std::vector<DTensor> vals = DoubleEvaluator(d.graph, batch_).run(feeds);
    DoubleEvaluator fwd(g, batch_);
    for (size_t k = 0; k < wrt.size(); ++k) {
      ValueId w = wrt[k];
      if (!feeds.count(w)) feeds[w] = from_tensor(g.node(w).value);
      EXPECT_NE(d.grads[k], kNoValue) << "no gradient for " << g.describe(w);
      if (d.grads[k] == kNoValue) continue;
      EXPECT_EQ(d.graph.type(d.grads[k]), g.type(w)) << g.describe(w);
      const DTensor& analytic = vals[d.grads[k]];
      DTensor base = feeds[w];
      double max_err = 0;
      for (int64_t i = 0; i < base.numel(); ++i) {
        std::map<ValueId, DTensor> f = feeds;
        const double eps = 1e-5 * std::max(1.0, std::fabs(base.v[i]));
        f[w].v[i] = base.v[i] + eps;
        double plus = fwd.run(f)[loss].v[0];
        f[w].v[i] = base.v[i] - eps;
        double minus = fwd.run(f)[loss].v[0];
        double numeric = (plus - minus) / (2 * eps);
        double err = std::fabs(numeric - analytic.v.at(i)) / std::max(1.0, std::fabs(numeric));
        max_err = std::max(max_err, err);
        EXPECT_LT(err, tol) << g.describe(w) << " element " << i << ": analytic " << analytic.v[i]
                            << ", numeric " << numeric << "\n"
                            << d.graph.str();
        if (err >= tol) break;  // one report per value is enough
      }
    }
    check_on_ref(d, vals);
    return d;
  }

  // When `ref` runs every node, the backward graph evaluated on it (in the graph's dtypes)
  // must agree with the double interpreter. Graphs with a symbolic batch are left to the
  // tests that specialize them.
  void check_on_ref(const Gradients& d, const std::vector<DTensor>& want) {
    const Graph& g = d.graph;
    bool half = false;
    for (ValueId i = 0; i < g.size(); ++i) {
      const Node& n = g.node(i);
      if (!g.type(i).shape.is_static()) return;
      if (op_info(n.op).op_class != OpClass::kLeaf && ref_kernel(g, i) == nullptr) return;
      half = half || g.type(i).dtype == kF16 || g.type(i).dtype == kBF16;
    }
    std::vector<Tensor> vals(g.size());
    for (ValueId i = 0; i < g.size(); ++i) {
      const Node& n = g.node(i);
      if (feeds.count(i)) {
        vals[i] = Tensor::from_vector(feeds.at(i).v, n.type.shape, n.type.dtype);
      } else if (n.op == OpKind::kParameter || n.op == OpKind::kConstant) {
        vals[i] = n.value;
      } else {
        std::vector<Tensor> ins;
        for (ValueId in : n.inputs) ins.push_back(vals[in]);
        vals[i] = ref_evaluate(g, i, ins);
      }
    }
    const double tol = half ? 1e-2 : 1e-4;
    for (ValueId gid : d.grads) {
      if (gid == kNoValue) continue;
      for (int64_t k = 0; k < want[gid].numel(); ++k) {
        double w = want[gid].v[k];
        EXPECT_NEAR(vals[gid].get(k), w, tol * std::max(1.0, std::fabs(w)))
            << "ref vs double: " << g.describe(gid) << " element " << k;
      }
    }
  }

  GraphBuilder b;
  std::map<ValueId, DTensor> feeds;

 private:
  int64_t batch_;
  std::mt19937 rng_;
};

}  // namespace tessera::adtest
