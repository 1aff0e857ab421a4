"""Partly dependent LFs down-weighted (tripletws.estimators.softdep, annotator.SOFTDEP: a study option)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tripletws.models.annotator as annotator_model
from tripletws import LabelModel
from tripletws.estimators.annotator import fit_annotator
from tripletws.estimators.softdep import dependence_weights, tempered, weighted_em, weighted_em_coverage
from tripletws.inference import posterior
from tripletws.matrix import check_label_matrix
from tripletws.params import LabelModelParams
from tripletws.rows import RowSummary

N = 20_000


def summary(L, k):
    return RowSummary.from_matrix(check_label_matrix(L, k), 10**7)


def independent_lfs(n, rng, acc, k, coverage=0.6):
    """Conditionally independent LFs: vote w.p. ``coverage``, right w.p. ``acc``, errors uniform."""
    y = rng.integers(0, k, size=n)
    wrong = (y[:, None] + rng.integers(1, k, size=(n, len(acc)))) % k
    L = np.where(rng.random((n, len(acc))) < acc, y[:, None], wrong)
    L[rng.random(L.shape) >= coverage] = -1
    return L, y


def cofiring(seed, n=N):
    """Four independent LFs (accuracy 0.8, 0.8, 0.75, 0.75) and six weak ones (0.6) that share a hidden
    feature (rate 0.3, independent of the class): when it is on, each votes class 0 w.p. 0.9."""
    rng = np.random.default_rng(seed)
    L, y = independent_lfs(n, rng, np.array([0.8, 0.8, 0.75, 0.75, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]), 2)
    z = rng.random(n) < 0.3
    fire = z[:, None] & (rng.random((n, 6)) < 0.9)
    L[:, 4:] = np.where(fire, 0, L[:, 4:])
    return L, y


def fit(L, k, softdep="off", rounds=1):
    old = annotator_model.SOFTDEP, annotator_model.SOFTDEP_ROUNDS
    annotator_model.SOFTDEP, annotator_model.SOFTDEP_ROUNDS = softdep, rounds
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return LabelModel(k).fit(L)
    finally:
        annotator_model.SOFTDEP, annotator_model.SOFTDEP_ROUNDS = old


def accuracy(model, L, y):
    p = model.predict_proba(L)
    return float((p.argmax(axis=1) == y).mean())  # continuous posteriors: ties have probability 0


def test_independent_lfs_keep_weight_one():
    # under conditional independence and a null that holds, a pair is flagged with probability <= 5 %
    # family-wise (Bonferroni).  (Majority vote's null, equal accuracies, does not hold here: it flags
    # pairs of the more accurate LFs, shares 0.02-0.04 -- the price of a null co-firing cannot fool.)
    rng = np.random.default_rng(11)
    L, _ = independent_lfs(N, rng, np.array([0.85, 0.6, 0.65, 0.8, 0.55, 0.7, 0.6, 0.75]), 3)
    rows = summary(L, 3)
    for family in ("one_coin", "mace"):
        dep = dependence_weights(rows, fit_annotator(rows, family, class_balance=np.full(3, 1 / 3)).params)
        assert len(dep.pairs) == 0 and np.all(dep.weights == 1.0), family


def test_cofiring_group_is_down_weighted():
    L, _ = cofiring(0)
    rows = summary(L, 2)
    null = fit_annotator(rows, "mv", class_balance=np.full(2, 0.5)).params
    dep = dependence_weights(rows, null)
    # each group pair's excess share is about 0.13 here (0.3 x 0.9^2 co-fired of the rows, against
    # the null's agreement), the 5 partners give 1 / (1 + 5 x 0.13) ~ 0.6; SE of a share ~ 0.005
    assert np.all(dep.weights[4:] < 0.7)
    # the independent LFs' excess against majority vote's equal-accuracy null is smaller
    assert np.all(dep.weights[:4] > dep.weights[4:].max() + 0.1)


def test_tempered_tables_give_the_weighted_posterior():
    rng = np.random.default_rng(5)
    m, k = 6, 3
    T = rng.dirichlet(np.ones(k + 1), size=(m, k)).transpose(0, 2, 1)  # (m, k + 1, k), columns sum to 1
    p = rng.dirichlet(np.ones(k))
    w = rng.uniform(0.2, 1.0, size=m)
    L = rng.integers(-1, k, size=(200, m))
    got = posterior(check_label_matrix(L, k), tempered(LabelModelParams(p, T), w))
    log = np.log(p)[None, :] + sum(w[i] * np.log(T[i, L[:, i] + 1, :]) for i in range(m))
    want = np.exp(log - log.max(axis=1, keepdims=True))
    want /= want.sum(axis=1, keepdims=True)
    # both in float64 from the same logs: differences are rounding of a few dozen additions (~1e-15)
    np.testing.assert_allclose(got, want, atol=1e-10)


@pytest.mark.parametrize("family", ["one_coin", "mace"])
def test_weighted_em_with_unit_weights_recovers_accuracies(family):
    rng = np.random.default_rng(7)
    acc = np.array([0.85, 0.6, 0.65, 0.8, 0.55, 0.7, 0.6, 0.75])
    L, _ = independent_lfs(N, rng, acc, 3)
    params = weighted_em(summary(L, 3), family, np.ones(len(acc)), np.full(3, 1 / 3))
    # ~12 000 votes per LF: an accuracy's SE is ~0.005; 0.03 leaves room for EM's and MACE's bias
    np.testing.assert_allclose(params.accuracies, acc, atol=0.03)
    np.testing.assert_allclose(params.coverage, 0.6, atol=0.015)  # SE 0.0035


def test_option_off_or_without_dependence_leaves_the_fit_alone():
    rng = np.random.default_rng(3)
    L, _ = independent_lfs(5000, rng, np.array([0.85, 0.6, 0.65, 0.8, 0.7]), 2)
    off = fit(L, 2)
    on = fit(L, 2, "chosen")
    assert not any("SOFTDEP" in note for note in on.notes_)
    # no pair flagged: the same code path computes the same tables
    np.testing.assert_array_equal(on.params_.cond_probs, off.params_.cond_probs)


def test_option_recovers_from_a_cofiring_group():
    L, _ = cofiring(0)
    Lt, yt = cofiring(1)
    off = accuracy(fit(L, 2), Lt, yt)
    # the unweighted MACE fit takes the co-firing group for the class (measured 0.61 on these seeds);
    # with the weights, iterated against majority vote's null, it reads the independent LFs (0.83)
    on = fit(L, 2, "mv", rounds=3)
    assert any("SOFTDEP" in note for note in on.notes_)
    assert accuracy(on, Lt, yt) > off + 0.1
    # 10 000 test rows: the accuracy's SE is ~0.004; the gap is ~0.2
    assert accuracy(fit(L, 2, "chosen", rounds=3), Lt, yt) > off + 0.1


def test_coverage_refit_reads_one_class_lfs():
    # one-class LFs (each votes its class only when it fires): the coverage refit with unit weights
    # recovers the firing rates per class
    rng = np.random.default_rng(2)
    n, k = N, 2
    y = rng.integers(0, k, size=n)
    on, off = np.array([0.5, 0.4, 0.6, 0.45]), np.array([0.05, 0.1, 0.08, 0.06])
    cls = np.array([0, 1, 0, 1])
    rate = np.where(y[:, None] == cls[None, :], on[None, :], off[None, :])
    L = np.where(rng.random((n, 4)) < rate, cls[None, :], -1)
    params = weighted_em_coverage(summary(L, k), "mace_coverage", np.ones(4), np.full(k, 0.5))
    got_on = params.cond_probs[np.arange(4), cls + 1, cls]
    got_off = params.cond_probs[np.arange(4), cls + 1, 1 - cls]
    # ~10 000 rows per class: a rate's SE is <= 0.005; 0.03 leaves room for the latent class's noise
    np.testing.assert_allclose(got_on, on, atol=0.03)
    np.testing.assert_allclose(got_off, off, atol=0.03)
