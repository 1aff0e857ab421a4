"""Behaviour that no other test pinned down, found by mutation testing (round 2).

Each test names, in its docstring, the mutant of the library that it kills (a change under which
the rest of the suite still passed).  Round 1 is ``test_mutation_gaps.py``; this round covers the
held-out scores, the balance and coverage checks, the dev choice, the intervals, the parameters,
the priors, the stream state, the data summaries, inference, the CSV reader and the metrics.
Counts are whole numbers and the hand-computed metrics small rationals, so those comparisons are
exact up to float rounding; fitted quantities are only compared by order or by relations that
hold for any fit.
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from dataclasses import replace

import numpy as np
import pytest
from test_balance_check import _crowd  # the MACE-like crowd generator

import tripletws.estimators.balance_check as balance_module
import tripletws.estimators.coverage_check as coverage_module
from tripletws import LabelModel
from tripletws.datasets import make_synthetic
from tripletws.dev_choice import _leads, _selection_leads, check_dev_prior
from tripletws.estimators.balance_check import CROWD_FLOOR, balance_check, crowd_like
from tripletws.estimators.coverage_check import _best_family, _gain, coverage_check
from tripletws.estimators.family_choice import TIE_TOL, select_family
from tripletws.estimators.heldout import HeldOutScores, deal_counts, heldout_row_scores
from tripletws.files import read_matrix
from tripletws.inference import posterior
from tripletws.intervals import ConfidenceIntervals
from tripletws.matrix import LabelMatrixError, check_label_matrix
from tripletws.metrics import metric_score, score
from tripletws.online import StreamState
from tripletws.params import LabelModelParams
from tripletws.rows import RowSummary
from tripletws.stats import compute_stats
from tripletws.summary import DataSummary, stats_from_dict


def unique_rows(L: np.ndarray, k: int) -> RowSummary:
    return RowSummary.from_matrix(check_label_matrix(np.asarray(L), k), 10**6)


def uniform_mace(rows: RowSummary):
    """The family choice under a uniform prior, with MACE the only candidate."""
    return select_family(rows, ("mace",), class_balance=np.full(rows.cardinality, 1.0 / rows.cardinality))


# --------------------------------------------------------------------------- metrics.py


def test_f1_macro_averages_over_classes_only_predicted():
    """Kills metrics.py ``f1_macro``: ``present`` counting only the gold classes (a class the model
    predicts but no gold row has, F1 0, left out of the mean; scikit-learn's macro F1 keeps it)."""
    y = np.array([0, 0])
    pred = np.array([0, 1])
    # class 0: tp 1, fn 1 -> F1 2/3; class 1: tp 0, fp 1 -> F1 0
    assert score(y, pred, None, 2, ["f1_macro"])["f1_macro"] == pytest.approx(1.0 / 3.0, abs=1e-12)


def test_metric_score_takes_the_classes_from_the_gold_labels_too():
    """Kills metrics.py ``metric_score``: k from the predictions alone (gold class 2 never predicted:
    k = 2 and the confusion table of classes 0..2 could not be built)."""
    golds, preds = np.array([0, 1, 2]), np.array([0, 1, 1])
    # F1 per class: 1 (class 0), 2/3 (class 1: tp 1, fp 1), 0 (class 2: fn 1)
    got = metric_score(golds=golds, preds=preds, metric="f1_macro")
    assert got == pytest.approx(5.0 / 9.0, abs=1e-12)
    assert metric_score(golds=golds, preds=preds, metric="accuracy") == pytest.approx(2.0 / 3.0, abs=1e-12)


# --------------------------------------------------------------------------- intervals.py


def test_interval_level_puts_half_the_missing_coverage_in_each_tail():
    """Kills intervals.py ``bootstrap_intervals``: ``tail = (1 - level) * 100`` (the whole missing
    coverage in each tail: a 50 % interval became the median alone, of zero width)."""
    d = make_synthetic(2000, 6, 2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2).fit(d.L)
        half = model.confidence_intervals(d.L, level=0.5, n_boot=30, n_chunks=20, random_state=0)
        wide = model.confidence_intervals(d.L, level=0.9, n_boot=30, n_chunks=20, random_state=0)
    assert half.identified.all()
    # the 25th and 75th percentiles of 30 continuous replicates differ
    assert np.all(half.accuracy_high > half.accuracy_low)
    # the same replicates (same seed): the 90 % interval holds the 50 % one
    assert np.all(wide.accuracy_low <= half.accuracy_low) and np.all(wide.accuracy_high >= half.accuracy_high)


def test_interval_record_class_balance_must_sum_to_one():
    """Kills intervals.py ``ConfidenceIntervals.from_dict``: the check that the fitted class balance
    sums to 1 removed."""
    good = ConfidenceIntervals(
        level=0.95,
        n_boot=10,
        n_chunks=5,
        accuracy=np.array([0.8, 0.7, 0.9]),
        accuracy_low=np.array([0.7, 0.6, 0.8]),
        accuracy_high=np.array([0.9, 0.8, 1.0]),
        class_balance=np.array([0.4, 0.6]),
        class_balance_low=np.array([0.3, 0.5]),
        class_balance_high=np.array([0.5, 0.7]),
    ).to_dict()
    assert ConfidenceIntervals.from_dict(good, 3, 2).class_balance.tolist() == [0.4, 0.6]
    bad = {**good, "class_balance": [0.6, 0.6], "class_balance_high": [0.7, 0.7]}
    with pytest.raises(ValueError, match="must sum to 1"):
        ConfidenceIntervals.from_dict(bad, 3, 2)


# --------------------------------------------------------------------------- dev_choice.py


def test_dev_lead_uses_the_sample_standard_deviation():
    """Kills dev_choice.py ``_leads``: ``np.std(d, ddof=1)`` -> ``ddof=0`` (the standard error of a
    paired mean is that of the sample sd, larger by sqrt(n / (n - 1)))."""
    a = np.array([1.0, 0.0] * 5)  # differences 1, 0, ... over n = 10 rows: mean 0.5
    b = np.zeros(10)
    # ddof 1: sd = sqrt(10 / 9 * 0.25) = 0.52705, se = 0.16667, lead / se = 3.0 exactly;
    # ddof 0 would give se = 0.15811, lead / se = 3.162
    assert not _leads(a, b, 3.08)
    assert _leads(a, b, 2.92)


def test_a_tied_left_out_selection_keeps_the_first_candidate():
    """Kills dev_choice.py ``_selection_leads``: ``>`` -> ``>=`` (a left-out choice that only ties the
    gold-free fit on the dev rows replaced it)."""
    same = np.array([1.0, 0.0, 1.0, 0.5])
    rows = {"gold_free": same, "mace": same.copy()}
    assert not _selection_leads(rows, {"gold_free": None, "mace": None}, "gold_free")
    better = {"gold_free": same, "mace": np.array([1.0, 1.0, 1.0, 1.0])}
    assert _selection_leads(better, {"gold_free": None, "mace": None}, "gold_free")


def test_dev_prior_adds_one_count_per_class():
    """Kills dev_choice.py ``check_dev_prior``: a pseudo-count of 0.5 instead of 1 per class."""
    got = check_dev_prior(np.array([0, 0, 1]), 3)
    # counts 2, 1, 0 plus one each: 3, 2, 1 of 6
    np.testing.assert_allclose(got, [3 / 6, 2 / 6, 1 / 6], rtol=1e-12)


# --------------------------------------------------------------------------- heldout.py


def test_fold_leads_leave_out_folds_of_one_row():
    """Kills heldout.py ``HeldOutScores.fold_leads``: ``keep = n >= 1`` (a fold of one scored row kept,
    its sample variance 0 / 0)."""
    folds = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 1.0]])
    a = np.array([[0.5, 0.0, 0.0], [0.0, 1.0, 4.0]])
    b = np.zeros((2, 3))
    mean, n, var = HeldOutScores(folds, {"a": a, "b": b}).fold_leads("a", "b")
    # fold 1 alone: rows 1, 1, 4 (row 1 held out twice): mean 2, sample variance (1 + 1 + 4) / 2 = 3
    np.testing.assert_allclose(mean, [2.0], rtol=1e-12)
    np.testing.assert_allclose(n, [3.0])
    np.testing.assert_allclose(var, [3.0], rtol=1e-12)


