// Test-only: a tiny double-precision interpreter of the graph IR, independent of the
// backends, so gradient rules and decompositions can be checked against finite differences
// with tight tolerances. It follows docs/ops.md but ignores dtype rounding (f16/bf16 values
// stay in double; casts to integer types truncate, to bool test != 0).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include "../support/scalar_ops.h"
#include "double_eval_conv.h"
#include "tessera/ir/graph.h"
#include "tessera/ir/op_table.h"

namespace tessera::adtest {

struct DTensor {
  Shape shape;
  std::vector<double> v;
  int64_t numel() const { return static_cast<int64_t>(v.size()); }
};

inline DTensor dtensor(const Shape& s, double fill = 0.0) {
  return {s, std::vector<double>(static_cast<size_t>(s.numel()), fill)};
}

inline DTensor from_tensor(const Tensor& t) {
  DTensor r = dtensor(t.shape());
  for (int64_t i = 0; i < r.numel(); ++i) r.v[i] = t.get(i);
  return r;
}

inline DTensor random_dtensor(const Shape& s, std::mt19937& rng, double lo, double hi) {
  DTensor r = dtensor(s);
  std::uniform_real_distribution<double> u(lo, hi);
  for (double& x : r.v) x = u(rng);
  return r;
}

inline std::vector<int64_t> unravel(int64_t flat, const Shape& s) {
  std::vector<int64_t> idx(s.rank());
  for (int i = s.rank() - 1; i >= 0; --i) {
    idx[i] = s[i] ? flat % s[i] : 0;
    flat = s[i] ? flat / s[i] : 0;
  }
  return idx;
}

inline int64_t ravel(const std::vector<int64_t>& idx, const Shape& s) {
  int64_t f = 0;
  for (int i = 0; i < s.rank(); ++i) f = f * s[i] + idx[i];
  return f;
}

// Index into `in` (broadcast to `out`) for the output multi-index.
inline int64_t broadcast_index(const std::vector<int64_t>& out_idx, const Shape& out,
                               const Shape& in) {
  int lead = out.rank() - in.rank();
  int64_t f = 0;
  for (int i = 0; i < in.rank(); ++i) f = f * in[i] + (in[i] == 1 ? 0 : out_idx[lead + i]);
  return f;
}

class DoubleEvaluator {
 public:
  DoubleEvaluator(const Graph& g, int64_t batch) : g_(g), batch_(batch) {}

  // Evaluates every node; `feeds` gives values for inputs and may override parameters and
  // constants.
  std::vector<DTensor> run(const std::map<ValueId, DTensor>& feeds) const {
    std::vector<DTensor> vals(g_.size());
    for (ValueId i = 0; i < g_.size(); ++i) {
      auto it = feeds.find(i);
      if (it != feeds.end()) {
        vals[i] = it->second;
        continue;
      }
      vals[i] = eval(i, vals);
      if (vals[i].shape != g_.type(i).shape.with_batch(batch_))
        throw std::runtime_error("double_eval: shape mismatch at " + g_.describe(i));
    }
    return vals;
  }

 private:
  Shape attr_shape(const Node& n, const char* name) const {
    return Shape(std::span<const int64_t>(n.attrs.get_ints(name))).with_batch(batch_);
  }

  static std::vector<int> axes_of(const Node& n, int rank) {
    std::vector<int> axes;
    const auto& a = n.attrs.get_ints("axes");
    if (a.empty()) {
      axes.resize(rank);
      std::iota(axes.begin(), axes.end(), 0);
    }
    for (int64_t x : a) axes.push_back(static_cast<int>(x < 0 ? x + rank : x));
    return axes;
  }

  static int64_t wrap_index(double raw, int64_t dim) {
    int64_t i = static_cast<int64_t>(raw);
    if (i < 0) i += dim;
    if (i < 0 || i >= dim) throw std::runtime_error("double_eval: index out of range");
    return i;
  }

