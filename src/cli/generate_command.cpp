// `tessera generate --model CHECKPOINT --prompt TEXT`: continues a text with a causal language
// model over bytes (a GPT trained by `tessera train ... --dataset text`), printing each byte
// as it is produced. Tokens are chosen by nn/sampling.h (temperature, top-k, top-p, seeded)
// and fed through nn/generation.h's Generator, with its KV cache unless --no-cache. It
// trains nothing: the weights are the checkpoint's (or a zoo model's initial ones).
//
// Timing: the prefill is feeding the prompt, which yields the first new token's logits. A
// decode step chooses a token and feeds it (one position), yielding the next logits; the
// last token is chosen but not fed. tokens/s counts every new token over prefill + decode;
// decode tokens/s is the steady rate (decode steps per second) and the per-token latency
// their median. Terminal output is not timed.
#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "commands.h"
#include "tessera/cli/sources.h"
#include "tessera/core/error.h"
#include "tessera/core/rng.h"
#include "tessera/core/thread_pool.h"
#include "tessera/nn/generation.h"
#include "tessera/nn/sampling.h"

namespace tessera::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Byte-level models: one token per byte value.
constexpr int64_t kByteVocab = 256;

struct GenerateArgs {
  std::string model, prompt, prompt_file, json, backend = "cpu";
  int64_t max_tokens = 200;
  double temperature = 1.0;
  int64_t top_k = 0;
  double top_p = 1.0;
  uint64_t seed = 0;
  bool no_cache = false;
  int threads = 0;
};