def test_lead_of_a_single_scored_row_is_undefined():
    """Kills heldout.py ``HeldOutScores.lead``: ``if n < 2`` -> ``if n < 1`` (one scored row: its
    sample variance divides by n - 1 = 0)."""
    s = HeldOutScores(np.array([[1.0, 0.0]]), {"a": np.array([[0.3, 0.0]]), "b": np.zeros((1, 2))})
    lead, se = s.lead("a", "b")
    assert math.isnan(lead) and math.isnan(se)


def test_deal_counts_deals_fractional_parts_to_one_fold():
    """Kills heldout.py ``deal_counts``: ``np.floor`` -> ``np.ceil`` (a decayed count of 2.5 dealt as 3
    rows, more than the row has).  Since session 30 the fractional part is dealt too, whole, to one
    fold (a weighted row of a stratified sample is held out as every other row is): the folds add
    up to each row's count, and only one fold holds a fraction of each row."""
    rows = np.array([[0, 1, -1], [1, 1, 0], [0, -1, 0]], dtype=np.int8)
    counts = np.array([2.5, 1.0, 0.75])
    folds = deal_counts(rows, counts, 2, 3, seed=0)
    np.testing.assert_allclose(folds.sum(axis=0), counts, rtol=0, atol=1e-12)
    fraction = folds - np.floor(folds)
    np.testing.assert_array_equal((fraction > 0).sum(axis=0), [1, 0, 1])
    np.testing.assert_allclose(fraction.sum(axis=0), [0.5, 0.0, 0.75], rtol=0, atol=1e-12)
    # whole counts deal as they did: the same folds with the fractions dropped
    np.testing.assert_array_equal(deal_counts(rows, np.floor(counts), 2, 3, seed=0), np.floor(folds))


