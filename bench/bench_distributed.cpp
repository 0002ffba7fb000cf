// Distributed training benchmarks (docs/benchmarks.md, "Distributed training"); run them
// with scripts/run-distributed-bench.sh, or by hand:
//
//   mpirun -np 2 bench_distributed allreduce [--reps 20]
//       our bucketed ring all-reduce (and the canonical-order one) against MPI_Allreduce on
//       the same buffers, 4 KiB .. 64 MiB: median time and bus bandwidth
//       2(n-1)/n * bytes / time per size, and our share of MPI's.
//   mpirun -np N bench_distributed train MODEL [--strategy mpi|mirrored|default]
//       [--replicas R] [--batch B] [--steps S] [--warmup W]
//       median time of a training step of the global batch B (default 64) over S steps
//       after W warm-up steps; samples/s, and tokens/s for sequence models.
//
// Rank 0 prints one JSON line per measurement (and a table on stderr).
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "tessera/cli/sources.h"
#include "tessera/comm/mpi_communicator.h"
#include "tessera/core/error.h"
#include "tessera/core/thread_pool.h"

namespace tessera {
namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

std::map<std::string, std::string> parse_flags(int argc, char** argv, int first) {
  std::map<std::string, std::string> flags;
  for (int i = first; i + 1 < argc; i += 2) flags[argv[i]] = argv[i + 1];
  return flags;
}

int flag_int(const std::map<std::string, std::string>& f, const std::string& k, int dflt) {
  auto it = f.find(k);
  return it == f.end() ? dflt : std::stoi(it->second);
}

int all_reduce_bench(const std::map<std::string, std::string>& flags) {
  CommunicatorPtr world = mpi_world(120);
  const int p = world->size();
  const int reps = flag_int(flags, "--reps", 20);
  if (world->rank() == 0)
    fmt::print(stderr, "{:>10} {:>12} {:>12} {:>12} {:>11} {:>11} {:>7}\n", "bytes", "ours us",
               "canon us", "MPI us", "ours GB/s", "MPI GB/s", "ratio");
  for (size_t bytes = 4096; bytes <= (size_t{64} << 20); bytes *= 4) {
    size_t n = bytes / sizeof(float);
    std::vector<float> buf(n, 1.0f);
    // Smaller sizes repeat more so that each timing is well above the clock's resolution.
    int r = std::max(reps, static_cast<int>(std::min<size_t>(2000, (size_t{64} << 20) / bytes)));
    std::vector<double> ours, canonical, mpi;
    for (int i = 0; i < r + 2; ++i) {
      // Interleaved, so that both see the same machine.
      world->barrier({"bench"});
      auto t0 = Clock::now();
      world->all_reduce_sum(buf.data(), n, ReduceOrder::kFast, {"bench"});
      double a = std::chrono::duration<double>(Clock::now() - t0).count();
      world->barrier({"bench"});
      t0 = Clock::now();
      world->all_reduce_sum(buf.data(), n, ReduceOrder::kCanonical, {"bench"});
      double c = std::chrono::duration<double>(Clock::now() - t0).count();
      world->barrier({"bench"});
      t0 = Clock::now();
      mpi_reference_all_reduce(buf.data(), n);
      double m = std::chrono::duration<double>(Clock::now() - t0).count();
      std::fill(buf.begin(), buf.end(), 1.0f);  // keeps the values finite
      if (i < 2) continue;                      // warm-up
      ours.push_back(a);
      canonical.push_back(c);
      mpi.push_back(m);
    }
    // The slowest rank decides: the medians of rank 0 (all ranks finish each together).
    double t_ours = median(ours), t_canon = median(canonical), t_mpi = median(mpi);
    double factor = 2.0 * (p - 1) / p * static_cast<double>(bytes) / 1e9;
    if (world->rank() == 0) {
      fmt::print(stderr, "{:>10} {:>12.1f} {:>12.1f} {:>12.1f} {:>11.2f} {:>11.2f} {:>7.2f}\n",
                 bytes, t_ours * 1e6, t_canon * 1e6, t_mpi * 1e6, factor / t_ours, factor / t_mpi,
                 t_mpi / t_ours);
      fmt::print(
          "{{\"bench\": \"allreduce\", \"ranks\": {}, \"bytes\": {}, \"reps\": {}, "
          "\"ours_s\": {:.9f}, \"canonical_s\": {:.9f}, \"mpi_s\": {:.9f}, \"ours_busbw_gbs\": "
          "{:.4f}, \"mpi_busbw_gbs\": {:.4f}, \"ours_over_mpi\": {:.4f}}}\n",
          p, bytes, r, t_ours, t_canon, t_mpi, factor / t_ours, factor / t_mpi, t_mpi / t_ours);
    }
  }
  return 0;
}

// Records the wall time of each batch.
class StepTimer final : public Callback {
 public:
  void on_epoch_begin(Model&, int, const Logs&) override { last_ = Clock::now(); }
  void on_batch_end(Model&, int64_t, const Logs&) override {
    auto now = Clock::now();
    times.push_back(std::chrono::duration<double>(now - last_).count());
    last_ = now;
  }
  std::vector<double> times;

