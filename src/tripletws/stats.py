"""Sufficient statistics of a label matrix, collected in one chunked pass.

Every statistic is a sum over rows, so statistics of disjoint row blocks add up
to the statistics of their union (``stats_a + stats_b``).  Chunks, online
batches and distributed partitions all reduce the same way.

Dense chunks are encoded as 0/+-1 float32 matrices (see :mod:`.kernels`) and
reduced with BLAS Gram products: two for k = 2 (signed votes and vote
indicator), k + 1 for k > 2.  The sums are exact integers (a chunk has fewer
than 2**24 rows).  Sparse chunks go through sparse products.  Accumulators are
float64 so that exponential forgetting (:meth:`LabelStats.scaled`) can keep
fractional counts.

Optional statistics (collected only when asked for):

* ``joint`` -- the full (m, k, m, k) co-occurrence table of votes;
* ``triple`` -- the third moment of each row's pooled vote counts
  ``z = (votes for class 0, ..., votes for class k-1, 1)``, summed over all LFs:
  ``triple[a, b, c] = sum over rows of z[a] z[b] z[c]``, a symmetric (k+1, k+1, k+1)
  table (collected for k <= ``MAX_TRIPLE_CLASSES``).  The trailing constant makes
  the lower-order moments slices of the same table.  Pooling over all LFs makes the
  statistic invariant to the order of the LF columns, and it stays a plain sum over
  rows (mergeable); the class-conditional estimator removes the terms in which an
  LF meets itself (:func:`tripletws.estimators.moments.distinct_triple`).
"""

from __future__ import annotations

import functools
import operator
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from .kernels import (
    MAX_EXACT_ROWS,
    SKINNY_GEMM_WORK,
    Workspace,
    cells,
    class_indicator,
    conversion_rows,
    is_sparse,
    narrow,
    one_hot,
    signed_votes,
    sparse_class_counts,
    sparse_one_hot,
    vote_indicator,
    workspace,
)
from .matrix import LabelMatrix, check_label_matrix
from .parallel import map_chunks, single_threaded_blas

#: Above this many classes the third moment (k+1)^3 is not collected: the class-conditional
#: estimator falls back to the symmetric model there (O(k^3) memory, O(k^5) and more time).
MAX_TRIPLE_CLASSES = 64
#: Marks the third-moment layout in saved statistics (older files split the LFs into groups).
TRIPLE_LAYOUT = "pooled"


def dataclass_to_dict(obj: Any) -> dict[str, Any]:
    """Fields of a statistics dataclass as JSON-ready values (arrays become nested lists)."""
    return {
        f.name: (v.tolist() if isinstance(v, np.ndarray) else v)
        for f in fields(obj)
        for v in (getattr(obj, f.name),)
    }


@functools.cache
def _summed_fields(cls: type) -> tuple[str, ...]:
    """The names of a statistics dataclass's fields but the first (``cardinality``, kept as it is)."""
    return tuple(f.name for f in fields(cls) if f.name != "cardinality")


