"""Apply labeling functions to data: serially, in worker processes, or over Dask partitions.

Row-wise LFs call user Python code once per data point, the one per-row loop
of the pipeline; vectorised LFs (:mod:`.vectorized`) run once per frame.  A
tqdm progress bar is shown unless ``progress=False``.  With ``cache_dir``,
each LF's output column is stored under a key made of the data and the LF's
code (:mod:`.cache`), so after editing one LF only that LF is applied again.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..matrix import ABSTAIN, check_label_matrix, from_sparse
from .cache import LFCache, dask_data_key, data_key

logger = logging.getLogger("tripletws")

#: Row modes: how a data point reaches a row-wise LF.
ROW_MODES = ("iter", "series", "records")


class _Record(dict):
    """A row as a dict that also allows attribute access (``x.text`` and ``x["text"]``)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _iter_rows(data: Any, mode: str) -> Iterable[Any]:
    if mode == "series":
        return (row for _, row in data.iterrows())
    if mode == "records":
        cols = [str(c) for c in data.columns]
        if len(set(cols)) < len(cols):
            dup = sorted({c for c in cols if cols.count(c) > 1})
            raise ValueError(
                f"rows='records' needs distinct column names (as str); {dup} name more than one column"
            )
        return (_Record(zip(cols, values, strict=True)) for values in data.itertuples(index=False, name=None))
    return iter(data)


def _where(row: int, partition: int | None) -> str:
    """The row as a message names it: its position in the data, or in its dask partition."""
    return f"row {row}" if partition is None else f"row {row} of partition {partition}"


def _check_vote(value: Any, lf: Any, row: int, partition: int | None = None) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(
            f"labeling function {lf.name!r} returned {value!r} on {_where(row, partition)}; "
            "expected an int class or -1"
        )
    if value < ABSTAIN:
        raise ValueError(
            f"labeling function {lf.name!r} returned {value} on {_where(row, partition)}; expected >= -1"
        )
    if value > _MAX_VOTE:
        raise ValueError(
            f"labeling function {lf.name!r} returned {value} on {_where(row, partition)}; "
            f"a class is at most {_MAX_VOTE}"
        )
    return int(value)


def _add_note(exc: BaseException, note: str) -> None:
    """``exc.add_note(note)`` (Python 3.11+, shown under the traceback); kept in ``__notes__`` before."""
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    else:  # pragma: no cover - Python 3.10
        exc.__notes__ = [*getattr(exc, "__notes__", []), note]


#: Largest vote the applied matrix (int16) holds.
_MAX_VOTE = int(np.iinfo(np.int16).max)


