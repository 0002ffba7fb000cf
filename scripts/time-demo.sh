#!/usr/bin/env bash
# Times `make demo` end to end on an already built tree (dependencies installed, the build
# up to date): the figure docs/benchmarks.md records. Usage: scripts/time-demo.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
make -s BUILD="$BUILD" build >/dev/null  # nothing to do when built; not timed
start=$(date +%s.%N)
make -s BUILD="$BUILD" demo > "$BUILD/demo.log" 2>&1
end=$(date +%s.%N)
tail -n 12 "$BUILD/demo.log"
printf 'make demo: %.1f s on %s cores (%s)\n' "$(echo "$end - $start" | bc)" "$(nproc)" \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
