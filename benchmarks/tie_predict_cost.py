"""What the tie-break costs ``predict_proba``: the same fitted model with and without its second fit.

A synthetic problem whose LFs share one accuracy (majority vote's model is chosen, and rows with
equal top votes tie), k > 2, so the default keeps a tie-break (:mod:`tripletws.ties`).  The model is
fitted once; ``predict_proba`` then runs in alternating rounds with the estimate's ``tie_break`` and
with it set to None (the posterior of the tables alone), wall time, median of the rounds.

    PYTHONPATH=src python benchmarks/tie_predict_cost.py [--n 1000000] [--m 20] [--k 4] [--rounds 7]

Prints one line and writes ``results/tie_predict_cost.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from stress import write_atomic

from tripletws import LabelModel

RESULTS = Path(__file__).resolve().parent / "results"


def problem(n: int, m: int, k: int, seed: int = 0) -> np.ndarray:
    """Votes of m LFs at coverage 0.3, right with probability 0.6, else a uniform class."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    votes = rng.random((n, m)) < 0.3
    right = rng.random((n, m)) < 0.6
    L = np.where(right, y[:, None], rng.integers(0, k, (n, m)))
    return np.where(votes, L, -1).astype(np.int8)


def with_and_without(lm: LabelModel, part: str, what: str) -> dict[str, Any]:
    """``lm``'s fitted solution (``"with"``) and the same without its estimate's ``part`` (``"without"``);
    exits where the fit kept no such part (``what``: its name in words)."""
    solution = lm.solution_
    if getattr(solution.estimate, part, None) is None:
        raise SystemExit(f"the fit kept no {what}: nothing to measure")
    return {
        "with": solution,
        "without": replace(solution, estimate=replace(solution.estimate, **{part: None})),
    }


def alternating_medians(
    lm: LabelModel, solutions: dict[str, Any], L: np.ndarray, rounds: int
) -> dict[str, float]:
    """Median wall time of ``lm.predict_proba(L)`` under each of ``solutions`` (fitted solutions of
    ``lm``), run in turn in each of ``rounds`` rounds; ``lm`` keeps the solution it had."""
    own = lm.solution_
    times: dict[str, list[float]] = {name: [] for name in solutions}
    try:
        for _ in range(rounds):
            for name, sol in solutions.items():
                lm.solution_ = sol
                t = time.perf_counter()
                lm.predict_proba(L)
                times[name].append(time.perf_counter() - t)
    finally:
        lm.solution_ = own
    return {name: statistics.median(v) for name, v in times.items()}


def write_cost(
    name: str, record: dict[str, Any], med: dict[str, float], rounds: int, what: str, shape: str
) -> None:
    """``record`` with :func:`alternating_medians`' ``"with"`` / ``"without"`` medians: one line printed
    (``shape``: the input, ``what``: the step timed) and ``results/{name}.json`` written atomically."""
    out = {**record, "seconds_with": med["with"], "seconds_without": med["without"], "rounds": rounds}
    print(
        f"{shape}: predict_proba {med['without']:.3f} s without {what}, {med['with']:.3f} s with it "
        f"(median of {rounds} alternating rounds)"
    )
    RESULTS.mkdir(exist_ok=True)
    write_atomic(RESULTS / f"{name}.json", json.dumps(out, indent=1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--m", type=int, default=20)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    L = problem(args.n, args.m, args.k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = LabelModel(cardinality=args.k).fit(L)
    solutions = with_and_without(lm, "tie_break", "tie-break")
    med = alternating_medians(lm, solutions, L, args.rounds)
    lm.solution_ = solutions["without"]  # the tables' ties, before the second fit breaks them
    P = lm.predict_proba(L)
    lm.solution_ = solutions["with"]
    top = P >= P.max(axis=1, keepdims=True) - 1e-5
    record = {
        "n": args.n,
        "m": args.m,
        "k": args.k,
        "family": lm.family_,
        "rows_tied_before": float(np.mean(top.sum(axis=1) > 1)),
    }
    shape = f"{args.n} x {args.m}, k = {args.k} ({lm.family_})"
    write_cost("tie_predict_cost", record, med, args.rounds, "the tie-break", shape)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
