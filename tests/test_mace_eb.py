"""MACE's empirical-Bayes prior on theta (``annotator.MACE_EB``): the strength and parameter recovery."""

from __future__ import annotations

import numpy as np
import pytest
from test_annotator import draw_mace

from tripletws.estimators import annotator as A
from tripletws.estimators.annotator import fit_annotator
from tripletws.estimators.theta_prior import eb_strength
from tripletws.matrix import check_label_matrix
from tripletws.rows import RowSummary


def _draw_mace(n, theta, xi, coverage, k, rng):
    """MACE rows (the label matrix only; :func:`test_annotator.draw_mace`)."""
    return draw_mace(n, theta, xi, coverage, k, rng)[0]


def _theta_hat(params, k):
    """theta_i from the fitted vote table: the diagonal minus the same vote off the diagonal."""
    V = params.cond_probs[:, 1:, :]
    V = V / V.sum(axis=1, keepdims=True)
    off = ~np.eye(k, dtype=bool)
    return np.array([np.mean([V[i, y, y] - V[i, y][off[y]].mean() for y in range(k)]) for i in range(len(V))])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equal_rates_give_a_strong_prior(seed):
    # binomial counts with one rate: S / (mu (1 - mu)) is about chi^2 with M - 1 degrees of freedom, so
    # the moment estimate of rho is within 4 sd: |rho| <= 4 sqrt(2 (M - 1)) / den, s >= 1 / rho - 1
    rng = np.random.default_rng(seed)
    M = 300
    n = rng.integers(5, 40, size=M).astype(float)
    knows = rng.binomial(n.astype(int), 0.7).astype(float)
    mu, s = eb_strength(knows[:, None], n[:, None], 2.0, 1e4)
    N = n.sum()
    den = N - (n * n).sum() / N - (M - 1)
    assert abs(mu[0] - 0.7) < 4 * np.sqrt(0.21 / N)
    assert s[0] >= den / (4 * np.sqrt(2 * (M - 1))) - 1


def test_spread_rates_give_a_weak_prior_and_unmoved_estimates():
    # rates uniform on [0.3, 0.95]: variance 0.65^2 / 12, so s = mu (1 - mu) / var - 1 is about 4;
    # with 2000 votes each the shrinkage s |r_i - mu| / (n_i + s) is ~1e-3, under the SE ~0.01
    rng = np.random.default_rng(3)
    M, n_i = 40, 2000
    rate = rng.uniform(0.3, 0.95, size=M)
    n = np.full(M, float(n_i))
    knows = rng.binomial(n_i, rate).astype(float)
    mu, s = eb_strength(knows[:, None], n[:, None], 2.0, 1e4)
    assert 2.0 <= s[0] < 20.0
    theta = (knows + s[0] * mu[0]) / (n + s[0])
    se = np.sqrt(rate * (1 - rate) / n_i)
    np.testing.assert_array_less(np.abs(theta - rate), 4 * se)


def test_unidentified_spread_keeps_the_weakest_prior():
    # one LF (M - 1 = 0, den = N - N = 0): rho is not identified, s = s_min
    mu, s = eb_strength(np.array([[7.0]]), np.array([[10.0]]), 2.0, 1e4)
    assert s[0] == 2.0 and abs(mu[0] - 0.7) < 1e-12


def test_mace_eb_recovers_heterogeneous_theta(monkeypatch):
    # many votes per LF: the prior changes little, theta_i within binomial SE of the truth
    monkeypatch.setattr(A, "MACE_EB", True)
    rng = np.random.default_rng(0)
    k, m, n = 3, 6, 30_000
    theta = np.linspace(0.3, 0.8, m)
    xi = rng.dirichlet(2 * np.ones(k), size=m)
    cov = np.full(m, 0.6)
    L = _draw_mace(n, theta, xi, cov, k, rng)
    unique = RowSummary.from_matrix(check_label_matrix(L, k), 10**7)
    fit = fit_annotator(unique, "mace", class_balance=np.full(k, 1.0 / k))
    se = 1.0 / np.sqrt(n * cov)
    np.testing.assert_array_less(np.abs(_theta_hat(fit.params, k) - theta), 5 * se)


def test_mace_eb_pools_equal_theta_of_sparse_lfs(monkeypatch):
    # 150 LFs of equal theta with ~30 votes each: the uniform prior leaves theta_i spread by the
    # binomial noise (sd ~ sqrt(0.24 / 30) ~ 0.09); the pooled prior pulls them together around 0.6
    rng = np.random.default_rng(1)
    k, m, n = 3, 150, 1000
    theta = np.full(m, 0.6)
    xi = np.full((m, k), 1.0 / k)
    L = _draw_mace(n, theta, xi, np.full(m, 0.03), k, rng)
    unique = RowSummary.from_matrix(check_label_matrix(L, k), 10**7)
    off = _theta_hat(fit_annotator(unique, "mace").params, k)
    monkeypatch.setattr(A, "MACE_EB", True)
    on = _theta_hat(fit_annotator(unique, "mace").params, k)
    assert on.std() < 0.25 * off.std()
    assert abs(on.mean() - 0.6) < 0.05
