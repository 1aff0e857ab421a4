"""The votes of a set of distinct rows as (row, LF, class) lists, computed once per summary.

Every step of the default's solve (the fold deal, the designs, the starts, the one-class and copy
tests) reads the votes of the same :class:`~tripletws.rows.RowSummary`; :func:`summary_votes`
lists them once and hands the same read-only arrays to each.
"""

from __future__ import annotations

import weakref

import numpy as np

from ..kernels import cells
from ..rows import RowSummary


def row_votes(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The votes of ``rows`` (R, m) in row order: row, LF and class of each, int64 arrays (nnz,)."""
    r, i = cells(rows >= 0)
    return r, i, rows[r, i].astype(np.int64)


#: :func:`summary_votes` of the summaries alive, by ``id`` (each entry leaves with its summary).
_SUMMARY_VOTES: dict[int, tuple[np.ndarray, ...]] = {}


def summary_votes(unique: RowSummary) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`row_votes` of ``unique.rows``, computed once per summary (a solve's checks share it).

    A :class:`~tripletws.rows.RowSummary` is immutable (a frozen dataclass whose arrays the library
    never writes), so its votes are kept, read-only, for as long as it lives.

    Returns
    -------
    (r, i, a) : read-only int64 arrays, shape (nnz,)
        Row, LF and class of each vote, in row-major order (``r, i`` are
        :func:`tripletws.kernels.cells` of ``unique.rows >= 0``).
    """
    key = id(unique)
    votes = _SUMMARY_VOTES.get(key)
    if votes is None:
        votes = row_votes(unique.rows)
        for v in votes:
            v.flags.writeable = False
        _SUMMARY_VOTES[key] = votes
        weakref.finalize(unique, _SUMMARY_VOTES.pop, key, None)
    return votes  # type: ignore[return-value]
