// Reference reductions: reduce_sum, reduce_mean, reduce_max over `axes` (empty = all) with
// `keepdims`. Float sums accumulate in double and round once; integer sums wrap.
#include <cmath>
#include <limits>

#include "ref_kernels.h"
#include "tessera/core/error.h"
#include "tessera/ir/graph.h"

namespace tessera::ref {

void reduce_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  const Tensor& x = in[0];
  const Shape& s = x.shape();
  OpKind op = args.node.op;

  std::vector<bool> reduced(s.rank(), false);
  const std::vector<int64_t>& axes = args.node.attrs.get_ints("axes");
  if (axes.empty()) reduced.assign(s.rank(), true);
  for (int64_t a : axes) reduced[s.normalize_axis(static_cast<int>(a))] = true;

  // The output index of every input element: the kept axes, in order (a keepdims output has
  // the same flat layout since its reduced axes have size 1).
  Shape kept;
  int64_t count = 1;
  for (int i = 0; i < s.rank(); ++i) {
    if (reduced[i])
      count *= s[i];
    else
      kept.push_back(s[i]);
  }
  auto out_index = [&](int64_t flat) {
    std::vector<int64_t> idx = unravel(flat, s), k;
    for (int i = 0; i < s.rank(); ++i)
      if (!reduced[i]) k.push_back(idx[i]);
    return ravel(k, kept);
  };

  with_output(args, [&](Tensor& out) {
    int64_t n_out = out.numel();
    if (is_integral(x.dtype())) {
      bool is_max = op == OpKind::kReduceMax;
      std::vector<uint64_t> acc(n_out, 0);
      std::vector<int64_t> best(n_out, std::numeric_limits<int64_t>::min());
      for (int64_t i = 0; i < x.numel(); ++i) {
        int64_t o = out_index(i), v = get_i64(x, i);
        acc[o] += static_cast<uint64_t>(v);
        if (v > best[o]) best[o] = v;
      }
      for (int64_t o = 0; o < n_out; ++o)
        set_wrapped(out, o, is_max ? static_cast<uint64_t>(best[o]) : acc[o]);
      return;
    }
    std::vector<double> acc(
        n_out, op == OpKind::kReduceMax ? -std::numeric_limits<double>::infinity() : 0.0);
    for (int64_t i = 0; i < x.numel(); ++i) {
      int64_t o = out_index(i);
      double v = get_f64(x, i);
      if (op != OpKind::kReduceMax)
        acc[o] += v;
      else if (std::isnan(v) || std::isnan(acc[o]))
        acc[o] = std::numeric_limits<double>::quiet_NaN();
      else if (v > acc[o])
        acc[o] = v;
    }
    for (int64_t o = 0; o < n_out; ++o)
      set_f64(out, o, op == OpKind::kReduceMean ? acc[o] / static_cast<double>(count) : acc[o]);
  });
}

}  // namespace tessera::ref
