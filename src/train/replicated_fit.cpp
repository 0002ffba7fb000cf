// Model::fit under the mirrored and mpi strategies (and deterministic reduction): data
// parallelism over replicas. Each step takes a global batch of B samples from the same
// seeded order on every rank; replica g computes the gradients of its share with the
// gradient program, scaled by share/B; the sum over the replicas (all-reduce, in buckets
// started while the backward pass still runs) is the mean gradient of the global batch,
// which the apply program hands to the optimizer. Mirrored replicas are threads sharing the
// model's weights (one apply per step); MPI ranks are processes holding a copy each (every
// rank applies the same update). docs/distributed.md has the design.
//
// Deterministic reduction: every global batch is cut into kCanonicalLeaves micro-batches,
// whatever the replica count; replica g computes micro-batches [g·M/W, (g+1)·M/W) one by one
// and adds them over a pairwise tree, and the all-reduce adds the replicas over the same kind
// of tree, so every replica count dividing M sums the same leaves in the same tree.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "model_internal.h"
#include "tessera/comm/communicator.h"
#include "tessera/comm/mpi_communicator.h"
#include "tessera/core/error.h"

namespace tessera {
namespace {

// Micro-batches of a global batch under deterministic reduction: replica counts 1, 2 and 4
// give bit-identical weights. The cost: up to M gradient runs of B/M samples per step
// instead of one of B/W (smaller matmuls), and M/W partial gradients summed per replica.
constexpr int kCanonicalLeaves = 4;
// All-reduce bucket size: big enough that per-message latency is small (the ring reaches
// its bandwidth from about 256 KiB, docs/benchmarks.md), small enough that the first
// buckets leave while the backward pass is still busy. A larger gradient is a bucket alone.
constexpr size_t kBucketFloats = (size_t{256} << 10) / sizeof(float);
// The dropout step of shard (leaf) k at step s is s * kShardStride + k: masks differ across
// shards, and depend on the leaf only, not on which replica runs it.
constexpr int64_t kShardStride = 1024;

// The flat gradient buffer: gradients in reverse variable order (the backward pass yields
// the last layers' first), then the loss; cut into buckets of whole gradients.
struct Layout {
  std::vector<size_t> offset, count;  // per gradient output
  std::vector<int> bucket_of;
  struct Bucket {
    size_t begin = 0, end = 0;
    int parts = 0;  // gradients (and the loss) that must land before it leaves
  };
  std::vector<Bucket> buckets;
  size_t loss_slot = 0;
  size_t total = 0;
};

Layout make_layout(const std::vector<VariablePtr>& vars) {
  Layout l;
  const size_t n = vars.size();
  l.offset.resize(n);
  l.count.resize(n);
  l.bucket_of.resize(n);
  for (size_t k = n; k-- > 0;) {
    size_t c = static_cast<size_t>(vars[k]->value.numel());
    bool full = !l.buckets.empty() && l.buckets.back().parts > 0 &&
                (l.buckets.back().end - l.buckets.back().begin) + c > kBucketFloats;
    if (l.buckets.empty() || full) l.buckets.push_back({l.total, l.total, 0});
    l.offset[k] = l.total;
    l.count[k] = c;
    l.total += c;
    l.bucket_of[k] = static_cast<int>(l.buckets.size()) - 1;
    l.buckets.back().end = l.total;
    ++l.buckets.back().parts;
  }
  if (l.buckets.empty()) l.buckets.push_back({0, 0, 0});
  l.loss_slot = l.total++;
  l.buckets.back().end = l.total;
  ++l.buckets.back().parts;
  return l;
}

// TESSERA_FAULT=exit:RANK:STEP or hang:RANK:STEP makes replica RANK exit (MPI) or stop
// answering when global step STEP begins: the fault tests' way to kill or hang a rank.
struct Fault {
  enum Kind { kNone, kExit, kHang } kind = kNone;
  int rank = -1;
  int64_t step = -1;
};

Fault parse_fault() {
  Fault f;
  const char* env = std::getenv("TESSERA_FAULT");
  if (env == nullptr || *env == '\0') return f;
  std::string s(env);
  size_t a = s.find(':'), b = a == std::string::npos ? a : s.find(':', a + 1);
  std::string kind = s.substr(0, a);
  TS_CHECK(b != std::string::npos && (kind == "exit" || kind == "hang"),
           ErrorKind::kInvalidArgument,
           "TESSERA_FAULT='{}': expected exit:RANK:STEP or hang:RANK:STEP", s);
  f.kind = kind == "exit" ? Fault::kExit : Fault::kHang;
  f.rank = std::atoi(s.substr(a + 1, b - a - 1).c_str());
  f.step = std::atoll(s.substr(b + 1).c_str());
  return f;
}

void maybe_fault(const Fault& f, int rank, int64_t step, bool in_process, double timeout) {
  if (f.kind == Fault::kNone || f.rank != rank || f.step != step) return;
  if (f.kind == Fault::kExit) {
    TS_CHECK(!in_process, ErrorKind::kInvalidArgument,
             "TESSERA_FAULT=exit: a replica thread cannot exit alone; use hang with the "
             "mirrored strategy");
    std::fprintf(stderr, "rank %d: TESSERA_FAULT: exiting at step %lld\n", rank,
                 static_cast<long long>(step));
    std::fflush(stderr);
    std::_Exit(3);
  }
  std::fprintf(stderr, "rank %d: TESSERA_FAULT: hanging at step %lld\n", rank,
               static_cast<long long>(step));
  std::fflush(stderr);
  // A process hangs for good (the others must notice); a thread comes back once the others
  // have given up, so that the process can report and end.
  double seconds = in_process ? timeout + 2.0 : 1e9;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

// One replica's share of a step: its leaves (micro-batches), run one by one and summed over
// the pairwise tree into `flat`; buckets leave for the all-reduce as soon as they are final.
class Replica final : public OutputListener {
 public:
  Replica(int global_rank, CommunicatorPtr comm, const Layout& layout, ReduceOrder order,
          const CompileConfig& config)
      : rank_(global_rank), comm_(std::move(comm)), layout_(layout), order_(order) {
    flat_ = Tensor::zeros(kF32, {static_cast<int64_t>(layout_.total)});
    for (const std::string& m : config.metrics) metrics_.push_back(make_metric(m, config.loss));
  }

  int rank() const { return rank_; }
  Communicator& comm() { return *comm_; }
  const Tensor& flat() const { return flat_; }
  std::vector<std::unique_ptr<Metric>>& metrics() { return metrics_; }
  int64_t seen() const { return seen_; }
  void reset_metrics() {
    for (auto& m : metrics_) m->reset();
    seen_ = 0;
  }
  std::map<int64_t, Program>& programs() { return programs_; }

  struct Leaf {
    int64_t begin, end;  // rows of the global batch
    int64_t index;       // the leaf's place in the global batch (dropout stream)
  };

  // Computes this replica's leaves of the global batch (bx, by, weights: all B rows) and
  // all-reduces the result; on return flat() holds the global sum.
  void step(const std::vector<Leaf>& leaves, const Tensor& bx, const Tensor& by,
            const Tensor& weights, int64_t global_batch, int64_t step_number) {
    label_ = {"all-reduce", step_number};
    const size_t levels = leaves.size() <= 1 ? 0 : static_cast<size_t>(std::log2(leaves.size()));
    while (partials_.size() < levels) partials_.push_back(std::vector<float>(layout_.total));
    pending_.resize(layout_.buckets.size());
    for (size_t b = 0; b < pending_.size(); ++b) pending_[b] = layout_.buckets[b].parts;
    next_bucket_ = 0;
    for (size_t li = 0; li < leaves.size(); ++li) {
      const Leaf& leaf = leaves[li];
      const int64_t n = leaf.end - leaf.begin;
      leaf_ = li;
      last_ = li + 1 == leaves.size();
      scale_ = static_cast<float>(static_cast<double>(n) / static_cast<double>(global_batch));
      if (n == 0) {
        // An empty share (a last batch smaller than the replica count) adds zeros.
        for (size_t k = 0; k < layout_.count.size(); ++k) land(k + 2, nullptr);
        land(0, nullptr);
        continue;
      }
      step_input_.data<int64_t>()[0] = step_number * kShardStride + leaf.index;
      Tensor inputs[] = {rows(bx, leaf.begin, n), rows(by, leaf.begin, n),
                         rows(weights, leaf.begin, n), step_input_};
      Program& p = programs_.at(n);
      const std::vector<Tensor>& out = last_ ? p.run_with_listener(inputs, *this) : p.run(inputs);
      if (!last_)
        for (size_t k = 0; k < out.size(); ++k) output_ready(k, out[k]);
      for (auto& m : metrics_) m->update(out[1], inputs[1], nullptr);
      seen_ += n;
    }
    comm_->wait_all();
  }

  void output_ready(size_t k, const Tensor& value) override {
    if (k == 1) return;  // y_pred: metrics, after the run
    land(k, value.data<float>());
  }

 private:
  // Output k (0: the loss, 2..: gradient k - 2) of the current leaf: scaled, added to the
  // partial sums of the earlier leaves over the tree, and, for the last leaf, written to
  // the flat buffer, whose bucket then may leave.
  void land(size_t k, const float* src) {
    size_t offset, count;
    if (k == 0) {
      offset = layout_.loss_slot;
      count = 1;
    } else {
      offset = layout_.offset[k - 2];
      count = layout_.count[k - 2];
    }
    // The leaf's level in the tree: it merges with the stored partial of every level where
    // its index has a 1 bit (leaves 0, 1 make level 1; (0+1), (2+3) make level 2; ...).
    float* dst = last_ ? flat_.data<float>() + offset : nullptr;
    size_t level = 0;
    while ((leaf_ >> level) & 1) ++level;
    if (!last_) dst = partials_[level].data() + offset;
    for (size_t i = 0; i < count; ++i) {
      float v = src == nullptr ? 0.0f : src[i] * scale_;
      for (size_t l = 0; l < level; ++l) v = partials_[l][offset + i] + v;
      dst[i] = v;
    }
    if (!last_) return;
    int b = k == 0 ? static_cast<int>(layout_.buckets.size()) - 1 : layout_.bucket_of[k - 2];
    --pending_[b];
    // Buckets leave in index order on every rank, whatever order their gradients came in:
    // the ranks' collectives must pair up.
    while (next_bucket_ < pending_.size() && pending_[next_bucket_] == 0) {
      const Layout::Bucket& bucket = layout_.buckets[next_bucket_++];
      comm_->start_all_reduce(flat_.data<float>() + bucket.begin, bucket.end - bucket.begin, order_,
                              label_);
    }
  }

  int rank_;
  CommunicatorPtr comm_;
  const Layout& layout_;
  ReduceOrder order_;
  Tensor flat_;
  std::vector<std::vector<float>> partials_;  // per tree level: the pending left subtree
  std::map<int64_t, Program> programs_;       // the gradient program per share size
  Tensor step_input_ = Tensor::scalar(0, kI64);
  std::vector<std::unique_ptr<Metric>> metrics_;
  int64_t seen_ = 0;
  // The leaf in progress.
  size_t leaf_ = 0;
  bool last_ = false;
  float scale_ = 1.0f;
  std::vector<int> pending_;
  size_t next_bucket_ = 0;
  CollectiveLabel label_;
};

// Replicas 1..W-1 of the mirrored strategy: one thread each, woken per step.
class ReplicaThreads {
 public:
  using Work = std::function<void(int replica)>;
  explicit ReplicaThreads(int count) {
    for (int r = 1; r < count; ++r) threads_.emplace_back([this, r] { loop(r); });
    errors_.resize(static_cast<size_t>(count));
  }
  ~ReplicaThreads() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  // Runs work(r) for every replica (0 on this thread) and rethrows the first error.
  void run(const Work& work) {
    {
      std::lock_guard lock(mu_);
      work_ = &work;
      running_ = static_cast<int>(threads_.size());
      ++generation_;
    }
    cv_.notify_all();
    call(work, 0);
    std::unique_lock lock(mu_);
    done_.wait(lock, [&] { return running_ == 0; });
    for (std::exception_ptr& e : errors_) {
      if (e) {
        std::exception_ptr first = e;
        for (std::exception_ptr& x : errors_) x = nullptr;
        std::rethrow_exception(first);
      }
    }
  }

 private:
  void call(const Work& work, int r) {
    try {
      work(r);
    } catch (...) {
      errors_[r] = std::current_exception();
    }
  }

  void loop(int r) {
    int64_t seen = 0;
    for (;;) {
      const Work* work;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        work = work_;
      }
      call(*work, r);
      {
        std::lock_guard lock(mu_);
        --running_;
      }
      done_.notify_all();
    }
  }

  std::vector<std::thread> threads_;
  std::vector<std::exception_ptr> errors_;
  std::mutex mu_;
  std::condition_variable cv_, done_;
  const Work* work_ = nullptr;
  int64_t generation_ = 0;
  int running_ = 0;
  bool stop_ = false;
};

// Every variable of the model and its optimizer: what rank 0 broadcasts at the start.
std::vector<VariablePtr> all_variables(Model& model) {
  std::vector<VariablePtr> vars = model.net().variables();
  for (const VariablePtr& v : model.optimizer()->variables()) vars.push_back(v);
  return vars;
}

}  // namespace

History Model::fit_replicated(const Dataset& train, const std::optional<Dataset>& val,
                              const FitOptions& options, std::vector<CallbackPtr>& callbacks) {
  Compiled& c = *compiled_;
  const bool mirrored = config_.strategy == "mirrored";
  const bool deterministic = config_.deterministic;
  const ReduceOrder order = deterministic ? ReduceOrder::kCanonical : ReduceOrder::kFast;

  // The replicas of this process and their communicators.
  std::vector<CommunicatorPtr> comms;
  if (config_.strategy == "mpi") {
    comms.push_back(mpi_world(config_.timeout_seconds));
  } else {
    int n = mirrored ? (config_.replicas > 0 ? config_.replicas : 2) : 1;
    comms = make_in_process_group(n, config_.timeout_seconds);
  }
  const int world = comms[0]->size();
  const int first_rank = mirrored ? 0 : comms[0]->rank();
  const bool leader = first_rank == 0;  // prints, logs, checkpoints
  TS_CHECK(!deterministic || kCanonicalLeaves % world == 0, ErrorKind::kInvalidArgument,
           "deterministic reduction splits each batch into {} micro-batches, so the replica "
           "count must divide {} (1, 2 or 4); got {} replicas",
           kCanonicalLeaves, kCanonicalLeaves, world);
  const Fault fault = parse_fault();

  const Layout layout = make_layout(c.grad_variables);
  std::vector<std::unique_ptr<Replica>> replicas;
  for (size_t l = 0; l < comms.size(); ++l)
    replicas.push_back(std::make_unique<Replica>(first_rank + static_cast<int>(l), comms[l], layout,
                                                 order, config_));
  ReplicaThreads threads(static_cast<int>(replicas.size()));
  Program& apply = c.program(c.apply_programs, c.apply_graph, 1);  // no batch dimension
  std::vector<Tensor> apply_inputs;
  for (size_t k = 0; k < c.grad_variables.size(); ++k) {
    Shape s = c.grad_variables[k]->value.shape();
    apply_inputs.emplace_back(replicas[0]->flat().buffer(), layout.offset[k] * sizeof(float), s,
                              contiguous_strides(s), kF32);
  }

  // Every rank starts from rank 0's weights and optimizer state.
  if (!mirrored && world > 1) {
    for (const VariablePtr& v : all_variables(*this)) {
      TS_ASSERT(v->value.is_contiguous());
      comms[0]->broadcast(v->value.raw_data(), v->value.nbytes(), 0, {"weight broadcast"});
    }
  }
  // Only the leader runs callbacks; the others follow its stop_training.
  std::vector<CallbackPtr> no_callbacks;
  std::vector<CallbackPtr>& cbs = leader ? callbacks : no_callbacks;
  auto sync_stop = [&](int64_t at_step) {
    if (mirrored || world == 1) return;
    int32_t flag = stop_training ? 1 : 0;
    comms[0]->broadcast(&flag, sizeof flag, 0, {"stop broadcast", at_step});
    stop_training = flag != 0;
  };

  History history;
  Logs epoch_logs, batch_logs;
  double* batch_loss = &batch_logs["loss"];
  std::vector<double*> batch_metric;
  for (auto& m : metrics_) batch_metric.push_back(&batch_logs[m->name()]);
  Tensor class_weights;
  const int64_t accumulation = optimizer_->accumulation_steps();
  std::vector<std::vector<Replica::Leaf>> shares(replicas.size());

  stop_training = false;
  try {
    for (const CallbackPtr& cb : cbs) cb->on_train_begin(*this, {});
    for (int epoch = options.initial_epoch; epoch < options.epochs && !stop_training; ++epoch) {
      for (const CallbackPtr& cb : cbs) cb->on_epoch_begin(*this, epoch, {});
      for (auto& r : replicas) r->reset_metrics();
      double loss_sum = 0;
      int64_t seen = 0;
      // Every rank draws the same order (same seed) and takes its share of each batch.
      BatchIterator it(train, options.batch_size, options.shuffle, options.seed, epoch);
      for (int64_t skip = batches_to_skip(epoch, options); skip > 0 && it.next();) --skip;
      while (it.next()) {
        const Tensor& bx = it.x();
        const Tensor& by = it.y();
        const int64_t b = bx.shape()[0];
        Tensor weights;
        if (options.class_weight.empty()) {
          auto [w, fresh] = c.ones.try_emplace(b);
          if (fresh) w->second = Tensor::full(kF32, {b}, 1.0);
          weights = w->second;
        } else {
          if (!class_weights.defined() || class_weights.shape()[0] != b)
            class_weights = Tensor::zeros(kF32, {b});
          fill_class_weights(by, options.class_weight, class_weights);
          weights = class_weights;
        }
        // Shares: whole micro-batches (deterministic) or one contiguous slice per replica.
        for (size_t l = 0; l < replicas.size(); ++l) {
          const int g = replicas[l]->rank();
          shares[l].clear();
          if (deterministic) {
            const int per = kCanonicalLeaves / world;
            for (int j = g * per; j < (g + 1) * per; ++j)
              shares[l].push_back({j * b / kCanonicalLeaves, (j + 1) * b / kCanonicalLeaves, j});
          } else {
            shares[l].push_back({g * b / world, (g + 1) * b / world, g});
          }
          // Programs are compiled here, on one thread, before the replicas run.
          for (const Replica::Leaf& leaf : shares[l]) {
            int64_t n = leaf.end - leaf.begin;
            if (n > 0) c.program(replicas[l]->programs(), c.grad_graph, n);
          }
        }
        optimizer_->set_step(step_ / accumulation);
        const int64_t step_number = step_;
        threads.run([&](int l) {
          Replica& r = *replicas[l];
          try {
            maybe_fault(fault, r.rank(), step_number, mirrored, config_.timeout_seconds);
            r.step(shares[l], bx, by, weights, b, step_number);
          } catch (const std::exception& e) {
            // The other replicas must not wait for this one until their deadline (the group
            // keeps the first message: a timeout's stays).
            if (mirrored) {
              try {
                r.comm().abort(e.what());
              } catch (...) {
              }
            }
            throw;
          }
        });
        const float* reduced = replicas[0]->flat().data<float>();
        const double loss = reduced[layout.loss_slot];
        TS_CHECK(std::isfinite(loss), ErrorKind::kInvalidArgument,
                 "fit: the loss became {} at epoch {} batch {} (step {}): training diverged; "
                 "lower the learning rate or check the data. The weights hold the previous "
                 "step's values",
                 loss, epoch + 1, it.batch_index() + 1, step_);
        apply.run(apply_inputs);
        ++step_;
        loss_sum += loss * static_cast<double>(b);
        seen += b;
        *batch_loss = loss_sum / static_cast<double>(seen);
        // Running metrics: this process's replicas (exact over all ranks at the epoch end).
        for (size_t i = 0; i < metrics_.size(); ++i) {
          double sum = 0;
          int64_t count = 0;
          for (auto& r : replicas) {
            sum += r->metrics()[i]->result() * static_cast<double>(r->seen());
            count += r->seen();
          }
          *batch_metric[i] = count > 0 ? sum / static_cast<double>(count) : 0.0;
        }
        position_ = {it.batch_index() + 1, options.batch_size};
        for (const CallbackPtr& cb : cbs) cb->on_batch_end(*this, it.batch_index(), batch_logs);
        sync_stop(step_number);
        if (stop_training) break;
      }

      // The epoch's metrics over every rank, weighted by the samples each one saw.
      if (!mirrored && world > 1 && !metrics_.empty()) {
        std::vector<float> sums;
        for (size_t i = 0; i < metrics_.size(); ++i) {
          sums.push_back(
              static_cast<float>(*batch_metric[i] * static_cast<double>(replicas[0]->seen())));
          sums.push_back(static_cast<float>(replicas[0]->seen()));
        }
        comms[0]->all_reduce_sum(sums.data(), sums.size(), ReduceOrder::kFast,
                                 {"metrics all-reduce", step_});
        for (size_t i = 0; i < metrics_.size(); ++i)
          *batch_metric[i] = sums[2 * i + 1] > 0 ? sums[2 * i] / sums[2 * i + 1] : 0.0;
      }
      epoch_logs = batch_logs;
      if (val && leader) {
        Logs v = evaluate_dataset(*val, options.batch_size);
        for (const auto& [name, value] : v) epoch_logs["val_" + name] = value;
      }
      epoch_ = epoch + 1;
      position_ = {0, options.batch_size};
      for (const auto& [name, value] : epoch_logs) history.history[name].push_back(value);
      history.epochs.push_back(epoch);
      for (const CallbackPtr& cb : cbs) cb->on_epoch_end(*this, epoch, epoch_logs);
      sync_stop(step_);
    }
    for (const CallbackPtr& cb : cbs) cb->on_train_end(*this, epoch_logs);
  } catch (...) {
    for (const CallbackPtr& cb : cbs) cb->on_train_abort(*this);
    throw;
  }
  return history;
}

}  // namespace tessera
