#!/usr/bin/env python3
"""SCALE-Sim v2 next to tessera_scalesim on the same configs and topologies.

For every (topology, array size, dataflow[, bandwidth mode]) it writes a SCALE-Sim .cfg,
runs SCALE-Sim (`scalesim/scale.py` of a checkout, with this Python) and tessera_scalesim
(fold-by-fold engine, and --analytic), alternating, REPS times each; then compares the
per-layer reports (COMPUTE_REPORT.csv, DETAILED_ACCESS_REPORT.csv) and prints the wall
times' medians and their ratio.

  SCALESIM_DIR=/tmp/scale-sim-v2 python3 bench/peers/scalesim_compare.py \
      --tool build/bench/tessera_scalesim --reps 3
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

CONFIG = """[general]
run_name = {name}

[architecture_presets]
ArrayHeight:    {rows}
ArrayWidth:     {cols}
IfmapSramSzkB:    {sram}
FilterSramSzkB:   {sram}
OfmapSramSzkB:    {sram}
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Dataflow : {df}
Bandwidth : {bw}
MemoryBanks: 1

[run_presets]
InterfaceBandwidth: {mode}
"""

# Columns compared: (report, column name, short label).
COLUMNS = [
    ("COMPUTE_REPORT.csv", "Total Cycles", "cycles"),
    ("COMPUTE_REPORT.csv", "Stall Cycles", "stalls"),
    ("COMPUTE_REPORT.csv", "Mapping Efficiency %", "mapping%"),
    ("COMPUTE_REPORT.csv", "Compute Util %", "compute%"),
    ("DETAILED_ACCESS_REPORT.csv", "SRAM IFMAP Reads", "sram_if"),
    ("DETAILED_ACCESS_REPORT.csv", "SRAM Filter Reads", "sram_fl"),
    ("DETAILED_ACCESS_REPORT.csv", "SRAM OFMAP Writes", "sram_of"),
    ("DETAILED_ACCESS_REPORT.csv", "DRAM IFMAP Reads", "dram_if"),
    ("DETAILED_ACCESS_REPORT.csv", "DRAM Filter Reads", "dram_fl"),
    ("DETAILED_ACCESS_REPORT.csv", "DRAM OFMAP Writes", "dram_of"),
]


def read_report(path):
    with open(path) as f:
        rows = [[c.strip() for c in r] for r in csv.reader(f)]
    header = rows[0]
    return [dict(zip(header, r)) for r in rows[1:] if r and r[0]]


def run_timed(cmd, env=None):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("error: {} failed:\n{}".format(" ".join(cmd), p.stdout[-3000:]))
    return dt


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scalesim", default=os.environ.get("SCALESIM_DIR", ""))
    ap.add_argument("--tool", default="build/bench/tessera_scalesim")
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--topologies", nargs="*", default=[
        os.path.join(HERE, "scalesim", f) for f in
        ("resnet_small.csv", "alexnet_small.csv", "gemm_small.csv")])
    ap.add_argument("--arrays", nargs="*", default=["32x32", "128x128"])
    ap.add_argument("--dataflows", nargs="*", default=["ws", "os", "is"])
    ap.add_argument("--sram-kb", type=int, default=64)
    ap.add_argument("--modes", nargs="*", default=["CALC"], help="CALC and/or USER")
    ap.add_argument("--bandwidth", type=int, default=10)
    args = ap.parse_args()

    scale_py = os.path.join(args.scalesim, "scalesim", "scale.py")
    if not args.scalesim or not os.path.exists(scale_py):
        print("SCALE-Sim checkout not found (set SCALESIM_DIR); skipping the comparison")
        return 0
    env = dict(os.environ, PYTHONPATH=args.scalesim)
    work = tempfile.mkdtemp(prefix="scalesim_compare_")

    agree = {label: [0, 0] for _, _, label in COLUMNS}  # exact matches, total
    worst = {label: 0.0 for _, _, label in COLUMNS}
    time_ss, time_ts, time_ta = [], [], []
    print("{:<16} {:>7} {:>2} {:>4} {:>10} {:>10} {:>10} {:>9} {:>9}".format(
        "topology", "array", "df", "mode", "SS cycles", "T cycles", "T-an cyc",
        "SS s", "T s"))
    for topo in args.topologies:
        gemm = open(topo).readline().replace(" ", "").lower().startswith("layer,m,n,k")
        tname = os.path.splitext(os.path.basename(topo))[0]
        for arr in args.arrays:
            rows, cols = arr.split("x")
            for df in args.dataflows:
                for mode in args.modes:
                    name = "{}_{}_{}_{}".format(tname, arr, df, mode)
                    cfg = os.path.join(work, name + ".cfg")
                    with open(cfg, "w") as f:
                        f.write(CONFIG.format(name=name, rows=rows, cols=cols, sram=args.sram_kb,
                                              df=df, bw=args.bandwidth, mode=mode))
                    ss_out, ts_out, ta_out = (os.path.join(work, d) for d in ("ss", "ts", "ta"))
                    ss_cmd = [args.python, scale_py, "-c", cfg, "-t", topo, "-p", ss_out,
                              "-i", "gemm" if gemm else "conv"]
                    ts_cmd = [args.tool, "-c", cfg, "-t", topo, "-p", ts_out, "--quiet"]
                    ta_cmd = ts_cmd[:-3] + ["-p", ta_out, "--analytic", "--quiet"]
                    t_ss, t_ts, t_ta = [], [], []
                    for _ in range(args.reps):
                        t_ss.append(run_timed(ss_cmd, env))
                        t_ts.append(run_timed(ts_cmd))
                        t_ta.append(run_timed(ta_cmd))
                    time_ss.append(statistics.median(t_ss))
                    time_ts.append(statistics.median(t_ts))
                    time_ta.append(statistics.median(t_ta))
                    reports = {}
                    for side, out in (("ss", ss_out), ("ts", ts_out), ("ta", ta_out)):
                        reports[side] = {r: read_report(os.path.join(out, name, r))
                                         for r in ("COMPUTE_REPORT.csv",
                                                   "DETAILED_ACCESS_REPORT.csv")}
                    for report, col, label in COLUMNS:
                        for a, b in zip(reports["ss"][report], reports["ts"][report]):
                            x, y = float(a[col]), float(b[col])
                            agree[label][1] += 1
                            if abs(x - y) <= 1e-9 * max(1.0, abs(x)):
                                agree[label][0] += 1
                            worst[label] = max(worst[label], abs(x - y) / max(abs(x), 1.0))
                    cyc = [sum(float(r["Total Cycles"]) for r in reports[s]["COMPUTE_REPORT.csv"])
                           for s in ("ss", "ts", "ta")]
                    print("{:<16} {:>7} {:>2} {:>4} {:>10.0f} {:>10.0f} {:>10.0f} {:>9.3f} {:>9.4f}"
                          .format(tname, arr, df, mode, cyc[0], cyc[1], cyc[2], time_ss[-1],
                                  time_ts[-1]))
    print("\nper-layer agreement, tessera_scalesim (fold-by-fold) vs SCALE-Sim:")
    print("{:<10} {:>14} {:>16}".format("quantity", "exact matches", "worst rel. diff"))
    for _, _, label in COLUMNS:
        m, n = agree[label]
        print("{:<10} {:>8}/{:<5} {:>15.4%}".format(label, m, n, worst[label]))
    med_ss, med_ts, med_ta = (statistics.median(t) for t in (time_ss, time_ts, time_ta))
    print("\nwall time per run (median over runs): SCALE-Sim {:.3f} s, tessera_scalesim {:.4f} s "
          "(analytic {:.4f} s); ratio SCALE-Sim / tessera {:.0f}x (analytic {:.0f}x)".format(
              med_ss, med_ts, med_ta, med_ss / med_ts, med_ss / med_ta))
    print("sum of medians: SCALE-Sim {:.2f} s, tessera_scalesim {:.3f} s, ratio {:.0f}x".format(
        sum(time_ss), sum(time_ts), sum(time_ss) / sum(time_ts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
