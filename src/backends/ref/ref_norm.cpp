// Reference normalization kernels: layer_norm, rms_norm and their *_grad_input ops, computed
// directly in double (the harness checks the decompositions and the cpu kernels against
// these). Statistics are two-pass (mean, then the centred sum of squares), the most
// accurate form.
#include <cmath>
#include <vector>

#include "ref_kernels.h"
#include "tessera/ir/graph.h"

namespace tessera::ref {

void norm_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  const Tensor& x = in[0];
  const Tensor& gamma = in[1];
  const OpKind op = args.node.op;
  const bool layer = op == OpKind::kLayerNorm || op == OpKind::kLayerNormGradInput;
  const bool backward = op == OpKind::kLayerNormGradInput || op == OpKind::kRmsNormGradInput;
  const double eps = args.node.attrs.get_float("epsilon");
  const int64_t c = x.shape()[x.rank() - 1];
  const int64_t rows = c == 0 ? 0 : x.numel() / c;
  std::vector<double> xhat(static_cast<size_t>(c)), g(static_cast<size_t>(c));
  with_output(args, [&](Tensor& out) {
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t base = r * c;
      double mean = 0;
      if (layer) {
        for (int64_t i = 0; i < c; ++i) mean += get_f64(x, base + i);
        mean /= static_cast<double>(c);
      }
      double ss = 0;
      for (int64_t i = 0; i < c; ++i) {
        double d = get_f64(x, base + i) - mean;
        ss += d * d;
      }
      // rstd: 1/sqrt(var + eps) (layer) or 1/sqrt(mean square + eps) (rms).
      const double rstd = 1.0 / std::sqrt(ss / static_cast<double>(c) + eps);
      for (int64_t i = 0; i < c; ++i) xhat[i] = (get_f64(x, base + i) - mean) * rstd;
      if (!backward) {
        for (int64_t i = 0; i < c; ++i) {
          double y = xhat[i] * get_f64(gamma, i);
          if (layer) y += get_f64(in[2], i);
          set_f64(out, base + i, y);
        }
        continue;
      }
      const Tensor& dy = in[2];
      double mean_g = 0, mean_gx = 0;
      for (int64_t i = 0; i < c; ++i) {
        g[i] = get_f64(dy, base + i) * get_f64(gamma, i);
        mean_g += g[i];
        mean_gx += g[i] * xhat[i];
      }
      mean_g /= static_cast<double>(c);
      mean_gx /= static_cast<double>(c);
      if (!layer) mean_g = 0;  // rms_norm: no mean was subtracted, so none comes back
      for (int64_t i = 0; i < c; ++i)
        set_f64(out, base + i, rstd * (g[i] - mean_g - xhat[i] * mean_gx));
    }
  });
}

}  // namespace tessera::ref
