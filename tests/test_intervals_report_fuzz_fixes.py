"""Bugs found by fuzzing the bootstrap intervals, the HTML report and LFAnalysis.lf_summary."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tripletws import LabelModel
from tripletws.datasets import make_synthetic


def _lonely_and_silent() -> np.ndarray:
    """Six LFs: LF 2 never votes, LF 5 votes on three rows where no other LF votes."""
    d = make_synthetic(3000, 6, 2, coverage=0.5, random_state=1)
    L = d.L.copy()
    L[:, 2] = -1
    L[:, 5] = -1
    L[:3, 5] = d.y[:3]
    L[:3, [0, 1, 3, 4]] = -1
    return L


@pytest.mark.parametrize("model", ["symmetric", "class_conditional"])
def test_lfs_the_fit_did_not_estimate_get_no_interval(model):
    """The symmetric model gave an LF without a usable triplet (accuracy: the estimated LFs' mean) the
    interval [0.5, 0.809] of that shared value, and an LF that never votes (neutral 0.5) the zero-width
    interval [0.5, 0.5], as if it were known exactly; the annotator already gave both NaN."""
    L = _lonely_and_silent()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = LabelModel(2, model=model).fit(L)
        ci = lm.confidence_intervals(L, n_boot=10, random_state=0)
    not_estimated = {2, 5} if model == "symmetric" else {2}
    assert set(np.flatnonzero(~ci.identified).tolist()) == not_estimated
    for i in not_estimated:
        assert np.isnan(ci.accuracy_low[i]) and np.isnan(ci.accuracy_high[i])
    assert np.all(ci.accuracy_low[ci.identified] <= ci.accuracy_high[ci.identified])


def test_inspect_and_report_show_the_level_as_given(tmp_path):
    """A 99.9 % interval was shown as "100% bootstrap intervals" (and 97.5 % as "98%"): the level was
    rounded to whole percents in inspect and in the report."""
    pytest.importorskip("matplotlib")
    from test_cli import run_main

    d = make_synthetic(600, 4, 2, coverage=0.6, random_state=1)
    lm = LabelModel(2, model="symmetric").fit(d.L)
    lm.confidence_intervals(d.L, level=0.999, n_boot=5, random_state=0)
    lm.save(tmp_path / "m.json")
    assert "99.9% bootstrap intervals (5 replicates" in run_main("inspect", tmp_path / "m.json").stdout
    text = lm.report(d.L)
    assert "99.9% bootstrap, 5 replicates" in text and "100% bootstrap" not in text


@pytest.fixture(scope="module")
def small_fit():
    d = make_synthetic(600, 4, 2, coverage=0.6, random_state=1)
    lm = LabelModel(2, model="symmetric").fit(d.L)
    lm.confidence_intervals(d.L, n_boot=5, random_state=0)
    return d, lm


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"n_boot": 1}, "n_boot must be an integer in"),
        ({"n_boot": "5"}, "n_boot must be an integer in"),
        ({"random_state": 1.5}, "random_state must be"),
        ({"random_state": "x"}, "random_state must be"),
        ({"title": None}, "title must be a string, got None"),
        ({"title": 5}, "title must be a string, got 5"),
        ({"lf_names": "abcd"}, "lf_names must be a list of names.*'abcd'"),
    ],
)
def test_report_refuses_bad_options_even_when_the_model_holds_intervals(small_fit, bad, match):
    """With intervals_ held, n_boot=1, n_boot="5" and random_state=1.5 were silently ignored; title=None
    or 5 raised AttributeError ('NoneType' object has no attribute 'replace') from html.escape after
    the work; lf_names="abcd" was read as the names a, b, c, d."""
    pytest.importorskip("matplotlib")
    d, lm = small_fit
    assert lm.intervals_ is not None
    with pytest.raises(ValueError, match=match):
        lm.report(d.L, **bad)


def test_report_of_an_unfitted_label_model_says_it_is_not_fitted():
    """An unfitted LabelModel was 'the report needs a fitted LabelModel, got LabelModel'."""
    from tripletws.report import build_report

    with pytest.raises(ValueError, match="not fitted yet; call fit first"):
        build_report(LabelModel(2), np.zeros((5, 3), dtype=int))


def test_report_path_in_a_missing_folder_fails_before_the_bootstrap(small_fit, tmp_path, monkeypatch):
    """A missing folder (or a folder as path) was found by the write only, after the bootstrap and
    the drawing (minutes on a large matrix)."""
    pytest.importorskip("matplotlib")
    import tripletws.report as report

    d, lm = small_fit
    calls = []
    monkeypatch.setattr(report, "build_report", lambda *a, **k: calls.append(1) or "")
    with pytest.raises(FileNotFoundError, match="no such folder"):
        lm.report(d.L, path=tmp_path / "missing" / "r.html")
    with pytest.raises(IsADirectoryError):
        lm.report(d.L, path=tmp_path)
    assert calls == []
    assert list(tmp_path.iterdir()) == []  # nothing left behind


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"random_state": "x"}, "random_state must be"),
        ({"intervals": "no"}, "intervals must be True or False"),
    ],
)
def test_lf_summary_refuses_bad_options_where_the_model_holds_intervals(small_fit, bad, match):
    """random_state="x" and intervals="no" (truthy: intervals shown) were accepted silently."""
    pytest.importorskip("pandas")
    from tripletws import LFAnalysis

    d, lm = small_fit
    with pytest.raises(ValueError, match=match):
        LFAnalysis(d.L).lf_summary(model=lm, **bad)
