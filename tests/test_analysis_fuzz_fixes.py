"""Defects found by fuzzing the analysis tools (lf_summary, LFAnalysis), the metrics and majority vote."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tripletws import LabelModel, LFAnalysis, MajorityLabelVoter
from tripletws.analysis import lf_summary
from tripletws.metrics import metric_score, score

RNG = np.random.default_rng(7)
L3 = RNG.integers(-1, 2, size=(60, 3))
Y3 = RNG.integers(0, 2, size=60)
GOLD4 = np.array([0, 1, 1, 0])
PRED4 = np.array([0, 1, 0, 0])
P4 = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.9, 0.1]])


def _fit(L):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LabelModel(2).fit(L)


@pytest.mark.parametrize("how", ["function", "LFAnalysis", "function+model", "LFAnalysis+model"])
def test_summary_of_a_frame_with_number_labels_is_indexed_by_those_numbers(how):
    """A DataFrame whose column labels are numbers (10, 20, 30) gave a summary indexed by text
    ("10", "20", "30"), the names the model keeps, so ``summary.loc[10]`` raised KeyError; the
    summary computed from a frame is now indexed by the frame's own column labels (the model's
    ``lf_names_`` stay text)."""
    frame = pd.DataFrame(L3, columns=[10, 20, 30])
    model = _fit(frame)
    assert model.lf_names_ == ("10", "20", "30")
    table = {
        "function": lambda: lf_summary(frame, Y3),
        "LFAnalysis": lambda: LFAnalysis(frame).lf_summary(Y3),
        "function+model": lambda: lf_summary(frame, Y3, model=model),
        "LFAnalysis+model": lambda: LFAnalysis(frame).lf_summary(Y3, model=model, intervals=False),
    }[how]()
    assert list(table.index) == [10, 20, 30]
    assert table.loc[20, "j"] == 1
    np.testing.assert_allclose(table.loc[30, "Coverage"], np.mean(L3[:, 2] >= 0))
    # numpy input to a model fitted on those columns: the model's names, text, as before
    assert list(lf_summary(L3, model=model).index) == ["10", "20", "30"]


def test_summary_of_a_frame_with_multiindex_columns_keeps_the_multiindex():
    """MultiIndex columns named the summary's rows "a/1", "a/2", "b/1" (the model's text names);
    the rows are now the frame's own tuples, so ``summary.loc[("a", 2)]`` finds the LF."""
    columns = pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)])
    frame = pd.DataFrame(L3, columns=columns)
    for table in (lf_summary(frame, Y3), LFAnalysis(frame).lf_summary(Y3)):
        assert list(table.index) == list(columns)
        assert table.loc[("a", 2), "j"] == 1


def test_lf_summary_with_a_majority_voter_is_a_clear_error():
    """``lf_summary(L, model=MajorityLabelVoter(2))`` raised AttributeError ('no attribute
    get_weights'); it is now a ValueError saying the model learns no weights, as
    ``LFAnalysis.lf_summary`` says."""
    with pytest.raises(ValueError, match=r"MajorityLabelVoter"):
        lf_summary(L3, model=MajorityLabelVoter(2))


@pytest.mark.parametrize("metric", ["brier", "log_loss", "roc_auc"])
def test_probability_metrics_refuse_nan(metric):
    """NaN in the probabilities was scored silently: brier came out NaN, log_loss and roc_auc read past
    it (a NaN in a column they do not read) and returned a number; both entry points now raise a
    ValueError naming the row."""
    probs = P4.copy()
    probs[1, 0] = np.nan
    with pytest.raises(ValueError, match=r"probs.*NaN.*row 1"):
        metric_score(GOLD4, PRED4, probs, metric)
    with pytest.raises(ValueError, match=r"probs.*NaN.*row 1"):
        score(GOLD4, PRED4, probs, 2, [metric])