  DTensor softmax(const DTensor& x, int axis, bool log) const {
    DTensor r = x;
    int64_t d = x.shape[axis];
    int64_t inner = 1;
    for (int i = axis + 1; i < x.shape.rank(); ++i) inner *= x.shape[i];
    int64_t outer = d ? x.numel() / (d * inner) : 0;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t in = 0; in < inner; ++in) {
        auto at = [&](int64_t k) { return (o * d + k) * inner + in; };
        double m = -INFINITY, s = 0;
        for (int64_t k = 0; k < d; ++k) m = std::max(m, x.v[at(k)]);
        for (int64_t k = 0; k < d; ++k) s += std::exp(x.v[at(k)] - m);
        for (int64_t k = 0; k < d; ++k)
          r.v[at(k)] = log ? x.v[at(k)] - m - std::log(s) : std::exp(x.v[at(k)] - m) / s;
      }
    return r;
  }

  // layer_norm / rms_norm over the last axis, and their input gradients (third = dy).
  static DTensor norm(const Node& n, const DTensor& x, const DTensor& gamma, const DTensor* third) {
    const bool layer = n.op == OpKind::kLayerNorm || n.op == OpKind::kLayerNormGradInput;
    const bool backward = n.op == OpKind::kLayerNormGradInput || n.op == OpKind::kRmsNormGradInput;
    const double eps = n.attrs.get_float("epsilon");
    const int64_t c = x.shape[x.shape.rank() - 1];
    DTensor r = dtensor(x.shape);
    std::vector<double> xh(static_cast<size_t>(c)), g(static_cast<size_t>(c));
    for (int64_t row = 0; c > 0 && row < x.numel() / c; ++row) {
      const double* xr = x.v.data() + row * c;
      double mean = 0, ss = 0;
      if (layer) mean = std::accumulate(xr, xr + c, 0.0) / static_cast<double>(c);
      for (int64_t i = 0; i < c; ++i) ss += (xr[i] - mean) * (xr[i] - mean);
      const double rstd = 1.0 / std::sqrt(ss / static_cast<double>(c) + eps);
      double mg = 0, mgx = 0;
      for (int64_t i = 0; i < c; ++i) {
        xh[i] = (xr[i] - mean) * rstd;
        g[i] = backward ? third->v[row * c + i] * gamma.v[i] : 0.0;
        mg += g[i] / static_cast<double>(c);
        mgx += g[i] * xh[i] / static_cast<double>(c);
      }
      for (int64_t i = 0; i < c; ++i) {
        double& out = r.v[row * c + i];
        if (backward)
          out = rstd * (g[i] - (layer ? mg : 0.0) - xh[i] * mgx);
        else
          out = xh[i] * gamma.v[i] + (layer ? third->v[i] : 0.0);
      }
    }
    return r;
  }

