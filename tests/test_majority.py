"""MajorityLabelVoter against a naive per-row majority vote."""

from __future__ import annotations

import numpy as np
import pytest

from tripletws import MajorityLabelVoter, to_sparse
from tripletws.datasets import make_synthetic


def naive_majority(L: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row by row: counts of each class; the unique winner or -1 (tie / no votes)."""
    preds = np.empty(len(L), dtype=int)
    probs = np.empty((len(L), k))
    for r, row in enumerate(L):
        counts = np.bincount(row[row >= 0], minlength=k)
        top = np.flatnonzero(counts == counts.max())
        preds[r] = top[0] if len(top) == 1 else -1
        probs[r] = 0.0
        probs[r, top] = 1.0 / len(top)
    return preds, probs


@pytest.mark.parametrize("k", [2, 3, 5])
def test_matches_naive(k) -> None:
    L = make_synthetic(2000, 7, k, coverage=0.35, random_state=k).L
    preds, probs = naive_majority(L, k)
    mv = MajorityLabelVoter(k)
    np.testing.assert_array_equal(mv.predict(L), preds)
    np.testing.assert_allclose(mv.predict_proba(L), probs)
    np.testing.assert_allclose(mv.predict_proba(to_sparse(L, k)), probs)
    rnd = mv.predict(L, tie_break_policy="random")
    assert np.all(probs[np.arange(len(L)), rnd] > 0)  # a most-voted class
    assert mv.fit(L) is mv


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="value 3 in column 0"):
        MajorityLabelVoter(3).predict([[3, 0, 1]])


def test_zero_rows_give_an_empty_k_column_posterior() -> None:
    """As LabelModel.predict_proba: (0, k), not an error (issue 9.10)."""
    for k in (2, 4):
        probs = MajorityLabelVoter(k).predict_proba(np.zeros((0, 5), dtype=int))
        assert probs.shape == (0, k)
        assert MajorityLabelVoter(k).predict(np.zeros((0, 5), dtype=int)).shape == (0,)
