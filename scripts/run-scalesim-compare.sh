#!/usr/bin/env bash
# SCALE-Sim v2 next to tessera_scalesim: per-layer cycles and access counts, and wall times
# (bench/peers/scalesim_compare.py). Needs a SCALE-Sim v2 checkout you fetched (SCALESIM_DIR)
# and Debian's python3-numpy and python3-tqdm (scripts/install-deps.sh --bench).
#
#   SCALESIM_DIR=/tmp/scale-sim-v2 scripts/run-scalesim-compare.sh build [extra options]
#   SCALESIM_DIR=... scripts/run-scalesim-compare.sh build --modes CALC USER --sram-kb 16
set -euo pipefail

build_dir=${1:?usage: run-scalesim-compare.sh BUILD_DIR [options of scalesim_compare.py]}
shift
if [[ -z "${SCALESIM_DIR:-}" || ! -f "${SCALESIM_DIR}/scalesim/scale.py" ]]; then
  echo "SCALESIM_DIR is not set to a SCALE-Sim v2 checkout; skipping the comparison"
  exit 0
fi
tool="${build_dir}/bench/tessera_scalesim"
if [[ ! -x "${tool}" ]]; then
  echo "error: ${tool} not found; build it with: ninja -C ${build_dir} tessera_scalesim" >&2
  exit 1
fi
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(lscpu | sed -n 's/^Model name: *//p')  cores=$(nproc)"
exec /usr/bin/python3 "$(dirname "$0")/../bench/peers/scalesim_compare.py" \
  --scalesim "${SCALESIM_DIR}" --tool "${tool}" "$@"
