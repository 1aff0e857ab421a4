"""Closed-form estimation for the symmetric model (the triplet method, Fu et al. 2020).

Each LF votes with a class-independent probability and, when it votes, is right
with probability ``alpha_i`` and spreads its errors uniformly.  With
``b_i = (k alpha_i - 1) / (k - 1)`` the pairwise moments satisfy
``M_ij = b_i b_j`` (see :mod:`.pairwise`), so any triplet of distinct LFs gives

    |b_i| = sqrt(|M_ij M_il / M_jl|).

Solvers
-------
``triplet``         the single best triplet per LF (smallest estimated variance);
``triplet_mean``    inverse-variance weighted mean over all triplets through i;
``triplet_median``  weighted median over the same candidates;
``rank_one``        weighted least squares ``min sum W_ij (M_ij - b_i b_j)^2`` over
                    observed pairs (alternating updates from the triplet mean), O(m^2) per step.

Triplets are evaluated in blocks of LFs with array operations (O(m^3) work,
O(block * m^2) memory); no Python loop visits individual triplets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..stats import LabelStats
from .pairwise import PairMoments, pair_moments

SOLVERS = ("triplet", "triplet_mean", "triplet_median", "rank_one")

#: Denominators |M_jl| below ``max(MIN_DENOM, DENOM_Z * se_jl)`` are skipped.
MIN_DENOM = 1e-2
DENOM_Z = 2.0


@dataclass(frozen=True)
class SymmetricEstimate:
    """Result of a symmetric-model solve.

    Attributes
    ----------
    b : ndarray, shape (m,)
        Signed scaled accuracies, ``(k alpha - 1) / (k - 1)``; 0 where not estimable.
    accuracies : ndarray, shape (m,)
        ``alpha_i = P(LF i right | LF i votes)``, clipped into ``(eps, 1 - eps)``;
        ``1 / k`` (neutral) where not estimable.
    estimated : ndarray of bool, shape (m,)
        LFs that had votes and at least one usable triplet.
    n_candidates : ndarray of int, shape (m,)
        Usable triplets per LF.
    """

    b: np.ndarray
    accuracies: np.ndarray
    estimated: np.ndarray
    n_candidates: np.ndarray


def _triplet_candidates(pm: PairMoments, rows: np.ndarray):
    """Candidate |b_i| values and their variances for the LFs in ``rows``.

    Returns arrays of shape (len(rows), m, m) over pairs (j, l): value, variance
    (inf where the candidate is unusable).
    """
    M, se, N = pm.M, pm.se, pm.N
    m = M.shape[0]
    x = np.abs(M[rows])[:, :, None]  # |M_ij|
    y = np.abs(M[rows])[:, None, :]  # |M_il|
    z = np.abs(M)[None, :, :]  # |M_jl|
    sx = se[rows][:, :, None]
    sy = se[rows][:, None, :]
    sz = se[None, :, :]
    obs_i = N[rows] > 0
    usable = (
        obs_i[:, :, None]
        & obs_i[:, None, :]
        & ((N > 0) & (z[0] >= np.maximum(MIN_DENOM, DENOM_Z * se)))[None, :, :]
    )
    # exclude j == l (diagonal) and j or l == i; use the upper triangle only.
    upper = np.triu(np.ones((m, m), dtype=bool), k=1)
    usable &= upper[None, :, :]
    ar = np.arange(len(rows))
    usable[ar, rows, :] = False
    usable[ar, :, rows] = False
    with np.errstate(divide="ignore", invalid="ignore"):
        zz = np.where(usable, z, 1.0)
        val = np.sqrt(x * y / zz)
        xt, yt, zt = np.maximum(x, sx), np.maximum(y, sy), np.maximum(zz, sz)
        var = 0.25 * (sx**2 * y / (xt * zz) + sy**2 * x / (yt * zz) + sz**2 * x * y / zt**3)
    var = np.where(usable, np.maximum(var, 1e-12), np.inf)
    val = np.where(usable, np.minimum(val, 1.0), 0.0)
    return val, var


def _weighted_median(val: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Row-wise weighted median of (r, c) arrays (rows with zero weight give 0)."""
    order = np.argsort(val, axis=1)
    v = np.take_along_axis(val, order, axis=1)
    cw = np.cumsum(np.take_along_axis(w, order, axis=1), axis=1)
    half = cw[:, -1:] / 2.0
    pos = np.minimum((cw < half).sum(axis=1), val.shape[1] - 1)
    return v[np.arange(val.shape[0]), pos]


