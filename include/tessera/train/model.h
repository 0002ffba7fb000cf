// Keras-style models: Model (functional) and Sequential, with compile / fit / evaluate /
// predict / summary / save. The training step is one graph — forward, loss, autodiff and
// the optimizer's updates — compiled once per batch size and run on the chosen backends.
//
//   Sequential model({
//       Dense(64, {.activation = "relu", .input_shape = Shape{32}}),
//       Dense(10, {.activation = "softmax"}),
//   });
//   model.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy",
//                  .metrics = {"accuracy"}});   // .dtype_policy = "mixed_bfloat16", .recompute
//   History h = model.fit(x_train, y_train, {.epochs = 10, .batch_size = 32,
//                                            .validation_data = Dataset{x_test, y_test}});
//   Tensor probs = model.predict(x_test);
//
// Data parallelism (docs/distributed.md): `.strategy = "mirrored"` (replicas as threads) or
// "mpi" (under `mpirun -np N`) in compile(); the batch size stays the global batch.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tessera/backends/scheduler.h"
#include "tessera/data/dataset.h"
#include "tessera/nn/functional.h"
#include "tessera/nn/losses.h"
#include "tessera/nn/metrics.h"
#include "tessera/train/callbacks.h"
#include "tessera/train/optimizer.h"

namespace tessera {

struct CompileConfig {
  std::string optimizer = "adam";
  OptimizerOptions optimizer_options;  // learning_rate etc.; Keras defaults per optimizer
  std::string loss = "sparse_categorical_crossentropy";
  LossOptions loss_options;
  std::vector<std::string> metrics;
  std::vector<std::string> backends = {"cpu"};  // the device: scheduler preference order
  // The device by name: "cpu", "cuda", or "auto" (cuda when a GPU is present, else cpu).
  // When not empty it decides `backends`.
  std::string device;
  // Distribution strategy, as in tf.distribute: "default" (one replica), "mirrored"
  // (replicas inside this process) or "mpi" (one replica per MPI rank).
  std::string strategy = "default";
  // Gradients reduced in a fixed order, so any replica count gives bit-identical weights.
  bool deterministic = false;
  // Keras' dtype policy: "float32", or "mixed_bfloat16": variables stay f32 (master
  // weights, updated by the optimizer in f32) while layers compute on bf16 activations and
  // bf16 copies of the weights (matmul accumulates in f32); the model's output is cast back
  // to f32, so the loss, its reduction and the gradients reaching the optimizer are f32.
  std::string dtype_policy = "float32";
  // Activation checkpointing: each layer call of the model is a segment whose inner
  // activations are not kept for the backward pass but recomputed there just before their
  // first use (ir/recompute.h). Less memory for one more forward pass of each layer.
  bool recompute = false;
  // Added with the strategies (docs/distributed.md). Mirrored: replicas (threads) in this
  // process, >= 1 (0: 2). Every collective (gradient all-reduce, broadcast) of the mirrored
  // and mpi strategies fails with an error naming the silent rank after this many seconds.
  int replicas = 0;
  double timeout_seconds = 60.0;
};

// The strategies compile() accepts ("default", "mirrored", "mpi").
const std::vector<std::string>& strategy_names();

// Where a fit stopped inside an epoch: `batch` batches of size `batch_size` of epoch
// Model::epoch() are done (0: at an epoch boundary). Checkpoints save it; fit() resumes there
// when the batch size matches (the shuffled order depends only on the seed and the epoch).
struct TrainPosition {
  int64_t batch = 0;
  int64_t batch_size = 0;
};

// The dtype policies compile() accepts ("float32", "mixed_bfloat16").
const std::vector<std::string>& dtype_policy_names();

struct FitOptions {
  int epochs = 1;
  int64_t batch_size = 32;
  bool shuffle = true;
  uint64_t seed = 0;  // shuffling, dropout
  std::optional<Dataset> validation_data;
  double validation_split = 0.0;           // taken from the end, before shuffling
  std::map<int64_t, double> class_weight;  // class id -> weight
  std::vector<CallbackPtr> callbacks;      // a progress bar is added unless verbose == 0
  int verbose = 1;
  int initial_epoch = 0;  // for resuming
};

struct History {
  std::map<std::string, std::vector<double>> history;  // "loss", "accuracy", "val_loss", …
  std::vector<int> epochs;
};

class Model {
 public:
  Model();
  Model(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs,
        std::string name = "model", uint64_t seed = 0);
  explicit Model(Functional net);
  virtual ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;

