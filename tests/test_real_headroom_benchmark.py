"""benchmarks/real_headroom.py: the tie-break expectation it reads, its gold tables and one set's run."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import real_headroom  # noqa: E402
from conftest import DATA_DIR  # noqa: E402
from scoring import mv_scores, row_correct, tie_scores  # noqa: E402


def test_row_correct_splits_ties_uniformly() -> None:
    P = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(row_correct(P, np.array([1, 2, 0])), [0.5, 1.0, 1 / 3])


def test_gold_tables_count_every_outcome() -> None:
    L = np.array([[0, -1], [1, 1], [0, 0], [-1, 1]])
    y = np.array([0, 1, 0, 1])
    p = real_headroom.gold_tables(L, y, 2)
    # LF 0 on class 0 rows: votes 0, 0 (+1 pseudo-count per outcome): abstain 1/5, vote 0 3/5, vote 1 1/5
    np.testing.assert_allclose(p.cond_probs[0, :, 0], [1 / 5, 3 / 5, 1 / 5])
    np.testing.assert_allclose(p.cond_probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(p.class_balance, [0.5, 0.5])


def test_one_set_adds_up() -> None:
    """The rows by kind add up to the eval rows, and majority vote's expected right over the kinds
    is its accuracy (the two computed separately)."""
    if not (DATA_DIR / "index.json").exists():
        pytest.skip(f"shared benchmark data not found under {DATA_DIR}")
    index = real_headroom.load_index()
    r = real_headroom.study("youtube", index["youtube"])
    assert r is not None
    by_kind = r["by_kind"]
    assert sum(b["rows"] for b in by_kind.values()) == r["n_eval"]
    mv_right = sum(b["mv"] for b in by_kind.values())
    assert mv_right == pytest.approx(r["mv"]["acc"] * r["n_eval"], abs=1e-6)
    L, y = real_headroom.load_split("youtube", index["youtube"]["eval_split"])
    keep = y >= 0
    assert r["mv"]["acc"] == pytest.approx(tie_scores(mv_scores(L[keep], 2), y[keep], 2)[0])
    for label in ("default", "oracle", "oracle/uni", "em from mv", "em from oracle"):
        assert 0.0 <= r[label]["acc"] <= 1.0
    # EM started at the oracle climbs: its likelihood is at least the oracle's (MAP steps; the
    # pseudo-counts differ slightly, so to a small tolerance)
    assert r["loglik"]["em from oracle"] >= r["loglik"]["oracle"] - 1e-3
    text = real_headroom.render({"youtube": r})
    assert "| youtube | 2 |" in text
