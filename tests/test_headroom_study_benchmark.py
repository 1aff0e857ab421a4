"""benchmarks/headroom_study.py: its tables are the generator's marginal tables; its run and summary."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import headroom_study  # noqa: E402
from stress_problems import all_problems, build_world  # noqa: E402


def _problem(family: str, max_m: int = 40):
    return next(p for p in all_problems(20261201) if p.family == family and int(p.params["m"]) <= max_m)


def test_outcome_tables_count_gold_exactly() -> None:
    L = np.array([[0, -1], [1, 1], [0, 0], [-1, 1]])
    y = np.array([0, 1, 0, 1])
    T = headroom_study.outcome_tables(L, np.eye(2)[y], 2, 0.0)
    # LF 0 on class 0 rows: votes 0, 0; on class 1 rows: vote 1, abstain
    np.testing.assert_array_equal(T[0], [[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    np.testing.assert_array_equal(T[1], [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    T1 = headroom_study.outcome_tables(L, np.eye(2)[y], 2, 1.0)
    np.testing.assert_allclose(T1[0, 0], [1 / 5, 3 / 5, 1 / 5])


def test_oracle_tables_are_the_marginals_of_a_shared_feature_world() -> None:
    """A member of a feature group votes from (1 - r_y) T0 + r_y T1 given y: the oracle's counted table."""
    problem = _problem("shared_feature")
    world = build_world(problem)
    k = world.k
    n = 40_000
    L, y = world.sample(n, problem.seed, stream=headroom_study.ORACLE_STREAM)
    T = headroom_study.outcome_tables(L, np.eye(k)[y], k, 0.0)
    grouped = np.flatnonzero(world.group >= 0)
    assert grouped.size
    n_y = np.bincount(y, minlength=k)
    for i in grouped[:3]:
        r = world.feature_rate[world.group[i]]  # P(z = 1 | y), (k,)
        want = (1 - r)[:, None] * world.tables[i, 0, 0] + r[:, None] * world.tables[i, 0, 1]
        # binomial standard error of each cell, 6 of them as the bound (k (k + 1) cells per LF)
        se = np.sqrt(want * (1 - want) / np.maximum(n_y, 1)[:, None]) + 1e-12
        assert np.all(np.abs(T[i] - want) <= 6 * se + 1e-9), i


def test_run_problem_and_summary() -> None:
    problem = _problem("ci", max_m=10)
    rec = headroom_study.run_problem((problem, False, True))
    assert "error" not in rec
    acc = rec["acc"]
    assert set(acc) == {"mv", "ci_oracle", "ci_oracle_uniform", "gold_ds", "gold_one_coin", "em_from_oracle"}
    assert all(0.0 <= v <= 1.0 for v in acc.values())
    text = headroom_study.summarize([{"base_seed": 1, "problems": [rec]}])
    assert "| ci | 1 |" in text and "| **all** | 1 |" in text
    assert "default" not in text.split("| family |")[1].splitlines()[0]


def test_ds_em_keeps_the_truth_of_a_conditionally_independent_world() -> None:
    """Started at the true tables of a world that is the model, EM stays within sampling error of them."""
    rng = np.random.default_rng(5)
    k, m, n = 3, 6, 20_000
    acc = rng.uniform(0.6, 0.85, size=m)
    cov = rng.uniform(0.3, 0.9, size=m)
    T = np.empty((m, k, k + 1))
    for i in range(m):
        T[i, :, 0] = 1 - cov[i]
        T[i, :, 1:] = cov[i] * (1 - acc[i]) / (k - 1)
        T[i, np.arange(k), np.arange(k) + 1] = cov[i] * acc[i]
    y = rng.integers(0, k, size=n)
    L = np.empty((n, m), dtype=np.int64)
    for i in range(m):
        u = rng.random(n)[:, None] > np.cumsum(T[i][y], axis=1)
        L[:, i] = u.sum(axis=1) - 1
    Q = headroom_study.posterior(headroom_study.log_posterior(L, np.full(k, 1 / k), T))
    balance, T_em = headroom_study.ds_em(L, Q, k, 50)
    # each cell counted on about n / k rows: 6 binomial standard errors of the largest cell
    assert np.max(np.abs(T_em - T)) < 6 * np.sqrt(0.25 / (n / k)) * 2
    np.testing.assert_allclose(balance, 1 / k, atol=6 * np.sqrt(0.25 / n) * 2)