def test_heldout_scores_of_no_rows_are_refused():
    """Kills heldout.py ``heldout_row_scores``: ``c.sum() <= 0`` -> ``< 0`` (no rows gave nan scores
    for every family instead of an error)."""
    with pytest.raises(ValueError, match="no rows to fit"):
        heldout_row_scores(RowSummary.empty(3, 2, 100), ("mv", "one_coin"), n_folds=3)


# --------------------------------------------------------------------------- balance_check.py


def test_balance_test_has_the_continuity_correction():
    """Kills balance_check.py ``balance_check``: McNemar's test without the continuity correction
    (``gained - lost > n_se * sqrt(gained + lost)``)."""
    rows = unique_rows(_crowd(0, [0.88, 0.12], n=1000, m=50)[0], 2)
    selection = uniform_mace(rows)
    first = balance_check(rows, selection, n_se=0.0)
    g, lost = first.gained, first.lost
    assert first.accepted and g - lost > 1.0  # the estimated prior silences no class here
    # n_se between the corrected statistic and the uncorrected one decides between them
    low, high = (g - lost - 1.0) / math.sqrt(g + lost), (g - lost) / math.sqrt(g + lost)
    assert not balance_check(rows, selection, n_se=(low + high) / 2.0).accepted
    assert balance_check(rows, selection, n_se=low - 0.01).accepted


def test_balance_check_refuses_a_prior_that_silences_a_class(monkeypatch):
    """Kills balance_check.py ``balance_check``: the refusal of an estimated prior that never predicts
    a class named by clear rows removed (``if silenced.size`` never taken)."""
    rows = unique_rows(_crowd(0, [0.88, 0.12], n=1000, m=50)[0], 2)
    selection = uniform_mace(rows)
    real_fit = balance_module.fit_annotator

    def collapsed(*args, **kw):  # the estimated prior puts all but 1e-9 on class 0
        fit = real_fit(*args, **kw)
        params = LabelModelParams(np.array([1.0 - 1e-9, 1e-9]), fit.params.cond_probs)
        return replace(fit, params=params)

    monkeypatch.setattr(balance_module, "fit_annotator", collapsed)
    # n_se -1e9: the test of the clear rows passes whatever they say, so the class rule alone decides
    check = balance_check(rows, selection, n_se=-1e9)
    assert not check.accepted
    assert "never predicts class(es) [1]" in check.reason


