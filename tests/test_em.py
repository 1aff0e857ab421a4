"""EM polish over distinct rows: row collection (exact, capped), likelihood ascent, fixed priors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tripletws.datasets import make_synthetic
from tripletws.estimators.em import em_refine
from tripletws.matrix import check_label_matrix, to_sparse
from tripletws.params import LabelModelParams
from tripletws.rows import DEFAULT_MAX_UNIQUE_ROWS, RowSummary


def collect_unique_rows(lm, chunk_size=None, max_rows=DEFAULT_MAX_UNIQUE_ROWS):
    return RowSummary.from_matrix(lm, max_rows, chunk_size)


def sorted_rows(rows, counts):
    order = np.lexsort(rows.T[::-1])
    return rows[order], counts[order]


@pytest.mark.parametrize("m, k", [(12, 2), (30, 3), (15, 40)])  # one key word, several words
def test_unique_rows_match_numpy_on_every_path(m, k):
    d = make_synthetic(20_000, m, k, coverage=0.2, random_state=1)
    want_rows, want_counts = np.unique(d.L, axis=0, return_counts=True)
    for L, chunk in ((d.L, None), (d.L, 777), (to_sparse(d.L), 1000)):
        u = collect_unique_rows(check_label_matrix(L, k), chunk_size=chunk)
        rows, counts = sorted_rows(u.rows.astype(np.int64), u.counts)
        np.testing.assert_array_equal(rows, want_rows)
        np.testing.assert_array_equal(counts, want_counts)
        assert u.sample_rate == 1.0 and u.n_rows == len(d.L)


def test_cap_keeps_a_hash_sample_of_distinct_rows_with_their_full_counts():
    d = make_synthetic(40_000, 20, 2, random_state=2)
    rows, counts = np.unique(d.L, axis=0, return_counts=True)
    cap = len(rows) // 3
    u = collect_unique_rows(check_label_matrix(d.L, 2), max_rows=cap)
    assert u.n_unique <= cap and u.sample_rate == 0.25 and u.n_rows == len(d.L)
    # every kept row carries its full count
    full = {tuple(r): c for r, c in zip(rows.tolist(), counts, strict=True)}
    assert all(full[tuple(r)] == c for r, c in zip(u.rows.tolist(), u.counts, strict=True))
    # each distinct row is kept with probability 1/4: the kept count is within 5 standard deviations
    sd = np.sqrt(0.25 * 0.75 * np.sum(counts.astype(float) ** 2))
    assert abs(u.counts.sum() - 0.25 * len(d.L)) < 5 * sd
    with pytest.raises(ValueError, match="max_rows"):
        collect_unique_rows(check_label_matrix(d.L, 2), max_rows=0)


def test_em_climbs_the_likelihood_from_a_poor_start():
    d = make_synthetic(30_000, 8, 3, unipolar=0.5, random_state=3)
    u = collect_unique_rows(check_label_matrix(d.L, 3))
    start = LabelModelParams.symmetric(np.full(8, 0.6), d.coverage, np.full(3, 1 / 3))
    lls = [em_refine(u, start, steps, tol=-np.inf).log_likelihood for steps in (1, 2, 5, 20)]
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(lls)), lls
    final = em_refine(u, start, 200).params
    err_start = np.abs(start.accuracies - d.accuracies).mean()
    err_final = np.abs(final.accuracies - d.accuracies).mean()
    assert err_final < 0.2 * err_start
    assert np.allclose(final.cond_probs.sum(axis=1), 1) and np.all(final.cond_probs >= 0)


def test_em_keeps_a_given_class_balance():
    d = make_synthetic(20_000, 8, 2, class_balance=[0.7, 0.3], random_state=4)
    u = collect_unique_rows(check_label_matrix(d.L, 2))
    start = LabelModelParams(np.array([0.6, 0.4]), d.cond_probs)
    fixed = em_refine(u, start, 20, fix_class_balance=True)
    np.testing.assert_allclose(fixed.params.class_balance, [0.6, 0.4])
    free = em_refine(u, start, 200)
    se = np.sqrt(0.21 / len(d.y))
    assert abs(free.params.class_balance[1] - 0.3) < 6 * se + 0.005
    assert free.converged


def test_em_input_checks():
    d = make_synthetic(2_000, 5, 2, random_state=5)
    u = collect_unique_rows(check_label_matrix(d.L, 2))
    with pytest.raises(ValueError, match="columns"):
        em_refine(u, LabelModelParams(np.array([0.5, 0.5]), d.cond_probs[:4]), 3)
    with pytest.raises(ValueError, match="prior_strength"):
        em_refine(u, d.params, 3, prior_strength=-1)
    assert em_refine(u, d.params, 0).n_steps == 0