@pytest.mark.parametrize("metric", ["brier", "log_loss"])
def test_probability_metrics_refuse_rows_that_do_not_sum_to_one(metric):
    """Rows that are not probabilities (scores, a softmax forgotten) were scored as they were: ``P * 5``
    gave brier 10.25 and log_loss -0.0 (every clipped value read as 1), ``P / 2`` a log_loss 0.69 too
    high; they are now a ValueError naming the row, and its sum or values (rows off by float rounding
    still pass)."""
    with pytest.raises(ValueError, match=r"row 0 holds .*outside 0..1"):
        metric_score(GOLD4, None, P4 * 5, metric)
    with pytest.raises(ValueError, match=r"row 0 sums to 0.5, not 1"):
        metric_score(GOLD4, None, P4 / 2, metric)
    with pytest.raises(ValueError, match=r"row 0 sums to 0.5, not 1"):
        score(GOLD4, PRED4, P4 / 2, 2, [metric])
    with pytest.raises(ValueError, match=r"outside 0..1"):
        metric_score(GOLD4, None, np.array([[1.5, -0.5], [0.3, 0.7], [0.6, 0.4], [0.9, 0.1]]), metric)
    close = P4 + 1e-7
    assert metric_score(GOLD4, None, close, metric) == pytest.approx(metric_score(GOLD4, None, P4, metric))


@pytest.mark.parametrize(
    "probs",
    [P4[:, 1], P4[:3], np.ones((4, 2, 1)) / 2, np.full((4, 3), 1 / 3)],
    ids=["1-D", "fewer rows", "3-D", "3 columns for 2 classes"],
)
def test_probabilities_of_the_wrong_shape_are_a_clear_error(probs):
    """Probabilities of the wrong shape raised IndexError (1-D, fewer rows than golds), or were scored
    silently (a 3-D array gave brier 1.0; score() with 3 columns for 2 classes gave an AUC from the
    middle column); they are now a ValueError naming the shape expected."""
    with pytest.raises(ValueError, match=r"probs has shape"):
        if probs.ndim == 2 and probs.shape[1] == 3:
            score(GOLD4, PRED4, probs, 2, ["roc_auc"])
        else:
            metric_score(GOLD4, None, probs, "brier")


def test_metric_score_refuses_non_integer_golds():
    """metric_score cast golds with astype(int64): 0.5 was read as class 0 (accuracy 1.0 for golds
    [0.5, 1] against preds [0, 1]) and text raised numpy's 'invalid literal for int()'; both are now a
    ValueError naming golds and the value."""
    with pytest.raises(ValueError, match=r"golds has non-integer value 0.5"):
        metric_score([0.5, 1], [0, 1], None, "accuracy")
    with pytest.raises(ValueError, match=r"golds must hold integers"):
        metric_score(["a", "b"], ["a", "b"], None, "accuracy")
    with pytest.raises(ValueError, match=r"preds has non-integer value 1.5"):
        metric_score([0, 1], [0, 1.5], None, "accuracy")
    assert metric_score([0.0, 1.0], [0, 1], None, "accuracy") == 1.0  # integral floats are classes


def test_metric_score_refuses_two_dimensional_golds():
    """Golds of shape (n, k) (one-hot rows) were flattened into n * k labels and scored against
    preds flattened the same way, a number without meaning; a 2-D array other than one column is now a
    ValueError."""
    onehot = np.eye(2, dtype=int)[GOLD4]
    with pytest.raises(ValueError, match=r"golds must be 1-dimensional"):
        metric_score(onehot, np.eye(2, dtype=int)[PRED4], None, "accuracy")
    assert metric_score(GOLD4[:, None], PRED4, None, "accuracy") == 0.75  # one column: the labels


def test_classes_beyond_the_probabilities_are_a_clear_error():
    """A gold label or prediction beyond the classes of the probabilities raised IndexError (brier,
    log_loss) or 'cannot reshape array of size 6 into shape (2,2)' (f1_macro, and score() with a
    prediction >= cardinality); it is now a ValueError naming the value and the classes."""
    with pytest.raises(ValueError, match=r"golds has value 2.*outside"):
        metric_score([0, 2, 1, 0], None, P4, "brier")
    with pytest.raises(ValueError, match=r"preds has value 3.*outside"):
        metric_score(GOLD4, [0, 3, 1, 0], P4, "f1_macro")
    with pytest.raises(ValueError, match=r"preds has value 2.*outside -1..1"):
        score(GOLD4, np.array([0, 2, 1, 0]), None, 2, ["f1_macro"])
    with pytest.raises(ValueError, match=r"y has value 3.*outside -1..1"):
        score(np.array([0, 3, 1, 0]), PRED4, None, 2, ["matthews_corrcoef"])