def test_crowd_rule_needs_the_prior_floor():
    """Kills balance_check.py ``balance_check``: the crowd rule's floor ``>= CROWD_FLOOR`` -> ``>= 0``
    (a prior with its smallest class under CROWD_FLOOR / k accepted on crowd-like rows)."""
    rows = unique_rows(_crowd(0, [0.95, 0.05], n=3000, m=150)[0], 2)
    assert crowd_like(rows)
    selection = uniform_mace(rows)
    assert balance_check(rows, selection, n_se=0.0).accepted  # it silences no class
    # n_se 1e9: the test of the clear rows fails, so only the crowd rule could accept
    check = balance_check(rows, selection, n_se=1e9, crowd=True)
    assert check.fit is not None
    floor = float(check.fit.params.class_balance.min()) * 2
    assert floor < CROWD_FLOOR  # a 5 % class: the estimate is far under 0.1
    assert not check.accepted and "standard errors" in check.reason


# --------------------------------------------------------------------------- params.py


def test_accuracy_of_an_lf_that_never_votes_is_one_over_k():
    """Kills params.py ``LabelModelParams.accuracies``: ``where=cov > 0`` -> ``cov >= 0`` (0 / 0 = nan
    for an LF of zero coverage instead of the documented 1/k)."""
    p = LabelModelParams.symmetric(
        np.array([0.8, 0.7, 0.9]), np.array([0.5, 0.0, 0.3]), np.array([0.2, 0.3, 0.5])
    )
    with np.errstate(invalid="ignore"):  # the mutant's 0 / 0 is then a nan, not a warning
        acc = p.accuracies
    np.testing.assert_allclose(acc, [0.8, 1.0 / 3.0, 0.9], rtol=1e-12)


def _cond_probs(m: int = 2, k: int = 2) -> np.ndarray:
    return np.full((m, k + 1, k), 1.0 / (k + 1))


def test_parameter_record_refuses_a_zero_class():
    """Kills params.py ``LabelModelParams.from_dict``: the refusal of a class of prior 0 removed."""
    cp = _cond_probs().tolist()
    assert LabelModelParams.from_dict({"class_balance": [0.5, 0.5], "cond_probs": cp}).cardinality == 2
    with pytest.raises(ValueError, match="class_balance must be positive"):
        LabelModelParams.from_dict({"class_balance": [1.0, 0.0], "cond_probs": cp})


def test_parameter_record_refuses_a_probability_past_rounding_above_one():
    """Kills params.py ``_probabilities``: the ``> 1 + PROB_ROUNDING`` refusal removed (an entry of
    1 + 5e-7 passes the columns' sum check, to 1e-6, and was clipped to 1)."""
    cp = _cond_probs()
    cp[0, :, 0] = [1.0 + 5e-10, 0.0, 0.0]  # within rounding: set into [0, 1]
    read = LabelModelParams.from_dict({"class_balance": [0.5, 0.5], "cond_probs": cp.tolist()})
    assert read.cond_probs[0, 0, 0] == 1.0
    cp[0, :, 0] = [1.0 + 5e-7, 0.0, 0.0]
    with pytest.raises(ValueError, match=r"cond_probs has entries outside \[0, 1\]"):
        LabelModelParams.from_dict({"class_balance": [0.5, 0.5], "cond_probs": cp.tolist()})


# --------------------------------------------------------------------------- priors.py


def test_a_calls_class_balance_wins_over_its_y_dev():
    """Kills priors.py ``explicit_prior``: Y_dev's class frequencies taking precedence over the
    call's ``class_balance`` (the documented order is class_balance, then Y_dev)."""
    d = make_synthetic(1000, 5, 2, random_state=1)
    y_dev = np.array([0, 1] * 50)  # frequencies 0.5, 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2).fit(d.L, Y_dev=y_dev, class_balance=[0.7, 0.3])
    assert model.class_balance_source_ == "given"
    np.testing.assert_allclose(model.class_balance_, [0.7, 0.3], rtol=1e-12)


# --------------------------------------------------------------------------- online.py


def _batch(seed: int, n: int) -> DataSummary:
    return DataSummary(compute_stats(make_synthetic(n, 4, 2, random_state=seed).L, 2))


def test_window_pending_rows_never_exceed_the_window():
    """Kills online.py ``StreamState.push``: the cap of the pending rows at the running summary's
    weight removed (with a window of one batch, two unsolved batches counted 300 pending rows in a
    summary of 200)."""
    b1, b2, b3 = _batch(0, 100), _batch(1, 100), _batch(2, 200)
    total, state = StreamState().push(None, b1, window=1)
    state = state.solved(total.stats.n_rows)
    total, state = state.push(total, b2, window=1)
    assert state.pending_rows == 100.0
    total, state = state.push(total, b3, window=1)
    assert total.stats.n_rows == 200.0
    assert state.pending_rows == 200.0  # the window holds b3 alone, all of it unsolved
    state.check_against(total.stats.n_rows)


