// Determinism across thread counts: cpu reductions (and the ops built on them) give bit-identical
// results on 1 and 2 threads, as DESIGN.md promises. Inputs are large enough for the cpu
// kernels to split their work.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "harness.h"
#include "tessera/backends/scheduler.h"
#include "tessera/core/error.h"
#include "tessera/core/rng.h"
#include "tessera/core/thread_pool.h"

namespace tessera::ops_test {
namespace {

struct ThreadCase {
  std::string name;
  std::vector<Shape> shapes;  // f32 data inputs, or an i32 label input when `labels` says
  std::function<ValueId(GraphBuilder&, const std::vector<ValueId>&)> emit;
  int labels_arg = -1;  // the argument holding class labels in [0, labels_range)
  int64_t labels_range = 0;
};

std::vector<ThreadCase> thread_cases() {
  using In = const std::vector<ValueId>&;
  return {
      {"reduce_sum_all",
       {{257, 1031}},
       [](GraphBuilder& b, In x) { return b.reduce_sum(x[0], {}); }},
      {"reduce_sum_rows",
       {{257, 1031}},
       [](GraphBuilder& b, In x) { return b.reduce_sum(x[0], {1}); }},
      {"reduce_sum_cols",
       {{257, 1031}},
       [](GraphBuilder& b, In x) { return b.reduce_sum(x[0], {0}); }},
      {"reduce_mean_all",
       {{64, 4099}},
       [](GraphBuilder& b, In x) { return b.reduce_mean(x[0], {}); }},
      {"reduce_max_rows",
       {{257, 1031}},
       [](GraphBuilder& b, In x) { return b.reduce_max(x[0], {1}); }},
      {"softmax_rows", {{128, 1000}}, [](GraphBuilder& b, In x) { return b.softmax(x[0]); }},
      {"log_softmax_rows",
       {{128, 1000}},
       [](GraphBuilder& b, In x) { return b.log_softmax(x[0]); }},
      {"cross_entropy",
       {{512, 100}, {512}},
       [](GraphBuilder& b, In x) { return b.cross_entropy(x[0], x[1]); },
       1,
       100},
      {"layer_norm_rows",
       {{512, 300}, {300}, {300}},
       [](GraphBuilder& b, In x) { return b.layer_norm(x[0], x[1], x[2]); }},
      {"rms_norm_grad_input_rows",
       {{512, 300}, {300}, {512, 300}},
       [](GraphBuilder& b, In x) { return b.rms_norm_grad_input(x[0], x[1], x[2], 1e-6); }},
      {"matmul",
       {{96, 300}, {300, 80}},
       [](GraphBuilder& b, In x) { return b.matmul(x[0], x[1]); }},
      {"attention_causal",
       {{2, 4, 128, 64}, {2, 4, 128, 64}, {2, 4, 128, 64}},
       [](GraphBuilder& b, In x) { return b.attention(x[0], x[1], x[2], /*causal=*/true); }},
      // Convolution and pooling (NHWC): row tiles, images and filter-gradient chunks.
      {"conv2d",
       {{16, 20, 19, 8}, {3, 3, 8, 16}},
       [](GraphBuilder& b, In x) { return b.conv2d(x[0], x[1], {1, 1}, {1, 1, 1, 1}); }},
      {"conv2d_backprop_input",
       {{16, 18, 17, 16}, {3, 3, 8, 16}},
       [](GraphBuilder& b, In x) { return b.conv2d_backprop_input(x[0], x[1], {20, 19, 8}); }},
      {"conv2d_backprop_filter",
       {{16, 20, 19, 8}, {16, 18, 17, 16}},
       [](GraphBuilder& b, In x) {
         return b.conv2d_backprop_filter(x[0], x[1], {3, 3, 8, 16});
       }},
      {"conv2d_backprop_filter_depthwise",
       {{16, 20, 19, 8}, {16, 18, 17, 8}},
       [](GraphBuilder& b, In x) {
         return b.conv2d_backprop_filter(x[0], x[1], {3, 3, 1, 8}, {1, 1}, {0, 0, 0, 0}, {1, 1},
                                         8);
       }},
      {"max_pool2d_grad",
       {{16, 26, 26, 32}, {16, 13, 13, 32}},
       [](GraphBuilder& b, In x) { return b.max_pool2d_grad(x[0], x[1], {2, 2}, {2, 2}); }},
  };
}

Tensor run_with_threads(const Graph& g, const std::vector<Tensor>& inputs, int threads) {
  set_num_threads(threads);
  return run_on(g, "cpu", 1, inputs)[0];
}

void thread_check(const ThreadCase& c) {
  GraphBuilder b;
  std::vector<ValueId> in;
  std::vector<Tensor> inputs;
  Rng rng(7);
  for (size_t i = 0; i < c.shapes.size(); ++i) {
    bool labels = static_cast<int>(i) == c.labels_arg;
    DType t = labels ? kI32 : kF32;
    in.push_back(b.input(fmt::format("x{}", i), t, c.shapes[i]));
    Tensor v = Tensor::zeros(t, c.shapes[i]);
    if (labels) {
      for (int64_t k = 0; k < v.numel(); ++k)
        v.set(k, static_cast<double>(rng.next_below(c.labels_range)));
    } else {
      rng.fill_uniform(v, -2.0, 2.0);
    }
    inputs.push_back(v);
  }
  b.output(c.emit(b, in));
  Graph g = b.finish();
  int before = num_threads();
  try {
    Tensor one = run_with_threads(g, inputs, 1);
    Tensor two = run_with_threads(g, inputs, 2);
    set_num_threads(before);
    ASSERT_EQ(one.nbytes(), two.nbytes());
    int64_t differ = 0;
    double worst = 0;
    for (int64_t i = 0; i < one.numel(); ++i) {
      differ += one.get(i) != two.get(i);
      worst = std::max(worst, std::fabs(one.get(i) - two.get(i)));
    }
    EXPECT_EQ(differ, 0) << differ << " of " << one.numel()
                         << " cpu results differ between 1 and 2 threads (largest difference "
                         << worst << ")";
    // And they are right: within the forward tolerance of ref (f32, accumulating).
    Tensor want = run_on(g, "ref", 1, inputs)[0];
    Tolerance tol;
    tol.f32_rtol = 1e-4;
    tol.f32_atol = 1e-4;
    std::string diff = compare(want, one, tol);
    EXPECT_TRUE(diff.empty()) << "cpu vs ref: " << diff;
  } catch (const Error& e) {
    set_num_threads(before);
    ADD_FAILURE() << "threw: " << e.what();
  }
}

bool register_thread_tests() {
  static const std::vector<ThreadCase> cases = thread_cases();
  for (const ThreadCase& c : cases)
    register_test("Threads", c.name + "_cpu", [&c] { thread_check(c); });
  return true;
}

[[maybe_unused]] const bool kRegistered = register_thread_tests();

}  // namespace
}  // namespace tessera::ops_test
