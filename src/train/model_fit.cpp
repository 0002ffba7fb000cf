// Model::fit: the Keras training loop. Per step it sets the learning rate on the host, runs
// the cached training program (forward, backward and updates in one graph), checks the
// loss and accumulates host metrics; per epoch it validates and calls the callbacks.
// The hot loop reuses the batch tensors, the programs and the logs: nothing is compiled
// or allocated by this file per step.
#include <cmath>

#include "model_internal.h"
#include "tessera/core/error.h"

namespace tessera {

// The class of each sample: the label, the arg-max of a one-hot row, or the rounded binary
// target, as Keras maps class_weight to sample_weight.
void fill_class_weights(const Tensor& y, const std::map<int64_t, double>& class_weight,
                        Tensor& out) {
  int64_t n = y.shape()[0];
  int64_t per_sample = n == 0 ? 0 : y.numel() / n;
  float* w = out.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    int64_t cls = 0;
    if (per_sample == 1) {
      cls = static_cast<int64_t>(std::llround(y.get(i)));
    } else {
      double best = y.get(i * per_sample);
      for (int64_t k = 1; k < per_sample; ++k) {
        double v = y.get(i * per_sample + k);
        if (v > best) best = v, cls = k;
      }
    }
    auto it = class_weight.find(cls);
    w[i] = it == class_weight.end() ? 1.0f : static_cast<float>(it->second);
  }
}

int64_t Model::batches_to_skip(int epoch, const FitOptions& options) {
  if (epoch != options.initial_epoch || epoch != epoch_ || position_.batch <= 0) return 0;
  if (position_.batch_size != options.batch_size) {
    fmt::print(stderr,
               "note: the checkpoint stopped after batch {} of epoch {} with batch size {}; "
               "with batch size {} the epoch starts again from its first batch\n",
               position_.batch, epoch + 1, position_.batch_size, options.batch_size);
    return 0;
  }
  return position_.batch;
}

History Model::fit(const Tensor& x, const Tensor& y, FitOptions options) {
  return fit(Dataset{x, y, "training data"}, std::move(options));
}

