"""Coverage of the bootstrap confidence intervals on synthetic data with known parameters.

For each seed: draw a label matrix from the conditionally independent model with
known LF accuracies and class balance, fit the class-conditional
LabelModel, compute 95 % intervals (``LabelModel.confidence_intervals``: chunk
bootstrap of the mergeable statistics) and count how often they contain the
truth.  Nominal coverage is 95 %; the acceptance band is 93–97 %.

Run:  PYTHONPATH=src python benchmarks/intervals.py [--seeds 200]
Writes benchmarks/results/intervals.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from pathlib import Path

import numpy as np

from tripletws import LabelModel, __version__
from tripletws.datasets import make_synthetic

RESULTS = Path(__file__).resolve().parent / "results"

#: (n rows, m LFs, k classes, class balance, LF coverage)
SETTINGS = [
    (5_000, 8, 2, (0.6, 0.4), 0.5),
    (20_000, 8, 2, (0.6, 0.4), 0.5),
    (20_000, 10, 3, (0.5, 0.3, 0.2), 0.4),
]


def true_accuracy(d) -> np.ndarray:
    """P(LF right | LF votes) from the generating tables (cond_probs[i, vote + 1, y])."""
    k = len(d.class_balance)
    right = (d.cond_probs[:, 1 + np.arange(k), np.arange(k)] * d.class_balance).sum(axis=1)
    votes = (d.cond_probs[:, 1:, :].sum(axis=1) * d.class_balance).sum(axis=1)
    return right / votes


def run_setting(n, m, k, balance, coverage, seeds, n_boot, n_chunks, level) -> dict:
    acc_hits = acc_total = bal_hits = bal_total = 0
    widths, times = [], []
    for seed in range(seeds):
        d = make_synthetic(n, m, k, coverage=coverage, class_balance=list(balance), random_state=seed)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lm = LabelModel(k, model="class_conditional").fit(d.L)
            ci = lm.confidence_intervals(
                d.L, level=level, n_boot=n_boot, n_chunks=n_chunks, random_state=seed
            )
        times.append(time.perf_counter() - t0)
        truth = true_accuracy(d)
        acc_hits += int(((ci.accuracy_low <= truth) & (truth <= ci.accuracy_high)).sum())
        acc_total += m
        p = np.asarray(balance)
        bal_hits += int(((ci.class_balance_low <= p) & (p <= ci.class_balance_high)).sum())
        bal_total += k
        widths.append(float(ci.accuracy_halfwidth.mean()))
    acc_cov, bal_cov = acc_hits / acc_total, bal_hits / bal_total
    return {
        "n": n,
        "m": m,
        "k": k,
        "class_balance": list(balance),
        "lf_coverage": coverage,
        "seeds": seeds,
        "accuracy_coverage": acc_cov,
        "accuracy_intervals": acc_total,
        "accuracy_coverage_se": float(np.sqrt(acc_cov * (1 - acc_cov) / acc_total)),
        "class_balance_coverage": bal_cov,
        "class_balance_intervals": bal_total,
        "mean_halfwidth": float(np.mean(widths)),
        "median_seconds_fit_plus_intervals": float(np.median(times)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--n-chunks", type=int, default=100)
    parser.add_argument("--level", type=float, default=0.95)
    args = parser.parse_args()
    rows = []
    for setting in SETTINGS:
        r = run_setting(*setting, args.seeds, args.n_boot, args.n_chunks, args.level)
        rows.append(r)
        print(json.dumps(r))
    record = {
        "benchmark": "intervals",
        "tripletws": __version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "level": args.level,
        "n_boot": args.n_boot,
        "n_chunks": args.n_chunks,
        "command": f"PYTHONPATH=src python benchmarks/intervals.py --seeds {args.seeds}",
        "results": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "intervals.json").write_text(json.dumps(record, indent=2) + "\n")
    lines = [
        f"# Bootstrap interval coverage ({args.level:.0%} nominal)",
        "",
        f"`{record['command']}`: LabelModel(model='class_conditional'), {args.n_boot} bootstrap "
        f"replicates over {args.n_chunks} row chunks, synthetic data with known parameters.",
        "",
        "| n | m | k | seeds | accuracy coverage (± s.e.) | class-balance coverage "
        "| mean half-width | s / fit + intervals |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']} | {r['m']} | {r['k']} | {r['seeds']} | {r['accuracy_coverage']:.3f} "
            f"(± {r['accuracy_coverage_se']:.3f}, {r['accuracy_intervals']} intervals) | "
            f"{r['class_balance_coverage']:.3f} ({r['class_balance_intervals']}) | "
            f"{r['mean_halfwidth']:.4f} | "
            f"{r['median_seconds_fit_plus_intervals']:.2f} |"
        )
    (RESULTS / "intervals.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
