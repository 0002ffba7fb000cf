// Reference composites computed directly (not through their decompositions, which the
// harness checks against these): softmax, log_softmax and cross_entropy, all in double.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ref_kernels.h"
#include "tessera/core/error.h"
#include "tessera/ir/graph.h"

namespace tessera::ref {

void softmax_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  const Tensor& x = in[0];
  const Shape& s = x.shape();
  int axis = s.normalize_axis(static_cast<int>(args.node.attrs.get_int("axis")));
  bool log_form = args.node.op == OpKind::kLogSoftmax;
  // x viewed as [outer, dim, inner]; each (outer, inner) pair is one softmax.
  int64_t outer = 1, inner = 1, dim = s[axis];
  for (int i = 0; i < axis; ++i) outer *= s[i];
  for (int i = axis + 1; i < s.rank(); ++i) inner *= s[i];
  with_output(args, [&](Tensor& out) {
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t k = 0; k < inner; ++k) {
        auto at = [&](int64_t d) { return (o * dim + d) * inner + k; };
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t d = 0; d < dim; ++d) mx = std::max(mx, get_f64(x, at(d)));
        double sum = 0;
        for (int64_t d = 0; d < dim; ++d) sum += std::exp(get_f64(x, at(d)) - mx);
        for (int64_t d = 0; d < dim; ++d) {
          double z = get_f64(x, at(d)) - mx;
          set_f64(out, at(d), log_form ? z - std::log(sum) : std::exp(z) / sum);
        }
      }
    }
  });
}

void cross_entropy_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  const Tensor& logits = in[0];
  const Tensor& labels = in[1];
  int64_t classes = logits.shape()[logits.rank() - 1];
  with_output(args, [&](Tensor& out) {
    for (int64_t r = 0; r < labels.numel(); ++r) {
      int64_t label = get_i64(labels, r);
      if (label < 0 || label >= classes)
        fail_at(args, "label", unravel(r, labels.shape()), label,
                fmt::format("outside the {} classes [0, {})", classes, classes));
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t c = 0; c < classes; ++c) mx = std::max(mx, get_f64(logits, r * classes + c));
      double sum = 0;
      for (int64_t c = 0; c < classes; ++c) sum += std::exp(get_f64(logits, r * classes + c) - mx);
      set_f64(out, r, mx + std::log(sum) - get_f64(logits, r * classes + label));
    }
  });
}

}  // namespace tessera::ref
