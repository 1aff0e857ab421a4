"""Two-class ties broken by the one-class LFs' specificity (tripletws.estimators.specificity; a study
switch, annotator.SPECIFICITY_TIES, off by default: docs/studies.md, "A few gold rows on the real-LF
subsets (session 50)")."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tripletws.models.annotator as annotator_module
from tripletws import LabelModel
from tripletws.estimators.specificity import specificity_params


@pytest.mark.parametrize("k", [2, 4])
def test_tables_order_classes_by_the_named_votes_and_ignore_abstentions(k):
    coverage = np.array([0.02, 0.3, 0.5, 0.0])
    named = np.array([1, 0, -1, 0])  # LF 2 votes several classes, LF 3 never votes
    params = specificity_params(coverage, named, k)
    t = params.cond_probs
    assert t.shape == (4, k + 1, k)
    np.testing.assert_allclose(t.sum(axis=1), 1.0, atol=1e-12)  # each [i, :, y] sums to 1
    assert (t > 0).all()  # no outcome impossible: a vote never cast on the fitted rows stays finite
    assert (t[:, 0, :] == t[:, 0, :1]).all()  # abstaining: the same under every class
    for i, c in ((0, 1), (1, 0)):  # the named vote: -log(coverage) more likely under its class
        for y in range(k):
            if y != c:
                odds = np.log(t[i, c + 1, c] / t[i, c + 1, y])
                assert odds == pytest.approx(-np.log(coverage[i]), rel=1e-12)
    for i in (2, 3):  # no named class, or no vote: every outcome as likely under each class
        assert (t[i] == t[i, :, :1]).all()
    np.testing.assert_allclose(params.class_balance, 1.0 / k)


def _tied_matrix() -> np.ndarray:
    """Four one-class LFs: 0 and 1 name class 0 and fire often, 2 and 3 name class 1 and fire rarely;
    a row with one vote of each side ties under majority vote's weights."""
    rng = np.random.default_rng(0)
    n = 4000
    L = np.full((n, 4), -1)
    L[rng.random(n) < 0.5, 0] = 0
    L[rng.random(n) < 0.5, 1] = 0
    L[rng.random(n) < 0.05, 2] = 1
    L[rng.random(n) < 0.05, 3] = 1
    return L


def test_the_switch_sends_ties_to_the_rarer_firing_lfs_class(monkeypatch, tmp_path):
    L = _tied_matrix()
    rows = np.array([[0, -1, 1, -1], [-1, 0, -1, 1], [0, 0, 1, -1], [-1, -1, -1, -1]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        off = LabelModel(2, one_class="shared").fit(L)
        monkeypatch.setattr(annotator_module, "SPECIFICITY_TIES", "shared")
        on = LabelModel(2, one_class="shared").fit(L)
        default = LabelModel(2).fit(L)  # "shared" acts on the conservative setting only
    P_off, P_on = off.predict_proba(rows), on.predict_proba(rows)
    np.testing.assert_allclose(P_off[:2], 0.5, atol=1e-9)  # a coin before
    assert (P_on[:2, 1] > 0.6).all()  # class 1: its LFs fire on a tenth as many rows
    np.testing.assert_allclose(P_on[2:], P_off[2:], atol=1e-12)  # not a tie, or no vote: unchanged
    assert any("specificity" in n for n in on.notes_) and not any("specificity" in n for n in off.notes_)
    assert not any("specificity" in n for n in default.notes_)
    path = tmp_path / "model.json"
    on.save(path)
    np.testing.assert_allclose(LabelModel.load(path).predict_proba(rows), P_on, atol=1e-12)


def _three_class_matrix(multi: bool) -> np.ndarray:
    """Six one-class LFs of three classes: 0 and 1 name class 0 and fire often, 2-5 name classes 1
    and 2 and fire rarely; with ``multi`` LF 5 votes class 0 on a few rows too (it no longer votes
    one class only)."""
    rng = np.random.default_rng(1)
    n = 6000
    L = np.full((n, 6), -1)
    for j, (c, rate) in enumerate(((0, 0.4), (0, 0.4), (1, 0.05), (1, 0.05), (2, 0.05), (2, 0.05))):
        L[rng.random(n) < rate, j] = c
    if multi:
        L[:20, 5] = 0
    return L


def test_more_than_two_classes_take_the_order_only_where_every_lf_votes_one_class(monkeypatch):
    rows = np.array([[0, -1, 1, -1, -1, -1], [-1, 0, -1, -1, 2, -1], [0, 0, 1, -1, -1, -1]])
    monkeypatch.setattr(annotator_module, "SPECIFICITY_TIES", "always")
    fits = {}
    for classes in ("two", "more"):
        monkeypatch.setattr(annotator_module, "SPECIFICITY_CLASSES", classes)
        for multi in (False, True):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fits[classes, multi] = LabelModel(3).fit(_three_class_matrix(multi))
    on = fits["more", False]
    P = on.predict_proba(rows)
    assert P[0].argmax() == 1 and P[1].argmax() == 2  # the rarely firing LF's class leads the tie
    assert P[2].argmax() == 0  # two votes against one: not a tie
    assert any("specificity" in n for n in on.notes_)
    for key in (
        ("two", False),
        ("two", True),
        ("more", True),
    ):  # k = 3 not asked for; or LF 5 votes two classes
        notes = fits[key].notes_
        assert not any("specificity" in n for n in notes) and any("'ds_abstain' fit" in n for n in notes), key
