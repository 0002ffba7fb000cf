// Tessera side of the gpt-tiny peer benchmark (bench/peers/torch_gpt.py is the PyTorch
// twin; scripts/run-peers.sh runs both in one run). Trains make_gpt(GptConfig::tiny()) on
// next-byte windows of a text through the Keras-style Model API, then times greedy
// generation with and without the KV cache, and prints one JSON line with the keys the
// PyTorch script prints.
//
//   bench_gpt_tessera [--threads 2] [--batch 16] [--steps 30] [--warmup-steps 3]
//                     [--text FILE] [--prompt-bytes 64] [--new-tokens 64] [--gen-reps 3]
//                     [--train-to LOSS --max-epochs N]
//
// Data and step as in torch_gpt.py: non-overlapping windows of 128 bytes (targets shifted by
// one), batch 16 (2048 tokens) from a seeded shuffle; only whole batches (the windows are
// cut to a multiple of the batch). AdamW (1e-3, epsilon 1e-7, weight decay 0.004),
// cross-entropy on the logits, mean over tokens (nats per token). A step's time runs from
// the end of the previous step (or the epoch's start) to the end of this one, so it holds
// the batch copy as the PyTorch step holds its indexing.
//
// --train-to LOSS keeps training (after the timed steps) until an epoch's mean training loss
// falls below LOSS nats per byte, or --max-epochs pass; it reports the epochs, steps and
// seconds it took ("reached_loss", "epochs_to_target", ...).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "tessera/backends/gpu_devices.h"
#include "tessera/core/thread_pool.h"
#include "tessera/data/dataset.h"
#include "tessera/data/loaders.h"
#include "tessera/nn/generation.h"
#include "tessera/nn/gpt.h"
#include "tessera/train/model.h"

#include "peer_util.h"

namespace {

using tessera::peers::Clock;
using tessera::peers::max_rss_kib;
using tessera::peers::median;
using tessera::peers::seconds_between;

struct Args {
  int threads = 2;
  int64_t batch = 16;
  int steps = 30;
  int warmup_steps = 3;
  std::string text;
  int64_t prompt_bytes = 64;
  int64_t new_tokens = 64;
  int gen_reps = 3;
  double train_to = 0;  // 0: off
  int max_epochs = 200;
  std::string device;          // CompileConfig::device; empty: the cpu
  std::string model = "gpt-tiny";  // or gpt2-small
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "bench_gpt_tessera: %s\nusage: bench_gpt_tessera [--threads N] [--batch N] "
               "[--steps N] [--warmup-steps N] [--text FILE] [--prompt-bytes N] "
               "[--new-tokens N] [--gen-reps N] [--train-to LOSS] [--max-epochs N] "
               "[--device cpu|cuda|auto] [--model gpt-tiny|gpt2-small]\n",
               why.c_str());
  std::exit(2);
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) usage("missing value after " + flag);
    std::string v = argv[++i];
    if (flag == "--threads") a.threads = std::atoi(v.c_str());
    else if (flag == "--batch") a.batch = std::atoll(v.c_str());
    else if (flag == "--steps") a.steps = std::atoi(v.c_str());
    else if (flag == "--warmup-steps") a.warmup_steps = std::atoi(v.c_str());
    else if (flag == "--text") a.text = v;
    else if (flag == "--prompt-bytes") a.prompt_bytes = std::atoll(v.c_str());
    else if (flag == "--new-tokens") a.new_tokens = std::atoll(v.c_str());
    else if (flag == "--gen-reps") a.gen_reps = std::atoi(v.c_str());
    else if (flag == "--train-to") a.train_to = std::atof(v.c_str());
    else if (flag == "--max-epochs") a.max_epochs = std::atoi(v.c_str());
    else if (flag == "--device") a.device = v;
    else if (flag == "--model") a.model = v;
    else usage("unknown option " + flag);
  }
  if (a.threads < 1 || a.batch < 1 || a.steps < 1 || a.warmup_steps < 0 ||
      a.prompt_bytes < 1 || a.new_tokens < 1 || a.gen_reps < 1 || a.train_to < 0 ||
      a.max_epochs < 1)
    usage("bad numeric option");
  return a;
}

