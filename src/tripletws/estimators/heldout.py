"""Held-out scores of the annotator families: folds of the distinct rows, cross-fitted likelihoods.

After the EM in the annotator models' data flow: the design
(:mod:`tripletws.estimators.annotator_design`) -> the EM (:mod:`tripletws.estimators.annotator`)
-> this module -> the family choice (:mod:`tripletws.estimators.family_choice`).

:func:`heldout_loglik` scores a family by cross-fitting: the counts of the
distinct rows are split at random into folds (a row seen 30 times lands in
several folds), each fold is scored by a fit on the others (started, like the
fit on all rows, from majority vote, so no held-out row shapes it), and the mean
log-likelihood per row is returned.  :func:`heldout_row_scores` keeps the score of every
held-out row (:class:`HeldOutScores`), from which the family choice measures its leads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from ..params import LabelModelParams
from ..rows import RowSummary
from . import annotator as _annotator
from .annotator import ABSTAIN_INFORMATIVE, FAMILIES, AnnotatorFit, _em
from .annotator_design import _Design, _logsumexp, summary_design, summary_majority
from .em_jit import JIT_MAX_ROWS, fold_keys_kernel
from .votes import row_votes, summary_votes


def row_loglik(rows: np.ndarray, counts: np.ndarray, params: LabelModelParams) -> float:
    """Total log-likelihood of counted rows under a model (abstentions included).

    Parameters
    ----------
    rows : ndarray of int, shape (R, m)
    counts : ndarray, shape (R,)
    params : LabelModelParams
    """
    D = _Design(rows, params.cardinality, abstain=True)
    lse, _ = _logsumexp(D.log_scores(params))
    return float(counts @ lse)


def split_counts(counts: np.ndarray, n_folds: int, rng: np.random.Generator) -> np.ndarray:
    """Deal each row's count at random over folds (multinomial), shape (n_folds, R).

    A fractional count (a weighted row of a stratified sample, :meth:`tripletws.rows.RowSummary.weighted`;
    exponential forgetting) deals its whole part so, and its fractional part to one fold drawn
    uniformly after all the whole parts' draws: every row can be held out, and whole counts are
    dealt as they were before fractions were dealt.
    """
    counts = np.asarray(counts, dtype=np.float64)
    whole = np.floor(counts)
    out = np.zeros((n_folds, len(counts)))
    left = whole.astype(np.int64)
    for f in range(n_folds - 1):
        take = rng.binomial(left, 1.0 / (n_folds - f))
        out[f] = take
        left = left - take
    out[-1] = left
    part = np.flatnonzero(counts > whole)
    if len(part):
        out[rng.integers(n_folds, size=len(part)), part] += counts[part] - whole[part]
    return out


_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, elementwise on uint64 (wrapping arithmetic)."""
    x = x.astype(np.uint64, copy=True)
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


