// `tessera train MODEL`: compile, fit with the train module's progress bar, evaluate on the
// test split, optionally save a checkpoint and write JSON results.
#include <fmt/core.h>

#include <chrono>
#include <thread>

#include "commands.h"
#include "tessera/cli/sources.h"
#include "tessera/comm/mpi_communicator.h"
#include "tessera/core/error.h"
#include "tessera/core/thread_pool.h"
#include "tessera/train/checkpoint.h"

namespace tessera::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The compile settings: flags over the spec's `compile:` over Keras' defaults.
CompileConfig compile_config(const TrainArgs& a, const std::optional<CompileConfig>& base) {
  CompileConfig c;  // (not value_or: g++ 12 warns about the std::function inside)
  if (base) {
    c = *base;
  } else {
    c.metrics = {"accuracy"};
  }
  if (!a.optimizer.empty() && a.optimizer != c.optimizer) {
    c.optimizer = a.optimizer;
    c.optimizer_options = OptimizerOptions{};
    c.optimizer_options.learning_rate = a.optimizer == "sgd" ? 0.01 : 0.001;
  } else if (!base) {
    c.optimizer_options.learning_rate = c.optimizer == "sgd" ? 0.01 : 0.001;
  }
  if (a.learning_rate > 0) c.optimizer_options.learning_rate = a.learning_rate;
  if (!a.loss.empty()) c.loss = a.loss;
  c.backends = {a.backend};
  if (!a.dtype_policy.empty()) c.dtype_policy = a.dtype_policy;
  if (a.recompute) c.recompute = true;
  OptimizerOptions& o = c.optimizer_options;
  if (a.gradient_accumulation_steps > 0)
    o.gradient_accumulation_steps = a.gradient_accumulation_steps;
  // A clipping flag replaces the spec's clipping (at most one mode is allowed).
  if (a.clipnorm > 0 || a.clipvalue > 0 || a.global_clipnorm > 0) {
    o.clipnorm = a.clipnorm;
    o.clipvalue = a.clipvalue;
    o.global_clipnorm = a.global_clipnorm;
  }
  return c;
}

bool has_compile_flags(const TrainArgs& a) {
  return !a.optimizer.empty() || a.learning_rate > 0 || !a.loss.empty() ||
         !a.dtype_policy.empty() || a.recompute || a.gradient_accumulation_steps > 0 ||
         a.clipnorm > 0 || a.clipvalue > 0 || a.global_clipnorm > 0;
}

nlohmann::json history_json(const History& h) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, values] : h.history) j[name] = values;
  j["epoch"] = h.epochs;
  return j;
}

}  // namespace