// Per-step wall times and the loss fit reports after each batch. fit's "loss" is the mean
// over the epoch so far, so the step's own loss is recovered from consecutive means.
class StepRecorder : public tessera::Callback {
 public:
  void on_epoch_begin(tessera::Model&, int, const tessera::Logs&) override {
    last_ = Clock::now();
    epoch_steps_ = 0;
    epoch_sum_ = 0;
  }
  void on_batch_end(tessera::Model&, int64_t, const tessera::Logs& logs) override {
    auto now = Clock::now();
    seconds.push_back(seconds_between(last_, now));
    last_ = now;
    double mean = logs.at("loss");
    double step_loss = mean * static_cast<double>(epoch_steps_ + 1) - epoch_sum_;
    epoch_sum_ += step_loss;
    ++epoch_steps_;
    losses.push_back(step_loss);
  }
  void on_epoch_end(tessera::Model&, int, const tessera::Logs& logs) override {
    epoch_losses.push_back(logs.at("loss"));
  }
  std::vector<double> seconds, losses, epoch_losses;

 private:
  Clock::time_point last_;
  int64_t epoch_steps_ = 0;
  double epoch_sum_ = 0;
};

int32_t argmax(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

struct GenResult {
  double tokens_per_s, decode_tokens_per_s, per_token_ms, prefill_ms;
};

// Greedy decoding as torch_gpt.py defines it: the prompt in one feed (its logits give the
// first new token), then each chosen token fed alone; the last one is chosen, not fed.
GenResult time_generation(const tessera::Functional& net, bool cache,
                          const std::vector<int32_t>& prompt, int64_t new_tokens, int reps,
                          std::vector<int32_t>* tokens) {
  tessera::Generator gen(net, {.use_cache = cache});
  std::vector<double> rate, decode_rate, per_token, prefill;
  for (int r = 0; r <= reps; ++r) {  // run 0 compiles the programs
    gen.reset();
    tokens->clear();
    auto t0 = Clock::now();
    std::span<const float> logits = gen.feed(prompt);
    double p = seconds_between(t0, Clock::now());
    std::vector<double> steps;
    tokens->push_back(argmax(logits));
    for (int64_t i = 1; i < new_tokens; ++i) {
      auto s0 = Clock::now();
      int32_t t = tokens->back();
      logits = gen.feed({&t, 1});
      tokens->push_back(argmax(logits));
      steps.push_back(seconds_between(s0, Clock::now()));
    }
    if (r == 0) continue;
    double decode = 0;
    for (double s : steps) decode += s;
    rate.push_back(static_cast<double>(tokens->size()) / (p + decode));
    decode_rate.push_back(steps.empty() ? 0 : static_cast<double>(steps.size()) / decode);
    per_token.push_back(steps.empty() ? 0 : median(steps) * 1e3);
    prefill.push_back(p * 1e3);
  }
  return {median(rate), median(decode_rate), median(per_token), median(prefill)};
}

int run(const Args& args) {
  using namespace tessera;
  set_num_threads(args.threads);
  long rss_start = max_rss_kib();
  const std::string text = args.text.empty() ? default_text_path() : args.text;
  if (args.device == "cuda" && tessera::gpu_devices().empty()) {
    std::printf("no GPU: skipped (--device cuda on a machine or build without one)\n");
    return 0;
  }
  if (args.model != "gpt-tiny" && args.model != "gpt2-small") usage("unknown --model " + args.model);
  const GptConfig config = args.model == "gpt2-small" ? GptConfig::gpt2_small() : GptConfig::tiny();

  Dataset all = load_text_bytes(text, {.context = config.context});
  const int64_t windows = all.size();
  Dataset train = all.slice(0, windows / args.batch * args.batch);
  if (train.size() == 0) throw std::runtime_error("the text has fewer windows than a batch");
  const int64_t steps_per_epoch = train.size() / args.batch;

  set_random_seed(1);
  Model model(make_gpt(config, args.model));
  CompileConfig cc;
  cc.optimizer = "adamw";
  cc.optimizer_options.learning_rate = 1e-3;
  cc.loss = "sparse_categorical_crossentropy";
  cc.loss_options.from_logits = true;
  cc.device = args.device;
  model.compile(cc);

  auto rec = std::make_shared<StepRecorder>();
  const int64_t wanted = args.warmup_steps + args.steps;
  const int epochs = static_cast<int>((wanted + steps_per_epoch - 1) / steps_per_epoch);
  model.fit(train, {.epochs = epochs, .batch_size = args.batch, .shuffle = true, .seed = 1,
                    .callbacks = {rec}, .verbose = 0});
  long train_rss = max_rss_kib();
  std::vector<double> timed(rec->seconds.begin() + args.warmup_steps,
                            rec->seconds.begin() + wanted);
  const double step_s = median(timed);
  const double tokens_per_step = static_cast<double>(args.batch * config.context);
  // The mean of the last 10 timed steps (fewer when fewer were timed), as torch_gpt.py.
  const int64_t last = std::min<int64_t>(10, args.steps);
  double final_loss = 0;
  for (int64_t i = wanted - last; i < wanted; ++i) final_loss += rec->losses[i] / last;

  // Optional: train on to a loss target (the quality bar: < 1.5 nats per byte).
  std::string target_json;
  if (args.train_to > 0) {
    auto t0 = Clock::now();
    int epoch = epochs;
    while (rec->epoch_losses.back() >= args.train_to && epoch < args.max_epochs) {
      model.fit(train, {.epochs = epoch + 1, .batch_size = args.batch, .shuffle = true,
                        .seed = 1, .callbacks = {rec}, .verbose = 0, .initial_epoch = epoch});
      ++epoch;
    }
    double seconds = seconds_between(t0, Clock::now());
    bool reached = rec->epoch_losses.back() < args.train_to;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  ", \"target_loss\": %.3f, \"reached_loss\": %s, \"epochs_to_target\": %d, "
                  "\"steps_to_target\": %lld, \"seconds_after_timed_run\": %.1f, "
                  "\"last_epoch_loss\": %.4f",
                  args.train_to, reached ? "true" : "false", epoch,
                  static_cast<long long>(epoch * steps_per_epoch), seconds,
                  rec->epoch_losses.back());
    target_json = buf;
  }

  // Generation: the text's first prompt_bytes bytes.
  const int32_t* ids = all.x.contiguous().data<int32_t>();
  std::vector<int32_t> prompt(ids, ids + args.prompt_bytes);
  std::vector<int32_t> cached_tokens, plain_tokens;
  GenResult cached =
      time_generation(model.net(), true, prompt, args.new_tokens, args.gen_reps, &cached_tokens);
  GenResult plain =
      time_generation(model.net(), false, prompt, args.new_tokens, args.gen_reps, &plain_tokens);

  std::printf(
      "{\"framework\": \"tessera\", \"model\": \"%s\", \"device\": \"%s\", \"threads\": %d, "
      "\"params\": %lld, "
      "\"text\": \"%s\", \"windows\": %lld, \"batch\": %lld, \"context\": %lld, "
      "\"warmup_steps\": %d, \"timed_steps\": %d, \"step_s_median\": %.5f, "
      "\"train_tokens_per_s\": %.1f, \"train_samples_per_s\": %.2f, \"first_loss\": %.4f, "
      "\"final_loss\": %.4f, \"loss_units\": \"nats/token\", \"generate_prompt_tokens\": %zu, "
      "\"generate_new_tokens\": %zu, \"generate_kv_cache\": true, "
      "\"generate_tokens_per_s\": %.1f, \"generate_decode_tokens_per_s\": %.1f, "
      "\"generate_per_token_ms\": %.3f, \"generate_prefill_ms\": %.3f, "
      "\"generate_nocache_tokens_per_s\": %.1f, \"generate_nocache_decode_tokens_per_s\": %.1f, "
      "\"generate_nocache_per_token_ms\": %.3f, \"generate_cache_matches_nocache\": %s, "
      "\"start_max_rss_kib\": %ld, \"train_max_rss_kib\": %ld, \"max_rss_kib\": %ld%s}\n",
      args.model.c_str(), args.device.empty() ? "cpu" : args.device.c_str(), args.threads,
      static_cast<long long>(model.net().count_params()), text.c_str(),
      static_cast<long long>(windows), static_cast<long long>(args.batch),
      static_cast<long long>(config.context), args.warmup_steps, args.steps, step_s,
      tokens_per_step / step_s, static_cast<double>(args.batch) / step_s, rec->losses[0],
      final_loss, prompt.size(), cached_tokens.size(), cached.tokens_per_s,
      cached.decode_tokens_per_s, cached.per_token_ms, cached.prefill_ms, plain.tokens_per_s,
      plain.decode_tokens_per_s, plain.per_token_ms,
      cached_tokens == plain_tokens ? "true" : "false", rss_start, train_rss, max_rss_kib(),
      target_json.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_args(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_gpt_tessera: %s\n", e.what());
    return 1;
  }
}
