"""Cost and error of the binary log-odds products in float32 against float64 (the default).

Fits the default model on a synthetic binary matrix (``--n`` x ``--m``, int8), then
times ``predict_proba`` with ``tripletws.inference.LOGIT_DTYPE`` set to float32 and to
float64, interleaved run by run (so load drifts hit both alike), for each ``--jobs``
setting.  Reports medians of wall and CPU time and the largest deviation of each
from a plain float64 reference (``softmax(log P(Y) + sum of the voting LFs' log
tables)``), and how much a row scored alone differs from the same row in the batch.

Usage::

    python benchmarks/logit_dtype.py                     # 1e6 x 50, n_jobs 1 and auto, 9 runs
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def reference(L: np.ndarray, params) -> np.ndarray:
    """Float64 posteriors by the plain formula, chunk-free (the comparison baseline)."""
    base, D = params.log_odds_tables()  # (k,), (m, k, k)
    scores = np.tile(base, (len(L), 1))
    for i in range(L.shape[1]):
        voted = L[:, i] >= 0
        scores[voted] += D[i, L[voted, i].astype(np.int64)]
    scores -= scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    return scores / scores.sum(axis=1, keepdims=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=float, default=1e6)
    p.add_argument("--m", type=int, default=50)
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--jobs", nargs="+", default=["1", "auto"])
    args = p.parse_args(argv)
    from tripletws import LabelModel, inference
    from tripletws.datasets import make_synthetic

    n = int(args.n)
    L = make_synthetic(n, args.m, 2, random_state=0).L.astype(np.int8)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for jobs in args.jobs:
        n_jobs = None if jobs == "auto" else int(jobs)
        model = LabelModel(n_jobs=n_jobs).fit(L)
        ref = reference(L[:100_000], model.params_)
        times: dict[str, list[tuple[float, float]]] = {"float32": [], "float64": []}
        errors = {}
        for rep in range(args.repeats + 1):
            for name, dtype in (("float32", np.float32), ("float64", np.float64)):
                inference.LOGIT_DTYPE = dtype
                w0, c0 = time.perf_counter(), time.process_time()
                probs = model.predict_proba(L)
                if rep:  # the first round is a warm-up
                    times[name].append((time.perf_counter() - w0, time.process_time() - c0))
                else:
                    alone = np.vstack([model.predict_proba(L[r : r + 1]) for r in range(0, 100_000, 997)])
                    errors[name] = (
                        float(np.abs(probs[:100_000] - ref).max()),
                        float(np.abs(alone - probs[:100_000:997]).max()),
                    )
        inference.LOGIT_DTYPE = np.float64
        wall = {k: statistics.median(t[0] for t in v) for k, v in times.items()}
        cpu = {k: statistics.median(t[1] for t in v) for k, v in times.items()}
        print(f"n={n:.0e} m={args.m} n_jobs={jobs}: predict_proba medians of {args.repeats} runs")
        for name in ("float32", "float64"):
            print(
                f"  {name}: wall {wall[name]:.4f} s  cpu {cpu[name]:.4f} s  "
                f"max |p - float64 reference| {errors[name][0]:.1e}  "
                f"max |row alone - row in batch| {errors[name][1]:.1e}"
            )
        print(
            f"  float64 / float32: wall {wall['float64'] / wall['float32']:.3f}  "
            f"cpu {cpu['float64'] / cpu['float32']:.3f}"
        )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
