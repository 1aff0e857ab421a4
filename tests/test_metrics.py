"""Scoring metrics against hand-computed values (and scikit-learn where it applies)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tripletws import MajorityLabelVoter
from tripletws.metrics import score

# gold, -1 = unknown (row 5 is ignored); prediction -1 = abstained (row 3)
Y = np.array([0, 1, 1, 0, 1, -1])
PRED = np.array([0, 1, 0, -1, 1, 1])
PROBS = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.5, 0.5], [0.1, 0.9], [0.2, 0.8]])

# by hand: gold rows 0-4; covered (pred >= 0) rows 0, 1, 2, 4 with y = 0 1 1 1, pred = 0 1 0 1
HAND = {
    "accuracy": 3 / 4,
    "coverage": 4 / 5,
    "f1": 2 * 2 / (2 * 2 + 0 + 1),  # class 1: tp 2, fp 0, fn 1
    "precision": 1.0,
    "recall": 2 / 3,
    "f1_macro": (2 * 1 / (2 * 1 + 1 + 0) + 0.8) / 2,  # class 0: tp 1, fp 1, fn 0
    # brier over all gold rows: sum_c (p_c - onehot_c)^2
    "brier": np.mean([2 * 0.2**2, 2 * 0.3**2, 2 * 0.6**2, 2 * 0.5**2, 2 * 0.1**2]),
    "log_loss": -np.mean(np.log([0.8, 0.7, 0.4, 0.5, 0.9])),
}


@pytest.mark.parametrize("name", sorted(HAND))
def test_hand_computed(name) -> None:
    assert score(Y, PRED, PROBS, 2, [name])[name] == pytest.approx(HAND[name], abs=1e-12)


def test_aliases_and_multiclass() -> None:
    out = score(Y, PRED, PROBS, 2, ["acc", "logloss"])
    assert out["acc"] == pytest.approx(HAND["accuracy"])
    assert out["logloss"] == pytest.approx(HAND["log_loss"])
    y = np.array([0, 1, 2, 2, 1])
    pred = np.array([0, 2, 2, 2, 1])
    m = score(y, pred, None, 3, ["accuracy", "f1_macro", "f1_micro"])
    assert m["accuracy"] == pytest.approx(4 / 5)
    assert m["f1_micro"] == pytest.approx(4 / 5)
    # class 0: f1 1; class 1: tp 1 fn 1 -> 2/3; class 2: tp 2 fp 1 -> 4/5
    assert m["f1_macro"] == pytest.approx((1 + 2 / 3 + 4 / 5) / 3)
    with pytest.raises(ValueError, match="needs probabilities"):
        score(y, pred, None, 3, ["brier"])
    with pytest.raises(ValueError, match="unknown metric"):
        score(y, pred, None, 3, ["roc"])


def test_against_sklearn() -> None:
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    n, k = 300, 3
    y = rng.integers(0, k, n)
    probs = rng.dirichlet(np.ones(k), size=n)
    pred = probs.argmax(axis=1)
    ours = score(y, pred, probs, k, ["accuracy", "f1_macro", "log_loss"])
    assert ours["accuracy"] == pytest.approx(sk.accuracy_score(y, pred))
    assert ours["f1_macro"] == pytest.approx(sk.f1_score(y, pred, average="macro"))
    assert ours["log_loss"] == pytest.approx(sk.log_loss(y, probs, labels=range(k)))
    yb = y % 2
    pb = np.column_stack([1 - probs[:, 0], probs[:, 0]])
    predb = pb.argmax(axis=1)
    ob = score(yb, predb, pb, 2, ["f1", "precision", "recall", "brier"])
    assert ob["f1"] == pytest.approx(sk.f1_score(yb, predb))
    assert ob["precision"] == pytest.approx(sk.precision_score(yb, predb))
    assert ob["recall"] == pytest.approx(sk.recall_score(yb, predb))
    # our brier sums over both classes: twice scikit-learn's binary brier_score_loss
    assert ob["brier"] == pytest.approx(2 * sk.brier_score_loss(yb, pb[:, 1]))


def test_labeler_score_skips_abstains_like_snorkel() -> None:
    L = np.array([[0, 0, -1], [1, 0, -1], [1, 1, 1], [-1, -1, -1]])
    y = np.array([0, 1, 1, 0])
    mv = MajorityLabelVoter()
    out = mv.score(L, y, ["accuracy", "coverage"], tie_break_policy="abstain")
    assert out == {"accuracy": 1.0, "coverage": 0.5}
    assert mv.score(L, y)["accuracy"] == 1.0  # default metric list
    assert mv.score(L, y, []) == {}  # was the default list
    # no gold row left to score: every label metric is undefined (f1, precision, recall were 0.0)
    none = mv.score(L, np.full(4, -1), ["accuracy", "f1", "precision", "recall", "f1_macro"])
    assert all(np.isnan(v) for v in none.values()), none


def test_score_counts_rows_without_votes_and_can_leave_them_out():
    from tripletws.datasets import make_synthetic

    d = make_synthetic(4_000, 5, 2, coverage=0.3, random_state=7)
    silent = (d.L < 0).all(axis=1)
    assert silent.sum() > 100
    mv = MajorityLabelVoter(2)
    with pytest.warns(UserWarning, match=f"{int(silent.sum())} of 4000 gold rows .* are scored"):
        full = mv.score(d.L, d.y, ["accuracy", "no_vote"], tie_break_policy="random")
    assert full["no_vote"] == pytest.approx(silent.mean())
    # abstained predictions on the silent rows are not scored: nothing rests on the balance, no
    # warning (it fired on every Snorkel-style MajorityLabelVoter().score call); no_vote still counts them
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        abstained = mv.score(d.L, d.y, ["accuracy", "no_vote"], tie_break_policy="abstain")
    assert abstained["no_vote"] == pytest.approx(silent.mean())
    # a probability metric scores every gold row, the abstained ones too: warned
    with pytest.warns(UserWarning, match=f"{int(silent.sum())} of 4000 gold rows .* are scored"):
        mv.score(d.L, d.y, ["brier"], tie_break_policy="abstain")
    voted = mv.score(d.L, d.y, ["accuracy"], voted_only=True)
    y_voted = np.where(silent, -1, d.y)
    assert voted == mv.score(d.L[~silent], d.y[~silent], ["accuracy"])
    assert voted == mv.score(d.L, y_voted, ["accuracy"], voted_only=True)


def test_snorkel_metric_names_against_scikit_learn():
    """Snorkel's score(metrics=["roc_auc" | "matthews_corrcoef" | "fbeta"]) raised 'unknown metric'."""
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p1 = np.clip(0.3 * y + rng.random(300) * 0.7, 0, 1).round(2)  # ties on purpose
    probs = np.stack([1 - p1, p1], axis=1)
    pred = (p1 > 0.5).astype(int)
    pred[:10] = -1  # abstained: left out of the label metrics
    y[-5:] = -1  # no gold: left out of every metric
    got = score(y, pred, probs, 2, ["roc_auc", "matthews_corrcoef", "fbeta", "f1"])
    gold, kept = y >= 0, (y >= 0) & (pred >= 0)
    assert got["roc_auc"] == pytest.approx(sk.roc_auc_score(y[gold], p1[gold]), abs=1e-12)
    assert got["matthews_corrcoef"] == pytest.approx(sk.matthews_corrcoef(y[kept], pred[kept]), abs=1e-12)
    assert got["fbeta"] == got["f1"] == pytest.approx(sk.f1_score(y[kept], pred[kept]), abs=1e-12)
    y3, p3 = rng.integers(0, 3, 200), rng.integers(0, 3, 200)
    mcc = score(y3, p3, None, 3, ["matthews_corrcoef"])["matthews_corrcoef"]
    assert mcc == pytest.approx(sk.matthews_corrcoef(y3, p3), abs=1e-12)
    assert (
        score(np.zeros(4, int), np.zeros(4, int), None, 2, ["matthews_corrcoef"])["matthews_corrcoef"] == 0.0
    )
    with pytest.raises(ValueError, match="binary"):
        score(y3, p3, np.full((200, 3), 1 / 3), 3, ["roc_auc"])
    with pytest.raises(ValueError, match="metric 'fbeta' is for binary tasks"):  # named 'f1' before
        score(y3, p3, None, 3, ["fbeta"])


