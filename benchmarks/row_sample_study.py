"""Heavy vote patterns past the row cap: the default fit on a sample of the distinct rows against
the fit on every row.

With sparse LFs a few distinct rows hold most of the data (the all-abstain row, rows of one or
two votes).  A hash sample of the distinct rows keeps or drops each of them whole; the stratum of
few-vote rows (``tripletws.rows``, "A stratum of rows with few votes") keeps them all and weighs
them back.  Each problem draws a train and a test matrix from one generator: ``m`` LFs of coverage
``U(2 %, 12 %)`` and accuracy ``U(0.6, 0.9)``, classes ``0.6 / 0.4``; with ``--class-dependent``
coverage (the default runs both) LF ``j`` fires 1.6 times as often on class ``j % 2`` and 0.4
times as often on the other.  Scored on the test rows with a vote (accuracy in expectation under uniform
tie-breaking); the class balance is the fitted prior's class 1.

    PYTHONPATH=src python benchmarks/row_sample_study.py                 # 2 kinds x 3 seeds
    PYTHONPATH=src python benchmarks/row_sample_study.py --n 100000 --seeds 1

Writes ``benchmarks/results/row_sample_study.{md,json}`` (``--out`` changes the path).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

from tripletws import LabelModel, MajorityLabelVoter

RESULTS = Path(__file__).resolve().parent / "results"


def draw(n: int, m: int, dependent: bool, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train and test matrices (n, m) with their labels, from one seeded generator."""
    rng = np.random.default_rng(seed)
    cov = rng.uniform(0.02, 0.12, m)
    acc = rng.uniform(0.6, 0.9, m)

    def sample(rows: int) -> tuple[np.ndarray, np.ndarray]:
        y = (rng.random(rows) < 0.4).astype(np.int8)
        L = np.full((rows, m), -1, dtype=np.int8)
        for j in range(m):
            c = np.where(y == j % 2, 1.6 * cov[j], 0.4 * cov[j]) if dependent else np.full(rows, cov[j])
            fire = rng.random(rows) < c
            right = rng.random(rows) < acc[j]
            L[fire, j] = np.where(right[fire], y[fire], 1 - y[fire])
        return L, y

    L, y = sample(n)
    L_test, y_test = sample(n)
    return L, y, L_test, y_test


def score(model: LabelModel | MajorityLabelVoter, L: np.ndarray, y: np.ndarray) -> float:
    """Accuracy on the rows with a vote, in expectation under uniform tie-breaking among equal tops."""
    voted = (L >= 0).any(axis=1)
    P = model.predict_proba(L[voted])
    top = P >= P.max(axis=1, keepdims=True) - 1e-9
    return float((top[np.arange(len(P)), y[voted]] / top.sum(axis=1)).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=400_000, help="train (and test) rows")
    ap.add_argument("--m", type=int, default=30, help="LFs")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--full-cap", type=int, default=None, help="em_max_rows of the every-row fit (default n)")
    ap.add_argument("--out", type=Path, default=RESULTS / "row_sample_study.json")
    args = ap.parse_args()
    full_cap = args.full_cap or args.n
    records = []
    for dependent in (False, True):
        for seed in args.seeds:
            L, _, L_test, y_test = draw(args.n, args.m, dependent, seed)
            mv = MajorityLabelVoter(cardinality=2)
            row = {
                "coverage": "class-dependent" if dependent else "class-independent",
                "seed": seed,
                "distinct_rows": len(np.unique(L, axis=0)),
                "mv": score(mv, L_test, y_test),
            }
            for label, cap in (("sample", None), ("every_row", full_cap)):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t = time.perf_counter()
                    lm = LabelModel(em_max_rows=cap, random_state=0).fit(L)
                    fit_s = time.perf_counter() - t
                rows = lm.rows_
                row[label] = {
                    "acc": score(lm, L_test, y_test),
                    "balance_1": float(lm.class_balance_[1]),
                    "level": int(rows.level) if rows is not None else 0,
                    "stratum": int(getattr(rows, "stratum", -1)) if rows is not None else -1,
                    "fit_s": fit_s,
                }
            records.append(row)
            s, e = row["sample"], row["every_row"]
            print(
                f"{row['coverage']:17s} seed {seed}: R {row['distinct_rows']:6d}  MV {row['mv']:.4f}  "
                f"sample {s['acc']:.4f} (balance {s['balance_1']:.3f}, level {s['level']}, stratum "
                f"{s['stratum']})  every row {e['acc']:.4f} (balance {e['balance_1']:.3f})"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"n": args.n, "m": args.m, "seeds": args.seeds, "true_balance_1": 0.4}
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"meta": meta, "records": records}, indent=1))
    tmp.replace(args.out)
    lines = [
        "# Heavy vote patterns past the row cap (benchmarks/row_sample_study.py)",
        "",
        f"n = {args.n} train and test rows, m = {args.m} LFs, classes 0.6 / 0.4; accuracy on test rows "
        "with a vote.",
        "",
        "| coverage | seed | distinct rows | MV | sample acc | sample balance | level | stratum "
        "| every row acc | every row balance |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        s, e = r["sample"], r["every_row"]
        lines.append(
            f"| {r['coverage']} | {r['seed']} | {r['distinct_rows']} | {r['mv']:.4f} | {s['acc']:.4f} | "
            f"{s['balance_1']:.3f} | {s['level']} | {s['stratum']} | {e['acc']:.4f} | {e['balance_1']:.3f} |"
        )
    md = args.out.with_suffix(".md")
    tmp = md.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(md)
    print(f"wrote {args.out} and {md}")


if __name__ == "__main__":
    main()
