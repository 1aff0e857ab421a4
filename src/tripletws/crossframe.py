"""Sequences of frames: sequence ids, windows, and mergeable cross-frame statistics.

Rows of a label matrix can be frames of sequences (videos, sessions, documents
split into sentences).  Rows of one sequence are contiguous and in frame order;
a ``sequence_ids`` array (n,) names the sequence of each row.  Two rows are
*consecutive frames* when they are neighbours in L and carry the same id.

:class:`CrossFrameStats` sums, over consecutive frames (t, t + 1), how often LF i
at t and LF j at t + 1 both vote and agree.  Like :class:`~tripletws.stats.LabelStats`
it is a sum over frame pairs, so batches merge with ``+``.  Under the symmetric
model, with frames' LF noise independent given the labels,

    M^x_ij = (k A^x_ij - 1) / (k - 1) = b_i b_j tau,   tau = (k P(Y_t = Y_{t+1}) - 1) / (k - 1),

which identifies the label persistence ``tau`` (``E[Y_t Y_{t+1}]`` in the +-1 coding
for k = 2) without gold labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .kernels import is_sparse, small_int_dtype
from .matrix import LabelMatrix
from .stats import SumsOverRows, dataclass_to_dict


@dataclass
class CrossFrameStats(SumsOverRows):
    """Vote statistics of consecutive frame pairs.

    Attributes
    ----------
    cardinality : int
    n_pairs : float
        Consecutive frame pairs seen (fractional under forgetting).
    covote : ndarray, shape (m, m)
        ``covote[i, j]`` = pairs where LF i votes at frame t and LF j at t + 1.
    agree : ndarray, shape (m, m)
        ``agree[i, j]`` = those pairs where the two votes are the same class.
    """

    cardinality: int
    n_pairs: float
    covote: np.ndarray
    agree: np.ndarray

    _what = "cross-frame statistics"

    @property
    def n_lfs(self) -> int:
        return int(self.covote.shape[0])

    @classmethod
    def zeros(cls, m: int, cardinality: int) -> CrossFrameStats:
        return cls(cardinality, 0.0, np.zeros((m, m)), np.zeros((m, m)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation (lists of floats)."""
        return dataclass_to_dict(self)

    @classmethod
    def from_dict(cls, d: Any, name: str = "cross_stats") -> CrossFrameStats:
        """Inverse of :meth:`to_dict`, every field checked (ValueError naming it): types, shapes,
        ranges, and counts that one set of consecutive frames can give."""
        from .arrays import decode_array
        from .validate import check_count, check_int, check_mapping

        d = check_mapping(d, name, ("cardinality", "n_pairs", "covote", "agree"))
        k = check_int(d["cardinality"], f"{name}.cardinality", 2, 10**6)
        n_pairs = check_count(d["n_pairs"], f"{name}.n_pairs")
        covote = decode_array(d["covote"], f"{name}.covote", ndim=2)
        if covote.shape[0] != covote.shape[1]:
            raise ValueError(f"{name}.covote must be square (m, m), got shape {list(covote.shape)}")
        agree = decode_array(d["agree"], f"{name}.agree", shape=covote.shape)
        for field, arr in (("covote", covote), ("agree", agree)):
            if (arr < 0).any():
                raise ValueError(f"{name}.{field} has negative entries")
        slack = 1e-9 * max(1.0, n_pairs)
        if (agree > covote + slack).any():
            raise ValueError(f"{name} is inconsistent: agree exceeds covote (agreements are co-votes)")
        if (covote > n_pairs + slack).any():
            raise ValueError(f"{name} is inconsistent: covote exceeds n_pairs (co-votes are pairs)")
        return cls(k, n_pairs, covote, agree)


# ----------------------------------------------------------------------------
# Sequence ids
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Segments:
    """Where the sequences (or windows) of a block of rows start.

    Attributes
    ----------
    linked : ndarray of bool, shape (n - 1,)
        ``linked[t]``: rows t and t + 1 are consecutive frames of one sequence/window.
    first_id : Any
        Id of the first row's sequence (a Python scalar), ``None`` for one unnamed sequence.
    last_id : Any
        Id of the last row's sequence.
    last_position : int
        Frame index of the last row within its sequence.
    """

    linked: np.ndarray
    first_id: Any
    last_id: Any
    last_position: int

    @property
    def starts(self) -> np.ndarray:
        """``starts[t]``: row t opens a sequence (or window), shape (n,)."""
        return np.concatenate([[True], ~self.linked])