  DTensor eval(ValueId id, const std::vector<DTensor>& vals) const {
    const Node& n = g_.node(id);
    Shape out_shape = n.type.shape.with_batch(batch_);
    auto in = [&](size_t k) -> const DTensor& { return vals[n.inputs.at(k)]; };
    OpClass cls = op_info(n.op).op_class;
    DTensor r = dtensor(out_shape);
    if (cls == OpClass::kUnary) {
      for (int64_t i = 0; i < r.numel(); ++i) r.v[i] = test_support::scalar_unary(n.op, in(0).v[i]);
      return r;
    }
    if (cls == OpClass::kBinary || cls == OpClass::kCompare) {
      for (int64_t i = 0; i < r.numel(); ++i) {
        auto idx = unravel(i, out_shape);
        r.v[i] =
            test_support::scalar_binary(n.op, in(0).v[broadcast_index(idx, out_shape, in(0).shape)],
                                        in(1).v[broadcast_index(idx, out_shape, in(1).shape)]);
      }
      return r;
    }
    switch (n.op) {
      case OpKind::kInput:
        throw std::runtime_error("double_eval: no feed for " + g_.describe(id));
      case OpKind::kParameter:
      case OpKind::kConstant:
        return from_tensor(n.value);
      case OpKind::kWhere:
        for (int64_t i = 0; i < r.numel(); ++i) {
          auto idx = unravel(i, out_shape);
          bool c = in(0).v[broadcast_index(idx, out_shape, in(0).shape)] != 0;
          const DTensor& src = c ? in(1) : in(2);
          r.v[i] = src.v[broadcast_index(idx, out_shape, src.shape)];
        }
        return r;
      case OpKind::kCast: {
        DType to = n.attrs.get_dtype("dtype");
        for (int64_t i = 0; i < r.numel(); ++i) {
          double x = in(0).v[i];
          r.v[i] = to.is_float() ? x : to == kBool ? (x != 0) : std::trunc(x);
        }
        return r;
      }
      case OpKind::kMatMul: {
        const DTensor& a = in(0);
        const DTensor& b = in(1);
        bool ta = n.attrs.get_int_or("transpose_a", 0), tb = n.attrs.get_int_or("transpose_b", 0);
        int ra = a.shape.rank(), rb = b.shape.rank(), ro = out_shape.rank();
        int64_t k_dim = a.shape[ta ? ra - 2 : ra - 1];
        Shape batch_a(std::span<const int64_t>(a.shape.begin(), ra - 2));
        Shape batch_b(std::span<const int64_t>(b.shape.begin(), rb - 2));
        Shape batch_o(std::span<const int64_t>(out_shape.begin(), ro - 2));
        for (int64_t i = 0; i < r.numel(); ++i) {
          auto idx = unravel(i, out_shape);
          std::vector<int64_t> bidx(idx.begin(), idx.end() - 2);
          int64_t ba = broadcast_index(bidx, batch_o, batch_a);
          int64_t bb = broadcast_index(bidx, batch_o, batch_b);
          int64_t m = idx[ro - 2], c = idx[ro - 1];
          int64_t a0 = a.shape[ra - 2], a1 = a.shape[ra - 1];
          int64_t b0 = b.shape[rb - 2], b1 = b.shape[rb - 1];
          double s = 0;
          for (int64_t k = 0; k < k_dim; ++k) {
            double av = a.v[ba * a0 * a1 + (ta ? k * a1 + m : m * a1 + k)];
            double bv = b.v[bb * b0 * b1 + (tb ? c * b1 + k : k * b1 + c)];
            s += av * bv;
          }
          r.v[i] = s;
        }
        return r;
      }
      case OpKind::kAttention: {
        const DTensor& q = in(0);
        const DTensor& k = in(1);
        const DTensor& v = in(2);
        int rank = q.shape.rank();
        int64_t tq = q.shape[rank - 2], d = q.shape[rank - 1];
        int64_t tk = k.shape[rank - 2], dv = v.shape[rank - 1];
        double scale = n.attrs.get_float_or("scale", 1.0 / std::sqrt(static_cast<double>(d)));
        bool causal = n.attrs.get_int_or("causal", 0) != 0;
        int64_t len = tk;
        if (n.inputs.size() > 3)
          len = std::clamp<int64_t>(static_cast<int64_t>(in(3).v[0]), 0, tk);
        int64_t heads = q.numel() / (tq * d);
        for (int64_t h = 0; h < heads; ++h)
          for (int64_t i = 0; i < tq; ++i) {
            int64_t seen = causal ? std::clamp<int64_t>(i + 1 + len - tq, 0, len) : len;
            std::vector<double> s(static_cast<size_t>(seen));
            double m = -INFINITY, sum = 0;
            for (int64_t j = 0; j < seen; ++j) {
              double dot = 0;
              for (int64_t c = 0; c < d; ++c)
                dot += q.v[(h * tq + i) * d + c] * k.v[(h * tk + j) * d + c];
              s[j] = dot * scale;
              m = std::max(m, s[j]);
            }
            for (int64_t j = 0; j < seen; ++j) sum += (s[j] = std::exp(s[j] - m));
            for (int64_t c = 0; c < dv; ++c) {
              double acc = 0;
              for (int64_t j = 0; j < seen; ++j) acc += s[j] * v.v[(h * tk + j) * dv + c];
              r.v[(h * tq + i) * dv + c] = seen > 0 ? acc / sum : 0.0;
            }
          }
        return r;
      }
      case OpKind::kUpdateSlice:
      case OpKind::kDynamicSlice: {
        bool update = n.op == OpKind::kUpdateSlice;
        const Shape& xs = in(0).shape;
        int axis = xs.normalize_axis(static_cast<int>(n.attrs.get_int("axis")));
        int64_t size = update ? in(1).shape[axis] : n.attrs.get_int("size");
        int64_t start = std::clamp<int64_t>(static_cast<int64_t>(in(update ? 2 : 1).v[0]), 0,
                                            xs[axis] - size);
        if (update) r.v = in(0).v;
        const Shape& window = update ? in(1).shape : out_shape;
        for (int64_t i = 0; i < window.numel(); ++i) {
          auto idx = unravel(i, window);
          auto at = idx;
          at[axis] += start;
          if (update) r.v[ravel(at, xs)] = in(1).v[i];
          else r.v[i] = in(0).v[ravel(at, xs)];
        }
        return r;
      }
      case OpKind::kReduceSum:
      case OpKind::kReduceMean:
      case OpKind::kReduceMax: {
        const DTensor& x = in(0);
        std::vector<int> axes = axes_of(n, x.shape.rank());
        Shape keep = x.shape;
        for (int a : axes) keep[a] = 1;
        std::vector<double> acc(static_cast<size_t>(keep.numel()),
                                n.op == OpKind::kReduceMax ? -INFINITY : 0.0);
        std::vector<int64_t> cnt(acc.size(), 0);
        for (int64_t i = 0; i < x.numel(); ++i) {
          auto idx = unravel(i, x.shape);
          for (int a : axes) idx[a] = 0;
          int64_t o = ravel(idx, keep);
          if (n.op == OpKind::kReduceMax)
            acc[o] = std::isnan(x.v[i]) || std::isnan(acc[o]) ? NAN : std::max(acc[o], x.v[i]);
          else
            acc[o] += x.v[i];
          ++cnt[o];
        }
        if (n.op == OpKind::kReduceMean)
          for (size_t o = 0; o < acc.size(); ++o) acc[o] /= static_cast<double>(cnt[o]);
        r.v = acc;
        return r;
      }
      case OpKind::kReshape:
        r.v = in(0).v;
        return r;
      case OpKind::kPermute: {
        const auto& perm = n.attrs.get_ints("perm");
        for (int64_t i = 0; i < r.numel(); ++i) {
          auto idx = unravel(i, out_shape);
          std::vector<int64_t> src(idx.size());
          for (size_t k = 0; k < perm.size(); ++k) src[perm[k]] = idx[k];
          r.v[i] = in(0).v[ravel(src, in(0).shape)];
        }
        return r;
      }
      case OpKind::kBroadcast:
        for (int64_t i = 0; i < r.numel(); ++i)
          r.v[i] = in(0).v[broadcast_index(unravel(i, out_shape), out_shape, in(0).shape)];
        return r;
      case OpKind::kSlice: {
        const Shape& s = in(0).shape;
        const auto& starts = n.attrs.get_ints("starts");
        const auto& steps = n.attrs.get_ints("steps");
        for (int64_t i = 0; i < r.numel(); ++i) {
          auto idx = unravel(i, out_shape);
          for (int k = 0; k < s.rank(); ++k) {
            int64_t st = starts[k] < 0 ? starts[k] + s[k] : starts[k];
            idx[k] = std::clamp<int64_t>(st, 0, s[k]) + idx[k] * steps[k];
          }
          r.v[i] = in(0).v[ravel(idx, s)];
        }
        return r;
      }
      case OpKind::kConcat: {
        int axis = out_shape.normalize_axis(static_cast<int>(n.attrs.get_int("axis")));
        for (int64_t i = 0; i < r.numel(); ++i) {
          auto idx = unravel(i, out_shape);
          size_t k = 0;
          while (idx[axis] >= in(k).shape[axis]) idx[axis] -= in(k++).shape[axis];
          r.v[i] = in(k).v[ravel(idx, in(k).shape)];
        }
        return r;
      }
      case OpKind::kPad: {
        const auto& before = n.attrs.get_ints("pads_before");
        double value = n.attrs.get_float_or("value", 0.0);
        const Shape& s = in(0).shape;
        for (int64_t i = 0; i < r.numel(); ++i) {
          auto idx = unravel(i, out_shape);
          bool inside = true;
          for (int k = 0; k < s.rank(); ++k) {
            idx[k] -= before[k];
            inside = inside && idx[k] >= 0 && idx[k] < s[k];
          }
          r.v[i] = inside ? in(0).v[ravel(idx, s)] : value;
        }
        return r;
      }
      // Convolution and pooling (NHWC)
      case OpKind::kConv2D:
      case OpKind::kConv2DBackpropInput:
      case OpKind::kConv2DBackpropFilter:
      case OpKind::kMaxPool2D:
      case OpKind::kMaxPool2DGrad:
      case OpKind::kAvgPool2D:
      case OpKind::kAvgPool2DGrad:
        r.v = conv_eval(g_, n, batch_, in(0).v,
                        n.inputs.size() > 1 ? in(1).v : std::vector<double>{}, r.numel());
        return r;
      case OpKind::kGather: {
        const DTensor& data = in(0);
        const DTensor& ind = in(1);
        int axis = data.shape.normalize_axis(static_cast<int>(n.attrs.get_int("axis")));
        int ir = ind.shape.rank();
        for (int64_t i = 0; i < r.numel(); ++i) {
          auto idx = unravel(i, out_shape);
          std::vector<int64_t> iidx(idx.begin() + axis, idx.begin() + axis + ir);
          std::vector<int64_t> src(idx.begin(), idx.begin() + axis);
          src.push_back(wrap_index(ind.v[ravel(iidx, ind.shape)], data.shape[axis]));
          src.insert(src.end(), idx.begin() + axis + ir, idx.end());
          r.v[i] = data.v[ravel(src, data.shape)];
        }
        return r;
      }
      case OpKind::kScatterAdd: {
        const DTensor& upd = in(0);
        const DTensor& ind = in(1);
        int axis = static_cast<int>(n.attrs.get_int("axis"));
        int ir = ind.shape.rank();
        for (int64_t i = 0; i < upd.numel(); ++i) {
          auto idx = unravel(i, upd.shape);
          std::vector<int64_t> iidx(idx.begin() + axis, idx.begin() + axis + ir);
          std::vector<int64_t> dst(idx.begin(), idx.begin() + axis);
          dst.push_back(wrap_index(ind.v[ravel(iidx, ind.shape)], out_shape[axis]));
          dst.insert(dst.end(), idx.begin() + axis + ir, idx.end());
          r.v[ravel(dst, out_shape)] += upd.v[i];
        }
        return r;
      }
      case OpKind::kOneHot: {
        int64_t depth = n.attrs.get_int("depth");
        for (int64_t i = 0; i < in(0).numel(); ++i)
          r.v[i * depth + wrap_index(in(0).v[i], depth)] = 1.0;
        return r;
      }
      case OpKind::kSoftmax:
      case OpKind::kLogSoftmax: {
        int axis = in(0).shape.normalize_axis(static_cast<int>(n.attrs.get_int("axis")));
        return softmax(in(0), axis, n.op == OpKind::kLogSoftmax);
      }
      case OpKind::kCrossEntropy: {
        const DTensor& logits = in(0);
        DTensor ls = softmax(logits, logits.shape.rank() - 1, true);
        int64_t c = logits.shape[logits.shape.rank() - 1];
        for (int64_t i = 0; i < r.numel(); ++i) r.v[i] = -ls.v[i * c + wrap_index(in(1).v[i], c)];
        return r;
      }
      case OpKind::kLayerNorm:
      case OpKind::kRmsNorm:
      case OpKind::kLayerNormGradInput:
      case OpKind::kRmsNormGradInput:
        return norm(n, in(0), in(1), n.inputs.size() > 2 ? &in(2) : nullptr);
      default:
        throw std::runtime_error("double_eval: unsupported op at " + g_.describe(id));
    }
  }

  const Graph& g_;
  int64_t batch_;
};

}  // namespace tessera::adtest
