"""The study switch ``coverage_check.UNSETTLED_REFUSE``: the coverage reading refused where it keeps the
uniform balance and its fits under the uniform and the estimated balance name different classes on
many rows (docs/studies.md, session 53)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from bench_paths import REPO  # noqa: F401  (puts benchmarks/ on sys.path)

import tripletws.estimators.coverage_check as coverage_check
from tripletws import LabelModel


def _keyword_13() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """keyword-13 of the opt-in stress family on draw 20750101: six LFs, each aimed at one kind of row
    of its class, classes 88 / 12 (train matrix, test matrix, test gold)."""
    from stress_problems import all_problems, draw

    problem = next(p for p in all_problems(20750101, extra=("keyword",)) if p.name == "keyword-13")
    L, _, L_test, y_test = draw(problem)
    return L, L_test, y_test


def _fit(L: np.ndarray, on: bool, monkeypatch: pytest.MonkeyPatch) -> LabelModel:
    # keyword-13's two balances also send a row without a vote to different classes, which the default
    # refuses since session 60 (``UNVOTED_FLIP``): this switch is studied on the reading without that rule
    monkeypatch.setattr(coverage_check, "UNVOTED_FLIP", False)
    monkeypatch.setattr(coverage_check, "UNSETTLED_REFUSE", on)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LabelModel(2).fit(L)


def test_the_switch_refuses_a_reading_whose_balance_the_rows_do_not_settle(monkeypatch):
    L, L_test, y_test = _keyword_13()
    off = _fit(L, False, monkeypatch)
    check = off.one_class_
    assert check.accepted and check.balance == "uniform"
    assert check.balance_disagreement >= coverage_check.BALANCE_NOTE_SHARE
    on = _fit(L, True, monkeypatch)
    assert not on.one_class_.accepted
    assert on.one_class_.reason.startswith("the rows do not settle the class balance")
    assert f"on {check.balance_disagreement:.0%} of the rows" in on.one_class_.reason
    # the record keeps what was measured, so that the refusal can be read back from a model file
    assert on.one_class_.balance_disagreement == pytest.approx(check.balance_disagreement)

    # here the reading loses to majority vote (28 points on 10 000 test rows): it sends the rows without
    # a vote to the rare class; refused, the fit leaves them to a coin as majority vote does
    def accuracy(model: LabelModel) -> float:  # expected under a uniform tie-break
        P = model.predict_proba(L_test)
        top = P >= P.max(axis=1, keepdims=True) - 1e-9
        return float(np.mean(top[np.arange(len(y_test)), y_test] / top.sum(axis=1)))

    assert accuracy(on) > accuracy(off) + 0.1


def test_the_switch_is_off_by_default():
    assert coverage_check.UNSETTLED_REFUSE is False
