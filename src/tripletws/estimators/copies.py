"""LFs that copy each other: found from the distinct rows, counted once.

A conditionally independent model reads two LFs that give the same outcome (vote or abstain)
on almost every row as two witnesses that agree because both are right: it makes them very
accurate and lets them outvote the others.  Under conditional independence given ``Y`` the
outcomes of LFs ``i`` and ``j`` are equal with probability

    e_ij = sum_y p_y sum_a T[i, a, y] T[j, a, y]        (a = 0 abstain, a = c + 1 a vote for c)

for the fitted tables ``T`` (m, k + 1, k).  A *near-copy* ``j`` of ``i`` gives ``i``'s outcome
with probability ``s`` (its copy share) and otherwise an outcome of its own, so its outcomes
equal ``i``'s with probability ``o_ij = s + (1 - s) e_ij`` and ``s = (o_ij - e_ij) / (1 - e_ij)``.
A pair is flagged when its observed share of equal outcomes shows ``s > 1/2`` (more often a
copy than not) at a family-wise level :data:`ALPHA` (one-sided binomial z-test against
``e_ij + (1 - e_ij) / 2`` on the rows summarised, Bonferroni over the pairs of LFs that vote).
A pair with an LF that votes one class needs ``s >`` :data:`ONE_CLASS_SHARE` (0.7): such LFs'
outcomes are firing indicators, and LFs written on the same keyword share part of their firing.
Groups are the connected components of the flagged pairs.

A group is counted once: one representative (the member with the largest summed copy share
to the others, then the most votes, then the lowest index) keeps its votes, the others are
blanked for the fit (:func:`without_copies`) and get a table that carries no class
information (their own outcome frequencies, the same under every class, :func:`copy_tables`),
so the posterior reads each group once.  Their accuracy against the fitted posterior is
reported in :class:`Copies` (it is not used for prediction).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..arrays import decode_array
from ..kernels import cells
from ..params import LabelModelParams
from ..rows import RowSummary, unique_rows
from ..validate import check_float, check_int, check_mapping
from .annotator import fit_annotator, fits_alone_exactly
from .annotator_design import summary_design
from .family_choice import select_family
from .heldout import deal_counts
from .votes import summary_votes

#: Family-wise level of the copy test (Bonferroni over the pairs tested; a conventional 5 %).
ALPHA = 0.05
#: Share of votes among the cells of the rows below which the agreement is counted by a sparse product.
SPARSE_DENSITY = 0.1
#: Most pairs of votes on the same rows listed in arrays by the sparse agreement count (~50 bytes of
#: temporaries per pair); beyond, one sparse product counts them.
MAX_VOTE_PAIRS = 1_000_000
#: Most LF pairs (m^2) whose counts are summed in dense arrays; beyond (or with few pairs of votes,
#: :data:`DENSE_KEYS_RATIO`), the pairs found are sorted.
MAX_PAIR_KEYS = 4_000_000
#: Pairs of votes per LF pair (m^2) below which the pairs' keys are sorted rather than counted in dense
#: (m^2,) arrays: 745 crowd workers (weather_sentiment) have 0.55 M pair keys for 7 k pairs of votes,
#: and two fresh 4.4 MB tables cost more (page faults) than sorting the pairs.
DENSE_KEYS_RATIO = 8
#: Pairs tested: "all" (every pair of LFs that vote), "multiclass" (both LFs vote at least two
#: classes; the rule before issue 7's one-class study) or "either" (at least one of them does).
PAIRS = "all"
#: Null tables: "fit" (the reference fit's) or "posterior" (full tables, abstain included, counted
#: under the reference fit's posterior: class-dependent coverage is then part of the null).
NULL = "posterior"
#: Copy share above which a pair is "more often a copy than not" (the midpoint, not a tuned value).
COPY_SHARE = 0.5
#: The same for a pair with an LF that votes one class (with ``PAIRS = "all"``).  Chosen leave-one-family-out
#: on the stress suite among 0.5 .. 0.95 (0.7 on 11 of 12 folds; benchmarks/one_class_copies_study.py):
#: one-class LFs on the same keyword fire together, so their pairs need a higher share to be copies.
ONE_CLASS_SHARE = 0.7


@dataclass(frozen=True)
class Copies:
    """LFs found to copy each other and how they were counted.

    Attributes
    ----------
    groups : list of ndarray of int
        Each group of LFs (sorted), connected by flagged pairs.
    representatives : ndarray of int, shape (G,)
        The LF of each group whose votes are read.
    copy_of : ndarray of int, shape (m,)
        For an LF counted through a representative, that representative; -1 for the others.
    share : ndarray, shape (m,)
        Estimated copy share of each such LF with its representative (nan for the others).
    accuracy : ndarray, shape (m,)
        Accuracy of each such LF's votes against the fitted posterior (nan for the others):
        its estimated accuracy, reported but not used for prediction.
    n_pairs : int
        Pairs tested.
    z_crit : float
        One-sided critical value of the test (Bonferroni at :data:`ALPHA`).
    """

    groups: list[np.ndarray]
    representatives: np.ndarray
    copy_of: np.ndarray
    share: np.ndarray
    accuracy: np.ndarray
    n_pairs: int
    z_crit: float

    @property
    def members(self) -> np.ndarray:
        """LFs counted through a representative (sorted)."""
        return np.flatnonzero(self.copy_of >= 0)

    def to_dict(self) -> dict[str, Any]:
        def num(x: float) -> float | None:
            return None if not np.isfinite(x) else float(x)

        return {
            "groups": [g.tolist() for g in self.groups],
            "representatives": self.representatives.tolist(),
            "copy_of": self.copy_of.tolist(),
            "share": [num(v) for v in self.share],
            "accuracy": [num(v) for v in self.accuracy],
            "n_pairs": int(self.n_pairs),
            "z_crit": float(self.z_crit),
        }

    @classmethod
    def from_dict(cls, d: Any, m: int, name: str = "estimate.copies") -> Copies:
        """Read a :meth:`to_dict` record of ``m`` LFs, every field checked (null numbers read as nan).

        Parameters
        ----------
        d : dict
            The record.
        m : int
            LFs of the model.
        name : str
            Its path in the model file, for error messages.

        Raises
        ------
        ValueError
            Naming the field that is missing, unknown, of the wrong type or shape, or out of range,
            or the groups, representatives and ``copy_of`` that disagree.
        """
        keys = ("groups", "representatives", "copy_of", "share", "accuracy", "n_pairs", "z_crit")
        d = check_mapping(d, name, keys)
        if not isinstance(d["groups"], list) or len(d["groups"]) > m:
            raise ValueError(f"{name}.groups must be a list of at most {m} groups of LFs")
        groups = [_lf_indices(g, f"{name}.groups[{t}]", m) for t, g in enumerate(d["groups"])]
        reps = _lf_indices(d["representatives"], f"{name}.representatives", m)
        if len(reps) != len(groups) or not all(r in g for r, g in zip(reps, groups, strict=True)):
            raise ValueError(f"{name}.representatives must name one LF of each of the {len(groups)} groups")
        copy_of = decode_array(d["copy_of"], f"{name}.copy_of", kind="i", shape=(m,))
        expected = np.full(m, -1)
        for g, r in zip(groups, reps, strict=True):
            expected[g[g != r]] = r
        if not np.array_equal(copy_of, expected):
            raise ValueError(
                f"{name}.copy_of must give each group member its representative, -1 to the others"
            )
        return cls(
            groups,
            reps,
            copy_of,
            _per_lf(d["share"], f"{name}.share", m),
            _per_lf(d["accuracy"], f"{name}.accuracy", m),
            check_int(d["n_pairs"], f"{name}.n_pairs", 0),
            check_float(d["z_crit"], f"{name}.z_crit", -1e300, 1e300),
        )


def _lf_indices(value: Any, name: str, m: int) -> np.ndarray:
    """A list of LF indices in ``0..m-1``."""
    lfs = decode_array(value, name, kind="i", ndim=1)
    if lfs.size and (lfs.min() < 0 or lfs.max() >= m):
        raise ValueError(f"{name} must hold LF indices in 0..{m - 1}")
    return lfs


def _per_lf(value: Any, name: str, m: int) -> np.ndarray:
    """A list of ``m`` numbers or nulls (nan), one per LF."""
    if not isinstance(value, list) or len(value) != m:
        raise ValueError(f"{name} must be a list of {m} numbers or nulls, one per LF")
    return np.array(
        [check_float(v, f"{name}[{i}]", -1e300, 1e300, nullable=True) for i, v in enumerate(value)]
    )


def outcome_agreement(
    rows: RowSummary, lfs: np.ndarray, votes: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Share of rows on which two LFs give the same outcome (vote or abstain), for the pairs that co-vote.

    A pair that never votes on the same row copies no vote of the other; only pairs with a
    co-vote are returned, so sparse crowds cost the pairs they have, not m^2.

    Parameters
    ----------
    rows : RowSummary
        Distinct rows (R, m) and counts (R,).
    lfs : ndarray of int
        The LFs to pair (sorted).
    votes : (ndarray, ndarray), optional
        The row and LF of each vote in ``rows`` (:func:`tripletws.kernels.cells` of
        ``rows.rows >= 0``, shape (nnz,) each), when the caller has them.

    Returns
    -------
    (iu, ju, agreement, n)
        LF indices of the pairs (``iu < ju``, shape (P,)), the weighted share of rows on which
        their outcomes are equal (P,), and the number of rows.
    """
    k = rows.cardinality
    c = rows.counts.astype(np.float64)
    n = float(c.sum())
    R, m = rows.n_unique, len(lfs)
    r, i = cells(rows.rows >= 0) if votes is None else votes
    if m < rows.n_lfs:  # the votes of ``lfs``, renumbered 0..m-1 (row-major order kept: lfs is sorted)
        position = np.full(rows.n_lfs, -1, dtype=np.int64)
        position[lfs] = np.arange(m)
        keep = position[i] >= 0
        r, i = r[keep], position[i[keep]]
    if len(r) <= SPARSE_DENSITY * R * m:
        # sparse rows (crowds): cost O(sum of votes^2 per row), the pairs of votes on each row; from the
        # votes' cells only (no dense (R, m) temporaries: fresh pages cost more than the counting)
        a = rows.rows[r, lfs[i]]
        n_votes = np.bincount(i, weights=c[r], minlength=m)  # whole numbers for integer counts: exact
        found = _vote_pairs(r, i, a, c, m)
        if found is not None:
            iu, ju, covote, agree = found
            both_abstain = n - n_votes[iu] - n_votes[ju] + covote
            return lfs[iu], lfs[ju], (both_abstain + agree) / max(n, 1e-300), n
        # too many pairs to list: one sparse product of the one-hot votes (R, m k)
        from scipy import sparse

        col = i * k + a.astype(np.int64)
        X = sparse.csr_matrix((np.ones(len(r)), (r, col)), shape=(R, m * k))
        G = sparse.triu(X.T.multiply(c[None, :]).tocsr() @ X, k=1).tocoo()
        li, lj = G.row // k, G.col // k
        upper = li < lj
        flat = li[upper] * m + lj[upper]
        data, same = G.data[upper], (G.row % k == G.col % k)[upper]
        keys, inverse = np.unique(flat, return_inverse=True)
        covote = np.bincount(inverse, weights=data, minlength=len(keys))
        agree = np.bincount(inverse[same], weights=data[same], minlength=len(keys))
        iu, ju = np.divmod(keys, m)
        both_abstain = n - n_votes[iu] - n_votes[ju] + covote
        return lfs[iu], lfs[ju], (both_abstain + agree) / max(n, 1e-300), n
    sub = rows.rows[:, lfs]
    votes_m = sub >= 0
    # products of 0/1 (or -1/0/1) indicators weighted by the counts: with integer counts summing
    # below 2^24 every partial sum is an integer float32 holds exactly, so float32 products give
    # the float64 ones' values at half the cost
    exact32 = n < 2.0**24 and bool(np.all(c == np.round(c)))
    dt = np.float32 if exact32 else np.float64
    cw = c.astype(dt)[:, None]
    V = votes_m.astype(dt)
    covote_m = ((V * cw).T @ V).astype(np.float64)
    # each LF's counted votes: the co-votes' diagonal where those are exact (whole numbers, as
    # ``c @ votes_m`` gives them: 9.8 ms for that mixed-type product at 15 563 x 50)
    n_votes = np.diagonal(covote_m).copy() if exact32 else c @ votes_m
    if k == 2:  # agreements from the signed votes: (co-votes + signed products) / 2, one product
        S = (sub == 0).astype(dt) - (sub == 1).astype(dt)
        agree_m = (covote_m + ((S * cw).T @ S).astype(np.float64)) / 2.0
    else:
        agree_m = np.zeros_like(covote_m)
        for a in range(k):
            X = sub == a
            used = np.flatnonzero(X.any(axis=0))
            if used.size:
                Xa = X[:, used].astype(dt)
                agree_m[np.ix_(used, used)] += ((Xa * cw).T @ Xa).astype(np.float64)
    if m <= _LISTED_PAIRS_MAX:  # the pairs listed once per m, kept where they co-vote (same order)
        iu, ju = _upper_pairs(m)
        keep = covote_m[iu, ju] > 0
        iu, ju = iu[keep], ju[keep]
    else:
        iu, ju = np.nonzero(np.triu(covote_m > 0, k=1))
    covote, agree = covote_m[iu, ju], agree_m[iu, ju]
    both_abstain = n - n_votes[iu] - n_votes[ju] + covote
    return lfs[iu], lfs[ju], (both_abstain + agree) / max(n, 1e-300), n


