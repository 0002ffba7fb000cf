// The in-process group: replicas as threads sharing memory (the mirrored strategy).
//
// A collective is a rendezvous: every replica posts its buffer, then each replica sums its
// own slice of the buffer over all replicas and writes the sum into every replica's buffer,
// then all meet again before anyone returns (the buffers are read by the others until
// then). All-reduces are queued by start_all_reduce and run in wait_all(): on threads that
// share the cores, overlapping the reduction with the backward pass buys nothing.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>

#include "tessera/comm/communicator.h"
#include "tessera/core/error.h"

namespace tessera {
namespace {

using Clock = std::chrono::steady_clock;

// What the replicas share.
struct Group {
  explicit Group(int n) : size(n), posted(n, nullptr), arrivals(n, 0) {}
  const int size;
  std::mutex mu;
  std::condition_variable cv;
  int64_t generation = 0;         // completed rendezvous
  int arrived = 0;                // in the current one
  std::vector<void*> posted;      // each replica's buffer in the current collective
  std::vector<int64_t> arrivals;  // rendezvous each replica has entered
  bool aborted = false;
  std::string abort_message;
};

class InProcessCommunicator final : public Communicator {
 public:
  InProcessCommunicator(std::shared_ptr<Group> group, int rank, double timeout)
      : group_(std::move(group)), rank_(rank) {
    set_timeout_seconds(timeout);
  }

  int rank() const override { return rank_; }
  int size() const override { return group_->size; }
  std::string_view kind() const override { return "in-process"; }

  void start_all_reduce(float* data, size_t count, ReduceOrder order,
                        CollectiveLabel label) override {
    pending_.push_back({data, count, order, label});
  }

  void wait_all() override {
    // The queue is emptied even when a collective fails, so a caught error does not leave
    // stale buffers behind. All queued all-reduces meet in one rendezvous: every replica
    // queued the same ones.
    std::vector<Pending> work;
    work.swap(pending_);
    if (!work.empty()) reduce(work);
  }

  void broadcast(void* data, size_t bytes, int root, CollectiveLabel label) override {
    TS_CHECK(root >= 0 && root < size(), ErrorKind::kInvalidArgument,
             "broadcast: root {} is not a rank of a group of {}", root, size());
    rendezvous(data, label);
    if (rank_ != root) std::memcpy(data, group_->posted[root], bytes);
    rendezvous(nullptr, label);
  }

  void barrier(CollectiveLabel label) override { rendezvous(nullptr, label); }

  [[noreturn]] void abort(const std::string& message) override {
    {
      std::lock_guard lock(group_->mu);
      if (!group_->aborted) {
        group_->aborted = true;
        group_->abort_message = message;
      }
    }
    group_->cv.notify_all();
    throw_error(ErrorKind::kInternal, message);
  }

 private:
  struct Pending {
    float* data;
    size_t count;
    ReduceOrder order;
    CollectiveLabel label;
  };

  void reduce(std::vector<Pending>& work) {
    const CollectiveLabel& label = work.front().label;
    rendezvous(&work, label);
    const int n = size();
    auto theirs = [&](int r, size_t op) {
      return (*static_cast<std::vector<Pending>*>(group_->posted[r]))[op].data;
    };
    for (int r = 0; r < n; ++r)
      TS_CHECK(static_cast<std::vector<Pending>*>(group_->posted[r])->size() == work.size(),
               ErrorKind::kInternal, "replica {} queued {} all-reduces, replica {} {}", r,
               static_cast<std::vector<Pending>*>(group_->posted[r])->size(), rank_, work.size());
    // Each replica sums its slice of every buffer into scratch (the inputs are the replicas'
    // buffers), then all meet before anyone overwrites a slice.
    scratch_.resize(work.size());
    std::vector<const float*> in(static_cast<size_t>(n));
    for (size_t op = 0; op < work.size(); ++op) {
      const Pending& p = work[op];
      size_t begin = p.count * static_cast<size_t>(rank_) / static_cast<size_t>(n);
      size_t end = p.count * static_cast<size_t>(rank_ + 1) / static_cast<size_t>(n);
      for (int r = 0; r < n; ++r) in[r] = theirs(r, op);
      std::vector<float>& sum = scratch_[op];
      sum.resize(end - begin);
      if (p.order == ReduceOrder::kCanonical) {
        canonical_tree_sum(in.data(), n, sum.data(), begin, end);
      } else {
        for (size_t i = begin; i < end; ++i) {
          float s = in[0][i];
          for (int r = 1; r < n; ++r) s += in[r][i];
          sum[i - begin] = s;
        }
      }
    }
    rendezvous(&work, label);
    for (size_t op = 0; op < work.size(); ++op) {
      const Pending& p = work[op];
      size_t begin = p.count * static_cast<size_t>(rank_) / static_cast<size_t>(n);
      for (int r = 0; r < n; ++r)
        std::memcpy(theirs(r, op) + begin, scratch_[op].data(),
                    scratch_[op].size() * sizeof(float));
    }
    rendezvous(nullptr, label);
  }

