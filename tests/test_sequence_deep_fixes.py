"""Sequence model: regressions found by a deep review of the temporal model (forward-backward arithmetic
at negative persistences, ...)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tripletws.chain import chain_posteriors
from tripletws.estimators.transition import lowest_persistence, persistence_bounds


def _brute_force(log_e: np.ndarray, starts: np.ndarray, rho: float, p: np.ndarray) -> np.ndarray:
    """Marginals by enumerating every label path, in log space (an independent computation)."""
    n, k = log_e.shape
    paths = np.array(list(itertools.product(range(k), repeat=n)))
    with np.errstate(divide="ignore"):  # log 0: an impossible transition
        log_t = np.log(np.maximum(rho * np.eye(k) + (1.0 - rho) * p[None, :], 0.0))
        score = log_e[np.arange(n), paths].sum(axis=1) + np.where(starts[0], np.log(p[paths[:, 0]]), 0.0)
        for t in range(1, n):
            step = np.log(p[paths[:, t]]) if starts[t] else log_t[paths[:, t - 1], paths[:, t]]
            score = score + step
    w = np.exp(score - score.max())
    post = np.zeros((n, k))
    for t in range(n):
        np.add.at(post[t], paths[:, t], w)
    return post / post.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("where", ["lowest", "bound"])
def test_negative_persistence_with_confident_votes_gives_probabilities(k, where):
    # Old behaviour: the chain applied rho x + (1 - rho) p sum(x) with rho < 0, a difference of terms of
    # the size of x that cancel to the (near-zero) probability of staying in the rarest class; with
    # confident votes (log-likelihoods of tens) the rounding overruled the true messages: negative
    # "probabilities" (rows summing to -0.004), NaN at the documented lowest rho, and errors of 3e-11
    # within the model's own range.  Now only sums of non-negative terms are formed.
    rng = np.random.default_rng(7)
    worst = 0.0
    for _ in range(40):
        n = int(rng.integers(2, 8))
        p = rng.dirichlet(np.ones(k))
        rho = lowest_persistence(p) if where == "lowest" else persistence_bounds(p)[0]
        log_e = rng.normal(size=(n, k)) * 50.0
        starts = np.zeros(n, dtype=bool)
        starts[0] = True
        got = chain_posteriors(log_e, starts, rho, p, block=int(rng.integers(1, 4)))
        assert np.isfinite(got).all() and (got >= 0).all()
        np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-12)
        worst = max(worst, float(np.abs(got - _brute_force(log_e, starts, rho, p)).max()))
    # derived tolerance: the brute force sums n log-terms of size up to ~200 (n <= 7), so its scores carry
    # ~n * 200 * 2.2e-16 ~ 3e-13 absolute error, i.e. that relative error in the posteriors; the chain's
    # scaled messages (sums of non-negative terms only) add ~n (2k + 4) eps; 1e-11 leaves 30x margin
    assert worst < 1e-11, worst


@pytest.mark.parametrize("rho", [float("nan"), 1.5, 1.0, -0.5])
def test_chain_posteriors_refuses_a_persistence_outside_its_range(rho):
    # Old behaviour: no check; NaN gave NaN posteriors, 1.5 and -0.5 (below -p_min / (1 - p_min) = -0.25)
    # negative "probabilities" without an error
    with pytest.raises(ValueError, match="persistence must lie in"):
        chain_posteriors(np.zeros((3, 2)), np.array([True, False, False]), rho, np.array([0.2, 0.8]))
