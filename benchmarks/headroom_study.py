"""How far the default is from what its model class could give: oracle and gold-fitted baselines.

For each problem of a stress draw (benchmarks/stress_problems.py), scored on the test rows as
benchmarks/stress.py scores them (accuracy expected under a uniform tie-break):

* ``mv``: majority vote;
* ``default``: ``LabelModel(cardinality=k).fit(L_train)`` (skipped with ``--no-default``);
* ``ci_oracle``: the conditionally independent model with the generator's *marginal* tables
  ``P(vote of LF i | y)`` (every outcome, abstain included; the hidden row types, shared
  features, copies and crowd assignments summed out) and its true class balance: the tables
  are counted on ``--oracle-rows`` rows of a separate gold-labelled draw of the same world.
  No label model that assumes conditional independence can do better than this on average
  except by luck; it says how much of a problem's gap is estimation rather than structure;
* ``ci_oracle_uniform``: the same tables with a uniform class balance;
* ``gold_ds``: Dawid-Skene tables (every outcome, abstain included) and class balance counted
  on the train rows *with their gold labels* (0.5 added to every cell): what a supervised fit
  of the same model class gets from the same rows;
* ``gold_one_coin``: one accuracy per LF and a class-blind coverage, counted on the train rows
  with gold, uniform balance (the shape of the default's vote-only families);
* ``em_from_oracle`` (with ``--em``): Dawid-Skene EM on the train rows (every outcome, abstain
  included, class balance estimated, ``EM_STEPS`` steps, at most ``EM_ROWS`` rows) started from
  the ``ci_oracle`` posterior: where the likelihood of the conditionally independent model leads
  from the best tables of its class when the generator is not that model.

The oracles are not methods (they read gold); they are yardsticks for where a gold-free
estimator of the conditionally independent model loses its accuracy.

    PYTHONPATH=src python benchmarks/headroom_study.py --base-seed 20261201 --jobs 2 --out X.json
    PYTHONPATH=src python benchmarks/headroom_study.py --summarize X.json [Y.json ...] --write R.md

Writes one JSON file per run (every problem's scores); ``--summarize`` prints (and ``--write``
writes) the means against MV and the share at or above MV - 0.5 points per family.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from provenance import revision
from scoring import mv_scores, tie_scores
from stress_problems import BASE_SEED, FAMILIES, Problem, all_problems, build_world, draw

from tripletws.atomic import atomic_write_text

ORACLE_STREAM = 7  # the gold draw the oracle tables are counted on (train is 0, test 1)
ORACLE_CELLS = 10_000_000  # rows x LFs of that draw at most
SMOOTH = 0.5  # added to every cell of the gold-counted tables
EM_STEPS = 50
EM_ROWS = 20_000
METHODS = ("default", "ci_oracle", "ci_oracle_uniform", "gold_ds", "gold_one_coin", "em_from_oracle")
TIE_POINTS = 0.5  # "at or above MV - 0.5 points", as benchmarks/stress.py


def outcome_onehot(L: np.ndarray, k: int) -> sp.csr_array:
    """(n, m (k + 1)) sparse one-hot of every LF's outcome per row: column ``i (k + 1) + a`` for
    outcome ``a`` of LF ``i`` (0 abstain, c + 1 a vote for class c)."""
    n, m = L.shape
    cols = (np.arange(m) * (k + 1))[None, :] + L.astype(np.int64) + 1
    return sp.csr_array((np.ones(n * m), cols.ravel(), np.arange(0, n * m + 1, m)), shape=(n, m * (k + 1)))


def outcome_tables(
    L: np.ndarray, Y: np.ndarray, k: int, smooth: float, onehot: sp.csr_array | None = None
) -> np.ndarray:
    """Counted ``P(outcome | y)`` per LF from label rows and class weights (one sparse product).

    Parameters
    ----------
    L : (n, m) ints in -1..k-1
    Y : (n, k) class weights of each row (one-hot for gold)
    k : int
    smooth : float
        Added to every cell before normalising.
    onehot : sparse (n, m (k + 1)), optional
        ``outcome_onehot(L, k)`` when already built.

    Returns
    -------
    (m, k, k + 1): outcome 0 is abstain, outcome a + 1 a vote for class a.
    """
    hot = outcome_onehot(L, k) if onehot is None else onehot
    T = (hot.T @ Y).reshape(L.shape[1], k + 1, k).transpose(0, 2, 1) + smooth
    return T / T.sum(axis=2, keepdims=True)


def log_posterior(
    L: np.ndarray, prior: np.ndarray, T: np.ndarray, onehot: sp.csr_array | None = None
) -> np.ndarray:
    """(n, k) unnormalised log-posterior of rows under tables ``T`` (m, k, k + 1) and ``prior``."""
    k = T.shape[1]
    hot = outcome_onehot(L, k) if onehot is None else onehot
    logT = np.log(np.maximum(T, 1e-300)).transpose(0, 2, 1).reshape(-1, k)  # (m (k + 1), k)
    return hot @ logT + np.log(np.maximum(prior, 1e-300))


def one_coin_tables(L: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """One accuracy per LF (on its votes) and a class-blind coverage, counted with gold."""
    n, m = L.shape
    T = np.empty((m, k, k + 1))
    for i in range(m):
        voted = L[:, i] >= 0
        cov = (voted.sum() + SMOOTH) / (n + 2 * SMOOTH)
        acc = (np.sum(L[voted, i] == y[voted]) + SMOOTH) / (voted.sum() + 2 * SMOOTH)
        T[i, :, 0] = 1.0 - cov
        T[i, :, 1:] = cov * (1.0 - acc) / max(k - 1, 1)
        T[i, np.arange(k), np.arange(k) + 1] = cov * acc
    return T


def posterior(S: np.ndarray) -> np.ndarray:
    """(n, k) normalised posterior from log-scores."""
    P = np.exp(S - S.max(axis=1, keepdims=True))
    return P / P.sum(axis=1, keepdims=True)


def ds_em(L: np.ndarray, Q: np.ndarray, k: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Dawid-Skene EM (every outcome a category, balance estimated) from soft labels ``Q`` (n, k).

    Returns the class balance (k,) and the tables (m, k, k + 1) after ``steps`` M-steps."""
    hot = outcome_onehot(L, k)
    for _ in range(steps):
        balance = (Q.sum(axis=0) + SMOOTH) / (len(Q) + k * SMOOTH)
        T = outcome_tables(L, Q, k, SMOOTH, hot)
        Q = posterior(log_posterior(L, balance, T, hot))
    return balance, T