def plain_id(value: Any) -> Any:
    """numpy scalar -> Python scalar (ids are compared and saved as plain values)."""
    return value.item() if hasattr(value, "item") else value


def check_sequence_ids(sequence_ids: Any, n: int) -> np.ndarray:
    """Sequence ids as an array of shape (n,): integers, or strings, not a mix.

    Ids are compared between batches and saved in model files (JSON), so bytes are refused (decode
    them to ``str``) and so are other objects (``None``, tuples).  Floats are read as the integers
    they hold (a pandas column of integer ids becomes float where it once held a NaN; a CSV file's
    ids are read so too); a NaN or a fraction is refused.

    Raises
    ------
    ValueError
        Naming the shape, dtype or first offending id.
    """
    ids = np.asarray(sequence_ids)
    if ids.ndim != 1 or ids.shape[0] != n:
        raise ValueError(f"sequence_ids must have shape ({n},) (one id per row), got {ids.shape}")
    if ids.dtype.kind == "S":
        raise ValueError(
            f"sequence_ids are bytes (dtype {ids.dtype}): decode them to str first, e.g. ids.astype(str)"
        )
    if ids.dtype.kind == "f":
        whole = np.isfinite(ids) & (ids == np.round(ids)) & (np.abs(ids) < 2.0**53)
        if not whole.all():
            row = int(np.flatnonzero(~whole)[0])
            raise ValueError(f"sequence_ids must be integers or strings: row {row} holds {ids[row].item()!r}")
        ids = ids.astype(np.int64)
    if ids.dtype.kind not in "iuUO":
        raise ValueError(f"sequence_ids must be integers or strings, got dtype {ids.dtype}")
    if ids.dtype.kind == "O" and n:
        is_int = np.fromiter(
            (isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in ids), bool, n
        )
        is_str = np.fromiter((isinstance(v, (str, np.str_)) for v in ids), bool, n)
        bad = ~(is_int | is_str)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"sequence_ids must be integers or strings: row {row} holds {ids[row]!r} "
                f"({type(ids[row]).__name__})"
            )
        if is_int.any() and is_str.any():
            row = int(np.flatnonzero(is_str if is_int[0] else is_int)[0])
            raise ValueError(
                f"sequence_ids mix integers and strings (row 0 holds {ids[0]!r}, "
                f"row {row} holds {ids[row]!r}): use one kind"
            )
    return ids


