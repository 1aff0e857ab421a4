"""Weights, variances and standard errors that reached 0 on legitimate input and then decided alone
(an audit of session 41, after the triplet-weight fix of tests/test_triplet_zero_moments.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tripletws import LabelModel, MajorityLabelVoter
from tripletws.dev_choice import _leads


@pytest.fixture(scope="module")
def five_good_lfs():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 1000)
    accs = [0.85, 0.8, 0.8, 0.75, 0.7]
    L = np.stack([np.where(rng.random(len(y)) < a, y, 1 - y) for a in accs], axis=1)
    return L, y


@pytest.mark.parametrize("n_dev", [2, 3, 4])
def test_a_few_gold_rows_the_majority_gets_wrong_do_not_swap_the_classes(five_good_lfs, n_dev):
    """All dev rows differ by the same amount: the standard error of the lead was 0, and 2 rows swapped
    the class names of a fit right on 93 % of the rows (train accuracy 0.072)."""
    L, y = five_good_lfs
    wrong = np.flatnonzero(MajorityLabelVoter(2).predict(L) != y)[:n_dev]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2, random_state=0).fit(L, L_dev=L[wrong], Y_dev=y[wrong])
    assert "relabel" not in model.dev_choice_["chosen"]
    assert np.mean(model.predict(L) == y) > 0.9


def test_a_lead_without_spread_is_judged_by_the_sign_test():
    # every row differs by the same amount: 2 and 5 rows are not enough at 2 standard errors
    # (one-sided p = 0.25 and 0.031 > 0.023), 6 are (0.016)
    assert not _leads(np.ones(2), np.zeros(2), 2.0)
    assert not _leads(np.ones(5), np.zeros(5), 2.0)
    assert _leads(np.ones(6), np.zeros(6), 2.0)
    assert not _leads(np.zeros(6), np.ones(6), 2.0)  # a constant deficit is no lead
    # tie shares: 1 - 1/3 three times has a standard error of a rounding residue, not 0 (the review)
    assert not _leads(np.ones(3), np.full(3, 1 / 3), 2.0)
    assert not _leads(np.ones(3), np.full(3, 0.2), 2.0)
    assert _leads(np.ones(6), np.full(6, 1 / 3), 2.0)
    # with spread, the standard error decides as before
    d = np.r_[np.ones(30), np.zeros(20)]
    assert _leads(d, np.zeros(50), 2.0) and not _leads(np.r_[d[:3], -np.ones(2)], np.zeros(5), 2.0)


def _one_vote_lf(right: bool):
    """Four good LFs on 400 rows and LF 4 with a single vote."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    L = np.full((400, 5), -1)
    for j, a in enumerate([0.8, 0.8, 0.75, 0.75]):
        L[:, j] = np.where(rng.random(400) < a, y, 1 - y)
    L[0, 4] = y[0] if right else 1 - y[0]
    return L


@pytest.mark.parametrize("right", [True, False], ids=["its vote right", "its vote wrong"])
def test_an_lf_with_one_vote_gets_the_common_accuracy_not_one(right):
    """A pair with one co-vote has |M| = 1 whether the two agree or not, so every triplet through the
    LF said b = 1: accuracy 1 - eps, and its vote overruled the four others.  Shrunk toward the LFs'
    common mean by its precision, it gets about their accuracy."""
    L = _one_vote_lf(right)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2, model="symmetric").fit(L)
    others = model.accuracies_[:4]
    assert others.min() - 0.02 < model.accuracies_[4] < others.max() + 0.02
    assert model.estimate_.own_share[4] < 0.1 < model.estimate_.own_share[:4].min()
    # four LFs voting class 1 outweigh its vote for class 0
    assert model.predict_proba(np.array([[1, 1, 1, 1, 0]]))[0, 1] > 0.9


def test_well_determined_lfs_keep_their_own_estimates():
    from tripletws.datasets import make_synthetic

    d = make_synthetic(20000, 8, 2, accuracies=np.linspace(0.6, 0.9, 8), coverage=0.5, random_state=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2, model="symmetric").fit(d.L)
    assert model.estimate_.own_share.min() > 0.95
    # 20 000 rows, coverage 0.5: standard errors about 0.01
    np.testing.assert_allclose(model.accuracies_, d.accuracies, atol=0.04)


def test_lfs_that_do_not_differ_beyond_noise_share_one_accuracy_and_the_model_says_so(tmp_path):
    """Where the spread of the estimates is within their sampling error the LFs get one accuracy, and
    the model ranks classes as majority vote does: a note says so (not a silent majority vote)."""
    from tripletws.datasets import make_synthetic

    d = make_synthetic(600, 5, 2, accuracies=0.7, coverage=0.5, random_state=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LabelModel(2, model="symmetric").fit(d.L)
    assert np.ptp(model.accuracies_) < 1e-12
    assert any("ranks the classes as majority vote does" in str(w.message) for w in caught)
    np.testing.assert_array_equal(model.predict(d.L), MajorityLabelVoter(2).predict(d.L))
    # own_share is kept in the model file
    model.save(tmp_path / "m.json")
    np.testing.assert_array_equal(
        LabelModel.load(tmp_path / "m.json").estimate_.own_share, model.estimate_.own_share
    )


def test_a_sparse_lf_read_below_chance_stays_below_chance():
    """Shrunk toward the LFs' (positive) mean, an adversarial LF with 46 votes crossed 0 (accuracy 0.279
    -> 0.514) and its votes counted for the class they name; LFs read below chance are not pooled."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 3000)

    def lf(acc, cov):
        return np.where(rng.random(3000) < cov, np.where(rng.random(3000) < acc, y, 1 - y), -1)

    accs = [0.8, 0.75, 0.7, 0.8, 0.72, 0.78, 0.74, 0.76]
    L = np.column_stack([lf(a, 0.9) for a in accs] + [lf(0.15, 0.02)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2, model="symmetric").fit(L)
    assert model.estimate_.below_chance[-1] and model.accuracies_[-1] < 0.4
    assert model.estimate_.own_share[-1] == 1.0
