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
    # with spread, the standard error decides as before
    d = np.r_[np.ones(30), np.zeros(20)]
    assert _leads(d, np.zeros(50), 2.0) and not _leads(np.r_[d[:3], -np.ones(2)], np.zeros(5), 2.0)