History Model::fit(const Dataset& train_in, FitOptions options) {
  TS_CHECK(compiled(), ErrorKind::kInvalidArgument,
           "fit: the model is not compiled: call compile() first");
  TS_CHECK(options.batch_size > 0, ErrorKind::kInvalidArgument,
           "fit: batch_size must be > 0, got {}", options.batch_size);
  TS_CHECK(options.epochs >= 0 && options.initial_epoch >= 0, ErrorKind::kInvalidArgument,
           "fit: epochs ({}) and initial_epoch ({}) must be >= 0", options.epochs,
           options.initial_epoch);
  TS_CHECK(options.validation_split >= 0 && options.validation_split < 1,
           ErrorKind::kInvalidArgument, "fit: validation_split must be in [0, 1), got {}",
           options.validation_split);
  for (const auto& [cls, weight] : options.class_weight) {
    TS_CHECK(std::isfinite(weight) && weight >= 0, ErrorKind::kInvalidArgument,
             "fit: class_weight of class {} must be finite and >= 0, got {}", cls, weight);
    TS_CHECK(compiled_->num_classes == 0 || (cls >= 0 && cls < compiled_->num_classes),
             ErrorKind::kInvalidArgument,
             "fit: class_weight names class {} but the model has {} classes", cls,
             compiled_->num_classes);
  }

  // Validation data: given, or the last samples before any shuffling (Keras).
  Dataset train =
      prepare_data(train_in, train_in.name.empty() ? "training data" : train_in.name, true);
  std::optional<Dataset> val;
  if (options.validation_data) {
    const Dataset& v = *options.validation_data;
    val = prepare_data(v, v.name.empty() ? "validation data" : v.name, true);
  } else if (options.validation_split > 0) {
    int64_t n = train.size();
    auto split_at =
        static_cast<int64_t>(std::floor(static_cast<double>(n) * (1.0 - options.validation_split)));
    TS_CHECK(split_at > 0 && split_at < n, ErrorKind::kInvalidArgument,
             "fit: validation_split {} of {} samples leaves an empty training or validation "
             "set",
             options.validation_split, n);
    val = train.slice(split_at, n);
    train = train.slice(0, split_at);
  }

  // One class per sample: sparse labels [N] (or [N, 1]) or one-hot rows [N, C]. Sequence
  // targets ([N, T] ids, [N, T, C]) have one class per position, which a per-sample weight
  // cannot express (Keras refuses them too).
  if (!options.class_weight.empty()) {
    const TensorType& t = compiled_->target_type;
    TS_CHECK(t.shape.rank() <= (t.dtype.is_int() ? 1 : 2), ErrorKind::kInvalidArgument,
             "fit: class_weight is not supported for targets of shape {} (one class per "
             "position, not per sample)",
             t.shape.str());
  }
  if (compiled_->train_seed != options.seed) build_graphs(options.seed);
  Compiled& c = *compiled_;
  // Resumes the schedule after load_model; with gradient accumulation a step is a batch
  // and the schedule follows applied steps (step / k).
  step_ = optimizer_->steps_seen();
  const int64_t accumulation = optimizer_->accumulation_steps();

  std::vector<CallbackPtr> callbacks;
  if (options.verbose != 0) callbacks.push_back(progress_bar(options.verbose));
  for (const CallbackPtr& cb : options.callbacks)
    if (cb) callbacks.push_back(cb);
  int64_t steps = (train.size() + options.batch_size - 1) / options.batch_size;
  CallbackParams params{.epochs = options.epochs,
                        .initial_epoch = options.initial_epoch,
                        .steps = steps,
                        .verbose = options.verbose};
  for (const CallbackPtr& cb : callbacks) cb->set_params(params);
  if (config_.strategy != "default" || config_.deterministic)
    return fit_replicated(train, val, options, callbacks);

  History history;
  Logs epoch_logs;
  // Batch logs are updated in place so that the hot loop allocates nothing.
  Logs batch_logs;
  double* batch_loss = &batch_logs["loss"];
  std::vector<double*> batch_metric;
  for (auto& m : metrics_) batch_metric.push_back(&batch_logs[m->name()]);

  stop_training = false;
  try {
    for (const CallbackPtr& cb : callbacks) cb->on_train_begin(*this, {});
    for (int epoch = options.initial_epoch; epoch < options.epochs && !stop_training; ++epoch) {
      for (const CallbackPtr& cb : callbacks) cb->on_epoch_begin(*this, epoch, {});
      for (auto& m : metrics_) m->reset();
      double loss_sum = 0;
      int64_t seen = 0;
      BatchIterator it(train, options.batch_size, options.shuffle, options.seed, epoch);
      // A resumed fit continues where the checkpoint's epoch stopped.
      for (int64_t skip = batches_to_skip(epoch, options); skip > 0 && it.next();) --skip;
      while (it.next()) {
        const Tensor& bx = it.x();
        const Tensor& by = it.y();
        int64_t count = bx.shape()[0];
        Program& p = c.program(c.train_programs, c.train_graph, count);
        Tensor sample_weight;
        if (options.class_weight.empty()) {
          auto [w, fresh] = c.ones.try_emplace(count);
          if (fresh) w->second = Tensor::full(kF32, {count}, 1.0);
          sample_weight = w->second;
        } else {
          auto [w, fresh] = c.class_weights.try_emplace(count);
          if (fresh) w->second = Tensor::zeros(kF32, {count});
          fill_class_weights(by, options.class_weight, w->second);
          sample_weight = w->second;
        }
        c.step.data<int64_t>()[0] = step_;
        optimizer_->set_step(step_ / accumulation);
        Tensor inputs[] = {bx, by, sample_weight, c.step};
        const std::vector<Tensor>& out = p.run(inputs);
        double loss = out[0].get(0);
        TS_CHECK(std::isfinite(loss), ErrorKind::kInvalidArgument,
                 "fit: the loss became {} at epoch {} batch {} (step {}): training diverged; "
                 "lower the learning rate or check the data. The weights now hold that "
                 "step's result; no checkpoint was written for it",
                 loss, epoch + 1, it.batch_index() + 1, step_);
        ++step_;
        loss_sum += loss * static_cast<double>(count);
        seen += count;
        *batch_loss = loss_sum / static_cast<double>(seen);
        position_ = {it.batch_index() + 1, options.batch_size};
        for (size_t i = 0; i < metrics_.size(); ++i) {
          metrics_[i]->update(out[1], by, nullptr);
          *batch_metric[i] = metrics_[i]->result();
        }
        for (const CallbackPtr& cb : callbacks)
          cb->on_batch_end(*this, it.batch_index(), batch_logs);
        if (stop_training) break;
      }

      epoch_logs = batch_logs;
      if (val) {
        Logs v = evaluate_dataset(*val, options.batch_size);
        for (const auto& [name, value] : v) epoch_logs["val_" + name] = value;
      }
      epoch_ = epoch + 1;  // completed: what a checkpoint written now must record
      position_ = {0, options.batch_size};
      for (const auto& [name, value] : epoch_logs) history.history[name].push_back(value);
      history.epochs.push_back(epoch);
      for (const CallbackPtr& cb : callbacks) cb->on_epoch_end(*this, epoch, epoch_logs);
    }
    for (const CallbackPtr& cb : callbacks) cb->on_train_end(*this, epoch_logs);
  } catch (...) {
    for (const CallbackPtr& cb : callbacks) cb->on_train_abort(*this);
    throw;
  }
  return history;
}

}  // namespace tessera
