// NCCL communicators: all-reduce and broadcast of device buffers between GPUs, for CUDA
// builds where NCCL was found (TESSERA_NCCL; the pointers given to start_all_reduce are
// device memory). Completion is polled (cudaStreamQuery) against the deadline; a timeout
// aborts the NCCL communicator (ncclCommAbort) and throws. ReduceOrder::kCanonical gathers
// every rank's buffer and sums them over the canonical tree on the host: exact, slow.
//
//   // one process per GPU, ranks from MPI:
//   CommunicatorPtr world = mpi_world();
//   CommunicatorPtr gpus = make_nccl_communicator(*world, /*device=*/world->rank() % n_gpus);
//   gpus->all_reduce_sum(device_grads, count, ReduceOrder::kFast, {"all-reduce", step});
//   // several GPUs in one process (mirrored): one communicator per device
//   std::vector<CommunicatorPtr> group = make_nccl_group({0, 1});
#pragma once

#include <vector>

#include "tessera/comm/communicator.h"

namespace tessera {

// Whether this build has NCCL.
bool nccl_available();
// CUDA devices visible to this process (0 without NCCL or without a GPU).
int nccl_device_count();

// A rank of a NCCL group spanning the ranks of `bootstrap` (which carries NCCL's unique
// id from rank 0), on CUDA device `device`. Throws Error(kUnsupported) without NCCL.
CommunicatorPtr make_nccl_communicator(Communicator& bootstrap, int device,
                                       double timeout_seconds = 60.0);
// One communicator per device, all in this process (ncclCommInitAll).
std::vector<CommunicatorPtr> make_nccl_group(const std::vector<int>& devices,
                                             double timeout_seconds = 60.0);

}  // namespace tessera
