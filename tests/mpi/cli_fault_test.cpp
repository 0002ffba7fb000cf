// `mpirun -np N tessera train --strategy mpi` end to end: a hung rank makes the others stop
// within --timeout with an error naming it, a dead rank ends the job, the last checkpoint
// stays valid, and training resumes from it with another rank count, reaching the weights of
// an uninterrupted run bit for bit (deterministic reduction).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tessera/comm/mpi_communicator.h"
#include "tessera/train/checkpoint.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;

struct Result {
  int code = -1;
  std::string out, err;
  double seconds = 0;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class MpiCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!mpi_available()) GTEST_SKIP() << "built without MPI (TESSERA_MPI=OFF or MPI not found)";
    dir_ = fs::temp_directory_path() /
           ("tessera_mpi_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Runs `env mpirun -np N tessera ARGS` (np 0: tessera alone) in the test's directory.
  Result run(int np, const std::string& args, const std::string& env = "") {
    std::string cmd = "cd '" + dir_.string() +
                      "' && env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
                      "OMPI_MCA_rmaps_base_oversubscribe=1 " +
                      env + " timeout 120 ";
    if (np > 0)
      cmd += std::string(TESSERA_MPIEXEC) + " --oversubscribe -np " + std::to_string(np) + " ";
    cmd += std::string(TESSERA_EXE) + " " + args + " > out.txt 2> err.txt";
    auto t0 = std::chrono::steady_clock::now();
    int status = std::system(cmd.c_str());
    Result r;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(dir_ / "out.txt");
    r.err = slurp(dir_ / "err.txt");
    return r;
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

// seed-mlp on the synthetic set: 10000 samples, 313 batches of 32 per epoch.
const char* kTrain =
    "train seed-mlp --dataset synthetic --epochs 2 --verbose 0 --deterministic --seed 5";

std::vector<std::string> weight_bytes(const std::string& file) {
  Model m = load_model(file);
  std::vector<std::string> out;
  for (const Tensor& t : m.get_weights())
    out.emplace_back(static_cast<const char*>(t.raw_data()), t.nbytes());
  for (const VariablePtr& v : m.optimizer()->variables())
    out.emplace_back(static_cast<const char*>(v->value.raw_data()), v->value.nbytes());
  return out;
}

TEST_F(MpiCli, HungRankIsNamedAndTrainingResumesWithAnotherRankCount) {
  Result full = run(0, std::string(kTrain) + " --save full.tsm");
  ASSERT_EQ(full.code, 0) << full.err;

  // Rank 1 stops answering at step 400 (batch 87 of epoch 2); checkpoints every 40 batches.
  Result hung = run(2,
                    std::string(kTrain) +
                        " --strategy mpi --timeout 3 --checkpoint ckpt.tsm --checkpoint-steps 40",
                    "TESSERA_FAULT=hang:1:400");
  EXPECT_NE(hung.code, 0);
  EXPECT_NE(hung.err.find("rank 1 did not answer within 3 s during all-reduce of step 400"),
            std::string::npos)
      << hung.err;
  EXPECT_LT(hung.seconds, 60);
  ASSERT_TRUE(is_checkpoint_file(path("ckpt.tsm")));
  Model last = load_model(path("ckpt.tsm"));  // valid: every byte checked
  EXPECT_EQ(last.epoch(), 1);
  EXPECT_EQ(last.position().batch, 80);  // the last multiple of 40 before batch 87

  Result resumed = run(4,
                       "train --resume ckpt.tsm --dataset synthetic --epochs 1 --verbose 0 "
                       "--deterministic --seed 5 --strategy mpi --save resumed.tsm");
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("resuming epoch 2 after batch 80"), std::string::npos) << resumed.out;
  EXPECT_EQ(weight_bytes(path("resumed.tsm")), weight_bytes(path("full.tsm")));
}

TEST_F(MpiCli, DeadRankEndsTheJobAndKeepsTheCheckpoint) {
  Result dead = run(2,
                    std::string(kTrain) +
                        " --strategy mpi --timeout 10 --checkpoint ckpt.tsm --checkpoint-steps 50",
                    "TESSERA_FAULT=exit:1:120");
  EXPECT_NE(dead.code, 0);
  EXPECT_LT(dead.seconds, 60);
  EXPECT_NE(dead.err.find("rank 1: TESSERA_FAULT: exiting at step 120"), std::string::npos)
      << dead.err;
  Model last = load_model(path("ckpt.tsm"));
  EXPECT_EQ(last.epoch(), 0);
  EXPECT_EQ(last.position().batch, 100);
}

TEST_F(MpiCli, OnlyRankZeroPrintsAndWrites) {
  Result r = run(2,
                 "train seed-mlp --dataset synthetic --epochs 1 --verbose 2 --strategy mpi "
                 "--json result.json");
  ASSERT_EQ(r.code, 0) << r.err;
  size_t first = r.out.find("Epoch 1/1");
  ASSERT_NE(first, std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Epoch 1/1", first + 1), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("strategy mpi, 2 ranks"), std::string::npos) << r.out;
  EXPECT_NE(slurp(dir_ / "result.json").find("\"replicas\": 2"), std::string::npos);
}

}  // namespace
}  // namespace tessera
