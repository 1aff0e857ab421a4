"""Posteriors ``P(Y | lambda)`` for conditionally independent LFs, chunked and in log space.

    log P(Y = y | lambda) = base_y + sum_{i votes} D[i, lambda_i, y] + const

with ``base`` and ``D`` from :meth:`LabelModelParams.log_odds_tables`.  Binary
dense input takes a float32 BLAS matrix-vector fast path and a fused sigmoid;
other inputs a one-hot matrix product (dense float64 BLAS, or sparse for
scipy.sparse) and a per-chunk softmax.

Declared dependencies add one gather per dependency edge ``(i, j)``: the pair's
votes are encoded as ``(lambda_i + 1) * (k + 1) + (lambda_j + 1)`` and index its
correction table (:meth:`LabelModelParams.pair_log_tables`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .kernels import (
    SKINNY_GEMM_WORK,
    Workspace,
    class_indicator,
    conversion_rows,
    is_sparse,
    narrow,
    signed_votes,
    sparse_one_hot,
    vote_indicator,
    workspace,
)
from .matrix import LabelMatrix
from .params import LabelModelParams


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (n, k) log-scores (in place).

    For k < 8 the row maximum and sum run column by column (a few vector passes
    instead of a reduction over very short rows); the additions happen in the
    same order as numpy's row reduction, so the result is the same.
    """
    n, k = scores.shape
    if k >= 8 or n == 0:
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores
    top = scores[:, 0].copy()
    for c in range(1, k):
        np.maximum(top, scores[:, c], out=top)
    scores -= top[:, None]
    np.exp(scores, out=scores)
    total = scores[:, 0].copy()
    for c in range(1, k):
        total += scores[:, c]
    scores /= total[:, None]
    return scores


def _sigmoid_pair(z: np.ndarray, out: np.ndarray) -> None:
    """``out[:, 0], out[:, 1]`` = softmax of the rows ``[0, z]``.

    Computed as the softmax would be (``t = exp(-|z|)``, ``1 / (1 + t)`` and
    ``t / (1 + t)``), so the result is bit-identical to :func:`softmax`.
    """
    t = np.abs(z)
    np.negative(t, out=t)
    np.exp(t, out=t)
    s = t + 1.0
    big = np.divide(1.0, s)
    np.divide(t, s, out=t)  # small
    pos = z > 0
    out[:, 1] = np.where(pos, big, t)
    out[:, 0] = np.where(pos, t, big)


class _BinaryLogit:
    """Log-odds ``log P(Y=1 | votes) - log P(Y=0 | votes)`` of dense binary chunks.

    ``logit = b + S @ w_sign + V @ w_vote`` with S the signed votes and V the vote
    indicator; ``w_vote`` vanishes for the symmetric model (then only S is built).
    """

    def __init__(self, base: np.ndarray, D: np.ndarray) -> None:
        e = D[:, :, 1] - D[:, :, 0]  # (m, 2): log-odds change of a vote for class 0 / 1
        self.w_sign = ((e[:, 1] - e[:, 0]) / 2).astype(np.float32)
        w_vote = ((e[:, 1] + e[:, 0]) / 2).astype(np.float32)
        self.w_vote = w_vote if np.any(w_vote) else None
        self.b = np.float64(base[1] - base[0])

    def __call__(self, block: np.ndarray, ws: Workspace) -> np.ndarray:
        nc, m = block.shape
        out = np.empty(nc, dtype=np.float32)
        step = conversion_rows(m)  # matrix-vector products small enough for one BLAS thread
        for s in range(0, nc, step):
            L = narrow(block[s : s + step], 2, ws)
            part = signed_votes(L, ws) @ self.w_sign
            if self.w_vote is not None:
                part += vote_indicator(L, ws) @ self.w_vote
            out[s : s + step] = part
        return self.b + out  # float64