class SumsOverRows:
    """Arithmetic of a dataclass of sums over rows: ``+``, ``+=``, ``scaled`` and ``copy``.

    The first field, ``cardinality``, is kept; every other field is a count (a float
    or an array) or ``None`` (a statistic not collected: it stays ``None`` when
    either side lacks it).  Subclasses provide ``n_lfs`` and may override
    ``_what`` (the name used in error messages).
    """

    _what = "statistics"

    def _check_compatible(self, other: Any) -> None:
        if not isinstance(other, type(self)):
            raise TypeError(f"cannot merge {type(self).__name__} with {type(other).__name__}")
        if (other.cardinality, other.n_lfs) != (self.cardinality, self.n_lfs):
            raise ValueError(
                f"cannot merge {self._what} of different shapes: "
                f"(m={self.n_lfs}, k={self.cardinality}) vs (m={other.n_lfs}, k={other.cardinality})"
            )

    def _combine(self, other: Any, op: Callable[[Any, Any], Any]) -> Any:
        self._check_compatible(other)
        values = {}
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            keep = f.name == "cardinality"
            values[f.name] = a if keep else (None if a is None or b is None else op(a, b))
        return type(self)(**values)

    def __add__(self, other: Any) -> Any:
        return self._combine(other, operator.add)

    def __iadd__(self, other: Any) -> Any:
        self._check_compatible(other)
        for name in _summed_fields(type(self)):
            a, b = getattr(self, name), getattr(other, name)
            if a is None:
                continue
            if b is None:
                setattr(self, name, None)
            elif type(a) is np.ndarray and type(b) is np.ndarray and a.dtype == b.dtype:
                a += b  # in place (the common case, without the casting checks below: a pass adds a
                # chunk's statistics per chunk)
            elif isinstance(a, np.ndarray) and np.can_cast(np.result_type(a, b), a.dtype, "same_kind"):
                a += b  # in place
            elif isinstance(a, np.ndarray):
                # (a block's counts that came out as integers, e.g. a block without a vote, take
                # float sums: a new array of the sum's dtype instead of a cast error)
                setattr(self, name, a + b)
            else:
                setattr(self, name, a + b)
        return self

    def scaled(self, factor: float) -> Any:
        """All counts multiplied by ``factor`` (exponential forgetting)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return type(self)(
            **{k: v if k == "cardinality" or v is None else v * factor for k, v in values.items()}
        )

    def copy(self) -> Any:
        return self.scaled(1.0)


@dataclass
class LabelStats(SumsOverRows):
    """Pairwise vote statistics.

    Attributes
    ----------
    cardinality : int
        Number of classes k.
    n_rows : float
        Rows seen (fractional under forgetting).
    class_counts : ndarray, shape (m, k)
        ``class_counts[i, c]`` = rows where LF i votes c.
    covote : ndarray, shape (m, m)
        ``covote[i, j]`` = rows where LFs i and j both vote (diagonal: coverage counts).
    agree : ndarray, shape (m, m)
        ``agree[i, j]`` = rows where i and j vote the same class.
    joint : ndarray, shape (m, k, m, k), optional
        ``joint[i, a, j, b]`` = rows where LF i votes a and LF j votes b.
    triple : ndarray, shape (k + 1, k + 1, k + 1), optional
        Third moment of the pooled vote counts ``(votes per class, 1)`` of each row
        (see the module docstring).
    """

    cardinality: int
    n_rows: float
    class_counts: np.ndarray
    covote: np.ndarray
    agree: np.ndarray
    joint: np.ndarray | None = field(default=None)
    triple: np.ndarray | None = field(default=None)

    @property
    def n_lfs(self) -> int:
        return int(self.class_counts.shape[0])

    @property
    def vote_counts(self) -> np.ndarray:
        """Rows where each LF votes, shape (m,)."""
        return np.diagonal(self.covote).copy()

    @property
    def coverage(self) -> np.ndarray:
        """Fraction of rows where each LF votes, shape (m,)."""
        return self.vote_counts / max(self.n_rows, 1e-300)

    @classmethod
    def zeros(cls, m: int, cardinality: int, joint: bool = False, triple: bool = False) -> LabelStats:
        k = cardinality
        return cls(
            cardinality=k,
            n_rows=0.0,
            class_counts=np.zeros((m, k)),
            covote=np.zeros((m, m)),
            agree=np.zeros((m, m)),
            joint=np.zeros((m, k, m, k)) if joint else None,
            triple=np.zeros((k + 1,) * 3) if triple and k <= MAX_TRIPLE_CLASSES else None,
        )

    def __sub__(self, other: LabelStats) -> LabelStats:
        """Remove the statistics of a row block that ``self`` includes (e.g. a window's oldest batch).

        Exact while the counts are whole numbers below 2**53 (no forgetting).
        Raises ValueError when the result would have a negative count, i.e.
        when ``other`` was not part of ``self``.
        """
        out = self._combine(other, operator.sub)
        for name in ("class_counts", "covote", "agree", "joint", "triple"):
            arr = getattr(out, name)
            if arr is not None and arr.size and arr.min() < 0:
                raise ValueError(
                    f"subtracting statistics gives a negative {name!r} count: "
                    "the subtracted rows were not part of these statistics"
                )
        if out.n_rows < 0:
            raise ValueError("subtracting statistics gives a negative row count")
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation (lists of floats)."""
        d = dataclass_to_dict(self)
        if self.triple is not None:
            d["triple_layout"] = TRIPLE_LAYOUT
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LabelStats:
        """Inverse of :meth:`to_dict`, with shape checks."""
        try:
            k = int(d["cardinality"])
            counts = np.asarray(d["class_counts"], dtype=np.float64)
            m = counts.shape[0]
            covote = np.asarray(d["covote"], dtype=np.float64)
            agree = np.asarray(d["agree"], dtype=np.float64)
            joint = d.get("joint")
            joint = None if joint is None else np.asarray(joint, dtype=np.float64)
            triple = d.get("triple")
            if triple is not None and d.get("triple_layout") != TRIPLE_LAYOUT:
                # written by a version whose third moment split the LFs into three groups
                # by column index: not this statistic, so it is left out (the
                # class-conditional model then falls back until new rows bring it back)
                warnings.warn(
                    "statistics record holds a third moment of an older layout; it is dropped "
                    "(refit on the rows to restore the class-conditional fit)",
                    UserWarning,
                    stacklevel=2,
                )
                triple = None
            triple = None if triple is None else np.asarray(triple, dtype=np.float64)
            stats = cls(k, float(d["n_rows"]), counts, covote, agree, joint, triple)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"invalid statistics record: {exc}") from exc
        expected = {
            "class_counts": (m, k),
            "covote": (m, m),
            "agree": (m, m),
        }
        if joint is not None:
            expected["joint"] = (m, k, m, k)
        if triple is not None:
            expected["triple"] = (k + 1, k + 1, k + 1)
        for name, shape in expected.items():
            arr = getattr(stats, name)
            if arr.shape != shape:
                raise ValueError(f"statistics field {name!r} has shape {arr.shape}, expected {shape}")
            if not np.all(np.isfinite(arr)) or (arr < 0).any():
                raise ValueError(f"statistics field {name!r} has negative or non-finite entries")
        return stats


