// Tessera side of the peer benchmark (scripts/run-peers.sh runs it beside
// bench/peers/torch_bench.py). Trains one model through the Keras-style Model API
// (Sequential, compile, fit with verbose = 0), then times batch-1 inference, and prints one
// JSON line with the same keys as the PyTorch script.
//
//   bench_peers_tessera --model seed|mnist|cnn [--threads 2] [--epochs N] [--warmup-epochs 1]
//                       [--train-size 8192] [--infer-calls 3000] [--data-dir DIR]
//                       [--quality-epochs 2] [--quality-batch 32]
//
// Models:
//   seed   Dense 64 relu -> Dense 10 softmax on 32 features, batch 32, adam, sparse
//          categorical cross-entropy, metrics accuracy; synthetic_classification (8192)
//   mnist  784-256-128-10 relu MLP (softmax output), batch 128, Fashion-MNIST train split
//   cnn    mnist-cnn: Conv2D 32 3x3 relu -> MaxPool 2 -> Conv2D 64 3x3 relu -> MaxPool 2 ->
//          Dense 128 relu -> Dense 10 softmax on 28x28x1 ('same' padding), batch 128,
//          Fashion-MNIST. Then mnist-cnn's quality goal (>= 90 % test accuracy in 2 epochs):
//          a fresh model trained for --quality-epochs at --quality-batch (Keras' default 32)
//          with Adam at 0.002 decayed to 0 along a cosine over those epochs' steps, its
//          test accuracy reported as test_accuracy (not part of the timed epochs)
//
// Training throughput is samples per second of the median timed epoch (epoch boundaries
// from a callback, so an epoch includes the shuffle and the batch copies, as in Keras).
// Batch-1 inference is timed two ways: Model::predict on a [1, features] tensor, and the
// lowest-overhead public path: the model's inference graph (Functional::emit) compiled
// once into a Program for batch 1 and run with Program::run.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "tessera/backends/scheduler.h"
#include "tessera/core/thread_pool.h"
#include "tessera/data/dataset.h"
#include "tessera/data/loaders.h"
#include "tessera/nn/conv_layers.h"
#include "tessera/nn/layers.h"
#include "tessera/train/model.h"

#include "peer_util.h"
#include "tessera/train/schedules.h"

namespace {

using tessera::peers::Clock;
using tessera::peers::max_rss_kib;
using tessera::peers::median;
using tessera::peers::seconds_between;

struct Args {
  std::string model;
  int threads = 2;
  int epochs = 0;  // 0: 10 for seed, 3 for mnist
  int warmup_epochs = 1;
  int64_t train_size = 8192;
  int infer_calls = 3000;
  std::string data_dir;
  int quality_epochs = 2;
  int64_t quality_batch = 32;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "bench_peers_tessera: %s\nusage: bench_peers_tessera --model seed|mnist "
               "[--threads N] [--epochs N] [--warmup-epochs N] [--train-size N] "
               "[--infer-calls N] [--data-dir DIR]\n",
               why);
  std::exit(2);
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) usage(("missing value after " + flag).c_str());
    std::string value = argv[++i];
    if (flag == "--model") {
      a.model = value;
    } else if (flag == "--threads") {
      a.threads = std::atoi(value.c_str());
    } else if (flag == "--epochs") {
      a.epochs = std::atoi(value.c_str());
    } else if (flag == "--warmup-epochs") {
      a.warmup_epochs = std::atoi(value.c_str());
    } else if (flag == "--train-size") {
      a.train_size = std::atoll(value.c_str());
    } else if (flag == "--infer-calls") {
      a.infer_calls = std::atoi(value.c_str());
    } else if (flag == "--data-dir") {
      a.data_dir = value;
    } else if (flag == "--quality-epochs") {
      a.quality_epochs = std::atoi(value.c_str());
    } else if (flag == "--quality-batch") {
      a.quality_batch = std::atoll(value.c_str());
    } else {
      usage(("unknown option " + flag).c_str());
    }
  }
  if (a.model != "seed" && a.model != "mnist" && a.model != "cnn")
    usage("--model must be seed, mnist or cnn");
  if (a.epochs == 0) a.epochs = a.model == "seed" ? 10 : a.model == "mnist" ? 3 : 2;
  if (a.threads < 1 || a.epochs < 1 || a.warmup_epochs < 0 || a.infer_calls < 1 ||
      a.quality_epochs < 0 || a.quality_batch < 1)
    usage("bad numeric option");
  return a;
}