def _apply_rows(
    rows: Iterable[Any],
    n: int,
    lfs: Sequence[Any],
    fault_tolerant: bool,
    offset: int = 0,
    bar: Any = None,
    partition: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Votes of row-wise ``lfs`` on ``n`` rows, shape (n, len(lfs)), and each LF's count of calls
    that raised, shape (len(lfs),).  Errors name row ``offset + r`` (of dask partition ``partition``
    when given)."""
    L = np.full((n, len(lfs)), ABSTAIN, dtype=np.int16)
    failures = np.zeros(len(lfs), dtype=np.int64)
    step = max(1, min(1000, n // 100 or 1))
    for r, x in enumerate(rows):
        for j, lf in enumerate(lfs):
            try:
                value = lf(x)
            except Exception as exc:
                if not fault_tolerant:
                    # the LF's own exception, its type kept, with the LF and the global row named
                    where = _where(offset + r, partition)
                    _add_note(exc, f"raised by labeling function {lf.name!r} on {where}")
                    raise
                failures[j] += 1  # fault-tolerant: any raise is an abstain
                continue
            L[r, j] = _check_vote(value, lf, offset + r, partition)  # a bad value is always an error
        if bar is not None and (r + 1) % step == 0:
            bar.update(step)
    if bar is not None and n % step:
        bar.update(n % step)
    return L, failures


# -- worker processes -------------------------------------------------------------

_WORKER_LFS: list[Any] = []


def _init_worker(lfs: list[Any]) -> None:
    global _WORKER_LFS
    _WORKER_LFS = lfs


class LFWorkerError(RuntimeError):
    """An LF's exception in a worker process (the applier's ``n_jobs`` pool, or dask's
    ``scheduler="processes"`` and other process-based schedulers) that cannot travel back to the
    caller because it does not pickle: its type, message, notes and traceback as text.

    The message starts with ``<type>: <message>`` and names the LF and the row (the notes the
    applier added); the original exception itself stays in the worker.

    Parameters
    ----------
    message : str
        The text shown.
    exc_type : str, optional
        The original exception's type, ``module.QualifiedName``.
    exc_message : str, optional
        ``str()`` of the original exception.

    Attributes
    ----------
    exc_type, exc_message : str or None
        As given.
    """

    def __init__(self, message: str, exc_type: str | None = None, exc_message: str | None = None) -> None:
        super().__init__(message)
        self.exc_type = exc_type
        self.exc_message = exc_message

    def __reduce__(self) -> tuple[Any, ...]:
        # rebuilt from its three texts (the default would pass the message alone)
        return (type(self), (str(self.args[0]) if self.args else "", self.exc_type, self.exc_message))


def _does_not_travel(exc: BaseException, dumps: Any, loads: Any) -> LFWorkerError | None:
    """An :class:`LFWorkerError` that stands for ``exc`` where ``exc`` does not survive ``dumps`` and
    ``loads`` (the serialiser that carries it back to the caller), else None (raise ``exc`` itself).

    Call it inside the ``except`` block and raise its result outside: an exception raised inside
    would chain ``exc`` as its context, and tblib's pickling support (which dask installs) pickles
    the context too."""
    try:
        loads(dumps(exc))
    except Exception:
        notes = "".join(f"\n{note}" for note in getattr(exc, "__notes__", []))
        trace = "".join(traceback.format_exception(exc))
        kind = type(exc)
        message = (
            f"{kind.__qualname__}: {exc}{notes}\n(the exception does not pickle; its traceback "
            f"in the worker:)\n{trace}"
        )
        return LFWorkerError(message, f"{kind.__module__}.{kind.__qualname__}", str(exc))
    return None


def _worker_apply(chunk: Any, mode: str, fault_tolerant: bool, offset: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        return _apply_rows(_iter_rows(chunk, mode), len(chunk), _WORKER_LFS, fault_tolerant, offset)
    except Exception as exc:
        from multiprocessing.reduction import ForkingPickler  # the pool's own serialiser

        # the pool would report a BrokenProcessPool naming nothing for an exception that does not pickle
        failure = _does_not_travel(exc, ForkingPickler.dumps, ForkingPickler.loads)
        if failure is None:
            raise  # it travels back as it is (it names the LF and the row)
    raise failure  # (outside the handler: see _does_not_travel)


def _pool(n_jobs: int, lfs: list[Any]):
    """A process pool whose workers hold the LFs (inherited by fork where available, else pickled)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    methods = mp.get_all_start_methods()
    ctx = mp.get_context("fork") if "fork" in methods and sys.platform.startswith("linux") else None
    return ProcessPoolExecutor(n_jobs, mp_context=ctx, initializer=_init_worker, initargs=(lfs,))


def _check_n_jobs(n_jobs: Any) -> int:
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be a positive integer or -1 (all cores), got {n_jobs!r}")
    return os.cpu_count() or 1 if n_jobs == -1 else int(n_jobs)