def merge_stats(parts: Iterable[LabelStats]) -> LabelStats:
    """Sum statistics of disjoint row blocks."""
    parts = list(parts)
    if not parts:
        raise ValueError("merge_stats needs at least one LabelStats")
    total = parts[0].copy()
    for p in parts[1:]:
        total += p
    return total


# ----------------------------------------------------------------------------
# Chunk kernels.  Each returns a LabelStats for one block of rows.
# ----------------------------------------------------------------------------


def _binary_dense(block: np.ndarray, joint: bool, ws: Workspace | None = None) -> LabelStats:
    """k = 2: two float32 Gram products, of the signed votes S and the vote indicator V.

    ``covote = V'V``; ``agree = (V'V + S'S) / 2``; vote counts are the diagonal
    of ``V'V`` and the class-1 minus class-0 counts the column sums of S.  A chunk
    larger than the default is encoded in cache-sized steps; each Gram product
    covers the whole chunk.
    """
    ws = Workspace() if ws is None else ws
    nc, m = block.shape
    S = ws.get("gram_S", (nc, m), np.float32)
    V = ws.get("gram_V", (nc, m), np.float32)
    ss = np.zeros(m)
    step = conversion_rows(m)
    for s in range(0, nc, step):
        L = narrow(block[s : s + step], 2, ws)
        Ss = signed_votes(L, ws, out=S[s : s + step])
        vote_indicator(L, ws, out=V[s : s + step])
        ss += ws.ones(len(L)) @ Ss
    covote = (V.T @ V).astype(np.float64)
    GS = S.T @ S
    sv = np.diagonal(covote)
    counts = np.stack([(sv - ss) / 2, (sv + ss) / 2], axis=1)
    agree = (covote + GS) / 2
    J = None
    if joint:
        X = (S.T @ V).astype(np.float64)  # X[i, j] = sum S_i V_j
        # one-hot x1 = (V + S) / 2, x0 = (V - S) / 2
        J = np.empty((m, 2, m, 2))
        GSd = GS.astype(np.float64)
        for a, sa in ((0, -1.0), (1, 1.0)):
            for b, sb in ((0, -1.0), (1, 1.0)):
                J[:, a, :, b] = (covote + sb * X.T + sa * X + sa * sb * GSd) / 4
    return LabelStats(2, float(nc), counts, covote, agree, J)


