"""A uniform balance the rows do not settle, deciding many labels: majority vote's family and a note
(models.annotator._settle_balance; with its switch off, the note alone: _kept_balance_note)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tripletws import LabelModel
from tripletws.datasets import make_synthetic
from tripletws.estimators.coverage_check import BALANCE_NOTE_SHARE, prediction_disagreement
from tripletws.matrix import LabelMatrix
from tripletws.models import annotator
from tripletws.models.notes import UNSETTLED_ADVICE, UNSETTLED_BALANCE_NOTE
from tripletws.params import LabelModelParams
from tripletws.rows import RowSummary

KEPT = "the class balance was kept uniform"  # session 42's note (the fallback's switch off)
UNSETTLED = UNSETTLED_BALANCE_NOTE  # the fallback's note


def _fit(data) -> tuple[LabelModel, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LabelModel(cardinality=2).fit(data.L)
    return model, [str(w.message) for w in caught]


def _weak(class_balance, seed):
    # six LFs that vote both classes, right on 60-69 % of their votes: too weak for the clear rows
    # (majorities won by two votes) to support a skewed prior, which overrules the rare class's
    return make_synthetic(
        6000,
        6,
        2,
        accuracies=np.linspace(0.60, 0.69, 6),
        coverage=0.6,
        class_balance=class_balance,
        random_state=seed,
    )


def _expected_accuracy(P: np.ndarray, y: np.ndarray) -> float:
    """Accuracy expected under a uniform tie-break among the top classes (within 1e-9)."""
    top = P >= P.max(axis=1, keepdims=True) - 1e-9
    return float(np.mean(top[np.arange(len(y)), y] / top.sum(axis=1)))


def _quiet(L: np.ndarray, **kw) -> LabelModel:
    """A fit with its warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LabelModel(cardinality=2, **kw).fit(L)


def test_an_imbalanced_set_kept_uniform_falls_back_to_majority_vote_and_says_so():
    data, test = _weak([0.8, 0.2], seed=3), _weak([0.8, 0.2], seed=103)
    model, messages = _fit(data)
    notes = [m for m in messages if m.startswith(UNSETTLED)]
    assert len(notes) == 1, messages
    assert not [m for m in messages if m.startswith(KEPT)]
    note = notes[0]
    assert "class_balance=" in note and "names another class on" in note and "majority vote" in note
    share = float(note.split("names another class on ")[1].split("%")[0]) / 100
    assert share >= BALANCE_NOTE_SHARE
    # the balance it names is the rows' (0.8 / 0.2 drawn; the EM estimate within 0.1 of it)
    named = note.split("estimated balance (")[1].split(")")[0]
    first = float(named.split(" / ")[0])
    assert abs(first - 0.8) < 0.1
    assert any(n.startswith(UNSETTLED) for n in model.notes_)
    # majority vote's family: one accuracy for all LFs, the uniform prior, majority vote's ranking
    assert model.family_ == "mv" and model.estimate_.family == "mv"
    assert np.ptp(model.accuracies_) < 1e-9
    np.testing.assert_allclose(model.class_balance_, [0.5, 0.5], atol=1e-12)
    counts = np.stack([(test.L == c).sum(axis=1) for c in range(2)], axis=1)
    P = model.predict_proba(test.L)
    same_top = (P >= P.max(axis=1, keepdims=True) - 1e-9) == (counts == counts.max(axis=1, keepdims=True))
    assert same_top.all()
    # the uniform-balance fit it replaces (the switch off) is far worse on fresh rows: sd of a
    # difference of two accuracies on n rows <= sqrt(1 / (2 n)); measured 0.656 against 0.706 (+5.0 points)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(annotator, "UNSETTLED_FALLBACK", False)
        kept = _quiet(data.L)
    assert kept.family_ != "mv"
    n = len(test.y)
    gain = _expected_accuracy(P, test.y) - _expected_accuracy(kept.predict_proba(test.L), test.y)
    assert gain > 3 * np.sqrt(0.5 / n), gain
    # the user's remedy works: an estimated balance beats majority vote here
    est = _quiet(data.L, class_balance="estimate")
    assert _expected_accuracy(est.predict_proba(test.L), test.y) > _expected_accuracy(
        P, test.y
    ) + 3 * np.sqrt(0.5 / n)


def test_switch_off_keeps_the_uniform_fit_with_the_note(monkeypatch):
    monkeypatch.setattr(annotator, "UNSETTLED_FALLBACK", False)
    model, messages = _fit(_weak([0.8, 0.2], seed=3))
    notes = [m for m in messages if m.startswith(KEPT)]
    assert len(notes) == 1 and "which the uniform balance decides" in notes[0]
    assert model.family_ != "mv"


