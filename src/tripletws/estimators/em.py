"""EM polish of a class-conditional model over the unique rows of L.

A label matrix has far fewer distinct rows than rows when LFs are few or sparse,
and the class-conditional likelihood depends on a row only through its votes, so
EM runs over the distinct rows weighted by their counts, which the model collects
with its statistics (:class:`tripletws.rows.RowSummary`; this module never reads
L), then each EM step costs O(R m k) for R distinct rows,
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
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..params import LabelModelParams
from .class_balance import MIN_CLASS_PROB

if TYPE_CHECKING:
    from ..rows import RowSummary

logger = logging.getLogger("tripletws")


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


# Over 60 lines: the EM loop (E-step, M-step, convergence) shares its running arrays; it is one
# algorithm and reads best as one.
def em_refine(
    unique: RowSummary,
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
    unique : RowSummary
        Distinct rows with their counts (:mod:`tripletws.rows`).
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