#: Up to this many LFs the dense agreement counts read the pairs from :func:`_upper_pairs`.
_LISTED_PAIRS_MAX = 64


@functools.lru_cache(maxsize=_LISTED_PAIRS_MAX)
def _upper_pairs(m: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs ``i < j`` of ``m`` LFs in row-major order, read-only int64 arrays of shape (m (m - 1) / 2,).

    The order of ``np.nonzero`` of an upper-triangular mask, so keeping the pairs where the mask
    holds gives its indices in its order (without building the (m, m) triangle per call).
    """
    iu, ju = np.triu_indices(m, k=1)
    iu, ju = iu.astype(np.int64), ju.astype(np.int64)
    iu.flags.writeable = False
    ju.flags.writeable = False
    return iu, ju


def _vote_pairs(
    r: np.ndarray, i: np.ndarray, a: np.ndarray, c: np.ndarray, m: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Co-votes and agreements of the LF pairs that co-vote, from the pairs of votes on each row.

    Parameters
    ----------
    r, i, a : ndarray of int, shape (nnz,)
        Row, LF and class of each vote, in row-major order (:func:`tripletws.kernels.cells`).
    c : ndarray, shape (R,)
        Row counts.
    m : int
        LFs.

    Returns
    -------
    (iu, ju, covote, agree) or None
        The pairs (``iu < ju``, sorted), the counted rows where both vote and where they vote
        alike (P,); None when the rows hold more than :data:`MAX_VOTE_PAIRS` pairs of votes.
    """
    nnz = len(r)
    after = np.searchsorted(r, r, side="right") - np.arange(nnz) - 1  # later votes on the same row
    n_pairs = int(after.sum())
    if n_pairs > MAX_VOTE_PAIRS:
        return None
    left = np.repeat(np.arange(nnz), after)
    right = left + 1 + (np.arange(n_pairs) - np.repeat(np.cumsum(after) - after, after))
    key = i[left] * m + i[right]  # i[left] < i[right]: a row's votes are in LF order
    w = c[r[left]]
    same = a[left] == a[right]
    if m * m <= MAX_PAIR_KEYS and n_pairs * DENSE_KEYS_RATIO >= m * m:
        covote_all = np.bincount(key, weights=w, minlength=m * m)
        keys = np.flatnonzero(covote_all > 0)
        covote = covote_all[keys]
        agree = np.bincount(key[same], weights=w[same], minlength=m * m)[keys]
    else:
        # the same sums (each key's weights added in the order listed), over the keys present
        keys, inverse = np.unique(key, return_inverse=True)
        covote = np.bincount(inverse, weights=w, minlength=len(keys))
        agree = np.bincount(inverse[same], weights=w[same], minlength=len(keys))
        keep = covote > 0
        keys, covote, agree = keys[keep], covote[keep], agree[keep]
    iu, ju = np.divmod(keys, m)
    return iu, ju, covote, agree


def expected_agreement(params: LabelModelParams, iu: np.ndarray, ju: np.ndarray) -> np.ndarray:
    """``e_ij = sum_y p_y sum_a T[i, a, y] T[j, a, y]`` under conditional independence, for the pairs (P,)."""
    T, p = params.cond_probs, params.class_balance
    e = np.empty(len(iu))
    step = max(1, 2_000_000 // T[0].size)  # pairs per chunk (bounded temporaries)
    for s in range(0, len(iu), step):
        a, b = iu[s : s + step], ju[s : s + step]
        e[s : s + step] = np.einsum("pay,pay,y->p", T[a], T[b], p)
    return e


def find_copies(
    rows: RowSummary,
    params: LabelModelParams,
    alpha: float = ALPHA,
    refit: Callable[[RowSummary], LabelModelParams] | None = None,
) -> Copies:
    """Pairs of LFs that copy each other beyond what the fitted model allows, grouped.

    Parameters
    ----------
    rows : RowSummary
        The distinct rows the model was fitted on.
    params : LabelModelParams
        A conditionally independent fit of them (the tables ``T`` of :func:`expected_agreement`).
    alpha : float
        Family-wise level (Bonferroni over the pairs where both LFs vote at least once).
    refit : callable, optional
        The same fit on other rows (``RowSummary -> LabelModelParams``): pairs that give the same
        outcome on every row are tested again against a fit with one of each counted once
        (:func:`_identical_pairs`).

    Returns
    -------
    Copies
        With ``accuracy`` all nan (see :func:`copy_accuracy`).
    """
    m = rows.n_lfs

    def none(n_pairs: int = 0, z_crit: float = 0.0) -> Copies:  # no copies (built only when returned)
        blank = np.full(m, np.nan)
        return Copies([], np.zeros(0, dtype=np.int64), np.full(m, -1), blank, blank.copy(), n_pairs, z_crit)

    if m < 2:
        return none()
    k = rows.cardinality
    cast = summary_votes(rows)  # the votes (row, LF, class), once per summary (read-only)
    r, i, a = cast
    counted = rows.counts[r] > 0
    seen = np.bincount(i[counted] * k + a[counted], minlength=m * k).reshape(m, k) > 0
    voting = seen.any(axis=1)  # votes on a counted row
    multi = voting.copy()
    if PAIRS in ("multiclass", "either"):
        multi &= (
            seen.sum(axis=1) >= 2
        )  # votes at least two classes (tripletws.estimators.one_class.voted_classes)
    if PAIRS == "either":
        lfs = np.flatnonzero(voting)
        n_one = int(voting.sum() - multi.sum())
        n_pairs = len(lfs) * (len(lfs) - 1) // 2 - n_one * (n_one - 1) // 2
    else:
        lfs = np.flatnonzero(multi)
        n_pairs = len(lfs) * (len(lfs) - 1) // 2  # Bonferroni over every pair, co-voting or not
    if n_pairs == 0 or float(rows.counts.sum()) <= 1:
        return none()
    z_crit = _normal_isf(alpha / n_pairs)
    iu, ju, obs, n = outcome_agreement(rows, lfs, (r, i))
    if PAIRS == "either":
        keep = multi[iu] | multi[ju]
        iu, ju, obs = iu[keep], ju[keep], obs[keep]
    if NULL == "posterior":
        params = posterior_tables(rows, params, cast)
    e = np.clip(expected_agreement(params, iu, ju), 0.0, 1.0)
    level = np.full(len(iu), COPY_SHARE)
    if PAIRS == "all" and ONE_CLASS_SHARE != COPY_SHARE:
        one_class = seen.sum(axis=1) < 2  # per LF: votes one class (or none) on the counted rows
        level[one_class[iu] | one_class[ju]] = ONE_CLASS_SHARE
    flag = _copied(obs, e, level, n, z_crit)
    if refit is not None:
        e = _identical_pairs(rows, refit, iu, ju, obs, n, level, z_crit, flag, e)
        flag = _copied(obs, e, level, n, z_crit)
    if not flag.any():
        return none(n_pairs, z_crit)
    share = (obs - e) / np.maximum(1.0 - e, 1e-12)
    edges = np.stack([iu[flag], ju[flag]], axis=1)
    pairs = zip(iu[flag].tolist(), ju[flag].tolist(), strict=True)
    pair_share = dict(zip(pairs, share[flag].tolist(), strict=True))
    from ..dependencies import components

    groups = components(edges, m)
    copy_of = np.full(m, -1)
    member_share = np.full(m, np.nan)
    reps = []
    votes = _lf_votes(rows)
    for g in groups:
        # the hub of the group (largest summed share over its flagged pairs); ties to the most
        # votes, then the lowest index (g is sorted)
        hub = np.zeros(len(g))
        at = {lf: t for t, lf in enumerate(g.tolist())}  # each member's place in g
        for (i, j), v in pair_share.items():
            if i in at and j in at:
                hub[at[i]] += v
                hub[at[j]] += v
        order = np.lexsort((g, -votes[g], -hub))
        rep = int(g[order[0]])
        reps.append(rep)
        for j in g:
            if j != rep:
                copy_of[j] = rep
                key = (min(j, rep), max(j, rep))
                member_share[j] = pair_share[key] if key in pair_share else _share(rows, params, rep, int(j))
    return Copies(
        groups, np.asarray(reps, dtype=np.int64), copy_of, member_share, np.full(m, np.nan), n_pairs, z_crit
    )


def _copied(obs: np.ndarray, e: np.ndarray, level: np.ndarray, n: float, z_crit: float) -> np.ndarray:
    """The copy test of each pair: its agreement ``obs`` above the null ``e + level (1 - e)`` (a copy
    share of ``level``) by more than ``z_crit`` binomial standard errors on ``n`` rows."""
    e0 = e + level * (1.0 - e)
    z = (obs - e0) / np.sqrt(np.maximum(e0 * (1.0 - e0), 1e-300) / n)
    return (obs > e0) & (z > z_crit)


def _lf_votes(rows: RowSummary) -> np.ndarray:
    """``rows.counts @ (rows.rows >= 0)``: the counted rows on which each LF votes, shape (m,).

    Where the counts are whole numbers (below 2**53 in all), every sum is exact in any order, so the
    sums run over the summary's vote lists (:func:`~tripletws.estimators.votes.summary_votes`, made
    once per summary and shared with the other steps) instead of the product, which converts the whole
    (R, m) mask to float64 first (4 MB of fresh memory at weather_sentiment's 664 x 745): the same
    values.  Other counts keep the product.
    """
    counts = np.asarray(rows.counts, dtype=np.float64)
    R, m = rows.rows.shape
    if R == 0 or not (np.array_equal(counts, np.floor(counts)) and float(np.abs(counts).sum()) < 2.0**53):
        return counts @ (rows.rows >= 0)
    r, i, _ = summary_votes(rows)
    return np.bincount(i, weights=counts[r], minlength=m)


def _identical_pairs(
    rows: RowSummary,
    refit: Callable[[RowSummary], LabelModelParams],
    iu: np.ndarray,
    ju: np.ndarray,
    obs: np.ndarray,
    n: float,
    level: np.ndarray,
    z_crit: float,
    flag: np.ndarray,
    e: np.ndarray,
) -> np.ndarray:
    """The null agreement ``e`` of pairs identical on every row, from a fit that counts them once.

    The reference fit reads two identical LFs as two witnesses: where they vote on every row it
    makes both nearly perfect, their expected agreement nearly 1, and no agreement can then show a
    copy (an exact duplicate of an LF 70 % right went unflagged at full coverage and outvoted the
    others).  For each identical pair not flagged whose test could pass at all (its agreement
    under any null is at least ``(1 - c)^2`` for the pair's coverage ``c``, by Jensen's inequality
    over the classes), the pair's second LF is blanked, the family is fitted again (one fit for all
    such pairs) and the pair's ``e`` is that of two independent LFs with the first one's table
    under that fit: the agreement of independent witnesses as accurate as the LF alone.  The
    other pairs keep ``e``.

    Returns
    -------
    ndarray, shape (P,)
        ``e`` with the tested identical pairs' null replaced.
    """
    same = ~flag & (obs >= 1.0 - 1e-12)
    if not same.any():
        return e
    c = _lf_votes(rows) / max(float(rows.counts.sum()), 1e-300)  # coverage per LF
    low = (1.0 - c[iu]) ** 2
    floor0 = low + level * (1.0 - low)
    best_z = (1.0 - floor0) / np.sqrt(np.maximum(floor0 * (1.0 - floor0), 1e-300) / n)
    same &= best_z > z_crit
    if not same.any():
        return e
    pairs = np.flatnonzero(same)
    # one LF of each identical pair blanked (the later one; a chain a = b = c keeps a)
    keep_of = {}
    for t in pairs.tolist():
        i, j = int(iu[t]), int(ju[t])
        keep_of.setdefault(j, keep_of.get(i, i))
    once = _blanked(rows, np.array(sorted(keep_of), dtype=np.int64))
    fitted = refit(once)
    if NULL == "posterior":
        fitted = posterior_tables(once, fitted)
    # each pair's kept LF (identical to both of the pair's): its table for both
    first = np.array([keep_of.get(i, i) for i in iu[pairs].tolist()], dtype=np.int64)
    out = e.copy()
    out[pairs] = np.clip(expected_agreement(fitted, first, first), 0.0, 1.0)
    return out


def _share(rows: RowSummary, params: LabelModelParams, i: int, j: int) -> float:
    """Copy share of one pair (for a member linked to its representative through others)."""
    lfs = np.array([i, j]) if i < j else np.array([j, i])
    iu, ju, obs, _ = outcome_agreement(rows, lfs)
    if len(iu) == 0:
        return float("nan")
    e = float(np.clip(expected_agreement(params, iu, ju)[0], 0.0, 1.0))
    return float((obs[0] - e) / max(1.0 - e, 1e-12))


def _vote_cells(rows: RowSummary, votes: tuple[np.ndarray, ...] | None) -> tuple[np.ndarray, np.ndarray]:
    """Row and ``LF * k + class`` of each vote: from ``votes`` (row, LF and, when given, class of each,
    as :func:`~tripletws.estimators.votes.summary_votes`), else from the summary's listed votes."""
    k = rows.cardinality
    if votes is None:
        votes = summary_votes(rows)
    r, i = votes[0], votes[1]
    a = votes[2] if len(votes) > 2 else rows.rows[r, i].astype(np.int64)
    return r, i * k + a


def posterior(
    rows: RowSummary, params: LabelModelParams, votes: tuple[np.ndarray, ...] | None = None
) -> np.ndarray:
    """Posterior P(Y | row) of each distinct row under ``params``, shape (R, k).

    ``log p_y + sum_i log T[i, 0, y]`` plus, for each vote, ``log T[i, a, y] - log T[i, 0, y]``:
    the cost of the votes, not of the cells.  ``votes``: the row, LF and (optionally) class of
    each vote (:func:`~tripletws.estimators.votes.summary_votes` of ``rows``), when the caller has them.
    """
    r, cell = _vote_cells(rows, votes)
    return _posterior_of_cells(rows, params, r, cell)


def _posterior_of_cells(
    rows: RowSummary, params: LabelModelParams, r: np.ndarray, cell: np.ndarray
) -> np.ndarray:
    """:func:`posterior` from each vote's row ``r`` and ``LF * k + class`` ``cell`` (:func:`_vote_cells`)."""
    k = params.cardinality
    logt = np.log(np.maximum(params.cond_probs, 1e-300))
    base = np.log(np.maximum(params.class_balance, 1e-300)) + logt[:, 0, :].sum(axis=0)
    # each (LF, vote)'s gain over abstaining, class-major (k, m k), read at the votes class by class
    # (one contiguous gather each: a gather of (votes, k) rows cost 6 of 9 ms at 389 211 votes)
    gains = np.ascontiguousarray((logt[:, 1:, :] - logt[:, :1, :]).reshape(-1, k).T)
    scores = np.empty((rows.n_unique, k))
    scores[...] = base
    for y in range(k):
        scores[:, y] += np.bincount(r, weights=gains[y][cell], minlength=rows.n_unique)
    scores -= scores.max(axis=1, keepdims=True)
    post = np.exp(scores)
    post /= post.sum(axis=1, keepdims=True)
    return post


def posterior_tables(
    rows: RowSummary, params: LabelModelParams, votes: tuple[np.ndarray, ...] | None = None
) -> LabelModelParams:
    """Full tables ``P(outcome | y)`` (abstain included) counted under the posterior of ``params``.

    One M-step of a full table per LF (Dawid and Skene's, abstain as an outcome) from the soft
    labels of a vote-only fit: the class-dependent coverage of each LF is then part of the null.
    ``votes``: the row, LF and (optionally) class of each vote
    (:func:`~tripletws.estimators.votes.summary_votes` of ``rows``), when the caller has them.
    """
    k, m = rows.cardinality, rows.n_lfs
    r, cell = _vote_cells(rows, votes)
    q = _posterior_of_cells(rows, params, r, cell) * rows.counts[:, None]  # (R, k) expected rows per class
    cp = np.empty((m, k + 1, k))
    for y in range(k):
        cp[:, 1:, y] = np.bincount(cell, weights=q[r, y], minlength=m * k).reshape(m, k)
    per_class = q.sum(axis=0)
    cp[:, 0, :] = per_class[None, :] - cp[:, 1:, :].sum(axis=1)
    cp = np.maximum(cp, 0.0) + 1e-3
    cp /= cp.sum(axis=1, keepdims=True)
    return LabelModelParams(per_class / q.sum(), cp)


@functools.lru_cache(maxsize=256)
def _normal_isf(q: float) -> float:
    """Upper ``q`` quantile of the standard normal (bisection on erfc; no scipy needed; memoised: a fit
    asks for the level of its number of pairs, and refits of the same LFs ask again)."""
    lo, hi = 0.0, 40.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if 0.5 * math.erfc(mid / math.sqrt(2.0)) > q:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def without_copies(rows: RowSummary, copies: Copies) -> RowSummary:
    """The rows with the LFs counted through a representative blanked (abstain), re-merged."""
    members = copies.members
    if members.size == 0:
        return rows
    return _blanked(rows, members)


def _blanked(rows: RowSummary, lfs: np.ndarray) -> RowSummary:
    """The rows with ``lfs`` blanked (abstain), re-merged (on one scale: blanking moves rows between
    the strata of a stratified sample, so its counts are weighted first)."""
    rows = rows.weighted()
    blank = rows.rows.copy()
    blank[:, lfs] = -1
    unique, inverse = unique_rows(blank, rows.cardinality)  # np.unique(blank, axis=0)'s
    counts = np.bincount(inverse.reshape(-1), weights=rows.counts, minlength=len(unique))
    return replace(rows, rows=unique, counts=counts)


def member_frequencies(rows: RowSummary, members: np.ndarray) -> np.ndarray:
    """Each member's outcome frequencies in the rows, abstain first, shape (len(members), k + 1).

    Smoothed by 1e-3 per outcome, so that no outcome it may give is impossible."""
    k = rows.cardinality
    c = rows.counts.astype(np.float64)
    n = float(c.sum())
    freq = np.empty((members.size, k + 1))
    for a in range(-1, k):
        freq[:, a + 1] = c @ (rows.rows[:, members] == a)
    return (freq + 1e-3) / (n + 1e-3 * (k + 1))


def copy_tables(
    params: LabelModelParams, rows: RowSummary, members: np.ndarray, freq: np.ndarray | None = None
) -> LabelModelParams:
    """Give ``members`` their own outcome frequencies in the rows, the same under every class.

    Such a table cancels from the posterior (it does not depend on the class), so a member
    adds nothing to what its representative says.  ``freq``: :func:`member_frequencies` of
    ``rows`` and ``members``, when the caller gives several fits the same members.
    """
    if members.size == 0:
        return params
    if freq is None:
        freq = member_frequencies(rows, members)
    cp = params.cond_probs.copy()
    cp[members] = freq[:, :, None]
    return replace(params, cond_probs=cp)


def copy_accuracy(rows: RowSummary, params: LabelModelParams, copies: Copies) -> Copies:
    """Each member's share of votes that name the class of the fitted posterior (expected)."""
    members = copies.members
    if members.size == 0:
        return copies
    post = posterior(rows, params)
    acc = np.full(rows.n_lfs, np.nan)
    c = rows.counts.astype(np.float64)
    for j in members:
        v = rows.rows[:, j].astype(np.int64)
        on = v >= 0
        w = c[on]
        if w.sum() > 0:
            acc[j] = float(w @ post[np.flatnonzero(on), v[on]] / w.sum())
    return replace(copies, accuracy=acc)


def copies_note(copies: Copies, limit: int = 10) -> str:
    """The warning naming each counted-once LF, its representative, share and estimated accuracy."""
    members = copies.members
    named = ", ".join(
        f"{int(j)} (of {int(copies.copy_of[j])}: share {copies.share[j]:.2f}, "
        f"accuracy {copies.accuracy[j]:.3f})"
        for j in members[:limit]
    )
    if members.size > limit:
        named += f", ... ({members.size} in all)"
    return (
        f"LF(s) {named} copy another LF's outcome (vote or abstain) more often than not, beyond what "
        f"conditional independence given the class allows (one-sided test, 5 % over {copies.n_pairs} "
        "pairs): each group is counted once, through the LF named, and the others get a table "
        "without class information (their accuracy against the fitted labels is in copies_)"
    )


def _refit(family: str, class_balance: np.ndarray | None) -> Callable[[RowSummary], LabelModelParams]:
    """The reference fit of :func:`find_copies` (``family`` under ``class_balance``) on other rows."""
    return lambda rows: fit_annotator(rows, family, class_balance=class_balance).params


def count_once(
    rows: RowSummary,
    selection: Any,
    candidates: tuple[str, ...],
    class_balance: np.ndarray | None,
    random_state: Any,
) -> tuple[Any, Copies | None, RowSummary]:
    """Find copies against the richest candidate's fit and, if any, choose and fit again on the rows
    with each group counted once.

    Parameters
    ----------
    rows : RowSummary
    selection : Selection
        :func:`tripletws.estimators.family_choice.select_family` on ``rows``.
    candidates, class_balance, random_state :
        As given to it.

    Returns
    -------
    (Selection, Copies or None, RowSummary)
        The selection made on the rows without the members (every fit's members given
        :func:`copy_tables`), the copies, and those rows (:func:`without_copies`, made once
        for every later step); ``(selection, None, rows)`` when none were found.
    """
    reference = selection.fits.get(candidates[-1], selection.fit)
    copies = find_copies(rows, reference.params, refit=_refit(candidates[-1], class_balance))
    members = copies.members
    if members.size == 0:
        return selection, None, rows
    plain = without_copies(rows, copies)
    chosen = select_family(plain, candidates, class_balance=class_balance, random_state=random_state)
    freq = member_frequencies(rows, members)  # the same tables for every candidate's fit
    fits = {
        f: replace(fit, params=copy_tables(fit.params, rows, members, freq)) for f, fit in chosen.fits.items()
    }
    return replace(chosen, fit=fits[chosen.chosen], fits=fits), copies, plain


def select_counting_once(
    rows: RowSummary,
    candidates: tuple[str, ...],
    class_balance: np.ndarray | None,
    random_state: int,
    n_folds: int,
) -> tuple[Any, Copies | None, RowSummary, np.ndarray]:
    """The family choice with each copy group counted once (:func:`count_once`), choosing once.

    :func:`count_once` reads one fit of a choice made on ``rows``: the richest candidate's fit on
    all rows, the reference the copies are found against; where copies are found it chooses
    again on the rows with each group counted once and reads nothing else of the first choice.
    Where the choice's batch runs compiled (:func:`tripletws.estimators.annotator.fits_alone_exactly`:
    its members are fitted one after the other, each float for float as if alone) that reference
    is fitted first, alone (:func:`tripletws.estimators.annotator.fit_annotator`), and the choice
    is made once: on ``rows`` with the reference reused where no copies are found, else on the
    rows with each group counted once.  The same selection, copies and rows as
    ``count_once(rows, select_family(rows, ...), ...)``, without the fits of a choice that
    would be dropped (on trec and cdr_metal, where copies are found, about 3 and 2 ms of CPU).
    Elsewhere (numpy's batched EM, whose members agree with lone fits to rounding only) it is
    that call.

    Parameters
    ----------
    rows : RowSummary
    candidates : tuple of str
        The candidates of :func:`tripletws.estimators.family_choice.select_family`, fewest
        parameters first.
    class_balance : ndarray of shape (k,), optional
        The fixed prior of every fit (None: estimated).
    random_state : int
        Seed of the deal into folds.
    n_folds : int

    Returns
    -------
    (Selection, Copies or None, RowSummary, ndarray of shape (n_folds, R'))
        As :func:`count_once`, and the deal into folds (``deal_counts`` with ``n_folds`` and
        ``random_state``) of the rows returned, on which the choice was made.
    """
    k = rows.cardinality
    kw = {"n_folds": n_folds, "class_balance": class_balance, "random_state": random_state}
    if not fits_alone_exactly(len(rows.counts), k, candidates):
        folds = deal_counts(rows.rows, rows.counts, k, n_folds, random_state, summary_votes(rows))
        first = select_family(rows, candidates, folds=folds, **kw)
        selection, copies_or_none, plain = count_once(rows, first, candidates, class_balance, random_state)
        if copies_or_none is not None:
            folds = deal_counts(plain.rows, plain.counts, k, n_folds, random_state, summary_votes(plain))
        return selection, copies_or_none, plain, folds
    design = summary_design(rows, k, abstain=False)  # the choice's, if no copies
    reference = fit_annotator(rows, candidates[-1], class_balance=class_balance, design=design)
    copies = find_copies(rows, reference.params, refit=_refit(candidates[-1], class_balance))
    members = copies.members
    plain = rows if members.size == 0 else without_copies(rows, copies)
    folds = deal_counts(plain.rows, plain.counts, k, n_folds, random_state, summary_votes(plain))
    if members.size == 0:
        fitted = {candidates[-1]: reference}
        chosen = select_family(rows, candidates, folds=folds, fitted=fitted, design=design, **kw)
        return chosen, None, rows, folds
    chosen = select_family(plain, candidates, folds=folds, **kw)
    freq = member_frequencies(rows, members)  # the same tables for every candidate's fit
    fits = {
        f: replace(fit, params=copy_tables(fit.params, rows, members, freq)) for f, fit in chosen.fits.items()
    }
    return replace(chosen, fit=fits[chosen.chosen], fits=fits), copies, plain, folds


def count_tables(
    rows: RowSummary, params: LabelModelParams, copies: Copies, unidentified: np.ndarray
) -> tuple[LabelModelParams, Copies, np.ndarray]:
    """The final tables with the members' tables without class information, their accuracy
    against the resulting posterior, and ``unidentified`` without them."""
    members = copies.members
    params = copy_tables(params, rows, members)
    return params, copy_accuracy(rows, params, copies), np.setdiff1d(unidentified, members)
