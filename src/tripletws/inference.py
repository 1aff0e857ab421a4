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
)
from .matrix import LabelMatrix, LabelMatrixError
from .parallel import map_chunks, single_threaded_blas
from .params import LabelModelParams

#: Float type of the binary log-odds products.  float32: posteriors within about 2.4e-7
#: of the float64 formula, and a row scored alone (or in another dask block) can differ from
#: the same row scored in a batch by up to (m + 2) u sum|w| / 2, u = 2^-24 (a few 1e-9 at
#: 1e6 x 50, 3.7e-8 seen on a 5 x 18 matrix; docs/threads.md); float64 removes both (to
#: about 1e-14) but made predict_proba 1.37x slower (CPU time) at 1e6 x 50
#: (benchmarks/logit_dtype.py; docs/threads.md).
LOGIT_DTYPE = np.float32


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
    The products run in ``LOGIT_DTYPE`` (float32 by default, see its comment).
    """

    def __init__(self, base: np.ndarray, D: np.ndarray) -> None:
        e = D[:, :, 1] - D[:, :, 0]  # (m, 2): log-odds change of a vote for class 0 / 1
        self.w_sign = ((e[:, 1] - e[:, 0]) / 2).astype(LOGIT_DTYPE)
        w_vote = ((e[:, 1] + e[:, 0]) / 2).astype(LOGIT_DTYPE)
        self.w_vote = w_vote if np.any(w_vote) else None
        self.b = np.float64(base[1] - base[0])

    def __call__(self, block: np.ndarray, ws: Workspace) -> np.ndarray:
        """Log-odds of the rows of ``block``, float64 (nc,) (products in ``LOGIT_DTYPE``)."""
        nc, m = block.shape
        out = np.empty(nc, dtype=LOGIT_DTYPE)
        step = conversion_rows(m)  # matrix-vector products small enough for one BLAS thread
        for s in range(0, nc, step):
            L = narrow(block[s : s + step], 2, ws)
            part = out[s : s + step]
            np.matmul(signed_votes(L, ws, dtype=LOGIT_DTYPE), self.w_sign, out=part)
            if self.w_vote is not None:
                part += vote_indicator(L, ws, dtype=LOGIT_DTYPE) @ self.w_vote
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
        # (a LabelMatrixError: the command line names the file)
        raise LabelMatrixError(f"L has {lm.m} columns but the model was fitted with {m} LFs")
    if lm.cardinality > k:
        raise LabelMatrixError(f"L has cardinality {lm.cardinality} but the model has {k} classes")


def _fill(
    lm: LabelMatrix,
    params: LabelModelParams,
    chunk_size: int | None,
    normalise: bool,
    n_jobs: int | None = None,
) -> np.ndarray:
    """(n, k) float64 log-scores (``normalise=False``) or posteriors, chunk by chunk.

    Each chunk's rows of the output are written in place and normalised while
    they are in cache; chunks run on up to ``n_jobs`` threads (each writes only
    its own rows, so the result does not depend on ``n_jobs``).
    """
    _check_compatible(lm, params)
    k, m = params.cardinality, params.n_lfs
    base, D = params.log_odds_tables()
    out = np.empty((lm.n, k))
    if not lm.is_sparse and k == 2:
        logit = _BinaryLogit(base, D)

        def work(_: None, start: int, block: Any, ws: Workspace) -> None:
            z = logit(block, ws)
            rows = out[start : start + len(z)]
            if normalise:
                _sigmoid_pair(z, rows)
            else:
                rows[:, 0] = 0.0
                rows[:, 1] = z

    elif lm.is_sparse:
        Dflat = D.reshape(m * k, k)

        def work(_: None, start: int, block: Any, ws: Workspace) -> None:
            rows = out[start : start + block.shape[0]]
            _sparse_scores(block, Dflat, base, k, rows)
            if normalise:
                softmax(rows)

    else:
        Dc = [np.ascontiguousarray(D[:, c, :]) for c in range(k)]

        def work(_: None, start: int, block: Any, ws: Workspace) -> None:
            rows = out[start : start + block.shape[0]]
            _dense_scores(block, Dc, base, ws, rows)
            if normalise:
                softmax(rows)

    with single_threaded_blas():
        map_chunks(lm, chunk_size, n_jobs, work, lambda: None)
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


def log_scores(
    lm: LabelMatrix, params: LabelModelParams, chunk_size: int | None = None, n_jobs: int | None = None
) -> np.ndarray:
    """Unnormalised log-posteriors, shape (n, k) (float64).

    Row r's softmax is ``P(Y | lambda_r)``; for dense binary input without
    dependencies column 0 is 0 and column 1 the log-odds.  ``n_jobs``: threads
    over the row chunks (see :func:`~tripletws.parallel.resolve_n_jobs`).
    """
    out = _fill(lm, params, chunk_size, normalise=False, n_jobs=n_jobs)
    if params.has_dependencies:
        _add_pair_corrections(out, lm, params, chunk_size)
    return out


def posterior(
    lm: LabelMatrix, params: LabelModelParams, chunk_size: int | None = None, n_jobs: int | None = None
) -> np.ndarray:
    """``P(Y = y | lambda)`` for every row, shape (n, k), rows summing to 1.

    ``n_jobs``: threads over the row chunks (the result is the same for every value).
    """
    if params.has_dependencies:
        return softmax(log_scores(lm, params, chunk_size, n_jobs))
    return _fill(lm, params, chunk_size, normalise=True, n_jobs=n_jobs)


def log_joint(
    lm: LabelMatrix,
    params: LabelModelParams,
    chunk_size: int | None = None,
    n_jobs: int | None = None,
    *,
    named: bool = False,
) -> np.ndarray:
    """``log P(lambda, Y = y)`` of every row under ``params`` (no dependencies), shape (n, k).

    Unlike :func:`log_scores`, nothing is shifted: the rows' log-likelihoods under different
    models compare (a mixture of models needs them, :func:`mixture_posterior`).  ``named``: read
    the tables as the posterior does (:meth:`LabelModelParams.log_tables`: a one-class LF's vote
    never counts against the class it names), for judging a row's classes against each other in
    float64 (:func:`tripletws.ties.tied_classes`); the values are then scores, not likelihoods.
    """
    if params.has_dependencies:
        raise ValueError("log_joint is defined for conditionally independent LFs only")
    _check_compatible(lm, params)
    k, m = params.cardinality, params.n_lfs
    logp = params.log_tables() if named else np.log(np.maximum(params.cond_probs, 1e-300))
    base = np.log(np.maximum(params.class_balance, 1e-300)) + logp[:, 0, :].sum(axis=0)
    D = logp[:, 1:, :] - logp[:, :1, :]  # (m, k, k): a vote for class c instead of abstaining
    out = np.empty((lm.n, k))
    if lm.is_sparse:
        Dflat = D.reshape(m * k, k)

        def work(_: None, start: int, block: Any, ws: Workspace) -> None:
            _sparse_scores(block, Dflat, base, k, out[start : start + block.shape[0]])

    else:
        Dc = [np.ascontiguousarray(D[:, c, :]) for c in range(k)]

        def work(_: None, start: int, block: Any, ws: Workspace) -> None:
            _dense_scores(block, Dc, base, ws, out[start : start + block.shape[0]])

    with single_threaded_blas():
        map_chunks(lm, chunk_size, n_jobs, work, lambda: None)
    return out


def mixture_posterior(
    lm: LabelMatrix,
    components: list[LabelModelParams],
    weights: np.ndarray,
    chunk_size: int | None = None,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Posterior of a mixture of models: ``P(Y = y | lambda)`` proportional to ``sum_f w_f P_f(lambda, y)``.

    Parameters
    ----------
    lm : LabelMatrix
    components : list of LabelModelParams
        The models (no dependencies), each with its own class balance and tables.
    weights : ndarray, shape (len(components),)
        Non-negative mixture weights (zero-weight components are skipped).

    Returns
    -------
    ndarray, shape (n, k)
        Rows summing to 1 (computed in log space).
    """
    w = np.asarray(weights, dtype=np.float64)
    live = [f for f in range(len(components)) if w[f] > 0]
    if not live:
        raise ValueError("a mixture needs a positive weight")
    if len(live) == 1:
        return posterior(lm, components[live[0]], chunk_size, n_jobs)
    logs = np.stack([np.log(w[f]) + log_joint(lm, components[f], chunk_size, n_jobs) for f in live])
    top = logs.max(axis=0)
    out = top + np.log(np.exp(logs - top).sum(axis=0))  # (n, k): log sum_f w_f P_f(lambda, y)
    return softmax(out)
