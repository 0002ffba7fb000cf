// Generator: feeds a causal language model token by token. With the KV cache, the model is
// emitted into decode graphs (CallContext::decode): inputs tokens [1, T] and the position of
// the first, attention layers write their keys and values into cache variables (graph
// updates) and attend over the filled part. One program is compiled per T seen (the prompt's
// length, then 1) and reused. Without the cache, the plain model runs on the whole sequence,
// one program per sequence length.
#include "tessera/nn/generation.h"

#include <algorithm>
#include <map>

#include "tessera/backends/scheduler.h"
#include "tessera/core/error.h"
#include "tessera/nn/functional.h"

namespace tessera {

struct Generator::Impl {
  Functional model;
  GeneratorOptions options;
  DType id_dtype;
  int64_t context = 0;
  int64_t vocab = 0;
  std::vector<int32_t> sequence;
  KvCache cache;
  std::map<int64_t, Program> decode_programs;  // by new tokens per call
  std::map<int64_t, Program> full_programs;    // by sequence length (no cache)
  std::vector<float> logits;                   // of the last position fed

  Program compile(int64_t length, bool decode) {
    GraphBuilder b;
    CallContext ctx{b};
    ctx.variable_sequence_length = true;
    ValueId ids = b.input(model.input_names()[0], id_dtype, Shape{1, length});
    if (decode) ctx.decode = DecodeState{b.input("position", kI32, {}), &cache};
    b.output(model.emit(ctx, {&ids, 1})[0]);
    return compile_program(b.finish(), {.batch = 1, .backends = options.backends});
  }

  Program& program(int64_t length, bool decode) {
    auto& programs = decode ? decode_programs : full_programs;
    auto it = programs.find(length);
    if (it == programs.end()) it = programs.emplace(length, compile(length, decode)).first;
    return it->second;
  }

  // Input buffers reused across calls of the same length: a decode step allocates nothing
  // but what the program's run does not.
  std::map<int64_t, Tensor> id_buffers;
  Tensor position = Tensor::scalar(0, kI32);

