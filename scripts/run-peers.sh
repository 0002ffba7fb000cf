#!/usr/bin/env bash
# Tessera vs PyTorch, side by side in one run: training throughput, batch-1 inference
# latency and peak memory of the seed model, mnist-mlp and mnist-cnn (bench/peers/).
#
#   scripts/run-peers.sh build-peers            # 5 repetitions, 2 threads
#   REPS=7 THREADS=2 RESULTS=peers.jsonl scripts/run-peers.sh build-peers
#   MODELS=cnn REPS=3 scripts/run-peers.sh build-peers
#
# Environment: REPS, THREADS, MODELS (any of seed mnist cnn; default all), RESULTS (the JSON
# lines kept), QUIET_BUSY and QUIET_WAIT (the quiet-machine check below),
# TORCH_OPENBLAS_THREADS (1, or "default"), PEERS_PYTHON.
#
# Every measurement is its own process (so max RSS is per framework and model); the two
# frameworks alternate within each repetition, and which goes first alternates between
# repetitions. The table gives medians over repetitions and ratios Tessera / PyTorch.
# Needs the bench_peers_tessera target built in BUILD_DIR and Debian's python3-torch
# (scripts/install-deps.sh --bench), which lives under /usr/bin/python3.
set -euo pipefail

build_dir=${1:?usage: run-peers.sh BUILD_DIR}
reps=${REPS:-5}
threads=${THREADS:-2}
models=${MODELS:-seed mnist cnn}
python=${PEERS_PYTHON:-/usr/bin/python3}
here=$(cd "$(dirname "$0")/.." && pwd)
exe="${build_dir}/bench/bench_peers_tessera"

if ! torch_version=$("${python}" -c 'import torch; print(torch.__version__)' 2>/dev/null); then
  echo "run-peers: PyTorch is not importable by ${python}; install Debian's python3-torch" \
       "(scripts/install-deps.sh --bench, or apt-get install python3-torch)" >&2
  exit 1
fi
if [[ ! -x "${exe}" ]]; then
  echo "run-peers: ${exe} not found; build it with: ninja -C ${build_dir} bench_peers_tessera" >&2
  exit 1
fi

results=${RESULTS:-$(mktemp /tmp/run-peers.XXXXXX.jsonl)}
: > "${results}"
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(lscpu | sed -n 's/^Model name: *//p')" \
     " cores=$(nproc)  threads=${threads}  reps=${reps}  PyTorch ${torch_version}"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)" \
     " PyTorch OPENBLAS_NUM_THREADS=${TORCH_OPENBLAS_THREADS:-1}"

# Debian's PyTorch runs its matrix products in OpenBLAS (pthreads, one thread per core by
# default) and its other kernels in OpenMP (torch.set_num_threads). Both pools spinning on
# 2 cores makes PyTorch's mnist-mlp training 2-3x slower and erratic, so PyTorch gets its
# best measured setting: OpenBLAS single-threaded (TORCH_OPENBLAS_THREADS=default keeps
# the Debian default). Tessera sets OpenBLAS single-threaded itself.
torch_openblas=${TORCH_OPENBLAS_THREADS:-1}
run_torch() {
  if [[ "${torch_openblas}" == default ]]; then
    "${python}" "${here}/bench/peers/torch_bench.py" --model "$1" --threads "${threads}" \
      >> "${results}"
  else
    OPENBLAS_NUM_THREADS="${torch_openblas}" \
      "${python}" "${here}/bench/peers/torch_bench.py" --model "$1" --threads "${threads}" \
      >> "${results}"
  fi
}
run_tessera() {
  "${exe}" --model "$1" --threads "${threads}" >> "${results}"
}

# Busy percentage of all cores over 2 s, from /proc/stat (idle and iowait count as idle).
busy_percent() {
  local a b
  read -r -a a < <(head -1 /proc/stat)
  sleep 2
  read -r -a b < <(head -1 /proc/stat)
  local total=0 i
  for ((i = 1; i < ${#a[@]}; ++i)); do total=$((total + b[i] - a[i])); done
  local idle=$((b[4] - a[4] + b[5] - a[5]))
  echo $((total > 0 ? 100 * (total - idle) / total : 0))
}

# PyTorch's OpenMP threads slow down by 10-50x when another process takes a core (each of
# the many parallel regions of a step waits for a descheduled thread), so a repetition
# starts only when the machine is quiet: at most QUIET_BUSY % busy (default 15), waiting up
# to QUIET_WAIT seconds (default 900) before going ahead anyway, marked "busy".
quiet_busy=${QUIET_BUSY:-15}
quiet_wait=${QUIET_WAIT:-900}
wait_for_quiet() {
  local waited=0 busy
  while busy=$(busy_percent); ((busy > quiet_busy)); do
    if ((waited >= quiet_wait)); then
      echo "# machine still ${busy}% busy after ${waited} s; going ahead (busy)"
      return
    fi
    sleep 8
    waited=$((waited + 10))
  done
  echo "# machine ${busy}% busy (others) before repetition; waited ${waited} s"
}

for ((rep = 1; rep <= reps; ++rep)); do
  wait_for_quiet
  for model in ${models}; do
    if ((rep % 2)); then
      run_torch "${model}"
      run_tessera "${model}"
    else
      run_tessera "${model}"
      run_torch "${model}"
    fi
  done
  echo "# repetition ${rep}/${reps} done (load $(cut -d' ' -f1 /proc/loadavg))"
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)   raw results: ${results}"
echo
"${python}" "${here}/bench/peers/compare.py" "${results}"
