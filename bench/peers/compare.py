#!/usr/bin/env python3
"""Summarizes a peer-benchmark run (scripts/run-peers.sh): medians and Tessera/PyTorch ratios.

Input: a file of JSON lines, one per benchmark process, as printed by torch_bench.py and
bench_peers_tessera. Output: per-repetition figures, then a Markdown table of the medians
over repetitions, the ratios of those medians and whether each goal of issue 3 is met.
Exits 1 when a framework/model pair has no result. Standard library only.
"""

import json
import statistics
import sys

# (model, label, training goal, whether the latency and memory goals of issue 3 apply).
ALL_MODELS = [
    ("seed", "seed (32-64-10, batch 32)", 3.0, True),
    ("mnist", "mnist-mlp (784-256-128-10, batch 128)", 1.5, True),
    ("cnn", "mnist-cnn (conv 32-pool-conv 64-pool-128-10, batch 128)", 1.0, False),
]
# mnist-cnn's quality goal: test accuracy after two epochs.
CNN_ACCURACY_GOAL = 0.90


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: compare.py RESULTS.jsonl")
    runs = {}
    with open(sys.argv[1]) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                r = json.loads(line)
                runs.setdefault((r["framework"], r["model"]), []).append(r)

    def med(framework, model, key):
        values = [r[key] for r in runs.get((framework, model), []) if r.get(key) is not None]
        return statistics.median(values) if values else None

    # The models of this run (run-peers.sh MODELS=...); each needs both frameworks.
    MODELS = [(m, label, goal, latency) for m, label, goal, latency in ALL_MODELS
              if ("pytorch", m) in runs or ("tessera", m) in runs]
    missing = [(fw, m) for m, _, _, _ in MODELS for fw in ("pytorch", "tessera")
               if (fw, m) not in runs]
    if missing:
        sys.exit("compare: no results for %s" % ", ".join("%s/%s" % p for p in missing))

    print("Per repetition (train samples/s | batch-1 latency us | train max RSS MiB):")
    for model, _, _, _ in MODELS:
        for fw in ("pytorch", "tessera"):
            cells = ["%.0f | %.2f | %.0f" % (r["train_samples_per_s"], r["infer_latency_us"],
                                             r["train_max_rss_kib"] / 1024)
                     for r in runs[(fw, model)]]
            print("  %-5s %-7s  %s" % (model, fw, "   ".join(cells)))
    print()
    # A quiet machine gives repetitions within a few percent of each other; a wide spread
    # means another process took a core during some of them (PyTorch suffers most).
    for (fw, model), rs in sorted(runs.items()):
        rates = [r["train_samples_per_s"] for r in rs]
        if max(rates) > 1.5 * min(rates):
            print("WARNING: %s/%s training throughput varies %.1fx across repetitions: the "
                  "machine was not quiet; rerun before quoting." % (fw, model,
                                                                    max(rates) / min(rates)))

    reps = min(len(v) for v in runs.values())
    print("Medians of %d repetitions; ratio = Tessera / PyTorch." % reps)
    print()
    print("| model | metric | PyTorch | Tessera | ratio | goal | met |")
    print("|---|---|---|---|---|---|---|")
    all_met = True
    for model, label, train_goal, latency_goals in MODELS:
        rows = []
        t, p = med("tessera", model, "train_samples_per_s"), med("pytorch", model,
                                                                   "train_samples_per_s")
        rows.append(("training samples/s", "%.0f" % p, "%.0f" % t, t / p,
                     "≥ %.1f" % train_goal, t / p >= train_goal))
        t, p = med("tessera", model, "infer_latency_us"), med("pytorch", model,
                                                               "infer_latency_us")
        rows.append(("batch-1 latency µs (Program::run)", "%.2f" % p, "%.2f" % t, t / p,
                     "≤ 0.33" if latency_goals else "",
                     t / p <= 1 / 3 if latency_goals else None))
        t = med("tessera", model, "predict_latency_us")
        rows.append(("batch-1 latency µs (Model::predict)", "%.2f" % p, "%.2f" % t, t / p,
                     "(≤ 0.33)", None))
        t, p = med("tessera", model, "train_max_rss_kib"), med("pytorch", model,
                                                                "train_max_rss_kib")
        rows.append(("max RSS MiB, training run", "%.0f" % (p / 1024), "%.0f" % (t / 1024),
                     t / p, "< 1" if latency_goals else "", t < p if latency_goals else None))
        t, p = med("tessera", model, "max_rss_kib"), med("pytorch", model, "max_rss_kib")
        rows.append(("max RSS MiB, whole process", "%.0f" % (p / 1024), "%.0f" % (t / 1024),
                     t / p, "(< 1)", None))
        t, p = med("tessera", model, "test_accuracy"), med("pytorch", model, "test_accuracy")
        if t is not None and p is not None:
            epochs = med("tessera", model, "test_accuracy_epochs")
            qbatch = med("tessera", model, "test_accuracy_batch")
            rows.append(("test accuracy after %d epochs at batch %d (fresh run)" % (epochs, qbatch),
                         "%.4f" % p, "%.4f" % t, t / p,
                         "≥ %.2f" % CNN_ACCURACY_GOAL, t >= CNN_ACCURACY_GOAL))
        for i, (metric, pv, tv, ratio, goal, met) in enumerate(rows):
            if met is not None:
                all_met = all_met and met
            print("| %s | %s | %s | %s | %.2f | %s | %s |" % (
                label if i == 0 else "", metric, pv, tv, ratio, goal,
                "" if met is None else ("yes" if met else "**no**")))
    print()
    acc = ["%s/%s %.3f" % (fw, m, med(fw, m, "final_accuracy"))
           for m, _, _, _ in MODELS for fw in ("pytorch", "tessera")
           if med(fw, m, "final_accuracy") is not None]
    print("Training accuracy in the last epoch (sanity check): " + ", ".join(acc))
    print("All goals met: %s" % ("yes" if all_met else "no"))


if __name__ == "__main__":
    main()
