"""Smoke test of benchmarks/lf_halves_study.py (the default against MV on halves of the LFs)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import lf_halves_study as study


def test_agreement_counts_ties_as_shared_chances():
    A = np.array([[0.7, 0.3], [0.5, 0.5], [0.2, 0.8]])
    B = np.array([[0.6, 0.4], [0.9, 0.1], [0.9, 0.1]])
    np.testing.assert_allclose(study.expected_agreement(A, B), [1.0, 0.5, 0.0])


def test_halves_and_the_veto_on_a_conditionally_independent_problem():
    rng = np.random.default_rng(3)
    n, m, k = 2000, 8, 2
    y = rng.integers(0, k, n)
    acc = np.linspace(0.6, 0.9, m)
    L = np.where(rng.random((n, m)) < acc, y[:, None], 1 - y[:, None])
    L = np.where(rng.random((n, m)) < 0.5, L, -1)
    h = study.halves(L, k, seed=0)
    assert h is not None and h["splits"] == study.SPLITS and h["rows"] >= study.MIN_ROWS
    assert 0.5 < h["mv"] <= 1.0 and 0.5 < h["default"] <= 1.0
    assert study.halves(L[:, :5], k, seed=0) is None  # a half needs three LFs
    row = {"name": "p", "mv": 0.8, "default": 0.7, "halves": {**h, "diff": -0.1, "se": 0.01}}
    rows = [row, {"name": "q", "mv": 0.8, "default": 0.9, "halves": None}]
    summary = study.summarise(rows)
    assert summary[0] == {"rule": "default", "mean": 0.8, "share": 0.5}
    at2 = next(s for s in summary if s["rule"] == "veto at z = 2")
    assert at2["vetoed"] == 1 and at2["gains"] == 1 and np.isclose(at2["mean"], 0.85) and at2["share"] == 1.0
    assert "veto at z = 2" in study.to_markdown(
        {"command": "c", "revision": "r", "rows": rows, "summary": summary}
    )
