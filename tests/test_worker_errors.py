"""An LF's exception that does not pickle, raised in a worker process: dask's ``"processes"``
scheduler and the ``n_jobs`` pool both raise an ``LFWorkerError`` that names the LF and carries the
exception's type and message (dask used to report only its own pickling error, or a broken pool)."""

from __future__ import annotations

import pickle
import threading

import pytest

from tripletws.labeling import (
    DaskLFApplier,
    LFApplier,
    LFWorkerError,
    PandasLFApplier,
    labeling_function,
    vectorized_lf,
)

pd = pytest.importorskip("pandas")


class _LockedError(Exception):
    """An exception holding a lock: it does not pickle."""

    def __init__(self, key: str, where: str) -> None:
        super().__init__(f"{key} not found in {where}")
        self.lock = threading.Lock()


@labeling_function()
def _lookup(x):
    if x["text"] == "hi":
        raise _LockedError(x["text"], "kb")
    return -1


@labeling_function()
def _missing_key(x):
    if x["text"] == "hi":
        raise KeyError(x["text"])
    return -1


@vectorized_lf()
def _frame_lookup(df):
    raise _LockedError("frame", "kb")


FRAME = pd.DataFrame({"text": ["a"] * 5 + ["hi"] + ["b"] * 5})
_TYPE = f"{__name__}._LockedError"


def _dask_frame():
    dd = pytest.importorskip("dask.dataframe")
    return dd.from_pandas(FRAME, npartitions=2, sort=False)  # rows 0-5, 6-10: "hi" is row 5 of partition 0


def test_dask_processes_name_the_lf_of_an_exception_that_does_not_pickle():
    dask = pytest.importorskip("dask")
    ddf = _dask_frame()
    with dask.config.set(num_workers=2):
        with pytest.raises(LFWorkerError) as caught:
            DaskLFApplier([_lookup]).apply(ddf, progress=False, scheduler="processes")
        text = str(caught.value)
        assert text.startswith("_LockedError: hi not found in kb")
        assert "'_lookup' on row 5 of partition 0" in text and "does not pickle" in text
        assert caught.value.exc_type == _TYPE and caught.value.exc_message == "hi not found in kb"

        with pytest.raises(LFWorkerError, match=r"(?s)_LockedError: frame not found in kb.*'_frame_lookup'"):
            DaskLFApplier([_frame_lookup]).apply(ddf, progress=False, scheduler="processes")

        # an exception that pickles comes back as itself, named, as before
        with pytest.raises(KeyError, match="hi") as caught_key:
            DaskLFApplier([_missing_key]).apply(ddf, progress=False, scheduler="processes")
        note = "raised by labeling function '_missing_key' on row 5 of partition 0"
        assert note in caught_key.value.__notes__


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_dask_in_process_schedulers_raise_the_lfs_own_exception(scheduler):
    pytest.importorskip("dask")
    with pytest.raises(_LockedError, match="hi not found in kb") as caught:
        DaskLFApplier([_lookup]).apply(_dask_frame(), progress=False, scheduler=scheduler)
    assert "raised by labeling function '_lookup' on row 5 of partition 0" in caught.value.__notes__


def test_the_worker_pool_raises_the_same_error():
    with pytest.raises(LFWorkerError) as caught:
        PandasLFApplier([_lookup], n_jobs=2).apply(FRAME, progress=False)
    assert str(caught.value).startswith("_LockedError: hi not found in kb")
    assert "'_lookup' on row 5" in str(caught.value)
    assert caught.value.exc_type == _TYPE and caught.value.exc_message == "hi not found in kb"
    with pytest.raises(_LockedError):  # in this process: the exception itself
        LFApplier([_lookup]).apply(FRAME.to_dict("records"), progress=False)


def test_lf_worker_error_pickles_with_its_fields():
    error = LFWorkerError("_LockedError: x\nraised by ...", _TYPE, "x")
    for dumps, loads in [(pickle.dumps, pickle.loads), *_cloudpickle()]:
        back = loads(dumps(error))
        assert type(back) is LFWorkerError and str(back) == str(error)
        assert (back.exc_type, back.exc_message) == (_TYPE, "x")


def _cloudpickle():
    try:
        import cloudpickle
    except ImportError:  # pragma: no cover - dask brings it
        return []
    return [(cloudpickle.dumps, cloudpickle.loads)]
