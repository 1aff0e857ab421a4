"""Regression tests for bugs found by fuzzing the labeling layer (LFs, appliers, the LF cache)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from tripletws.labeling import (
    ABSTAIN,
    DaskLFApplier,
    LFApplier,
    PandasLFApplier,
    labeling_function,
    preprocessor,
)

POSITIVE = {"good", "great"}
NEGATIVE = {"bad", "awful"}


def _opinion(x, words):
    """Votes 1 on opinionated rows holding one of ``words`` (reads both word lists)."""
    tokens = set(x.text.split())
    if not (tokens & POSITIVE or tokens & NEGATIVE):
        return ABSTAIN
    return 1 if tokens & words else ABSTAIN


def test_cache_tells_apart_which_object_a_resource_repeats(tmp_path):
    # the code reads POSITIVE and NEGATIVE; the resource is one of the two: each repeat was hashed
    # as the same "seen before" tag, so switching the resource returned the first one's votes
    df = pd.DataFrame({"text": ["good film", "bad film", "a film"]})
    lf_pos = labeling_function(name="lf", resources={"words": POSITIVE})(_opinion)
    lf_neg = labeling_function(name="lf", resources={"words": NEGATIVE})(_opinion)
    assert lf_pos.fingerprint() != lf_neg.fingerprint()
    PandasLFApplier([lf_pos], cache_dir=tmp_path).apply(df, progress=False)
    applier = PandasLFApplier([lf_neg], cache_dir=tmp_path)
    assert applier.apply(df, progress=False).ravel().tolist() == [-1, 1, -1]
    assert applier.last_applied_ == ["lf"]


def _lower_text(x):
    x["text"] = x["text"].lower()  # changes the point it is given, as Snorkel's examples do
    x["tokens"].append("<end>")
    return x


@pytest.mark.parametrize("rows", ["series", "records"])
@pytest.mark.parametrize("memoize", [False, True])
def test_a_preprocessor_changing_its_point_leaves_the_row_other_lfs_see(tmp_path, rows, memoize):
    # Snorkel's preprocessors work on a copy of the point; here the lowered text leaked into the LFs
    # called after it on the same row, so the votes depended on the LFs' order and on the cache
    lower = preprocessor(name="lower", memoize=memoize)(_lower_text)

    @labeling_function(pre=[lower])
    def lf_lower(x):
        return 1 if "good" in x["text"] else ABSTAIN

    @labeling_function()
    def lf_caps(x):
        return 0 if "GOOD" in x["text"] and x["tokens"] == ["GOOD"] else ABSTAIN

    df = pd.DataFrame({"text": ["GOOD", "bad"], "tokens": [["GOOD"], ["bad"]]})
    want = [[1, 0], [ABSTAIN, ABSTAIN]]
    assert PandasLFApplier([lf_lower, lf_caps], rows=rows).apply(df, progress=False).tolist() == want
    assert df["tokens"].tolist() == [["GOOD"], ["bad"]]
    PandasLFApplier([lf_lower], rows=rows, cache_dir=tmp_path).apply(df, progress=False)
    both = PandasLFApplier([lf_lower, lf_caps], rows=rows, cache_dir=tmp_path).apply(df, progress=False)
    assert both.tolist() == want


def test_a_plain_callable_in_pre_changing_its_point_leaves_the_row_other_lfs_see():
    @labeling_function(pre=[_lower_text])
    def lf_lower(x):
        return 1 if "good" in x["text"] else ABSTAIN

    @labeling_function()
    def lf_caps(x):
        return 0 if "GOOD" in x["text"] else ABSTAIN

    points = [{"text": "GOOD", "tokens": ["GOOD"]}]
    assert LFApplier([lf_lower, lf_caps]).apply(points, progress=False).tolist() == [[1, 0]]
    assert points == [{"text": "GOOD", "tokens": ["GOOD"]}]


def test_dask_cache_tells_apart_object_columns_that_join_alike(tmp_path):
    # dask's token of an object column joins its strings with "-": ["a-b", "c"] and ["a", "b-c"]
    # had one token, and the second frame got the first one's cached votes
    dd = pytest.importorskip("dask.dataframe")

    @labeling_function()
    def lf_ab(x):
        return 1 if x.text == "a-b" else ABSTAIN

    first = pd.DataFrame({"text": ["a-b", "c"]}, dtype=object)
    second = pd.DataFrame({"text": ["a", "b-c"]}, dtype=object)
    DaskLFApplier([lf_ab], cache_dir=tmp_path).apply(dd.from_pandas(first, npartitions=1), progress=False)
    applier = DaskLFApplier([lf_ab], cache_dir=tmp_path)
    L = applier.apply(dd.from_pandas(second, npartitions=1), progress=False, scheduler="sync")
    assert L.ravel().tolist() == [ABSTAIN, ABSTAIN]
    assert applier.last_applied_ == ["lf_ab"]
    again = DaskLFApplier([lf_ab], cache_dir=tmp_path)
    L = again.apply(dd.from_pandas(second, npartitions=2), progress=False, scheduler="sync")
    assert L.ravel().tolist() == [ABSTAIN, ABSTAIN]


def _dask_frame(npartitions: int):
    dd = pytest.importorskip("dask.dataframe")
    df = pd.DataFrame({"v": range(30)})
    ddf = dd.from_pandas(df, npartitions=npartitions)
    assert ddf.map_partitions(len).compute().tolist() == [10, 10, 10]
    return ddf


def test_dask_errors_name_the_partition_of_the_row():
    # the row was counted from the partition's start and named as if it were the frame's: row 25
    # was reported as "row 5", which is another row of the frame
    ddf = _dask_frame(3)

    @labeling_function()
    def boom(x):
        if x.v == 25:
            raise KeyError("nope")
        return ABSTAIN

    @labeling_function()
    def none_on_25(x):
        return None if x.v == 25 else ABSTAIN

    with pytest.raises(KeyError) as info:
        DaskLFApplier([boom]).apply(ddf, progress=False, scheduler="sync")
    assert info.value.__notes__ == ["raised by labeling function 'boom' on row 5 of partition 2"]
    with pytest.raises(ValueError, match="'none_on_25' returned None on row 5 of partition 2;"):
        DaskLFApplier([none_on_25]).apply(ddf, progress=False, scheduler="sync")


def test_dask_vectorised_errors_name_the_partition():
    from tripletws.labeling import vectorized_lf

    ddf = _dask_frame(3)

    @vectorized_lf()
    def minus_two_on_25(df):
        return np.where(df.v == 25, -2, ABSTAIN)

    with pytest.raises(ValueError, match="returned -2 on row 5") as info:
        DaskLFApplier([minus_two_on_25]).apply(ddf, progress=False, scheduler="sync")
    assert info.value.__notes__ == ["in partition 2 of the dask DataFrame (rows counted from its start)"]


@pytest.mark.parametrize("values", [[123, 456], [123, "x 456"], [123.0, None]])
def test_keyword_lf_reads_numbers_in_an_object_column_as_in_a_number_column(values):
    # an object column holding numbers failed with pandas' ".str accessor" error, or (mixed with
    # strings) never matched them, where the same numbers in an int or float column matched
    from tripletws.labeling import keyword_lf

    lf = keyword_lf(["123"], label=1, column="c")
    as_numbers = pd.DataFrame({"c": [123, 456]})
    as_objects = pd.DataFrame({"c": pd.Series(values, dtype=object)})
    assert PandasLFApplier([lf]).apply(as_numbers, progress=False).ravel().tolist() == [1, ABSTAIN]
    assert PandasLFApplier([lf]).apply(as_objects, progress=False).ravel().tolist() == [1, ABSTAIN]


CUTOFF = pd.Timestamp("2021-01-01")


def _after_cutoff(x):
    return 1 if x.date >= CUTOFF else ABSTAIN


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (pd.Timestamp("2021-01-01"), pd.Timestamp("2020-01-01")),
        (pd.Timedelta(days=1), pd.Timedelta(days=2)),
        (pd.Categorical(["a"]), pd.Categorical(["b"])),
    ],
)
def test_fingerprint_reads_library_values_kept_outside_their_dict(first, second):
    # a pd.Timestamp (a categorical, a torch tensor) keeps its value outside __dict__: every one
    # hashed as its type alone, so editing a cutoff date an LF reads returned the stale votes
    from tripletws.labeling.fingerprint import fingerprint

    assert fingerprint(first) != fingerprint(second)
    assert fingerprint(first) == fingerprint(copy.deepcopy(first))  # an equal value: a cache hit


def test_cache_sees_an_edited_timestamp_cutoff(tmp_path, monkeypatch):
    df = pd.DataFrame({"date": pd.to_datetime(["2020-06-01", "2021-06-01"])})
    lf = labeling_function()(_after_cutoff)
    assert PandasLFApplier([lf], cache_dir=tmp_path).apply(df, progress=False).ravel().tolist() == [-1, 1]
    monkeypatch.setitem(globals(), "CUTOFF", pd.Timestamp("2020-01-01"))
    applier = PandasLFApplier([lf], cache_dir=tmp_path)
    assert applier.apply(df, progress=False).ravel().tolist() == [1, 1]
    assert applier.last_applied_ == ["_after_cutoff"]


@labeling_function()
def _flaky(x):
    if x.text == "boom":
        raise RuntimeError("service down")
    return 1


@pytest.mark.parametrize("dask", [False, True])
def test_cache_keeps_no_column_whose_lf_raised_under_fault_tolerant(tmp_path, dask):
    # the abstains that stood for the LF's exceptions were cached as its votes: a later run without
    # fault_tolerant returned them instead of raising, and one with return_meta counted no faults
    df = pd.DataFrame({"text": ["ok", "boom"]})
    if dask:
        dd = pytest.importorskip("dask.dataframe")
        data, make = dd.from_pandas(df, npartitions=1), DaskLFApplier
    else:
        data, make = df, PandasLFApplier
    L, meta = make([_flaky], cache_dir=tmp_path).apply(
        data, progress=False, fault_tolerant=True, return_meta=True
    )
    assert L.ravel().tolist() == [1, ABSTAIN] and meta.faults == {"_flaky": 1}
    L, meta = make([_flaky], cache_dir=tmp_path).apply(
        data, progress=False, fault_tolerant=True, return_meta=True
    )
    assert meta.faults == {"_flaky": 1}
    with pytest.raises(RuntimeError, match="service down"):
        make([_flaky], cache_dir=tmp_path).apply(data, progress=False)


def test_vectorised_lf_series_in_another_row_order_is_matched_by_index():
    # a Series of votes computed on a sorted copy was read in its own order: votes on other rows
    from tripletws.labeling import vectorized_lf

    df = pd.DataFrame({"v": [5, 1, 7, 2]}, index=[10, 11, 12, 13])

    @vectorized_lf()
    def big_v(d):
        s = d.sort_values("v")
        return (s.v > 4).astype(int) * 2 - 1

    @vectorized_lf()
    def from_numpy(d):  # a Series with its own index (0..n-1): read in order, as before
        return pd.Series(np.where(d.v.to_numpy() > 4, 1, ABSTAIN))

    L = PandasLFApplier([big_v, from_numpy]).apply(df, progress=False)
    assert L.tolist() == [[1, 1], [-1, -1], [1, 1], [-1, -1]]
    shuffled = pd.DataFrame({"v": [5, 1, 1]}, index=[7, 7, 8])

    @vectorized_lf()
    def reversed_v(d):
        return ((d.v > 4).astype(int) * 2 - 1).iloc[::-1]

    with pytest.raises(
        ValueError, match="'reversed_v' returned a Series whose index holds the data's labels"
    ):
        PandasLFApplier([reversed_v]).apply(shuffled, progress=False)


def test_cache_file_with_a_damaged_vote_is_recomputed(tmp_path):
    # a flipped bit in a stored vote still read as an int16 vector of votes >= -1: wrong votes
    @labeling_function()
    def parity(x):
        return int(x.v) % 2

    df = pd.DataFrame({"v": range(6)})
    want = PandasLFApplier([parity], cache_dir=tmp_path).apply(df, progress=False)
    (path,) = [p for p in tmp_path.rglob("*") if p.is_file()]
    data = bytearray(path.read_bytes())
    at = bytes(data).find(want[:, 0].tobytes())
    assert at > 0
    data[at] ^= 1  # the first vote, 0, now reads 1
    path.write_bytes(bytes(data))
    applier = PandasLFApplier([parity], cache_dir=tmp_path)
    assert applier.apply(df, progress=False).tolist() == want.tolist()
    assert applier.last_applied_ == ["parity"]


def test_dask_progress_bar_counts_partitions_by_name(capsys):
    # the bar counted partitions but labelled its rate "row/s"
    ddf = _dask_frame(3)

    @labeling_function()
    def small(x):
        return 1 if x.v < 10 else ABSTAIN

    DaskLFApplier([small]).apply(ddf, progress=True, scheduler="sync")
    err = capsys.readouterr().err
    assert "/3 " in err and "partition" in err and "row" not in err
