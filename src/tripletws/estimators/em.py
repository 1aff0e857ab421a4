"""EM polish of a class-conditional model over the unique rows of L.

A label matrix has far fewer distinct rows than rows when LFs are few or sparse,
and the class-conditional likelihood depends on a row only through its votes, so
EM runs over the distinct rows weighted by their counts: one (optional) extra
pass over L collects them, then each EM step costs O(R m k) for R distinct rows,
whatever n is.  This is plain expectation-maximisation of the Dawid-Skene model
(abstain as an outcome) started from the closed-form moment estimate, never a
stochastic-gradient loop.

The M-step is a MAP update under a weak Dirichlet prior that shrinks each table
column towards the LF's overall vote distribution (an LF that tells the classes
apart by nothing), with ``prior_strength`` pseudo-rows:

    P(lambda_i = a | y) = (N_iay + s * f_ia) / (N_y + s),     f_ia = P(lambda_i = a)

It keeps every vote an LF ever casts possible under every class (no infinite
evidence from small counts) and never invents votes an LF does not cast.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..matrix import LabelMatrix
from ..params import LabelModelParams
from .class_balance import MIN_CLASS_PROB

logger = logging.getLogger("tripletws")

#: Default cap on the number of distinct rows kept for EM (memory ~ cap * m bytes).
DEFAULT_MAX_UNIQUE_ROWS = 2_000_000


@dataclass(frozen=True)
class UniqueRows:
    """Distinct rows of a label matrix with their multiplicities.

    Attributes
    ----------
    rows : ndarray of int, shape (R, m)
        -1 = abstain, classes 0..k-1.
    counts : ndarray, shape (R,)
        Multiplicity of each row (in the subsample, when one was taken).
    cardinality : int
    n_rows : int
        Rows read from L.
    sample_rate : float
        Fraction of L's rows the counts represent (1.0 unless the cap forced a
        uniform subsample).
    """

    rows: np.ndarray
    counts: np.ndarray
    cardinality: int
    n_rows: int
    sample_rate: float = 1.0

    @property
    def n_unique(self) -> int:
        return int(self.rows.shape[0])


def _dense_block(block: Any) -> np.ndarray:
    if type(block).__module__.startswith("scipy.sparse"):
        return block.toarray().astype(np.int16) - 1
    return np.asarray(block)


def _row_keys(B: np.ndarray, k: int) -> np.ndarray:
    """One sortable key per row: base-(k+1) digits packed into int64 words.

    A single word (a plain int64 key) when (k+1)^m < 2^63, else the words of a
    row viewed as one opaque byte string; equal rows get equal keys.
    """
    base = k + 1
    per_word = max(1, int(63 / np.log2(base)))
    n, m = B.shape
    words = []
    for start in range(0, m, per_word):
        w = np.zeros(n, dtype=np.int64)
        for j in range(start, min(start + per_word, m)):
            w *= base
            w += B[:, j].astype(np.int64) + 1
        words.append(w)
    if len(words) == 1:
        return words[0]
    W = np.ascontiguousarray(np.stack(words, axis=1))
    return W.view(np.dtype((np.void, 8 * W.shape[1]))).reshape(n)


def _compact(
    keys: list[np.ndarray], rows: list[np.ndarray], counts: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    K = np.concatenate(keys)
    uniq, first, inv = np.unique(K, return_index=True, return_inverse=True)
    C = np.bincount(inv.reshape(-1), weights=np.concatenate(counts), minlength=len(uniq))
    return uniq, np.concatenate(rows)[first], C


def _thin(
    K: np.ndarray, R: np.ndarray, C: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep each counted row with probability 1/2 (a uniform row subsample)."""
    C = rng.binomial(C.astype(np.int64), 0.5).astype(np.float64)
    keep = C > 0
    return K[keep], R[keep], C[keep]


def collect_unique_rows(
    lm: LabelMatrix,
    chunk_size: int | None = None,
    max_rows: int = DEFAULT_MAX_UNIQUE_ROWS,
    random_state: Any = None,
) -> UniqueRows:
    """Distinct rows of ``lm`` and their counts, in one chunked pass.

    Rows are keyed by packing their votes into integers, so finding the distinct
    rows is a 1-D sort.  When more than ``max_rows`` distinct rows turn up, the
    rows are thinned to a uniform random subsample (every row kept with the same
    probability, halved as often as needed) and a warning says so.

    Parameters
    ----------
    lm : LabelMatrix
    chunk_size : int, optional
    max_rows : int
        Cap on the distinct rows kept.
    random_state : int or numpy Generator, optional
        Drives the subsample (only used when the cap is hit).
    """
    if max_rows < 1:
        raise ValueError(f"max_rows must be a positive integer, got {max_rows}")
    k = lm.cardinality
    rng = np.random.default_rng(random_state)
    rate = 1.0
    keys: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    pending = 0
    for _, block in lm.chunks(chunk_size):
        B = _dense_block(block)
        if rate < 1.0:
            B = B[rng.random(len(B)) < rate]
        if len(B) == 0:
            continue
        kb, first, c = np.unique(_row_keys(B, k), return_index=True, return_counts=True)
        keys.append(kb)
        rows.append(B[first])
        counts.append(c.astype(np.float64))
        pending += len(kb)
        if pending > 2 * max_rows or len(keys) > 64:
            K, R, C = _compact(keys, rows, counts)
            while len(K) > max_rows:
                rate /= 2.0
                K, R, C = _thin(K, R, C, rng)
            keys, rows, counts, pending = [K], [R], [C], len(K)
    if not keys:
        return UniqueRows(np.empty((0, lm.m), dtype=np.int16), np.empty(0), k, lm.n, rate)
    K, R, C = _compact(keys, rows, counts)
    while len(K) > max_rows:
        rate /= 2.0
        K, R, C = _thin(K, R, C, rng)
    if rate < 1.0:
        warnings.warn(
            f"L has more than {max_rows} distinct rows; EM runs on a uniform subsample of "
            f"{rate:.3g} of the rows ({len(R)} distinct rows). Raise em_max_rows to use them all.",
            UserWarning,
            stacklevel=3,
        )
    return UniqueRows(R, C, k, lm.n, rate)