  void compile(CompileConfig config);
  // Changes how fit() spreads the step over replicas (CompileConfig's strategy, replicas,
  // deterministic, timeout_seconds) and keeps the weights and the optimizer's state: a
  // property of the run, so a checkpoint resumes under another strategy or replica count.
  void set_distribution(const std::string& strategy, int replicas, bool deterministic,
                        double timeout_seconds);
  History fit(const Tensor& x, const Tensor& y, FitOptions options = {});
  History fit(const Dataset& train, FitOptions options = {});
  // Loss and metrics over the data, as Keras' evaluate(return_dict=True).
  std::map<std::string, double> evaluate(const Tensor& x, const Tensor& y, int64_t batch_size = 32);
  Tensor predict(const Tensor& x, int64_t batch_size = 32);

  std::string summary() const { return net().summary(); }
  const Functional& net() const;
  Functional& net();
  Optimizer* optimizer() { return optimizer_.get(); }
  const CompileConfig& compile_config() const { return config_; }
  bool compiled() const { return optimizer_ != nullptr; }
  int epoch() const { return epoch_; }  // epochs completed (for checkpoints)
  void set_epoch(int epoch) { epoch_ = epoch; }
  bool stop_training = false;  // set by callbacks (EarlyStopping)

  // Copies of every weight (net().variables() order) and writing them back in place, so
  // compiled programs, which share the variables' buffers, see the new values.
  std::vector<Tensor> get_weights() const;
  void set_weights(const std::vector<Tensor>& weights);
  // Training steps (batches) taken: the optimizer's counter, times k plus the pending
  // gradients with gradient accumulation (Optimizer::steps_seen).
  int64_t step() const { return step_; }
  const TrainPosition& position() const { return position_; }
  void set_position(TrainPosition p) { position_ = p; }
  // The compiled step graphs (for reports and simulators); valid after compile().
  const Graph& train_graph() const;
  const Graph& predict_graph();

 protected:
  Functional net_;
  // Sequential calls this when its layers change: cached graphs and programs are rebuilt.
  void architecture_changed();

 private:
  struct Compiled;  // graphs and programs per batch size
  void build_graphs(uint64_t seed);
  Compiled& inference_state();
  // Checks data against the model's input and the loss's targets; converts dtypes when
  // that loses nothing. Throws Error naming `what`, the expected and the actual type.
  Dataset prepare_data(const Dataset& data, const std::string& what, bool with_targets);
  Logs evaluate_dataset(const Dataset& data, int64_t batch_size);
  // fit() under the mirrored and mpi strategies and deterministic reduction
  // (replicated_fit.cpp): gradients computed per replica, all-reduced, then applied.
  History fit_replicated(const Dataset& train, const std::optional<Dataset>& val,
                         const FitOptions& options, std::vector<CallbackPtr>& callbacks);
  // Batches of epoch `epoch` that a resumed fit skips (position()).
  int64_t batches_to_skip(int epoch, const FitOptions& options);
  CompileConfig config_;
  std::unique_ptr<Loss> loss_;
  std::unique_ptr<Optimizer> optimizer_;
  std::vector<std::unique_ptr<Metric>> metrics_;
  std::unique_ptr<Compiled> compiled_;
  int epoch_ = 0;
  int64_t step_ = 0;
  TrainPosition position_;
};

class Sequential : public Model {
 public:
  Sequential() = default;
  // The first layer needs input_shape (or call build()); layers are built immediately.
  explicit Sequential(std::vector<LayerPtr> layers, std::string name = "sequential",
                      uint64_t seed = 0);
  void add(LayerPtr layer);
  void build(const Shape& input_shape);  // per sample, for when no layer has input_shape

 private:
  void rebuild();
  std::vector<LayerPtr> pending_;
  std::optional<Shape> input_shape_;
  std::string name_;
  uint64_t seed_ = 0;
};

}  // namespace tessera
