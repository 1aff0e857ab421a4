"""Closed-form estimation of the class-conditional (Dawid-Skene) label model.

Each LF i has a full table ``P(lambda_i = a | Y = y)`` with abstain as an outcome
(so unipolar LFs and class-dependent abstention are modelled), LFs are
conditionally independent given Y, and ``p = P(Y)`` is unknown.  The fit is a
method of moments in three steps (see :mod:`.moments` for the notation):

1. **Second moments, all LF pairs.**  The off-diagonal blocks of the covariance
   of the one-hot votes are ``G_i G_j^T`` with ``G`` of rank k - 1; ``G`` is fitted
   by alternating least squares over every pair (rank one for k = 2).
   With the vote rates ``mu_i`` this gives ``F_i = [G_i, mu_i] = C_i D^{1/2} O``:
   the tables up to one orthogonal (k, k) matrix ``O`` shared by all LFs, where
   ``O v = sqrt(p)`` for ``v`` = the last unit vector.
2. **Third moments, pooled over the LFs.**  The statistics hold the third moment
   ``T`` of each row's pooled vote counts ``z = (sum_i x_i, 1)``
   (:mod:`tripletws.stats`), which does not depend on the order of the LF columns.
   The terms in which an LF meets itself are removed
   (:func:`.moments.distinct_triple`); what is left is a known linear function of
   ``M = sum_y p_y^{-1/2} o_y (x) o_y (x) o_y`` (with ``W = [sum_i F_i ; v^T]`` and
   the ``F_i``; :func:`.moments.pooled_moment`), solved for M: an orthogonal
   tensor, decomposed by eigenvectors of one contraction (Jennrich) in a basis
   fixed by the data (:func:`.moments.canonical_basis`), so the fit is invariant to
   the LF order.  Then ``p_y = (o_y . v)^2`` and
   ``C_i[:, y] = F_i o_y / sqrt(p_y)``.  For k = 2 this is the rank-one
   construction with the class balance from the third moments (the rotation
   angle of O is the class balance); for k > 2 it is the spectral method for
   latent class models (Anandkumar et al. 2012; Zhang et al. 2014), whitened
   with the all-pairs second-moment fit.
3. **Orientation.**  Components come out in arbitrary order; they are matched to
   classes so that the LFs vote for a class more when it is the true one
   (assignment on the vote tables summed over LFs): the majority decides, and an LF that comes out worse than
   chance is named in a warning.

A known class balance replaces step 2 for k = 2 (it fixes O up to a reflection,
decided by step 3); for k > 2 the third moments still fix O and the known
balance replaces the estimated one in ``C_i[:, y] = F_i o_y / sqrt(p_y)``.
Tables are projected onto valid probabilities.  When the statistics do not
identify the model (a vote covariance no larger than its sampling noise, a
nearly rank-deficient factor, a degenerate decomposition, no third moment), the
estimator falls back to the symmetric model's triplet solution with a warning,
and the EM polish (see :mod:`.em`) can take it from there.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..params import LabelModelParams
from ..stats import MAX_TRIPLE_CLASSES, LabelStats
from .class_balance import MIN_CLASS_PROB, project_to_simplex
from .moments import (
    canonical_basis,
    distinct_triple,
    max_signal_rank,
    noise_edge,
    offdiagonal_factor,
    orthogonal_tensor_eig,
    pooled_moment,
    project_to_simplex_rows,
    vote_moments,
)
from .symmetric import estimate_symmetric

#: Largest acceptable condition number of the summed factor W = [sum_i F_i ; v^T].
MAX_VIEW_CONDITION = 100.0
#: The third moments must rest on at least this many co-voting triples of distinct LFs per
#: distinct cell of the symmetric (k, k, k) table (k (k + 1) (k + 2) / 6 cells): a cell count
#: of 50 has a relative standard error of about 1 / sqrt(50) = 0.14.  Below, the class balance
#: they imply is noise (sms: 147 triples, 78 rows with three or more votes).
MIN_TRIPLES_PER_CELL = 50
#: Smallest acceptable relative eigenvalue gap of the tensor contraction.
MIN_EIGEN_GAP = 1e-6
#: The (k-1)-th eigenvalue of the zero-diagonal covariance must exceed the sampling-noise
#: edge by this factor, or the second moments carry no usable class signal.
MIN_SIGNAL_TO_NOISE = 1.0


@dataclass(frozen=True)
class ClassConditionalEstimate:
    """Result of a class-conditional moment fit.

    Attributes
    ----------
    params : LabelModelParams
        Estimated (or given) class balance and the (m, k + 1, k) vote table.
    method : str
        ``"moments"``; ``"moments (given class balance)"`` for k = 2 with a
        known prior; ``"symmetric fallback"`` when the moments could not be used.
    view_condition : float
        Condition number of the summed factor ``W = [sum_i F_i ; v^T]`` (nan if unused).
    eigen_gap : float
        Relative eigenvalue gap of the tensor decomposition (nan if unused).
    n_iter : int
        Alternating-least-squares iterations of the second-moment fit.
    signal_to_noise : float
        Smallest of the k - 1 leading eigenvalues of the zero-diagonal vote
        covariance over the edge of its sampling noise (:func:`.moments.noise_edge`).
    note : str
        Why the fallback was taken (empty otherwise).
    misoriented : float
        Share of the votes cast by (LF, class) pairs whose fitted table says the
        LF votes that class less often when it is the true one (a diagnostic:
        a large share hints at strongly dependent LFs; nan if unused).
    """

    params: LabelModelParams
    method: str
    view_condition: float = float("nan")
    eigen_gap: float = float("nan")
    n_iter: int = 0
    signal_to_noise: float = float("nan")
    note: str = ""
    misoriented: float = float("nan")


def _orientation_score(tables: np.ndarray) -> np.ndarray:
    """``S[a, y]`` = summed over LFs ``P(vote a | component y)``, shape (k, k)."""
    return tables.sum(axis=0)


def _match_classes(tables: np.ndarray) -> np.ndarray:
    """Permutation ``perm`` such that component ``perm[c]`` is class c.

    The majority of the LFs decides (an LF's weight in the summed tables grows with
    its vote rate): a minority of adversarial LFs ends up worse than chance instead
    of swapping the classes.
    """
    S = _orientation_score(tables)
    if S.shape[0] == 2:
        keep = S[0, 0] + S[1, 1] >= S[0, 1] + S[1, 0]
        return np.array([0, 1]) if keep else np.array([1, 0])
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(-S)
    perm = np.empty(len(rows), dtype=np.int64)
    perm[rows] = cols
    return perm


def misoriented_share(tables: np.ndarray, class_counts: np.ndarray) -> float:
    """Share of all votes cast by (LF, class) pairs whose table contradicts the orientation rule.

    Pair (i, c) is misoriented when LF i votes c less often under Y = c than under
    some other class.

    Parameters
    ----------
    tables : ndarray, shape (m, k, k)
        ``P(lambda_i = a | Y = y)`` for the votes (abstain row excluded).
    class_counts : ndarray, shape (m, k)
        Votes of each LF for each class.
    """
    k = tables.shape[1]
    idx = np.arange(k)
    own = tables[:, idx, idx]  # (m, k)
    other = np.where(np.eye(k, dtype=bool)[None], -np.inf, tables).max(axis=2)
    bad = own < other
    total = class_counts.sum()
    return float(class_counts[bad].sum() / total) if total > 0 else 0.0


def worse_than_chance(params: LabelModelParams, vote_counts: np.ndarray) -> np.ndarray:
    """LFs whose fitted table makes them right less often than any guess that ignores Y.

    ``P(right | votes)`` must fall below both 1/k (a uniform guess) and
    ``sum_a P(lambda_i = a | votes) p_a`` (a voter with LF i's vote rates drawn
    independently of Y).  The first bound keeps a majority-class LF that is merely
    less accurate than the prior (legitimate under a skewed class balance) out.

    Returns
    -------
    ndarray of bool, shape (m,)
    """
    p = params.class_balance
    votes = params.cond_probs[:, 1:, :]  # (m, k, k) P(vote a | y)
    marginal = np.einsum("iay,y->ia", votes, p)  # P(lambda_i = a)
    rate = marginal.sum(axis=1)
    chance = np.divide(marginal @ p, rate, out=np.zeros_like(rate), where=rate > 0)
    chance = np.minimum(chance, 1.0 / len(p))
    return (vote_counts > 0) & (params.accuracies < chance)


def _warn_worse_than_chance(params: LabelModelParams, vote_counts: np.ndarray) -> None:
    bad = np.flatnonzero(worse_than_chance(params, vote_counts))
    if bad.size:
        warnings.warn(
            f"LF(s) {', '.join(str(int(i)) for i in bad[:10])}{' ...' if bad.size > 10 else ''} are "
            "estimated worse than chance against the majority of the LFs: their votes count against "
            "the class they vote",
            UserWarning,
            stacklevel=3,
        )


def _finish(tables: np.ndarray, p: np.ndarray, eps: float) -> LabelModelParams:
    """Assemble the (m, k + 1, k) table (abstain row first) and project to valid probabilities."""
    m, k, _ = tables.shape
    cp = np.empty((m, k + 1, k))
    cp[:, 1:, :] = tables
    cp[:, 0, :] = 1.0 - tables.sum(axis=1)
    cols = project_to_simplex_rows(cp.transpose(0, 2, 1), floor=eps)  # (m, k, k + 1)
    cp = cols.transpose(0, 2, 1).copy()
    return LabelModelParams(project_to_simplex(p), cp)


def _rotation_from_prior(p: np.ndarray) -> list[np.ndarray]:
    """Both orthogonal O (k = 2) with ``O e_2 = sqrt(p)``."""
    a, b = np.sqrt(p)
    return [np.array([[s * b, a], [-s * a, b]]) for s in (1.0, -1.0)]


def _tables(F: np.ndarray, Q: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``C_i[:, y] = F_i q_y / sqrt(p_y)`` for the rows ``q_y`` of Q, shape (m, k, k)."""
    return np.einsum("iar,yr->iay", F, Q) / np.sqrt(p)[None, None, :]