def row_fold_keys(
    rows: np.ndarray, counts: np.ndarray, k: int, seed: int = 0, votes: tuple[np.ndarray, ...] | None = None
) -> np.ndarray:
    """A 64-bit key per distinct row that does not depend on the order of the rows or of the
    columns, nor on the names of the classes.

    Each column gets a fingerprint from its count-weighted abstentions and its vote counts
    sorted (it moves with the column when the columns are permuted, and renaming the classes
    leaves it alone), and each class one from its vote counts in every column (it moves with
    the class when the classes are renamed, and permuting the columns leaves it alone).  A
    vote's term mixes its column's and its class's fingerprints.  A row's key hashes how its
    votes group its columns: for each class the row names, the wrapping sum of its votes'
    terms, mixed; the row's key is the wrapping sum of those, a sum being blind to the order
    of its terms.  The fingerprints are refined once by the keys and counts of the rows each
    column and class votes in, and the keys made again.  Columns or classes that the refined
    fingerprints still cannot tell apart are interchangeable in the key, which only merges the
    keys of rows that differ by such swaps (the deal orders those by their counts, then as
    stored).

    Parameters
    ----------
    rows : ndarray of int, shape (R, m)
    counts : ndarray, shape (R,)
    k : int
    seed : int
    votes : tuple of arrays, optional
        :func:`row_votes` of ``rows``, when already at hand.

    Returns
    -------
    ndarray of uint64, shape (R,)
    """
    R, m = rows.shape
    whole = np.floor(np.asarray(counts, dtype=np.float64))  # integer sums are exact in any order
    r, i, a = row_votes(rows) if votes is None else votes
    if R == 0:
        return np.zeros(0, dtype=np.uint64)
    # compiled only where the compiled EM runs too: a large fit does not load numba for keys alone
    # (its import and kernel load, ~0.3 s and ~100 MB once per process, exceed what they save there)
    compiled = fold_keys_kernel() if R <= JIT_MAX_ROWS else None
    if compiled is not None:
        return compiled(r, i, a, whole, R, m, k, np.uint64(seed))
    fp, cf = _fingerprints(r, i, a, whole, m, k, seed)
    group = r.astype(np.int64) * k + a  # (row, class): the columns one class of a row groups
    groups = _Groups(group, i * k + a, R, k)
    # one round of refinement (as Weisfeiler-Lehman's): each column's and class's fingerprint mixed
    # with the keys and counts of the rows it votes in, so that columns alike in their counts but
    # not in whom they vote with no longer make rows' keys tie
    per_row = groups.sums(i, a, fp, cf)
    seen = _mix(per_row ^ whole.view(np.uint64))[r]  # mixed per row, then read at each vote
    by_column = np.zeros(m, dtype=np.uint64)
    np.add.at(by_column, i, seen)
    by_class = np.zeros(k, dtype=np.uint64)
    np.add.at(by_class, a, seen)
    per_row = groups.sums(i, a, _mix(fp ^ by_column), _mix(cf ^ by_class))
    return _mix(per_row + _mix(np.full(R, seed, dtype=np.uint64) ^ _GOLDEN))


#: :class:`_Groups` adds the votes' terms into a table of every (row, class) up to this many cells; more
#: (many classes) sorts the votes by group instead.  Both give the same wrapping sums.
GROUP_TABLE_MAX = 1 << 24