 private:
  Clock::time_point last_;
};

int train_bench(const std::string& model_name, const std::map<std::string, std::string>& flags) {
  std::string strategy = flags.count("--strategy") ? flags.at("--strategy") : "mpi";
  const int64_t batch = flag_int(flags, "--batch", 64);
  const int steps = flag_int(flags, "--steps", 30), warmup = flag_int(flags, "--warmup", 5);
  int world_size = 1;
  bool leader = true;
  if (strategy == "mpi") {
    CommunicatorPtr world = mpi_world(120);
    world_size = world->size();
    leader = world->rank() == 0;
  }
  cli::ModelSource m = cli::open_model(model_name, 0, {"cpu"});
  Model& model = m.model;
  CompileConfig config = m.compile ? *m.compile : CompileConfig{};
  config.strategy = strategy;
  config.replicas = flag_int(flags, "--replicas", 2);
  config.timeout_seconds = 120;
  model.compile(config);
  std::string dataset = cli::default_dataset(model);
  int64_t context = cli::model_sequence_length(model);
  cli::DataSource data = cli::open_dataset(dataset, {.context = context});
  Dataset train = cli::conform(data.train, model, "dataset", config.loss);
  int64_t samples = std::min<int64_t>(train.size(), batch * (steps + warmup));
  train = train.slice(0, samples);
  auto timer = std::make_shared<StepTimer>();
  model.fit(train, {.epochs = 1, .batch_size = batch, .callbacks = {timer}, .verbose = 0});
  if (!leader) return 0;
  std::vector<double> t(timer->times.begin() + std::min<size_t>(warmup, timer->times.size()),
                        timer->times.end());
  double step = median(t);
  double samples_per_s = static_cast<double>(batch) / step;
  int replicas = strategy == "mpi" ? world_size : strategy == "mirrored" ? config.replicas : 1;
  fmt::print(stderr, "{} {} x{} batch {}: {:.2f} ms/step, {:.0f} samples/s{}\n", model_name,
             strategy, replicas, batch, step * 1e3, samples_per_s,
             context > 0 ? fmt::format(", {:.0f} tokens/s", samples_per_s * context) : "");
  fmt::print(
      "{{\"bench\": \"train\", \"model\": \"{}\", \"strategy\": \"{}\", \"replicas\": {}, "
      "\"threads\": {}, \"batch\": {}, \"steps\": {}, \"step_s\": {:.6f}, \"samples_per_s\": "
      "{:.1f}, \"tokens_per_s\": {:.1f}}}\n",
      model_name, strategy, replicas, num_threads(), batch, t.size(), step, samples_per_s,
      context > 0 ? samples_per_s * static_cast<double>(context) : 0.0);
  return 0;
}

}  // namespace
}  // namespace tessera

int main(int argc, char** argv) {
  using namespace tessera;
  try {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "allreduce") return all_reduce_bench(parse_flags(argc, argv, 2));
    if (mode == "train" && argc > 2) return train_bench(argv[2], parse_flags(argc, argv, 3));
    fmt::print(stderr,
               "usage: bench_distributed allreduce [--reps N]\n"
               "       bench_distributed train MODEL [--strategy mpi|mirrored|default] "
               "[--replicas R] [--batch B] [--steps S] [--warmup W]\n");
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
