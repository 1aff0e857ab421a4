"""MACE's two-component (spammer / expert) prior on theta (``annotator.MACE_MIX``, a study option)."""

from __future__ import annotations

import numpy as np
import pytest
from test_annotator import draw_mace, unique_rows
from test_mace_eb import _theta_hat

from tripletws.estimators import annotator as A
from tripletws.estimators import theta_prior as TP
from tripletws.estimators.annotator import fit_annotator
from tripletws.estimators.theta_prior import _weighted_moments, eb_strength, mix_prior, mix_theta


def test_unit_weights_are_the_pooled_moments():
    # with w = 1 the weighted moment equation is eb_strength's: W = M, A = 1, B = sum n^2 / N
    rng = np.random.default_rng(0)
    n = rng.integers(5, 60, size=(50, 3)).astype(float)
    knows = rng.binomial(n.astype(int), 0.6).astype(float)
    var = rng.uniform(0, 2, size=n.shape)
    mu, s = eb_strength(knows, n, 2.0, 1e4, var=var)
    mu_w, s_w = _weighted_moments(knows, n, var, np.ones_like(n), 2.0, 1e4)
    np.testing.assert_allclose(mu_w, mu, rtol=1e-12)
    np.testing.assert_allclose(s_w, s, rtol=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mixture_separates_spammers_and_experts(seed):
    # 30 LFs at rate 0.1 and 20 at 0.85, 20-60 votes each: a component's mean is within 4 SE of
    # its rate (SE of a pooled rate over >= 600 votes: sqrt(0.85 * 0.15 / 600) ~ 0.015, and 0.012
    # for the spammers), pi within 4 binomial SE of 0.6 (sqrt(0.24 / 50) ~ 0.07), and every LF's
    # component posterior on its own side (the rates are > 10 SE apart for 20 votes)
    rng = np.random.default_rng(seed)
    rate = np.r_[np.full(30, 0.1), np.full(20, 0.85)]
    n = rng.integers(20, 61, size=50).astype(float)
    knows = rng.binomial(n.astype(int), rate).astype(float)
    pi, mu, s = mix_prior(knows[:, None], n[:, None], np.zeros((50, 1)), 2.0, 1e4)
    assert abs(mu[0, 0] - 0.1) < 4 * np.sqrt(0.09 / 600)
    assert abs(mu[1, 0] - 0.85) < 4 * np.sqrt(0.85 * 0.15 / 400)
    assert abs(pi[0] - 0.6) < 4 * np.sqrt(0.24 / 50)
    r0 = TP._mix_resp(knows[:, None], n[:, None], pi, mu, s)[:, 0]
    assert (r0[:30] > 0.5).all() and (r0[30:] < 0.5).all()
    # the posterior means stay near their own component, not the pooled rate (~0.4)
    theta = mix_theta(knows[:, None], n[:, None], pi, mu, s)[:, 0]
    assert np.abs(theta[30:] - 0.85).max() < 4 * np.sqrt(0.85 * 0.15 / 20)


def test_left_out_lfs_do_not_move_the_prior():
    # an LF with use=False changes nothing in the estimate: the same fit as without it
    rng = np.random.default_rng(4)
    rate = np.r_[np.full(20, 0.2), np.full(15, 0.9)]
    n = rng.integers(20, 61, size=35).astype(float)
    knows = rng.binomial(n.astype(int), rate).astype(float)
    var = np.zeros((35, 1))
    a = mix_prior(knows[:, None], n[:, None], var, 2.0, 1e4)
    use = np.r_[np.ones(35, bool), False][:, None]
    b = mix_prior(np.r_[knows, 1.0][:, None], np.r_[n, 50.0][:, None], np.zeros((36, 1)), 2.0, 1e4, use=use)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-9)


def _spammers_and_experts(expert_theta, n, coverage, seed):
    k = 3
    m_s = 25
    theta = np.r_[np.full(m_s, 0.05), expert_theta]
    rng = np.random.default_rng(seed)
    L, _ = draw_mace(n, theta, np.full((len(theta), k), 1.0 / k), np.full(len(theta), coverage), k, rng)
    return unique_rows(L, k), m_s, k


def test_mace_mix_keeps_equal_experts(monkeypatch):
    # 25 spammers (theta 0.05), 15 experts (theta 0.85), ~200 votes per LF: each expert's theta
    # within 5 SE of 0.85 (SE = sqrt(0.85 * 0.15 / 200) ~ 0.025), the spammers' below 0.05 + 5 SE
    u, m_s, k = _spammers_and_experts(np.full(15, 0.85), 2000, 0.1, 0)
    monkeypatch.setattr(A, "MACE_MIX", True)
    th = _theta_hat(fit_annotator(u, "mace").params, k)
    se = np.sqrt(0.85 * 0.15 / 200)
    np.testing.assert_array_less(np.abs(th[m_s:] - 0.85), 5 * se)
    np.testing.assert_array_less(th[:m_s], 0.05 + 5 * np.sqrt(0.05 * 0.95 / 200))


def test_mace_mix_keeps_heterogeneous_experts(monkeypatch):
    # experts spread over [0.6, 0.95] with ~2000 votes each: the expert component is weak, each
    # theta within 5 SE of its own value (SE <= sqrt(0.25 / 2000) ~ 0.011), as with the flat prior
    expert = np.linspace(0.6, 0.95, 10)
    u, m_s, k = _spammers_and_experts(expert, 20_000, 0.1, 1)
    monkeypatch.setattr(A, "MACE_MIX", True)
    th = _theta_hat(fit_annotator(u, "mace").params, k)
    se = np.sqrt(expert * (1 - expert) / 2000)
    np.testing.assert_array_less(np.abs(th[m_s:] - expert), 5 * se)


def test_mace_mix_fixed_and_one_class_options_run(monkeypatch):
    # the variants fit and give valid tables (probabilities summing to 1 over the outcomes)
    u, _, _ = _spammers_and_experts(np.full(15, 0.85), 2000, 0.1, 2)
    monkeypatch.setattr(A, "MACE_MIX", True)
    for fixed, skip in ((True, False), (False, True)):
        monkeypatch.setattr(A, "MACE_MIX_FIXED", fixed)
        monkeypatch.setattr(A, "MACE_MIX_SKIP_ONE_CLASS", skip)
        T = fit_annotator(u, "mace").params.cond_probs
        np.testing.assert_allclose(T.sum(axis=1), 1.0, atol=1e-9)
