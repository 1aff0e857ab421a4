"""Converters between the -1/0..k-1 convention and FlyingSquid, MeTaL and sparse encodings."""

from __future__ import annotations

import numpy as np
import pytest

from tripletws import (
    LabelModel,
    from_flyingsquid,
    from_metal,
    from_sparse,
    to_flyingsquid,
    to_metal,
    to_sparse,
)
from tripletws.datasets import make_synthetic


@pytest.fixture(scope="module")
def L2():
    return make_synthetic(500, 5, 2, coverage=0.5, random_state=1).L


@pytest.fixture(scope="module")
def L4():
    return make_synthetic(500, 5, 4, coverage=0.5, random_state=2).L


def test_flyingsquid_round_trip(L2) -> None:
    F = to_flyingsquid(L2)
    np.testing.assert_array_equal(F == 0, L2 == -1)
    np.testing.assert_array_equal(F == 1, L2 == 1)
    np.testing.assert_array_equal(F == -1, L2 == 0)
    np.testing.assert_array_equal(from_flyingsquid(F), L2)
    np.testing.assert_array_equal(to_flyingsquid(from_flyingsquid(F)), F)
    np.testing.assert_array_equal(to_flyingsquid(to_sparse(L2)), F)
    assert from_flyingsquid([[1, 0, -1]]).tolist() == [[1, -1, 0]]


def test_flyingsquid_bad_values(L2, L4) -> None:
    with pytest.raises(ValueError, match=r"found 2 in column 1 \(row 0\)"):
        from_flyingsquid([[1, 2, 0]])
    with pytest.raises(ValueError, match="2-dimensional"):
        from_flyingsquid(np.zeros((2, 2, 2, 2)))  # 3-D: padded sequences
    np.testing.assert_array_equal(from_flyingsquid([1, 0, -1]), [1, -1, 0])  # 1-D: gold labels
    with pytest.raises(ValueError, match=r"outside 0..1"):
        to_flyingsquid(L4)  # multiclass has no FlyingSquid encoding


def test_metal_round_trip(L4) -> None:
    T = to_metal(L4)
    np.testing.assert_array_equal(T, L4.astype(int) + 1)
    np.testing.assert_array_equal(from_metal(T), L4)
    np.testing.assert_array_equal(from_metal(T, cardinality=4), L4)
    np.testing.assert_array_equal(from_metal(T.astype(float)), L4)
    np.testing.assert_array_equal(to_metal(to_sparse(L4)), T)


def test_metal_bad_values() -> None:
    with pytest.raises(ValueError, match=r"found -1 in column 2 \(row 1\)"):
        from_metal([[1, 2, 0], [0, 1, -1]])
    with pytest.raises(ValueError, match="value 5 in column 0 exceeds cardinality 4"):
        from_metal([[5, 0, 1]], cardinality=4)
    with pytest.raises(ValueError, match="non-integer"):
        from_metal([[0.5, 1, 1]])


@pytest.mark.parametrize("fixture", ["L2", "L4"])
def test_sparse_round_trip(fixture, request) -> None:
    L = request.getfixturevalue(fixture)
    X = to_sparse(L)
    assert X.nnz == int((L >= 0).sum())
    np.testing.assert_array_equal(X.toarray(), L.astype(int) + 1)  # class c stored as c + 1
    np.testing.assert_array_equal(from_sparse(X), L)
    assert to_sparse(X) is not None and from_sparse(to_sparse(X)).tolist() == L.tolist()
    k = int(L.max()) + 1
    np.testing.assert_array_equal(
        LabelModel(cardinality=k).fit(X).accuracies_, LabelModel(cardinality=k).fit(L).accuracies_
    )


def test_sparse_bad_values() -> None:
    with pytest.raises(ValueError, match="value -2 in column 1"):
        to_sparse([[0, -2, 1]])
    with pytest.raises(ValueError, match=r"outside 0..1"):
        to_sparse([[0, 2, 1]], cardinality=2)


def test_metal_needs_a_matrix() -> None:
    with pytest.raises(ValueError, match="2-dimensional"):
        from_metal([1, 2, 0])


def test_flyingsquid_gold_labels_convert_and_are_told_apart():
    """FlyingSquid's -1/+1 gold labels passed as they are: score dropped every class-0 row (-1 means
    unknown here) and fit(Y_dev=) fitted a balance of [0.01, 0.99], silently; the converters refused
    1-D labels."""
    import warnings

    from tripletws import LabelModel, MajorityLabelVoter

    fs = np.array([1, -1, -1, 0, 1])  # 0: unknown
    ours = from_flyingsquid(fs)
    np.testing.assert_array_equal(ours, [1, 0, 0, -1, 1])
    np.testing.assert_array_equal(to_flyingsquid(ours), fs)
    with pytest.raises(ValueError, match="found 2 at position 1"):
        from_flyingsquid(np.array([1, 2]))
    L = np.array([[0, 0, -1], [1, 1, 1], [0, -1, 0], [1, 0, 1]] * 10)
    y_fs = np.array([-1, 1, -1, 1] * 10)
    model = MajorityLabelVoter(2)
    with pytest.warns(UserWarning, match=r"Y holds -1 and 1 only.*from_flyingsquid\(Y\)"):
        model.score(L, y_fs)
    with pytest.warns(UserWarning, match="Y_dev holds -1 and 1 only"):
        LabelModel(2).fit(L, Y_dev=y_fs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.score(L, from_flyingsquid(y_fs))  # converted: no warning
        model.score(L, np.array([0, 1, -1, 1] * 10))  # our gold with unknowns: no warning
