"""Closed-form joint tables ``P(lambda_i, lambda_j | Y)`` for declared dependent LF pairs.

Under the symmetric model each LF i, when it votes, is right with probability
``alpha_i`` and spreads its errors uniformly; abstention does not depend on Y.
For a dependent pair the single-LF tables stay as estimated (from triplets that
avoid the pair), and the pair's co-votes get a table between two extremes with
the same margins:

* independence: ``Q0[a, b | y] = q_i(a | y) q_j(b | y)``;
* maximal coupling: both right as often as possible
  (``P(both right) = min(alpha_i, alpha_j)``) and, when both are wrong, wrong the
  same way (an exact copy when ``alpha_i = alpha_j``).

The table is ``Q = Q0 + rho (Q1 - Q0)``: mixing preserves the margins, and the
one coupling parameter ``rho`` is solved in closed form from the pair's observed
agreement rate ``A_ij`` (agreement is linear in rho).  For k = 2 this is exact:
a binary pair table with given margins and class-symmetric errors has one free
parameter, fixed by ``A_ij``.  For k > 2 it assumes that extra agreement comes
from shared right and shared wrong answers in the proportions of the coupling.
``rho < 0`` (less agreement than independence) is allowed down to the smallest
value that keeps every entry non-negative.

Abstentions enter through the pair's co-vote counts, so correlated abstention
is represented too (it is class-independent, hence does not move posteriors).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..stats import LabelStats

#: rho is kept this far inside its feasible interval so that every entry stays positive.
RHO_MARGIN = 1e-6


@dataclass(frozen=True)
class PairTables:
    """Joint conditional tables of dependent LF pairs.

    Attributes
    ----------
    tables : ndarray, shape (E, k + 1, k + 1, k)
        ``tables[e, a, b, y] = P(lambda_i = a - 1, lambda_j = b - 1 | Y = y)`` for
        edge ``e = (i, j)``; index 0 = abstain.  Each ``[e, :, :, y]`` sums to 1.
    coupling : ndarray, shape (E,)
        rho: 0 = conditionally independent, 1 = maximally coupled.
    agreement : ndarray, shape (E,)
        Observed agreement rate of the pair when both vote (nan without co-votes).
    """

    tables: np.ndarray
    coupling: np.ndarray
    agreement: np.ndarray


def _vote_tables(alpha: np.ndarray, k: int) -> np.ndarray:
    """``q[e, a, y] = P(lambda = a | Y = y, votes)``, shape (E, k, k)."""
    eye = np.eye(k)
    return alpha[:, None, None] * eye + ((1.0 - alpha) / (k - 1))[:, None, None] * (1.0 - eye)


def _coupled_covote_tables(ai: np.ndarray, aj: np.ndarray, k: int) -> np.ndarray:
    """Maximal coupling of two symmetric LFs given Y, shape (E, k, k, k) over (a, b, y)."""
    E = len(ai)
    rr = np.minimum(ai, aj)
    rw, wr = ai - rr, aj - rr
    wa = 1.0 - np.maximum(ai, aj)
    a = np.arange(k)[:, None, None]
    b = np.arange(k)[None, :, None]
    y = np.arange(k)[None, None, :]
    a_right, b_right = a == y, b == y
    out = np.zeros((E, k, k, k))
    out += np.where(a_right & b_right, 1.0, 0.0)[None] * rr[:, None, None, None]
    out += np.where(a_right & ~b_right, 1.0, 0.0)[None] * (rw / (k - 1))[:, None, None, None]
    out += np.where(~a_right & b_right, 1.0, 0.0)[None] * (wr / (k - 1))[:, None, None, None]
    out += np.where(~a_right & (a == b), 1.0, 0.0)[None] * (wa / (k - 1))[:, None, None, None]
    return out


def estimate_pair_tables(stats: LabelStats, accuracies: np.ndarray, edges: np.ndarray) -> PairTables:
    """Joint tables of the declared pairs, in closed form.

    Parameters
    ----------
    stats : LabelStats
        Statistics of L (``agree`` and ``covote`` are used).
    accuracies : ndarray, shape (m,)
        ``alpha_i`` estimated without the dependent pairs, inside (0, 1).
    edges : ndarray of int, shape (E, 2)

    Returns
    -------
    PairTables
    """
    k = stats.cardinality
    E = len(edges)
    if E == 0:
        return PairTables(np.zeros((0, k + 1, k + 1, k)), np.zeros(0), np.zeros(0))
    i, j = edges[:, 0], edges[:, 1]
    ai, aj = accuracies[i], accuracies[j]
    qi, qj = _vote_tables(ai, k), _vote_tables(aj, k)
    ind = qi[:, :, None, :] * qj[:, None, :, :]  # (E, a, b, y)
    cpl = _coupled_covote_tables(ai, aj, k)
    diag = np.arange(k)
    a_ind = ind[:, diag, diag, 0].sum(axis=1)
    a_cpl = cpl[:, diag, diag, 0].sum(axis=1)
    n_co = stats.covote[i, j]
    agreement = np.divide(stats.agree[i, j], n_co, out=np.full(E, np.nan), where=n_co > 0)
    span = a_cpl - a_ind
    rho = np.where(
        (n_co > 0) & (span > 1e-12), (np.nan_to_num(agreement) - a_ind) / np.maximum(span, 1e-12), 0.0
    )
    # feasible interval: every entry of ind + rho (cpl - ind) stays >= 0
    d = cpl - ind
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.where(d > 0, -ind / d, -np.inf).reshape(E, -1).max(axis=1)
        hi = np.where(d < 0, ind / -d, np.inf).reshape(E, -1).min(axis=1)
    lo = np.where(np.isfinite(lo), lo * (1.0 - RHO_MARGIN), -1.0)
    hi = np.minimum(np.where(np.isfinite(hi), hi, 1.0), 1.0) - RHO_MARGIN
    rho = np.clip(rho, lo, hi)
    covote_tab = ind + rho[:, None, None, None] * d
    n = max(float(stats.n_rows), 1e-300)
    ci, cj = stats.covote[i, i], stats.covote[j, j]
    tables = np.empty((E, k + 1, k + 1, k))
    tables[:, 0, 0, :] = ((n - ci - cj + n_co) / n)[:, None]
    tables[:, 0, 1:, :] = ((cj - n_co) / n)[:, None, None] * qj
    tables[:, 1:, 0, :] = ((ci - n_co) / n)[:, None, None] * qi
    tables[:, 1:, 1:, :] = (n_co / n)[:, None, None, None] * covote_tab
    np.clip(tables, 0.0, 1.0, out=tables)
    return PairTables(tables=tables, coupling=rho, agreement=agreement)
