"""Defects found by fuzzing the analysis tools (lf_summary, LFAnalysis), the metrics and majority vote."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tripletws import LabelModel, LFAnalysis, MajorityLabelVoter
from tripletws.analysis import lf_summary

RNG = np.random.default_rng(7)
L3 = RNG.integers(-1, 2, size=(60, 3))
Y3 = RNG.integers(0, 2, size=60)


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
    with pytest.raises(ValueError, match="MajorityLabelVoter"):
        lf_summary(L3, model=MajorityLabelVoter(2))