nlohmann::json run_train(const TrainArgs& a_in) {
  TrainArgs a = a_in;
  // Under the mpi strategy rank 0 alone prints, saves and writes results; each of the ranks
  // sharing a host gets its share of the cores unless --threads says otherwise.
  bool leader = true;
  if (a.strategy == "mpi") {
    CommunicatorPtr world = mpi_world(a.timeout);
    leader = world->rank() == 0;
    if (a.threads == 0 && launched_by_mpirun()) {
      int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
      a.threads = std::max(1, cores / mpi_local_size());
    }
    if (!leader) a.verbose = 0;
  }
  apply_threads(a.threads);
  // Rank 0's lines only.
  auto say = [leader](const std::string& text) {
    if (leader) {
      fmt::print("{}", text);
      std::fflush(stdout);
    }
  };
  const std::string& source = a.resume.empty() ? a.model : a.resume;
  ModelSource m = open_model(source, a.seed, {a.backend});
  Model& model = m.model;
  bool overrides = has_compile_flags(a);
  if (!model.compiled() || overrides) {
    if (model.compiled())
      say(fmt::format("note: new compile settings: the optimizer state of '{}' is reset\n",
                      source));
    model.compile(compile_config(a, m.compile));
  }
  model.set_distribution(a.strategy, a.replicas, a.deterministic, a.timeout);
  const CompileConfig& config = model.compile_config();

  std::string dataset = a.dataset.empty() ? default_dataset(model) : a.dataset;
  // Text windows are as long as the model's input sequence unless --context says otherwise.
  int64_t sequence = model_sequence_length(model);
  TS_CHECK(a.context == 0 || sequence == 0 || a.context == sequence, ErrorKind::kInvalidArgument,
           "--context {} does not match the input length of model '{}' ({} tokens)", a.context,
           m.name, sequence);
  int64_t context = a.context > 0 ? a.context : sequence;
  DataSource data = open_dataset(dataset, {.context = context});
  Dataset train = conform(data.train, model, "dataset '" + data.name + "'", config.loss);
  std::optional<Dataset> test;
  if (data.test)
    test = conform(*data.test, model, "dataset '" + data.name + "' (test)", config.loss);

  FitOptions fit;
  fit.initial_epoch = model.epoch();
  fit.epochs = model.epoch() + a.epochs;
  fit.batch_size = a.batch_size;
  fit.seed = a.seed;
  fit.verbose = a.verbose;
  if (a.validation_split > 0) {
    fit.validation_split = a.validation_split;
  } else if (test) {
    fit.validation_data = *test;
  }
  int64_t n_train =
      a.validation_split > 0
          ? static_cast<int64_t>(static_cast<double>(train.size()) * (1.0 - a.validation_split))
          : train.size();
  if (!a.checkpoint.empty())
    fit.callbacks.push_back(
        model_checkpoint({.filepath = a.checkpoint, .save_freq = a.checkpoint_steps}));
  std::string replicas;
  if (a.strategy == "mirrored") replicas = fmt::format(", {} replicas", a.replicas);
  if (a.strategy == "mpi") replicas = fmt::format(", {} ranks", mpi_world(a.timeout)->size());
  say(fmt::format(
      "Training {} ({} params) on {}: {} samples, epochs {}..{}, batch {}, {} lr {}, "
      "backend {}, {} threads, strategy {}{}{}\n",
      m.name, model.net().count_params(), data.name, n_train, fit.initial_epoch + 1, fit.epochs,
      a.batch_size, config.optimizer, config.optimizer_options.learning_rate, a.backend,
      num_threads(), a.strategy, replicas, a.deterministic ? ", deterministic" : ""));
  if (model.position().batch > 0 && model.position().batch_size == a.batch_size)
    say(fmt::format("resuming epoch {} after batch {}\n", fit.initial_epoch + 1,
                    model.position().batch));

  auto t0 = Clock::now();
  History history = model.fit(train, fit);
  double train_seconds = seconds_since(t0);

  std::map<std::string, double> final_metrics;
  double eval_seconds = 0;
  if (!leader) return {};  // the other ranks are done: rank 0 reports
  if (test) {
    auto t1 = Clock::now();
    final_metrics = model.evaluate(test->x, test->y, std::max<int64_t>(a.batch_size, 256));
    eval_seconds = seconds_since(t1);
    fmt::print("test: {}\n", format_metrics(final_metrics));
  }
  if (!a.save.empty()) {
    save_model(model, a.save);
    fmt::print("saved {} (epoch {})\n", a.save, model.epoch());
  }
  double samples_per_s =
      train_seconds > 0 ? static_cast<double>(n_train) * a.epochs / train_seconds : 0.0;
  // Sequence models: every sample is `context` next-token predictions.
  bool text = is_text_dataset(dataset);
  double tokens_per_s = text ? samples_per_s * static_cast<double>(context) : 0.0;
  if (text) {
    fmt::print("trained {} epochs in {:.2f} s ({:.0f} samples/s, {:.0f} tokens/s)\n", a.epochs,
               train_seconds, samples_per_s, tokens_per_s);
  } else {
    fmt::print("trained {} epochs in {:.2f} s ({:.0f} samples/s)\n", a.epochs, train_seconds,
               samples_per_s);
  }

  nlohmann::json j = {
      {"command", "train"},
      {"model", m.name},
      {"dataset", data.name},
      {"backend", a.backend},
      {"threads", num_threads()},
      {"epochs", a.epochs},
      {"initial_epoch", fit.initial_epoch},
      {"batch_size", a.batch_size},
      {"optimizer", config.optimizer},
      {"learning_rate", config.optimizer_options.learning_rate},
      {"loss", config.loss},
      {"dtype_policy", config.dtype_policy},
      {"recompute", config.recompute},
      {"gradient_accumulation_steps", config.optimizer_options.gradient_accumulation_steps},
      {"strategy", a.strategy},
      {"replicas", a.strategy == "mirrored" ? a.replicas
                   : a.strategy == "mpi"    ? mpi_world(a.timeout)->size()
                                            : 1},
      {"deterministic", a.deterministic},
      {"seed", a.seed},
      {"params", model.net().count_params()},
      {"history", history_json(history)},
      {"final", nlohmann::json::object()},
      {"timings",
       {{"train_seconds", train_seconds},
        {"evaluate_seconds", eval_seconds},
        {"train_samples_per_second", samples_per_s}}},
  };
  if (text) {
    // The loss of next-token training is in nats per token.
    j["context"] = context;
    j["timings"]["train_tokens_per_second"] = tokens_per_s;
  }
  for (const auto& [name, value] : final_metrics) j["final"]["test_" + name] = value;
  if (!a.save.empty()) j["checkpoint"] = a.save;
  write_json(a.json, j);
  return j;
}

