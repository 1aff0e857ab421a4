"""LFAnalysis: Snorkel's per-LF table plus learned accuracies with intervals, and matrix-level figures."""

from __future__ import annotations

import numpy as np
import pytest

import tripletws
from tripletws import LabelModel
from tripletws.datasets import make_synthetic
from tripletws.labeling import LFAnalysis, labeling_function

pytest.importorskip("pandas")


def test_matrix_figures_by_direct_count():
    L = np.array([[-1, -1, -1], [0, -1, -1], [0, 0, -1], [0, 1, -1], [1, 1, 1]])
    a = LFAnalysis(L)
    assert a.label_coverage() == pytest.approx(4 / 5)
    assert a.label_overlap() == pytest.approx(3 / 5)
    assert a.label_conflict() == pytest.approx(1 / 5)
    assert a.matrix_summary() == {"rows": 5, "coverage": 0.8, "overlap": 0.6, "conflict": 0.2}
    np.testing.assert_allclose(a.pair_conflict()[0, 1], 1 / 5)
    np.testing.assert_allclose(a.pair_overlap()[0, 1], 3 / 5)
    np.testing.assert_allclose(a.lf_coverages(), [4 / 5, 3 / 5, 1 / 5])
    assert a.lf_polarities() == [[0, 1], [0, 1], [1]]


def test_lf_summary_with_gold_model_and_intervals():
    d = make_synthetic(6_000, 5, 2, random_state=3)

    @labeling_function()
    def lf_a(x):
        return -1

    names = ["a", "b", "c", "d", "e"]
    model = LabelModel(2).fit(d.L)
    table = LFAnalysis(d.L, names).lf_summary(Y=d.y, model=model, random_state=1)
    assert list(table.index) == names
    for col in ("Polarity", "Coverage", "Overlaps", "Conflicts", "Correct", "Incorrect", "Emp. Acc."):
        assert col in table.columns
    np.testing.assert_allclose(table["Learned Acc."], model.accuracies_)
    assert (table["Acc. low"] <= table["Learned Acc."]).all()
    assert (table["Learned Acc."] <= table["Acc. high"]).all()
    # the empirical accuracy (sd about 0.01 at ~3000 votes) falls inside or near the interval
    slack = 3 * np.sqrt(0.25 / 3_000)
    assert (
        (table["Emp. Acc."] >= table["Acc. low"] - slack) & (table["Emp. Acc."] <= table["Acc. high"] + slack)
    ).all()
    # LabelingFunction objects name the rows too; a count mismatch is an error
    assert list(LFAnalysis(d.L[:, :1], [lf_a]).lf_summary().index) == ["lf_a"]
    with pytest.raises(ValueError, match="got 2 labeling functions for a label matrix with 5 columns"):
        LFAnalysis(d.L, ["x", "y"])
    assert tripletws.LFAnalysis is LFAnalysis


def test_snorkel_per_lf_methods_on_its_documented_example():
    """Snorkel's LFAnalysis methods that were missing (lf_empirical_accuracies, lf_empirical_probs)
    or refused its normalising arguments, against counts read off the matrix by hand."""
    L = np.array([[-1, 0, 0], [-1, -1, -1], [1, 0, -1], [-1, 0, -1], [0, 0, 0]])
    Y = np.array([0, 1, 1, 0, 0])
    a = LFAnalysis(L)
    np.testing.assert_allclose(a.lf_overlaps(), [2 / 5, 3 / 5, 2 / 5])
    np.testing.assert_allclose(a.lf_overlaps(normalize_by_coverage=True), [1, 3 / 4, 1])
    np.testing.assert_allclose(a.lf_conflicts(normalize_by_overlaps=True), [1 / 2, 1 / 3, 0])
    # LF 0 votes rows 2 (1, gold 1) and 4 (0, gold 0); LF 1 rows 0, 2, 3, 4 (0; gold 0, 1, 0, 0)
    np.testing.assert_allclose(a.lf_empirical_accuracies(Y), [1, 3 / 4, 1])
    P = a.lf_empirical_probs(Y, 2)
    assert P.shape == (3, 3, 2)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    # gold class 0: rows 0, 3, 4; LF 0 abstains on 0 and 3, votes 0 on 4
    np.testing.assert_allclose(P[0, :, 0], [2 / 3, 1 / 3, 0])
    # gold class 1: rows 1, 2; LF 1 abstains on 1, votes 0 on 2
    np.testing.assert_allclose(P[1, :, 1], [1 / 2, 1 / 2, 0])
    assert np.isnan(a.lf_empirical_probs(Y, 3)[:, :, 2]).all()  # no gold row of class 2
    # Snorkel's order: lf_summary(Y, est_weights); a model there (this method's old order) is refused
    table = a.lf_summary(Y, np.array([0.9, 0.8, 0.7]))
    np.testing.assert_allclose(table["Learned Weight"], [0.9, 0.8, 0.7])
    model = LabelModel(2).fit(make_synthetic(500, 3, 2, random_state=0).L)
    with pytest.raises(ValueError, match="pass it as model="):
        a.lf_summary(Y, model)
    # all -1 gold: no gold columns (as the README says)
    assert "Emp. Acc." not in a.lf_summary(Y=np.full(5, -1)).columns


def test_lf_summary_on_rows_the_model_was_not_fitted_on_shows_no_intervals():
    """The Snorkel habit LFAnalysis(L_dev).lf_summary(Y=y_dev, model=) bootstrapped the dev rows: the
    intervals were of a fit on them and missed the model's own accuracies on half of youtube's LFs."""
    d = make_synthetic(3_000, 5, 2, random_state=2)
    model = LabelModel(2).fit(d.L[:2_500])
    with pytest.warns(UserWarning, match="no accuracy intervals .* not the matrix the model was fitted on"):
        table = LFAnalysis(d.L[2_500:]).lf_summary(Y=d.y[2_500:], model=model)
    np.testing.assert_allclose(table["Learned Acc."], model.accuracies_)
    assert table["Acc. low"].isna().all() and table["Acc. high"].isna().all()
    with pytest.warns(UserWarning, match="no accuracy intervals"):  # one dev row: not the fit's either
        one = LFAnalysis(d.L[2_500:2_501]).lf_summary(Y=d.y[2_500:2_501], model=model)
    assert one["Acc. low"].isna().all()
    # on the fit's rows the bootstrap runs; a model holding intervals shows them on any rows
    ci = model.confidence_intervals(d.L[:2_500], n_boot=20, random_state=0)
    table = LFAnalysis(d.L[2_500:]).lf_summary(Y=d.y[2_500:], model=model)
    np.testing.assert_allclose(table["Acc. low"], ci.accuracy_low)


def test_an_empty_matrix_gives_undefined_fractions_and_a_voter_is_not_a_model():
    """No rows: the matrix figures were 0.0 beside NaN per LF (with numpy's divide warnings); a
    MajorityLabelVoter as model (AttributeError) or est_weights (TypeError) is a ValueError."""
    import warnings

    from tripletws import MajorityLabelVoter

    a = LFAnalysis(np.zeros((0, 3), dtype=int))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(a.label_coverage()) and np.isnan(a.matrix_summary()["overlap"])
        assert np.isnan(a.lf_coverages()).all() and np.isnan(a.pair_overlap()).all()
    L = np.array([[0, 1, 0], [1, 1, -1]] * 5)
    with pytest.raises(ValueError, match="MajorityLabelVoter learns none"):
        LFAnalysis(L).lf_summary(model=MajorityLabelVoter(2))
    with pytest.raises(ValueError, match="pass it as model="):
        LFAnalysis(L).lf_summary(None, MajorityLabelVoter(2))