class _Groups:
    """The (row, class) groups of a set of votes, for :meth:`sums` (made once per :func:`row_fold_keys`).

    ``group`` (nnz,) is each vote's ``row * k + class`` (rows non-decreasing).  The sums are wrapping
    uint64 sums (exact in any order): up to :data:`GROUP_TABLE_MAX` cells they are added into a table
    of every (row, class) in the votes' order, without sorting the votes by group (a stable sort of
    the 389 211 votes of the 1e6 x 50 fit's distinct rows cost about 6 ms of its 20)."""

    def __init__(self, group: np.ndarray, cell: np.ndarray, R: int, k: int) -> None:
        self.group, self.cell, self.R, self.k = group, cell, R, k  # cell: each vote's column * k + class
        self.table = R * k <= GROUP_TABLE_MAX
        if self.table:
            # the (row, class) groups some vote falls in, ascending
            self.named = np.flatnonzero(np.bincount(group, minlength=R * k))
        else:
            self.order = np.argsort(group, kind="stable")

    def sums(self, i: np.ndarray, a: np.ndarray, fp: np.ndarray, cf: np.ndarray) -> np.ndarray:
        """Per row, the wrapping sum over the classes it names of ``mix(sum of its votes' terms + golden)``,
        a vote's term being ``mix(fp[column] + cf[class])``, shape (R,) uint64."""
        if not self.table:
            return _grouped_sums(self.group, self.order, i, a, self.R, self.k, fp, cf)
        per_row = np.zeros(self.R, dtype=np.uint64)
        if len(self.group):
            by_group = np.zeros(self.R * self.k, dtype=np.uint64)
            # the terms of the m k (column, class) cells, read at each vote's
            np.add.at(by_group, self.group, _mix(fp[:, None] + cf[None, :]).reshape(-1)[self.cell])
            np.add.at(per_row, self.named // self.k, _mix(by_group[self.named] + _GOLDEN))
        return per_row


def _grouped_sums(
    group: np.ndarray,
    order: np.ndarray,
    i: np.ndarray,
    a: np.ndarray,
    R: int,
    k: int,
    fp: np.ndarray,
    cf: np.ndarray,
) -> np.ndarray:
    """:meth:`_Groups.sums` through the votes sorted by group: ``group`` (nnz,) is each vote's
    ``row * k + class`` and ``order`` its stable argsort."""
    per_row = np.zeros(R, dtype=np.uint64)
    if len(group):
        g = group[order]
        starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        terms = _mix(fp[i[order]] + cf[a[order]])
        grouped = _mix(np.add.reduceat(terms, starts) + _GOLDEN)
        row_of = g[starts] // k
        firsts = np.flatnonzero(np.r_[True, row_of[1:] != row_of[:-1]])
        per_row[row_of[firsts]] = np.add.reduceat(grouped, firsts)
    return per_row


def _fingerprints(
    r: np.ndarray, i: np.ndarray, a: np.ndarray, whole: np.ndarray, m: int, k: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """64-bit fingerprints of the columns and of the classes, blind to the classes' names and
    to the columns' order respectively.

    Returns
    -------
    fp : ndarray of uint64, shape (m,)
        A hash of the column's abstentions and of its vote counts sorted.
    cf : ndarray of uint64, shape (k,)
        The wrapping sum over the columns of a hash of (the column's ``fp``, its votes for the class).
    """
    hist = np.bincount(i * k + a, weights=whole[r], minlength=m * k).reshape(m, k)
    abstained = whole.sum() - hist.sum(axis=1)
    fp = _mix(np.full(m, seed, dtype=np.uint64) ^ _GOLDEN)
    fp = _mix(fp ^ np.ascontiguousarray(abstained).view(np.uint64))
    for column in np.sort(hist, axis=1).T:  # sorted: the same whatever the classes are called
        fp = _mix(fp ^ np.ascontiguousarray(column).view(np.uint64))
    cf = _mix(fp[:, None] ^ np.ascontiguousarray(hist).view(np.uint64)).sum(axis=0, dtype=np.uint64)
    return fp, _mix(cf + _GOLDEN)


def deal_counts(
    rows: np.ndarray,
    counts: np.ndarray,
    k: int,
    n_folds: int,
    seed: int = 0,
    votes: tuple[np.ndarray, ...] | None = None,
) -> np.ndarray:
    """Deal each distinct row's count at random over folds, independently of row and column order.

    The multinomial deal of :func:`split_counts` (a row seen 30 times lands in several
    folds), made in the order of the rows' content keys (:func:`row_fold_keys`) with a
    generator seeded by ``seed``, so the deal does not depend on the order of the rows or
    of the columns of L.  A fractional count's fractional part goes to one fold (:func:`split_counts`).

    Returns
    -------
    ndarray, shape (n_folds, R)
    """
    keys = row_fold_keys(rows, counts, k, seed, votes)
    whole = np.floor(np.asarray(counts, dtype=np.float64))
    # rows whose keys tie (a swap of interchangeable columns or classes) in the order of their
    # counts, then as stored: only rows alike in key and count depend on the stored order
    order = np.lexsort((whole, keys))
    out = np.empty((n_folds, len(keys)))
    out[:, order] = split_counts(np.asarray(counts, dtype=np.float64)[order], n_folds, _seeded(seed))
    return out


#: Per thread: seed -> (a generator, the state ``np.random.default_rng(seed)`` starts in).
_GENERATORS = threading.local()

#: Seeds kept per thread (a caller cycling through more seeds starts over).
_GENERATORS_KEPT = 16


def _seeded(seed: int) -> np.random.Generator:
    """A generator in the state ``np.random.default_rng(seed)`` starts in: the same draws.

    Seeding one (a ``SeedSequence`` hashed into a PCG64 state) costs about ten times what
    setting a kept generator's state back costs, and a fit deals its rows with the same seed
    every time; each thread keeps its own (a generator is not shared between threads).
    """
    kept = getattr(_GENERATORS, "by_seed", None)
    if kept is None:
        kept = _GENERATORS.by_seed = {}
    entry = kept.get(seed)
    if entry is None:
        if len(kept) >= _GENERATORS_KEPT:
            kept.clear()
        rng = np.random.default_rng(seed)
        entry = kept[seed] = (rng, rng.bit_generator.state)
    rng, state = entry
    rng.bit_generator.state = state
    return rng


def first_fold(folds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The fold that the checks' first-fold stops score first, and the deal with only it held out.

    Parameters
    ----------
    folds : ndarray, shape (n_folds, R)
        Counts held out by each fold.

    Returns
    -------
    (first, one) : ndarray of int, shape (0,) or (1,); ndarray, shape (n_folds, R)
        The first fold holding at least two counted rows (empty where none does: no stop is tried),
        and ``folds`` with every other fold's counts set to 0 (its scores are then read on that fold).
    """
    first = np.flatnonzero(folds.sum(axis=1) >= 2)[:1]
    one = np.zeros_like(folds)
    one[first] = folds[first]
    return first, one


@dataclass(frozen=True)
class HeldOutScores:
    """Cross-fitted log-likelihood of every held-out row, per family (:func:`heldout_row_scores`).

    Attributes
    ----------
    folds : ndarray, shape (n_folds, R)
        How many copies of each distinct row fold ``f`` holds out (a fold with nothing to fit
        on is zero: it is not scored).
    row_loglik : dict
        family -> ndarray (n_folds, R): log-likelihood of distinct row ``r`` under the fit on
        every fold but ``f``.

    Neither is written once the scores are made: each family's mean is computed once and kept.
    """

    folds: np.ndarray
    row_loglik: dict[str, np.ndarray]
    _means: dict[str, float] = field(default_factory=dict, init=False, repr=False, compare=False)

    @cached_property
    def n_scored(self) -> float:
        """Rows scored (held out once each); summed once (the folds are not written after)."""
        return float(self.folds.sum())

    def mean(self, family: str) -> float:
        """Mean held-out log-likelihood per row of ``family`` (nan when no fold was scored)."""
        kept = self._means.get(family)
        if kept is not None:
            return kept
        n = self.n_scored
        if n <= 0:
            return float("nan")
        ll = self.row_loglik[family]
        # fold by fold, in order (the same dot products and sum as indexing each fold)
        value = sum(float(w @ x) for w, x in zip(self.folds, ll, strict=True)) / n
        self._means[family] = value
        return value

    def lead(self, richer: str, simpler: str) -> tuple[float, float]:
        """Mean per-row lead of ``richer`` over ``simpler`` and its standard error.

        Each held-out row gives a paired difference of log-likelihoods (both families scored
        on the same row by fits on the same other folds); the standard error is that of the
        mean of these differences over the scored rows, ``sd / sqrt(n)``.

        Returns
        -------
        (float, float)
            Lead in nats per row and its standard error (nan, nan when fewer than 2 rows were scored).
        """
        n = self.n_scored
        if n < 2:
            return float("nan"), float("nan")
        d = self.row_loglik[richer] - self.row_loglik[simpler]
        w = self.folds
        mean = float((w * d).sum()) / n
        var = float((w * (d - mean) ** 2).sum()) / (n - 1.0)
        return mean, float(np.sqrt(max(var, 0.0) / n))

    def fold_leads(self, richer: str, simpler: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per fold: the mean lead of ``richer`` over ``simpler`` on the fold's held-out rows.

        Returns
        -------
        (ndarray, ndarray, ndarray), each of shape (F,)
            For the F folds holding at least 2 scored rows: the fold's mean per-row lead, its
            number of rows and the sample variance (ddof 1) of its per-row leads.
        """
        d = self.row_loglik[richer] - self.row_loglik[simpler]
        w = self.folds
        n = w.sum(axis=1)
        keep = n >= 2
        w, d, n = w[keep], d[keep], n[keep]
        mean = (w * d).sum(axis=1) / n
        var = (w * (d - mean[:, None]) ** 2).sum(axis=1) / (n - 1.0)
        return mean, n, var


def _fold_counts(
    unique: RowSummary, n_folds: int, random_state: Any, votes: tuple[np.ndarray, ...] | None = None
) -> np.ndarray:
    if isinstance(random_state, np.random.Generator):
        return split_counts(unique.counts, n_folds, random_state)
    seed = 0 if random_state is None else int(random_state)
    return deal_counts(unique.rows, unique.counts, unique.cardinality, n_folds, seed, votes)


def heldout_row_scores(
    unique: RowSummary,
    families: tuple[str, ...] = FAMILIES,
    *,
    n_folds: int = 5,
    max_steps: int | None = None,
    fold_steps: int = 10,
    class_balance: np.ndarray | None = None,
    random_state: Any = None,
    fits: dict[str, AnnotatorFit] | None = None,
    warm_start: bool = False,
    folds: np.ndarray | None = None,
    fitted: dict[str, AnnotatorFit] | None = None,
    design: _Design | None = None,
) -> HeldOutScores:
    """Cross-fitted log-likelihood of each held-out row under each family.

    The counts of the distinct rows are dealt into ``n_folds`` folds; each family is fitted on
    all rows, then on every fold's complement, and the fold's rows are scored by that fit.
    Parameters as in :func:`heldout_loglik`; ``folds`` (n_folds, R), when given, is the deal
    already made (``deal_counts`` of these rows with ``n_folds`` and ``random_state``: a caller
    that needs the same folds for another check deals them once).  ``fitted`` maps families
    to their fits on all rows when already made (:func:`~tripletws.estimators.annotator.fit_annotator` of
    ``unique`` with ``class_balance`` and ``max_steps``: the fit a member of the batch gives, each member
    being fitted as if alone); those go into ``fits`` instead of being fitted again (not with
    ``warm_start``, whose folds' fits start from the batch's fits on all rows).  ``design``: the
    vote-only :class:`~tripletws.estimators.annotator_design._Design` of ``unique`` when already built
    (``_Design(unique.rows, k, abstain=False, votes=summary_votes(unique))``).

    Returns
    -------
    HeldOutScores
    """
    votes = summary_votes(unique)  # one pass over the rows for the deal, the design and the start
    if folds is None:
        folds = _fold_counts(unique, n_folds, random_state, votes)
    for fam in families:
        if fam not in FAMILIES:
            raise ValueError(f"unknown family {fam!r}; choose one of {', '.join(FAMILIES)}")
    k = unique.cardinality
    c = unique.counts.astype(np.float64)
    if float(c.sum()) <= 0:
        raise ValueError("no rows to fit")
    train = c[None, :] - folds
    # a fold holding every row (a handful of rows) leaves nothing to fit on: not scored
    usable = np.flatnonzero(train.sum(axis=1) > 0)
    U = len(usable)
    scored = np.zeros_like(folds)
    scored[usable] = folds[usable]
    out: dict[str, np.ndarray] = {}
    reuse = dict(fitted or {}) if fits is not None and not warm_start else {}
    for informative in (False, True):
        group = [f for f in families if (f in ABSTAIN_INFORMATIVE) == informative]
        if not group:
            continue
        if design is not None and not informative:
            D = design
        else:
            D = summary_design(unique, k, abstain=informative)
        start = summary_majority(unique, k).T[:, None, :]
        cold = not warm_start and U > 0
        # cold: every family's fit on all rows and on each fold's complement in one batch, all started
        # from majority vote (no held-out row shapes the fit that scores it); warm: the fits on all
        # rows first, then the folds' fits started from them.  Cold without ``fits``, the fits on all
        # rows score nothing: not made (each member of a batch is fitted as if alone)
        lead = 0 if cold and fits is None else 1
        # per family: its fit on all rows first (unless not wanted, or made already), then its folds'
        at: dict[str, tuple[int, int]] = {}  # family -> (its first member, 1 if it has a lead member)
        names: list[str] = []
        parts: list[np.ndarray] = []
        for fam in group:
            own = int(lead and fam not in reuse)
            at[fam] = (len(names), own)
            n_own = own + (U if cold else 0)
            names += [fam] * n_own
            parts += [c[None]] * own + ([train[usable]] if cold else [])
        whole = np.zeros(len(names), dtype=bool)
        for j, own in at.values():
            whole[j] = own == 1 and fits is not None  # the folds' fits need their likelihoods only
        full = (
            _em(
                D,
                names,
                np.vstack(parts),
                start,
                max_steps=max_steps,
                tol=_annotator.EM_TOL,  # read at call time
                class_balance=class_balance,
                params=whole,
            )
            if names
            else None
        )
        for fam in group:
            j, own = at[fam]
            if fits is not None:
                if own:
                    assert full is not None
                    fits[fam] = AnnotatorFit(
                        fam,
                        full.params[j],
                        float(full.log_likelihood[j]),
                        int(full.n_steps[j]),
                        bool(full.converged[j]),
                    )
                else:
                    fits[fam] = reuse[fam]
            out[fam] = np.zeros(folds.shape)  # the deal given decides the folds
            if cold:
                assert full is not None
                out[fam][usable] = full.log_norm[j + own : j + own + U]
        if warm_start and U > 0:
            batch = _em(
                D,
                [f for f in group for _ in range(U)],
                np.tile(train[usable], (len(group), 1)),
                np.repeat(full.soft_labels, U, axis=1),
                max_steps=fold_steps,
                tol=_annotator.EM_TOL,  # read at call time
                class_balance=class_balance,
                params=False,
            )
            for g, fam in enumerate(group):
                out[fam][usable] = batch.log_norm[g * U : (g + 1) * U]
    return HeldOutScores(scored, out)


def heldout_loglik(
    unique: RowSummary,
    families: tuple[str, ...] = FAMILIES,
    *,
    n_folds: int = 5,
    max_steps: int | None = None,
    fold_steps: int = 10,
    class_balance: np.ndarray | None = None,
    random_state: Any = None,
    fits: dict[str, AnnotatorFit] | None = None,
    warm_start: bool = False,
) -> dict[str, float]:
    """Cross-fitted mean log-likelihood per row of each family.

    Parameters
    ----------
    unique : RowSummary
    families : tuple of str
    n_folds : int
    max_steps : int, optional
        EM steps at most of the fit on all rows (None: :data:`tripletws.estimators.annotator.EM_STEPS`).
    fold_steps : int
        EM steps of each fold's fit when ``warm_start``.
    class_balance : ndarray of shape (k,), optional
        A fixed prior P(Y) for every fit (see :func:`~tripletws.estimators.annotator.fit_annotator`).
    random_state : int or numpy Generator, optional
        Seed of the split of the counts into folds: an int (or None, read as 0) deals each
        distinct row by a seeded key of its content (:func:`deal_counts`), so the scores do
        not depend on the order of the rows or of the columns; a Generator deals at random
        (:func:`split_counts`).
    fits : dict, optional
        Filled with each family's fit on all rows.
    warm_start : bool
        Start each fold's fit from the fit on all rows (``fold_steps`` EM steps: cheaper, but
        the start has seen the held-out rows, which favours the richer families) instead of
        from majority vote with ``max_steps`` steps, as the fit on all rows (default: a clean
        cross-fit).

    Returns
    -------
    dict
        family -> mean held-out log-likelihood per row (higher is better).
    """
    scores = heldout_row_scores(
        unique,
        families,
        n_folds=n_folds,
        max_steps=max_steps,
        fold_steps=fold_steps,
        class_balance=class_balance,
        random_state=random_state,
        fits=fits,
        warm_start=warm_start,
    )
    return {fam: scores.mean(fam) for fam in families}