def _multiclass_dense(block: np.ndarray, k: int, joint: bool, ws: Workspace | None = None) -> LabelStats:
    """k > 2: one Gram product per class indicator plus one of the vote indicator."""
    ws = Workspace() if ws is None else ws
    nc, m = block.shape
    if joint:
        Xf = one_hot(narrow(block, k, ws), k, ws).reshape(nc, m * k)
        G = (Xf.T @ Xf).astype(np.float64).reshape(m, k, m, k)
        return _from_joint(G, k, float(nc))
    X = ws.get("gram_X", (nc, m), np.float32)
    agree = np.zeros((m, m))
    counts = np.zeros((m, k))
    step = conversion_rows(m)
    for c in range(-1, k):  # c = -1: the vote indicator
        for s in range(0, nc, step):
            L = narrow(block[s : s + step], k, ws)
            if c < 0:
                vote_indicator(L, ws, out=X[s : s + step])
            else:
                counts[:, c] += ws.ones(len(L)) @ class_indicator(L, c, ws, out=X[s : s + step])
        if c < 0:
            covote = (X.T @ X).astype(np.float64)
        else:
            agree += X.T @ X
    return LabelStats(k, float(nc), counts, covote, agree, None)


def _from_joint(J: np.ndarray, k: int, n_rows: float, keep_joint: bool = True) -> LabelStats:
    m = J.shape[0]
    idx = np.arange(m)
    counts = J[idx, :, idx, :].diagonal(axis1=1, axis2=2).copy()  # (m, k)
    covote = J.sum(axis=(1, 3))
    agree = np.einsum("icjc->ij", J)
    return LabelStats(k, n_rows, counts, covote, agree, J if keep_joint else None)


def _sparse_block(block: Any, k: int, joint: bool) -> LabelStats:
    """CSR block with class c stored as c + 1.

    With ``joint``: the dense Gram of the (n, m*k) one-hot matrix.  Without: the counts,
    co-votes and agreements from the block's vote list (:func:`_vote_list_stats`), never an
    (m k, m k) table (800 MB at 2 000 LFs and 5 classes, where the (m, m) tables are 32 MB each).
    """
    nc, m = block.shape
    if not joint:
        per_row = np.diff(block.indptr).astype(np.int64)
        r = np.repeat(np.arange(nc, dtype=np.int64), per_row)
        i = np.asarray(block.indices, dtype=np.int64)
        v = np.asarray(block.data, dtype=np.int64) - 1
        return _vote_list_stats(r, i, v, nc, m, k)
    onehot = sparse_one_hot(block, k)
    G = (onehot.T @ onehot).toarray().reshape(m, k, m, k)
    return _from_joint(G, k, float(nc), keep_joint=joint)


def _dense_joint_via_sparse(block: np.ndarray, k: int) -> LabelStats:
    """Joint table of a dense block through a sparse one-hot Gram.

    The dense (nc, m k) one-hot Gram costs O(nc (mk)^2); with at most m votes per
    row the sparse one costs O(nc m^2), which wins once k is more than a few.
    """
    import scipy.sparse as sp

    nc, m = block.shape
    rows, cols = cells(block >= 0)
    onehot = sp.csr_array(
        (np.ones(len(rows)), (rows, cols * k + block[rows, cols].astype(np.int64))),
        shape=(nc, m * k),
    )
    G = (onehot.T @ onehot).toarray().reshape(m, k, m, k)
    return _from_joint(G, k, float(nc))