def test_probability_metrics_without_gold_rows_and_auc_across_input_paths():
    """brier / log_loss with no gold row leaked numpy's 'Mean of empty slice' (also through the CLI);
    roc_auc moved in the 4th decimal between dense and sparse input, whose float32 logits split
    probabilities that tie on the dense path by ~1e-9."""
    from scipy import sparse

    from tripletws import LabelModel
    from tripletws.datasets import make_synthetic

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        none = score(np.full(3, -1), np.zeros(3, int), np.full((3, 2), 0.5), 2, ["brier", "log_loss"])
    assert all(np.isnan(v) for v in none.values())
    d = make_synthetic(500, 4, 2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2).fit(d.L)
        dense = model.score(d.L, d.y, ["roc_auc"])["roc_auc"]
        sparse_auc = model.score(sparse.csr_matrix(d.L + 1), d.y, ["roc_auc"])["roc_auc"]
    assert dense == pytest.approx(sparse_auc, abs=1e-12)


def test_score_warnings_name_the_callers_line():
    """The -1/+1 gold hint pointed one frame above the caller of score; SequenceLabelModel.score's
    no-vote warning pointed inside the library."""
    from tripletws import SequenceLabelModel

    L = np.array([[0, 0, -1], [1, 1, 1], [-1, -1, -1], [1, 0, 1]] * 10)
    y = np.array([-1, 1, -1, 1] * 10)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        MajorityLabelVoter(2).score(L, y)
        SequenceLabelModel(2).fit(L).score(L, np.array([0, 1, 0, 1] * 10), tie_break_policy="random")
    said = [w for w in caught if "holds -1 and 1" in str(w.message) or "had no LF vote" in str(w.message)]
    assert len(said) == 2 and all(w.filename == __file__ for w in said), [
        (w.filename, w.message) for w in said
    ]


def test_the_unknown_metric_message_lists_the_aliases():
    """The README lists fbeta among score's metric names; the error named METRICS only."""
    with pytest.raises(ValueError, match=r"fbeta.*no_vote"):
        score(np.array([0, 1]), np.array([0, 1]), None, 2, metrics=["bogus"])
