"""Posteriors ``P(Y | lambda)`` for conditionally independent LFs, chunked and in log space.

    log P(Y = y | lambda) = base_y + sum_{i votes} D[i, lambda_i, y] + const

with ``base`` and ``D`` from :meth:`LabelModelParams.log_odds_tables`.  Binary
dense input takes a BLAS matrix-vector fast path; other inputs a gather (dense)
or a sparse one-hot product (scipy.sparse).

Declared dependencies add one gather per dependency edge ``(i, j)``: the pair's
votes are encoded as ``(lambda_i + 1) * (k + 1) + (lambda_j + 1)`` and index its
correction table (:meth:`LabelModelParams.pair_log_tables`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .matrix import LabelMatrix
from .params import LabelModelParams


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (n, k) log-scores (in place)."""
    scores -= scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=1, keepdims=True)
    return scores


def _binary_logit(block: np.ndarray, w_sign: np.ndarray, w_vote: np.ndarray | None) -> np.ndarray:
    V = np.greater_equal(block, 0).astype(np.float32)
    S = np.multiply(block, 2, dtype=np.float32)
    S += 2.0
    S -= 3.0 * V  # +1 class 1, -1 class 0, 0 abstain
    out = S @ w_sign
    if w_vote is not None:
        out += V @ w_vote
    return out


def _gather_scores(block: np.ndarray, Dpad: np.ndarray, m: int, k: int) -> np.ndarray:
    offs = (np.arange(m, dtype=np.int32) * k)[None, :]
    idx = np.where(block >= 0, block.astype(np.int32) + offs, m * k)
    return Dpad[idx].sum(axis=1)


def _sparse_scores(block: Any, Dflat: np.ndarray, k: int) -> np.ndarray:
    import scipy.sparse as sp

    nc, m = block.shape
    onehot = sp.csr_array(
        (np.ones(block.nnz), block.indices * k + (block.data - 1), block.indptr),
        shape=(nc, m * k),
    )
    return np.asarray(onehot @ Dflat)


def _pair_columns(block: Any, cols: np.ndarray) -> np.ndarray:
    """Dense (nc, len(cols)) votes (-1 = abstain) of some columns of a chunk."""
    if type(block).__module__.startswith("scipy.sparse"):
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


def log_scores(lm: LabelMatrix, params: LabelModelParams, chunk_size: int | None = None):
    """Unnormalised log-posteriors, shape (n, k) (float64)."""
    out = _independent_log_scores(lm, params, chunk_size)
    if params.has_dependencies:
        _add_pair_corrections(out, lm, params, chunk_size)
    return out


def _independent_log_scores(lm: LabelMatrix, params: LabelModelParams, chunk_size: int | None = None):
    k, m = params.cardinality, params.n_lfs
    if lm.m != m:
        raise ValueError(f"L has {lm.m} columns but the model was fitted with {m} LFs")
    if lm.cardinality > k:
        raise ValueError(f"L has cardinality {lm.cardinality} but the model has {k} classes")
    base, D = params.log_odds_tables()
    out = np.empty((lm.n, k))
    if k == 2 and not lm.is_sparse:
        e = D[:, :, 1] - D[:, :, 0]  # (m, 2): log-odds change of a vote for class 0 / 1
        w_sign = ((e[:, 1] - e[:, 0]) / 2).astype(np.float32)
        w_vote = ((e[:, 1] + e[:, 0]) / 2).astype(np.float32)
        w_vote = w_vote if np.any(w_vote) else None
        b = base[1] - base[0]
        for start, block in lm.chunks(chunk_size):
            logit = _binary_logit(block, w_sign, w_vote)
            out[start : start + len(logit), 1] = b + logit
            out[start : start + len(logit), 0] = 0.0
        return out
    Dflat = D.reshape(m * k, k)
    if lm.is_sparse:
        for start, block in lm.chunks(chunk_size):
            s = _sparse_scores(block, Dflat, k)
            out[start : start + s.shape[0]] = s + base
        return out
    Dpad = np.vstack([Dflat, np.zeros((1, k))])
    step = max(256, (1 << 21) // max(m * k, 1))
    for start, block in lm.chunks(min(step, lm.chunk_rows(chunk_size))):
        s = _gather_scores(block, Dpad, m, k)
        out[start : start + s.shape[0]] = s + base
    return out


def posterior(lm: LabelMatrix, params: LabelModelParams, chunk_size: int | None = None):
    """``P(Y = y | lambda)`` for every row, shape (n, k), rows summing to 1."""
    return softmax(log_scores(lm, params, chunk_size))
