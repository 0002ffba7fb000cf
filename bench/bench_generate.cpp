// Decode speed of Generator on gpt-tiny (GptConfig::tiny(), random weights), with and
// without the KV cache, at prompt lengths 8, 64 and 120: after the prompt, each of 8 new
// tokens is fed alone and timed. With the cache a step is one position's work, so its cost
// should not grow with the prompt; without it every step re-runs the whole sequence.
//
//   build/bench/bench_generate [--reps 7] [--new 8] [--threads N]
//
// Programs are compiled in a warm-up run first (one per prompt length and per step length),
// so the figures are run times. Prints one line per case and a JSON line for scripts.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tessera/core/thread_pool.h"
#include "tessera/nn/generation.h"
#include "tessera/nn/gpt.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int32_t argmax(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

struct Result {
  int64_t prompt;
  bool cache;
  double prefill_ms, step_ms;
};

Result measure(const tessera::Functional& net, int64_t prompt_len, bool cache, int reps,
               int new_tokens) {
  tessera::Generator gen(net, {.use_cache = cache});
  std::vector<int32_t> prompt(static_cast<size_t>(prompt_len));
  for (int64_t i = 0; i < prompt_len; ++i) prompt[i] = static_cast<int32_t>((i * 37 + 11) % 256);
  gen.generate(prompt, new_tokens, argmax);  // compiles every program the runs below use
  std::vector<double> prefill, steps;
  for (int r = 0; r < reps; ++r) {
    gen.reset();
    auto t0 = Clock::now();
    std::span<const float> logits = gen.feed(prompt);
    prefill.push_back(seconds_since(t0));
    for (int k = 0; k < new_tokens; ++k) {
      int32_t next = argmax(logits);
      t0 = Clock::now();
      logits = gen.feed({&next, 1});
      steps.push_back(seconds_since(t0));
    }
  }
  return {prompt_len, cache, 1e3 * median(prefill), 1e3 * median(steps)};
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 7, new_tokens = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--reps"))
      reps = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--new"))
      new_tokens = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads"))
      tessera::set_num_threads(std::atoi(argv[i + 1]));
    else {
      std::fprintf(stderr, "usage: bench_generate [--reps N] [--new N] [--threads N]\n");
      return 2;
    }
  }
  tessera::GptConfig config = tessera::GptConfig::tiny();
  tessera::Functional net = tessera::make_gpt(config, "gpt-tiny");
  std::printf("# gpt-tiny decode, %d new tokens after the prompt, medians of %d runs, %d threads\n",
              new_tokens, reps, tessera::num_threads());
  std::printf("%-8s %-8s %12s %14s %12s\n", "prompt", "cache", "prefill ms", "ms per token",
              "tokens/s");
  std::vector<Result> results;
  for (int64_t p : {8, 64, 120}) {
    if (p + new_tokens > config.context) continue;
    for (bool cache : {true, false}) {
      Result r = measure(net, p, cache, reps, new_tokens);
      std::printf("%-8lld %-8s %12.3f %14.3f %12.1f\n", static_cast<long long>(p),
                  cache ? "yes" : "no", r.prefill_ms, r.step_ms, 1e3 / r.step_ms);
      results.push_back(r);
    }
  }
  std::string json = "{\"bench\": \"generate\", \"model\": \"gpt-tiny\", \"results\": [";
  for (size_t i = 0; i < results.size(); ++i) {
    const Result& r = results[i];
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  "%s{\"prompt\": %lld, \"cache\": %s, \"prefill_ms\": %.4f, \"step_ms\": %.4f, "
                  "\"tokens_per_s\": %.2f}",
                  i ? ", " : "", static_cast<long long>(r.prompt), r.cache ? "true" : "false",
                  r.prefill_ms, r.step_ms, 1e3 / r.step_ms);
    json += buf;
  }
  std::printf("%s]}\n", json.c_str());
  return 0;
}