# Over 60 lines: validation of sequence ids and windows with their error messages, in one sequence.
def segment_rows(
    n: int,
    sequence_ids: Any = None,
    *,
    window: int | None = None,
    continues: bool = False,
    offset: int = 0,
) -> Segments:
    """Validate sequence ids and find consecutive frames.

    Parameters
    ----------
    n : int
        Number of rows.
    sequence_ids : array-like of shape (n,), optional
        Sequence of each row (integers or strings).  Rows of one sequence must be
        contiguous and in frame order.  ``None``: all rows form one sequence.
    window : int, optional
        Cut every sequence into windows of ``window`` frames (FlyingSquid's ``v``);
        frames of different windows are not linked.
    continues : bool
        The first sequence continues from an earlier batch, whose last frame had
        index ``offset - 1`` in it (matters for the window cut only).
    offset : int
        Frame index of the first row within its sequence when ``continues``.

    Returns
    -------
    Segments
    """
    if window is not None and window < 1:
        raise ValueError(f"window must be a positive number of frames, got {window}")
    if sequence_ids is None:
        linked = np.ones(max(n - 1, 0), dtype=bool)
        first_id = last_id = None
        seg_starts = np.array([0])
    else:
        ids = check_sequence_ids(sequence_ids, n)
        linked = ids[1:] == ids[:-1]
        seg_starts = np.flatnonzero(np.concatenate([[True], ~linked]))
        heads = ids[seg_starts]
        uniq, counts = np.unique(heads, return_counts=True)
        if (counts > 1).any():
            bad = int(np.flatnonzero(counts > 1)[0])
            again = seg_starts[np.flatnonzero(heads == uniq[bad])[1]]
            raise ValueError(
                f"sequence id {plain_id(uniq[bad])!r} appears again at row {int(again)} after other "
                "sequences: rows of one sequence must be contiguous and in frame order"
            )
        first_id, last_id = plain_id(ids[0]), plain_id(ids[-1])
    start_of_row = np.repeat(seg_starts, np.diff(np.append(seg_starts, n)))
    position = np.arange(n) - start_of_row
    if continues:
        position[: (seg_starts[1] if len(seg_starts) > 1 else n)] += offset
    if window is not None and n > 1:
        linked = linked & (position[1:] // window == position[:-1] // window)
    last_position = int(position[-1]) if n else offset - 1
    return Segments(linked=linked, first_id=first_id, last_id=last_id, last_position=last_position)


# ----------------------------------------------------------------------------
# Statistics
# ----------------------------------------------------------------------------


def _dense_block(block: Any, k: int) -> np.ndarray:
    """A chunk as a dense array of votes (-1 = abstain) of the narrowest integer type holding -1..k-1."""
    dtype = small_int_dtype(k)
    if is_sparse(block):  # sparse chunks hold the votes shifted by one (0 = abstain)
        dense = block.toarray().astype(dtype, copy=False)
        dense -= 1
        return dense
    return np.asarray(block)


def _pair_stats(prev: np.ndarray, nxt: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """covote and agree of row pairs (prev[r], nxt[r]), each (m, m)."""
    if k == 2:
        Va = (prev >= 0).astype(np.float32)
        Vb = (nxt >= 0).astype(np.float32)
        Sa = np.where(prev >= 0, 2.0 * prev - 1.0, 0.0).astype(np.float32)
        Sb = np.where(nxt >= 0, 2.0 * nxt - 1.0, 0.0).astype(np.float32)
        covote = (Va.T @ Vb).astype(np.float64)
        return covote, (covote + (Sa.T @ Sb).astype(np.float64)) / 2.0
    m = prev.shape[1]
    agree = np.zeros((m, m))
    for c in range(k):
        agree += ((prev == c).astype(np.float32).T @ (nxt == c).astype(np.float32)).astype(np.float64)
    covote = ((prev >= 0).astype(np.float32).T @ (nxt >= 0).astype(np.float32)).astype(np.float64)
    return covote, agree


def cross_frame_stats(
    lm: LabelMatrix,
    linked: np.ndarray,
    *,
    previous_row: np.ndarray | None = None,
    chunk_size: int | None = None,
) -> CrossFrameStats:
    """Collect :class:`CrossFrameStats` of consecutive frames in one chunked pass.

    Parameters
    ----------
    lm : LabelMatrix, shape (n, m)
    linked : ndarray of bool, shape (n - 1,)
        Which neighbouring rows are consecutive frames (:func:`segment_rows`).
    previous_row : ndarray of int, shape (m,), optional
        The last frame of the previous batch when row 0 continues its sequence.
    chunk_size : int, optional

    Returns
    -------
    CrossFrameStats
    """
    m, k = lm.m, lm.cardinality
    if linked.shape != (max(lm.n - 1, 0),):
        raise ValueError(f"linked must have shape ({lm.n - 1},), got {linked.shape}")
    total = CrossFrameStats.zeros(m, k)
    tail = None if previous_row is None else np.asarray(previous_row, dtype=small_int_dtype(k)).reshape(1, m)
    link = np.concatenate([[previous_row is not None], linked])  # link[t]: row t-1 -> row t
    for start, block in lm.chunks(chunk_size):
        dense = _dense_block(block, k)
        ext = dense if tail is None else np.vstack([tail, dense])
        mask = link[start : start + len(dense)]
        if tail is None:
            mask = mask[1:]
        prev, nxt = ext[:-1][mask], ext[1:][mask]
        if len(prev):
            cv, ag = _pair_stats(prev, nxt, k)
            total += CrossFrameStats(k, float(len(prev)), cv, ag)
        tail = dense[-1:]
    return total
