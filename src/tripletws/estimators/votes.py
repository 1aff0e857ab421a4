"""The votes of a set of distinct rows as (row, LF, class) lists, computed once per summary.

Every step of the default's solve (the fold deal, the designs, the starts, the one-class and copy
tests) reads the votes of the same :class:`~tripletws.rows.RowSummary`; :func:`summary_votes`
lists them once and hands the same read-only arrays to each; :func:`summary_memo` keeps other
values computed once per summary.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from ..kernels import cells
from ..rows import RowSummary


def row_votes(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The votes of ``rows`` (R, m) in row order: row, LF and class of each, int64 arrays (nnz,)."""
    r, i = cells(rows >= 0)
    return r, i, rows[r, i].astype(np.int64)


#: What is kept per summary alive, by ``id`` (each entry leaves with its summary): its votes
#: (:func:`summary_votes`) and what other steps keep with them (:func:`summary_memo`).
_SUMMARY_MEMO: dict[int, dict[Any, Any]] = {}


def summary_memo(unique: RowSummary) -> dict[Any, Any]:
    """A dict kept as long as ``unique`` lives (one per summary), for values computed from it once.

    A :class:`~tripletws.rows.RowSummary` is immutable (a frozen dataclass whose arrays the library
    never writes), so what is computed from it holds for as long as it lives.
    """
    key = id(unique)
    memo = _SUMMARY_MEMO.get(key)
    if memo is None:
        memo = _SUMMARY_MEMO[key] = {}
        weakref.finalize(unique, _SUMMARY_MEMO.pop, key, None)
    return memo


def summary_votes(unique: RowSummary) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`row_votes` of ``unique.rows``, computed once per summary (a solve's checks share it).

    Kept in :func:`summary_memo`, read-only.

    Returns
    -------
    (r, i, a) : read-only int64 arrays, shape (nnz,)
        Row, LF and class of each vote, in row-major order (``r, i`` are
        :func:`tripletws.kernels.cells` of ``unique.rows >= 0``).
    """
    memo = summary_memo(unique)
    votes = memo.get("votes")
    if votes is None:
        votes = row_votes(unique.rows)
        for v in votes:
            v.flags.writeable = False
        memo["votes"] = votes
    return votes  # type: ignore[no-any-return]


def class_counts(r: np.ndarray, a: np.ndarray, n_rows: int, k: int) -> np.ndarray:
    """Votes per row and class from vote lists: int64 (n_rows, k), entry ``[r, c]`` the votes for ``c``.

    ``r`` and ``a`` are the rows and classes of :func:`row_votes` / :func:`summary_votes`.
    """
    return np.bincount(r * k + a, minlength=n_rows * k).reshape(n_rows, k)


def lfs_without_overlap(rows: RowSummary) -> np.ndarray:
    """LFs that never vote, or never vote on a counted row where another LF votes."""
    r, i, _ = summary_votes(rows)  # the vote lists, not passes over the (R, m) rows
    # counted rows with two votes or more, read at each vote (one gather), and the LFs voting on them
    shared = ((np.bincount(r, minlength=len(rows.rows)) >= 2) & (rows.counts > 0))[r]
    overlap = np.bincount(i[shared], minlength=rows.n_lfs) > 0
    return np.flatnonzero(~overlap)
