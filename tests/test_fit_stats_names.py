"""``fit_stats(stats, lf_names=)``: statistics carry no LF names, so a model solved from the
statistics of named blocks (``stats_from_blocks`` of DataFrames) kept none (session 41)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tripletws import LabelModel
from tripletws.datasets import make_synthetic
from tripletws.distributed import stats_from_blocks


@pytest.fixture(scope="module")
def frame():
    d = make_synthetic(3000, 5, 2, random_state=3)
    return pd.DataFrame(d.L, columns=[f"lf_{c}" for c in "abcde"])


def _fit_stats(frame, **kw):
    stats = stats_from_blocks(np.array_split(frame, 3), 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LabelModel(2, model="symmetric").fit_stats(stats, **kw)


def test_named_statistics_give_a_named_model(frame):
    model = _fit_stats(frame, lf_names=frame.columns)
    assert model.lf_names_ == tuple(frame.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = LabelModel(2, model="symmetric").fit(frame)
    np.testing.assert_allclose(model.accuracies_, direct.accuracies_, rtol=0, atol=1e-12)
    # predict checks the columns by name, as after a fit on the frame
    np.testing.assert_allclose(model.predict_proba(frame), direct.predict_proba(frame), atol=1e-12)
    with pytest.raises(ValueError, match="another order"):
        model.predict_proba(frame[list(reversed(frame.columns))])
    with pytest.raises(ValueError, match="lf_zz"):
        model.predict_proba(frame.rename(columns={"lf_a": "lf_zz"}))


def test_dependencies_by_name_read_the_given_names(frame):
    model = _fit_stats(frame, lf_names=list(frame.columns), dependencies=[("lf_a", "lf_b")])
    assert model.dependencies_.tolist() == [[0, 1]]


def test_unnamed_statistics_stay_unnamed(frame):
    assert _fit_stats(frame).lf_names_ is None


@pytest.mark.parametrize(
    "names, match",
    [(["a", "b"], "2 names for 5 LFs"), (list("aabcd"), "repeats a name"), ("abcde", "sequence of strings")],
)
def test_bad_names_are_refused(frame, names, match):
    with pytest.raises(ValueError, match=match):
        _fit_stats(frame, lf_names=names)