def run_problem(args: tuple[Problem, bool, bool]) -> dict[str, Any]:
    """Every score of one problem (never raises: an error is recorded)."""
    problem, with_default, with_em = args
    k = int(problem.params["k"])
    out: dict[str, Any] = {
        "name": problem.name,
        "family": problem.family,
        "k": k,
        "m": int(problem.params["m"]),
    }
    try:
        L, y, L_test, y_test = draw(problem)
        out["n"] = int(L.shape[0])
        acc = {"mv": tie_scores(mv_scores(L_test, k), y_test, k)[0]}
        if with_default:
            from tripletws import LabelModel

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.process_time()
                lm = LabelModel(cardinality=k).fit(L)
                P = lm.predict_proba(L_test)
                out["default_cpu_s"] = time.process_time() - t0
            acc["default"] = tie_scores(P, y_test, k)[0]
            out["default_family"] = str(lm.family_)  # the family its predictions come from
        world = build_world(problem)
        n_oracle = int(min(200_000, max(20_000, ORACLE_CELLS // max(world.m, 1))))
        L_o, y_o = world.sample(n_oracle, problem.seed, stream=ORACLE_STREAM)
        T = outcome_tables(L_o, np.eye(k)[y_o], k, 1e-3)
        acc["ci_oracle"] = tie_scores(log_posterior(L_test, world.class_balance, T), y_test, k)[0]
        acc["ci_oracle_uniform"] = tie_scores(log_posterior(L_test, np.full(k, 1.0 / k), T), y_test, k)[0]
        if with_em:
            L_em = L[:EM_ROWS]
            Q = posterior(log_posterior(L_em, world.class_balance, T))
            balance, T_em = ds_em(L_em, Q, k, EM_STEPS)
            acc["em_from_oracle"] = tie_scores(log_posterior(L_test, balance, T_em), y_test, k)[0]
        Y = np.eye(k)[y]
        balance = (Y.sum(axis=0) + SMOOTH) / (len(y) + k * SMOOTH)
        T = outcome_tables(L, Y, k, SMOOTH)
        acc["gold_ds"] = tie_scores(log_posterior(L_test, balance, T), y_test, k)[0]
        T = one_coin_tables(L, y, k)
        acc["gold_one_coin"] = tie_scores(log_posterior(L_test, np.full(k, 1.0 / k), T), y_test, k)[0]
        out["acc"] = acc
    except Exception as exc:  # a failing problem is recorded, not fatal
        out["error"] = f"{type(exc).__name__}: {exc}"[:300]
    return out


def _init_worker() -> None:
    from threadpoolctl import threadpool_limits

    _init_worker.limiter = threadpool_limits(limits=1)  # type: ignore[attr-defined]


def summarize(runs: list[dict[str, Any]], min_rows: int = 0) -> str:
    """Markdown: per family, mean points against MV and the share at or above MV - 0.5 points (problems
    with at least ``min_rows`` train rows)."""
    probs = [p for r in runs for p in r["problems"] if "acc" in p and p.get("n", 0) >= min_rows]
    methods = [mth for mth in METHODS if any(mth in p["acc"] for p in probs)]
    seeds = ", ".join(str(r["base_seed"]) for r in runs)
    lines = [
        "# Headroom: the default against oracle and gold-fitted tables of its model class",
        "",
        f"Draws {seeds} ({len(probs)} problems"
        + (f" with at least {min_rows} train rows" if min_rows else "")
        + "); `benchmarks/headroom_study.py`. Each cell: mean points",
        "against MV / share of problems at or above MV - 0.5 points. The oracle and gold columns read",
        "gold labels: they are yardsticks, not methods (see the script's docstring).",
        "",
        "| family | problems | " + " | ".join(methods) + " |",
        "|---|---:|" + "---|" * len(methods),
    ]
    for fam in (*FAMILIES, "all"):
        sub = [p for p in probs if fam in ("all", p["family"])]
        if not sub:
            continue
        cells = []
        for mth in methods:
            d = np.array([100 * (p["acc"][mth] - p["acc"]["mv"]) for p in sub if mth in p["acc"]])
            cells.append(f"{d.mean():+.1f} / {100 * np.mean(d >= -TIE_POINTS):.0f} %")
        name = f"**{fam}**" if fam == "all" else fam
        lines.append(f"| {name} | {len(sub)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base-seed", type=int, default=BASE_SEED)
    ap.add_argument("--families", nargs="*", choices=FAMILIES)
    ap.add_argument("--problems", nargs="*", help="problem names (default: all of the draw)")
    ap.add_argument("--no-default", action="store_true", help="skip the default's fits")
    ap.add_argument("--em", action="store_true", help="also the EM from the oracle tables")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--out", help="JSON file of this run")
    ap.add_argument("--summarize", nargs="*", help="JSON files of earlier runs: print their table")
    ap.add_argument("--write", help="with --summarize: also write the table to this markdown file")
    ap.add_argument(
        "--min-rows", type=int, default=0, help="with --summarize: problems with this many train rows"
    )
    a = ap.parse_args(argv)
    if a.summarize:
        text = summarize([json.loads(Path(f).read_text()) for f in a.summarize], a.min_rows)
        print(text)
        if a.write:
            atomic_write_text(Path(a.write), text)
        return 0
    problems = [
        p
        for p in all_problems(a.base_seed)
        if (not a.families or p.family in a.families) and (not a.problems or p.name in a.problems)
    ]
    jobs = [(p, not a.no_default, a.em) for p in problems]
    t0 = time.perf_counter()
    if a.jobs > 1:
        with get_context("fork").Pool(a.jobs, initializer=_init_worker) as pool:
            results = pool.map(run_problem, jobs, chunksize=1)
    else:
        _init_worker()
        results = [run_problem(j) for j in jobs]
    run = {
        "base_seed": a.base_seed,
        "revision": revision(),
        "seconds": time.perf_counter() - t0,
        "problems": results,
    }
    for p in results:
        if "error" in p:
            print(f"{p['name']}: {p['error']}", file=sys.stderr)
    print(summarize([run]))
    if a.out:
        atomic_write_text(Path(a.out), json.dumps(run, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
