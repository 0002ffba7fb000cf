// The MPI communicator: one rank per process (`mpirun -np N tessera train … --strategy mpi`).
//
// All MPI calls run on one communication thread, so all-reduces started by the training
// loop proceed while the backward pass goes on. The all-reduce is a bucketed ring
// (reduce-scatter then all-gather on non-blocking point-to-point messages, pipelined in
// segments); ReduceOrder::kCanonical uses a direct reduce-scatter whose owner sums the
// ranks' parts over the canonical tree. Every collective polls its requests (MPI_Test)
// against a deadline; each rank also tells every other one that it has entered the
// collective, so a timeout names the rank that never came ("rank 2 did not answer within
// 30 s during all-reduce of step 17") and ends the job with MPI_Abort.
//
//   if (mpi_available()) {
//     CommunicatorPtr world = mpi_world(/*timeout_seconds=*/60);   // MPI_Init on first use
//     world->all_reduce_sum(buf.data(), buf.size(), ReduceOrder::kFast, {"all-reduce", step});
//   }
#pragma once

#include <cstddef>

#include "tessera/comm/communicator.h"

namespace tessera {

// Whether this build has MPI (TESSERA_MPI found OpenMPI or another MPI).
bool mpi_available();
// Whether this process was started by mpirun / mpiexec (their environment variables).
bool launched_by_mpirun();
// Processes of this job on this host (OMPI_COMM_WORLD_LOCAL_SIZE; 1 when not under mpirun).
int mpi_local_size();

// The world communicator (initialises MPI on first use; finalised at exit). Throws
// Error(kUnsupported) in a build without MPI.
CommunicatorPtr mpi_world(double timeout_seconds = 60.0);

// MPI's own MPI_Allreduce (sum, in place) on the world: the reference our ring is
// benchmarked against. Call between collectives of mpi_world(), never during one.
void mpi_reference_all_reduce(float* data, size_t count);

}  // namespace tessera