// A byte as the terminal shows it: printable ASCII, newline and tab as they are, anything
// else as \xNN, so binary output never garbles the terminal.
std::string shown(unsigned char c) {
  if ((c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t')
    return std::string(1, static_cast<char>(c));
  return fmt::format("\\x{:02x}", c);
}

// The bytes as valid UTF-8 for JSON: well-formed sequences are kept, every other byte becomes
// U+FFFD (as Python's errors="replace"); the exact bytes are the "tokens" list.
std::string utf8_or_replacement(const std::string& bytes) {
  std::string out;
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  for (size_t i = 0; i < n;) {
    unsigned char c = b[i];
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 0;
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) ok = (b[i + k] & 0xc0) == 0x80;
    if (ok && len > 1) {
      // Reject overlong forms, surrogates and code points past U+10FFFF.
      uint32_t cp = c & (0x7f >> len);
      for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (b[i + k] & 0x3f);
      static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[len] && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
    }
    if (ok) {
      out.append(bytes, i, len);
      i += len;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  return out;
}

std::string read_prompt_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  TS_CHECK(fs::exists(path, ec), ErrorKind::kNotFound, "prompt file '{}' does not exist", path);
  TS_CHECK(!fs::is_directory(path, ec), ErrorKind::kIo, "prompt file '{}' is a directory", path);
  std::ifstream in(path, std::ios::binary);
  TS_CHECK(in.good(), ErrorKind::kIo, "cannot open prompt file '{}': {}", path,
           std::strerror(errno));
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  TS_CHECK(!in.bad(), ErrorKind::kIo, "cannot read prompt file '{}'", path);
  return text;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

void run_generate(const GenerateArgs& a) {
  apply_threads(a.threads);
  SamplingOptions sampling{.temperature = a.temperature, .top_k = a.top_k, .top_p = a.top_p};
  validate(sampling);  // before the model loads: a bad flag fails fast
  std::string prompt = a.prompt_file.empty() ? a.prompt : read_prompt_file(a.prompt_file);
  TS_CHECK(!prompt.empty(), ErrorKind::kInvalidArgument,
           "the prompt{} is empty: give at least one byte for the model to continue",
           a.prompt_file.empty() ? "" : fmt::format(" file '{}'", a.prompt_file));

  ModelSource m = open_model(a.model, a.seed, {a.backend});
  Generator gen(m.model.net(), {.use_cache = !a.no_cache, .backends = {a.backend}});
  TS_CHECK(gen.vocab_size() == kByteVocab, ErrorKind::kInvalidArgument,
           "model '{}' has a vocabulary of {} tokens; tessera generate works on bytes and needs "
           "{} (a model trained on a text dataset)",
           m.name, gen.vocab_size(), kByteVocab);
  const int64_t context = gen.context_length();
  const auto prompt_tokens = static_cast<int64_t>(prompt.size());
  TS_CHECK(prompt_tokens <= context, ErrorKind::kInvalidArgument,
           "the prompt has {} bytes but model '{}' reads at most {} tokens (its context); "
           "shorten the prompt",
           prompt_tokens, m.name, context);
  std::vector<int32_t> ids;
  for (char c : prompt) ids.push_back(static_cast<unsigned char>(c));

  for (char c : prompt) fmt::print("{}", shown(static_cast<unsigned char>(c)));
  std::fflush(stdout);

  Rng rng(a.seed);
  std::vector<int32_t> tokens;
  tokens.reserve(static_cast<size_t>(a.max_tokens));
  std::vector<double> step_seconds;
  bool at_context = false;
  auto t0 = Clock::now();
  std::span<const float> logits = gen.feed(ids);
  auto t1 = Clock::now();
  const double prefill_seconds = seconds_between(t0, t1);
  double decode_seconds = 0;
  auto step_start = t1;
  for (;;) {
    int32_t token = sample_token(logits, sampling, rng);
    tokens.push_back(token);
    bool last = static_cast<int64_t>(tokens.size()) == a.max_tokens;
    // A full context takes no more tokens: the last one chosen is still a valid prediction.
    at_context = !last && gen.length() >= context;
    bool fed = !last && !at_context;
    if (fed) logits = gen.feed({&token, 1});
    double step = seconds_between(step_start, Clock::now());
    decode_seconds += step;
    // A decode step chooses a token and feeds it; the final choice needs no feed and counts
    // in the total only.
    if (fed) step_seconds.push_back(step);
    fmt::print("{}", shown(static_cast<unsigned char>(token)));
    std::fflush(stdout);
    if (last || at_context) break;
    step_start = Clock::now();
  }
  fmt::print("\n");

  const auto generated = static_cast<int64_t>(tokens.size());
  const double total_seconds = prefill_seconds + decode_seconds;
  const double tokens_per_s =
      total_seconds > 0 ? static_cast<double>(generated) / total_seconds : 0;
  double step_sum = 0;
  for (double s : step_seconds) step_sum += s;
  const double decode_tokens_per_s =
      step_sum > 0 ? static_cast<double>(step_seconds.size()) / step_sum : 0.0;
  const double per_token_ms = median(step_seconds) * 1e3;
  if (at_context) {
    fmt::print("note: stopped after {} tokens at the context length of model '{}' ({} tokens)\n",
               generated, m.name, context);
  }
  fmt::print(
      "generated {} tokens in {:.3f} s: {:.1f} tokens/s (decode {:.1f} tokens/s, {:.2f} ms per "
      "token; prefill of {} tokens {:.2f} ms), KV cache {}, backend {}, {} threads\n",
      generated, total_seconds, tokens_per_s, decode_tokens_per_s, per_token_ms, prompt_tokens,
      prefill_seconds * 1e3, a.no_cache ? "off" : "on", a.backend, num_threads());

  std::string text(tokens.begin(), tokens.end());  // every id is a byte (vocabulary 256)
  double step_mean_ms = step_seconds.empty() ? 0.0 : step_sum / step_seconds.size() * 1e3;
  nlohmann::json j = {
      {"command", "generate"},
      {"model", m.name},
      {"prompt", utf8_or_replacement(prompt)},
      {"prompt_tokens", prompt_tokens},
      {"text", utf8_or_replacement(text)},
      {"tokens", tokens},
      {"new_tokens", generated},
      {"stopped", at_context ? "context" : "max_tokens"},
      {"context", context},
      {"sampling",
       {{"temperature", a.temperature}, {"top_k", a.top_k}, {"top_p", a.top_p}, {"seed", a.seed}}},
      {"kv_cache", !a.no_cache},
      {"backend", a.backend},
      {"threads", num_threads()},
      {"timings",
       {{"prefill_seconds", prefill_seconds},
        {"decode_seconds", decode_seconds},
        {"total_seconds", total_seconds},
        {"tokens_per_second", tokens_per_s},
        {"decode_tokens_per_second", decode_tokens_per_s},
        {"per_token_ms_median", per_token_ms},
        {"per_token_ms_mean", step_mean_ms}}},
  };
  write_json(a.json, j);
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto a = std::make_shared<GenerateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "generate", "Continue a text with a byte-level language model (e.g. a trained gpt-tiny)");
  cmd->add_option("--model", a->model,
                  "Checkpoint of a language model trained on text (or a zoo language model "
                  "such as gpt-tiny, untrained)")
      ->required()
      ->type_name("PATH");
  CLI::Option* prompt = cmd->add_option("--prompt", a->prompt, "Text to continue (its bytes)");
  CLI::Option* prompt_file =
      cmd->add_option("--prompt-file", a->prompt_file, "Read the text to continue from FILE")
          ->type_name("FILE");
  prompt->excludes(prompt_file);
  cmd->add_option("--max-tokens", a->max_tokens, "New tokens (bytes) to generate")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_option("--temperature", a->temperature,
                  "Divides the logits; 0: greedy (always the most likely byte)")
      ->capture_default_str();
  cmd->add_option("--top-k", a->top_k, "Sample among the K most likely bytes (0: all)")
      ->capture_default_str();
  cmd->add_option("--top-p", a->top_p,
                  "Sample among the most likely bytes whose probability reaches P (1: all)")
      ->capture_default_str();
  cmd->add_option("--seed", a->seed, "Seed for sampling (and a zoo model's initial weights)")
      ->capture_default_str();
  cmd->add_flag("--no-cache", a->no_cache,
                "Re-run the model on the whole sequence for every token (no KV cache)");
  add_threads_option(cmd, &a->threads);
  add_backend_option(cmd, &a->backend);
  add_json_option(cmd, &a->json);
  cmd->callback([a, prompt, prompt_file] {
    if (prompt->count() == 0 && prompt_file->count() == 0)
      throw CLI::ValidationError("--prompt", "give --prompt TEXT or --prompt-file FILE");
    run_generate(*a);
  });
}

}  // namespace tessera::cli
