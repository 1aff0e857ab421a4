"""lf_summary against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from tripletws import LabelModel, to_sparse
from tripletws.analysis import lf_summary, lf_summary_arrays

L = np.array(
    [
        [0, 0, -1],
        [1, 0, 1],
        [-1, -1, 1],
        [1, -1, -1],
    ]
)
Y = np.array([0, 1, 1, -1])


def test_summary_values_by_hand():
    s = lf_summary_arrays(L, Y, cardinality=2)
    assert s["polarity"] == [[0, 1], [0], [1]]
    np.testing.assert_allclose(s["coverage"], [3 / 4, 2 / 4, 2 / 4])
    # overlaps: rows where the LF votes with at least one other LF
    np.testing.assert_allclose(s["overlaps"], [2 / 4, 2 / 4, 1 / 4])
    # conflicts: rows where another LF votes a different class (row 1 only)
    np.testing.assert_allclose(s["conflicts"], [1 / 4, 1 / 4, 1 / 4])
    np.testing.assert_array_equal(s["correct"], [2, 1, 2])
    np.testing.assert_array_equal(s["incorrect"], [0, 1, 0])


def test_sparse_input_gives_the_same_summary():
    a, b = lf_summary_arrays(L, Y, 2), lf_summary_arrays(to_sparse(L), Y, 2)
    for key in ("coverage", "overlaps", "conflicts", "correct"):
        np.testing.assert_allclose(a[key], b[key])


def test_dataframe_with_model_weights():
    pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    big = np.where(rng.random((200, 4)) < 0.5, rng.integers(0, 2, (200, 4)), -1)
    lm = LabelModel(2).fit(big)
    df = lf_summary(big, model=lm)
    assert list(df.columns) == ["j", "Polarity", "Coverage", "Overlaps", "Conflicts", "Learned Weight"]
    np.testing.assert_allclose(df["Learned Weight"], lm.get_weights())
    with pytest.raises(ValueError, match="lf_names"):
        lf_summary(big, lf_names=["a"])
