// Helpers shared by the cpu backend's tests: random tensors, running one op through the cpu
// kernels, numpy broadcast indexing and tolerance checks.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "tessera/backends/cpu/cpu_backend.h"
#include "tessera/backends/kernel_executable.h"
#include "tessera/ir/op_table.h"
#include "tessera/ir/builder.h"

namespace tessera::cpu_test {

inline Tensor random_tensor(DType t, const Shape& s, uint32_t seed, double lo = -3, double hi = 3) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  Tensor x = Tensor::zeros(t, s);
  for (int64_t i = 0; i < x.numel(); ++i) {
    double v = d(gen);
    x.set(i, t.is_int() ? std::floor(v) : v);
  }
  return x;
}

// Builds a one-node graph over inputs of the tensors' types and runs the cpu kernel.
inline Tensor run_op(OpKind op, const std::vector<Tensor>& ins, Attrs attrs = {}) {
  GraphBuilder b;
  std::vector<ValueId> ids;
  for (size_t i = 0; i < ins.size(); ++i)
    ids.push_back(b.input("in" + std::to_string(i), ins[i].dtype(), ins[i].shape()));
  ValueId y = b.emit(op, std::span<const ValueId>(ids), std::move(attrs), "node_under_test");
  Graph g = b.finish();
  return evaluate_with_kernels(g, y, ins, cpu_kernel, "cpu");
}

// Index of output element `flat` in an input of shape `in` broadcast to `out`.
inline int64_t broadcast_index(const Shape& out, const Shape& in, int64_t flat) {
  int64_t idx = 0, stride = 1;
  for (int i = out.rank() - 1; i >= 0; --i) {
    int64_t c = flat % out[i];
    flat /= out[i];
    int j = in.rank() - out.rank() + i;
    if (j < 0) continue;
    if (in[j] != 1) idx += c * stride;
    stride *= in[j];
  }
  return idx;
}

inline void expect_close(const Tensor& got, const std::vector<double>& want, double rtol,
                         double atol) {
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size()));
  for (int64_t i = 0; i < got.numel(); ++i) {
    double g = got.get(i), w = want[i];
    if (std::isnan(w)) {
      EXPECT_TRUE(std::isnan(g)) << "at " << i;
      continue;
    }
    EXPECT_NEAR(g, w, atol + rtol * std::fabs(w)) << "at " << i;
  }
}

// Runs `fn` with the AVX2 kernels and again with the scalar ones.
template <typename Fn>
void both_paths(Fn fn) {
  fn();
  bool prev = cpu_force_scalar(true);
  fn();
  cpu_force_scalar(prev);
}

}  // namespace tessera::cpu_test
