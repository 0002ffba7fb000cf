// The convolution and pooling kernels of the cpu backend on mnist-cnn's shapes (batch 128;
// pooling: the 2x2 max pool after each convolution),
// each a compiled one-node Program (timed run()), next to a direct baseline in the same
// process: the whole batch's im2col built by plain loops, then one cblas_sgemm with
// OpenBLAS's own threads. Counter: GFLOP/s (a multiply-add is 2 flops; pooling counts one
// flop per window element).
//
//   ninja -C build bench_conv && build/bench/bench_conv
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <fmt/format.h>

#include <string>
#include <vector>

#include "tessera/backends/scheduler.h"
#include "tessera/core/tensor.h"
#include "tessera/core/thread_pool.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/conv_geometry.h"
#include "tessera/ir/op_table.h"

namespace tessera {
namespace {

Tensor filled(const Shape& s, float seed) {
  Tensor t = Tensor::zeros(kF32, s);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>((i * 7 + 3) % 17) * 0.1f - seed;
  return t;
}

struct Layer {
  const char* name;
  int64_t n, h, w, c, k, oc;  // x [n, h, w, c], filter [k, k, c, oc], stride 1
  int64_t pad;                // on every side ("same" for k = 3: 1)
  int64_t out() const { return h + 2 * pad - k + 1; }  // square inputs
  std::vector<int64_t> pads() const { return {pad, pad, pad, pad}; }
};

// mnist-cnn's convolutions ("same" padding) at batch 128.
const Layer kLayers[] = {{"conv1", 128, 28, 28, 1, 3, 32, 1}, {"conv2", 128, 14, 14, 32, 3, 64, 1}};

// A one-node program of `op` on inputs of the given shapes (all fed at run time).
void run_op(benchmark::State& state, OpKind op, const std::vector<Shape>& shapes, Attrs attrs) {
  GraphBuilder b;
  std::vector<ValueId> in;
  std::vector<Tensor> values;
  for (size_t i = 0; i < shapes.size(); ++i) {
    in.push_back(b.input(fmt::format("x{}", i), kF32, shapes[i]));
    values.push_back(filled(shapes[i], 0.3f * static_cast<float>(i + 1)));
  }
  ValueId y = b.emit(op, in, std::move(attrs));
  b.output(y);
  Graph g = b.finish();
  double flops = op_info(op).cost(g, g.node(y)).flops;
  Program p = compile_program(g, {});
  p.run(values);  // warm up
  for (auto _ : state) benchmark::DoNotOptimize(p.run(values)[0].raw_data());
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

Attrs conv_attrs_with(const Layer& l, const char* key, std::vector<int64_t> value) {
  return conv_attrs({1, 1}, l.pads(), {1, 1}, 1).set(key, std::move(value));
}

void BM_Conv2D(benchmark::State& state, Layer l) {
  run_op(state, OpKind::kConv2D, {{l.n, l.h, l.w, l.c}, {l.k, l.k, l.c, l.oc}},
         conv_attrs({1, 1}, l.pads(), {1, 1}, 1));
}

void BM_Conv2DBackpropInput(benchmark::State& state, Layer l) {
  int64_t o = l.out();
  run_op(state, OpKind::kConv2DBackpropInput, {{l.n, o, o, l.oc}, {l.k, l.k, l.c, l.oc}},
         conv_attrs_with(l, "input_shape", {l.h, l.w, l.c}));
}

void BM_Conv2DBackpropFilter(benchmark::State& state, Layer l) {
  int64_t o = l.out();
  run_op(state, OpKind::kConv2DBackpropFilter, {{l.n, l.h, l.w, l.c}, {l.n, o, o, l.oc}},
         conv_attrs_with(l, "filter_shape", {l.k, l.k, l.c, l.oc}));
}

// The baseline: im2col of the whole batch by plain loops, then one multi-threaded sgemm.
void BM_DirectIm2colSgemm(benchmark::State& state, Layer l) {
  const int64_t o = l.out(), kk = l.k * l.k * l.c, rows = l.n * o * o;
  Tensor x = filled({l.n, l.h, l.w, l.c}, 0.3f), w = filled({kk, l.oc}, 0.6f);
  std::vector<float> cols(static_cast<size_t>(rows * kk)), y(static_cast<size_t>(rows * l.oc));
  openblas_set_num_threads(num_threads());
  const float* xp = x.data<float>();
  for (auto _ : state) {
    for (int64_t n = 0; n < l.n; ++n)
      for (int64_t i = 0; i < o; ++i)
        for (int64_t j = 0; j < o; ++j) {
          float* row = cols.data() + ((n * o + i) * o + j) * kk;
          for (int64_t a = 0; a < l.k; ++a)
            for (int64_t b = 0; b < l.k; ++b)
              for (int64_t c = 0; c < l.c; ++c) {
                int64_t r = i + a - l.pad, q = j + b - l.pad;
                bool inside = r >= 0 && r < l.h && q >= 0 && q < l.w;
                row[(a * l.k + b) * l.c + c] =
                    inside ? xp[((n * l.h + r) * l.w + q) * l.c + c] : 0.0f;
              }
        }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(rows),
                static_cast<int>(l.oc), static_cast<int>(kk), 1.0f, cols.data(),
                static_cast<int>(kk), w.data<float>(), static_cast<int>(l.oc), 0.0f, y.data(),
                static_cast<int>(l.oc));
    benchmark::DoNotOptimize(y.data());
  }
  openblas_set_num_threads(1);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(rows * kk * l.oc) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void BM_MaxPool2D(benchmark::State& state, Layer l) {
  int64_t o = l.out();
  run_op(state, OpKind::kMaxPool2D, {{l.n, o, o, l.oc}}, pool_attrs({2, 2}, {2, 2}, {0, 0, 0, 0}));
}

void BM_MaxPool2DGrad(benchmark::State& state, Layer l) {
  int64_t o = l.out();
  run_op(state, OpKind::kMaxPool2DGrad, {{l.n, o, o, l.oc}, {l.n, o / 2, o / 2, l.oc}},
         pool_attrs({2, 2}, {2, 2}, {0, 0, 0, 0}));
}

}  // namespace
}  // namespace tessera

int main(int argc, char** argv) {
  using namespace tessera;
  using Fn = void (*)(benchmark::State&, Layer);
  const std::pair<const char*, Fn> kernels[] = {
      {"BM_Conv2D/", BM_Conv2D},
      {"BM_DirectIm2colSgemm/", BM_DirectIm2colSgemm},
      {"BM_Conv2DBackpropInput/", BM_Conv2DBackpropInput},
      {"BM_Conv2DBackpropFilter/", BM_Conv2DBackpropFilter},
      {"BM_MaxPool2D/", BM_MaxPool2D},
      {"BM_MaxPool2DGrad/", BM_MaxPool2DGrad}};
  for (const Layer& l : kLayers)
    for (const auto& [name, fn] : kernels)
      benchmark::RegisterBenchmark((std::string(name) + l.name).c_str(), fn, l)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
