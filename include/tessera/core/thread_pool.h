// A fixed-size thread pool for data-parallel loops, sized to the machine.
//
// parallel_for splits [0, n) into chunks of at least `grain` iterations; the calling thread
// works too, and the call returns when every chunk is done. It allocates nothing per call.
// Chunk boundaries depend only on n, grain and the thread count: kernels that must give
// the same result on any thread count (reductions) split their work into fixed blocks
// themselves and combine the partial results in order.
//
//   ThreadPool& pool = default_thread_pool();
//   pool.parallel_for(n, 4096, [&](int64_t begin, int64_t end) {
//     for (int64_t i = begin; i < end; ++i) y[i] = x[i] * 2;
//   });
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace tessera {

class ThreadPool {
 public:
  explicit ThreadPool(int num_threads);  // total threads, the caller included (>= 1)
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  template <typename F>
  void parallel_for(int64_t n, int64_t grain, F&& body) {
    if (n <= 0) return;
    using Fn = std::remove_reference_t<F>;
    run(n, grain, [](void* ctx, int64_t b, int64_t e) { (*static_cast<Fn*>(ctx))(b, e); },
        const_cast<void*>(static_cast<const void*>(&body)));
  }

 private:
  using Thunk = void (*)(void* ctx, int64_t begin, int64_t end);
  void run(int64_t n, int64_t grain, Thunk thunk, void* ctx);
  void worker_loop();
  bool run_one_chunk(uint64_t generation);

  int num_threads_;
  std::vector<std::thread> workers_;
  // The job in flight is published through `ticket_`: generation (high 32 bits), chunk count
  // (16 bits) and next unclaimed chunk (low 16 bits). A thread that claims a chunk with a CAS
  // knows the job is unfinished, so the fields below are stable while it reads them.
  std::atomic<uint64_t> ticket_{0};
  std::atomic<int64_t> chunks_done_{0};
  Thunk thunk_ = nullptr;
  void* ctx_ = nullptr;
  int64_t n_ = 0;
  int64_t chunk_ = 0;
  // Idle workers spin briefly (a kernel usually follows soon), then sleep here.
  std::atomic<bool> stop_{false};
  std::atomic<int> sleepers_{0};
  std::mutex mu_;
  std::condition_variable wake_;
  std::mutex run_mu_;  // serializes callers from different threads
  std::mutex error_mu_;
  std::exception_ptr first_error_;
};

// The process-wide pool. Its size is TESSERA_NUM_THREADS if set, else the core count;
// set_num_threads() replaces it (not while a parallel_for is running).
ThreadPool& default_thread_pool();
void set_num_threads(int num_threads);
int num_threads();

}  // namespace tessera
