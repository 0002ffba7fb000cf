#include "tessera/core/thread_pool.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <memory>

#include "tessera/core/error.h"

namespace tessera {
namespace {
thread_local bool t_inside_pool = false;
}  // namespace

ThreadPool::ThreadPool(int num_threads) : num_threads_(std::max(1, num_threads)) {
  for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::work_on_current_job() {
  for (;;) {
    int64_t c = next_chunk_.fetch_add(1, std::memory_order_relaxed);
    if (c >= num_chunks_) return;
    int64_t begin = c * chunk_, end = std::min(n_, begin + chunk_);
    try {
      thunk_(ctx_, begin, end);
    } catch (...) {
      // Remember the first error; the caller rethrows it once every chunk has finished.
      std::lock_guard<std::mutex> lock(error_mu_);
      if (!first_error_) first_error_ = std::current_exception();
    }
    chunks_done_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::worker_loop() {
  t_inside_pool = true;
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      busy_workers_.fetch_add(1);
    }
    work_on_current_job();
    {
      std::lock_guard<std::mutex> lock(mu_);
      busy_workers_.fetch_sub(1);
    }
    done_.notify_all();
  }
}

void ThreadPool::run(int64_t n, int64_t grain, Thunk thunk, void* ctx) {
  grain = std::max<int64_t>(grain, 1);
  if (num_threads_ == 1 || n <= grain || t_inside_pool) {
    thunk(ctx, 0, n);
    return;
  }
  std::lock_guard<std::mutex> run_lock(run_mu_);
  int64_t max_chunks = (n + grain - 1) / grain;
  int64_t num_chunks = std::min<int64_t>(max_chunks, num_threads_ * 4);
  {
    std::unique_lock<std::mutex> lock(mu_);
    // A worker that woke late for the previous job may still be looking at its fields (it
    // finds no chunks left); rewriting them under its feet would be a data race, and on a
    // weakly ordered CPU it could run the old thunk on a new chunk.
    done_.wait(lock, [&] { return busy_workers_.load() == 0; });
    thunk_ = thunk;
    ctx_ = ctx;
    n_ = n;
    chunk_ = (n + num_chunks - 1) / num_chunks;
    num_chunks_ = (n + chunk_ - 1) / chunk_;
    next_chunk_.store(0);
    chunks_done_.store(0);
    first_error_ = nullptr;
    ++generation_;
  }
  wake_.notify_all();
  t_inside_pool = true;
  work_on_current_job();
  t_inside_pool = false;
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [&] { return chunks_done_.load() == num_chunks_ && busy_workers_.load() == 0; });
  if (first_error_) std::rethrow_exception(first_error_);
}

namespace {
int default_size() {
  if (const char* env = std::getenv("TESSERA_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}
std::unique_ptr<ThreadPool>& pool_slot() {
  static std::unique_ptr<ThreadPool> pool = std::make_unique<ThreadPool>(default_size());
  return pool;
}
}  // namespace

ThreadPool& default_thread_pool() { return *pool_slot(); }

void set_num_threads(int num_threads) {
  TS_CHECK(num_threads >= 1, ErrorKind::kInvalidArgument,
           "thread count must be at least 1, got {}", num_threads);
  auto& slot = pool_slot();
  if (slot->num_threads() != num_threads) slot = std::make_unique<ThreadPool>(num_threads);
}

int num_threads() { return default_thread_pool().num_threads(); }

}  // namespace tessera
