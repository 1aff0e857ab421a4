"""``coverage_check.UNVOTED_FLIP`` (the default since session 60): the coverage reading refused where the
class of a row without a vote rests on a balance the rows do not settle (docs/models.md; docs/studies.md,
sessions 48 and 60; docs/architecture.md, "Study switches").  ``UNVOTED_FLIP_WHERE`` says where:
``"uniform"`` (the default) only where the uniform balance is kept, ``"both"`` (session 48's form)
whichever balance is kept."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tripletws.estimators.coverage_check as coverage_check
from tripletws import LabelModel
from tripletws.estimators.coverage_check import empty_row_class
from tripletws.params import LabelModelParams

#: (class voted, firing rate on class 0, on class 1) of five one-class LFs: three of class 0 that fire
#: on 25-30 % of its rows, two of class 1 that fire on 30-35 % of its rows.  With classes 80 / 20, a
#: row without a vote is likelier under class 1 with a uniform balance (0.7 * 0.75 * 0.7 * 0.96 * 0.95
#: against 0.95 * 0.94 * 0.96 * 0.65 * 0.7) and under class 0 with the true one.
RATES = ((0, 0.30, 0.05), (0, 0.25, 0.06), (0, 0.30, 0.04), (1, 0.04, 0.35), (1, 0.05, 0.30))


def _draw(n: int, seed: int, rare: float = 0.2, rates: tuple = RATES) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < rare).astype(int)
    L = np.full((n, len(rates)), -1)
    for j, (c, on0, on1) in enumerate(rates):
        L[rng.random(n) < np.where(y == 0, on0, on1), j] = c
    return L


def _unsettled_draw() -> np.ndarray:
    """Three one-class LFs on 92 / 8 classes and 340 rows (seeded): the held-out likelihood cannot tell
    the uniform balance from an estimated one, and their fits send a row without a vote apart."""
    rng = np.random.default_rng(20570101)
    y = rng.choice(2, size=340, p=[0.92, 0.08])
    L = np.full((340, 3), -1)
    for j, (c, on0, on1) in enumerate(((1, 0.05, 0.9), (0, 0.65, 0.35), (0, 0.75, 0.3))):
        L[rng.random(340) < np.where(y == 0, on0, on1), j] = c
    return L


def _fit(L: np.ndarray, flip: bool, monkeypatch: pytest.MonkeyPatch, where: str = "uniform") -> LabelModel:
    monkeypatch.setattr(coverage_check, "UNVOTED_FLIP", flip)
    monkeypatch.setattr(coverage_check, "UNVOTED_FLIP_WHERE", where)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LabelModel(2).fit(L)


def test_empty_row_class_reads_the_balance_and_the_abstentions() -> None:
    # one LF: abstains on 70 % of class 0's rows and 95 % of class 1's
    table = np.array([[[0.70, 0.95], [0.30, 0.00], [0.00, 0.05]]])  # (m, k + 1, k), abstain first
    assert empty_row_class(LabelModelParams(np.array([0.5, 0.5]), table)) == 1
    assert empty_row_class(LabelModelParams(np.array([0.8, 0.2]), table)) == 0
    # 0.7 * p0 = 0.95 * p1 exactly: a tie
    p0 = 0.95 / 1.65
    assert empty_row_class(LabelModelParams(np.array([p0, 1.0 - p0]), table)) == -1


def test_the_defaults() -> None:
    assert coverage_check.UNVOTED_FLIP is True and coverage_check.UNVOTED_FLIP_WHERE == "uniform"


@pytest.mark.parametrize("seed", [1, 2])
def test_a_flip_under_a_settled_balance_is_refused_by_session_48s_form_only(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 80 / 20 classes on 4000 rows: the two balances' fits send a row without a vote to different classes,
    # but the estimated balance leads the uniform one held out by many standard errors (the rows settle
    # it), so the default keeps the reading under it; session 48's form refused it all the same
    L = _draw(4000, seed)
    off = _fit(L, False, monkeypatch)
    assert off.one_class_.accepted and off.family_ in ("mace_coverage", "shared_coverage")
    assert off.one_class_.balance == "estimated"
    lead, se = off.one_class_.prior_lead
    assert lead > 2.0 * se
    both = _fit(L, True, monkeypatch, where="both")
    assert not both.one_class_.accepted
    assert (
        "a row without a vote goes to class 1 under the uniform balance and to class 0 under the estimated "
        "one: the class of such rows rests on the balance" in both.one_class_.reason
    )
    # the record keeps the balance choice and the fits' disagreement, as any refusal after them
    assert both.one_class_.balance == off.one_class_.balance
    assert both.one_class_.balance_disagreement == pytest.approx(off.one_class_.balance_disagreement)
    on = _fit(L, True, monkeypatch)
    assert on.one_class_.accepted and on.family_ == off.family_
    np.testing.assert_allclose(on.predict_proba(L[:200]), off.predict_proba(L[:200]), atol=1e-12)


def test_a_flip_under_an_unsettled_balance_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # three one-class LFs on 92 / 8 classes and 340 rows: the estimated balance does not lead the uniform
    # one held out, so the uniform one is kept, and the two fits send a row without a vote to different
    # classes: under the default that row's class rests on a balance the rows do not settle
    L = _unsettled_draw()
    off = _fit(L, False, monkeypatch)
    assert off.one_class_.accepted and off.one_class_.balance == "uniform"
    on = _fit(L, True, monkeypatch)
    check = on.one_class_
    assert not check.accepted and check.balance == "uniform"
    lead, se = check.prior_lead
    assert not lead > 2.0 * se
    assert (
        "a row without a vote goes to class 1 under the uniform balance and to class 0 under the estimated "
        f"one, which does not predict held-out rows better (lead {lead:.4f} +- {se:.4f} per row): the class "
        "of such rows rests on the balance, which the rows do not settle" in check.reason
    )
    # the record (``one_class_``) reads back from a model file; the abstain check then runs as after any
    # refusal (here it reads every LF's abstentions, with its own tests)
    back = coverage_check.CoverageCheck.from_dict(check.to_dict())
    assert back.reason == check.reason and back.accepted is False


def test_the_switch_keeps_a_reading_whose_balances_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    # balanced classes, and class 1's LFs firing on 15 % of its rows: a row without a vote is 1.85 times
    # likelier under class 1 (0.95 * 0.94 * 0.96 * 0.85 * 0.85 against 0.7 * 0.75 * 0.7 * 0.96 * 0.95),
    # which only a balance beyond 0.65 / 0.35 would overturn: both fits agree, the reading stands
    rates = (*RATES[:3], (1, 0.04, 0.15), (1, 0.05, 0.15))
    L = _draw(4000, 0, rare=0.5, rates=rates)
    off, on = _fit(L, False, monkeypatch), _fit(L, True, monkeypatch)
    assert off.one_class_.accepted and on.one_class_.accepted
    assert off.family_ == on.family_
    np.testing.assert_allclose(on.predict_proba(L[:200]), off.predict_proba(L[:200]), atol=1e-12)


def test_the_abstain_checks_switch_refuses_the_same_bet(monkeypatch: pytest.MonkeyPatch) -> None:
    # ``abstain_check.UNVOTED_FLIP`` (test (g), a study switch, off): on the 340-row draw above, once the
    # coverage reading is refused, the abstain reading keeps the uniform balance and sends a row without a
    # vote to class 1, and its fit with an estimated balance to class 0; the switch refuses it too
    import tripletws.estimators.abstain_check as abstain_check

    assert abstain_check.UNVOTED_FLIP is False
    L = _unsettled_draw()
    off = _fit(L, True, monkeypatch)
    assert off.abstain_.accepted and off.abstain_.balance == "uniform"
    assert off.predict_proba(np.full((1, 3), -1))[0].argmax() == 1
    monkeypatch.setattr(abstain_check, "UNVOTED_FLIP", True)
    on = _fit(L, True, monkeypatch)
    assert not on.abstain_.accepted and on.family_ not in ("mace_abstain", "ds_abstain")
    assert on.abstain_.reason.startswith(
        "a row without a vote goes to class 1 under the uniform balance and to class 0 under an estimated one"
    )


def test_an_unknown_where_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="unknown UNVOTED_FLIP_WHERE 'everywhere'"):
        _fit(_draw(2000, 1), True, monkeypatch, where="everywhere")