@dataclass(frozen=True)
class EMResult:
    """Outcome of :func:`em_refine`.

    Attributes
    ----------
    params : LabelModelParams
    n_steps : int
        EM steps taken.
    log_likelihood : float
        Mean log-likelihood per row at the returned parameters' E-step input
        (i.e. of the second-to-last iterate; the last step only improves it).
    converged : bool
    """

    params: LabelModelParams
    n_steps: int
    log_likelihood: float
    converged: bool


def _onehot(rows: np.ndarray, k: int):
    """CSR one-hot (R, m (k+1)) of a block of rows, abstain included."""
    import scipy.sparse as sp

    R, m = rows.shape
    idx = rows.astype(np.int64) + 1 + (np.arange(m, dtype=np.int64) * (k + 1))[None, :]
    return sp.csr_array(
        (np.ones(R * m), idx.reshape(-1), np.arange(0, R * m + 1, m, dtype=np.int64)),
        shape=(R, m * (k + 1)),
    )


def em_refine(
    unique: UniqueRows,
    params: LabelModelParams,
    max_steps: int,
    *,
    tol: float = 1e-7,
    fix_class_balance: bool = False,
    prior_strength: float = 1.0,
) -> EMResult:
    """Run up to ``max_steps`` EM steps from ``params`` over the distinct rows.

    Parameters
    ----------
    unique : UniqueRows
    params : LabelModelParams
        Starting point (e.g. the closed-form estimate).
    max_steps : int
    tol : float
        Stop when the mean log-likelihood per row improves by less than ``tol``.
    fix_class_balance : bool
        Keep ``params.class_balance`` (a given prior) instead of re-estimating it.
    prior_strength : float
        Pseudo-rows of the shrinkage prior (see the module docstring); 0 = plain ML.

    Returns
    -------
    EMResult
    """
    k, m = params.cardinality, params.n_lfs
    if unique.rows.shape[1] != m:
        raise ValueError(f"rows have {unique.rows.shape[1]} columns but the model has {m} LFs")
    if prior_strength < 0:
        raise ValueError(f"prior_strength must be >= 0, got {prior_strength}")
    total = float(unique.counts.sum())
    if max_steps <= 0 or total <= 0:
        return EMResult(params, 0, float("nan"), False)
    step_rows = max(1024, (1 << 21) // max(m * (k + 1), 1))
    blocks = [
        (_onehot(unique.rows[s : s + step_rows], k), unique.counts[s : s + step_rows])
        for s in range(0, unique.n_unique, step_rows)
    ]
    p = params.class_balance.copy()
    cp = params.cond_probs.copy()
    prev = -np.inf
    ll = float("nan")
    converged = False
    steps = 0
    while steps < max_steps:
        steps += 1
        logt = np.log(np.maximum(cp, 1e-300)).reshape(m * (k + 1), k)
        logp = np.log(p)
        N = np.zeros((m * (k + 1), k))
        ll = 0.0
        for X, c in blocks:
            s = X @ logt + logp
            smax = s.max(axis=1, keepdims=True)
            e = np.exp(s - smax)
            z = e.sum(axis=1, keepdims=True)
            ll += float(c @ (np.log(z[:, 0]) + smax[:, 0]))
            N += X.T @ (e * (c[:, None] / z))
        ll /= total
        Ny = N.reshape(m, k + 1, k)[0].sum(axis=0)  # every LF sees every row once
        N = N.reshape(m, k + 1, k)
        f = N.sum(axis=2) / total  # (m, k + 1) overall vote distribution
        cp = (N + prior_strength * f[:, :, None]) / (Ny + prior_strength)[None, None, :]
        if not fix_class_balance:
            p = np.maximum(Ny / total, MIN_CLASS_PROB)
            p /= p.sum()
        if ll - prev < tol:
            converged = True
            break
        prev = ll
    logger.debug("EM: %d steps, mean log-likelihood %.6f, converged=%s", steps, ll, converged)
    return EMResult(LabelModelParams(p, cp), steps, ll, converged)
