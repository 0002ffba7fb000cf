// NCCL communicators (nccl_communicator.h). Compiled into every build; without NCCL
// (TESSERA_HAVE_NCCL undefined) the factories say so.
#include "tessera/comm/nccl_communicator.h"

#include "tessera/core/error.h"

#if TESSERA_HAVE_NCCL
#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <cstring>
#include <thread>
#endif

namespace tessera {

#if !TESSERA_HAVE_NCCL

bool nccl_available() { return false; }
int nccl_device_count() { return 0; }

CommunicatorPtr make_nccl_communicator(Communicator&, int, double) {
  throw_error(ErrorKind::kUnsupported,
              "this build of tessera has no NCCL (a CUDA build with NCCL under /usr/local/cuda "
              "enables it)");
}

std::vector<CommunicatorPtr> make_nccl_group(const std::vector<int>&, double) {
  throw_error(ErrorKind::kUnsupported, "this build of tessera has no NCCL");
}

#else

namespace {

using Clock = std::chrono::steady_clock;

void check_cuda(cudaError_t rc, const char* call) {
  if (rc != cudaSuccess)
    throw_error(ErrorKind::kInternal, fmt::format("{} failed: {}", call, cudaGetErrorString(rc)));
}

void check_nccl(ncclResult_t rc, const char* call) {
  if (rc != ncclSuccess)
    throw_error(ErrorKind::kInternal, fmt::format("{} failed: {}", call, ncclGetErrorString(rc)));
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(ncclComm_t comm, int device, int rank, int size, double timeout)
      : comm_(comm), device_(device), rank_(rank), size_(size) {
    set_timeout_seconds(timeout);
    check_cuda(cudaSetDevice(device_), "cudaSetDevice");
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  }

  ~NcclCommunicator() override {
    cudaSetDevice(device_);
    if (scratch_ != nullptr) cudaFree(scratch_);
    cudaStreamDestroy(stream_);
    if (!aborted_) ncclCommDestroy(comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string_view kind() const override { return "nccl"; }

  void start_all_reduce(float* data, size_t count, ReduceOrder order,
                        CollectiveLabel label) override {
    check_cuda(cudaSetDevice(device_), "cudaSetDevice");
    label_ = label;
    if (order == ReduceOrder::kCanonical) {
      canonical_all_reduce(data, count);
      return;
    }
    check_nccl(ncclAllReduce(data, data, count, ncclFloat, ncclSum, comm_, stream_),
               "ncclAllReduce");
  }

  void wait_all() override { synchronize(); }

  void broadcast(void* data, size_t bytes, int root, CollectiveLabel label) override {
    check_cuda(cudaSetDevice(device_), "cudaSetDevice");
    label_ = label;
    char* device_buffer = static_cast<char*>(scratch(bytes));
    check_cuda(cudaMemcpyAsync(device_buffer, data, bytes, cudaMemcpyHostToDevice, stream_),
               "cudaMemcpyAsync");
    check_nccl(ncclBroadcast(device_buffer, device_buffer, bytes, ncclChar, root, comm_, stream_),
               "ncclBroadcast");
    check_cuda(cudaMemcpyAsync(data, device_buffer, bytes, cudaMemcpyDeviceToHost, stream_),
               "cudaMemcpyAsync");
    synchronize();
  }

  void barrier(CollectiveLabel label) override {
    check_cuda(cudaSetDevice(device_), "cudaSetDevice");
    label_ = label;
    float* one = static_cast<float*>(scratch(sizeof(float)));
    check_nccl(ncclAllReduce(one, one, 1, ncclFloat, ncclSum, comm_, stream_), "ncclAllReduce");
    synchronize();
  }

  [[noreturn]] void abort(const std::string& message) override {
    if (!aborted_) ncclCommAbort(comm_);
    aborted_ = true;
    throw_error(ErrorKind::kInternal, message);
  }

 private:
  void* scratch(size_t bytes) {
    if (bytes > scratch_bytes_) {
      if (scratch_ != nullptr) check_cuda(cudaFree(scratch_), "cudaFree");
      check_cuda(cudaMalloc(&scratch_, bytes), "cudaMalloc");
      scratch_bytes_ = bytes;
    }
    return scratch_;
  }

  // Every rank's buffer gathered, summed over the canonical tree on the host.
  void canonical_all_reduce(float* data, size_t count) {
    size_t bytes = count * sizeof(float);
    float* gathered = static_cast<float*>(scratch(bytes * static_cast<size_t>(size_)));
    check_nccl(ncclAllGather(data, gathered, count, ncclFloat, comm_, stream_), "ncclAllGather");
    host_.resize(count * static_cast<size_t>(size_));
    check_cuda(cudaMemcpyAsync(host_.data(), gathered, bytes * static_cast<size_t>(size_),
                               cudaMemcpyDeviceToHost, stream_),
               "cudaMemcpyAsync");
    synchronize();
    std::vector<const float*> parts(static_cast<size_t>(size_));
    for (int r = 0; r < size_; ++r) parts[r] = host_.data() + count * static_cast<size_t>(r);
    sum_.resize(count);
    canonical_tree_sum(parts.data(), size_, sum_.data(), 0, count);
    check_cuda(cudaMemcpyAsync(data, sum_.data(), bytes, cudaMemcpyHostToDevice, stream_),
               "cudaMemcpyAsync");
  }

  // Polls the stream against the deadline; a rank that never joins leaves NCCL waiting.
  void synchronize() {
    auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(timeout_seconds_));
    for (int spins = 0;; ++spins) {
      cudaError_t rc = cudaStreamQuery(stream_);
      if (rc == cudaSuccess) return;
      if (rc != cudaErrorNotReady) check_cuda(rc, "cudaStreamQuery");
      ncclResult_t async = ncclSuccess;
      ncclCommGetAsyncError(comm_, &async);
      if (async != ncclSuccess && async != ncclInProgress)
        abort(fmt::format("NCCL failed during {} on rank {}: {}", describe(label_), rank_,
                          ncclGetErrorString(async)));
      if (Clock::now() > deadline)
        abort(
            fmt::format("a rank did not answer within {:g} s during {} (NCCL, seen from "
                        "rank {})",
                        timeout_seconds_, describe(label_), rank_));
      if (spins > 256) std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }

  ncclComm_t comm_;
  int device_, rank_, size_;
  cudaStream_t stream_ = nullptr;
  void* scratch_ = nullptr;
  size_t scratch_bytes_ = 0;
  std::vector<float> host_, sum_;
  CollectiveLabel label_;
  bool aborted_ = false;
};

}  // namespace

bool nccl_available() { return true; }

int nccl_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) return 0;
  return n;
}

CommunicatorPtr make_nccl_communicator(Communicator& bootstrap, int device,
                                       double timeout_seconds) {
  TS_CHECK(device >= 0 && device < nccl_device_count(), ErrorKind::kInvalidArgument,
           "NCCL: device {} does not exist ({} CUDA devices)", device, nccl_device_count());
  ncclUniqueId id;
  std::memset(&id, 0, sizeof id);
  if (bootstrap.rank() == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
  bootstrap.broadcast(&id, sizeof id, 0, {"NCCL setup"});
  check_cuda(cudaSetDevice(device), "cudaSetDevice");
  ncclComm_t comm;
  check_nccl(ncclCommInitRank(&comm, bootstrap.size(), id, bootstrap.rank()), "ncclCommInitRank");
  return std::make_shared<NcclCommunicator>(comm, device, bootstrap.rank(), bootstrap.size(),
                                            timeout_seconds);
}

std::vector<CommunicatorPtr> make_nccl_group(const std::vector<int>& devices,
                                             double timeout_seconds) {
  TS_CHECK(!devices.empty(), ErrorKind::kInvalidArgument, "NCCL: no devices given");
  for (int d : devices)
    TS_CHECK(d >= 0 && d < nccl_device_count(), ErrorKind::kInvalidArgument,
             "NCCL: device {} does not exist ({} CUDA devices)", d, nccl_device_count());
  std::vector<ncclComm_t> comms(devices.size());
  check_nccl(ncclCommInitAll(comms.data(), static_cast<int>(devices.size()), devices.data()),
             "ncclCommInitAll");
  std::vector<CommunicatorPtr> out;
  for (size_t i = 0; i < devices.size(); ++i)
    out.push_back(std::make_shared<NcclCommunicator>(comms[i], devices[i], static_cast<int>(i),
                                                     static_cast<int>(devices.size()),
                                                     timeout_seconds));
  return out;
}

#endif

}  // namespace tessera
