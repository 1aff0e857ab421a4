"""EM polish over distinct rows: row collection (exact, capped), likelihood ascent, fixed priors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tripletws.datasets import make_synthetic
from tripletws.estimators.em import collect_unique_rows, em_refine
from tripletws.matrix import check_label_matrix, to_sparse
from tripletws.params import LabelModelParams


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


def test_cap_takes_a_uniform_subsample_with_a_warning():
    d = make_synthetic(40_000, 20, 2, random_state=2)
    n_distinct = len(np.unique(d.L, axis=0))
    with pytest.warns(UserWarning, match="uniform subsample"):
        u = collect_unique_rows(check_label_matrix(d.L, 2), max_rows=n_distinct // 3, random_state=0)
    assert u.n_unique <= n_distinct // 3
    assert u.sample_rate == 0.25
    # a Binomial(n, rate) count of rows survives: within 5 standard deviations
    sd = np.sqrt(len(d.L) * 0.25 * 0.75)
    assert abs(u.counts.sum() - 0.25 * len(d.L)) < 5 * sd
    with pytest.warns(UserWarning, match="uniform subsample"):
        again = collect_unique_rows(check_label_matrix(d.L, 2), max_rows=n_distinct // 3, random_state=0)
    np.testing.assert_array_equal(again.counts, u.counts)  # reproducible with a seed
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