#: Dense blocks with more classes than this compute the joint table through sparse products.
SPARSE_JOINT_MIN_K = 6
#: Below this share of votes among the entries of a dense block (and from SPARSE_VOTES_MIN_LFS
#: LFs), the pairwise counts come from a sparse one-hot Gram: O(sum of votes per row squared)
#: instead of the dense Grams' O((k + 1) n m^2).  Both are exact integer counts.
SPARSE_VOTES_MAX_DENSITY = 0.1
SPARSE_VOTES_MIN_LFS = 32
#: The sparse path lists the pairs of votes on each row (sum over rows of votes squared) up to this
#: many (~60 bytes of temporaries each); beyond, one sparse product of the one-hot votes counts them.
SPARSE_VOTES_MAX_PAIRS = 1_000_000


def _sparse_votes_block(block: np.ndarray, k: int) -> LabelStats:
    """Counts, co-votes and agreements of a dense block with few votes: its pairs of votes per row, or a
    sparse one-hot Gram (exact integer counts either way).

    Parameters
    ----------
    block : ndarray of int, shape (nc, m)
    k : int

    Returns
    -------
    LabelStats
        Without the joint table.
    """
    nc, m = block.shape
    r, i = cells(block >= 0)
    return _vote_list_stats(r, i, block[r, i].astype(np.int64), nc, m, k)


def _vote_list_stats(r: np.ndarray, i: np.ndarray, v: np.ndarray, nc: int, m: int, k: int) -> LabelStats:
    """Counts, co-votes and agreements of a block's votes listed in row order.

    Parameters
    ----------
    r, i, v : ndarray of int64, shape (nnz,)
        Row (non-decreasing), LF and class (0..k-1) of each vote.
    nc, m, k : int
        Rows of the block, LFs, classes.

    Returns
    -------
    LabelStats
        Without the joint table; whole-number counts in float64 (exact).
    """
    i = np.asarray(i, dtype=np.int64)
    col = i * k + v
    counts = np.bincount(col, minlength=m * k).astype(np.float64).reshape(m, k)
    # every ordered pair of votes on the same row (a vote with itself included), listed when few
    first = np.searchsorted(r, r)  # first vote of each vote's row
    per = np.searchsorted(r, r, side="right") - first  # votes on each vote's row
    n_pairs = int(per.sum())
    if n_pairs <= SPARSE_VOTES_MAX_PAIRS:
        left = np.repeat(np.arange(len(r)), per)
        right = np.repeat(first, per) + (np.arange(n_pairs) - np.repeat(np.cumsum(per) - per, per))
        pair = i[left] * m + i[right]
        same = col[left] % k == col[right] % k
        # weights of one give float64 counts directly (exact: whole numbers below 2**53), without an
        # int64 (m, m) table and its conversion (~2 ms at m = 745, where the counting takes 0.1 ms)
        # (a block without votes has no pairs: bincount of no entries is int64 whatever the weights,
        # which SumsOverRows.__iadd__ handles when later blocks are added)
        ones = np.ones(n_pairs)
        covote = np.bincount(pair, weights=ones, minlength=m * m).reshape(m, m)
        agree = np.bincount(pair[same], weights=ones[: int(same.sum())], minlength=m * m).reshape(m, m)
        return LabelStats(k, float(nc), counts, covote, agree, None)
    import scipy.sparse as sp

    onehot = sp.csr_array((np.ones(len(r)), (r, col)), shape=(nc, m * k))
    G = sp.coo_array(onehot.T @ onehot)
    a, b = (np.asarray(x, dtype=np.int64) for x in G.coords)
    ia, ib = a // k, b // k
    pair = ia * m + ib
    covote = np.bincount(pair, weights=G.data, minlength=m * m).reshape(m, m)
    same = (a % k) == (b % k)
    agree = np.bincount(pair[same], weights=G.data[same], minlength=m * m).reshape(m, m)
    return LabelStats(k, float(nc), counts, covote, agree, None)


