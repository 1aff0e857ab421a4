"""Labeling functions and appliers."""

from __future__ import annotations

import numpy as np
import pytest

from tripletws.labeling import (
    LFApplier,
    PandasLFApplier,
    filter_unlabeled_dataframe,
    labeling_function,
)


@labeling_function()
def has_link(x):
    return 1 if "http" in x["text"] else -1


@labeling_function(name="short", resources={"limit": 10}, pre=[lambda x: x if x["text"] else None])
def short_is_ham(x, limit):
    return 0 if len(x["text"]) < limit else -1


DOCS = [{"text": "see http://x.y now"}, {"text": "hi"}, {"text": ""}]


def test_apply_to_records():
    L = LFApplier([has_link, short_is_ham]).apply(DOCS, progress_bar=False)
    np.testing.assert_array_equal(L, [[1, -1], [-1, 0], [-1, -1]])
    assert short_is_ham.name == "short"


def test_pandas_applier_and_filter():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(DOCS)
    L = PandasLFApplier([has_link, short_is_ham]).apply(df, progress_bar=False)
    X, y = filter_unlabeled_dataframe(df, np.array([1, 0, 0]), L)
    assert len(X) == 2 and y.tolist() == [1, 0]


def test_bad_return_value_names_the_lf():
    @labeling_function()
    def bad(x):
        return "spam"

    with pytest.raises(ValueError, match="'bad' returned 'spam' on row 0"):
        LFApplier([bad]).apply(DOCS, progress_bar=False)


def test_fault_tolerant_turns_exceptions_into_abstains():
    @labeling_function()
    def boom(x):
        raise KeyError("missing")

    with pytest.raises(KeyError):
        LFApplier([boom]).apply(DOCS, progress_bar=False)
    L = LFApplier([boom, has_link]).apply(DOCS, progress_bar=False, fault_tolerant=True)
    assert (L[:, 0] == -1).all()


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_an_lf_raising_valueerror_is_tolerated_and_named(n_jobs):
    """An LF's own ValueError counts as an abstain under fault_tolerant (it was re-raised); without it,
    the exception keeps its type and names the LF and the global row; a vote beyond int16 is refused."""
    pd = pytest.importorskip("pandas")

    @labeling_function()
    def parse(x):
        return 1 if int(x.n) > 2 else -1

    @labeling_function()
    def huge(x):
        return 40_000

    df = pd.DataFrame({"n": ["1", "x", "5", "7"]})
    applier = PandasLFApplier([parse], n_jobs=n_jobs)
    L = applier.apply(df, progress_bar=False, fault_tolerant=True)
    assert L[:, 0].tolist() == [-1, -1, 1, 1]
    with pytest.raises(ValueError, match="invalid literal") as info:
        applier.apply(df, progress_bar=False)
    assert "raised by labeling function 'parse' on row 1" in getattr(info.value, "__notes__", [])
    with pytest.raises(ValueError, match="'huge' returned 40000 on row 0; a class is at most 32767"):
        PandasLFApplier([huge]).apply(df, progress_bar=False)


def test_duplicate_names_rejected():
    with pytest.raises(ValueError, match="duplicate"):
        LFApplier([has_link, has_link])