def test_a_given_uniform_balance_keeps_its_fit():
    # class_balance="uniform" runs no balance check: the uniform-balance fit stands, without the note
    model = LabelModel(cardinality=2, class_balance="uniform")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(_weak([0.8, 0.2], seed=3).L)
    assert model.family_ != "mv"
    assert not [w for w in caught if str(w.message).startswith((KEPT, UNSETTLED))]


def test_ties_broken_by_a_prior_are_not_disagreements():
    # rows without votes tie under a uniform prior; any other prior breaks the tie: not a disagreement
    # in the strict sense that the fallback counts (each fit names one class, and they differ)
    L = np.array([[-1, -1, -1]] * 6 + [[0, 0, 1]] * 3 + [[1, 1, 0]] * 1)
    rows = RowSummary.from_matrix(LabelMatrix(L, 2), 100)
    table = np.zeros((3, 3, 2))
    table[:, 0, :] = 0.5  # abstain half the time, whatever the class
    table[:, 1, :] = [[0.4, 0.1]] * 3  # vote 0: right on 80 % of its votes under class 0
    table[:, 2, :] = [[0.1, 0.4]] * 3
    uniform = LabelModelParams(np.array([0.5, 0.5]), table)
    skewed = LabelModelParams(np.array([0.6, 0.4]), table)
    assert prediction_disagreement(rows, uniform, skewed) == pytest.approx(0.6)
    assert prediction_disagreement(rows, uniform, skewed, strict=True) == 0.0
    # a prior strong enough to overrule the (1, 1, 0) rows' majority is a strict disagreement there
    strong = LabelModelParams(np.array([0.99, 0.01]), table)
    assert prediction_disagreement(rows, uniform, strong, strict=True) == pytest.approx(0.1)


def test_balanced_classes_with_strong_lfs_get_no_such_note():
    data = make_synthetic(6000, 6, 2, accuracies=0.8, coverage=0.6, random_state=4)
    _, messages = _fit(data)
    assert not [m for m in messages if m.startswith((KEPT, UNSETTLED))]


@pytest.mark.parametrize("n_dev", [50, 150])
def test_gold_rows_keep_the_fallback_note_without_its_advice(n_dev):
    # the note describes the gold-free fit (majority vote's family), which the dev choice may keep or
    # replace; its advice to give gold rows goes, and so does session 42's note
    data = _weak([0.8, 0.2], seed=3)
    dev = _weak([0.8, 0.2], seed=5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LabelModel(cardinality=2).fit(data.L, L_dev=dev.L[:n_dev], Y_dev=dev.y[:n_dev])
    notes = [n for n in model.notes_ if n.startswith(UNSETTLED)]
    assert len(notes) == 1 and UNSETTLED_ADVICE not in notes[0] and "majority vote" in notes[0]
    assert not [n for n in model.notes_ if n.startswith(KEPT)]
    assert not [str(w.message) for w in caught if UNSETTLED_ADVICE in str(w.message)]


def test_inspect_says_the_rule_chose_another_family():
    # the family choice's line names the held-out rule's choice and that the fallback replaced it
    from tripletws.models.base import selection_line

    model, _ = _fit(_weak([0.8, 0.2], seed=3))
    record = model.solution_.estimate.selection.to_dict()
    assert record["chosen"] == "mv" and record["best"] != "mv"
    line = selection_line(record)
    assert line.startswith("mv (") and f"is {record['best']}, replaced by mv as the notes say" in line
    # an ordinary choice reads as before
    plain = _quiet(_weak([0.8, 0.2], seed=3).L, class_balance="uniform")
    record = plain.solution_.estimate.selection.to_dict()
    assert "replaced by" not in selection_line(record)


def test_the_rule_is_read_from_the_leads():
    # the rule's family is the simplest within n_se standard errors of the best, not the best itself
    from tripletws.models.base import selection_line

    record = {
        "chosen": "mv",
        "heldout_loglik": {"mv": -1.30, "one_coin": -1.21, "mace": -1.20},
        "n_folds": 5,
        "best": "mace",
        "leads": {"mv": [0.10, 0.01], "one_coin": [0.01, 0.01], "mace": [0.0, 0.0]},
        "n_se": 2.0,
    }
    assert "is one_coin, replaced by mv" in selection_line(record)
    assert "replaced by" not in selection_line({**record, "chosen": "one_coin"})
    # a lead within the standard errors of mv itself: the rule's family is mv, nothing replaced
    assert "replaced by" not in selection_line({**record, "leads": {**record["leads"], "mv": [0.01, 0.01]}})