def test_stream_record_with_more_window_batches_than_batches_is_refused():
    """Kills online.py ``StreamState.check_against``: ``len(batches) > n_batches`` -> ``> n_batches + 1``."""
    b1, b2 = _batch(0, 100), _batch(1, 50)
    StreamState(n_batches=2, batches=deque([b1, b2])).check_against(150.0)
    with pytest.raises(ValueError, match=r"more than stream\.n_batches"):
        StreamState(n_batches=1, batches=deque([b1, b2])).check_against(150.0)


def test_stream_record_prior_must_sum_to_one():
    """Kills online.py ``StreamState.from_dict``: the check that ``stream.prior`` sums to 1 removed."""
    ok = StreamState.from_dict({"n_batches": 1, "prior": [0.4, 0.6], "prior_source": "given"}, None, 2)
    np.testing.assert_array_equal(ok.prior, [0.4, 0.6])
    with pytest.raises(ValueError, match=r"stream\.prior must sum to 1"):
        StreamState.from_dict({"n_batches": 1, "prior": [0.6, 0.6], "prior_source": "given"}, None, 2)


# --------------------------------------------------------------------------- summary.py


def test_summary_record_rows_must_summarise_the_same_rows_as_the_statistics():
    """Kills summary.py ``DataSummary.from_dict``: the check that ``rows.n_rows`` equals
    ``stats.n_rows`` removed."""
    L = make_synthetic(60, 4, 2, random_state=3).L
    d = DataSummary(compute_stats(L, 2), unique_rows(L, 2)).to_dict()
    assert DataSummary.from_dict(d, 4, 2).rows.n_rows == 60.0
    other = {**d, "rows": unique_rows(L[:-1], 2).to_dict()}  # a valid record of 59 of the rows
    with pytest.raises(ValueError, match=r"disagrees with summary\.stats\.n_rows"):
        DataSummary.from_dict(other, 4, 2)


def test_stats_record_class_counts_must_add_up_to_the_votes():
    """Kills summary.py ``_check_consistent``: the check that each LF's votes per class add up to its
    votes (the diagonal of ``covote``) removed."""
    L = make_synthetic(60, 4, 2, random_state=3).L
    stats = compute_stats(L, 2)
    record = DataSummary(stats).to_dict()["stats"]
    assert stats_from_dict(record).n_rows == 60.0
    counts = np.asarray(stats.class_counts, dtype=np.float64).copy()
    counts[0, 0] += 1.0  # one vote more than LF 0 cast
    with pytest.raises(ValueError, match="do not add up to the diagonal"):
        stats_from_dict({**record, "class_counts": counts.tolist()})


# --------------------------------------------------------------------------- inference.py


def test_dependency_posterior_reads_each_edge_table_in_its_order():
    """Kills inference.py ``_add_pair_corrections``: the pair's votes encoded as (b, a) instead of
    (a, b) (unseen wherever the tests' pair tables were symmetric, as for an exact copy)."""
    k, rng = 3, np.random.default_rng(7)
    t = rng.dirichlet(np.ones((k + 1) ** 2), size=k).T.reshape(k + 1, k + 1, k)  # P(a, b | y), asymmetric
    third = rng.dirichlet(np.ones(k + 1), size=k).T  # (k + 1, k): P(vote of LF 2 | y)
    cp = np.stack([t.sum(axis=1), t.sum(axis=0), third])  # the single-LF tables are the edge's margins
    balance = np.array([0.5, 0.3, 0.2])
    params = LabelModelParams(balance, cp, np.array([[0, 1]]), t[None])
    votes = np.array(np.meshgrid(*[np.arange(-1, k)] * 3, indexing="ij")).reshape(3, -1).T  # all 64 rows
    got = posterior(check_label_matrix(votes, k), params)
    # the tree model by hand: P(y) P(a, b | y) P(c | y), normalised over y
    joint = balance[None, :] * t[votes[:, 0] + 1, votes[:, 1] + 1] * third[votes[:, 2] + 1]
    np.testing.assert_allclose(got, joint / joint.sum(axis=1, keepdims=True), rtol=0, atol=1e-10)


