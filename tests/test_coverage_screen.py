"""The abstain check's chi-square screen (estimators.coverage_screen): firing against the others' votes."""

from __future__ import annotations

import numpy as np
import pytest

from tripletws.estimators import abstain_check as check_module
from tripletws.estimators import coverage_screen as screen_module
from tripletws.estimators.abstain_check import abstain_check
from tripletws.estimators.coverage_screen import CoverageScreen, _categories, coverage_screen, firing_tables
from tripletws.matrix import LabelMatrix
from tripletws.rows import RowSummary


def draw(n, m, k, cov, rng, acc=0.7):
    """n rows of m LFs, uniform classes; LF j fires with probability ``cov[j, y]`` and is right with
    probability ``acc``, else votes another class at random."""
    y = rng.integers(0, k, size=n)
    fire = rng.random((n, m)) < cov[:, y].T
    right = rng.random((n, m)) < acc
    other = (y[:, None] + rng.integers(1, k, size=(n, m))) % k
    return np.where(fire, np.where(right, y[:, None], other), -1).astype(np.int8)


def summary(L, k):
    return RowSummary.from_matrix(LabelMatrix(L, k), 20_000)


def test_tables_count_every_row_once_per_lf():
    rng = np.random.default_rng(0)
    L = draw(3_000, 6, 3, np.full((6, 3), 0.4), rng)
    T = firing_tables(summary(L, 3))
    assert T.shape == (6, 2, 4)
    np.testing.assert_array_equal(T.sum(axis=(1, 2)), np.full(6, 3_000.0))
    np.testing.assert_array_equal(T[:, 0].sum(axis=1), (L >= 0).sum(axis=0))
    # an LF's votes against the others' unique plurality, by hand for LF 0
    others = L[:, 1:]
    counts = np.stack([(others == c).sum(axis=1) for c in range(3)], axis=1)
    top = counts.max(axis=1)
    cat = np.where((top > 0) & ((counts == top[:, None]).sum(axis=1) == 1), counts.argmax(axis=1), 3)
    fired = L[:, 0] >= 0
    np.testing.assert_array_equal(T[0, 0], np.bincount(cat[fired], minlength=4))
    np.testing.assert_array_equal(T[0, 1], np.bincount(cat[~fired], minlength=4))


def test_null_rejections_are_rare():
    # coverage independent of the class: Bonferroni's bound rejects at 5 % on at most 5 % of the draws
    # if the per-LF chi-square laws hold (3 of these 60); the count is binomial, and 12 (four times
    # the expected 3) would say the per-LF tests are far more liberal than their law
    rejected = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        cov = np.repeat(rng.uniform(0.2, 0.7, size=(10, 1)), 2, axis=1)
        s = coverage_screen(summary(draw(4_000, 10, 2, cov, rng), 2))
        assert s.valid and s.n_tested == 10
        rejected += s.rejects(0.05)
    assert rejected <= 12


def test_class_dependent_coverage_is_found():
    rng = np.random.default_rng(1)
    cov = np.repeat(np.array([[0.3, 0.6]]), 10, axis=0)
    s = coverage_screen(summary(draw(4_000, 10, 2, cov, rng), 2))
    assert s.valid and s.p_any < 1e-6 and s.p_sum < 1e-6 and s.rejects(0.05)


def test_small_tables_are_not_read():
    rng = np.random.default_rng(2)
    s = coverage_screen(summary(draw(12, 5, 3, np.full((5, 3), 0.5), rng), 3))
    assert not s.valid and np.isnan(s.p_any) and s.rejects(0.5)


def test_the_check_refuses_without_fitting_where_the_screen_keeps_independence(monkeypatch):
    rng = np.random.default_rng(3)
    # seed 3's draw: neither test rejects (checked below), and it has well over MIN_ROWS distinct rows
    cov = np.repeat(rng.uniform(0.2, 0.7, size=(12, 1)), 2, axis=1)
    rows = summary(draw(6_000, 12, 2, cov, rng), 2)
    assert len(rows.rows) >= screen_module.MIN_ROWS
    assert not coverage_screen(rows).rejects(screen_module.ALPHA)

    def no_fits(*args, **kwargs):
        raise AssertionError("the informative fits ran")

    monkeypatch.setattr(check_module, "_fold_scores", no_fits)
    result = abstain_check(rows, "mace", np.full(2, 0.5))
    assert not result.accepted and result.reason.startswith("no LF's abstentions show a dependence")
    assert np.isnan(result.lead) and result.family == ""
    # off (a study switch), or on fewer distinct rows than MIN_ROWS: the check fits as before
    monkeypatch.setattr(screen_module, "ALPHA", None)
    with pytest.raises(AssertionError, match="informative fits ran"):
        abstain_check(rows, "mace", np.full(2, 0.5))
    monkeypatch.setattr(screen_module, "ALPHA", 0.05)
    monkeypatch.setattr(screen_module, "MIN_ROWS", len(rows.rows) + 1)
    with pytest.raises(AssertionError, match="informative fits ran"):
        abstain_check(rows, "mace", np.full(2, 0.5))


def test_rejects_reads_bonferroni_validity_and_optionally_the_sum(monkeypatch):
    assert screen_module.SUMMED is False  # the summed test is a study switch
    assert CoverageScreen(0.5, 0.5, 4).rejects(0.05) is False
    assert CoverageScreen(0.01, 0.5, 4).rejects(0.05) is True
    assert CoverageScreen(0.5, 0.01, 4).rejects(0.05) is False
    assert CoverageScreen(float("nan"), float("nan"), 4, valid=False).rejects(0.05) is True
    monkeypatch.setattr(screen_module, "SUMMED", True)
    assert CoverageScreen(0.5, 0.01, 4).rejects(0.05) is True


def test_categories_are_the_unique_top_class_else_k():
    """The column-by-column categories equal the row reductions' (unique argmax where the top is
    positive and unique, else k), ties and empty rows included, for several k."""
    rng = np.random.default_rng(3)
    for k in (2, 3, 5, 10):
        for hi in (1, 2, 4):
            C = rng.integers(0, hi + 1, (5_000, k))
            top = C.max(axis=1)
            unique = np.count_nonzero(C == top[:, None], axis=1) == 1
            want = np.where((top > 0) & unique, C.argmax(axis=1), k)
            np.testing.assert_array_equal(_categories(C), want)
