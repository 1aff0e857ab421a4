"""LFs that depend on each other only in part: down-weighted in a weighted (composite) likelihood.

A study option (``tripletws.models.annotator.SOFTDEP``, off by default).  Near-copies are counted
once (:mod:`tripletws.estimators.copies`); LFs that co-fire part of the time (a shared hidden
feature, keyword LFs written on related words) have an excess agreement share
``s_ij = (o_ij - e_ij) / (1 - e_ij)`` well below 1/2, so the conditionally independent model reads
them as independent witnesses and can take a co-firing group for the class.

Here each pair's share is estimated against a null fit (``e_ij`` as in
:func:`tripletws.estimators.copies.expected_agreement`, full tables counted under the null fit's
posterior); pairs whose share is significantly above 0 (one-sided z-test, Bonferroni over the pairs
of LFs that vote, family-wise level :data:`tripletws.estimators.copies.ALPHA`) count.  LF ``i`` gets
the weight

    w_i = 1 / (1 + sum_j s_ij)     (over its significant pairs; s clipped to [0, 1])

an effective number of witnesses: ``g`` exact copies get ``1 / g`` each, together one witness; LFs
without significant excess agreement keep weight 1.  The family is then refitted by EM on the
weighted log-likelihood ``sum_r log sum_y p_y prod_i P(a_ri | y)^{w_i}`` (a composite likelihood,
Varin, Reid and Firth 2011, Statistica Sinica 21, 5-42): the E-step weights each LF's log-table by
``w_i``; each LF's M-step is the unweighted one (its weight multiplies its whole term, so the
maximiser is the same).  Predictions use the same weights (:func:`tempered`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import LabelModelParams
from ..rows import RowSummary
from ..top_classes import top_classes
from .annotator_design import _logsumexp
from .copies import ALPHA, _normal_isf, expected_agreement, outcome_agreement, posterior_tables
from .votes import summary_votes

_FLOOR = 1e-6


@dataclass(frozen=True)
class SoftDependence:
    """Pairs of LFs with significant excess agreement and the weights they give.

    Attributes
    ----------
    weights : ndarray, shape (m,)
        ``1 / (1 + sum_j s_ij)`` over each LF's significant pairs (1 for the others).
    pairs : ndarray of int, shape (P, 2)
        The significant pairs (``i < j``).
    share : ndarray, shape (P,)
        Their excess agreement shares.
    n_pairs : int
        Pairs tested (the Bonferroni count).
    z_crit : float
    """

    weights: np.ndarray
    pairs: np.ndarray
    share: np.ndarray
    n_pairs: int
    z_crit: float


def dependence_weights(rows: RowSummary, params: LabelModelParams, alpha: float = ALPHA) -> SoftDependence:
    """The weights of :mod:`tripletws.estimators.softdep` from the rows and a null fit.

    Parameters
    ----------
    rows : RowSummary
        Distinct rows (R, m) and counts (R,).
    params : LabelModelParams
        The null fit (conditionally independent); its posterior counts the full tables of ``e_ij``.
    alpha : float
        Family-wise level (Bonferroni over the pairs of LFs that vote on a counted row).

    Returns
    -------
    SoftDependence
    """
    m = rows.n_lfs
    ones = np.ones(m)
    empty = np.zeros((0, 2), dtype=np.int64)
    r, i, _ = summary_votes(rows)
    counted = rows.counts[r] > 0
    lfs = np.unique(i[counted])
    n_pairs = len(lfs) * (len(lfs) - 1) // 2
    if n_pairs == 0 or float(rows.counts.sum()) <= 1:
        return SoftDependence(ones, empty, np.zeros(0), n_pairs, 0.0)
    z_crit = _normal_isf(alpha / n_pairs)
    iu, ju, obs, n = outcome_agreement(rows, lfs, (r, i))
    null = posterior_tables(rows, params, summary_votes(rows))
    e = np.clip(expected_agreement(null, iu, ju), 0.0, 1.0 - 1e-12)
    z = (obs - e) / np.sqrt(np.maximum(e * (1.0 - e), 1e-300) / n)
    flag = z > z_crit
    share = np.clip((obs - e) / (1.0 - e), 0.0, 1.0)[flag]
    iu, ju = iu[flag], ju[flag]
    total = np.bincount(iu, weights=share, minlength=m) + np.bincount(ju, weights=share, minlength=m)
    return SoftDependence(1.0 / (1.0 + total), np.stack([iu, ju], axis=1), share, n_pairs, z_crit)


def _e_step(
    base: np.ndarray, r: np.ndarray, gains: np.ndarray, R: int, c: np.ndarray, n: float
) -> tuple[np.ndarray, float]:
    """The weighted E-step over the distinct rows.

    Parameters
    ----------
    base : ndarray, shape (k,)
        Log-score of every row before its votes (log prior, plus the abstentions' log-probabilities).
    r : ndarray of int, shape (V,)
        The row of each vote.
    gains : ndarray, shape (V, k)
        Each vote's weighted log-probability gain per class.
    R : int
        Distinct rows.
    c : ndarray, shape (R,)
        Their counts.
    n : float
        Counted rows.

    Returns
    -------
    (q, ll)
        The posterior (R, k) and the mean log-likelihood per counted row.
    """
    s = np.tile(base, (R, 1))
    for y in range(len(base)):
        s[:, y] += np.bincount(r, weights=gains[:, y], minlength=R)
    lse, q = _logsumexp(s, axis=1)
    return q, float(c @ lse) / max(n, 1e-300)


def weighted_em(
    rows: RowSummary,
    family: str,
    weights: np.ndarray,
    class_balance: np.ndarray,
    *,
    max_steps: int = 100,
    tol: float = 1e-7,
) -> LabelModelParams:
    """Refit a vote-only family (``"mv"``, ``"one_coin"``, ``"mace"``) on the weighted likelihood.

    Abstentions are "not assigned" (class-independent, each LF's coverage in the rows), as in
    :mod:`tripletws.estimators.annotator`; the M-steps are its MAP updates (Beta(2, 2)-like
    pseudo-votes on the accuracy, ``theta``; MACE's ``xi`` smoothed by the LF's own vote shares).
    EM starts from the weighted majority vote's soft labels.

    Parameters
    ----------
    rows : RowSummary
        Distinct rows (R, m), counts (R,).
    family : str
    weights : ndarray, shape (m,)
        Each LF's weight in the E-step (:func:`dependence_weights`).
    class_balance : ndarray, shape (k,)
        Fixed prior P(Y).

    Returns
    -------
    LabelModelParams
        Unweighted tables (m, k + 1, k) and ``class_balance``; predict with :func:`tempered`.
    """
    if family not in ("mv", "one_coin", "mace"):
        raise ValueError(f"weighted EM fits the vote-only families, not {family!r}")
    k, m = rows.cardinality, rows.n_lfs
    c = rows.counts.astype(np.float64)
    r, i, a = summary_votes(rows)
    r, i, a = np.asarray(r), np.asarray(i), np.asarray(a, dtype=np.int64)
    R = rows.n_unique
    # observed votes per LF and class (k, m), votes per LF (m,)
    obs = np.bincount(a * m + i, weights=c[r], minlength=k * m).reshape(k, m)
    n_i = obs.sum(axis=0)
    xi_prior = (obs + 1e-3) / (n_i + 1e-3 * k)
    n = float(c.sum())
    cov = np.clip(n_i / max(n, 1e-300), 0.0, 1.0)
    log_p = np.log(np.maximum(class_balance, 1e-300))
    w = weights[i]
    # weighted majority vote's soft labels: uniform over the classes of the top weighted count
    score = np.zeros((R, k))
    np.add.at(score, (r, a), w)
    top = top_classes(score, 1e-12)
    q = top / top.sum(axis=1, keepdims=True)
    theta = np.full(m, 0.5)
    xi = (obs + 1e-3) / (obs + 1e-3).sum(axis=0)
    last = -np.inf
    V = np.empty((m, k, k))  # V[i, a, y] = P(vote a | y, votes)
    for step in range(max_steps):
        # M-step: expected votes for the class given (right[y, i] = sum_r c q[r, y] 1[a_ri = y])
        qv = q[r, a] * c[r]  # each vote's weight on "it names the class"
        right_i = np.bincount(i, weights=qv, minlength=m)
        if family == "mv":
            acc = np.full(m, (right_i.sum() + 1.0) / (n_i.sum() + 2.0))
        elif family == "one_coin":
            acc = (right_i + 1.0) / (n_i + 2.0)
        if family in ("mv", "one_coin"):
            acc = np.clip(acc, _FLOOR, 1.0 - _FLOOR)
            V[:] = ((1.0 - acc) / max(k - 1, 1))[:, None, None]
            V[:, np.arange(k), np.arange(k)] = acc[:, None]
        else:
            right = np.bincount(a * m + i, weights=qv, minlength=k * m).reshape(k, m)
            for _ in range(3 if step == 0 else 1):
                share = theta / np.maximum(theta + (1.0 - theta) * xi, 1e-300)
                knows = right * share
                theta = np.clip((knows.sum(axis=0) + 1.0) / (n_i + 2.0), _FLOOR, 1.0 - _FLOOR)
                rest = np.maximum(obs - knows, 0.0) + xi_prior
                xi = rest / rest.sum(axis=0)
            V = ((1.0 - theta)[None, :] * xi).T[:, :, None] + theta[:, None, None] * np.eye(k)[None]
        # weighted E-step
        logV = np.log(np.maximum(V, 1e-300))
        gain = w[:, None] * logV[i, a, :]  # (votes, k)
        q, ll = _e_step(log_p, r, gain, R, c, n)
        if ll - last < tol:
            break
        last = ll
    T = np.empty((m, k + 1, k))
    T[:, 0, :] = (1.0 - cov)[:, None]
    T[:, 1:, :] = cov[:, None, None] * V
    return LabelModelParams(np.asarray(class_balance, dtype=np.float64).copy(), T)


def tempered(params: LabelModelParams, weights: np.ndarray) -> LabelModelParams:
    """Tables whose posterior is the weighted one, ``P(y | row) ~ p_y prod_i T[i, a_ri, y]^{w_i}``.

    ``T[i]^{w_i}`` renormalised over the outcomes (abstain included) by ``Z_i(y)``; every LF gives
    one outcome per row, so ``prod_i Z_i(y)`` is a factor per class, put into the class balance.
    Exact for prediction; the tables' accuracies and the class balance are then the tempered ones.

    Parameters
    ----------
    params : LabelModelParams
        Tables (m, k + 1, k), class balance (k,).
    weights : ndarray, shape (m,)

    Returns
    -------
    LabelModelParams
    """
    T = np.maximum(params.cond_probs, 1e-300) ** weights[:, None, None]
    Z = T.sum(axis=1)  # (m, k)
    log_p = np.log(np.maximum(params.class_balance, 1e-300)) + np.log(Z).sum(axis=0)
    p = np.exp(log_p - log_p.max())
    return LabelModelParams(p / p.sum(), T / Z[:, None, :])


def weighted_em_coverage(
    rows: RowSummary,
    family: str,
    weights: np.ndarray,
    class_balance: np.ndarray,
    *,
    estimate_balance: bool = False,
    max_steps: int = 100,
    tol: float = 1e-7,
) -> LabelModelParams:
    """Refit a coverage family (``"mace_coverage"``, ``"shared_coverage"``) on the weighted likelihood.

    The coverage reading's tables are over every outcome (abstain included), so the weighted E-step
    reads ``w_i log T[i, a_ri, y]`` for every cell (abstentions through each LF's abstain row plus,
    for each vote, its gain over abstaining); the M-steps are
    :class:`tripletws.estimators.one_class.CoverageTables`' (unweighted, as in :func:`weighted_em`).

    Parameters
    ----------
    rows : RowSummary
    family : str
    weights : ndarray, shape (m,)
    class_balance : ndarray, shape (k,)
        Prior P(Y): fixed, or the start of its estimate.
    estimate_balance : bool
        Estimate P(Y) in the M-step (the weighted soft labels' mean, floored at 1e-3) instead,
        starting from uniform.

    Returns
    -------
    LabelModelParams
        Unweighted tables (m, k + 1, k); predict with :func:`tempered`.
    """
    from .one_class import CoverageTables

    k, m = rows.cardinality, rows.n_lfs
    c = rows.counts.astype(np.float64)
    r, i, a = summary_votes(rows)
    r, i, a = np.asarray(r), np.asarray(i), np.asarray(a, dtype=np.int64)
    R = rows.n_unique
    n = float(c.sum())
    votes = np.bincount(i * k + a, weights=c[r], minlength=m * k).reshape(m, k)
    obs = np.empty((m, k + 1))
    obs[:, 1:] = votes
    obs[:, 0] = n - votes.sum(axis=1)
    tables = CoverageTables(family, obs[None], np.array([n]))
    if estimate_balance:  # from uniform: a balance the co-firing LFs moved is not a start to keep
        class_balance = np.full(k, 1.0 / k)
    log_p = np.log(np.maximum(class_balance, 1e-300))
    w = weights[i]
    score = np.zeros((R, k))
    np.add.at(score, (r, a), w)
    top = top_classes(score, 1e-12)
    q = top / top.sum(axis=1, keepdims=True)
    cell = i * k + a
    last = -np.inf
    T = np.empty((m, k + 1, k))
    for _ in range(max_steps):
        W = q * c[:, None]  # (R, k)
        N = np.empty((m, k + 1, k))
        for y in range(k):
            N[:, 1:, y] = np.bincount(cell, weights=W[r, y], minlength=m * k).reshape(m, k)
        N[:, 0, :] = W.sum(axis=0)[None, :] - N[:, 1:, :].sum(axis=1)
        N[:, 0, :] = np.maximum(N[:, 0, :], 0.0)
        T = tables.step(N[None])[0]
        if estimate_balance and np.isfinite(last):
            p = np.maximum(W.sum(axis=0) / max(n, 1e-300), 1e-3)
            class_balance = p / p.sum()
            log_p = np.log(class_balance)
        logt = np.log(np.maximum(T, 1e-300)) * weights[:, None, None]
        base = log_p + logt[:, 0, :].sum(axis=0)
        gains = (logt[:, 1:, :] - logt[:, :1, :]).reshape(-1, k)[cell]  # (votes, k)
        q, ll = _e_step(base, r, gains, R, c, n)
        if ll - last < tol:
            break
        last = ll
    return LabelModelParams(np.asarray(class_balance, dtype=np.float64).copy(), T)