def test_posterior_refuses_a_matrix_of_more_classes_than_the_model():
    """Kills inference.py ``_check_compatible``: the refusal of a matrix of cardinality above the
    model's removed (a vote for class 2 scored by a binary model's tables)."""
    p = LabelModelParams.symmetric(np.full(3, 0.8), np.full(3, 0.5), np.array([0.5, 0.5]))
    L = np.array([[0, 1, 2], [1, -1, 0]])
    with pytest.raises(LabelMatrixError, match="cardinality 3 but the model has 2 classes"):
        posterior(check_label_matrix(L, 3), p)


# --------------------------------------------------------------------------- files.py


def test_first_row_equal_to_a_vote_below_is_a_row_of_votes(tmp_path):
    """Kills files.py ``_numbered_header``: ``first.min() > rest.max()`` -> ``>=`` (a first row of votes
    1, 2 over rows that vote 1 refused as a possible header)."""
    path = tmp_path / "votes.csv"
    path.write_text("1,2\n0,1\n1,0\n")
    np.testing.assert_array_equal(read_matrix(path), [[1, 2], [0, 1], [1, 0]])
    # labels above every vote below could be a DataFrame's numbered columns: ambiguous
    path.write_text("2,3\n0,1\n1,0\n")
    with pytest.raises(ValueError, match="could be a header"):
        read_matrix(path)


# --------------------------------------------------------------------------- coverage_check.py


def test_background_gain_of_exactly_zero_has_z_zero():
    """Kills coverage_check.py ``_gain``: ``0.0 if gain <= 0`` -> ``gain < 0`` (a background class that
    changes no row's held-out score, d = 0 on every row, given z = inf: the coverage reading refused)."""
    folds = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0]])
    same = np.array([[-1.5, -2.0, -0.5], [-1.0, -2.5, -3.0]])
    assert _gain(folds, same, same.copy()) == (0.0, 0.0)
    # the same gain on every row with no spread: certain, z = inf
    assert _gain(folds, same, same + 0.25) == (0.25, float("inf"))


def test_coverage_family_choice_keeps_the_simpler_within_the_tie_tolerance():
    """Kills coverage_check.py ``_best_family``: ``> mean + TIE_TOL`` -> ``> mean - TIE_TOL`` (per-LF
    rates chosen over the shared precision on a lead below the tie tolerance, or on a small loss)."""
    base = np.array([[-1.0, -2.0, -0.5, -1.5]])

    def scores(lead: float) -> HeldOutScores:
        return HeldOutScores(np.ones((1, 4)), {"shared_coverage": base, "mace_coverage": base + lead})

    assert _best_family(scores(-TIE_TOL / 2)) == "shared_coverage"
    assert _best_family(scores(TIE_TOL / 2)) == "shared_coverage"
    assert _best_family(scores(4 * TIE_TOL)) == "mace_coverage"


def one_class_votes(n: int, seed: int) -> np.ndarray:
    """Rows of the coverage model (as in test_one_class): 3 LFs name class 0, 3 class 1, each firing at
    its on-rate on its class and at 0.1 on the other."""
    rng = np.random.default_rng(seed)
    y = rng.choice(2, size=n, p=[0.7, 0.3])
    classes, on = [0, 0, 0, 1, 1, 1], [0.6, 0.5, 0.7, 0.6, 0.5, 0.4]
    L = np.full((n, 6), -1, dtype=np.int64)
    for i, c in enumerate(classes):
        L[rng.random(n) < np.where(y == c, on[i], 0.1), i] = c
    return L


def test_coverage_reading_is_used_at_exactly_half_oriented(monkeypatch):
    """Kills coverage_check.py ``coverage_check``: ``oriented >= 0.5`` -> ``> 0.5`` (the rule refuses
    under half of the votes oriented; exactly half is not under half)."""
    rows = unique_rows(one_class_votes(8000, 0), 2)
    assert coverage_check(rows, None).accepted  # a clean coverage model (test_one_class, seed 0)
    for share, accepted in ((0.5, True), (0.5 - 1e-9, False)):
        monkeypatch.setattr(coverage_module, "orientation", lambda *a, s=share: s)
        check = coverage_check(rows, None)
        assert check.accepted is accepted, (share, check.reason)
