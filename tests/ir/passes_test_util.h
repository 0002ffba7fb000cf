// Test helpers for the graph-pass tests: a tiny f32 interpreter, independent of every
// backend, so pass tests check values even while the backends are being written; and a
// way to run a graph on the ref backend when it supports every node.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "../support/scalar_ops.h"
#include "tessera/backends/backend.h"
#include "tessera/backends/ref/ref_backend.h"
#include "tessera/core/error.h"
#include "tessera/core/rng.h"
#include "tessera/ir/fusion.h"
#include "tessera/ir/graph.h"
#include "tessera/ir/op_table.h"

namespace tessera::testing {

// Flat index into `in` (broadcast to `out`) of the element at flat index `k` of `out`.
inline int64_t broadcast_index(const Shape& in, const Shape& out, int64_t k) {
  int64_t idx = 0, stride = 1;
  for (int d = out.rank() - 1, e = in.rank() - 1; d >= 0; --d, --e) {
    int64_t coord = k % out[d];
    k /= out[d];
    if (e < 0) continue;
    if (in[e] != 1) idx += coord * stride;
    stride *= in[e];
  }
  return idx;
}

// Evaluates one node on f32 values: elementwise, fused, reshape, broadcast, 2-D matmul,
// reduce_sum over every axis. Throws kUnsupported for anything else.
inline Tensor eval_node(const Graph& g, ValueId id, std::span<const Tensor> in) {
  const Node& n = g.node(id);
  const Shape& os = n.type.shape;
  Tensor out = Tensor::zeros(n.type.dtype, os);
  int64_t total = os.numel();
  OpClass c = op_info(n.op).op_class;
  if (c == OpClass::kUnary) {
    for (int64_t k = 0; k < total; ++k) out.set(k, test_support::scalar_unary(n.op, in[0].get(k)));
  } else if (c == OpClass::kBinary) {
    for (int64_t k = 0; k < total; ++k)
      out.set(k, test_support::scalar_binary(n.op, in[0].get(broadcast_index(in[0].shape(), os, k)),
                                             in[1].get(broadcast_index(in[1].shape(), os, k))));
  } else if (n.op == OpKind::kFusedElementwise) {
    const FusedProgram& p = *n.fused;
    std::vector<double> r(p.num_registers());
    for (int64_t k = 0; k < total; ++k) {
      for (int i = 0; i < p.num_inputs; ++i)
        r[i] = in[i].get(broadcast_index(in[i].shape(), os, k));
      for (size_t i = 0; i < p.instrs.size(); ++i) {
        const FusedInstr& s = p.instrs[i];
        r[p.num_inputs + i] = op_info(s.op).op_class == OpClass::kBinary
                                  ? test_support::scalar_binary(s.op, r[s.a], r[s.b])
                                  : test_support::scalar_unary(s.op, r[s.a]);
      }
      out.set(k, r.back());
    }
  } else if (n.op == OpKind::kReshape) {
    for (int64_t k = 0; k < total; ++k) out.set(k, in[0].get(k));
  } else if (n.op == OpKind::kBroadcast) {
    for (int64_t k = 0; k < total; ++k)
      out.set(k, in[0].get(broadcast_index(in[0].shape(), os, k)));
  } else if (n.op == OpKind::kMatMul && os.rank() == 2 && !n.attrs.get_int_or("transpose_a", 0) &&
             !n.attrs.get_int_or("transpose_b", 0)) {
    int64_t m = os[0], nn = os[1], kk = in[0].shape()[1];
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < nn; ++j) {
        double s = 0;
        for (int64_t p = 0; p < kk; ++p) s += in[0].get(i * kk + p) * in[1].get(p * nn + j);
        out.set(i * nn + j, s);
      }
  } else if (n.op == OpKind::kReduceSum && n.attrs.get_ints("axes").empty() && os.rank() == 0) {
    double s = 0;
    for (int64_t k = 0; k < in[0].numel(); ++k) s += in[0].get(k);
    out.set(0, s);
  } else {
    throw_error(ErrorKind::kUnsupported,
                fmt::format("test interpreter: {} is not supported", g.describe(id)));
  }
  return out;
}

// Runs the whole graph; `inputs` in Graph::inputs() order. Returns every value.
inline std::vector<Tensor> eval_graph(const Graph& g, const std::vector<Tensor>& inputs) {
  std::vector<Tensor> v(g.size());
  size_t next_input = 0;
  for (ValueId i = 0; i < g.size(); ++i) {
    const Node& n = g.node(i);
    if (n.op == OpKind::kInput) {
      v[i] = inputs.at(next_input++);
    } else if (n.op == OpKind::kParameter || n.op == OpKind::kConstant) {
      v[i] = n.value;
    } else {
      std::vector<Tensor> ins;
      for (ValueId in : n.inputs) ins.push_back(v[in]);
      v[i] = eval_node(g, i, ins);
    }
  }
  return v;
}

inline std::vector<Tensor> eval_outputs(const Graph& g, const std::vector<Tensor>& inputs) {
  std::vector<Tensor> all = eval_graph(g, inputs);
  std::vector<Tensor> r;
  for (ValueId o : g.outputs()) r.push_back(all[o]);
  return r;
}

inline Tensor random_tensor(Rng& rng, const Shape& shape, double lo = -1.0, double hi = 1.0) {
  Tensor t = Tensor::zeros(kF32, shape);
  for (int64_t k = 0; k < t.numel(); ++k) t.set(k, lo + (hi - lo) * rng.next_uniform());
  return t;
}

inline void expect_close(const Tensor& a, const Tensor& b, double tol = 1e-5) {
  ASSERT_EQ(a.shape(), b.shape());
  for (int64_t k = 0; k < a.numel(); ++k) {
    double x = a.get(k), y = b.get(k);
    if (std::isnan(x) && std::isnan(y)) continue;
    ASSERT_NEAR(x, y, tol * (1.0 + std::fabs(y))) << "at element " << k;
  }
}

// True when backend `name` supports every computed node of `g`. The backends are being
// written alongside these passes, so value checks through them skip until then.
inline bool backend_supports(const Graph& g, const char* name = "ref") {
  Backend* be = backend_registry().find(name);
  if (be == nullptr) return false;
  for (ValueId i = 0; i < g.size(); ++i)
    if (op_info(g.node(i).op).op_class != OpClass::kLeaf && !be->supports(g, i)) return false;
  return true;
}
inline bool ref_supports(const Graph& g) { return backend_supports(g, "ref"); }

// Every value of `g` computed node by node with the ref kernels into fresh tensors: an
// oracle that involves no memory plan.
inline std::vector<Tensor> ref_node_by_node(const Graph& g, const std::vector<Tensor>& inputs) {
  std::vector<Tensor> v(g.size());
  size_t next_input = 0;
  for (ValueId i = 0; i < g.size(); ++i) {
    const Node& n = g.node(i);
    if (n.op == OpKind::kInput) {
      v[i] = inputs.at(next_input++);
    } else if (n.op == OpKind::kParameter || n.op == OpKind::kConstant) {
      v[i] = n.value.clone();
    } else {
      std::vector<Tensor> ins;
      for (ValueId in : n.inputs) ins.push_back(v[in]);
      v[i] = ref_evaluate(g, i, ins);
    }
  }
  return v;
}

}  // namespace tessera::testing
