#include "tessera/core/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <memory>

#include "tessera/core/error.h"

namespace tessera {
namespace {
thread_local bool t_inside_pool = false;

constexpr int kChunkBits = 16;
constexpr uint64_t kChunkMask = (uint64_t{1} << kChunkBits) - 1;
constexpr int64_t kMaxChunks = static_cast<int64_t>(kChunkMask);
// How long an idle thread spins before sleeping: long enough to bridge the gap between two
// kernels of a step, short enough not to matter when the process goes quiet.
constexpr auto kSpinTime = std::chrono::microseconds(50);

uint64_t generation_of(uint64_t ticket) { return ticket >> (2 * kChunkBits); }
int64_t chunks_of(uint64_t ticket) { return static_cast<int64_t>((ticket >> kChunkBits) & kChunkMask); }
int64_t next_of(uint64_t ticket) { return static_cast<int64_t>(ticket & kChunkMask); }

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spins until `done()` or the spin time runs out; returns done().
template <typename Done>
bool spin_until(Done done) {
  auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (int i = 0;; ++i) {
    if (done()) return true;
    cpu_relax();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > deadline) return done();
  }
}
}  // namespace

ThreadPool::ThreadPool(int num_threads) : num_threads_(std::clamp(num_threads, 1, 4096)) {
  for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

bool ThreadPool::run_one_chunk(uint64_t generation) {
  uint64_t t = ticket_.load(std::memory_order_acquire);
  do {
    if (generation_of(t) != generation || next_of(t) >= chunks_of(t)) return false;
  } while (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel,
                                          std::memory_order_acquire));
  int64_t begin = next_of(t) * chunk_, end = std::min(n_, begin + chunk_);
  try {
    thunk_(ctx_, begin, end);
  } catch (...) {
    // Remember the first error; the caller rethrows it once every chunk has finished.
    std::lock_guard<std::mutex> lock(error_mu_);
    if (!first_error_) first_error_ = std::current_exception();
  }
  chunks_done_.fetch_add(1, std::memory_order_release);
  return true;
}

void ThreadPool::worker_loop() {
  t_inside_pool = true;
  uint64_t seen = generation_of(ticket_.load());
  for (;;) {
    auto fresh = [&] { return stop_.load() || generation_of(ticket_.load()) != seen; };
    if (!spin_until(fresh)) {
      std::unique_lock<std::mutex> lock(mu_);
      sleepers_.fetch_add(1);
      wake_.wait(lock, fresh);
      sleepers_.fetch_sub(1);
    }
    if (stop_.load()) return;
    seen = generation_of(ticket_.load());
    while (run_one_chunk(seen)) {
    }
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
  int64_t wanted = std::min<int64_t>({max_chunks, int64_t{num_threads_} * 4, kMaxChunks});
  int64_t chunk = (n + wanted - 1) / wanted;
  int64_t num_chunks = (n + chunk - 1) / chunk;
  // The previous job is finished and none of its chunks can be claimed any more, so no
  // thread reads these fields until the new ticket is published below.
  thunk_ = thunk;
  ctx_ = ctx;
  n_ = n;
  chunk_ = chunk;
  first_error_ = nullptr;
  chunks_done_.store(0, std::memory_order_relaxed);
  uint64_t generation = (generation_of(ticket_.load()) + 1) & 0xFFFFFFFFu;
  ticket_.store((generation << (2 * kChunkBits)) | (static_cast<uint64_t>(num_chunks) << kChunkBits));
  if (sleepers_.load() > 0) {
    // Taking the lock orders this wake-up after any sleeper's check of the ticket.
    { std::lock_guard<std::mutex> lock(mu_); }
    wake_.notify_all();
  }
  t_inside_pool = true;
  while (run_one_chunk(generation)) {
  }
  t_inside_pool = false;
  auto all_done = [&] { return chunks_done_.load(std::memory_order_acquire) == num_chunks; };
  while (!spin_until(all_done)) std::this_thread::yield();
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
