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

Triplets are evaluated in blocks of LFs with array operations; no Python loop
visits individual triplets.  LF i's candidates are the pairs among its
``MAX_PARTNERS`` co-voting LFs with the best-determined moments, so the work is
O(m * MAX_PARTNERS^2) and every pair is used when m <= MAX_PARTNERS + 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from ..kernels import Workspace, workspace
from ..stats import LabelStats
from .pairwise import PairMoments, pair_moments

SOLVERS = ("triplet", "triplet_mean", "triplet_median", "rank_one")
SIGNS = ("all_positive", "eigen")

#: Triplets for LF i use pairs among its MAX_PARTNERS best-determined co-voting LFs
#: (all pairs when m <= MAX_PARTNERS + 1), so the cost is O(m * MAX_PARTNERS^2).
MAX_PARTNERS = 100

#: Accuracy given to voting LFs without a usable triplet when no LF has one
#: (Snorkel's ``prec_init`` default).
DEFAULT_ACCURACY = 0.7

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
    below_chance : ndarray of bool, shape (m,)
        LFs estimated at or below chance accuracy (``b <= 0``): their votes count
        against the class they vote.
    own_share : ndarray, shape (m,), optional
        The share of each estimated LF's ``b`` that is its own estimate, the rest being the LFs'
        common mean (:func:`_shrink`): near 1 for an LF with many co-votes, 0 for every LF where
        the LFs' estimates do not differ beyond their sampling error; 1 for LFs not estimated.
        None where not computed (a model file written before session 41).
    """

    b: np.ndarray
    accuracies: np.ndarray
    estimated: np.ndarray
    n_candidates: np.ndarray
    below_chance: np.ndarray
    own_share: np.ndarray | None = None


def _partners(pm: PairMoments, max_partners: int) -> tuple[np.ndarray, np.ndarray]:
    """For each LF, the co-voting LFs with the best-determined moments (largest |z|).

    Returns
    -------
    idx : ndarray of int, shape (m, P)
    ok : ndarray of bool, shape (m, P)   (False pads LFs with fewer partners)
    """
    m = pm.M.shape[0]
    P = max(1, min(max_partners, m - 1))
    score = np.where(pm.observed, np.abs(pm.M) / pm.se, -1.0)
    np.fill_diagonal(score, -2.0)
    if P < m - 1:
        idx = np.argpartition(-score, P - 1, axis=1)[:, :P]
    else:
        idx = np.argsort(-score, axis=1)[:, :P]
    ok = np.take_along_axis(score, idx, axis=1) >= 0
    return idx, ok


class _PairTables:
    """Per-pair quantities of the triplet formula, computed once per solve (m x m).

    With x = |M_ij|, y = |M_il|, z = |M_jl| and their standard errors, the delta-method
    variance of sqrt(x y / z) is

        var = (u_ij y' + u_il x') / (4 z) + q_jl x' y' / 4,
        u = se^2 / max(|M|, se),   q = se^2 / max(|M|, se)^3,   x' = max(x, se_ij), y' = max(y, se_il)

    (the max() terms keep the linearisation finite when a moment is near 0, and keep it from
    vanishing: with x and y both 0 the plain form gives variance 0, and that triplet's value 0 took
    all the weight: bluebird's LF 34, right on 80 % of its votes, came out at chance because two
    other annotators agreed with it on exactly half of the items).
    """

    def __init__(self, pm: PairMoments, implied: np.ndarray | None = None) -> None:
        absM, se = np.abs(pm.M), pm.se
        # the moments the variance is evaluated at: the observed ones, or those a first solve implies
        # (|b_i b_j| of ``implied``), so that a triplet's variance does not read its own noise
        at = absM if implied is None else np.abs(np.outer(implied, implied))
        with np.errstate(invalid="ignore", over="ignore"):
            top = np.maximum(at, se)
            self.u = se**2 / top
            self.q = (self.u / top / top).ravel()
        self.top = top  # |M| floored at its standard error, for the variance (x', y' above)
        self.absM = absM
        self.se = se
        # Usable denominators; se is inf exactly where a pair never co-votes (N = 0).
        self.denom_ok = (absM >= np.maximum(MIN_DENOM, DENOM_Z * se)).ravel()
        self.z = absM.ravel()
        self.zv = self.z if implied is None else top.ravel()  # the denominator in the variance


def _triplet_candidates(tab: _PairTables, rows: np.ndarray, idx: np.ndarray, ok: np.ndarray):
    """Candidate |b_i| values and their variances for the LFs in ``rows``.

    Candidates come from the pairs (j, l), j before l, of partners of i.  Returns
    arrays of shape (len(rows), P (P - 1) / 2): value and variance (inf where unusable).
    """
    m = tab.absM.shape[0]
    J, jok = idx[rows], ok[rows]  # (r, P)
    a, b = np.triu_indices(J.shape[1], k=1)
    Mi = np.take_along_axis(tab.absM[rows], J, axis=1)  # |M_ij| over partners, (r, P)
    Ti = np.take_along_axis(tab.top[rows], J, axis=1)  # the same floored at their standard errors
    Ui = np.take_along_axis(tab.u[rows], J, axis=1)
    x, y = Mi[:, a], Mi[:, b]  # (r, T)
    xt, yt = Ti[:, a], Ti[:, b]
    flat = J[:, a] * m + J[:, b]
    z = tab.z.take(flat)  # |M_jl|
    usable = jok[:, a] & jok[:, b] & tab.denom_ok.take(flat)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        val = np.sqrt(x * y / z)
        var = 0.25 * ((Ui[:, a] * yt + Ui[:, b] * xt) / tab.zv.take(flat) + tab.q.take(flat) * (xt * yt))
    var = np.where(usable, np.maximum(var, 1e-12), np.inf)
    val = np.where(usable, np.minimum(val, 1.0), 0.0)
    return val, var


class _AllPairs:
    """Candidates when every other LF is a partner: one list of pairs (j < l) shared by
    all LFs, so the per-pair terms are gathered once instead of once per LF."""

    def __init__(self, tab: _PairTables) -> None:
        m = tab.absM.shape[0]
        self.a, self.b = np.triu_indices(m, k=1)
        flat = self.a * m + self.b
        self.z, self.q, self.denom_ok = tab.z[flat], tab.q[flat], tab.denom_ok[flat]
        self.zv = self.z if tab.zv is tab.z else tab.zv[flat]
        self.tab = tab

    def __call__(self, rows: np.ndarray, ws: Workspace):
        """Values and variances, shape (len(rows), m (m - 1) / 2), in work arrays of ``ws``
        (valid until the next call); pairs through i itself or through an LF that never
        co-votes with i come out unusable (u is NaN there)."""
        a, b = self.a, self.b
        shape = (len(rows), len(a))
        X, T, U = self.tab.absM[rows], self.tab.top[rows], self.tab.u[rows]
        x = np.take(X, a, axis=1, out=ws.get("tri_x", shape, np.float64))
        y = np.take(X, b, axis=1, out=ws.get("tri_y", shape, np.float64))
        val = np.multiply(x, y, out=ws.get("tri_val", shape, np.float64))
        xt = np.take(T, a, axis=1, out=x)  # x', y': the moments floored at their standard errors
        yt = np.take(T, b, axis=1, out=y)
        var = np.take(U, a, axis=1, out=ws.get("tri_var", shape, np.float64))
        t = ws.get("tri_xy", shape, np.float64)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            val /= self.z
            np.sqrt(val, out=val)
            var *= yt  # u_ij y'
            np.take(U, b, axis=1, out=t)
            t *= xt  # u_il x'
            var += t
            var /= self.zv
            np.multiply(xt, yt, out=t)
            t *= self.q
            var += t
            var *= 0.25
        bad = np.isfinite(var, out=ws.get("tri_bad", shape, np.bool_))
        bad &= self.denom_ok
        np.logical_not(bad, out=bad)
        np.maximum(var, 1e-12, out=var)
        np.copyto(var, np.inf, where=bad)
        np.minimum(val, 1.0, out=val)
        np.copyto(val, 0.0, where=bad)
        return val, var


def _weighted_median(val: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Row-wise weighted median of (r, c) arrays (rows with zero weight give 0)."""
    order = np.argsort(val, axis=1)
    v = np.take_along_axis(val, order, axis=1)
    cw = np.cumsum(np.take_along_axis(w, order, axis=1), axis=1)
    half = cw[:, -1:] / 2.0
    pos = np.minimum((cw < half).sum(axis=1), val.shape[1] - 1)
    return v[np.arange(val.shape[0]), pos]


