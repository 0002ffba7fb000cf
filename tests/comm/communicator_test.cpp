// The in-process communicator (the mirrored strategy's): sums, the canonical order, broadcast,
// and a replica that never comes being named at the deadline. The NCCL communicator's test
// needs a GPU and skips without one.
#include "tessera/comm/communicator.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstring>
#include <thread>

#include "tessera/comm/mpi_communicator.h"
#include "tessera/comm/nccl_communicator.h"
#include "tessera/core/error.h"

namespace tessera {
namespace {

// Runs body(rank) on one thread per replica; returns the error messages (empty: none).
template <typename F>
std::vector<std::string> on_replicas(int n, F body) {
  std::vector<std::string> errors(static_cast<size_t>(n));
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r)
    threads.emplace_back([&, r] {
      try {
        body(r);
      } catch (const Error& e) {
        errors[r] = e.what();
      }
    });
  for (std::thread& t : threads) t.join();
  return errors;
}

float value(int rank, size_t i) { return 0.1f * static_cast<float>(rank + 1) + 1e-3f * i; }

TEST(InProcessCommunicator, AllReduceSumsEveryElementOnEveryReplica) {
  for (int n : {1, 2, 3, 4}) {
    auto group = make_in_process_group(n);
    std::vector<std::vector<float>> bufs(n, std::vector<float>(37));
    for (int r = 0; r < n; ++r)
      for (size_t i = 0; i < 37; ++i) bufs[r][i] = value(r, i);
    auto errors = on_replicas(n, [&](int r) {
      // Two buckets, started before waiting, as the training loop does.
      group[r]->start_all_reduce(bufs[r].data(), 20, ReduceOrder::kFast, {"all-reduce", 3});
      group[r]->start_all_reduce(bufs[r].data() + 20, 17, ReduceOrder::kFast, {"all-reduce", 3});
      group[r]->wait_all();
    });
    for (int r = 0; r < n; ++r) {
      EXPECT_EQ(errors[r], "");
      for (size_t i = 0; i < 37; ++i) {
        float expect = 0;
        for (int q = 0; q < n; ++q) expect += value(q, i);
        EXPECT_NEAR(bufs[r][i], expect, 1e-5) << "n=" << n << " rank " << r << " i " << i;
      }
    }
  }
}

TEST(InProcessCommunicator, CanonicalOrderIsThePairwiseTree) {
  // Values whose sum depends on the order: 1e8 + 1 - 1e8 + ...
  const float v[4] = {1e8f, 1.0f, -1e8f, 1.0f};
  float tree = (v[0] + v[1]) + (v[2] + v[3]);
  auto group = make_in_process_group(4);
  std::vector<std::vector<float>> bufs(4, std::vector<float>(5));
  for (int r = 0; r < 4; ++r) std::fill(bufs[r].begin(), bufs[r].end(), v[r]);
  auto errors = on_replicas(4, [&](int r) {
    group[r]->all_reduce_sum(bufs[r].data(), 5, ReduceOrder::kCanonical, {"all-reduce"});
  });
  for (int r = 0; r < 4; ++r)
    for (float x : bufs[r]) EXPECT_EQ(x, tree);

  const float* parts[3] = {&v[0], &v[1], &v[2]};
  float out = 0;
  canonical_tree_sum(parts, 3, &out, 0, 1);
  EXPECT_EQ(out, (v[0] + v[1]) + v[2]);
}

TEST(InProcessCommunicator, BroadcastCopiesTheRootsBytes) {
  auto group = make_in_process_group(3);
  std::vector<std::array<int, 4>> data(3);
  for (int r = 0; r < 3; ++r) data[r] = {r, r, r, r};
  auto errors = on_replicas(3, [&](int r) {
    group[r]->broadcast(data[r].data(), sizeof(int) * 4, 1, {"broadcast"});
    group[r]->barrier({"barrier"});
  });
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(errors[r], "");
    EXPECT_EQ(data[r], (std::array<int, 4>{1, 1, 1, 1}));
  }
}

TEST(InProcessCommunicator, ASilentReplicaIsNamedAtTheDeadline) {
  auto group = make_in_process_group(3, /*timeout_seconds=*/0.2);
  std::vector<float> bufs[3] = {std::vector<float>(4), std::vector<float>(4),
                                std::vector<float>(4)};
  auto t0 = std::chrono::steady_clock::now();
  auto errors = on_replicas(3, [&](int r) {
    if (r == 2) {  // hangs past the deadline, then finds the group stopped
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
    }
    group[r]->all_reduce_sum(bufs[r].data(), 4, ReduceOrder::kFast, {"all-reduce", 17});
  });
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 2.0);
  for (int r = 0; r < 3; ++r)
    EXPECT_NE(errors[r].find("replica 2 did not answer within 0.2 s during all-reduce of step "
                             "17"),
              std::string::npos)
        << "replica " << r << ": " << errors[r];
}

TEST(InProcessCommunicator, AbortStopsTheOthersAtOnce) {
  auto group = make_in_process_group(2, /*timeout_seconds=*/30);
  auto t0 = std::chrono::steady_clock::now();
  auto errors = on_replicas(2, [&](int r) {
    if (r == 1) group[r]->abort("replica 1 failed: out of memory");
    group[r]->barrier({"barrier"});
  });
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
  EXPECT_EQ(errors[0], "replica 1 failed: out of memory");
  EXPECT_EQ(errors[1], "replica 1 failed: out of memory");
}

TEST(InProcessCommunicator, BadArgumentsAreErrors) {
  EXPECT_THROW(make_in_process_group(0), Error);
  auto group = make_in_process_group(1);
  EXPECT_THROW(group[0]->set_timeout_seconds(0), Error);
  int v = 0;
  EXPECT_THROW(group[0]->broadcast(&v, sizeof v, 3, {"broadcast"}), Error);
}

TEST(MpiCommunicator, ABuildWithoutMpiSaysSo) {
  if (mpi_available()) GTEST_SKIP() << "built with MPI: tests/mpi runs the MPI communicator";
  EXPECT_THROW(mpi_world(), Error);
}

// One GPU suffices: a group of one device must leave the buffer as it is and broadcast.
TEST(NcclCommunicator, SingleDeviceGroupOnAGpu) {
  if (!nccl_available()) GTEST_SKIP() << "built without NCCL (needs a CUDA build with NCCL)";
  if (nccl_device_count() == 0) GTEST_SKIP() << "no CUDA device: the NCCL test needs a GPU";
  std::vector<CommunicatorPtr> group = make_nccl_group({0}, 30);
  ASSERT_EQ(group.size(), 1u);
  int v[2] = {7, 9};
  group[0]->broadcast(v, sizeof v, 0, {"broadcast"});
  EXPECT_EQ(v[0], 7);
  group[0]->barrier({"barrier"});
}

}  // namespace
}  // namespace tessera
