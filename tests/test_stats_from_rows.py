"""Statistics from counted distinct rows equal the pass over the matrix.

Every statistic is a sum of whole numbers held in float64 (below 2**53), which floating point
adds exactly in any order, so the two paths must agree exactly, not just to rounding.
"""

from __future__ import annotations

import numpy as np
import pytest

import tripletws.stats as S
from tripletws.matrix import check_label_matrix
from tripletws.models.base import Needs
from tripletws.rows import RowAccumulator
from tripletws.summary import summarize

FIELDS = ("class_counts", "covote", "agree")


def _matrix(n: int, m: int, k: int, coverage: float, distinct: int, seed: int) -> np.ndarray:
    """``n`` rows drawn from ``distinct`` random rows (repeats, as real label matrices have)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, k, size=(distinct, m))
    base = np.where(rng.random((distinct, m)) < coverage, base, -1)
    return base[rng.integers(0, distinct, size=n)].astype(np.int8)


def _assert_same(a: S.LabelStats, b: S.LabelStats) -> None:
    assert a.n_rows == b.n_rows
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))


@pytest.mark.parametrize(
    "m,k,coverage",
    [(8, 2, 0.7), (40, 3, 0.1), (120, 6, 0.03), (30, 4, 0.9)],
)
@pytest.mark.parametrize("ratio", [0.0, 1e18])  # the pair list and the dense Grams
def test_stats_from_rows_exact(
    monkeypatch: pytest.MonkeyPatch, m: int, k: int, coverage: float, ratio: float
) -> None:
    L = _matrix(3000, m, k, coverage, 200, seed=m + k)
    ref = S.stats_pass(check_label_matrix(L, k))[0]
    acc = RowAccumulator(m, k, 10_000)
    acc.add(L)
    rows = acc.summary()
    monkeypatch.setattr(S, "ROWS_STATS_DENSE_RATIO", ratio)
    got = S.stats_from_rows(rows.rows, rows.counts, k, float(len(L)))
    assert got is not None
    _assert_same(got, ref)


def test_too_many_pairs_declines(monkeypatch: pytest.MonkeyPatch) -> None:
    L = _matrix(500, 50, 3, 0.2, 100, seed=1)
    acc = RowAccumulator(50, 3, 10_000)
    acc.add(L)
    rows = acc.summary()
    monkeypatch.setattr(S, "ROWS_STATS_DENSE_RATIO", 0.0)
    monkeypatch.setattr(S, "ROWS_STATS_MAX_PAIRS", 10)
    assert S.stats_from_rows(rows.rows, rows.counts, 3, 500.0) is None


@pytest.mark.parametrize(
    "distinct,cap",
    [(100, 10_000), (100, 50), (2500, 10_000)],  # few rows; a hash sample; many distinct rows
)
def test_summary_routes_agree(distinct: int, cap: int) -> None:
    L = _matrix(3000, 20, 3, 0.4, distinct, seed=distinct)
    ref = S.stats_pass(check_label_matrix(L, 3))[0]
    for needs in (Needs(rows=cap), Needs()):
        summary = summarize(L, 3, lambda m, needs=needs: needs)
        _assert_same(summary.stats, ref)
        if needs.rows:
            assert summary.rows is not None and summary.rows.n_rows == 3000.0
            assert (summary.rows.level > 0) == (cap < distinct)
