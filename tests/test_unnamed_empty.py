"""The abstain check's test (f): rows without a vote are not sent to a class no LF votes for
(tripletws.estimators.abstain_check.UNNAMED_EMPTY, a study switch, off by default: made the default
in session 51 and reverted after the untouched stress draw; docs/models.md, "Rows without a vote and a
class no LF names")."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
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
    assert not any("were not read as informative" in n for n in before.notes_)
    monkeypatch.setattr(abstain_module, "UNNAMED_EMPTY", "multiclass")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        after = LabelModel(6).fit(L)
    assert not after.abstain_.accepted
    assert "class 3, for which no LF votes" in after.abstain_.reason
    assert any("were not read as informative" in n and "class 3" in n for n in after.notes_)
    P = after.predict_proba(np.full((1, L.shape[1]), -1))[0]
    np.testing.assert_allclose(P, after.class_balance_, atol=1e-9)  # the row without a vote: the balance


@pytest.mark.parametrize(
    "mode, k, refused",
    [("multiclass", 2, False), ("all", 2, True), ("multiclass", 3, True), ("off", 3, False)],
)
def test_the_switch_refuses_an_accepted_reading_by_the_number_of_classes(monkeypatch, mode, k, refused):
    """An accepted reading whose row without a vote goes to class 0, which no LF votes: refused with
    more than two classes by ``"multiclass"``; with two, the class no LF names is the complement of the
    LFs' one, which only ``"all"`` refuses."""
    from tripletws.estimators.abstain_check import AbstainCheck
    from tripletws.models.annotator import _unnamed_empty

    cond = np.full((2, k + 1, k), 1.0 / (k + 1))
    cond[:, 0, :] = 0.3
    cond[:, 0, 0] = 0.9  # abstaining is likeliest under class 0
    cond[:, 1:, 0] = 0.1 / k
    fit = SimpleNamespace(
        params=LabelModelParams(np.full(k, 1.0 / k), cond),
        estimate=SimpleNamespace(abstain=AbstainCheck(True, "")),
    )
    counts = np.zeros((2, k))
    counts[:, 1:] = 5  # the LFs vote every class but 0
    stats = SimpleNamespace(cardinality=k, class_counts=counts)
    monkeypatch.setattr(abstain_module, "UNNAMED_EMPTY", mode)
    out = _unnamed_empty(fit, stats)
    assert (out is not None) == refused
    if refused:
        assert not out.accepted and "class 0, for which no LF votes" in out.reason


def test_lfs_that_flag_one_of_two_classes_still_send_unvoted_rows_to_the_other():
    """Four LFs that flag class 1 and abstain otherwise: the rows without a vote go to class 0 (the
    one-class coverage reading, which test (f) does not touch)."""
    rng = np.random.default_rng(3)
    n = 4000
    y = rng.integers(0, 2, n)
    L = np.full((n, 4), -1)
    for j, (tp, fp) in enumerate(((0.5, 0.02), (0.4, 0.03), (0.45, 0.02), (0.3, 0.01))):
        L[(y == 1) & (rng.random(n) < tp), j] = 1
        L[(y == 0) & (rng.random(n) < fp), j] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2).fit(L)
    assert not any("were not read as informative" in n for n in model.notes_)
    assert model.predict_proba(np.full((1, 4), -1))[0, 0] > 0.75
    # the reading's note: class 0's share of those rows rests on the balance, which no vote speaks for
    (note,) = [n for n in model.notes_ if "rows without a vote go to class 0" in n]
    balance = model.class_balance_source_
    assert f"no LF votes class 0, so how many rows it has rests on the {balance} class balance" in note
    assert "give class_balance=" in note
    # a balance the user gave: the note says what it rests on, without advising to give one
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        given = LabelModel(2).fit(L, class_balance=[0.6, 0.4])
    (note,) = [n for n in given.notes_ if "rows without a vote go to class 0" in n]
    assert "rests on the given class balance" in note and "give class_balance=" not in note