def _triplet_magnitudes(pm: PairMoments, solver: str, block_cells: int = 1 << 22):
    m = pm.M.shape[0]
    mag = np.zeros(m)
    count = np.zeros(m, dtype=np.int64)
    step = max(1, block_cells // max(m * m, 1))
    for start in range(0, m, step):
        rows = np.arange(start, min(m, start + step))
        val, var = _triplet_candidates(pm, rows)
        r = len(rows)
        val, var = val.reshape(r, -1), var.reshape(r, -1)
        w = 1.0 / var  # 0 for unusable candidates
        n = np.isfinite(var).sum(axis=1)
        count[rows] = n
        if solver == "triplet":
            best = np.argmin(var, axis=1)
            est = val[np.arange(r), best]
        elif solver == "triplet_median":
            est = _weighted_median(val, w)
        else:
            wsum = w.sum(axis=1)
            est = np.divide((w * val).sum(axis=1), wsum, out=np.zeros(r), where=wsum > 0)
        mag[rows] = np.where(n > 0, est, 0.0)
    return mag, count


def _pair_weights(pm: PairMoments) -> np.ndarray:
    return np.where(pm.observed, 1.0 / pm.se**2, 0.0)


def _signs(pm: PairMoments, mag: np.ndarray, vote_counts: np.ndarray) -> np.ndarray:
    """Signs from the leading eigenvector of the z-scored moment matrix.

    The overall sign is fixed by "LFs are better than random on average"
    (coverage- and magnitude-weighted).
    """
    m = len(mag)
    Z = np.where(pm.observed, np.clip(pm.M / pm.se, -10.0, 10.0), 0.0)
    if not np.any(Z):
        return np.ones(m)
    _, vecs = np.linalg.eigh(Z)
    lead = vecs[:, -1]
    s = np.where(lead < 0, -1.0, 1.0)
    s[np.abs(lead) < 1e-12] = 1.0
    if np.sum(s * mag * vote_counts) < 0:
        s = -s
    return s


def _rank_one_refine(pm: PairMoments, b0: np.ndarray, n_iter: int = 100, tol: float = 1e-10):
    """Weighted ALS for ``M_ij ~ b_i b_j`` over observed off-diagonal pairs."""
    W = _pair_weights(pm)
    WM = W * pm.M
    b = b0.copy()
    for _ in range(n_iter):
        denom = W @ (b * b)
        new = np.divide(WM @ b, denom, out=b.copy(), where=denom > 0)
        if np.max(np.abs(new - b)) < tol:
            b = new
            break
        b = new
    return b


def estimate_symmetric(
    stats: LabelStats,
    solver: str = "triplet_mean",
    *,
    exclude: np.ndarray | None = None,
    eps: float = 1e-4,
) -> SymmetricEstimate:
    """Solve the symmetric model in closed form.

    Parameters
    ----------
    stats : LabelStats
        Pairwise statistics of L, m >= 3.
    solver : {"triplet", "triplet_mean", "triplet_median", "rank_one"}
    exclude : ndarray of bool, shape (m, m), optional
        LF pairs not to use (declared dependencies).
    eps : float
        Accuracies are clipped into ``(eps, 1 - eps)``.

    Returns
    -------
    SymmetricEstimate
    """
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; choose one of {', '.join(SOLVERS)}")
    k = stats.cardinality
    pm = pair_moments(stats, exclude)
    mag, count = _triplet_magnitudes(pm, "triplet_mean" if solver == "rank_one" else solver)
    votes = stats.vote_counts
    estimated = (count > 0) & (votes > 0)
    b = _signs(pm, mag, votes) * mag
    if solver == "rank_one":
        b = _rank_one_refine(pm, b)
    b = np.where(estimated, np.clip(b, -1.0 / (k - 1), 1.0), 0.0)
    alpha = np.clip((1.0 + (k - 1) * b) / k, eps, 1.0 - eps)
    alpha = np.where(estimated, alpha, 1.0 / k)
    return SymmetricEstimate(b=b, accuracies=alpha, estimated=estimated, n_candidates=count)