void add_train_command(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand("train", "Train a model (zoo name, YAML spec or checkpoint)");
  cmd->add_option("MODEL", a->model,
                  "Zoo model (seed-mlp, mnist-mlp, mnist-linear, mnist-dropout, mnist-resmlp, "
                  "mnist-cnn, resnet-small, gpt-tiny), YAML spec or checkpoint");
  cmd->add_option("--dataset", a->dataset,
                  "fashion-mnist, synthetic, FILE.csv, FILE.npz, text (the GPL-3 text) or "
                  "text:FILE for next-byte training (default: the built-in one that fits the "
                  "model)");
  cmd->add_option("--context", a->context,
                  "Text datasets: bytes per training window (default: the model's input "
                  "length)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_option("--epochs", a->epochs, "Epochs to train (after the resumed epoch)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--batch-size", a->batch_size, "Samples per step")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--optimizer", a->optimizer, "sgd, adam, adamw or rmsprop (default: adam)")
      ->check(CLI::IsMember({"sgd", "adam", "adamw", "rmsprop"}));
  cmd->add_option("--learning-rate", a->learning_rate,
                  "Learning rate (default: 0.01 for sgd, 0.001 otherwise)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--loss", a->loss, "Loss (default: sparse_categorical_crossentropy)")
      ->check(CLI::IsMember({"sparse_categorical_crossentropy", "categorical_crossentropy",
                             "binary_crossentropy", "mse", "mae"}));
  cmd->add_option("--dtype-policy", a->dtype_policy,
                  "float32 or mixed_bfloat16 (bf16 activations, f32 weights; default: the "
                  "spec's, else float32)")
      ->check(CLI::IsMember(dtype_policy_names()));
  cmd->add_flag("--recompute", a->recompute,
                "Recompute each layer's activations in the backward pass instead of keeping "
                "them (less memory, more time)");
  cmd->add_option("--gradient-accumulation-steps", a->gradient_accumulation_steps,
                  "Apply the mean gradient of this many batches at once (default: the spec's, "
                  "else 1)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  auto* clipnorm = cmd->add_option("--clipnorm", a->clipnorm, "Clip each gradient to this L2 norm")
                       ->check(CLI::PositiveNumber);
  auto* clipvalue =
      cmd->add_option("--clipvalue", a->clipvalue, "Clip each gradient element to [-X, X]")
          ->check(CLI::PositiveNumber);
  auto* global_clipnorm =
      cmd->add_option("--global-clipnorm", a->global_clipnorm,
                      "Scale all gradients so that their joint L2 norm is at most X")
          ->check(CLI::PositiveNumber);
  clipnorm->excludes(clipvalue)->excludes(global_clipnorm);
  clipvalue->excludes(global_clipnorm);
  cmd->add_option("--validation-split", a->validation_split,
                  "Fraction of the training data held out for validation (from the end)")
      ->check(CLI::Range(0.0, 0.99));
  cmd->add_option("--seed", a->seed, "Seed for initial weights, shuffling and dropout")
      ->capture_default_str();
  cmd->add_option("--verbose", a->verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->capture_default_str()
      ->check(CLI::Range(0, 2));
  cmd->add_option("--save", a->save, "Save a checkpoint to FILE after training")->type_name("FILE");
  cmd->add_option("--checkpoint", a->checkpoint,
                  "Save a checkpoint to FILE (atomically) at the end of every epoch, and every "
                  "--checkpoint-steps batches when given")
      ->type_name("FILE");
  cmd->add_option("--checkpoint-steps", a->checkpoint_steps,
                  "With --checkpoint: also save every this many batches (the checkpoint "
                  "records the position inside the epoch)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  cmd->add_option("--strategy", a->strategy,
                  "default (one replica), mirrored (replicas as threads in this process) or mpi "
                  "(one replica per MPI rank: mpirun -np N tessera train ...)")
      ->capture_default_str()
      ->check(CLI::IsMember(strategy_names()));
  cmd->add_option("--replicas", a->replicas, "Replicas of the mirrored strategy")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_flag("--deterministic", a->deterministic,
                "Reduce gradients in a fixed order: 1, 2 or 4 replicas give bit-identical "
                "weights (slower: each batch runs as 4 micro-batches)");
  cmd->add_option("--timeout", a->timeout,
                  "Seconds a replica waits for the others in a collective before stopping "
                  "with an error naming the silent rank")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--resume", a->resume, "Continue training from the checkpoint FILE")
      ->type_name("FILE");
  add_threads_option(cmd, &a->threads);
  add_backend_option(cmd, &a->backend);
  add_json_option(cmd, &a->json);
  cmd->callback([a] {
    if (a->model.empty() && a->resume.empty())
      throw CLI::ValidationError("MODEL", "give a MODEL or --resume FILE");
    if (!a->model.empty() && !a->resume.empty() && a->model != a->resume)
      fmt::print("note: resuming from {}; its architecture replaces '{}'\n", a->resume, a->model);
    run_train(*a);
  });
}

}  // namespace tessera::cli
