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
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from .kernels import (
    MAX_EXACT_ROWS,
    Workspace,
    class_indicator,
    conversion_rows,
    narrow,
    one_hot,
    signed_votes,
    vote_indicator,
    workspace,
)
from .matrix import LabelMatrix, check_label_matrix


@dataclass
class LabelStats:
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
    """

    cardinality: int
    n_rows: float
    class_counts: np.ndarray
    covote: np.ndarray
    agree: np.ndarray
    joint: np.ndarray | None = field(default=None)

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
    def zeros(cls, m: int, cardinality: int, joint: bool = False) -> LabelStats:
        k = cardinality
        return cls(
            cardinality=k,
            n_rows=0.0,
            class_counts=np.zeros((m, k)),
            covote=np.zeros((m, m)),
            agree=np.zeros((m, m)),
            joint=np.zeros((m, k, m, k)) if joint else None,
        )

    def _check_compatible(self, other: LabelStats) -> None:
        if not isinstance(other, LabelStats):
            raise TypeError(f"cannot merge LabelStats with {type(other).__name__}")
        if other.cardinality != self.cardinality or other.n_lfs != self.n_lfs:
            raise ValueError(
                "cannot merge statistics of different shapes: "
                f"(m={self.n_lfs}, k={self.cardinality}) vs (m={other.n_lfs}, k={other.cardinality})"
            )

    def __add__(self, other: LabelStats) -> LabelStats:
        self._check_compatible(other)
        both_joint = self.joint is not None and other.joint is not None
        return LabelStats(
            cardinality=self.cardinality,
            n_rows=self.n_rows + other.n_rows,
            class_counts=self.class_counts + other.class_counts,
            covote=self.covote + other.covote,
            agree=self.agree + other.agree,
            joint=self.joint + other.joint if both_joint else None,
        )

    def __iadd__(self, other: LabelStats) -> LabelStats:
        self._check_compatible(other)
        self.n_rows += other.n_rows
        self.class_counts += other.class_counts
        self.covote += other.covote
        self.agree += other.agree
        if self.joint is not None:
            if other.joint is None:
                self.joint = None
            else:
                self.joint += other.joint
        return self

    def __sub__(self, other: LabelStats) -> LabelStats:
        """Remove the statistics of a row block that ``self`` includes (e.g. a window's oldest batch).

        Exact while the counts are whole numbers below 2**53 (no forgetting).
        Raises ValueError when the result would have a negative count, i.e.
        when ``other`` was not part of ``self``.
        """
        self._check_compatible(other)
        both_joint = self.joint is not None and other.joint is not None
        out = LabelStats(
            cardinality=self.cardinality,
            n_rows=self.n_rows - other.n_rows,
            class_counts=self.class_counts - other.class_counts,
            covote=self.covote - other.covote,
            agree=self.agree - other.agree,
            joint=self.joint - other.joint if both_joint else None,
        )
        for name in ("class_counts", "covote", "agree", "joint"):
            arr = getattr(out, name)
            if arr is not None and arr.size and arr.min() < 0:
                raise ValueError(
                    f"subtracting statistics gives a negative {name!r} count: "
                    "the subtracted rows were not part of these statistics"
                )
        if out.n_rows < 0:
            raise ValueError("subtracting statistics gives a negative row count")
        return out

    def scaled(self, factor: float) -> LabelStats:
        """All statistics multiplied by ``factor`` (exponential forgetting)."""
        return LabelStats(
            cardinality=self.cardinality,
            n_rows=self.n_rows * factor,
            class_counts=self.class_counts * factor,
            covote=self.covote * factor,
            agree=self.agree * factor,
            joint=None if self.joint is None else self.joint * factor,
        )

    def copy(self) -> LabelStats:
        return self.scaled(1.0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation (lists of floats)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.tolist() if isinstance(v, np.ndarray) else v
        return out

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
            stats = cls(k, float(d["n_rows"]), counts, covote, agree, joint)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"invalid statistics record: {exc}") from exc
        expected = {
            "class_counts": (m, k),
            "covote": (m, m),
            "agree": (m, m),
        }
        if joint is not None:
            expected["joint"] = (m, k, m, k)
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
    """CSR block with class c stored as c + 1: Gram of the (n, m*k) one-hot matrix."""
    import scipy.sparse as sp

    nc, m = block.shape
    onehot = sp.csr_array(
        (np.ones(block.nnz, dtype=np.float64), block.indices * k + (block.data - 1), block.indptr),
        shape=(nc, m * k),
    )
    G = (onehot.T @ onehot).toarray().reshape(m, k, m, k)
    return _from_joint(G, k, float(nc), keep_joint=joint)


def _block_stats(block: Any, k: int, joint: bool, ws: Workspace) -> LabelStats:
    if type(block).__module__.startswith("scipy.sparse"):
        return _sparse_block(block, k, joint)
    block = np.asarray(block)
    if block.shape[0] > MAX_EXACT_ROWS:
        # float32 sums are exact below 2**24 rows: split larger blocks.
        parts = range(0, block.shape[0], MAX_EXACT_ROWS)
        return merge_stats(_block_stats(block[s : s + MAX_EXACT_ROWS], k, joint, ws) for s in parts)
    if k == 2:
        return _binary_dense(block, joint, ws)
    return _multiclass_dense(block, k, joint, ws)


def block_stats(block: Any, cardinality: int, joint: bool = False) -> LabelStats:
    """Statistics of one block of rows (dense int array or CSR in the c + 1 encoding).

    The block is assumed valid (values -1..k-1); :func:`compute_stats` validates.
    """
    with workspace() as ws:
        return _block_stats(block, cardinality, joint, ws)


def compute_stats(
    L: Any,
    cardinality: int | None = None,
    *,
    joint: bool = False,
    chunk_size: int | None = None,
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
    chunk_size : int, optional
        Rows per chunk; memory use is O(chunk_size * m * k).

    Returns
    -------
    LabelStats
    """
    lm: LabelMatrix = check_label_matrix(L, cardinality)
    total = LabelStats.zeros(lm.m, lm.cardinality, joint=joint)
    with workspace() as ws:
        for _, block in lm.chunks(chunk_size):
            total += _block_stats(block, lm.cardinality, joint, ws)
    return total
