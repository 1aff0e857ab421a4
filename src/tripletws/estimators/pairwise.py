"""Pairwise agreement moments shared by the estimators.

For LFs i != j voting together on ``N_ij`` rows and agreeing on ``A_ij`` of them,
the symmetric model gives

    M_ij = (k * A_ij / N_ij - 1) / (k - 1) = b_i * b_j,   b_i = (k * alpha_i - 1) / (k - 1)

(for k = 2, ``M_ij = E[lambda_i lambda_j | both vote]`` in the +-1 coding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..stats import LabelStats


@dataclass(frozen=True)
class PairMoments:
    """Agreement moments of all LF pairs (diagonals are zero / unused).

    Attributes
    ----------
    M : ndarray, shape (m, m)
        ``(k * agreement_rate - 1) / (k - 1)``; 0 where the pair never co-votes.
    se : ndarray, shape (m, m)
        Standard error of ``M`` (smoothed so that it is never 0); inf where no co-votes.
    N : ndarray, shape (m, m)
        Co-vote counts with a zero diagonal.
    """

    M: np.ndarray
    se: np.ndarray
    N: np.ndarray

    @property
    def observed(self) -> np.ndarray:
        """Pairs with at least one co-vote, shape (m, m) bool."""
        return self.N > 0


def pair_moments(stats: LabelStats, exclude: np.ndarray | None = None) -> PairMoments:
    """Agreement moments from statistics.

    Parameters
    ----------
    stats : LabelStats
    exclude : ndarray of bool, shape (m, m), optional
        Pairs to treat as unobserved (declared dependencies).
    """
    k = stats.cardinality
    N = stats.covote.astype(np.float64).copy()
    np.fill_diagonal(N, 0.0)
    if exclude is not None:
        N[exclude | exclude.T] = 0.0
    obs = N > 0
    rate = np.divide(stats.agree, N, out=np.zeros_like(N), where=obs)
    M = np.where(obs, (k * rate - 1.0) / (k - 1.0), 0.0)
    # Smoothed rate for the variance only, so that perfect agreement keeps a finite weight.
    smooth = (stats.agree + 1.0) / (N + 2.0)
    var = (k / (k - 1.0)) ** 2 * smooth * (1.0 - smooth) / np.where(obs, N, 1.0)
    se = np.full_like(N, np.inf)
    np.sqrt(var, out=se, where=obs)
    return PairMoments(M=M, se=se, N=N)