def _triplet_magnitudes(
    pm: PairMoments, solver: str, max_partners: int = MAX_PARTNERS, block_cells: int = 1 << 18
) -> tuple[np.ndarray, np.ndarray]:
    """``|b_i|`` of every LF by ``solver`` over its triplets, and its number of usable triplets.

    Two passes.  A triplet's weight (its pick, for ``triplet``) is the inverse of its delta-method
    variance; evaluated at the observed moments, it reads the triplet's own noise: a triplet whose
    moments came out small has a small value and a small variance, and a triplet through a moment of
    exactly 0 has value 0 and often the smallest variance of all (the square root's linearisation at
    0), which put good LFs at chance under ``triplet``.  So the first pass (the weighted mean at the
    observed moments) gives the ``|b|`` that the variances of the second are evaluated at
    (``|b_i b_j|``, floored at the standard errors), as the weights of a two-step estimator are.
    """
    implied, _ = _triplet_pass(pm, "triplet_mean", None, max_partners, block_cells)
    return _triplet_pass(pm, solver, implied, max_partners, block_cells)


def _triplet_pass(
    pm: PairMoments, solver: str, implied: np.ndarray | None, max_partners: int, block_cells: int
) -> tuple[np.ndarray, np.ndarray]:
    """One pass of :func:`_triplet_magnitudes`, the variances at the moments ``implied`` gives (at the
    observed ones where None)."""
    m = pm.M.shape[0]
    mag = np.zeros(m)
    count = np.zeros(m, dtype=np.int64)
    tab = _PairTables(pm, implied)
    P = max(1, min(max_partners, m - 1))
    with workspace() as ws:
        if P == m - 1:
            candidates = partial(_AllPairs(tab), ws=ws)
        else:
            idx, ok = _partners(pm, P)
            candidates = partial(_triplet_candidates, tab, idx=idx, ok=ok)
        step = max(1, block_cells // max(1, P * (P - 1) // 2))
        for start in range(0, m, step):
            rows = np.arange(start, min(m, start + step))
            val, var = candidates(rows)
            r = len(rows)
            w = np.divide(1.0, var, out=ws.get("tri_w", var.shape, np.float64))  # 0 where unusable
            n = np.count_nonzero(w, axis=1)
            count[rows] = n
            if solver == "triplet":
                best = np.argmin(var, axis=1)
                est = val[np.arange(r), best]
            elif solver == "triplet_median":
                est = _weighted_median(val, w)
            else:
                wsum = w.sum(axis=1)
                wv = np.multiply(w, val, out=ws.get("tri_wv", var.shape, np.float64))
                est = np.divide(wv.sum(axis=1), wsum, out=np.zeros(r), where=wsum > 0)
            mag[rows] = np.where(n > 0, est, 0.0)
    return mag, count


def _pair_weights(pm: PairMoments) -> np.ndarray:
    return np.where(pm.observed, 1.0 / pm.se**2, 0.0)


def _zscores(pm: PairMoments) -> np.ndarray:
    return np.where(pm.observed, np.clip(pm.M / pm.se, -10.0, 10.0), 0.0)


def _signs(pm: PairMoments, mag: np.ndarray, vote_counts: np.ndarray) -> np.ndarray:
    """Signs from the leading eigenvector of the z-scored moment matrix.

    The overall sign is fixed by "LFs are better than random on average"
    (coverage- and magnitude-weighted).
    """
    m = len(mag)
    Z = _zscores(pm)
    if not np.any(Z):
        return np.ones(m)
    _, vecs = np.linalg.eigh(Z)
    lead = vecs[:, -1]
    s = np.where(lead < 0, -1.0, 1.0)
    s[np.abs(lead) < 1e-12] = 1.0
    if np.sum(s * mag * vote_counts) < 0:
        s = -s
    return s


#: An LF is turned worse than chance when its z-scored agreement with the signed others
#: (see :func:`_majority_signs`) is below minus this.
AGAINST_MAJORITY_Z = 3.0


def _majority_signs(
    pm: PairMoments, mag: np.ndarray, estimated: np.ndarray, vote_counts: np.ndarray
) -> np.ndarray:
    """Signs under ``signs="all_positive"``: LFs better than chance unless the data clearly say otherwise.

    The triplet formula gives |b_i| only; ``M_ij = b_i b_j`` fixes the relative signs,
    and one global sign stays free (flipping every LF and every label explains the
    data equally well).  Starting from all positive, an LF whose z-scored agreement
    with the others, signed as they currently are, is below ``-AGAINST_MAJORITY_Z``
    (``sum_j s_j z_ij / sqrt(#partners)``) is turned negative, until no sign changes.
    The global sign is then the one that makes most LFs better than chance, each
    weighted by how well its accuracy is determined (``|b_i| sqrt(votes_i)``), so a
    minority of adversarial LFs gets negative weights instead of inverting every label.

    Returns
    -------
    ndarray, shape (m,)
        +1 or -1 per LF.
    """
    m = len(mag)
    Z = _zscores(pm)
    scale = np.sqrt(np.maximum(pm.observed.sum(axis=1), 1))
    s = np.ones(m)
    for _ in range(m):
        evidence = (Z @ s) / scale
        new = np.where(estimated & (evidence < -AGAINST_MAJORITY_Z), -1.0, 1.0)
        if np.array_equal(new, s):
            break
        s = new
    weight = mag * np.sqrt(vote_counts)
    if np.sum(weight * s) < 0:
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


#: Each LF's ``b`` shrunk toward the LFs' common mean by its own precision (:func:`_shrink`; a study
#: switch: False gives the triplet estimates as they are).
SHRINK = True


def _shrink(pm: PairMoments, b: np.ndarray, estimated: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each estimated LF's ``b`` shrunk toward the LFs' random-effects mean by its own precision.

    LF i's moments ``M_ij = b_i b_j`` (standard errors ``se_ij``) determine ``b_i`` given the others
    with variance ``v_i = 1 / sum_j b_j^2 / se_ij^2`` (the least-squares fit of its row of moments).
    The spread of the LFs' true ``b`` is ``tau^2``, DerSimonian and Laird's moment estimate over the
    estimated LFs (Controlled Clinical Trials 7, 1986), and ``b_i`` becomes
    ``(tau^2 b_i + v_i mu) / (tau^2 + v_i)``, ``mu`` the mean weighted by ``1 / (v + tau^2)``: the
    empirical-Bayes estimate under a normal prior on the ``b``.  An LF seen on a handful of rows (a
    pair with one co-vote has ``|M| = 1`` whether the two agree or not, so every triplet through it
    said ``b = 1``: accuracy 1 - eps, overruling every other LF) gets the common mean; an LF with many
    co-votes keeps its own estimate; where the estimates do not differ beyond their sampling error
    (``tau^2 = 0``) every estimated LF gets the common mean, and the model ranks classes as majority
    vote does (a note says so).

    LFs read below chance (``b < 0``: :func:`_majority_signs` found their agreement with the others
    significantly negative) are not of the population the mean describes: they keep their estimate
    and enter neither ``mu`` nor ``tau^2`` (shrunk toward the positive mean, a sparse adversarial LF
    crossed 0 and its votes counted for the class they name).

    Parameters
    ----------
    pm : PairMoments
        The pair moments the magnitudes were solved from (declared dependencies left out).
    b : ndarray, shape (m,)
        Signed scaled accuracies after the signs and the clip.
    estimated : ndarray of bool, shape (m,)
        LFs with votes and at least one usable triplet.

    Returns
    -------
    b : ndarray, shape (m,)
    own_share : ndarray, shape (m,)
        ``tau^2 / (tau^2 + v_i)`` for the LFs shrunk (0 for every one where ``tau^2 = 0``), 1 for the
        others.
    """
    own = np.ones(len(b))
    idx = np.flatnonzero(estimated & (b >= 0))
    if len(idx) < 3:
        return b, own
    with np.errstate(divide="ignore"):
        v = 1.0 / (_pair_weights(pm)[idx] @ (b * b))  # (the rank-one fit's weights; diagonal unobserved)
    ok = np.isfinite(v) & (v > 0)
    if ok.sum() < 3:
        return b, own
    bi, vi = b[idx][ok], v[ok]
    w = 1.0 / vi
    mean_w = float(np.sum(w * bi) / w.sum())
    q = float(np.sum(w * (bi - mean_w) ** 2))
    c = float(w.sum() - np.sum(w**2) / w.sum())
    tau2 = max(0.0, (q - (len(bi) - 1)) / c) if c > 0 else 0.0
    re = 1.0 / (vi + tau2)
    mu = float(np.sum(re * bi) / re.sum())
    # an estimated LF whose v is not finite (no informative co-vote) takes the common mean
    share = np.zeros(len(idx))
    share[ok] = tau2 / (tau2 + vi)
    out = b.copy()
    out[idx] = share * b[idx] + (1.0 - share) * mu
    own[idx] = share
    return out, own


def unipolar_pairs(stats: LabelStats) -> np.ndarray:
    """Pairs of LFs that each vote a single class: their agreement is fixed by
    construction (always or never), so it says nothing about accuracy."""
    single = (stats.class_counts > 0).sum(axis=1) == 1
    return single[:, None] & single[None, :]


# Over 60 lines: the solver dispatch (four solvers, two sign rules) and the per-LF bookkeeping of
# one solve share the pair moments; kept in one place so the solvers differ visibly.
def estimate_symmetric(
    stats: LabelStats,
    solver: str = "triplet_mean",
    *,
    exclude: np.ndarray | None = None,
    eps: float = 1e-4,
    signs: str = "all_positive",
    skip_unipolar_pairs: bool = True,
    default_accuracy: float = DEFAULT_ACCURACY,
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
    signs : {"all_positive", "eigen"}
        ``all_positive`` (default): every LF is better than chance (as FlyingSquid)
        unless its agreements clearly say it is worse than the others' majority:
        then it gets a negative ``b`` (and ``below_chance``) instead of inverting
        every label (:func:`_majority_signs`).
        ``eigen``: relative signs from the leading eigenvector of the z-scored
        moments, oriented so that LFs are better than chance on average.
    skip_unipolar_pairs : bool
        Leave out pairs of LFs that each vote one class only (their agreement is
        fixed by construction, so it carries no accuracy information).
    default_accuracy : float
        Accuracy given to voting LFs without a usable triplet when no LF has one;
        otherwise they get the vote-weighted mean ``b`` of the estimated LFs.

    Returns
    -------
    SymmetricEstimate
    """
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; choose one of {', '.join(SOLVERS)}")
    if signs not in SIGNS:
        raise ValueError(f"unknown signs {signs!r}; choose one of {', '.join(SIGNS)}")
    k = stats.cardinality
    if skip_unipolar_pairs:
        uni = unipolar_pairs(stats)
        exclude = uni if exclude is None else (exclude | uni)
    pm = pair_moments(stats, exclude)
    mag, count = _triplet_magnitudes(pm, "triplet_mean" if solver == "rank_one" else solver)
    votes = stats.vote_counts
    estimated = (count > 0) & (votes > 0)
    if signs == "all_positive":
        b = _majority_signs(pm, mag, estimated, votes) * mag
    else:
        b = _signs(pm, mag, votes) * mag
    if solver == "rank_one":
        b = _rank_one_refine(pm, b)
    b = np.clip(b, -1.0 / (k - 1), 1.0)
    own = np.ones(len(b))
    if SHRINK:
        b, own = _shrink(pm, b, estimated)
    below = estimated & (b <= 0)
    if estimated.any():
        w = votes[estimated]
        fallback = float(np.sum(w * b[estimated]) / w.sum())
    else:
        fallback = (k * default_accuracy - 1) / (k - 1)
    b = np.where(estimated, b, np.where(votes > 0, fallback, 0.0))
    alpha = np.clip((1.0 + (k - 1) * b) / k, eps, 1.0 - eps)
    return SymmetricEstimate(b, alpha, estimated, count, below, own)
