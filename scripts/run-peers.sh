#!/usr/bin/env bash
# Tessera vs PyTorch, side by side in one run: training throughput, batch-1 inference
# latency and peak memory of the seed model and mnist-mlp (bench/peers/).
#
#   scripts/run-peers.sh build-peers            # 5 repetitions, 2 threads
#   REPS=7 THREADS=2 RESULTS=peers.jsonl scripts/run-peers.sh build-peers
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
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"

run_torch() {
  "${python}" "${here}/bench/peers/torch_bench.py" --model "$1" --threads "${threads}" \
    >> "${results}"
}
run_tessera() {
  "${exe}" --model "$1" --threads "${threads}" >> "${results}"
}

for ((rep = 1; rep <= reps; ++rep)); do
  for model in seed mnist; do
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
