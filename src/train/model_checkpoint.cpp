// ModelCheckpoint: save_model (checkpoint.h) at the end of epochs, every epoch or only when
// the monitored value improves. The path may name the epoch and logs, Keras-style:
// "ckpt-{epoch:02d}-{val_loss:.3f}.tsm" ({epoch} counts from 1).
#include <fmt/args.h>

#include <cmath>

#include "monitor.h"
#include "tessera/core/error.h"
#include "tessera/train/callbacks.h"
#include "tessera/train/checkpoint.h"

namespace tessera {
namespace {

class ModelCheckpoint final : public Callback {
 public:
  explicit ModelCheckpoint(ModelCheckpointOptions o)
      : options_(std::move(o)), monitor_(options_.monitor, options_.mode, "model_checkpoint") {
    TS_CHECK(!options_.filepath.empty(), ErrorKind::kInvalidArgument,
             "model_checkpoint: empty filepath");
    TS_CHECK(options_.save_freq >= 0, ErrorKind::kInvalidArgument,
             "model_checkpoint: save_freq must be >= 0 (0: at epoch ends only), got {}",
             options_.save_freq);
  }

  void on_train_begin(Model&, const Logs&) override { monitor_.reset(); }

  void on_batch_end(Model& model, int64_t batch, const Logs& logs) override {
    // The epoch's last batch is left to on_epoch_end, which records the whole epoch.
    if (options_.save_freq <= 0 || (batch + 1) % options_.save_freq != 0 ||
        batch + 1 >= params_.steps)
      return;
    save_model(model, path_for(model.epoch(), logs));
  }

  void on_epoch_end(Model& model, int epoch, const Logs& logs) override {
    if (options_.save_best_only) {
      auto it = logs.find(options_.monitor);
      if (it == logs.end()) {
        if (!warned_)
          fmt::print(stderr,
                     "warning: model_checkpoint monitors '{}', which is not in the "
                     "logs; nothing is saved\n",
                     options_.monitor);
        warned_ = true;
        return;
      }
      if (!std::isfinite(it->second) || !monitor_.improves(it->second)) return;
      monitor_.set_best(it->second);
    }
    save_model(model, path_for(epoch, logs));
  }

 private:
  std::string path_for(int epoch, const Logs& logs) const {
    fmt::dynamic_format_arg_store<fmt::format_context> args;
    args.push_back(fmt::arg("epoch", epoch + 1));
    for (const auto& [k, v] : logs) args.push_back(fmt::arg(k.c_str(), v));
    try {
      return fmt::vformat(options_.filepath, args);
    } catch (const fmt::format_error& e) {
      throw_error(ErrorKind::kInvalidArgument,
                  fmt::format("model_checkpoint: cannot format filepath '{}': {}",
                              options_.filepath, e.what()));
    }
  }

  ModelCheckpointOptions options_;
  Monitor monitor_;
  bool warned_ = false;
};

}  // namespace

CallbackPtr model_checkpoint(ModelCheckpointOptions options) {
  return std::make_shared<ModelCheckpoint>(std::move(options));
}

}  // namespace tessera