def test_predictions_of_another_length_are_a_clear_error():
    """preds (or y) of another length than golds raised numpy's 'boolean index did not match' IndexError
    from score and metric_score, and score() given lists raised TypeError ('>=' between list and int);
    lengths are now checked (ValueError) and lists are read as arrays."""
    with pytest.raises(ValueError, match=r"preds has length 3 but"):
        metric_score(GOLD4, PRED4[:3], None, "accuracy")
    with pytest.raises(ValueError, match=r"preds has length 3 but"):
        score(GOLD4, PRED4[:3], None, 2, ["accuracy"])
    assert score([0, 1, 1, 0], [0, 1, 0, 0], None, 2, ["accuracy"]) == {"accuracy": 0.75}


CALLS = ["score", "majority", "lf_summary", "LFAnalysis", "empirical_probs", "empirical_accuracies", "report"]


@pytest.mark.parametrize("call", CALLS)
def test_gold_series_holding_the_frame_rows_in_another_order_is_refused(call):
    """A DataFrame ``L`` and a Series ``Y`` whose indexes hold the same rows in another order (one of
    them sorted or shuffled) were read by position: each gold label went to another row, and score,
    lf_summary, LFAnalysis and the report gave wrong accuracies without a word (``fit(L_dev=, Y_dev=)``
    already refused it); they now raise the same ValueError, naming the first row that differs."""
    frame = pd.DataFrame(L3, columns=["a", "b", "c"], index=np.arange(100, 160))
    gold = pd.Series(Y3, index=frame.index)
    shuffled = gold.sample(frac=1, random_state=1)
    model = _fit(frame)
    run = {
        "score": lambda y: model.score(frame, y),
        "majority": lambda y: MajorityLabelVoter(2).score(frame, y),
        "lf_summary": lambda y: lf_summary(frame, y),
        "LFAnalysis": lambda y: LFAnalysis(frame).lf_summary(y),
        "empirical_probs": lambda y: LFAnalysis(frame).lf_empirical_probs(y, 2),
        "empirical_accuracies": lambda y: LFAnalysis(frame).lf_empirical_accuracies(y),
        "report": lambda y: model.report(frame, y),
    }[call]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=r"the same rows in another order \(row 0: L's index 100"):
            run(shuffled)
        run(gold)  # the same order: read as before
        run(gold.reset_index(drop=True))  # other labels (a fresh index): read by position, as numpy


def test_summary_of_a_frame_keeps_labels_that_cannot_name_lfs():
    """A frame labelled by floats (0.5, 1.5, 2.5) or by a repeated label got a summary indexed 0..m-1,
    positions no label of the frame has; such labels cannot name the model's LFs, but the summary of
    the frame is now indexed by them as the frame has them.  Default labels 0..m-1 still fall back to
    the fit's names."""
    for columns in ([0.5, 1.5, 2.5], ["a", "a", "b"]):
        frame = pd.DataFrame(L3, columns=columns)
        assert list(lf_summary(frame, Y3).index) == columns
        assert list(LFAnalysis(frame).lf_summary(Y3).index) == columns
    model = _fit(pd.DataFrame(L3, columns=["x", "y", "z"]))
    assert list(lf_summary(pd.DataFrame(L3), model=model).index) == ["x", "y", "z"]