// Records the wall time of every epoch.
class EpochTimer : public tessera::Callback {
 public:
  void on_epoch_begin(tessera::Model&, int, const tessera::Logs&) override {
    begin_ = Clock::now();
  }
  void on_epoch_end(tessera::Model&, int, const tessera::Logs& logs) override {
    seconds.push_back(seconds_between(begin_, Clock::now()));
    last_logs = logs;
  }
  std::vector<double> seconds;
  tessera::Logs last_logs;

 private:
  Clock::time_point begin_;
};

// Median and 90th percentile of `calls` timed calls of `fn(i)`, in microseconds, after
// 200 untimed ones.
template <typename Fn>
std::pair<double, double> time_calls(int calls, Fn&& fn) {
  for (int i = 0; i < 200; ++i) fn(i);
  std::vector<double> us;
  us.reserve(calls);
  for (int i = 0; i < calls; ++i) {
    auto t0 = Clock::now();
    fn(i);
    auto t1 = Clock::now();
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::vector<double> sorted = us;
  std::sort(sorted.begin(), sorted.end());
  return {median(us), sorted[static_cast<size_t>(0.9 * calls)]};
}

int run(const Args& args) {
  using namespace tessera;
  set_num_threads(args.threads);
  long rss_start = max_rss_kib();

  const bool seed = args.model == "seed", cnn = args.model == "cnn";
  const int64_t features = seed ? 32 : 784;
  const int64_t batch = seed ? 32 : 128;
  // One sample's shape: the CNN takes 28x28 images, the MLPs flat vectors.
  const Shape sample_shape = cnn ? Shape{28, 28} : Shape{features};
  Dataset train, test;
  if (seed) {
    train = synthetic_classification(/*seed=*/7, args.train_size);
  } else {
    Dataset raw = load_fashion_mnist("train", args.data_dir);
    train = cnn ? raw : Dataset{raw.x.reshape(Shape{raw.size(), features}), raw.y, "fashion-mnist"};
    if (cnn) test = load_fashion_mnist("test", args.data_dir);
  }
  auto make_model = [&](CompileConfig config) {
    Sequential m;
    if (seed) {
      m = Sequential({
          Dense(64, {.activation = "relu", .input_shape = Shape{32}}),
          Dense(10, {.activation = "softmax"}),
      });
    } else if (cnn) {
      m = Sequential({
          Reshape(Shape{28, 28, 1}),
          Conv2D(32, {3, 3}, {.padding = "same", .activation = "relu"}),
          MaxPool2D({2, 2}),
          Conv2D(64, {3, 3}, {.padding = "same", .activation = "relu"}),
          MaxPool2D({2, 2}),
          Flatten(),
          Dense(128, {.activation = "relu"}),
          Dense(10, {.activation = "softmax"}),
      });
      m.build(sample_shape);
    } else {
      m = Sequential({
          Dense(256, {.activation = "relu", .input_shape = Shape{784}}),
          Dense(128, {.activation = "relu"}),
          Dense(10, {.activation = "softmax"}),
      });
    }
    m.compile(std::move(config));
    return m;
  };
  const CompileConfig adam{
      .optimizer = "adam", .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}};
  Sequential model = make_model(adam);

  auto timer = std::make_shared<EpochTimer>();
  FitOptions fit{.epochs = args.warmup_epochs + args.epochs,
                 .batch_size = batch,
                 .shuffle = true,
                 .seed = 1,
                 .callbacks = {timer},
                 .verbose = 0};
  model.fit(train, fit);
  long train_rss = max_rss_kib();
  std::vector<double> timed(timer->seconds.begin() + args.warmup_epochs, timer->seconds.end());
  double epoch_s = median(timed);

  // 256 single samples, each its own [1, ...] tensor.
  std::vector<Tensor> samples;
  const float* xs = train.x.contiguous().data<float>();
  Shape one = Shape{1};
  for (int64_t d : sample_shape.dims()) one.push_back(d);
  for (int64_t i = 0; i < 256; ++i) {
    Tensor s = Tensor::zeros(kF32, one);
    std::memcpy(s.data<float>(), xs + i * features, sizeof(float) * features);
    samples.push_back(s);
  }

  // Model::predict, one sample per call.
  auto [predict_us, predict_p90_us] = time_calls(args.infer_calls, [&](int i) {
    Tensor out = model.predict(samples[i % samples.size()], 1);
    if (out.numel() != 10) throw std::runtime_error("predict returned the wrong shape");
  });

  // The inference graph compiled once for batch 1 and run directly.
  GraphBuilder b;
  CallContext ctx{b};
  ctx.training = false;
  Shape batched = Shape{kDynamic};
  for (int64_t d : sample_shape.dims()) batched.push_back(d);
  ValueId in = b.input("input", kF32, batched);
  b.output(model.net().emit(ctx, {&in, 1})[0]);
  Graph g = b.finish();
  Program program = compile_program(g, {.batch = 1, .backends = {"cpu"}});
  auto [program_us, program_p90_us] = time_calls(args.infer_calls, [&](int i) {
    const Tensor& x = samples[i % samples.size()];
    const std::vector<Tensor>& out = program.run({&x, 1});
    if (out[0].numel() != 10) throw std::runtime_error("program returned the wrong shape");
  });

  auto log_value = [&](const char* key) {  // JSON null when fit did not report it
    auto it = timer->last_logs.find(key);
    if (it == timer->last_logs.end()) return std::string("null");
    char text[32];
    std::snprintf(text, sizeof text, "%.6g", it->second);
    return std::string(text);
  };
  // The quality goal: a fresh model, the quality recipe, then the test split.
  double test_accuracy = -1, quality_s = 0;
  if (cnn && args.quality_epochs > 0) {
    CompileConfig recipe = adam;
    const int64_t steps = args.quality_epochs * ((train.size() + args.quality_batch - 1) /
                                                 args.quality_batch);
    recipe.optimizer_options.learning_rate = 0.002;
    recipe.optimizer_options.schedule = cosine_decay(0.002, steps);
    Sequential fresh = make_model(recipe);
    auto t0 = Clock::now();
    fresh.fit(train, {.epochs = args.quality_epochs,
                      .batch_size = args.quality_batch,
                      .shuffle = true,
                      .seed = 1,
                      .verbose = 0});
    quality_s = seconds_between(t0, Clock::now());
    test_accuracy = fresh.evaluate(test.x, test.y, 512).at("accuracy");
  }
  std::string test_accuracy_text = "null";
  if (test_accuracy >= 0) {
    char text[32];
    std::snprintf(text, sizeof text, "%.6g", test_accuracy);
    test_accuracy_text = text;
  }
  std::printf(
      "{\"framework\": \"tessera\", \"model\": \"%s\", \"threads\": %d, \"batch\": %lld, "
      "\"train_samples\": %lld, \"timed_epochs\": %d, \"train_samples_per_s\": %.6g, "
      "\"epoch_s_median\": %.6g, \"final_loss\": %s, \"final_accuracy\": %s, "
      "\"infer_latency_us\": %.6g, \"infer_latency_p90_us\": %.6g, "
      "\"predict_latency_us\": %.6g, \"predict_latency_p90_us\": %.6g, "
      "\"start_max_rss_kib\": %ld, \"train_max_rss_kib\": %ld, \"max_rss_kib\": %ld, "
      "\"test_accuracy\": %s, \"test_accuracy_epochs\": %d, \"test_accuracy_batch\": %lld, "
      "\"quality_train_s\": %.6g}\n",
      args.model.c_str(), args.threads, static_cast<long long>(batch),
      static_cast<long long>(train.size()), args.epochs,
      static_cast<double>(train.size()) / epoch_s, epoch_s, log_value("loss").c_str(),
      log_value("accuracy").c_str(), program_us, program_p90_us, predict_us, predict_p90_us,
      rss_start, train_rss, max_rss_kib(), test_accuracy_text.c_str(),
      test_accuracy >= 0 ? args.quality_epochs : 0,
      static_cast<long long>(test_accuracy >= 0 ? args.quality_batch : 0), quality_s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse_args(argc, argv);
  try {
    return run(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_peers_tessera: %s\n", e.what());
    return 1;
  }
}
