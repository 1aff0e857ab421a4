"""Labeling functions and appliers."""

from __future__ import annotations

import threading

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


def test_lfanalysis_gold_may_name_a_class_that_no_lf_votes():
    pd = pytest.importorskip("pandas")
    from tripletws.labeling import LFAnalysis

    L = np.array([[0, 1], [1, -1], [-1, 0]])
    table = LFAnalysis(L, ["a", "b"]).lf_summary(Y=np.array([2, 1, 0]))
    assert table["Correct"].tolist() == [1, 1] and table["Incorrect"].tolist() == [1, 1]
    assert isinstance(table, pd.DataFrame)
    with pytest.raises(ValueError, match=r"value 2 at position 0, outside -1\.\.1"):
        LFAnalysis(L, ["a", "b"], cardinality=2).lf_summary(Y=np.array([2, 1, 0]))


class _LockedError(Exception):
    def __init__(self, key, where):
        super().__init__(f"{key} not found in {where}")
        self.lock = threading.Lock()  # does not pickle


@labeling_function()
def _lookup(x):
    if x["text"] == "hi":
        raise _LockedError(x["text"], "kb")
    return -1


def test_an_lf_exception_that_does_not_pickle_comes_back_from_a_worker_named():
    """The pool used to fail with a BrokenProcessPool that named neither the LF nor the row."""
    from tripletws.labeling.appliers import LFWorkerError

    docs = [{"text": "a"}] * 5 + [{"text": "hi"}] + [{"text": "b"}] * 5
    with pytest.raises(LFWorkerError, match=r"(?s)_LockedError: hi not found in kb.*'_lookup' on row 5"):
        LFApplier([_lookup], n_jobs=2).apply(docs, progress=False)
    # tblib's exception pickling (installed by dask.distributed) pickles the chained context too: the
    # worker's error must not chain the exception that does not pickle
    from tripletws.labeling.appliers import _init_worker, _worker_apply

    _init_worker([_lookup])
    try:
        with pytest.raises(LFWorkerError) as caught:
            _worker_apply(docs, "iter", False, 0)
    finally:
        _init_worker([])
    assert caught.value.__context__ is None and caught.value.__cause__ is None


def test_appliers_refuse_what_they_would_misread():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(DOCS)
    with pytest.raises(ValueError, match="use PandasLFApplier"):
        LFApplier([has_link]).apply(df, progress=False)  # would iterate over the column names
    twice = pd.DataFrame([[1, "a"]], columns=[1, "1"])
    with pytest.raises(ValueError, match=r"distinct column names .*\['1'\]"):
        PandasLFApplier([has_link], rows="records").apply(twice, progress=False)


def test_filter_unlabeled_takes_sparse_l_and_lists_of_points():
    from tripletws import to_sparse

    L = np.array([[-1, -1], [1, -1], [-1, -1], [0, 0]])
    X = [["a"], ["b", "c"], ["d"], ["e"]]  # token lists of different lengths stay a list
    X_f, y_f = filter_unlabeled_dataframe(X, np.arange(4), to_sparse(L))
    assert X_f == [["b", "c"], ["e"]] and y_f.tolist() == [1, 3]
    with pytest.raises(ValueError, match="X has 3 rows"):
        filter_unlabeled_dataframe(X[:3], np.arange(4), L)


def test_memoised_preprocessor_keys_values_by_type():
    """1, 1.0 and True are equal dict keys: a memo shared them between rows of different types."""
    from tripletws.labeling import preprocessor

    @preprocessor(memoize=True)
    def kind(x):
        return {**x, "kind": type(x["v"]).__name__}

    seen = [kind({"v": v})["kind"] for v in (1, 1.0, True, 1)]
    assert seen == ["int", "float", "bool", "int"] and kind.hits == 1


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_return_meta_counts_each_lfs_faults_as_snorkel(n_jobs):
    """Snorkel's apply(..., return_meta=True) -> (L, ApplierMetadata(faults={lf name: count})) raised
    TypeError; the dask applier counts across partitions."""
    pd = pytest.importorskip("pandas")
    from tripletws.labeling import ApplierMetadata, PandasLFApplier

    @labeling_function()
    def empty_fails(x):
        if not x.text:
            raise KeyError("empty")
        return 1

    df = pd.DataFrame({"text": ["a", "", "b", "", ""] * 4})
    L, meta = PandasLFApplier([empty_fails, has_link], n_jobs=n_jobs).apply(
        df, progress_bar=False, fault_tolerant=True, return_meta=True
    )
    assert isinstance(meta, ApplierMetadata) and meta.faults == {"empty_fails": 12}
    assert (L[df.text.to_numpy() == "", 0] == -1).all() and (L[df.text.to_numpy() != "", 0] == 1).all()
    plain = PandasLFApplier([has_link], n_jobs=n_jobs).apply(df, progress_bar=False, return_meta=True)
    assert plain[1].faults == {}
    dd = pytest.importorskip("dask.dataframe")
    from tripletws.labeling import DaskLFApplier

    L2, meta2 = DaskLFApplier([empty_fails, has_link]).apply(
        dd.from_pandas(df, npartitions=3),
        progress_bar=False,
        fault_tolerant=True,
        return_meta=True,
        scheduler="sync",
    )
    np.testing.assert_array_equal(L2, L)
    assert meta2.faults == {"empty_fails": 12}


def test_preprocessor_pre_runs_first_as_snorkel():
    """Snorkel's @preprocessor(pre=[...]) raised TypeError."""
    from tripletws.labeling import preprocessor

    @preprocessor()
    def lower(x):
        return {"text": x["text"].lower()}

    @preprocessor(pre=[lower], memoize=True)
    def words(x):
        return {**x, "words": x["text"].split()}

    @preprocessor(pre=[lambda x: None])
    def never(x):
        raise AssertionError("not reached: the pre returned None")

    assert words({"text": "Hello World"})["words"] == ["hello", "world"]
    assert never({"text": "x"}) is None
    with pytest.raises(ValueError, match="not callable"):
        preprocessor(pre=["lower"])(lambda x: x)
    with pytest.raises(ValueError, match="memoize comes after pre"):  # the order before Snorkel's
        preprocessor("name", True)(lambda x: x)
