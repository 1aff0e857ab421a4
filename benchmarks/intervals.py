"""Coverage of the bootstrap confidence intervals on synthetic data with known parameters.

For each seed: draw a label matrix from the conditionally independent model with
known LF accuracies and class balance, fit LabelModel(model=MODEL), compute
95 % intervals (``LabelModel.confidence_intervals``: chunk bootstrap of the
mergeable summaries) and count how often they contain the truth.  Nominal
coverage is 95 %; the acceptance band is 93–97 %.  LFs the model reports as not
identified (NaN interval) are counted apart, neither covered nor missed; a class
balance that was not estimated (the annotator's uniform prior) is not scored.

Run:  PYTHONPATH=src python benchmarks/intervals.py [--model annotator] [--seeds 200]
Writes benchmarks/results/intervals[-MODEL].{md,json} (no suffix for class_conditional).
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
from tripletws.atomic import atomic_write_text
from tripletws.datasets import make_synthetic

RESULTS = Path(__file__).resolve().parent / "results"

#: (n rows, m LFs, k classes, class balance, LF coverage)
SETTINGS = [
    (5_000, 8, 2, (0.6, 0.4), 0.5),
    (20_000, 8, 2, (0.6, 0.4), 0.5),
    (20_000, 10, 3, (0.5, 0.3, 0.2), 0.4),
    (5_000, 8, 2, (0.5, 0.5), 0.5),
]


def true_accuracy(d) -> np.ndarray:
    """P(LF right | LF votes) from the generating tables (cond_probs[i, vote + 1, y])."""
    k = len(d.class_balance)
    right = (d.cond_probs[:, 1 + np.arange(k), np.arange(k)] * d.class_balance).sum(axis=1)
    votes = (d.cond_probs[:, 1:, :].sum(axis=1) * d.class_balance).sum(axis=1)
    return right / votes


def run_setting(n, m, k, balance, coverage, seeds, n_boot, n_chunks, level, model, prior) -> dict:
    acc_hits = acc_total = bal_hits = bal_total = unidentified = 0
    widths, times = [], []
    for seed in range(seeds):
        d = make_synthetic(n, m, k, coverage=coverage, class_balance=list(balance), random_state=seed)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lm = LabelModel(k, model=model, class_balance=prior).fit(d.L)
            ci = lm.confidence_intervals(
                d.L, level=level, n_boot=n_boot, n_chunks=n_chunks, random_state=seed
            )
        times.append(time.perf_counter() - t0)
        truth = true_accuracy(d)
        known = ci.identified
        inside = (ci.accuracy_low <= truth) & (truth <= ci.accuracy_high)
        acc_hits += int(inside[known].sum())
        acc_total += int(known.sum())
        unidentified += int((~known).sum())
        if lm.class_balance_source_ == "estimated":
            p = np.asarray(balance)
            bal_hits += int(((ci.class_balance_low <= p) & (p <= ci.class_balance_high)).sum())
            bal_total += k
        if known.any():
            widths.append(float(ci.accuracy_halfwidth[known].mean()))
    acc_cov = acc_hits / acc_total if acc_total else float("nan")
    bal_cov = bal_hits / bal_total if bal_total else float("nan")
    return {
        "n": n,
        "m": m,
        "k": k,
        "class_balance": list(balance),
        "lf_coverage": coverage,
        "seeds": seeds,
        "accuracy_coverage": acc_cov,
        "accuracy_intervals": acc_total,
        "unidentified_lfs": unidentified,
        "accuracy_coverage_se": float(np.sqrt(acc_cov * (1 - acc_cov) / acc_total)),
        "class_balance_coverage": bal_cov,
        "class_balance_intervals": bal_total,
        "mean_halfwidth": float(np.mean(widths)),
        "median_seconds_fit_plus_intervals": float(np.median(times)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="class_conditional")
    parser.add_argument("--class-balance", default="auto", help="LabelModel's class_balance strategy")
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument(
        "--settings", type=int, nargs="+", default=list(range(len(SETTINGS))), help="indices into SETTINGS"
    )
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--n-chunks", type=int, default=100)
    parser.add_argument("--level", type=float, default=0.95)
    args = parser.parse_args()
    rows = []
    for index in args.settings:
        r = run_setting(
            *SETTINGS[index],
            args.seeds,
            args.n_boot,
            args.n_chunks,
            args.level,
            args.model,
            args.class_balance,
        )
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
        "model": args.model,
        "class_balance_strategy": args.class_balance,
        "command": (
            f"PYTHONPATH=src python benchmarks/intervals.py --model {args.model} "
            f"--class-balance {args.class_balance} --seeds {args.seeds} "
            f"--n-boot {args.n_boot} --n-chunks {args.n_chunks} "
            f"--settings {' '.join(str(i) for i in args.settings)}"
        ),
        "results": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    stem = "intervals" if args.model == "class_conditional" else f"intervals-{args.model}"
    stem += "" if args.class_balance == "auto" else f"-{args.class_balance}"
    atomic_write_text(RESULTS / f"{stem}.json", json.dumps(record, indent=2) + "\n")
    lines = [
        f"# Bootstrap interval coverage ({args.level:.0%} nominal)",
        "",
        f"`{record['command']}`: LabelModel(model={args.model!r}, "
        f"class_balance={args.class_balance!r}), {args.n_boot} bootstrap "
        f"replicates over {args.n_chunks} row chunks, synthetic data with known parameters.",
        "",
        "| n | m | k | class balance | seeds | accuracy coverage (± s.e.) | not identified "
        "| class-balance coverage | mean half-width | s / fit + intervals |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        bal = (
            f"{r['class_balance_coverage']:.3f} ({r['class_balance_intervals']})"
            if r["class_balance_intervals"]
            else "not estimated"
        )
        lines.append(
            f"| {r['n']} | {r['m']} | {r['k']} | {'/'.join(str(p) for p in r['class_balance'])} "
            f"| {r['seeds']} | {r['accuracy_coverage']:.3f} "
            f"(± {r['accuracy_coverage_se']:.3f}, {r['accuracy_intervals']} intervals) | "
            f"{r['unidentified_lfs']} | "
            f"{bal} | "
            f"{r['mean_halfwidth']:.4f} | "
            f"{r['median_seconds_fit_plus_intervals']:.2f} |"
        )
    atomic_write_text(RESULTS / f"{stem}.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
