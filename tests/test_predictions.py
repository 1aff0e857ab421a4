"""Hard predictions: Snorkel's tie-break policies, probs_to_preds / preds_to_probs."""

from __future__ import annotations

import numpy as np
import pytest

from tripletws import LabelModel, MajorityLabelVoter, preds_to_probs, probs_to_preds
from tripletws.predictions import TIE_TOLERANCE

PROBS = np.array(
    [
        [0.9, 0.1, 0.0],
        [0.4, 0.4, 0.2],  # tie 0/1
        [1 / 3, 1 / 3, 1 / 3],  # tie 0/1/2
        [0.2, 0.3, 0.5],
        [0.45, 0.1, 0.45],  # tie 0/2
        [0.5 + TIE_TOLERANCE / 3, 0.5 - TIE_TOLERANCE / 3, 0.0],  # within tolerance: tie
    ]
)
TIED = [{0}, {0, 1}, {0, 1, 2}, {2}, {0, 2}, {0, 1}]


def test_abstain() -> None:
    preds = probs_to_preds(PROBS, "abstain")
    assert preds.tolist() == [0, -1, -1, 2, -1, -1]
    assert preds.dtype.kind == "i"


@pytest.mark.parametrize("policy", ["random", "true-random"])
def test_random_policies_pick_a_tied_class(policy) -> None:
    preds = probs_to_preds(PROBS, policy, random_state=0)
    for p, tied in zip(preds, TIED, strict=True):
        assert int(p) in tied


def test_random_is_a_deterministic_function_of_row_index() -> None:
    n = 4000
    probs = np.full((n, 2), 0.5)
    a = probs_to_preds(probs, "random")
    np.testing.assert_array_equal(a, probs_to_preds(probs.copy(), "random"))
    # the same row index gives the same pick whatever the other rows are
    other = probs.copy()
    other[::3] = [0.9, 0.1]
    b = probs_to_preds(other, "random")
    tied_rows = np.flatnonzero(other[:, 0] == 0.5)
    np.testing.assert_array_equal(b[tied_rows], a[tied_rows])
    # and it is balanced: a fair coin per row (4 standard deviations)
    assert abs(a.mean() - 0.5) <= 4 * np.sqrt(0.25 / n)


def test_true_random_uses_random_state() -> None:
    n = 4000
    probs = np.full((n, 3), 1 / 3)
    a = probs_to_preds(probs, "true-random", random_state=1)
    np.testing.assert_array_equal(a, probs_to_preds(probs, "true-random", random_state=1))
    assert not np.array_equal(a, probs_to_preds(probs, "true-random", random_state=2))
    gen = np.random.default_rng(5)
    g1, g2 = (
        probs_to_preds(probs, "true-random", random_state=gen),
        probs_to_preds(probs, "true-random", random_state=gen),
    )
    assert not np.array_equal(g1, g2)  # a Generator advances
    counts = np.bincount(a, minlength=3)
    assert np.all(np.abs(counts / n - 1 / 3) <= 4 * np.sqrt((1 / 3) * (2 / 3) / n))
    # the global RNG is never used
    state = np.random.get_state()[1].copy()  # noqa: NPY002
    probs_to_preds(probs, "true-random")
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002


def test_model_predict_uses_its_random_state() -> None:
    from tripletws.datasets import make_synthetic

    data = make_synthetic(3000, 5, 2, coverage=0.3, random_state=0)  # ~17% rows with no vote: ties
    # the symmetric model with its uniform prior leaves the rows without votes tied (the default
    # model's tables may make abstentions informative, which breaks the ties)
    fits = [LabelModel(random_state=seed, model="symmetric").fit(data.L) for seed in (3, 3, 4)]
    runs = [lm.predict(data.L, tie_break_policy="true-random") for lm in fits]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])
    preds, probs = fits[0].predict(data.L, return_probs=True, tie_break_policy="abstain")
    np.testing.assert_array_equal(preds, probs_to_preds(probs, "abstain"))
    assert (preds == -1).sum() == (data.L < 0).all(axis=1).sum()
    L3 = np.array([[0, 1, -1], [1, 0, -1], [-1, -1, -1]] * 200)
    mv = [MajorityLabelVoter(random_state=s).predict(L3, tie_break_policy="true-random") for s in (3, 3)]
    np.testing.assert_array_equal(mv[0], mv[1])


def test_probs_to_preds_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown tie_break_policy"):
        probs_to_preds(PROBS, "first")
    with pytest.raises(ValueError, match="2-dimensional"):
        probs_to_preds(np.array([0.2, 0.8]))
    with pytest.raises(ValueError, match=r"not finite in row 1: \[0\.5, nan\]"):
        probs_to_preds(np.array([[0.2, 0.8], [0.5, np.nan]]))  # was class 0
    with pytest.raises(ValueError, match="k >= 1"):
        probs_to_preds(np.zeros((3, 0)))
    with pytest.raises(ValueError, match="random_state must be"):
        MajorityLabelVoter(random_state="a").predict(np.array([[0, 1, -1]]), tie_break_policy="true-random")


def test_preds_to_probs() -> None:
    out = preds_to_probs([0, 2, -1, 1], 3)
    expected = np.array([[1, 0, 0], [0, 0, 1], [1 / 3, 1 / 3, 1 / 3], [0, 1, 0]])
    np.testing.assert_allclose(out, expected)
    np.testing.assert_array_equal(probs_to_preds(preds_to_probs([0, 2, 1], 3), "abstain"), [0, 2, 1])
    with pytest.raises(ValueError, match=r"prediction 3 outside -1..2"):
        preds_to_probs([0, 3], 3)