def _progress(total: int, enabled: bool, desc: str, unit: str = "row"):
    """A tqdm bar over ``total`` items of ``unit`` (rows, or a dask frame's partitions)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, leave=False, dynamic_ncols=True)


def _check_unique_names(lfs: Sequence[Any]) -> None:
    """Refuse LFs that share a name (their columns, cache entries and reports are told apart by it),
    naming each shared name and the positions of the LFs that carry it."""
    where: dict[str, list[int]] = {}
    for j, lf in enumerate(lfs):
        where.setdefault(str(lf.name), []).append(j)
    dup = {name: pos for name, pos in where.items() if len(pos) > 1}
    if dup:
        listed = "; ".join(f"{name!r} (LFs {', '.join(map(str, pos))})" for name, pos in sorted(dup.items()))
        raise ValueError(
            f"duplicate labeling function names: {listed}; give each LF its own name (name=... of "
            "labeling_function, keyword_lf, regex_lf, threshold_lf or vectorized_lf)"
        )


class LFApplier:
    """Apply LFs to any sequence of data points, giving L of shape (n, m).

    Parameters
    ----------
    lfs : sequence of LabelingFunction (and, for DataFrames, VectorizedLF)
    n_jobs : int
        Worker processes for the row-wise LFs (-1: one per core).  Workers
        receive slices of the data; on Linux they inherit the LFs by fork, so
        LFs need not be picklable.
    cache_dir : path, optional
        Keep each LF's output on disk keyed by the data and the LF's code.
    """

    _mode = "iter"

    def _data_key(self, data: Any) -> str:
        """The cache's key of ``data`` as this applier hands its rows to the LFs ("" without a cache)."""
        if self.cache is None:
            return ""
        return data_key(data, self._mode)

    def __init__(
        self, lfs: Sequence[Any], n_jobs: int = 1, cache_dir: str | os.PathLike[str] | None = None
    ) -> None:
        if not lfs:
            raise ValueError("LFApplier needs at least one labeling function")
        _check_unique_names(lfs)
        self._lfs = list(lfs)
        self.n_jobs = _check_n_jobs(n_jobs)
        self.cache = None if cache_dir is None else LFCache(cache_dir)
        self.last_applied_: list[str] = []

    def _slice(self, data: Any, start: int, stop: int) -> Any:
        return data[start:stop]

    def _check_vectorized(self, data: Any) -> None:
        if self._mode == "iter" and hasattr(data, "columns") and hasattr(data, "iloc"):
            raise ValueError(
                "LFApplier iterates over its data, and a DataFrame iterates over its column names: "
                "use PandasLFApplier (or DaskLFApplier) for the rows of a DataFrame"
            )
        vec = [lf.name for lf in self._lfs if getattr(lf, "vectorized", False)]
        if vec and not hasattr(data, "columns"):
            raise ValueError(f"vectorised LFs {vec} need a DataFrame; use PandasLFApplier or DaskLFApplier")

    def apply(
        self,
        data: Any = None,
        progress: bool = True,
        fault_tolerant: bool = False,
        progress_bar: bool | None = None,
        return_meta: bool = False,
        *,
        data_points: Any = None,
    ) -> Any:
        """Vote matrix, shape (n, m), int16 (-1 = abstain).

        Parameters
        ----------
        data : sequence of data points (a DataFrame for the pandas applier)
        progress : bool
            Show a tqdm progress bar over the rows.
        fault_tolerant : bool
            An LF that raises abstains on that row (logged) instead of stopping.
        progress_bar : bool, optional
            Snorkel's name for ``progress`` (wins when given).
        return_meta : bool
            Also return an :class:`ApplierMetadata` (Snorkel's): each LF's count of calls that
            raised under ``fault_tolerant`` in this call.  An LF that raised is not cached (it runs,
            and raises or is counted, again); one read from the cache did not run.
        data_points : sequence of data points, optional
            Snorkel's name for ``data`` (``LFApplier(lfs).apply(data_points=...)``).

        Returns
        -------
        ndarray of int16, shape (n, m), or ``(L, ApplierMetadata)`` with ``return_meta``

        Attributes set
        --------------
        last_applied_ : list of str
            Names of the LFs computed (not read from the cache) by this call.
        """
        if data_points is not None:
            if data is not None:
                raise TypeError("apply() got both data and data_points (Snorkel's name for data); give one")
            data = data_points
        if data is None:
            raise TypeError("apply() missing the data points: apply(data)")
        if progress_bar is not None:
            progress = progress_bar
        self._check_vectorized(data)
        n = len(data)
        m = len(self._lfs)
        L = np.full((n, m), ABSTAIN, dtype=np.int16)
        dkey = self._data_key(data)
        keys = [lf.fingerprint() for lf in self._lfs] if self.cache is not None else [""] * m
        todo = []
        for j in range(m):
            # (an LF without a stable fingerprint, None: computed every time, never cached)
            col = None if self.cache is None or keys[j] is None else self.cache.load(dkey, keys[j], n)
            if col is None:
                todo.append(j)
            else:
                L[:, j] = col
        vec = [j for j in todo if getattr(self._lfs[j], "vectorized", False)]
        rowwise = [j for j in todo if j not in vec]
        faults = np.zeros(m, dtype=np.int64)
        for j in vec:
            L[:, j] = self._lfs[j].apply_frame(data)
        if rowwise:
            L[:, rowwise], faults[rowwise] = self._apply_rowwise(
                data, [self._lfs[j] for j in rowwise], progress, fault_tolerant, len(vec)
            )
        if self.cache is not None:
            for j in todo:
                if not faults[j] and keys[j] is not None:  # abstains standing for exceptions: not kept
                    self.cache.store(dkey, keys[j], L[:, j])
        self.last_applied_ = [self._lfs[j].name for j in todo]
        return (L, _metadata(self._lfs, faults)) if return_meta else L

    def _apply_rowwise(
        self, data: Any, lfs: list[Any], progress: bool, fault_tolerant: bool, vectorized: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        n = len(data)
        desc = f"applying {len(lfs)} LF(s) row by row"
        if vectorized:  # (those ran on the whole frame already, before the bar)
            desc += f" ({vectorized} vectorised LF(s) applied to the whole frame)"
        with _progress(n, progress, desc) as bar:
            if self.n_jobs == 1 or n < 2:
                L, failures = _apply_rows(_iter_rows(data, self._mode), n, lfs, fault_tolerant, 0, bar)
            else:
                L, failures = self._apply_parallel(data, lfs, fault_tolerant, bar)
        _log_faults(failures)
        return L, failures

    def _apply_parallel(
        self, data: Any, lfs: list[Any], fault_tolerant: bool, bar: Any
    ) -> tuple[np.ndarray, np.ndarray]:
        from concurrent.futures import as_completed

        n = len(data)
        size = max(1, math.ceil(n / (self.n_jobs * 8)))
        L = np.full((n, len(lfs)), ABSTAIN, dtype=np.int16)
        failures = np.zeros(len(lfs), dtype=np.int64)
        with _pool(self.n_jobs, lfs) as pool:
            futures = {
                pool.submit(
                    _worker_apply, self._slice(data, s, min(s + size, n)), self._mode, fault_tolerant, s
                ): s
                for s in range(0, n, size)
            }
            for fut in as_completed(futures):
                s = futures[fut]
                part, fails = fut.result()
                L[s : s + len(part)] = part
                failures += fails
                bar.update(len(part))
        return L, failures


class PandasLFApplier(LFApplier):
    """Apply LFs to the rows of a pandas DataFrame.

    Parameters
    ----------
    lfs, n_jobs, cache_dir
        As :class:`LFApplier`.
    rows : {"series", "records"}
        How row-wise LFs see a row: a pandas ``Series`` (as Snorkel; slow to build)
        or a dict that also allows attribute access (``x.text``, ``x["text"]``;
        several times faster).
    """

    def __init__(
        self,
        lfs: Sequence[Any],
        n_jobs: int = 1,
        cache_dir: str | os.PathLike[str] | None = None,
        rows: str = "series",
    ) -> None:
        super().__init__(lfs, n_jobs, cache_dir)
        if rows not in ("series", "records"):
            raise ValueError(f"rows must be 'series' or 'records', got {rows!r}")
        self._mode = rows

    def _slice(self, data: Any, start: int, stop: int) -> Any:
        return data.iloc[start:stop]

    def apply(
        self,
        df: Any,
        progress: bool = True,
        fault_tolerant: bool = False,
        progress_bar: bool | None = None,
        return_meta: bool = False,
    ) -> Any:
        if not hasattr(df, "iloc") or not hasattr(df, "columns"):
            raise ValueError(f"PandasLFApplier needs a pandas DataFrame, got {type(df).__name__}")
        return super().apply(df, progress, fault_tolerant, progress_bar, return_meta)


def _this_process() -> tuple[str, int]:
    """The host's name and the process id: a process id alone repeats across machines (a container's
    first process is often 1 on every worker)."""
    import socket

    return socket.gethostname(), os.getpid()


def _apply_partition(
    pdf: Any,
    lfs: list[Any],
    mode: str,
    fault_tolerant: bool,
    partition: int,
    caller: tuple[str, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Votes of ``lfs`` on one partition of a dask DataFrame, and each LF's count of calls that
    raised.  ``caller``: the applier's host and process id (:func:`_this_process`); run in another
    process (dask's ``"processes"`` scheduler, a ``dask.distributed`` worker), an LF's exception that does
    not pickle is raised as an :class:`LFWorkerError` naming the LF, its type and message, where
    dask would report only its own pickling error (as the ``n_jobs`` pool's workers do)."""
    try:
        return _apply_partition_votes(pdf, lfs, mode, fault_tolerant, partition)
    except Exception as exc:
        if caller is None or caller == _this_process():
            raise  # threads or the synchronous scheduler: nothing to pickle, the exception as it is
        import cloudpickle  # dask's serialiser (a dependency of dask)

        failure = _does_not_travel(exc, cloudpickle.dumps, cloudpickle.loads)
        if failure is None:
            raise
    raise failure  # (outside the handler: see _does_not_travel)


def _apply_partition_votes(
    pdf: Any, lfs: list[Any], mode: str, fault_tolerant: bool, partition: int
) -> tuple[np.ndarray, np.ndarray]:
    out = np.full((len(pdf), len(lfs)), ABSTAIN, dtype=np.int16)
    faults = np.zeros(len(lfs), dtype=np.int64)
    rowwise = [j for j, lf in enumerate(lfs) if not getattr(lf, "vectorized", False)]
    for j, lf in enumerate(lfs):
        if j not in rowwise:
            try:
                out[:, j] = lf.apply_frame(pdf)
            except Exception as exc:  # its rows are the partition's
                _add_note(
                    exc, f"in partition {partition} of the dask DataFrame (rows counted from its start)"
                )
                raise
    if rowwise:
        part, failures = _apply_rows(
            _iter_rows(pdf, mode), len(pdf), [lfs[j] for j in rowwise], fault_tolerant, partition=partition
        )
        out[:, rowwise], faults[rowwise] = part, failures
        _log_faults(failures)
    return out, faults


class DaskLFApplier(PandasLFApplier):
    """Apply LFs to each partition of a ``dask.dataframe.DataFrame`` (needs dask).

    Partitions run on whatever scheduler is active (threads, processes, or a
    ``dask.distributed`` cluster); the result is one numpy matrix in partition
    order.  The progress bar counts finished partitions (local schedulers).
    """

    def __init__(
        self, lfs: Sequence[Any], cache_dir: str | os.PathLike[str] | None = None, rows: str = "series"
    ) -> None:
        super().__init__(lfs, 1, cache_dir, rows)

    def apply(
        self,
        ddf: Any,
        progress: bool = True,
        fault_tolerant: bool = False,
        progress_bar: bool | None = None,
        scheduler: Any = None,
        return_meta: bool = False,
    ) -> Any:
        """Vote matrix, shape (n, m), int16, computed partition by partition.

        ``scheduler`` is passed to ``dask.compute`` (default: the active one); the other
        arguments as :meth:`LFApplier.apply`.  A scheduler given second, in Snorkel's order
        (``apply(ddf, "processes")``: a name, a ``Client`` or a get function, not a bool), is
        read as the scheduler.
        """
        try:
            import dask
            from dask.callbacks import Callback
        except ImportError as exc:
            raise ImportError("DaskLFApplier needs dask: pip install 'tripletws[dask]'") from exc

        flag = progress is None or isinstance(progress, (bool, np.bool_, int, np.integer))
        if scheduler is None and not flag:
            # Snorkel's DaskLFApplier.apply(df, scheduler="processes", fault_tolerant=False)
            scheduler, progress = progress, True
        if progress_bar is not None:
            progress = progress_bar
        if not hasattr(ddf, "to_delayed") or not hasattr(ddf, "npartitions"):
            raise ValueError(f"DaskLFApplier needs a dask DataFrame, got {type(ddf).__name__}")
        m = len(self._lfs)
        keys = [lf.fingerprint() for lf in self._lfs] if self.cache is not None else [""] * m
        columns: dict[int, np.ndarray] = {}
        dkey = ""
        if self.cache is not None:
            dkey, n = dask_data_key(ddf, self._mode, scheduler)
            for j in range(m):
                col = None if keys[j] is None else self.cache.load(dkey, keys[j], n)
                if col is not None:
                    columns[j] = col
        todo = [j for j in range(m) if j not in columns]
        faults = np.zeros(m, dtype=np.int64)
        if todo:
            lfs = [self._lfs[j] for j in todo]
            caller = _this_process()  # a partition run in another process makes its LF errors picklable
            parts = [
                dask.delayed(_apply_partition, pure=True)(p, lfs, self._mode, fault_tolerant, i, caller)
                for i, p in enumerate(ddf.to_delayed())
            ]
            names = {p.key for p in parts}
            with _progress(len(parts), progress, f"applying {len(lfs)} LFs", unit="partition") as bar:

                class _Bar(Callback):
                    def _posttask(self, key, result, dsk, state, worker_id):
                        if key in names:
                            bar.update(1)

                with _Bar():
                    blocks = dask.compute(*parts, scheduler=scheduler)
                bar.update(bar.total - bar.n)
            computed = (
                np.concatenate([b[0] for b in blocks], axis=0)
                if blocks
                else np.zeros((0, len(todo)), np.int16)
            )
            for _, part_faults in blocks:
                faults[todo] += part_faults
            for pos, j in enumerate(todo):
                columns[j] = computed[:, pos]
                if self.cache is not None and not faults[j] and keys[j] is not None:
                    self.cache.store(dkey, keys[j], columns[j])
        self.last_applied_ = [self._lfs[j].name for j in todo]
        n_rows = len(next(iter(columns.values())))
        L = np.empty((n_rows, m), dtype=np.int16)
        for j in range(m):
            L[:, j] = columns[j]
        return (L, _metadata(self._lfs, faults)) if return_meta else L


@dataclass(frozen=True)
class ApplierMetadata:
    """What an applier's ``apply(..., return_meta=True)`` reports (Snorkel's record).

    Attributes
    ----------
    faults : dict of str to int
        Each LF that raised under ``fault_tolerant=True``: how many of its calls did (its vote on
        those rows is an abstain); LFs that never raised are not listed.
    """

    faults: dict[str, int] = field(default_factory=dict)


def _metadata(lfs: Sequence[Any], faults: np.ndarray) -> ApplierMetadata:
    return ApplierMetadata({lf.name: int(c) for lf, c in zip(lfs, faults.tolist(), strict=True) if c})


def _log_faults(failures: np.ndarray) -> None:
    total = int(failures.sum())
    if total:
        logger.warning("%d labeling-function calls raised and were counted as abstains", total)


def filter_unlabeled_dataframe(X: Any, y: Any, L: Any) -> tuple[Any, Any]:
    """Drop the rows of ``X`` and ``y`` on which every LF abstained.

    Parameters
    ----------
    X : DataFrame, array or list of data points, n rows
    y : array-like of shape (n,)
        Probabilistic or hard labels of the rows (e.g. ``predict_proba``'s rows as a list).
    L : label matrix, shape (n, m) (dense, sparse or a DataFrame)

    Returns
    -------
    (X_filtered, y_filtered)
        ``X``'s rows with a vote (a DataFrame, an array, or a list for any other ``X``) and ``y``'s as
        an array.
    """
    lm = check_label_matrix(L, name="L", allow_empty=True)  # dense, sparse or a DataFrame; checked
    n = lm.n
    mask = np.zeros(n, dtype=bool)
    for start, block in lm.chunks():
        votes = from_sparse(block) if lm.is_sparse else np.asarray(block)
        mask[start : start + len(votes)] = (votes != ABSTAIN).any(axis=1)
    if len(X) != n or len(y) != n:
        raise ValueError(f"X has {len(X)} rows and y {len(y)}; L has {n}: one row of each per data point")
    if hasattr(X, "iloc"):
        X_f = X.iloc[mask]
    elif isinstance(X, np.ndarray):
        X_f = X[mask]
    else:  # a list of data points (token lists of any length, dicts, ...): kept as a list
        X_f = [x for x, keep in zip(X, mask.tolist(), strict=True) if keep]
    return X_f, np.asarray(y)[mask]
