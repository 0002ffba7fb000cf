#!/usr/bin/env bash
# Distributed training figures for docs/benchmarks.md: our all-reduce against MPI_Allreduce
# (2 ranks) and training throughput of mnist-mlp and gpt-tiny on 1 process vs 2 MPI ranks.
# Each configuration runs ROUNDS times, interleaved, and the medians are printed.
#
#   scripts/run-distributed-bench.sh build            # ROUNDS=3 STEPS=30 by default
#
# The machine is small and may be shared: compare figures of one run side by side.
set -euo pipefail

build_dir=${1:?usage: run-distributed-bench.sh BUILD_DIR}
rounds=${ROUNDS:-3}
steps=${STEPS:-30}
exe="${build_dir}/bench/bench_distributed"
[[ -x "${exe}" ]] || { echo "error: ${exe} not found; build it with: ninja -C ${build_dir} bench_distributed" >&2; exit 1; }
# mpirun as root (containers) and more ranks than cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun="mpirun --oversubscribe"
out=$(mktemp)
trap 'rm -f "${out}"' EXIT

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(lscpu | sed -n 's/^Model name: *//p')  cores=$(nproc)  rounds=${rounds}"
for round in $(seq "${rounds}"); do
  ${mpirun} -np 2 "${exe}" allreduce --reps 20 2>/dev/null >> "${out}"
  for model in mnist-mlp gpt-tiny; do
    common="train ${model} --batch 128 --steps ${steps}"
    # gpt-tiny steps take about a second here: a smaller batch and fewer of them.
    [[ ${model} == gpt-tiny ]] && common="train ${model} --batch 16 --steps $(( (steps + 3) / 4 )) --warmup 2"
    # One process with both cores, one process with one core, two ranks with one core each.
    TESSERA_NUM_THREADS=2 "${exe}" ${common} --strategy default 2>/dev/null | sed 's/}$/, "config": "1 process, 2 threads"}/' >> "${out}"
    TESSERA_NUM_THREADS=1 "${exe}" ${common} --strategy default 2>/dev/null | sed 's/}$/, "config": "1 process, 1 thread"}/' >> "${out}"
    TESSERA_NUM_THREADS=1 ${mpirun} -x TESSERA_NUM_THREADS -np 2 "${exe}" ${common} --strategy mpi 2>/dev/null | sed 's/}$/, "config": "2 ranks, 1 thread each"}/' >> "${out}"
    TESSERA_NUM_THREADS=2 "${exe}" ${common} --strategy mirrored --replicas 2 2>/dev/null | sed 's/}$/, "config": "mirrored, 2 replicas, 2 threads"}/' >> "${out}"
  done
done

python3 - "${out}" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
print("## all-reduce, 2 ranks: median of the per-round medians")
print("| bytes | ours (ring) µs | canonical µs | MPI_Allreduce µs | ours bus GB/s | MPI bus GB/s | ours / MPI |")
print("|---:|---:|---:|---:|---:|---:|---:|")
for size in sorted({r["bytes"] for r in rows if r["bench"] == "allreduce"}):
    rs = [r for r in rows if r["bench"] == "allreduce" and r["bytes"] == size]
    med = lambda k: statistics.median(r[k] for r in rs)
    print(f"| {size} | {med('ours_s')*1e6:.1f} | {med('canonical_s')*1e6:.1f} | {med('mpi_s')*1e6:.1f} "
          f"| {med('ours_busbw_gbs'):.2f} | {med('mpi_busbw_gbs'):.2f} | {med('ours_over_mpi'):.2f} |")
print()
print("## training step throughput (median over rounds of the median step)")
print("| model | configuration | batch | ms/step | samples/s | tokens/s | vs 1 process, 2 threads |")
print("|---|---|---:|---:|---:|---:|---:|")
for model in ["mnist-mlp", "gpt-tiny"]:
    rs = [r for r in rows if r["bench"] == "train" and r["model"] == model]
    base = None
    for config in ["1 process, 2 threads", "1 process, 1 thread", "2 ranks, 1 thread each", "mirrored, 2 replicas, 2 threads"]:
        c = [r for r in rs if r["config"] == config]
        if not c: continue
        sps = statistics.median(r["samples_per_s"] for r in c)
        tps = statistics.median(r["tokens_per_s"] for r in c)
        step = statistics.median(r["step_s"] for r in c)
        if base is None: base = sps
        print(f"| {model} | {config} | {c[0]['batch']} | {step*1e3:.2f} | {sps:.0f} | {tps:.0f} | {sps/base:.2f} |")
PY