def _dense_scores(block: np.ndarray, D: list[np.ndarray], base: np.ndarray, ws: Workspace, out: np.ndarray):
    """Dense k-class chunk into ``out`` (nc, k): ``base + sum_c X_c @ D[c]``, X_c the
    (nc, m) indicator of votes for class c, ``D[c] = D_full[:, c, :]`` (float64 BLAS)."""
    k = len(D)
    nc, m = block.shape
    L = narrow(block, k, ws)
    out[...] = base
    step = max(64, SKINNY_GEMM_WORK // (m * k))  # one BLAS thread per product
    for s in range(0, nc, step):
        part, rows = L[s : s + step], out[s : s + step]
        for c in range(k):
            rows += class_indicator(part, c, ws, dtype=np.float64) @ D[c]


def _sparse_scores(block: Any, Dflat: np.ndarray, base: np.ndarray, k: int, out: np.ndarray) -> None:
    out[...] = sparse_one_hot(block, k) @ Dflat
    out += base


def _check_compatible(lm: LabelMatrix, params: LabelModelParams) -> None:
    k, m = params.cardinality, params.n_lfs
    if lm.m != m:
        raise ValueError(f"L has {lm.m} columns but the model was fitted with {m} LFs")
    if lm.cardinality > k:
        raise ValueError(f"L has cardinality {lm.cardinality} but the model has {k} classes")


def _fill(lm: LabelMatrix, params: LabelModelParams, chunk_size: int | None, normalise: bool) -> np.ndarray:
    """(n, k) float64 log-scores (``normalise=False``) or posteriors, chunk by chunk.

    Each chunk's rows of the output are written in place and normalised while
    they are in cache.
    """
    _check_compatible(lm, params)
    k, m = params.cardinality, params.n_lfs
    base, D = params.log_odds_tables()
    out = np.empty((lm.n, k))
    with workspace() as ws:
        if not lm.is_sparse and k == 2:
            logit = _BinaryLogit(base, D)
            for start, block in lm.chunks(chunk_size):
                z = logit(block, ws)
                rows = out[start : start + len(z)]
                if normalise:
                    _sigmoid_pair(z, rows)
                else:
                    rows[:, 0] = 0.0
                    rows[:, 1] = z
            return out
        if lm.is_sparse:
            Dflat = D.reshape(m * k, k)
        else:
            Dc = [np.ascontiguousarray(D[:, c, :]) for c in range(k)]
        for start, block in lm.chunks(chunk_size):
            rows = out[start : start + block.shape[0]]
            if lm.is_sparse:
                _sparse_scores(block, Dflat, base, k, rows)
            else:
                _dense_scores(block, Dc, base, ws, rows)
            if normalise:
                softmax(rows)
    return out


def _pair_columns(block: Any, cols: np.ndarray) -> np.ndarray:
    """Dense (nc, len(cols)) votes (-1 = abstain) of some columns of a chunk."""
    if is_sparse(block):
        return np.asarray(block[:, cols].toarray(), dtype=np.int32) - 1
    return np.asarray(block[:, cols], dtype=np.int32)


def _add_pair_corrections(out: np.ndarray, lm: LabelMatrix, params: LabelModelParams, chunk_size):
    """Add the dependency-edge corrections to the log-scores ``out`` (n, k) in place."""
    edges = params.edges
    assert edges is not None
    k = params.cardinality
    C = params.pair_log_tables()  # (E, (k + 1)^2, k)
    cols, inv = np.unique(edges, return_inverse=True)
    inv = inv.reshape(edges.shape)
    step = max(1024, (1 << 20) // max(len(edges) * k, 1))
    for start, block in lm.chunks(min(step, lm.chunk_rows(chunk_size))):
        V = _pair_columns(block, cols) + 1  # 0 = abstain
        for e in range(len(edges)):
            idx = V[:, inv[e, 0]] * (k + 1) + V[:, inv[e, 1]]
            out[start : start + len(idx)] += C[e][idx]


def log_scores(lm: LabelMatrix, params: LabelModelParams, chunk_size: int | None = None) -> np.ndarray:
    """Unnormalised log-posteriors, shape (n, k) (float64).

    Row r's softmax is ``P(Y | lambda_r)``; for dense binary input without
    dependencies column 0 is 0 and column 1 the log-odds.
    """
    out = _fill(lm, params, chunk_size, normalise=False)
    if params.has_dependencies:
        _add_pair_corrections(out, lm, params, chunk_size)
    return out


def posterior(lm: LabelMatrix, params: LabelModelParams, chunk_size: int | None = None) -> np.ndarray:
    """``P(Y = y | lambda)`` for every row, shape (n, k), rows summing to 1."""
    if params.has_dependencies:
        return softmax(log_scores(lm, params, chunk_size))
    return _fill(lm, params, chunk_size, normalise=True)
