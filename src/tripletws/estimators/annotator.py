"""Annotator models fitted by EM over the distinct rows of L, and their held-out likelihood.

Every model here is a generative model of a whole row of L: a class ``Y ~ p`` and,
given ``Y``, each LF's outcome independently from its table
``T[i, a, y] = P(lambda_i = a - 1 | Y = y)`` (``a = 0`` abstain).  The families
differ in how the table is parameterised (nested, fewest parameters first):

``"mv"``
    Majority vote as a model: one accuracy shared by all LFs, errors spread
    uniformly, a uniform prior, abstain independent of the class.  Its posterior
    ranks the classes exactly as the vote counts do.
``"one_coin"``
    The symmetric model: a per-LF accuracy, errors spread uniformly.
``"mace"`` / ``"mace_abstain"``
    The annotator model of MACE (Hovy et al., 2013): an LF either knows the
    class (probability ``theta_i``) and votes it, or draws its outcome from its
    own distribution ``xi_i``: ``P(a | y) = theta_i 1[a = y] + (1 - theta_i) xi_i(a)``.
    ``k + 1`` parameters per LF; an LF that votes one class only is the case
    ``xi_i`` concentrated on that class.
``"mace_coverage"``
    ``"mace"`` for LFs that vote several classes; for an LF that votes one class
    only, two vote rates, on its class and off it (class-dependent coverage,
    :mod:`tripletws.estimators.one_class`).
``"ds"`` / ``"ds_abstain"``
    A full table per LF (Dawid & Skene, 1979).

Abstain, both readings.  ``"mace"``, ``"ds"`` (and ``"mv"``, ``"one_coin"``)
read abstain as *not assigned*: an LF votes with a probability ``c_i`` that does
not depend on the class (crowd annotators), and the model describes the votes
only.  ``"mace_abstain"`` and ``"ds_abstain"`` read abstain as an *outcome* like a
vote: an LF that votes "spam" far more often on spam than on ham is telling
something when it abstains; ``"mace_coverage"`` reads it so for one-class LFs
only.  Both readings define a probability for the whole row (abstentions
included), so their likelihoods compare on the same events.

Fitting is EM over the distinct rows weighted by their counts, started from the
majority vote's soft labels (an M-step first), so the latent class starts as
the LFs' consensus rather than any other structure the tables could explain.
The M-steps are MAP updates under weak Dirichlet priors (one pseudo-row,
spread in proportion to the LF's own outcome frequencies) so that no table
entry an LF ever uses becomes zero.

:func:`heldout_loglik` scores a family by cross-fitting: the counts of the
distinct rows are split at random into folds (a row seen 30 times lands in
several folds), each fold is scored by a fit on the others, and the mean
log-likelihood per row is returned.  The family with the highest score is the
one whose description of the votes generalises best to rows it has not seen;
no constant is tuned, so choosing by it is the same on any collection of data
sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..params import LabelModelParams
from ..rows import RowSummary
from .class_balance import MIN_CLASS_PROB
from .one_class import coverage_table, mstep_coverage, mstep_shared_coverage, one_class_votes

#: The families, fewest parameters first.
FAMILIES = ("mv", "one_coin", "mace", "shared_coverage", "mace_coverage", "mace_abstain", "ds", "ds_abstain")

#: Families whose abstentions are informative (an outcome of the table) for some LFs.
ABSTAIN_INFORMATIVE = frozenset({"shared_coverage", "mace_coverage", "mace_abstain", "ds_abstain"})

_TINY = 1e-300
_FLOOR = 1e-6


@dataclass(frozen=True)
class AnnotatorFit:
    """Outcome of :func:`fit_annotator`.

    Attributes
    ----------
    family : str
    params : LabelModelParams
        Class balance (k,) and table (m, k + 1, k) of the fitted model.
    log_likelihood : float
        Mean log-likelihood per row of the rows it was fitted on.
    n_steps : int
    converged : bool
    """

    family: str
    params: LabelModelParams
    log_likelihood: float
    n_steps: int
    converged: bool


class _Design:
    """One-hot encoding of a set of distinct rows, built once.

    With ``abstain=False`` only the votes are encoded (nnz = number of votes, so
    sparse crowd matrices stay cheap); the abstentions then enter the scores as
    a per-row constant ``sum_{i abstains} log P(lambda_i abstains)``, which the
    vote-only reading makes independent of the class.
    """

    def __init__(self, rows: np.ndarray, k: int, abstain: bool = True) -> None:
        R, m = rows.shape
        self.R, self.m, self.k, self.abstain = R, m, k, abstain
        width = k + 1 if abstain else k
        r, i = np.nonzero(rows >= 0) if not abstain else np.nonzero(np.ones_like(rows, dtype=bool))
        self.r, self.i = r, i
        self.col = i.astype(np.int64) * width + rows[r, i].astype(np.int64) + (1 if abstain else 0)
        self.width = width

    def log_scores(self, params: LabelModelParams) -> np.ndarray:
        """``log p_y + sum_i log T[i, a_ri, y]``, shape (R, k)."""
        logt = np.log(np.maximum(params.cond_probs, _TINY))
        flat = (logt if self.abstain else logt[:, 1:, :]).reshape(self.m * self.width, self.k)
        s = np.empty((self.R, self.k))
        for y in range(self.k):
            s[:, y] = np.bincount(self.r, weights=flat[self.col, y], minlength=self.R)
        s += np.log(params.class_balance)
        if not self.abstain:
            log_abstain = logt[:, 0, 0]  # class-independent in the vote-only reading
            voted = np.bincount(self.r, weights=log_abstain[self.i], minlength=self.R)
            s += (log_abstain.sum() - voted)[:, None]
        return s

    def counts(self, weights: np.ndarray) -> np.ndarray:
        """Expected outcome counts ``N[i, a, y]`` from per-row class weights (R, k)."""
        flat = np.empty((self.m * self.width, self.k))
        for y in range(self.k):
            flat[:, y] = np.bincount(self.col, weights=weights[self.r, y], minlength=self.m * self.width)
        if self.abstain:
            return flat.reshape(self.m, self.k + 1, self.k)
        N = np.empty((self.m, self.k + 1, self.k))
        N[:, 1:, :] = flat.reshape(self.m, self.k, self.k)
        N[:, 0, :] = weights.sum(axis=0)[None, :] - N[:, 1:, :].sum(axis=1)
        return N


def _logsumexp(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    top = s.max(axis=1, keepdims=True)
    e = np.exp(s - top)
    z = e.sum(axis=1, keepdims=True)
    return np.log(z[:, 0]) + top[:, 0], e / z


def majority_soft_labels(rows: np.ndarray, k: int) -> np.ndarray:
    """Majority vote as soft labels: uniform over the most-voted classes (all classes when none voted).

    Parameters
    ----------
    rows : ndarray of int, shape (R, m)
    k : int

    Returns
    -------
    ndarray, shape (R, k)
    """
    counts = np.stack([(rows == c).sum(axis=1) for c in range(k)], axis=1).astype(np.float64)
    top = counts >= counts.max(axis=1, keepdims=True)
    return top / top.sum(axis=1, keepdims=True)


def _mstep(family: str, N: np.ndarray, total: float) -> np.ndarray:
    """Table (m, k + 1, k) maximising the expected complete log-likelihood (MAP, weak prior)."""
    m, _, k = N.shape
    Ny = N[0].sum(axis=0)  # every LF sees every row once: expected rows per class
    outcome = N.sum(axis=2)  # (m, k + 1) outcome counts (observed, not latent)
    votes = outcome[:, 1:].sum(axis=1)  # (m,)
    cov = np.clip(votes / total, _FLOOR, 1.0 - _FLOOR)
    T = np.empty_like(N)
    idx = np.arange(k)
    if family in ("mv", "one_coin"):
        right = N[:, idx + 1, idx].sum(axis=1)
        if family == "mv":
            acc = np.full(m, (right.sum() + 1.0) / (votes.sum() + 2.0))
        else:
            acc = (right + 1.0) / (votes + 2.0)
        acc = np.clip(acc, _FLOOR, 1.0 - _FLOOR)
        T[:, 0, :] = (1.0 - cov)[:, None]
        T[:, 1:, :] = (cov * (1.0 - acc) / (k - 1))[:, None, None]
        T[:, idx + 1, idx] = (cov * acc)[:, None]
        return T
    if family in ("ds", "ds_abstain"):
        if family == "ds_abstain":
            f = outcome / total
            return (N + f[:, :, None]) / (Ny + 1.0)[None, None, :]
        V = N[:, 1:, :]
        f = outcome[:, 1:] / np.maximum(votes, _TINY)[:, None]
        Vy = V.sum(axis=1)  # (m, k) expected votes per class
        T[:, 1:, :] = cov[:, None, None] * (V + f[:, :, None]) / (Vy + 1.0)[:, None, :]
        T[:, 0, :] = (1.0 - cov)[:, None]
        return T
    raise ValueError(f"unknown family {family!r}")


def _knows_outcome(outcome: np.ndarray, informative: bool) -> np.ndarray:
    """``kappa[i, y]``: the outcome LF i gives when it knows that the class is y, shape (m, k).

    Vote-only reading: the vote y (an index into the classes).  Informative
    reading: the vote y + 1 when the LF ever votes y, else abstain (0): an LF
    that votes "spam" only, and knows a message is ham, abstains.
    """
    m, k1 = outcome.shape
    k = k1 - 1
    votes = np.broadcast_to(np.arange(k), (m, k))
    if not informative:
        return votes.copy()
    return np.where(outcome[:, 1:] > 0, votes + 1, 0)


def _mstep_mace(
    N: np.ndarray, total: float, theta: np.ndarray, xi: np.ndarray, informative: bool, kappa: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MACE M-step; ``xi`` over outcomes (abstain first) when ``informative``, over classes otherwise."""
    m, _, k = N.shape
    rows = np.arange(m)[:, None]
    idx = np.arange(k)[None, :]
    outcome = N.sum(axis=2)
    if informative:
        obs, n_i = outcome, np.full(m, total)
        right = N[rows, kappa, idx]  # (m, k): expected outcomes "as if it knew" per class
    else:
        obs, n_i = outcome[:, 1:], outcome[:, 1:].sum(axis=1)
        right = N[rows, kappa + 1, idx]
    # share of those outcomes given by "knowing" the class
    xk = xi[rows, kappa]
    knows = right * (theta[:, None] / np.maximum(theta[:, None] + (1.0 - theta[:, None]) * xk, _TINY))
    theta = np.clip((knows.sum(axis=1) + 1.0) / (n_i + 2.0), _FLOOR, 1.0 - _FLOOR)
    rest = obs.copy()
    if informative:  # several classes may share the abstain outcome
        np.add.at(rest, (np.broadcast_to(rows, kappa.shape), kappa), -knows)
    else:  # kappa[i] = 0..k-1: distinct within a row
        rest[rows, kappa] -= knows
    rest = np.maximum(rest, 0.0) + (obs + 1e-3) / (np.maximum(n_i, 0.0) + 1e-3 * obs.shape[1])[:, None]
    xi = rest / rest.sum(axis=1, keepdims=True)
    return theta, xi, _mace_table(theta, xi, total, outcome, informative, kappa)