def test_a_matrix_without_rows_gives_nan_summaries_on_every_path():
    """A label matrix without rows gave LFAnalysis(L).lf_summary() a table of NaN, but lf_summary(L)
    and lf_summary_arrays(L) raised 'L has no rows', and LFAnalysis(L).lf_empirical_probs(Y, k) raised
    it or gave NaN depending on whether k was the inferred one; every path now gives the NaN table."""
    empty = np.zeros((0, 3), dtype=int)
    table = lf_summary(empty, np.zeros(0, dtype=int))
    assert table.shape[0] == 3 and table["Coverage"].isna().all()
    assert LFAnalysis(empty).lf_summary().shape[0] == 3
    for k in (2, 3):
        probs = LFAnalysis(empty).lf_empirical_probs(np.zeros(0, dtype=int), k)
        assert probs.shape == (3, k + 1, k) and np.isnan(probs).all()


def test_lf_empirical_probs_names_k_for_one_class():
    """``lf_empirical_probs(Y, k=1)`` passed its own check (k in [1, ...]) and then raised 'cardinality
    must be >= 2, got 1', naming an argument the method does not have; it now says k must be at
    least 2."""
    with pytest.raises(ValueError, match=r"^k must be an integer in \[2, "):
        LFAnalysis(np.zeros((4, 3), dtype=int)).lf_empirical_probs([0, 0, 0, 0], 1)


def test_vote_counts_checks_chunk_size():
    """``vote_counts(L, chunk_size=...)`` took 1.5 as 1 and True as 1 without a word, and raised numpy's
    "'<' not supported between instances of 'str' and 'int'" for "100"; it now refuses anything but a
    positive integer with a ValueError naming chunk_size."""
    from tripletws.baselines import vote_counts

    for bad in (1.5, True, "100", 0):
        with pytest.raises(ValueError, match=r"chunk_size must be an integer >= 1"):
            vote_counts(L3, 2, chunk_size=bad)
    np.testing.assert_array_equal(vote_counts(L3, 2, chunk_size=np.int64(7)), vote_counts(L3, 2))


def test_est_weights_that_are_not_numbers_are_named():
    """``LFAnalysis.lf_summary(est_weights=["a", "b", "c"])`` raised numpy's "could not convert string to
    float: 'a'", naming neither the argument nor the LF; it now says est_weights must hold numbers."""
    with pytest.raises(ValueError, match=r"^est_weights must hold numbers"):
        LFAnalysis(L3).lf_summary(est_weights=["a", "b", "c"])


def test_metric_score_names_bad_metric_and_filter_arguments():
    """``metric_score(..., metric=["accuracy"])`` raised "unhashable type: 'list'" and
    ``filter_dict={"golds": -1}`` raised "'int' object is not iterable"; both are now a ValueError
    naming the argument and what to pass (a metric's name; a list of labels)."""
    with pytest.raises(ValueError, match=r"^metric must be one metric's name"):
        metric_score(GOLD4, PRED4, None, ["accuracy"])
    with pytest.raises(ValueError, match=r"^filter_dict\['golds'\] must be a list of labels"):
        metric_score(GOLD4, PRED4, None, "accuracy", filter_dict={"golds": -1})
    assert metric_score([0, 1, -1], [0, 1, 1], None, "accuracy", filter_dict={"golds": (-1,)}) == 1.0


def test_module_score_reads_none_as_accuracy():
    """metrics.score(metrics=None) raised TypeError ('NoneType' is not iterable), where
    LabelModel.score reads None as accuracy."""
    y = np.array([0, 1, 1, -1])
    preds = np.array([0, 1, 0, 1])
    assert score(y, preds, None, 2, None) == score(y, preds, None, 2, ["accuracy"])
    assert score(y, preds, None, 2, None)["accuracy"] == pytest.approx(2 / 3)


def test_lfanalysis_names_rows_by_the_lfs_as_given():
    """``lfs=[10, 20, 30]`` indexes the summary by 10, 20 and 30 (they were made text, so ``.loc[20]``
    raised KeyError), and a plain function by its ``__name__`` (not its repr with an address)."""
    L = np.array([[0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1]] * 10)

    def keyword_lf(x):
        return 1

    assert LFAnalysis(L, lfs=[10, 20, 30]).lf_summary().loc[20, "Coverage"] == 1.0
    assert LFAnalysis(L, lfs=[keyword_lf, "b", 7]).lf_summary().index.tolist() == ["keyword_lf", "b", 7]
