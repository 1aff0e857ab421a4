"""The note on a uniform balance that decides many labels (models.annotator._kept_balance_note)."""

from __future__ import annotations

import warnings

import numpy as np

from tripletws import LabelModel
from tripletws.datasets import make_synthetic
from tripletws.estimators.coverage_check import BALANCE_NOTE_SHARE

KEPT = "the class balance was kept uniform"


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


def test_an_imbalanced_set_kept_uniform_is_told_and_the_fit_does_not_change():
    data = _weak([0.8, 0.2], seed=3)
    model, messages = _fit(data)
    notes = [m for m in messages if m.startswith(KEPT)]
    assert len(notes) == 1, messages
    note = notes[0]
    assert "class_balance=" in note and "names another class on" in note
    share = float(note.split("names another class on ")[1].split("%")[0]) / 100
    assert share >= BALANCE_NOTE_SHARE
    # the balance it names is the rows' (0.8 / 0.2 drawn; the EM estimate within 0.1 of it)
    named = note.split("estimated balance (")[1].split(")")[0]
    first = float(named.split(" / ")[0])
    assert abs(first - 0.8) < 0.1
    assert any(KEPT in n for n in model.notes_)
    # the prediction still uses the uniform one (up to the shrinkage toward majority vote's model)
    np.testing.assert_allclose(model.class_balance_, [0.5, 0.5], atol=0.02)
    # the user's remedy works: an estimated balance beats majority vote here
    est = LabelModel(cardinality=2, class_balance="estimate")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(data.L)
    assert est.score(data.L, data.y)["accuracy"] > model.score(data.L, data.y)["accuracy"]


def test_balanced_classes_with_strong_lfs_get_no_such_note():
    data = make_synthetic(6000, 6, 2, accuracies=0.8, coverage=0.6, random_state=4)
    _, messages = _fit(data)
    assert not [m for m in messages if m.startswith(KEPT)]


def test_gold_rows_drop_the_note():
    # a dev choice judges the fit, the uniform balance included: the note asking for gold rows goes
    data = _weak([0.8, 0.2], seed=3)
    dev = _weak([0.8, 0.2], seed=5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LabelModel(cardinality=2).fit(data.L, L_dev=dev.L[:150], Y_dev=dev.y[:150])
    assert not [str(w.message) for w in caught if str(w.message).startswith(KEPT)]
    assert not [n for n in model.notes_ if n.startswith(KEPT)]
