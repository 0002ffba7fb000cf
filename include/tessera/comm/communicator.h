// The communication layer of data-parallel training: a group of `size()` ranks that sum f32
// buffers (all-reduce), copy bytes from one rank to all (broadcast) and wait for each other
// (barrier). Every collective has a deadline: a rank that does not answer within
// timeout_seconds() ends the collective with an error that names it, so a dead or hung
// rank stops the others instead of hanging them.
//
// Implementations: an in-process group (replicas as threads: the mirrored strategy), MPI
// (one rank per process: the mpi strategy; mpi_communicator.h) and NCCL (device buffers in
// CUDA builds; nccl_communicator.h).
//
//   std::vector<CommunicatorPtr> group = make_in_process_group(2, /*timeout_seconds=*/60);
//   // on the thread of replica r:
//   group[r]->start_all_reduce(grads.data(), grads.size(), ReduceOrder::kFast,
//                              {"all-reduce", step});   // returns at once
//   ...                                                   // more backward work
//   group[r]->wait_all();                                  // grads now hold the sum
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

// How an all-reduce adds the ranks' contributions.
enum class ReduceOrder {
  // Whatever is fastest (a ring: each chunk is summed starting at a different rank).
  kFast,
  // A fixed pairwise tree over the ranks, ((r0 + r1) + (r2 + r3)), the same for every
  // chunk: the result does not depend on how the buffer was split, only on the values.
  kCanonical,
};

// What a collective is for, for error messages: "all-reduce" of step 17.
struct CollectiveLabel {
  const char* what = "collective";
  int64_t step = -1;  // < 0: not part of a training step
};

// "all-reduce of step 17" (or just "all-reduce").
std::string describe(const CollectiveLabel& label);

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // "in-process", "mpi", "nccl": for messages and reports.
  virtual std::string_view kind() const = 0;

  // Starts summing data[0, count) over the ranks in place and returns; wait_all() finishes
  // it. Every rank starts the same all-reduces (same counts) in the same order; the buffer
  // is not touched by the caller until wait_all() returns. For NCCL, `data` is device memory.
  virtual void start_all_reduce(float* data, size_t count, ReduceOrder order,
                                CollectiveLabel label) = 0;
  // Waits for every all-reduce started so far. Throws Error (or, for MPI, ends the job with
  // MPI_Abort) when a rank does not answer within the timeout.
  virtual void wait_all() = 0;
  void all_reduce_sum(float* data, size_t count, ReduceOrder order, CollectiveLabel label) {
    start_all_reduce(data, count, order, label);
    wait_all();
  }
  // Copies `bytes` bytes at `data` on rank `root` to `data` on every rank (host memory).
  virtual void broadcast(void* data, size_t bytes, int root, CollectiveLabel label) = 0;
  virtual void barrier(CollectiveLabel label) = 0;
  // Stops the whole group with `message` (printed once, naming this rank): the other ranks'
  // collectives fail at once rather than at their deadline. MPI ends the job (MPI_Abort);
  // the in-process group throws Error in every replica.
  [[noreturn]] virtual void abort(const std::string& message) = 0;

  double timeout_seconds() const { return timeout_seconds_; }
  void set_timeout_seconds(double seconds);

 protected:
  double timeout_seconds_ = 60.0;
};
using CommunicatorPtr = std::shared_ptr<Communicator>;

// N communicators sharing memory, one per replica thread (rank r = element r). Collectives
// rendezvous on a condition variable; the sum is computed by all replicas together, each
// summing its own slice of the buffer in rank order (or the canonical tree).
std::vector<CommunicatorPtr> make_in_process_group(int size, double timeout_seconds = 60.0);

// Sums elements [begin, end) of `n` buffers over the canonical pairwise tree of
// ReduceOrder::kCanonical, ((b0 + b1) + (b2 + b3)) for n = 4 (in general level by level:
// adjacent pairs added, an odd last one carried up), into out[i - begin].
void canonical_tree_sum(const float* const* buffers, int n, float* out, size_t begin, size_t end);

}  // namespace tessera