def symmetric_fallback(
    stats: LabelStats, class_balance: np.ndarray | None, eps: float, solver: str = "triplet_mean"
) -> LabelModelParams:
    """The symmetric model's triplet solution as a class-conditional table.

    The prior is ``class_balance`` when given, else uniform (the symmetric
    model's robust default: its own class-balance estimate is misled by the
    unipolar LFs that typically make the class-conditional fit fail).
    """
    est = estimate_symmetric(stats, solver, eps=eps)
    k = stats.cardinality
    prior = np.full(k, 1.0 / k) if class_balance is None else np.asarray(class_balance, dtype=np.float64)
    return LabelModelParams.symmetric(est.accuracies, stats.coverage, prior)


# Over 60 lines: the three steps of the moment method (module docstring) with an early fallback
# after each; they share F, v and the diagnostics.
def estimate_class_conditional(
    stats: LabelStats,
    class_balance: np.ndarray | None = None,
    eps: float = 1e-4,
    solver: str = "triplet_mean",
) -> ClassConditionalEstimate:
    """Fit the class-conditional model in closed form from statistics.

    Parameters
    ----------
    stats : LabelStats
        With ``joint`` (always needed) and ``triple`` (needed unless k = 2 and
        ``class_balance`` is given): ``compute_stats(L, k, joint=True, triple=True)``.
    class_balance : ndarray of shape (k,), optional
        Known ``P(Y)``; estimated from the third moments when omitted.
    eps : float
        Every table entry is kept at least ``eps``.
    solver : str
        Symmetric-model solver of the fallback.

    Returns
    -------
    ClassConditionalEstimate
    """
    k, m = stats.cardinality, stats.n_lfs
    if m < 3:
        raise ValueError(f"the class-conditional model needs at least 3 labeling functions, got {m}")
    if k - 1 > max_signal_rank(stats):
        # rank k - 1 cannot rise above the noise: skip the O((m k)^2) and O((m k)^3) work
        warnings.warn(
            f"class-conditional moments not usable (k - 1 = {k - 1} covariance directions, but "
            f"{stats.n_rows:g} rows and {int(np.count_nonzero(stats.class_counts))} voted (LF, class) "
            "pairs support at most "
            f"{max_signal_rank(stats)}); starting from the symmetric model's triplet solution instead",
            UserWarning,
            stacklevel=2,
        )
        params = symmetric_fallback(stats, class_balance, eps, solver)
        return ClassConditionalEstimate(
            params, "symmetric fallback", signal_to_noise=0.0, note="k beyond what the data support"
        )
    mu, cov = vote_moments(stats)
    edge = max(noise_edge(stats), 1e-300)
    # min_top: the fit is skipped where the signal check below would fail anyway
    G, n_iter, top = offdiagonal_factor(cov, k - 1, min_top=MIN_SIGNAL_TO_NOISE * edge)
    G = canonical_basis(G)
    snr = float(top[-1] / edge)
    F = np.concatenate([G, mu[:, :, None]], axis=2)  # (m, k, k) = C_i D^1/2 O
    v = np.zeros(k)
    v[-1] = 1.0

    def fallback(note: str) -> ClassConditionalEstimate:
        warnings.warn(
            f"class-conditional moments not usable ({note}); starting from the symmetric model's "
            "triplet solution instead",
            UserWarning,
            stacklevel=3,
        )
        params = symmetric_fallback(stats, class_balance, eps, solver)
        return ClassConditionalEstimate(
            params, "symmetric fallback", n_iter=n_iter, signal_to_noise=snr, note=note
        )

    if not snr >= MIN_SIGNAL_TO_NOISE:
        return fallback(f"the vote covariance does not rise above its sampling noise (ratio {snr:.2f})")
    if class_balance is not None and k == 2:
        p = np.asarray(class_balance, dtype=np.float64)
        candidates = [_tables(F, Q, p) for Q in _rotation_from_prior(p)]
        scores = [np.trace(_orientation_score(t)) for t in candidates]
        tables = candidates[int(np.argmax(scores))]
        params = _finish(tables, p, eps)
        _warn_worse_than_chance(params, stats.vote_counts)
        return ClassConditionalEstimate(
            params, "moments (given class balance)", n_iter=n_iter, signal_to_noise=snr
        )

    if stats.triple is None:
        if k > MAX_TRIPLE_CLASSES:
            return fallback(f"k = {k} classes is above the third moment's limit of {MAX_TRIPLE_CLASSES}")
        return fallback("no third-moment statistic: compute_stats(..., triple=True)")
    Td = distinct_triple(stats.triple / max(stats.n_rows, 1e-300))
    n_triples = float(Td[:k, :k, :k].sum()) * stats.n_rows / 6.0
    cells = k * (k + 1) * (k + 2) // 6
    if not n_triples >= MIN_TRIPLES_PER_CELL * cells:
        return fallback(
            f"only {n_triples:.0f} co-voting triples of distinct LFs carry the third moments; "
            f"{MIN_TRIPLES_PER_CELL * cells} needed for {k} classes"
        )
    Tw, cond = pooled_moment(Td, F, v)
    if not np.isfinite(cond) or cond > MAX_VIEW_CONDITION:
        return fallback(f"the LFs' summed vote means are (nearly) rank deficient, condition {cond:.3g}")
    if not np.all(np.isfinite(Tw)):
        return fallback("non-finite third moments")
    Q, gap = orthogonal_tensor_eig(Tw, v)
    if not np.isfinite(gap) or gap < MIN_EIGEN_GAP:
        return fallback(f"degenerate third-moment decomposition (eigenvalue gap {gap:.3g})")
    Q = Q * np.where(Q @ v < 0, -1.0, 1.0)[:, None]  # o_y . v = sqrt(p_y) > 0
    p_comp = np.maximum((Q @ v) ** 2, MIN_CLASS_PROB)
    tables = _tables(F, Q, p_comp)
    perm = _match_classes(tables)
    tables = tables[:, :, perm]
    p_est = p_comp[perm] / p_comp.sum()
    share = misoriented_share(tables, stats.class_counts)
    if class_balance is not None:
        tables = tables * np.sqrt(p_est / np.asarray(class_balance))[None, None, :]
        p_est = np.asarray(class_balance, dtype=np.float64)
    if not np.all(np.isfinite(tables)):
        return fallback("non-finite tables")
    params = _finish(tables, p_est, eps)
    _warn_worse_than_chance(params, stats.vote_counts)
    return ClassConditionalEstimate(
        params,
        "moments",
        view_condition=cond,
        eigen_gap=gap,
        n_iter=n_iter,
        signal_to_noise=snr,
        misoriented=share,
    )