  // All replicas meet; `data` is published in posted[rank] for the collective's duration.
  void rendezvous(void* data, const CollectiveLabel& label) {
    Group& g = *group_;
    std::unique_lock lock(g.mu);
    if (g.aborted) throw_error(ErrorKind::kInternal, g.abort_message);
    if (data != nullptr) g.posted[rank_] = data;
    ++g.arrivals[rank_];
    const int64_t gen = g.generation;
    if (++g.arrived == g.size) {
      g.arrived = 0;
      ++g.generation;
      g.cv.notify_all();
      return;
    }
    auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(timeout_seconds_));
    bool done = g.cv.wait_until(lock, deadline, [&] { return g.generation != gen || g.aborted; });
    if (g.aborted && g.generation == gen) throw_error(ErrorKind::kInternal, g.abort_message);
    if (done) return;
    // Those that have not entered this rendezvous are the ones to name.
    std::string missing;
    for (int r = 0; r < g.size; ++r)
      if (g.arrivals[r] < g.arrivals[rank_])
        missing += fmt::format("{}{}", missing.empty() ? "" : ", ", r);
    std::string message = fmt::format(
        "replica {} did not answer within {:g} s during {} (mirrored strategy)",
        missing.empty() ? std::string("?") : missing, timeout_seconds_, describe(label));
    g.aborted = true;
    g.abort_message = message;
    g.cv.notify_all();
    throw_error(ErrorKind::kInternal, message);
  }

  std::shared_ptr<Group> group_;
  int rank_;
  std::vector<Pending> pending_;
  std::vector<std::vector<float>> scratch_;  // this replica's slice of each sum
};

}  // namespace

std::string describe(const CollectiveLabel& label) {
  if (label.step < 0) return label.what;
  return fmt::format("{} of step {}", label.what, label.step);
}

void Communicator::set_timeout_seconds(double seconds) {
  TS_CHECK(seconds > 0, ErrorKind::kInvalidArgument,
           "communicator: the timeout must be > 0 seconds, got {}", seconds);
  timeout_seconds_ = seconds;
}

void canonical_tree_sum(const float* const* buffers, int n, float* out, size_t begin, size_t end) {
  TS_CHECK(n >= 1, ErrorKind::kInvalidArgument, "canonical_tree_sum: no buffers");
  constexpr int kStack = 64;
  float stack_values[kStack];
  std::vector<float> heap_values(n > kStack ? static_cast<size_t>(n) : 0);
  float* v = n > kStack ? heap_values.data() : stack_values;
  for (size_t i = begin; i < end; ++i) {
    for (int r = 0; r < n; ++r) v[r] = buffers[r][i];
    // Level by level: adjacent pairs are added, an odd last one moves up unchanged. For a
    // power of two this is the balanced tree; in general the split at the largest power of
    // two, so a tree over ranks of trees over each rank's leaves is the tree over all leaves.
    for (int m = n; m > 1; m = (m + 1) / 2) {
      for (int k = 0; k + 1 < m; k += 2) v[k / 2] = v[k] + v[k + 1];
      if (m % 2 == 1) v[m / 2] = v[m - 1];
    }
    out[i - begin] = v[0];
  }
}

std::vector<CommunicatorPtr> make_in_process_group(int size, double timeout_seconds) {
  TS_CHECK(size >= 1, ErrorKind::kInvalidArgument,
           "make_in_process_group: the group needs at least 1 replica, got {}", size);
  auto group = std::make_shared<Group>(size);
  std::vector<CommunicatorPtr> out;
  for (int r = 0; r < size; ++r)
    out.push_back(std::make_shared<InProcessCommunicator>(group, r, timeout_seconds));
  return out;
}

}  // namespace tessera
