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


def test_lfanalysis_with_a_model_on_few_rows_and_classes_l_never_votes():
    pytest.importorskip("pandas")
    from tripletws import LFAnalysis

    rng = np.random.default_rng(4)
    L = np.where(rng.random((40, 5)) < 0.6, rng.integers(0, 2, (40, 5)), -1)  # votes 0 and 1 only
    lm = LabelModel(4).fit(L)  # four classes
    y = rng.integers(0, 4, size=40)  # gold names classes 2 and 3 too
    df = LFAnalysis(L).lf_summary(Y=y, model=lm, random_state=0)
    assert len(df) == 5 and {"Acc. low", "Acc. high", "Emp. Acc."} <= set(df.columns)
    right = [(L[L[:, j] >= 0, j] == y[L[:, j] >= 0]).mean() for j in range(5)]
    np.testing.assert_allclose(df["Emp. Acc."], right)