def _mace_table(
    theta: np.ndarray,
    xi: np.ndarray,
    total: float,
    outcome: np.ndarray,
    informative: bool,
    kappa: np.ndarray,
) -> np.ndarray:
    m = theta.shape[0]
    k = outcome.shape[1] - 1
    rows = np.arange(m)[:, None]
    idx = np.arange(k)[None, :]
    T = np.empty((m, k + 1, k))
    if informative:
        T[:] = ((1.0 - theta)[:, None] * xi)[:, :, None]
        T[rows, kappa, idx] += theta[:, None]
        return T
    cov = np.clip(outcome[:, 1:].sum(axis=1) / total, _FLOOR, 1.0 - _FLOOR)
    V = ((1.0 - theta)[:, None] * xi)[:, :, None] * np.ones(k)
    V[rows, kappa, idx] += theta[:, None]
    T[:, 1:, :] = cov[:, None, None] * V
    T[:, 0, :] = (1.0 - cov)[:, None]
    return T


# Over 60 lines: one EM loop whose E and M steps share the running arrays of all families.
def fit_annotator(
    unique: RowSummary,
    family: str,
    *,
    max_steps: int = 50,
    tol: float = 1e-6,
    class_balance: np.ndarray | None = None,
    init: LabelModelParams | None = None,
    design: Any = None,
) -> AnnotatorFit:
    """Fit one family by EM over the distinct rows, started from majority vote.

    Parameters
    ----------
    unique : RowSummary
        Distinct rows (R, m) and their counts (R,).
    family : str
        One of :data:`FAMILIES`.
    max_steps : int
        EM steps at most (each O(R m k)).
    tol : float
        Stop when the mean log-likelihood per row improves by less than this.
    class_balance : ndarray of shape (k,), optional
        A fixed prior P(Y) (else estimated; ``"mv"`` always uses a uniform one).
    init : LabelModelParams, optional
        Start from this model's soft labels instead of majority vote's (a warm start).
    design : optional
        Internal: a prebuilt one-hot design of ``unique.rows`` (abstain encoded
        exactly when the family reads abstentions as informative).

    Returns
    -------
    AnnotatorFit
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    k = unique.cardinality
    m = unique.rows.shape[1]
    informative = family in ABSTAIN_INFORMATIVE
    D = design if design is not None else _Design(unique.rows, k, abstain=informative)
    c = unique.counts.astype(np.float64)
    total = float(c.sum())
    if total <= 0:
        raise ValueError("no rows to fit")
    fixed = class_balance is not None or family == "mv"
    p = np.full(k, 1.0 / k) if class_balance is None else np.asarray(class_balance, dtype=np.float64)
    q = majority_soft_labels(unique.rows, k) if init is None else _logsumexp(D.log_scores(init))[1]
    coverage = family in ("shared_coverage", "mace_coverage")
    mace = family in ("mace", "mace_abstain") or coverage
    if coverage:  # MACE over the votes, class-dependent coverage for one-class LFs
        informative = False
        unipolar, voted = one_class_votes(unique)
    theta = np.full(m, 0.5)
    xi = np.full((m, k + 1 if informative else k), 1.0 / (k + 1 if informative else k))
    prev, ll, steps, converged = -np.inf, float("nan"), 0, False
    while True:
        N = D.counts(q * c[:, None])
        if mace:
            outcome = N.sum(axis=2)
            if steps == 0:  # start xi at the LF's own outcome frequencies
                xi = outcome if informative else outcome[:, 1:]
                xi = (xi + 1e-3) / (xi + 1e-3).sum(axis=1, keepdims=True)
                kappa = _knows_outcome(outcome, informative)
            for _ in range(3 if steps == 0 else 1):
                theta, xi, T = _mstep_mace(N, total, theta, xi, informative, kappa)
            if coverage and unipolar.size:
                rates = mstep_coverage if family == "mace_coverage" else mstep_shared_coverage
                on, off = rates(N, unipolar, voted, total)
                T[unipolar] = coverage_table(on, off, voted, k)
        else:
            T = _mstep(family, N, total)
        if not fixed:
            p = np.maximum(N[0].sum(axis=0) / total, MIN_CLASS_PROB)
            p /= p.sum()
        params = LabelModelParams(p, T)
        lse, q = _logsumexp(D.log_scores(params))
        ll = float(c @ lse) / total
        steps += 1
        if ll - prev < tol:
            converged = True
            break
        if steps >= max_steps:
            break
        prev = ll
    return AnnotatorFit(family, params, ll, steps, converged)


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
    """Deal each row's count at random over folds (multinomial), shape (n_folds, R)."""
    out = np.zeros((n_folds, len(counts)))
    left = counts.astype(np.int64)
    for f in range(n_folds - 1):
        take = rng.binomial(left, 1.0 / (n_folds - f))
        out[f] = take
        left = left - take
    out[-1] = left
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