#: :func:`stats_from_rows` declines distinct rows with more vote pairs (sum over rows of votes
#: squared) than this: its pair list would cost more memory than a pass over the rows.
ROWS_STATS_MAX_PAIRS = 1 << 21
#: Below this many multiply-adds of the dense Grams ((k + 1) R m^2) per pair of votes, the dense
#: products are cheaper than the pair list (measured on the distinct rows of the 15 shared sets:
#: a pair costs about 30 ns of numpy calls, a multiply-add of a small float64 Gram 0.03-0.09 ns).
ROWS_STATS_DENSE_RATIO = 600


def stats_from_rows(rows: np.ndarray, counts: np.ndarray, k: int, n_rows: float) -> LabelStats | None:
    """Counts, co-votes and agreements of counted distinct rows (no joint table, no third moment).

    Every statistic is a count-weighted sum over the distinct rows of whole numbers, so when
    the rows are all of a matrix's distinct rows with integer counts the result equals a pass
    over the matrix exactly, at a cost in the distinct rows' votes (small data has few
    distinct rows: 143 for the 4 571 rows of sms).

    Parameters
    ----------
    rows : ndarray of int, shape (R, m)
        Votes -1..k-1 (-1 = abstain).
    counts : ndarray, shape (R,)
    k : int
    n_rows : float
        The rows they stand for (``counts.sum()`` for a complete set of rows).

    Returns
    -------
    LabelStats or None
        None when the rows hold more than :data:`ROWS_STATS_MAX_PAIRS` pairs of votes.
    """
    R, m = rows.shape
    w = np.asarray(counts, dtype=np.float64)
    votes = rows >= 0
    lens = np.count_nonzero(votes, axis=1).astype(np.int64)
    pairs = int((lens**2).sum())
    if (k + 1) * R * m * m <= ROWS_STATS_DENSE_RATIO * pairs:
        # few LFs: k + 1 small Gram products (whole numbers in float64: exact in any order)
        V = votes.astype(np.float64)
        covote = (V * w[:, None]).T @ V
        class_counts = np.empty((m, k))
        agree = np.zeros((m, m))
        for c in range(k):
            A = (rows == c).astype(np.float64)
            Aw = A * w[:, None]
            class_counts[:, c] = Aw.sum(axis=0)
            agree += Aw.T @ A
        return LabelStats(k, float(n_rows), class_counts, covote, agree, None)
    if pairs > ROWS_STATS_MAX_PAIRS:
        return None
    r, i = np.nonzero(votes)  # entries in row order
    a = rows[r, i].astype(np.int64)
    i = i.astype(np.int64)
    w = w[r]
    class_counts = np.bincount(i * k + a, weights=w, minlength=m * k).reshape(m, k)
    # every ordered pair (e, f) of entries of the same row (e = f included: the diagonals)
    rep = lens[r]
    first = np.repeat(np.arange(len(r)), rep)
    row_start = np.concatenate(([0], np.cumsum(lens)[:-1]))[r]
    offset = np.arange(len(first)) - np.repeat(np.cumsum(rep) - rep, rep)
    second = np.repeat(row_start, rep) + offset
    pair = i[first] * m + i[second]
    pw = w[first]
    covote = np.bincount(pair, weights=pw, minlength=m * m).reshape(m, m)
    same = a[first] == a[second]
    agree = np.bincount(pair[same], weights=pw[same], minlength=m * m).reshape(m, m)
    return LabelStats(k, float(n_rows), class_counts, covote, agree, None)


def _dense_counts(block: np.ndarray, k: int) -> np.ndarray:
    """Votes for each class in each row, summed over all LFs, shape (nc, k) int64."""
    nc = block.shape[0]
    if k <= 16:
        counts = np.empty((nc, k), dtype=np.int64)
        for c in range(k):
            counts[:, c] = np.count_nonzero(block == c, axis=1)
        return counts
    rows, cols = cells(block >= 0)
    vals = block[rows, cols].astype(np.int64)
    return np.bincount(rows * k + vals, minlength=nc * k).reshape(nc, k)


