// Reference indexing: gather (numpy.take), scatter_add (its adjoint) and one_hot. Indices out
// of range raise an Error naming the node, the position in the index tensor and the index.
#include <cstring>
#include <vector>

#include "ref_kernels.h"
#include "tessera/core/error.h"
#include "tessera/ir/graph.h"

namespace tessera::ref {
namespace {

// Resolves index `flat` of `indices` against an axis of size `dim`: a negative index adds
// the size once; anything still outside [0, dim) is an error.
int64_t resolve_index(const KernelArgs& args, const Tensor& indices, int64_t flat, int64_t dim) {
  int64_t v = get_i64(indices, flat);
  int64_t r = v < 0 ? v + dim : v;
  if (r < 0 || r >= dim)
    fail_at(args, "index", unravel(flat, indices.shape()), v,
            fmt::format("out of range for an axis of size {} (valid: [{}, {}))", dim, -dim, dim));
  return r;
}

}  // namespace

void gather_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  const Tensor& data = in[0];
  const Tensor& indices = in[1];
  int axis = data.shape().normalize_axis(static_cast<int>(args.node.attrs.get_int("axis")));
  int ri = indices.rank();
  int64_t dim = data.shape()[axis];
  with_output(args, [&](Tensor& out) {
    for (int64_t o = 0; o < out.numel(); ++o) {
      // out index = data[:axis] + indices + data[axis+1:]
      std::vector<int64_t> idx = unravel(o, out.shape());
      std::vector<int64_t> at(idx.begin() + axis, idx.begin() + axis + ri);
      std::vector<int64_t> src(idx.begin(), idx.begin() + axis);
      src.push_back(resolve_index(args, indices, ravel(at, indices.shape()), dim));
      src.insert(src.end(), idx.begin() + axis + ri, idx.end());
      std::memcpy(elem(out, o), elem(data, ravel(src, data.shape())), out.dtype().size());
    }
  });
}

void scatter_add_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  const Tensor& updates = in[0];
  const Tensor& indices = in[1];
  int axis = static_cast<int>(args.node.attrs.get_int("axis"));
  int64_t dim = args.node.attrs.get_int("dim_size");
  int ri = indices.rank();
  with_output(args, [&](Tensor& out) {
    // Sums in double (floats) or uint64 (integers, wrapping), stored once at the end.
    bool integral = is_integral(out.dtype());
    std::vector<double> acc(out.numel(), 0.0);
    std::vector<uint64_t> iacc(out.numel(), 0);
    for (int64_t u = 0; u < updates.numel(); ++u) {
      // updates index = out[:axis] + indices + out[axis+1:]
      std::vector<int64_t> idx = unravel(u, updates.shape());
      std::vector<int64_t> at(idx.begin() + axis, idx.begin() + axis + ri);
      std::vector<int64_t> dst(idx.begin(), idx.begin() + axis);
      dst.push_back(resolve_index(args, indices, ravel(at, indices.shape()), dim));
      dst.insert(dst.end(), idx.begin() + axis + ri, idx.end());
      int64_t o = ravel(dst, out.shape());
      if (integral)
        iacc[o] += static_cast<uint64_t>(get_i64(updates, u));
      else
        acc[o] += get_f64(updates, u);
    }
    for (int64_t o = 0; o < out.numel(); ++o) {
      if (integral)
        set_wrapped(out, o, iacc[o]);
      else
        set_f64(out, o, acc[o]);
    }
  });
}

void one_hot_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  const Tensor& indices = in[0];
  int64_t depth = args.node.attrs.get_int("depth");
  with_output(args, [&](Tensor& out) {
    for (int64_t i = 0; i < indices.numel(); ++i) {
      int64_t v = get_i64(indices, i);
      if (v < 0 || v >= depth)
        fail_at(args, "index", unravel(i, indices.shape()), v,
                fmt::format("outside [0, {}) for depth {}", depth, depth));
      for (int64_t k = 0; k < depth; ++k) set_f64(out, i * depth + k, k == v ? 1.0 : 0.0);
    }
  });
}

}  // namespace tessera::ref
