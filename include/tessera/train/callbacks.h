// Callbacks, as in Keras: hooks the fit loop calls at epoch and batch boundaries. `logs`
// holds the running (batch) or final (epoch) loss and metrics, with "val_" entries after
// validation.
//
//   model.fit(x, y, {.epochs = 50, .callbacks = {
//       early_stopping({.monitor = "val_loss", .patience = 3}),
//       model_checkpoint({.filepath = "best.tsm", .save_best_only = true}),
//       csv_logger("history.csv")}});
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "tessera/train/schedules.h"

namespace tessera {

class Model;
using Logs = std::map<std::string, double>;

// What fit() tells its callbacks before training (Keras' callback.params).
struct CallbackParams {
  int epochs = 1;  // the last epoch is epochs − 1
  int initial_epoch = 0;
  int64_t steps = 0;  // batches per epoch
  int verbose = 1;
};

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void set_params(const CallbackParams& params) { params_ = params; }
  virtual void on_train_begin(Model&, const Logs&) {}
  virtual void on_train_end(Model&, const Logs&) {}
  virtual void on_epoch_begin(Model&, int /*epoch*/, const Logs&) {}
  virtual void on_epoch_end(Model&, int /*epoch*/, const Logs&) {}
  virtual void on_batch_end(Model&, int64_t /*batch*/, const Logs&) {}
  // fit() is leaving with an Error (a NaN loss, bad data): finish any output cleanly.
  virtual void on_train_abort(Model&) {}

 protected:
  CallbackParams params_;
};
using CallbackPtr = std::shared_ptr<Callback>;

// The default: a Keras-style progress bar (bar, ETA, running loss and metrics) on a
// terminal, one line per epoch otherwise. verbose 0: silent; 2: one line per epoch.
CallbackPtr progress_bar(int verbose = 1);
// As above, writing to `out`; `terminal` chooses the live bar (redrawn with \r) or one line
// per epoch. progress_bar() uses stdout and isatty.
CallbackPtr progress_bar(int verbose, std::FILE* out, bool terminal);

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0.0;
  int patience = 0;
  std::string mode = "auto";  // min | max | auto (max for accuracy-like names)
  bool restore_best_weights = false;
};
CallbackPtr early_stopping(EarlyStoppingOptions options = {});

struct ModelCheckpointOptions {
  std::string filepath;  // may contain {epoch}
  std::string monitor = "val_loss";
  bool save_best_only = false;
  std::string mode = "auto";
  // > 0: also save every this many batches inside an epoch (Keras' integer save_freq); the
  // checkpoint records the position, so a resumed fit continues from the next batch.
  int64_t save_freq = 0;
};
CallbackPtr model_checkpoint(ModelCheckpointOptions options);

CallbackPtr csv_logger(std::string path, bool append = false);
// Sets the optimizer's learning rate at the start of each epoch: lr = schedule(epoch).
CallbackPtr learning_rate_scheduler(LearningRateSchedule per_epoch);
// Stops training with an Error when the loss becomes NaN or infinite.
CallbackPtr terminate_on_nan();

}  // namespace tessera
