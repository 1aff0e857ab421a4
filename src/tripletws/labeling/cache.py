"""On-disk cache of LF outputs, keyed by the data and by each LF's code.

Layout: ``<directory>/<data key>/<LF fingerprint>.npy``, one int16 vector per
LF: the SHA-256 of the votes (16 words), then the LF's column of votes.  Editing
one LF changes only its fingerprint, so re-applying the LFs computes that LF
alone.  Files are written beside their target and moved into place
(``os.replace``) after an fsync; a file that does not read back as an int16
vector of the right length whose votes are >= -1 and match their SHA-256 (a
damaged byte) is ignored and recomputed.  Nothing is unpickled
(``allow_pickle=False``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from .fingerprint import _ADDRESS, FORMAT

logger = logging.getLogger("tripletws")

#: Cell types whose ``str`` (pandas' hash of an object column) and ``repr`` show their whole value.
_SHOWN_BY_STR = frozenset({"str", "int", "float", "bool", "NoneType"})  # (by type name)
_SHOWN_BY_REPR = frozenset({str, int, float, bool, complex, bytes, type(None)})

#: int16 words holding a column's SHA-256 at the start of its file.
_DIGEST_WORDS = hashlib.sha256().digest_size // 2


def data_key(data: Any, mode: str = "") -> str:
    """Hex SHA-256 of a DataFrame (values, index, column names and dtypes; cells that pandas cannot
    hash, such as lists, dicts or arrays, by their values), a dask DataFrame (its partitions' keys,
    computed: :func:`dask_data_key`) or a sequence of data points (every value included:
    :func:`_point_bytes`).  ``mode`` (how an applier hands rows to the LFs: ``"series"``,
    ``"records"``, ...) is part of the key: an LF may read a row differently in each.

    Raises
    ------
    ValueError
        For a data point whose values cannot be read (its ``repr`` shows a memory address or elides
        values, and it is no array, container or pandas object): apply without ``cache_dir``.
    """
    if type(data).__module__.startswith("dask"):
        return dask_data_key(data, mode)[0]
    h = hashlib.sha256(FORMAT.encode() + f"|rows={mode}|".encode())  # how rows reach the LFs
    if hasattr(data, "columns") and hasattr(data, "dtypes"):
        import pandas as pd

        h.update(repr([(c, str(t)) for c, t in data.dtypes.items()]).encode())  # 1 and "1" differ
        h.update(pd.util.hash_pandas_object(data.index).to_numpy().tobytes())
        for position in range(data.shape[1]):
            values = data.iloc[:, position]
            if isinstance(values.dtype, pd.CategoricalDtype):  # the categories' order is read by codes
                h.update(repr((values.cat.categories.tolist(), values.cat.ordered)).encode())
            try:
                h.update(pd.util.hash_pandas_object(values, index=False).to_numpy().tobytes())
            except TypeError:  # unhashable cells (token lists, dicts, embeddings): their bytes
                h.update(_point_bytes(values.tolist()))
            else:
                if values.dtype == object:  # pandas hashes 5 and "5", None and NaN, True and "True" alike
                    kinds = values.map(lambda v: type(v).__qualname__, na_action=None)
                    h.update(pd.util.hash_pandas_object(kinds, index=False).to_numpy().tobytes())
                    # and other objects by their str(), which may not show them all (a parsed document
                    # with the same text and other entities): those cells by their bytes too
                    if not set(kinds.unique()) <= _SHOWN_BY_STR:
                        h.update(_point_bytes(values.tolist()))
                elif values.dtype.kind == "f":  # pandas hashes 0.0 and -0.0 alike; "-0.0" is not "0.0"
                    h.update(np.signbit(values.to_numpy()).tobytes())
    else:
        for point in data:
            h.update(_point_bytes(point))
    return h.hexdigest()


def _partition_key(partition: Any, mode: str) -> tuple[int, str]:
    return len(partition), data_key(partition, mode)


def dask_data_key(ddf: Any, mode: str = "", scheduler: Any = None) -> tuple[str, int]:
    """The key of a dask DataFrame and its number of rows, from :func:`data_key` of each partition.

    The partitions are computed (on ``scheduler``, passed to ``dask.compute``): dask's own token
    does not tell every pair of frames apart (it joins an object column's strings with ``"-"``, so
    ``["a-b", "c"]`` and ``["a", "b-c"]`` share one).
    """
    import dask

    parts = [dask.delayed(_partition_key, pure=True)(p, mode) for p in ddf.to_delayed()]
    sizes_keys = dask.compute(*parts, scheduler=scheduler)
    h = hashlib.sha256(FORMAT.encode() + f"|rows={mode}|dask|{len(sizes_keys)}|".encode())
    for size, key in sizes_keys:
        h.update(f"{size}:{key}|".encode())
    return h.hexdigest(), sum(size for size, _ in sizes_keys)


def _point_bytes(point: Any) -> bytes:
    """A data point's bytes for the key, every value included (``repr`` elides long arrays and
    pandas objects): arrays by their bytes, pandas objects by pandas' own hash, containers item by
    item, other values by a ``repr`` that shows no memory address."""
    if isinstance(point, np.ndarray) and point.dtype != object:
        return f"ndarray|{point.dtype.str}|{point.shape}|".encode() + np.ascontiguousarray(point).tobytes()
    if isinstance(point, (list, tuple)) or (isinstance(point, np.ndarray) and point.dtype == object):
        items = point.ravel().tolist() if isinstance(point, np.ndarray) else point
        inner = b"".join(_point_bytes(v) for v in items)
        return f"{type(point).__name__}|{len(items)}[".encode() + inner + b"]"
    if isinstance(point, dict):
        parts = [_point_bytes(key) + b":" + _point_bytes(value) for key, value in point.items()]
        return f"dict|{len(point)}{{".encode() + b"".join(parts) + b"}"
    if type(point).__module__.startswith("pandas") and hasattr(point, "index"):  # Series, DataFrame
        import pandas as pd

        head = f"pandas|{type(point).__name__}|{point.shape}|{getattr(point, 'dtypes', '')}|".encode()
        try:
            return head + pd.util.hash_pandas_object(point, index=True).to_numpy().tobytes()
        except TypeError:  # unhashable cells: each by its bytes
            return head + _point_bytes(point.to_numpy(dtype=object).tolist())
    if type(point) not in _SHOWN_BY_REPR:
        # another object (a parsed document, a record): its repr may not show all it holds, pickle's
        # bytes do (hashed, never read back); one that does not pickle is read by its repr below
        try:
            data = pickle.dumps(point, protocol=4)
        except Exception:
            pass
        else:
            return f"pickled|{type(point).__qualname__}|".encode() + hashlib.sha256(data).digest()
    text = repr(point)
    if _ADDRESS.search(text) or "..." in text:
        raise ValueError(
            f"the LF cache cannot key a data point of type {type(point).__name__} (its repr does not show "
            "its values); apply without cache_dir"
        )
    return f"{type(point).__name__}|".encode() + text.encode() + b"\x1e"


class LFCache:
    """LF output columns on disk.

    Parameters
    ----------
    directory : path
        Created when missing; safe to delete at any time.

    Attributes
    ----------
    hits, misses : int
        LF columns read from / written to the cache since creation.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.hits = 0
        self.misses = 0

    def _path(self, dkey: str, lf_key: str) -> Path:
        return self.directory / dkey[:40] / f"{lf_key[:40]}.npy"

    def load(self, dkey: str, lf_key: str, n: int) -> np.ndarray | None:
        """The cached column, or None when absent or unreadable (then recomputed)."""
        path = self._path(dkey, lf_key)
        if not path.is_file():
            return None
        try:
            col = np.load(path, allow_pickle=False)
        except Exception as exc:
            logger.warning("LF cache: ignoring unreadable %s (%s: %s)", path, type(exc).__name__, exc)
            return None
        if not isinstance(col, np.ndarray):  # an .npz archive saved at the path
            logger.warning("LF cache: ignoring %s (not one array)", path)
            return None
        size = n + _DIGEST_WORDS
        if col.dtype != np.int16 or col.shape != (size,) or (n and int(col[_DIGEST_WORDS:].min()) < -1):
            logger.warning(
                "LF cache: ignoring %s (dtype %s, shape %s; expected int16 (%d,) of votes >= -1)",
                path,
                col.dtype,
                col.shape,
                size,
            )
            return None
        digest, votes = col[:_DIGEST_WORDS], col[_DIGEST_WORDS:]
        if hashlib.sha256(votes.tobytes()).digest() != digest.tobytes():
            logger.warning("LF cache: ignoring %s (its votes do not match their SHA-256)", path)
            return None
        self.hits += 1
        return votes

    def store(self, dkey: str, lf_key: str, column: np.ndarray) -> None:
        """Write one column atomically (temp file, fsync, os.replace), after its SHA-256."""
        from ..atomic import atomic_write

        votes = np.ascontiguousarray(column, dtype=np.int16)
        digest = np.frombuffer(hashlib.sha256(votes.tobytes()).digest(), dtype=np.int16)
        path = self._path(dkey, lf_key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path, "wb") as fh:
            np.save(fh, np.concatenate([digest, votes]), allow_pickle=False)
        self.misses += 1
