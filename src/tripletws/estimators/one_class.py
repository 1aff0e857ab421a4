"""LFs that vote one class only: what their coverage says about the class, fitted by EM.

An LF that votes one class only (``c_i``) says nothing through its votes once it votes (the
vote is constant); what it says is *when* it votes.  The ``"mace_coverage"`` family reads
abstentions as informative for those LFs only and as "not assigned" for the others:

- a one-class LF votes with a probability that depends on the class, two rates per LF,
  ``a_i = P(votes | Y = c_i)`` and ``b_i = P(votes | Y != c_i)`` (the same for every other
  class, so that ``k > 2`` does not multiply the parameters);
- an LF that votes several classes follows MACE's annotator model over its votes, with a
  class-independent coverage (as in the ``"mace"`` family).

The ``"shared_coverage"`` family is the same with one precision ``P(Y = c_i | LF i votes)``
shared by all one-class LFs (each keeps its own coverage): majority vote's "one accuracy for
all" in this reading.

Nothing forces ``a_i > b_i``: the fit is free to find an LF *inverted* (voting its class
more often on the other classes).  That freedom is what makes the fit checkable without
gold: an LF's author wrote it to fire on its class, so a latent class under which most of
the LFs fire more often on the *other* classes is not the class the LFs are about (a flipped
or different latent variable, e.g. "some LF fired").  :func:`orientation` measures it.

Fitting is EM over the distinct rows weighted by their counts, started from majority vote's
soft labels, with MAP updates (one pseudo-row per LF, at the LF's own coverage) as in
:mod:`tripletws.estimators.annotator`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import LabelModelParams
from ..rows import RowSummary

#: Probability given to a vote a one-class LF never cast in the fitted rows (the same for
#: every class, so such a vote at prediction time carries no evidence).
UNSEEN_VOTE = 1e-6
_RATE_FLOOR = 1e-6


@dataclass(frozen=True)
class CoverageRates:
    """The class-dependent coverage of one-class LFs in a fitted table.

    Attributes
    ----------
    lfs : ndarray of int, shape (u,)
        The one-class LFs.
    classes : ndarray of int, shape (u,)
        The class each votes.
    on_class : ndarray, shape (u,)
        ``P(votes | Y = c_i)``.
    off_class : ndarray, shape (u,)
        ``P(votes | Y != c_i)`` (averaged over the other classes under the class balance).
    """

    lfs: np.ndarray
    classes: np.ndarray
    on_class: np.ndarray
    off_class: np.ndarray


def voted_classes(rows: RowSummary) -> np.ndarray:
    """``seen[i, c]``: LF i votes class c on some counted row, shape (m, k) bool."""
    k = rows.cardinality
    counted = rows.counts > 0
    return np.stack([((rows.rows == c) & counted[:, None]).any(axis=0) for c in range(k)], axis=1)


def one_class_votes(rows: RowSummary) -> tuple[np.ndarray, np.ndarray]:
    """The LFs that vote one class only, and that class: two int arrays of the same length."""
    seen = voted_classes(rows)
    lfs = np.flatnonzero(seen.sum(axis=1) == 1)
    return lfs, seen[lfs].argmax(axis=1)


class CoverageTables:
    """The M-steps of the coverage families for one fit, on whole tables (m, k + 1, k).

    LFs that vote several classes follow MACE over their votes (``theta_i``, ``xi_i``; class-
    independent coverage); LFs that vote one class only in the fitted rows get two rates
    (:func:`mstep_coverage`, or one shared precision with :func:`mstep_shared_coverage`).

    Parameters
    ----------
    family : str
        ``"mace_coverage"`` or ``"shared_coverage"``.
    obs : ndarray, shape (m, k + 1)
        Observed outcome counts of the fitted rows (abstain first).
    total : float
        Rows fitted.
    """

    def __init__(self, family: str, obs: np.ndarray, total: float) -> None:
        m, width = obs.shape
        k = width - 1
        self.rates = mstep_coverage if family == "mace_coverage" else mstep_shared_coverage
        self.k, self.total = k, total
        votes = obs[:, 1:]
        self.votes, self.n_i = votes, votes.sum(axis=1)
        seen = votes > 0
        self.lfs = np.flatnonzero(seen.sum(axis=1) == 1)
        self.classes = seen[self.lfs].argmax(axis=1)
        self.cov = np.clip(self.n_i / max(total, 1e-300), _RATE_FLOOR, 1.0 - _RATE_FLOOR)
        self.theta = np.full(m, 0.5)
        self.xi = (votes + 1e-3) / (votes + 1e-3).sum(axis=1, keepdims=True)
        self.xi_prior = (votes + 1e-3) / (np.maximum(self.n_i, 0.0) + 1e-3 * k)[:, None]
        self.first = True

    def step(self, N: np.ndarray) -> np.ndarray:
        """The table maximising the expected complete log-likelihood, from expected counts N (m, k + 1, k)."""
        k, m = self.k, N.shape[0]
        idx = np.arange(k)
        right = N[:, idx + 1, idx]  # (m, k) expected votes for the class voted
        for _ in range(3 if self.first else 1):
            theta, xi = self.theta[:, None], self.xi
            knows = right * (theta / np.maximum(theta + (1.0 - theta) * xi, 1e-300))
            self.theta = np.clip((knows.sum(axis=1) + 1.0) / (self.n_i + 2.0), _RATE_FLOOR, 1.0 - _RATE_FLOOR)
            rest = np.maximum(self.votes - knows, 0.0) + self.xi_prior
            self.xi = rest / rest.sum(axis=1, keepdims=True)
        self.first = False
        V = ((1.0 - self.theta)[:, None] * self.xi)[:, :, None] * np.ones(k)
        V[:, idx, idx] += self.theta[:, None]
        T = np.empty((m, k + 1, k))
        T[:, 0, :] = (1.0 - self.cov)[:, None]
        T[:, 1:, :] = self.cov[:, None, None] * V
        if self.lfs.size:
            on, off = self.rates(N, self.lfs, self.classes, self.total)
            T[self.lfs] = coverage_table(on, off, self.classes, k)
        return T


def coverage_table(on: np.ndarray, off: np.ndarray, classes: np.ndarray, k: int) -> np.ndarray:
    """Outcome tables (u, k + 1, k) of one-class LFs from their two rates.

    Parameters
    ----------
    on, off : ndarray, shape (u,)
        ``P(votes | Y = c_i)`` and ``P(votes | Y != c_i)``.
    classes : ndarray of int, shape (u,)
    k : int
    """
    u = len(classes)
    rate = np.repeat(off[:, None], k, axis=1)
    rate[np.arange(u), classes] = on
    T = np.full((u, k + 1, k), UNSEEN_VOTE)
    T[np.arange(u), classes + 1, :] = rate
    T[:, 0, :] = 1.0 - rate - (k - 1) * UNSEEN_VOTE
    return T


def coverage_rates(params: LabelModelParams, lfs: np.ndarray, classes: np.ndarray) -> CoverageRates:
    """Read the two rates of each one-class LF off a fitted table (any family).

    ``off_class`` averages ``P(votes c_i | Y = y)`` over ``y != c_i`` weighted by the class balance.
    """
    k = params.cardinality
    p = params.class_balance
    cp = params.cond_probs
    votes = cp[lfs, classes + 1, :]  # (u, k): P(votes c_i | Y = y)
    u = len(lfs)
    on = votes[np.arange(u), classes]
    w = np.broadcast_to(p, (u, k)).copy()
    w[np.arange(u), classes] = 0.0
    off = (votes * w).sum(axis=1) / np.maximum(w.sum(axis=1), 1e-300)
    return CoverageRates(np.asarray(lfs), np.asarray(classes), on, off)


def orientation(
    rates: CoverageRates, coverage: np.ndarray, se: np.ndarray | None = None, n_se: float = 0.0
) -> float:
    """Coverage-weighted share of one-class LFs that fire more often on their class (nan if none vote).

    Parameters
    ----------
    rates : CoverageRates
    coverage : ndarray, shape (m,)
        Each LF's share of rows voted (the weights).
    se : ndarray, shape (u,), optional
        Standard error of each LF's ``on_class - off_class`` (:func:`rate_difference_se`).
    n_se : float
        An LF counts as firing more often on its class when ``on_class - off_class`` exceeds
        ``n_se * se`` (0: any positive difference).
    """
    w = coverage[rates.lfs]
    if rates.lfs.size == 0 or w.sum() <= 0:
        return float("nan")
    margin = 0.0 if se is None else n_se * np.asarray(se, dtype=np.float64)
    return float(w[rates.on_class - rates.off_class > margin].sum() / w.sum())


def rate_difference_se(rates: CoverageRates, class_balance: np.ndarray, n_rows: float) -> np.ndarray:
    """Binomial standard error of each one-class LF's ``on_class - off_class``, shape (u,).

    The rates are read as proportions over the rows of their class (``n_rows p_{c_i}``) and of
    the other classes (``n_rows (1 - p_{c_i})``); the latent classes add uncertainty that this
    leaves out, so it is a lower bound.

    Parameters
    ----------
    rates : CoverageRates
    class_balance : ndarray, shape (k,)
    n_rows : float
        Rows the rates were fitted on.
    """
    pc = np.clip(np.asarray(class_balance, dtype=np.float64)[rates.classes], _RATE_FLOOR, 1.0 - _RATE_FLOOR)
    n = max(float(n_rows), 1.0)
    a, b = rates.on_class, rates.off_class
    return np.sqrt(a * (1.0 - a) / (n * pc) + b * (1.0 - b) / (n * (1.0 - pc)))


def mstep_coverage(
    N: np.ndarray, lfs: np.ndarray, classes: np.ndarray, total: float
) -> tuple[np.ndarray, np.ndarray]:
    """MAP rates of one-class LFs from expected outcome counts ``N`` (m, k + 1, k).

    One pseudo-row per class group at the LF's own coverage (a Beta prior with mean the
    coverage and weight 1), so a rate never reaches 0 or 1.

    Returns
    -------
    on, off : ndarray, shape (u,)
    """
    u = len(lfs)
    votes = N[lfs, classes + 1, :]  # (u, k) expected votes per class
    per_class = N[0].sum(axis=0)  # expected rows per class (the same for every LF)
    cov = votes.sum(axis=1) / max(total, 1e-300)
    on_votes = votes[np.arange(u), classes]
    on_rows = per_class[classes]
    on = (on_votes + cov) / (on_rows + 1.0)
    off = (votes.sum(axis=1) - on_votes + cov) / (total - on_rows + 1.0)
    return (
        np.clip(on, _RATE_FLOOR, 1.0 - _RATE_FLOOR),
        np.clip(off, _RATE_FLOOR, 1.0 - _RATE_FLOOR),
    )


def mstep_shared_coverage(
    N: np.ndarray, lfs: np.ndarray, classes: np.ndarray, total: float
) -> tuple[np.ndarray, np.ndarray]:
    """Rates of one-class LFs that share one precision ``P(Y = c_i | LF i votes)``.

    Each LF keeps its own coverage (its observed vote rate); the precision is the expected
    share of all one-class votes that fall on the class they name (one pseudo-vote each way).
    Then ``a_i = cov_i prec / p_{c_i}`` and ``b_i = cov_i (1 - prec) / (1 - p_{c_i})``: majority
    vote's "one accuracy for all" in the coverage reading.

    Returns
    -------
    on, off : ndarray, shape (u,)
    """
    u = len(lfs)
    votes = N[lfs, classes + 1, :]
    per_class = N[0].sum(axis=0) / max(total, 1e-300)
    all_votes = votes.sum(axis=1)
    prec = (votes[np.arange(u), classes].sum() + 1.0) / (all_votes.sum() + 2.0)
    cov = all_votes / max(total, 1e-300)
    pc = np.clip(per_class[classes], _RATE_FLOOR, 1.0 - _RATE_FLOOR)
    on = cov * prec / pc
    off = cov * (1.0 - prec) / (1.0 - pc)
    return (
        np.clip(on, _RATE_FLOOR, 1.0 - _RATE_FLOOR),
        np.clip(off, _RATE_FLOOR, 1.0 - _RATE_FLOOR),
    )


#: The coverage reading's families, fewer parameters first (chosen by held-out likelihood).
COVERAGE_FAMILIES = ("shared_coverage", "mace_coverage")
