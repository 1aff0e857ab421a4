"""On-disk cache of LF outputs, keyed by the data and by each LF's code.

Layout: ``<directory>/<data key>/<LF fingerprint>.npy``, one int16 column per
LF.  Editing one LF changes only its fingerprint, so re-applying the LFs
computes that LF alone.  Files are written beside their target and moved into
place (``os.replace``) after an fsync; a file that does not read back as an
int16 vector of the right length is ignored and recomputed.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from .fingerprint import FORMAT

logger = logging.getLogger("tripletws")


def data_key(data: Any) -> str:
    """Hex SHA-256 of a DataFrame (values, index, column names and dtypes), a dask
    DataFrame (its deterministic token) or a sequence of data points (arrays by their bytes,
    anything else by its ``repr``)."""
    h = hashlib.sha256(FORMAT.encode())
    if type(data).__module__.startswith("dask"):
        from dask.base import tokenize

        h.update(b"dask|" + tokenize(data).encode())
    elif hasattr(data, "columns") and hasattr(data, "dtypes"):
        import pandas as pd

        h.update(repr([(str(c), str(t)) for c, t in data.dtypes.items()]).encode())
        h.update(pd.util.hash_pandas_object(data, index=True).to_numpy().tobytes())
    else:
        for point in data:
            if isinstance(point, np.ndarray):  # repr elides long arrays: hash the values
                h.update(f"ndarray|{point.dtype.str}|{point.shape}|".encode() + point.tobytes())
            else:
                h.update(repr(point).encode() + b"\x1e")
    return h.hexdigest()


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
        except (OSError, ValueError) as exc:
            logger.warning("LF cache: ignoring unreadable %s (%s)", path, exc)
            return None
        if col.dtype != np.int16 or col.shape != (n,):
            logger.warning(
                "LF cache: ignoring %s (dtype %s, shape %s; expected int16 (%d,))",
                path,
                col.dtype,
                col.shape,
                n,
            )
            return None
        self.hits += 1
        return col

    def store(self, dkey: str, lf_key: str, column: np.ndarray) -> None:
        """Write one column atomically (temp file, fsync, os.replace)."""
        from ..atomic import atomic_write

        path = self._path(dkey, lf_key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path, "wb") as fh:
            np.save(fh, np.ascontiguousarray(column, dtype=np.int16), allow_pickle=False)
        self.misses += 1
