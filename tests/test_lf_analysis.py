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