def row_fold_keys(rows: np.ndarray, counts: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """A 64-bit key per distinct row that does not depend on the order of the rows or of the columns.

    Each column gets a fingerprint from its count-weighted outcome histogram (it moves with
    the column when the columns are permuted); a row's key is the wrapping sum over its
    columns of ``mix(fingerprint, outcome)``, a sum being blind to the order of its terms.
    Columns with equal histograms are interchangeable in the key, which only merges the
    keys of rows that differ by swapping such columns' outcomes.

    Parameters
    ----------
    rows : ndarray of int, shape (R, m)
    counts : ndarray, shape (R,)
    k : int
    seed : int

    Returns
    -------
    ndarray of uint64, shape (R,)
    """
    R, m = rows.shape
    whole = np.floor(np.asarray(counts, dtype=np.float64))  # integer sums are exact in any order
    r, i = np.nonzero(rows >= 0)
    outcome = rows[r, i].astype(np.int64) + 1  # 1..k: the votes (abstentions: outcome 0)
    hist = np.zeros((m, k + 1))
    hist[:, 1:] = np.bincount(i * k + outcome - 1, weights=whole[r], minlength=m * k).reshape(m, k)
    hist[:, 0] = whole.sum() - hist[:, 1:].sum(axis=1)
    fp = _mix(np.full(m, seed, dtype=np.uint64) ^ _GOLDEN)
    for a in range(k + 1):
        fp = _mix(fp ^ hist[:, a].view(np.uint64))
    if R == 0:
        return np.zeros(0, dtype=np.uint64)
    # sum over all columns of mix(fp_j + outcome * golden): the abstentions' terms summed once,
    # then each vote swaps its column's abstention term for its own
    abstain = _mix(fp)
    delta = _mix(fp[i] + outcome.astype(np.uint64) * _GOLDEN) - abstain[i]
    per_row = np.zeros(R, dtype=np.uint64)
    if len(r):
        starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
        per_row[r[starts]] = np.add.reduceat(delta, starts)
    return _mix(per_row + abstain.sum(dtype=np.uint64))


def deal_counts(rows: np.ndarray, counts: np.ndarray, k: int, n_folds: int, seed: int = 0) -> np.ndarray:
    """Deal each distinct row's count at random over folds, independently of row and column order.

    The multinomial deal of :func:`split_counts` (a row seen 30 times lands in several
    folds), made in the order of the rows' content keys (:func:`row_fold_keys`) with a
    generator seeded by ``seed``, so the deal does not depend on the order of the rows or
    of the columns of L.  Fractional counts (exponential forgetting) are truncated.

    Returns
    -------
    ndarray, shape (n_folds, R)
    """
    keys = row_fold_keys(rows, counts, k, seed)
    order = np.argsort(keys, kind="stable")
    out = np.empty((n_folds, len(keys)))
    out[:, order] = split_counts(
        np.floor(np.asarray(counts, dtype=np.float64))[order], n_folds, np.random.default_rng(seed)
    )
    return out


def heldout_loglik(
    unique: RowSummary,
    families: tuple[str, ...] = FAMILIES,
    *,
    n_folds: int = 5,
    max_steps: int = 50,
    fold_steps: int = 10,
    class_balance: np.ndarray | None = None,
    random_state: Any = None,
    fits: dict[str, AnnotatorFit] | None = None,
) -> dict[str, float]:
    """Cross-fitted mean log-likelihood per row of each family.

    Parameters
    ----------
    unique : RowSummary
    families : tuple of str
    n_folds : int
    max_steps : int
        EM steps of the fit on all rows.
    fold_steps : int
        EM steps of each fold's fit, warm-started from the fit on all rows.
    class_balance : ndarray of shape (k,), optional
        A fixed prior P(Y) for every fit (see :func:`fit_annotator`).
    random_state : int or numpy Generator, optional
        Seed of the split of the counts into folds: an int (or None, read as 0) deals each
        distinct row by a seeded key of its content (:func:`deal_counts`), so the scores do
        not depend on the order of the rows or of the columns; a Generator deals at random
        (:func:`split_counts`).
    fits : dict, optional
        Filled with each family's fit on all rows (the folds' warm start).

    Returns
    -------
    dict
        family -> mean held-out log-likelihood per row (higher is better).
    """
    if isinstance(random_state, np.random.Generator):
        folds = split_counts(unique.counts, n_folds, random_state)
    else:
        seed = 0 if random_state is None else int(random_state)
        folds = deal_counts(unique.rows, unique.counts, unique.cardinality, n_folds, seed)
    designs: dict[bool, _Design] = {}
    out = {}
    for fam in families:
        informative = fam in ABSTAIN_INFORMATIVE
        if informative not in designs:
            designs[informative] = _Design(unique.rows, unique.cardinality, abstain=informative)
        D = designs[informative]
        score, scored = 0.0, 0.0
        full = fit_annotator(unique, fam, max_steps=max_steps, class_balance=class_balance, design=D)
        if fits is not None:
            fits[fam] = full
        for f in range(n_folds):
            train = unique.counts - folds[f]
            if train.sum() <= 0:  # every row fell in this fold (a handful of rows): nothing to fit it on
                continue
            sub = replace(unique, counts=train, n_rows=float(train.sum()))
            fit = fit_annotator(
                sub, fam, max_steps=fold_steps, class_balance=class_balance, init=full.params, design=D
            )
            lse, _ = _logsumexp(D.log_scores(fit.params))
            score += float(folds[f] @ lse)
            scored += float(folds[f].sum())
        out[fam] = score / scored if scored > 0 else float("nan")
    return out


#: Held-out log-likelihood per row below which one family's lead over a simpler one is a tie.
TIE_TOL = 1e-6

#: Candidates of the gold-free choice (vote-only reading; see :func:`select_family`).
CANDIDATES = ("mv", "one_coin", "mace")


@dataclass(frozen=True)
class Selection:
    """Outcome of :func:`select_family`.

    Attributes
    ----------
    chosen : str
        The family with the highest cross-fitted log-likelihood.
    heldout_loglik : dict
        family -> mean held-out log-likelihood per row.
    n_folds : int
    n_rows : int
        Rows the choice was made on (after any subsample).
    fit : AnnotatorFit or None
        The chosen family's fit on all the rows (not persisted).
    fits : dict
        Every candidate's fit on all the rows (not persisted).
    """

    chosen: str
    heldout_loglik: dict[str, float]
    n_folds: int
    n_rows: int
    fit: AnnotatorFit | None = field(default=None, compare=False, repr=False)
    fits: dict[str, AnnotatorFit] = field(default_factory=dict, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.chosen,
            "heldout_loglik": {f: float(v) for f, v in self.heldout_loglik.items()},
            "n_folds": self.n_folds,
            "n_rows": self.n_rows,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Selection:
        try:
            chosen = str(d["chosen"])
            scores = {str(f): float(v) for f, v in dict(d["heldout_loglik"]).items()}
            n_folds, n_rows = int(d["n_folds"]), int(d["n_rows"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"invalid selection record: {exc}") from exc
        if chosen not in FAMILIES or any(f not in FAMILIES for f in scores):
            raise ValueError(f"selection record names an unknown family: {chosen!r}, {sorted(scores)}")
        return cls(chosen, scores, n_folds, n_rows)


def select_family(
    unique: RowSummary,
    candidates: tuple[str, ...] = CANDIDATES,
    *,
    n_folds: int = 3,
    max_steps: int = 50,
    class_balance: np.ndarray | None = None,
    random_state: Any = None,
) -> Selection:
    """Choose the family whose fit best predicts held-out rows (no tuned constant).

    Ties (scores within :data:`TIE_TOL` of each other) go to the earlier, smaller family in
    ``candidates``, so the choice does not hinge on the rounding of the sums.

    Parameters
    ----------
    unique : RowSummary
    candidates : tuple of str
        Families to compare, fewest parameters first.
    n_folds : int
    max_steps : int
    class_balance : ndarray of shape (k,), optional
        Fixed prior for every fit.
    random_state : int or numpy Generator, optional

    Returns
    -------
    Selection
    """
    n = int(unique.counts.sum())
    if len(candidates) == 1:
        fit = fit_annotator(unique, candidates[0], max_steps=max_steps, class_balance=class_balance)
        return Selection(candidates[0], {}, 0, n, fit, {candidates[0]: fit})
    fits: dict[str, AnnotatorFit] = {}
    scores = heldout_loglik(
        unique,
        candidates,
        n_folds=n_folds,
        max_steps=max_steps,
        class_balance=class_balance,
        random_state=random_state,
        fits=fits,
    )
    best = candidates[0]
    for fam in candidates[1:]:
        # nan (no fold could be scored) never wins; a lead within TIE_TOL (the EM stopping tolerance
        # per row) is a tie, and ties go to the simpler family, whatever the rounding of the sums
        if scores[fam] > scores[best] + TIE_TOL:
            best = fam
    return Selection(best, scores, n_folds, n, fits[best], fits)
