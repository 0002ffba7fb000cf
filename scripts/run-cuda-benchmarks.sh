#!/usr/bin/env bash
# The CUDA measurements of docs/benchmarks.md (section CUDA), on the GPU of this machine:
#   1. the cuda backend's matmul against cuBLAS called directly (bench_cuda_matmul);
#   2. gpt-tiny and GPT-2-small training tokens/s, Tessera (bench_gpt_tessera --device
#      cuda) against PyTorch eager (bench/peers/torch_gpt_cuda.py), alternating, REPS times.
#
#   scripts/run-cuda-benchmarks.sh build          # REPS=3 by default
#   REPS=5 PEERS_PYTHON=python3 scripts/run-cuda-benchmarks.sh build
#
# Without a GPU every program prints "no GPU: skipped" and the script exits 0.
set -euo pipefail

build_dir=${1:?usage: run-cuda-benchmarks.sh BUILD_DIR}
reps=${REPS:-3}
python=${PEERS_PYTHON:-python3}
here=$(cd "$(dirname "$0")/.." && pwd)

for exe in bench_cuda_matmul bench_gpt_tessera; do
  if [[ ! -x "${build_dir}/bench/${exe}" ]]; then
    echo "error: ${build_dir}/bench/${exe} not found; build it with: ninja -C ${build_dir} ${exe}" >&2
    exit 1
  fi
done

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi')"
echo "## matmul: tessera cuda vs cuBLAS direct"
"${build_dir}/bench/bench_cuda_matmul" --reps 20

echo "## training tokens/s (JSON lines: tessera, then pytorch, per repetition)"
for model in gpt-tiny gpt2-small; do
  batch=16
  [[ ${model} == gpt2-small ]] && batch=8
  for ((r = 0; r < reps; ++r)); do
    "${build_dir}/bench/bench_gpt_tessera" --device cuda --model "${model}" --batch "${batch}" \
      --steps 20 --warmup-steps 3 --new-tokens 1 --gen-reps 1 2>&1 | tail -1 || true
    "${python}" "${here}/bench/peers/torch_gpt_cuda.py" --model "${model}" --batch "${batch}" \
      --steps 20 --warmup-steps 3 || true
  done
done