  const Tensor& ids_tensor(std::span<const int32_t> tokens) {
    const int64_t n = static_cast<int64_t>(tokens.size());
    auto it = id_buffers.find(n);
    if (it == id_buffers.end()) it = id_buffers.emplace(n, Tensor::zeros(id_dtype, {1, n})).first;
    Tensor& t = it->second;
    if (id_dtype == kI32)
      std::copy(tokens.begin(), tokens.end(), t.data<int32_t>());
    else
      std::copy(tokens.begin(), tokens.end(), t.data<int64_t>());
    return t;
  }
};

Generator::Generator(const Functional& model, GeneratorOptions options)
    : impl_(std::make_unique<Impl>()) {
  Impl& g = *impl_;
  g.model = model;
  g.options = std::move(options);
  TS_CHECK(model.input_types().size() == 1 && model.output_types().size() == 1,
           ErrorKind::kInvalidArgument,
           "Generator: model '{}' has {} inputs and {} outputs; a language model has one of each",
           model.name(), model.input_types().size(), model.output_types().size());
  const TensorType& in = model.input_types()[0];
  const TensorType& out = model.output_types()[0];
  TS_CHECK(in.shape.rank() == 2 && (in.dtype == kI32 || in.dtype == kI64),
           ErrorKind::kInvalidArgument,
           "Generator: model '{}' takes {}; a language model takes token ids [batch, T] (i32)",
           model.name(), in.str());
  TS_CHECK(out.shape.rank() == 3 && out.shape[1] == in.shape[1] && out.dtype.is_float() &&
               out.shape[2] > 0,
           ErrorKind::kInvalidArgument,
           "Generator: model '{}' returns {}; a language model returns logits [batch, T, vocab] "
           "for ids {}",
           model.name(), out.str(), in.str());
  g.id_dtype = in.dtype;
  g.context = in.shape[1];
  g.vocab = out.shape[2];
  g.cache.batch = 1;
  g.cache.capacity = g.context;
}

Generator::~Generator() = default;
Generator::Generator(Generator&&) noexcept = default;
Generator& Generator::operator=(Generator&&) noexcept = default;

int64_t Generator::context_length() const { return impl_->context; }
int64_t Generator::vocab_size() const { return impl_->vocab; }
int64_t Generator::length() const { return static_cast<int64_t>(impl_->sequence.size()); }

// The cache needs no clearing: a position is always written before it is read.
void Generator::reset() { impl_->sequence.clear(); }

std::span<const float> Generator::feed(std::span<const int32_t> tokens) {
  Impl& g = *impl_;
  const std::string& model = g.model.name();
  TS_CHECK(!tokens.empty(), ErrorKind::kInvalidArgument, "Generator::feed: no tokens given");
  for (size_t i = 0; i < tokens.size(); ++i)
    TS_CHECK(tokens[i] >= 0 && tokens[i] < g.vocab, ErrorKind::kInvalidArgument,
             "Generator::feed: token {} at position {} is outside the vocabulary [0, {}) of "
             "model '{}'",
             tokens[i], i, g.vocab, model);
  const int64_t have = length(), n = static_cast<int64_t>(tokens.size());
  TS_CHECK(have + n <= g.context, ErrorKind::kInvalidArgument,
           "Generator::feed: {} tokens after {} make a sequence of {}, longer than the context "
           "of {} positions of model '{}'",
           n, have, have + n, g.context, model);
  Tensor logits;
  if (g.options.use_cache) {
    g.position.data<int32_t>()[0] = static_cast<int32_t>(have);
    Tensor inputs[] = {g.ids_tensor(tokens), g.position};
    logits = g.program(n, /*decode=*/true).run(inputs)[0];
  } else {
    std::vector<int32_t> all = g.sequence;
    all.insert(all.end(), tokens.begin(), tokens.end());
    Tensor inputs[] = {g.ids_tensor(all)};
    logits = g.program(have + n, /*decode=*/false).run(inputs)[0];
  }
  // The last position's row of [1, T, vocab].
  const int64_t rows = logits.shape()[1];
  g.logits.resize(static_cast<size_t>(g.vocab));
  Tensor all = logits.contiguous();
  if (all.dtype() == kF32) {
    const float* last = all.data<float>() + (rows - 1) * g.vocab;
    std::copy(last, last + g.vocab, g.logits.begin());
  } else {
    for (int64_t v = 0; v < g.vocab; ++v)
      g.logits[v] = static_cast<float>(all.get((rows - 1) * g.vocab + v));
  }
  g.sequence.insert(g.sequence.end(), tokens.begin(), tokens.end());
  return g.logits;
}

std::vector<int32_t> Generator::generate(std::span<const int32_t> prompt, int64_t max_new_tokens,
                                         const TokenPicker& pick) {
  TS_CHECK(max_new_tokens >= 0, ErrorKind::kInvalidArgument,
           "Generator::generate: max_new_tokens must be >= 0, got {}", max_new_tokens);
  TS_CHECK(static_cast<bool>(pick), ErrorKind::kInvalidArgument,
           "Generator::generate: no token picker given");
  reset();
  std::span<const float> logits = feed(prompt);
  std::vector<int32_t> out;
  // The sequence (prompt and new tokens) never grows past the context.
  while (static_cast<int64_t>(out.size()) < max_new_tokens && length() < impl_->context) {
    int32_t next = pick(logits);
    TS_CHECK(next >= 0 && next < impl_->vocab, ErrorKind::kInvalidArgument,
             "Generator::generate: the token picker returned {}, outside the vocabulary [0, {})",
             next, impl_->vocab);
    out.push_back(next);
    if (static_cast<int64_t>(out.size()) == max_new_tokens || length() + 1 >= impl_->context) break;
    logits = feed({&next, 1});
  }
  return out;
}

}  // namespace tessera
