#include "tessera/cli/demo_model.h"

#include <cmath>
#include <cstring>

#include "tessera/core/error.h"
#include "tessera/core/rng.h"
#include "tessera/ir/autodiff.h"
#include "tessera/ir/builder.h"

namespace tessera {
namespace {

// Rows [begin, begin + n) of a contiguous tensor, as a view.
Tensor rows(const Tensor& t, int64_t begin, int64_t n) {
  Shape s = t.shape();
  int64_t row_elems = s.numel() / s[0];
  s[0] = n;
  return Tensor(t.buffer(), t.offset_bytes() + begin * row_elems * t.dtype().size(), s,
                contiguous_strides(s), t.dtype());
}

Tensor glorot_uniform(Rng& rng, int64_t fan_in, int64_t fan_out) {
  Tensor w = Tensor::zeros(kF32, {fan_in, fan_out});
  double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  rng.fill_uniform(w, -limit, limit);
  return w;
}

}  // namespace

DemoData make_demo_data(uint64_t seed, int64_t train_size, int64_t test_size) {
  constexpr int64_t kFeatures = 32, kClasses = 10;
  Rng rng(seed);
  Tensor centres = Tensor::zeros(kF32, {kClasses, kFeatures});
  rng.fill_normal(centres, 0.0, 1.0);
  auto make = [&](int64_t n, Tensor* x, Tensor* y) {
    *x = Tensor::zeros(kF32, {n, kFeatures});
    *y = Tensor::zeros(kI32, {n});
    rng.fill_normal(*x, 0.0, 1.2);
    float* xs = x->data<float>();
    const float* cs = centres.data<float>();
    for (int64_t i = 0; i < n; ++i) {
      int32_t label = static_cast<int32_t>(rng.next_below(kClasses));
      y->data<int32_t>()[i] = label;
      for (int64_t f = 0; f < kFeatures; ++f) xs[i * kFeatures + f] += cs[label * kFeatures + f];
    }
  };
  DemoData d;
  make(train_size, &d.train_x, &d.train_y);
  make(test_size, &d.test_x, &d.test_y);
  return d;
}

DemoModel::DemoModel(uint64_t seed, int64_t hidden) {
  Rng rng(seed);
  w1 = glorot_uniform(rng, features, hidden);
  b1 = Tensor::zeros(kF32, {hidden});
  w2 = glorot_uniform(rng, hidden, classes);
  b2 = Tensor::zeros(kF32, {classes});
  v_w1 = Tensor::zeros(kF32, w1.shape());
  v_b1 = Tensor::zeros(kF32, b1.shape());
  v_w2 = Tensor::zeros(kF32, w2.shape());
  v_b2 = Tensor::zeros(kF32, b2.shape());
}

DemoTrainer::DemoTrainer(DemoModel& model, DemoTrainerOptions options)
    : model_(model), options_(std::move(options)) {
  auto forward = [&](GraphBuilder& b, ValueId x, std::vector<ValueId>* params) {
    ValueId w1 = b.parameter("dense/kernel", model_.w1);
    ValueId b1 = b.parameter("dense/bias", model_.b1);
    ValueId w2 = b.parameter("dense_1/kernel", model_.w2);
    ValueId b2 = b.parameter("dense_1/bias", model_.b2);
    *params = {w1, b1, w2, b2};
    ValueId h = b.relu(b.add(b.matmul(x, w1), b1));
    return b.add(b.matmul(h, w2), b2);
  };

  {  // Evaluation: logits only.
    GraphBuilder b;
    std::vector<ValueId> params;
    ValueId x = b.input("x", kF32, {kDynamic, model_.features});
    b.output(forward(b, x, &params));
    eval_graph_ = b.finish();
  }

  // Training step: loss, gradients, then SGD with momentum as graph nodes.
  GraphBuilder b;
  std::vector<ValueId> params;
  ValueId x = b.input("x", kF32, {kDynamic, model_.features});
  ValueId y = b.input("y", kI32, {kDynamic});
  ValueId logits = forward(b, x, &params);
  ValueId loss = b.reduce_mean(b.cross_entropy(logits, y), {});
  b.output(loss);
  Gradients d = differentiate(b.finish(), loss, params);
  GraphBuilder s(std::move(d.graph));
  Tensor* momenta[] = {&model_.v_w1, &model_.v_b1, &model_.v_w2, &model_.v_b2};
  ValueId lr = s.scalar(options_.learning_rate), mu = s.scalar(options_.momentum);
  for (size_t i = 0; i < params.size(); ++i) {
    ValueId v = s.parameter(s.graph().node(params[i]).name + "/momentum", *momenta[i], false);
    ValueId v_new = s.add(s.mul(mu, v), d.grads[i]);
    s.update(v, v_new);
    s.update(params[i], s.sub(params[i], s.mul(lr, v_new)));
  }
  train_graph_ = s.finish();
}

Program& DemoTrainer::program(std::map<int64_t, Program>& cache, const Graph& g,
                              int64_t batch) {
  auto it = cache.find(batch);
  if (it == cache.end()) {
    it = cache.emplace(batch, compile_program(g, {.batch = batch, .backends = options_.backends}))
             .first;
  }
  return it->second;
}

double DemoTrainer::train_epoch(const Tensor& x, const Tensor& y) {
  int64_t n = x.shape()[0];
  double total = 0;
  for (int64_t begin = 0; begin < n; begin += options_.batch) {
    int64_t count = std::min(options_.batch, n - begin);
    Program& p = program(train_programs_, train_graph_, count);
    Tensor inputs[] = {rows(x, begin, count), rows(y, begin, count)};
    double loss = p.run(inputs)[0].get(0);
    TS_CHECK(std::isfinite(loss), ErrorKind::kInvalidArgument,
             "training diverged: loss is {} at sample {}; lower the learning rate", loss, begin);
    total += loss * static_cast<double>(count);
  }
  return total / static_cast<double>(n);
}

double DemoTrainer::accuracy(const Tensor& x, const Tensor& y) {
  int64_t n = x.shape()[0], correct = 0;
  for (int64_t begin = 0; begin < n; begin += options_.batch) {
    int64_t count = std::min(options_.batch, n - begin);
    Program& p = program(eval_programs_, eval_graph_, count);
    Tensor input = rows(x, begin, count);
    const Tensor& logits = p.run({&input, 1})[0];
    int64_t classes = logits.shape()[1];
    const float* l = logits.data<float>();
    for (int64_t i = 0; i < count; ++i) {
      int64_t best = 0;
      for (int64_t c = 1; c < classes; ++c)
        if (l[i * classes + c] > l[i * classes + best]) best = c;
      correct += best == y.data<int32_t>()[begin + i];
    }
  }
  return static_cast<double>(correct) / static_cast<double>(n);
}

int64_t DemoTrainer::arena_bytes() const {
  int64_t total = 0;
  for (const auto& [batch, p] : train_programs_) total += p.arena_bytes();
  return total;
}

}  // namespace tessera
