// The Keras progress bar: on a terminal a live bar with ETA and running metrics, redrawn
// with \r; otherwise (logs, pipes, verbose 2) exactly one line per epoch.
//
//   Epoch 1/10
//   1875/1875 [==============================] - 2s 1ms/step - loss: 0.4962 - accuracy: 0.8254
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <string>

#include "tessera/core/error.h"
#include "tessera/train/callbacks.h"

namespace tessera {
namespace {

using Clock = std::chrono::steady_clock;

// Keras: 4 decimals, or scientific notation for tiny values.
void append_value(std::string& s, double v) {
  if (std::abs(v) > 1e-3 || v == 0 || !std::isfinite(v))
    s += fmt::format("{:.4f}", v);
  else
    s += fmt::format("{:.4e}", v);
}

// loss, the training metrics, then val_loss and the validation metrics (Keras' order).
void append_logs(std::string& s, const Logs& logs) {
  auto item = [&](const std::string& k, double v) {
    s += " - ";
    s += k;
    s += ": ";
    append_value(s, v);
  };
  for (int pass = 0; pass < 2; ++pass) {
    const std::string prefix = pass == 0 ? "" : "val_";
    auto loss = logs.find(prefix + "loss");
    if (loss != logs.end()) item(loss->first, loss->second);
    for (const auto& [k, v] : logs) {
      bool is_val = k.rfind("val_", 0) == 0;
      if (is_val != (pass == 1) || k == prefix + "loss") continue;
      item(k, v);
    }
  }
}

std::string format_duration(double seconds) {
  if (seconds >= 3600)
    return fmt::format("{}:{:02}:{:02}", static_cast<int64_t>(seconds) / 3600,
                       static_cast<int64_t>(seconds) % 3600 / 60,
                       static_cast<int64_t>(seconds) % 60);
  if (seconds >= 60)
    return fmt::format("{}:{:02}", static_cast<int64_t>(seconds) / 60,
                       static_cast<int64_t>(seconds) % 60);
  return fmt::format("{}s", static_cast<int64_t>(std::lround(seconds)));
}

std::string format_per_step(double seconds) {
  if (seconds >= 1) return fmt::format("{}s/step", static_cast<int64_t>(std::lround(seconds)));
  if (seconds >= 1e-3)
    return fmt::format("{}ms/step", static_cast<int64_t>(std::lround(seconds * 1e3)));
  return fmt::format("{}us/step", static_cast<int64_t>(std::lround(seconds * 1e6)));
}

class ProgressBar final : public Callback {
 public:
  ProgressBar(int verbose, std::FILE* out, bool terminal)
      : verbose_(verbose), out_(out), live_(terminal && verbose == 1) {
    line_.reserve(256);
  }

  void on_epoch_begin(Model&, int epoch, const Logs&) override {
    if (verbose_ == 0) return;
    epoch_ = epoch;
    start_ = last_draw_ = Clock::now();
    train_seconds_ = 0;
    drawn_width_ = 0;
    if (live_) {
      fmt::print(out_, "Epoch {}/{}\n", epoch + 1, params_.epochs);
      std::fflush(out_);
    }
  }

  void on_batch_end(Model&, int64_t batch, const Logs& logs) override {
    if (verbose_ == 0) return;
    auto now = Clock::now();
    int64_t done = batch + 1;
    train_seconds_ = seconds(now);
    // Redraw at most 10 times a second: drawing must not cost more than the steps.
    if (!live_ || (done < params_.steps && now - last_draw_ < std::chrono::milliseconds(100)))
      return;
    last_draw_ = now;
    line_.clear();
    append_bar(done);
    if (done < params_.steps) {
      double eta =
          train_seconds_ / static_cast<double>(done) * static_cast<double>(params_.steps - done);
      line_ += " - ETA: " + format_duration(eta);
    } else {
      line_ += " - " + timing(done);
    }
    append_logs(line_, logs);
    draw();
  }

  void on_epoch_end(Model&, int, const Logs& logs) override {
    if (verbose_ == 0) return;
    line_.clear();
    if (live_) {
      append_bar(params_.steps);
    } else {
      line_ = fmt::format("Epoch {}/{} - {}/{}", epoch_ + 1, params_.epochs, params_.steps,
                          params_.steps);
    }
    line_ += " - " + timing(params_.steps);
    append_logs(line_, logs);
    if (live_) {
      draw();
      std::fputc('\n', out_);
    } else {
      line_ += '\n';
      std::fputs(line_.c_str(), out_);
    }
    drawn_width_ = 0;
    std::fflush(out_);
  }

  void on_train_abort(Model&) override {
    if (live_ && drawn_width_ > 0) {
      std::fputc('\n', out_);
      std::fflush(out_);
      drawn_width_ = 0;
    }
  }

 private:
  double seconds(Clock::time_point now) const {
    return std::chrono::duration<double>(now - start_).count();
  }

  // "1875/1875 [=====>........]"
  void append_bar(int64_t done) {
    constexpr int64_t kWidth = 30;
    int digits = static_cast<int>(std::to_string(params_.steps).size());
    line_ += fmt::format("{:>{}}/{} [", done, digits, params_.steps);
    int64_t filled = params_.steps > 0 ? kWidth * done / params_.steps : kWidth;
    if (filled > 0) {
      line_.append(static_cast<size_t>(filled - 1), '=');
      line_ += done < params_.steps ? '>' : '=';
    }
    line_.append(static_cast<size_t>(kWidth - filled), '.');
    line_ += ']';
  }

  // "2s 1ms/step": the epoch so far, and the training time per step.
  std::string timing(int64_t steps) const {
    double total = seconds(Clock::now());
    return format_duration(total) + " " +
           format_per_step(train_seconds_ / static_cast<double>(std::max<int64_t>(steps, 1)));
  }

  void draw() {
    size_t width = line_.size();
    if (width < drawn_width_) line_.append(drawn_width_ - width, ' ');  // erase the tail
    std::fputc('\r', out_);
    std::fputs(line_.c_str(), out_);
    std::fflush(out_);
    drawn_width_ = width;
  }

  int verbose_;
  std::FILE* out_;
  bool live_;
  int epoch_ = 0;
  Clock::time_point start_, last_draw_;
  double train_seconds_ = 0;
  size_t drawn_width_ = 0;
  std::string line_;
};

}  // namespace

CallbackPtr progress_bar(int verbose) {
  return progress_bar(verbose, stdout, isatty(fileno(stdout)) != 0);
}

CallbackPtr progress_bar(int verbose, std::FILE* out, bool terminal) {
  TS_CHECK(verbose >= 0 && verbose <= 2, ErrorKind::kInvalidArgument,
           "progress_bar: verbose must be 0, 1 or 2, got {}", verbose);
  TS_CHECK(out != nullptr, ErrorKind::kInvalidArgument, "progress_bar: no output stream");
  return std::make_shared<ProgressBar>(verbose, out, terminal);
}

}  // namespace tessera
