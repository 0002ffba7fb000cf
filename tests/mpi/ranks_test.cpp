// Runs on every rank of `mpirun -np N` (CTest starts it with N = 2 and 4): the MPI
// communicator's ring and canonical all-reduce, broadcast, and the mpi strategy against a
// single-process run of the same training (bit-identical with deterministic reduction).
// In a build without MPI every test skips with a message.
#include <gtest/gtest.h>

#include <numeric>

#include "../train/distributed_test_util.h"
#include "tessera/comm/mpi_communicator.h"

namespace tessera {
namespace {

using namespace testing_distributed;

#define SKIP_WITHOUT_MPI() \
  if (!mpi_available()) GTEST_SKIP() << "built without MPI (TESSERA_MPI=OFF or MPI not found)"

float value(int rank, size_t i) {
  return static_cast<float>((rank * 7919 + static_cast<int>(i % 1000) * 104729) % 2003) * 1e-3f -
         1.0f;
}

TEST(MpiCommunicator, RingAndCanonicalAllReduce) {
  SKIP_WITHOUT_MPI();
  CommunicatorPtr world = mpi_world(60);
  const int p = world->size(), r = world->rank();
  // Sizes below the rank count, odd ones, and one spanning several ring segments.
  for (size_t n : {size_t{1}, size_t{3}, size_t{1001}, size_t{300007}}) {
    for (ReduceOrder order : {ReduceOrder::kFast, ReduceOrder::kCanonical}) {
      std::vector<float> buf(n);
      for (size_t i = 0; i < n; ++i) buf[i] = value(r, i);
      // Two halves as two buckets in flight together.
      world->start_all_reduce(buf.data(), n / 2, order, {"all-reduce", 1});
      world->start_all_reduce(buf.data() + n / 2, n - n / 2, order, {"all-reduce", 1});
      world->wait_all();
      std::vector<std::vector<float>> parts(p, std::vector<float>(n));
      std::vector<const float*> ptrs;
      for (int q = 0; q < p; ++q) {
        for (size_t i = 0; i < n; ++i) parts[q][i] = value(q, i);
        ptrs.push_back(parts[q].data());
      }
      std::vector<float> tree(n);
      canonical_tree_sum(ptrs.data(), p, tree.data(), 0, n);
      for (size_t i = 0; i < n; ++i) {
        if (order == ReduceOrder::kCanonical) {
          ASSERT_EQ(buf[i], tree[i]) << "n " << n << " element " << i;
        } else {
          ASSERT_NEAR(buf[i], tree[i], 1e-4) << "n " << n << " element " << i;
        }
      }
    }
  }
}

TEST(MpiCommunicator, BroadcastAndBarrier) {
  SKIP_WITHOUT_MPI();
  CommunicatorPtr world = mpi_world(60);
  std::vector<int> v(100000, world->rank());
  world->broadcast(v.data(), v.size() * sizeof(int), world->size() - 1, {"broadcast"});
  for (int x : v) ASSERT_EQ(x, world->size() - 1);
  world->barrier({"barrier"});
}

TEST(MpiStrategy, MatchesOneProcessWithTheWholeBatch) {
  SKIP_WITHOUT_MPI();
  std::vector<Tensor> one = train_weights({});
  expect_close(train_weights({.strategy = "mpi"}), one, 2e-5);
}

TEST(MpiStrategy, DeterministicIsBitIdenticalToOneProcess) {
  SKIP_WITHOUT_MPI();
  if (4 % mpi_world()->size() != 0) GTEST_SKIP() << "deterministic needs 1, 2 or 4 ranks";
  for (bool dropout : {false, true}) {
    std::vector<Tensor> one = train_weights({.deterministic = true, .dropout = dropout});
    expect_bit_identical(
        train_weights({.strategy = "mpi", .deterministic = true, .dropout = dropout}), one);
  }
}

TEST(MpiStrategy, RanksStartFromRankZerosWeights) {
  SKIP_WITHOUT_MPI();
  CommunicatorPtr world = mpi_world();
  // Each rank perturbs its copy; after fit every rank holds the same weights as rank 0.
  Sequential model = distributed_model(false);
  model.compile(distributed_config({.strategy = "mpi"}));
  std::vector<Tensor> w = model.get_weights();
  for (Tensor& t : w)
    for (int64_t i = 0; i < t.numel(); ++i) t.set(i, t.get(i) + 0.01 * world->rank());
  model.set_weights(w);
  model.fit(synthetic_classification(1, 64, 12, 5), {.epochs = 1, .batch_size = 16, .verbose = 0});
  for (const Tensor& t : model.get_weights()) {
    std::vector<float> mine(t.data<float>(), t.data<float>() + t.numel());
    std::vector<float> root = mine;
    world->broadcast(root.data(), root.size() * sizeof(float), 0, {"check"});
    ASSERT_EQ(mine, root);
  }
}

}  // namespace
}  // namespace tessera