def _binary_triple(shape: tuple[int, int], ws: Workspace) -> np.ndarray:
    """:func:`_triple_from_counts` for k = 2 from the chunk's signed votes S and vote
    indicator V (left in ``ws`` by :func:`_binary_dense`).

    Row sums of S (class-1 minus class-0 votes) and V (votes) give both vote counts;
    the (3, 3, 3) table is then one small product of the row-wise outer products of
    ``z = (class-0 votes, class-1 votes, 1)`` with z.  All values are small integers,
    so the sums are exact (equal to the generic path).
    """
    nc, m = shape
    S = ws.get("gram_S", (nc, m), np.float32)
    V = ws.get("gram_V", (nc, m), np.float32)
    ones = np.ones(m, dtype=np.float32)
    votes = (V @ ones).astype(np.float64)
    diff = (S @ ones).astype(np.float64)  # class-1 minus class-0 votes
    Z = ws.get("view_z", (3, nc), np.float64)
    Z[2] = 1.0
    np.add(votes, diff, out=Z[1])
    Z[1] *= 0.5  # class-1 votes
    np.subtract(votes, Z[1], out=Z[0])  # class-0 votes
    Z12 = ws.get("view_z12", (3, 3, nc), np.float64)
    np.multiply(Z[:, None, :], Z[None, :, :], out=Z12)
    Z12 = Z12.reshape(9, nc)
    T = np.zeros((9, 3))
    step = max(64, SKINNY_GEMM_WORK // 27)
    for s in range(0, nc, step):
        T += Z12[:, s : s + step] @ Z[:, s : s + step].T
    return T.reshape(3, 3, 3)


def _triple_from_counts(counts: np.ndarray) -> np.ndarray:
    """``sum_rows z (x) z (x) z`` with ``z = (counts, 1)``, shape (k+1, k+1, k+1).

    Small k: one product of the row-wise outer products z z^T with z.  Larger k: a
    loop over the k + 1 coordinates of the first factor that only visits the rows
    where that coordinate is nonzero, so the cost is O(nnz(z) (k+1)^2).  Values are
    integers held in float64, so the sums are exact (and equal across paths).
    """
    nc, k = counts.shape
    z = np.hstack([counts.astype(np.float64), np.ones((nc, 1))])
    if (k + 1) ** 2 <= 64:
        Z12 = (z[:, :, None] * z[:, None, :]).reshape(nc, (k + 1) ** 2)
        return (Z12.T @ z).reshape(k + 1, k + 1, k + 1)
    T = np.zeros((k + 1, k + 1, k + 1))
    for a in range(k + 1):
        rows = np.flatnonzero(z[:, a])
        if rows.size:
            T[a] = (z[rows, a, None] * z[rows]).T @ z[rows]
    return T


def _block_stats(block: Any, k: int, joint: bool, triple: bool, ws: Workspace) -> LabelStats:
    sparse = is_sparse(block)
    if sparse:
        stats = _sparse_block(block, k, joint)
    else:
        block = np.asarray(block)
        if block.shape[0] > MAX_EXACT_ROWS:
            # float32 sums are exact below 2**24 rows: split larger blocks.
            parts = range(0, block.shape[0], MAX_EXACT_ROWS)
            return merge_stats(
                _block_stats(block[s : s + MAX_EXACT_ROWS], k, joint, triple, ws) for s in parts
            )
        nc, m = block.shape
        few_votes = (
            not joint
            and not (triple and k == 2)  # the binary third moment reuses the dense path's work
            and m >= SPARSE_VOTES_MIN_LFS
            and np.count_nonzero(block >= 0) < SPARSE_VOTES_MAX_DENSITY * nc * m
        )
        if few_votes:
            stats = _sparse_votes_block(block, k)
        elif k == 2:
            stats = _binary_dense(block, joint, ws)
        elif joint and k >= SPARSE_JOINT_MIN_K:
            stats = _dense_joint_via_sparse(block, k)
        else:
            stats = _multiclass_dense(block, k, joint, ws)
    if triple and k <= MAX_TRIPLE_CLASSES:
        if sparse:
            stats.triple = _triple_from_counts(sparse_class_counts(block, k))
        elif k == 2:
            stats.triple = _binary_triple(block.shape, ws)  # from the chunk's S and V left in ws
        else:
            stats.triple = _triple_from_counts(_dense_counts(block, k))
    return stats


def block_stats(block: Any, cardinality: int, joint: bool = False, triple: bool = False) -> LabelStats:
    """Statistics of one block of rows (dense int array or CSR in the c + 1 encoding).

    The block is assumed valid (values -1..k-1); :func:`compute_stats` validates.
    """
    with workspace() as ws:
        return _block_stats(block, cardinality, joint, triple, ws)


def compute_stats(
    L: Any,
    cardinality: int | None = None,
    *,
    joint: bool = False,
    triple: bool = False,
    chunk_size: int | None = None,
    n_jobs: int | None = None,
) -> LabelStats:
    """Collect :class:`LabelStats` of ``L`` in one pass over row chunks.

    Parameters
    ----------
    L : label matrix, shape (n, m)
        Anything :func:`~tripletws.matrix.check_label_matrix` accepts.
    cardinality : int, optional
        Number of classes k (inferred from ``L`` when omitted).
    joint : bool
        Also collect the full (m, k, m, k) co-occurrence table.
    triple : bool
        Also collect the (k+1, k+1, k+1) third moment of the three LF-group views
        (needed by the class-conditional model to identify the class balance).
    chunk_size : int, optional
        Rows per chunk; memory use is O(chunk_size * m * k) per thread.
    n_jobs : int, optional
        Threads over the row chunks (scikit-learn's meaning; None = automatic,
        see :func:`~tripletws.parallel.resolve_n_jobs`).  Every statistic is a sum
        of whole numbers, so the result is the same for every ``n_jobs``.

    Returns
    -------
    LabelStats
    """
    lm: LabelMatrix = check_label_matrix(L, cardinality)
    return stats_pass(lm, joint=joint, triple=triple, chunk_size=chunk_size, n_jobs=n_jobs)[0]


def stats_pass(
    lm: LabelMatrix,
    *,
    joint: bool = False,
    triple: bool = False,
    chunk_size: int | None = None,
    n_jobs: int | None = None,
    rider: Callable[[], Any] | None = None,
) -> tuple[LabelStats, list[Any]]:
    """The one pass over the row chunks of ``lm``: statistics, and whatever else rides along.

    Parameters
    ----------
    lm : LabelMatrix
    joint, triple, chunk_size, n_jobs
        As in :func:`compute_stats`.
    rider : callable, optional
        Makes an accumulator with an ``add(block)`` method, one per thread; every chunk
        the thread reads is also handed to it, so a second per-row summary (the distinct
        rows, :class:`~tripletws.rows.RowAccumulator`) costs no second read of the data.

    Returns
    -------
    stats : LabelStats
    riders : list
        The riders, one per thread that ran (empty without ``rider``).
    """
    k = lm.cardinality

    def make() -> list[Any]:  # [the thread's sums (None before its first chunk), its rider]
        return [None, None if rider is None else rider()]

    def add(acc: list[Any], start: int, block: Any, ws: Workspace) -> None:
        part = _block_stats(block, k, joint, triple, ws)
        if acc[0] is None:
            # a chunk's statistics are fresh arrays: the first one becomes the thread's sums (adding
            # it to zeros would touch as many fresh pages again: 3 of 12 ms with 745 LFs)
            acc[0] = part
        else:
            acc[0] += part
        if acc[1] is not None:
            acc[1].add(block)

    with single_threaded_blas():
        parts = map_chunks(lm, chunk_size, n_jobs, add, make)
    sums = [p[0] for p in parts if p[0] is not None]
    if not sums:
        stats = LabelStats.zeros(lm.m, k, joint=joint, triple=triple)
    else:
        stats = sums[0] if len(sums) == 1 else merge_stats(sums)
    return stats, [p[1] for p in parts if p[1] is not None]
