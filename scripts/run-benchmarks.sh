#!/usr/bin/env bash
# Runs the kernel benchmarks of a build with repetitions and prints the medians.
#
#   scripts/run-benchmarks.sh build            # all benchmarks, 5 repetitions
#   REPS=9 FILTER='MatMul|Sgemm' scripts/run-benchmarks.sh build
#   BENCHES=bench_norm scripts/run-benchmarks.sh build   # one benchmark program
#
# The machine is small and shared: compare figures from one run side by side (the matmul
# benchmark times the engine and direct sgemm in the same process) and quote medians.
set -euo pipefail

build_dir=${1:?usage: run-benchmarks.sh BUILD_DIR}
reps=${REPS:-5}
filter=${FILTER:-.}

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(lscpu | sed -n 's/^Model name: *//p')  cores=$(nproc)" \
     " TESSERA_NUM_THREADS=${TESSERA_NUM_THREADS:-unset}  reps=${reps}"
for bench in ${BENCHES:-bench_matmul bench_elementwise bench_conv bench_attention bench_norm bench_train_step bench_systolic bench_sim}; do
  exe="${build_dir}/bench/${bench}"
  if [[ ! -x "${exe}" ]]; then
    echo "error: ${exe} not found; build it with: ninja -C ${build_dir} ${bench}" >&2
    exit 1
  fi
  echo "## ${bench}"
  "${exe}" --benchmark_filter="${filter}" --benchmark_repetitions="${reps}" \
           --benchmark_report_aggregates_only=true 2>/dev/null |
    grep -E '^(Benchmark|-{5})|_median' || true
done
