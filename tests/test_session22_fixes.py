"""Fixes of session 22 outside the helper rounds' areas, each with a test that fails before its fix."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tripletws import LabelModel
from tripletws.datasets import make_synthetic
from tripletws.matrix import LabelMatrixError


def _object_votes() -> np.ndarray:
    return make_synthetic(400, 5, 3, random_state=4).L.astype(object)  # Python ints in an object array


def test_object_array_of_integers_is_read_as_votes():
    # was: "L_train must hold integers, got dtype object", naming no cell: every cell was an integer
    L = _object_votes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = LabelModel(3).fit(L).predict_proba(L)
        ref = LabelModel(3).fit(L.astype(np.int64)).predict_proba(L.astype(np.int64))
    np.testing.assert_array_equal(got, ref)  # the same integers: the same code path after the cast


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("x", r"got dtype object \(column 2, row 5, holds 'x'\)"),
        (True, r"got dtype object \(column 2, row 5, holds True\)"),  # was: no cell named
        (None, r"got dtype object \(column 2, row 5, holds None\)"),
        (0.5, r"non-integer value 0.5 in column 2 \(row 5\)"),
        (np.nan, r"NaN in column 2 \(row 5\)"),
    ],
)
def test_object_array_names_its_first_cell_that_is_no_vote(cell, message):
    L = _object_votes()
    L[5, 2] = cell
    with pytest.raises(LabelMatrixError, match=message):
        LabelModel(3).fit(L)


def test_score_with_metric_names_in_a_numpy_array_returns_str_keys():
    # was: np.str_ keys ({np.str_('accuracy'): ...}), which json.dumps and repr show differently
    d = make_synthetic(300, 5, 2, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = LabelModel(2).fit(d.L).score(d.L, d.y, metrics=np.array(["accuracy", "f1"]))
    assert list(out) == ["accuracy", "f1"] and all(type(name) is str for name in out)
