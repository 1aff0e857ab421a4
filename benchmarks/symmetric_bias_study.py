"""The symmetric model's accuracy estimates at small n: bias, error and what the labels gain.

An audit (session 40) found ``accuracies_`` of ``model="symmetric"`` biased low with weak, sparse LFs
at small n (``triplet_mean`` -0.06 at n = 1e3).  This study measures the solvers as they are beside
two alternatives of the magnitudes ``|b_i|`` (:func:`tripletws.estimators.symmetric._triplet_magnitudes`,
replaced in this process only):

``plain``   the triplets' values averaged with equal weights, no denominator filter;
``pooled``  a ratio of sums over LF i's triplets, ``b_i^2 = sum M_ij M_jl M_li / sum (M_jl^2 - se_jl^2)``
            (sign-free; the denominator's squares debiased by their variance), kept where the
            denominator exceeds 2 of its standard errors.

Each cell draws 30 conditionally independent problems (:func:`tripletws.datasets.make_synthetic`, the
LFs' accuracies uniform in the range given) and reports, over the LFs that vote, the mean error of
``accuracies_`` (bias) and its root mean square, and over the rows with a vote the labels' accuracy
(ties shared) and log loss.

    PYTHONPATH=src python benchmarks/symmetric_bias_study.py [--seeds 30] \\
        [--out benchmarks/results/symmetric_bias.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import tripletws.estimators.symmetric as sym
from tripletws import LabelModel
from tripletws.atomic import atomic_write_text
from tripletws.datasets import make_synthetic

#: (n, m, k, lowest accuracy, highest accuracy, coverage or its range)
CELLS = [
    (1000, 10, 2, 0.55, 0.75, 0.3),
    (10000, 10, 2, 0.55, 0.75, 0.3),
    (1000, 10, 2, 0.55, 0.75, 0.1),
    (1000, 10, 2, 0.6, 0.9, 0.5),
    (500, 5, 2, 0.6, 0.85, 0.5),
    (2000, 20, 3, 0.5, 0.8, (0.05, 0.6)),
    (5000, 30, 2, 0.55, 0.8, (0.02, 0.3)),
    (1000, 8, 4, 0.4, 0.8, 0.4),
]
LIBRARY = sym._triplet_magnitudes


def plain(pm, solver, max_partners=sym.MAX_PARTNERS, block_cells=1 << 18):
    """Every triplet's value with the same weight, no denominator filter."""
    kept = sym._PairTables.__init__

    def init(self, pm, implied=None):
        kept(self, pm, implied)
        # every term of the variance 1 where the pair co-votes: the same variance for every triplet
        seen = np.isfinite(self.se)
        self.denom_ok = (seen & (self.absM > 0)).ravel()
        self.u = np.where(seen, 1.0, np.nan)
        self.top = np.where(seen, 1.0, np.inf)
        self.q = np.where(seen, 0.0, np.nan).ravel()
        self.zv = np.ones_like(self.z)

    sym._PairTables.__init__ = init
    try:
        return LIBRARY(pm, "triplet_mean", max_partners, block_cells)
    finally:
        sym._PairTables.__init__ = kept


def pooled(pm, solver, max_partners=sym.MAX_PARTNERS, block_cells=1 << 18):
    """The ratio of sums over each LF's triplets (all pairs: the study's m are small)."""
    seen = pm.observed.astype(float)
    M = np.where(pm.observed, pm.M, 0.0)
    se2 = np.where(pm.observed, pm.se**2, 0.0)
    num = 0.5 * np.einsum("ij,jl,li->i", M, M, M)
    den = 0.5 * np.einsum("ij,jl,li->i", seen, M**2 - se2, seen)
    var = 0.5 * np.einsum("ij,jl,li->i", seen, 4 * M**2 * se2 + 2 * se2**2, seen)
    ok = den > 2.0 * np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where(ok, np.sqrt(np.clip(num / den, 0.0, 1.0)), 0.0)
    return mag, ok.astype(np.int64)


VARIANTS = {"library": LIBRARY, "plain": plain, "pooled": pooled}


def cell(spec, seeds, solver):
    n, m, k, lo, hi, cov = spec
    errors, accs, losses = [], [], []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        truth = rng.uniform(lo, hi, m)
        coverage = rng.uniform(*cov, m) if isinstance(cov, tuple) else cov
        d = make_synthetic(n, m, k, accuracies=truth, coverage=coverage, random_state=rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lm = LabelModel(k, model="symmetric", solver=solver).fit(d.L)
            P = lm.predict_proba(d.L)
        errors.append((lm.accuracies_ - truth)[(d.L != -1).any(axis=0)])
        rows = (d.L != -1).any(axis=1)
        P, y = P[rows], d.y[rows]
        top = P >= P.max(axis=1, keepdims=True) - 1e-12
        accs.append(float(np.mean(top[np.arange(len(y)), y] / top.sum(axis=1))))
        losses.append(float(-np.mean(np.log(np.maximum(P[np.arange(len(y)), y], 1e-12)))))
    e = np.concatenate(errors)
    return {
        "bias": float(e.mean()),
        "rmse": float(np.sqrt(np.mean(e**2))),
        "label_acc": float(np.mean(accs)),
        "log_loss": float(np.mean(losses)),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    started = time.time()
    results = []
    for name, fn in VARIANTS.items():
        sym._triplet_magnitudes = fn
        solvers = ["triplet", "triplet_mean", "triplet_median"] if name == "library" else ["triplet_mean"]
        for solver in solvers:
            rows = [cell(spec, args.seeds, solver) for spec in CELLS]
            results.append({"variant": name, "solver": solver, "cells": rows})
    sym._triplet_magnitudes = LIBRARY
    head = ["variant", "solver"] + [f"n={c[0]} m={c[1]} k={c[2]} acc {c[3]}-{c[4]} cov {c[5]}" for c in CELLS]
    lines = [
        "| " + " | ".join([*head, "mean label acc", "mean log loss"]) + " |",
        "|" + "---|" * (len(head) + 2),
    ]
    for r in results:
        cells = [f"{c['bias']:+.3f} / {c['rmse']:.3f} / {c['label_acc']:.4f}" for c in r["cells"]]
        mean_acc = np.mean([c["label_acc"] for c in r["cells"]])
        mean_ll = np.mean([c["log_loss"] for c in r["cells"]])
        lines.append(
            f"| {r['variant']} | {r['solver']} | "
            + " | ".join(cells)
            + f" | {mean_acc:.4f} | {mean_ll:.4f} |"
        )
    table = "\n".join(lines)
    print("cells: bias / RMSE of accuracies_ over the voting LFs / label accuracy on voted rows")
    print(table)
    print(f"({time.time() - started:.0f} s)", file=sys.stderr)
    if args.out:
        out = Path(args.out)
        atomic_write_text(
            out, json.dumps({"seeds": args.seeds, "cells": CELLS, "results": results}, indent=1)
        )
        md = (
            f"# The symmetric model's accuracy estimates at small n\n\n- command: `PYTHONPATH=src python "
            f"benchmarks/symmetric_bias_study.py --seeds {args.seeds} --out {args.out}`\n"
            "- cells: bias / RMSE of `accuracies_` over the voting LFs / label accuracy on the rows with a "
            "vote (ties shared)\n\n" + table + "\n"
        )
        atomic_write_text(out.with_suffix(".md"), md)


if __name__ == "__main__":
    main()
