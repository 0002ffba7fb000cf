#!/usr/bin/env bash
# Installs every dependency of Tessera from Debian packages. The one place that lists them.
# Idempotent and quiet when everything is present; uses sudo when not run as root.
# --bench adds the Python packages the peer comparisons need (PyTorch, SCALE-Sim).
set -euo pipefail

packages=(
  cmake ninja-build g++ make pkg-config   # build
  libopenblas-dev                         # sgemm for the cpu backend
  libfmt-dev                              # error messages and formatting
  libgtest-dev libgmock-dev               # tests
  libbenchmark-dev                        # bench/
  zlib1g-dev libzip-dev                   # gzip datasets (IDX), NPZ archives
  libyaml-cpp-dev                         # YAML model specs
  dataset-fashion-mnist                   # the default dataset
  libcli11-dev                            # the tessera command line
  nlohmann-json3-dev                      # JSON results and reports
  libonnx-dev libprotobuf-dev             # ONNX import and export
  verilator                               # FPGA: co-simulation of the generated Verilog
  yosys                                   # FPGA: synthesis counts (synth_xilinx, synth_ecp5)
  openmpi-bin libopenmpi-dev              # the mpi strategy (mpirun -np N tessera train ...)
  chromium                                # the HTML report's browser test (headless)
)

# --onnx-fixtures: what scripts/make-onnx-fixtures.py needs (PyTorch's ONNX exporter).
# --bench: also what the PyTorch comparison (scripts/run-peers.sh) and the SCALE-Sim
# comparison (scripts/run-scalesim-compare.sh, with a SCALE-Sim checkout) need.
# PyTorch is large, so it is not in the default list.
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=(python3-torch python3-numpy python3-tqdm) ;;
    --onnx-fixtures) packages+=(python3-torch python3-numpy python3-onnx) ;;
    *) echo "install-deps: unknown option $arg (known: --bench, --onnx-fixtures)" >&2; exit 1 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
