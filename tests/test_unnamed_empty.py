"""The abstain check's test (f): rows without a vote are not sent to a class no LF votes for
(tripletws.estimators.abstain_check.UNNAMED_EMPTY; docs/models.md, "Abstain read behind gold-free tests")."""

from __future__ import annotations

import warnings

import numpy as np
from conftest import load_real

import tripletws.estimators.abstain_check as abstain_module
from tripletws import LabelModel
from tripletws.estimators.coverage_check import empty_row_class
from tripletws.params import LabelModelParams

#: 12 of trec's LFs, none of which votes class 3 (2 % of trec's rows): the abstain reading sends the
#: 91 % of rows without a vote there (benchmarks/lf_subsets.py --lf-sizes 12, seed 17; -4.1 points).
TREC_LFS = [0, 14, 17, 20, 27, 30, 41, 55, 60, 61, 63, 64]


def test_the_class_of_a_row_without_a_vote():
    k = 3
    cond = np.full((2, k + 1, k), 0.2)
    cond[:, 0, :] = [0.4, 0.4, 0.4]  # abstaining as likely under every class: the prior decides
    cond[:, 1:, :] = 0.2
    assert empty_row_class(LabelModelParams(np.array([0.2, 0.5, 0.3]), cond)) == 1
    assert empty_row_class(LabelModelParams(np.full(k, 1 / 3), cond)) == -1  # a tie
    cond[0, 0, :] = [0.4, 0.4, 0.7]  # LF 0 abstains more under class 2
    cond[0, 1:, 2] = 0.1
    assert empty_row_class(LabelModelParams(np.full(k, 1 / 3), cond)) == 2


def test_a_reading_that_sends_unvoted_rows_to_an_unnamed_class_is_refused(monkeypatch):
    split = load_real("trec").splits["train"]
    L = np.asarray(split.L)[:, TREC_LFS]
    assert 3 not in set(np.unique(L)) and split.n_class == 6
    monkeypatch.setattr(abstain_module, "UNNAMED_EMPTY", "off")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = LabelModel(6).fit(L)
    assert before.abstain_.accepted
    assert before.predict_proba(np.full((1, L.shape[1]), -1))[0].argmax() == 3
    monkeypatch.setattr(abstain_module, "UNNAMED_EMPTY", "multiclass")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        after = LabelModel(6).fit(L)
    assert not after.abstain_.accepted
    assert "class 3, for which no LF votes" in after.abstain_.reason
