// Reference data movement: reshape, permute, broadcast, slice, concat, pad. Elements are
// copied as bytes, so every dtype (fixed point included) moves unchanged.
#include <algorithm>
#include <cstring>
#include <vector>

#include "ref_kernels.h"
#include "tessera/ir/graph.h"

namespace tessera::ref {
namespace {

void copy_elem(Tensor& out, int64_t o, const Tensor& in, int64_t i) {
  std::memcpy(elem(out, o), elem(in, i), out.dtype().size());
}

}  // namespace

void reshape_kernel(const KernelArgs& args) {
  // Usually an alias that never runs; when it does run (constant folding), the output may
  // still share the input's storage, hence memmove.
  Tensor x = args.inputs[0].contiguous();
  if (x.raw_data() != args.output.raw_data())
    std::memmove(args.output.raw_data(), x.raw_data(), x.nbytes());
}

void permute_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  const Tensor& x = in[0];
  const std::vector<int64_t>& perm = args.node.attrs.get_ints("perm");
  with_output(args, [&](Tensor& out) {
    std::vector<int64_t> src(x.rank());
    for (int64_t o = 0; o < out.numel(); ++o) {
      std::vector<int64_t> idx = unravel(o, out.shape());
      for (int i = 0; i < out.rank(); ++i)
        src[x.shape().normalize_axis(static_cast<int>(perm[i]))] = idx[i];
      copy_elem(out, o, x, ravel(src, x.shape()));
    }
  });
}

void broadcast_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  const Tensor& x = in[0];
  with_output(args, [&](Tensor& out) {
    BroadcastIndexer ix(x.shape(), out.shape());
    for (int64_t o = 0; o < out.numel(); ++o) copy_elem(out, o, x, ix(o));
  });
}

void slice_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  const Tensor& x = in[0];
  const std::vector<int64_t>& starts = args.node.attrs.get_ints("starts");
  const std::vector<int64_t>& steps = args.node.attrs.get_ints("steps");
  // Python slicing: a negative start wraps once, then clamps to [0, dim].
  std::vector<int64_t> first(x.rank());
  for (int i = 0; i < x.rank(); ++i) {
    int64_t s = starts[i] < 0 ? starts[i] + x.shape()[i] : starts[i];
    first[i] = std::clamp<int64_t>(s, 0, x.shape()[i]);
  }
  with_output(args, [&](Tensor& out) {
    for (int64_t o = 0; o < out.numel(); ++o) {
      std::vector<int64_t> idx = unravel(o, out.shape());
      for (int i = 0; i < x.rank(); ++i) idx[i] = first[i] + idx[i] * steps[i];
      copy_elem(out, o, x, ravel(idx, x.shape()));
    }
  });
}

void concat_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  int axis = args.output.shape().normalize_axis(static_cast<int>(args.node.attrs.get_int("axis")));
  with_output(args, [&](Tensor& out) {
    for (int64_t o = 0; o < out.numel(); ++o) {
      std::vector<int64_t> idx = unravel(o, out.shape());
      size_t k = 0;
      while (idx[axis] >= in[k].shape()[axis]) idx[axis] -= in[k++].shape()[axis];
      copy_elem(out, o, in[k], ravel(idx, in[k].shape()));
    }
  });
}

void pad_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  const Tensor& x = in[0];
  const std::vector<int64_t>& before = args.node.attrs.get_ints("pads_before");
  double value = args.node.attrs.get_float_or("value", 0.0);
  with_output(args, [&](Tensor& out) {
    // The padding value, converted once to the dtype through the table.
    Tensor fill = Tensor::full(out.dtype(), Shape{}, value);
    for (int64_t o = 0; o < out.numel(); ++o) {
      std::vector<int64_t> idx = unravel(o, out.shape());
      bool inside = true;
      for (int i = 0; i < x.rank() && inside; ++i) {
        idx[i] -= before[i];
        inside = idx[i] >= 0 && idx[i] < x.shape()[i];
      }
      if (inside)
        copy_elem(out, o, x, ravel(idx, x.shape()));
      else
        copy_elem(out, o, fill, 0);
    }
  });
}

}  // namespace tessera::ref
