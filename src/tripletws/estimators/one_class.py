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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..params import LabelModelParams
from ..rows import RowSummary
from .votes import summary_votes

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
    k, m = rows.cardinality, rows.n_lfs
    r, i, a = summary_votes(rows)  # the votes (listed once per summary): no (R, m) temporary per class
    cell = i * k + a
    counted = rows.counts > 0
    if not counted.all():
        cell = cell[counted[r]]
    return np.bincount(cell, minlength=m * k).reshape(m, k) > 0


def one_class_votes(rows: RowSummary) -> tuple[np.ndarray, np.ndarray]:
    """The LFs that vote one class only, and that class: two int arrays of the same length."""
    seen = voted_classes(rows)
    lfs = np.flatnonzero(seen.sum(axis=1) == 1)
    return lfs, seen[lfs].argmax(axis=1)


class CoverageTables:
    """The M-steps of the coverage families for a batch of B fits, on whole tables (B, m, k + 1, k).

    LFs that vote several classes follow MACE over their votes (``theta_i``, ``xi_i``; class-
    independent coverage); LFs that vote one class only in a member's fitted rows get two rates
    (:func:`mstep_coverage`, or one shared precision with :func:`mstep_shared_coverage`).  Every
    member's M-step runs at once, with the members on the first axis (which LFs vote one class
    may differ between members: a mask).

    Parameters
    ----------
    family : str or sequence of str
        ``"mace_coverage"`` or ``"shared_coverage"``, for all members or one per member.
    obs : ndarray, shape (B, m, k + 1)
        Observed outcome counts of each member's fitted rows (abstain first).
    total : ndarray, shape (B,)
        Rows each member fits.
    """

    def __init__(
        self,
        family: str | Sequence[str],
        obs: np.ndarray,
        total: np.ndarray,
        design: Any = None,
        n_classes: np.ndarray | None = None,
    ) -> None:
        B, m, width = obs.shape
        k = width - 1
        names = [family] * B if isinstance(family, str) else list(family)
        if len(names) != B or any(f not in COVERAGE_FAMILIES for f in names):
            raise ValueError(f"one coverage family per member expected, got {family!r}")
        self.shared = np.array([f == "shared_coverage" for f in names])  # (B,) one shared precision
        self.k = k
        self.total = np.asarray(total, dtype=np.float64).reshape(B)
        votes = obs[:, :, 1:]
        self.votes, self.n_i = votes, votes.sum(axis=2)  # (B, m, k), (B, m)
        seen = votes > 0
        self.one = seen.sum(axis=2) == 1  # (B, m): votes one class only
        self.classes = seen.argmax(axis=2)  # (B, m): that class (meaningful where ``one``)
        self.cov = np.clip(self.n_i / np.maximum(self.total, 1e-300)[:, None], _RATE_FLOOR, 1.0 - _RATE_FLOOR)
        # classes of each member's model (at most k: the others have no rows, as under a zero prior,
        # and no vote: MACE's xi is spread over the member's own classes)
        self.n_classes = np.full(B, k) if n_classes is None else np.asarray(n_classes, dtype=np.int64)
        own = (np.arange(k) < self.n_classes[:, None])[:, None, :]  # (B, 1, k)
        self.theta = np.full((B, m), 0.5)
        xi = np.where(own, votes + 1e-3, 0.0)
        self.xi = xi / xi.sum(axis=2, keepdims=True)
        self.xi_prior = xi / (np.maximum(self.n_i, 0.0) + 1e-3 * self.n_classes[:, None])[:, :, None]
        self.first = True
        self.design = design
        if design is not None:  # position of each (LF, outcome) among the design's used columns (-1: unused)
            self.position = np.full(design.m * design.width, -1)
            self.position[design.used] = np.arange(design.U)
            self.lf0 = np.flatnonzero(design.lf == 0)  # LF 0's columns: they partition the rows
        self.rate = np.zeros((0, k))
        self.last = np.zeros((0, m, k + 1, k))
        self._index()

    def _index(self) -> None:
        """Flat indices of the (member, LF) pairs read as one-class, and what the M-step needs of them."""
        k = self.k
        self.one_b, self.one_i = np.nonzero(self.one)  # (u,) each
        self.one_c = self.classes[self.one_b, self.one_i]  # (u,) the class voted
        self.one_hot = self.one_c[:, None] == np.arange(k)  # (u, k)
        self.one_total = self.total[self.one_b]
        self.one_safe_total = np.maximum(self.one_total, 1e-300)
        self.one_shared = self.shared[self.one_b]
        self.all_shared, self.any_shared = bool(self.one_shared.all()), bool(self.one_shared.any())
        self.any_multi = not bool(self.one.all())  # some LF votes several classes (or none)
        # probability of the votes a one-class LF never casts, over its member's classes
        self.unseen = ((self.n_classes[self.one_b] - 1) * UNSEEN_VOTE)[:, None]
        D = self.design
        if D is not None and not self.any_multi:  # flat indices into the used columns' (U, k, B) arrays
            B = len(self.total)
            col = self.one_i * D.width
            self.vote_col = self.position[col + self.one_c + 1]  # always used: the member saw the votes
            self.abstain_col = self.position[col]  # -1 where the LF never abstains on the design's rows
            self.abstains = bool((self.abstain_col >= 0).all())
            y = np.arange(k)
            self.vote_flat = (self.vote_col[:, None] * k + y) * B + self.one_b[:, None]  # (u, k)
            self.on_flat = self.one_c * B + self.one_b  # into (k, B) per-class arrays

    def keep(self, keep: np.ndarray) -> None:
        """Drop the members where ``keep`` (B,) is False."""
        for name in (
            "shared",
            "total",
            "votes",
            "n_i",
            "one",
            "classes",
            "cov",
            "theta",
            "xi",
            "xi_prior",
            "n_classes",
        ):
            setattr(self, name, getattr(self, name)[keep])
        self._index()

    def step(self, N: np.ndarray) -> np.ndarray:
        """Tables maximising the expected complete log-likelihood, from expected counts N (B, m, k + 1, k)."""
        k = self.k
        B, m = N.shape[:2]
        T = np.empty((B, m, k + 1, k))
        if self.any_multi:  # MACE over the votes (computed for every LF, kept for the others)
            idx = np.arange(k)
            right = N[:, :, idx + 1, idx]  # (B, m, k) expected votes for the class voted
            for _ in range(3 if self.first else 1):
                theta, xi = self.theta[:, :, None], self.xi
                knows = right * (theta / np.maximum(theta + (1.0 - theta) * xi, 1e-300))
                self.theta = _clip((knows.sum(axis=2) + 1.0) / (self.n_i + 2.0))
                rest = np.maximum(self.votes - knows, 0.0) + self.xi_prior
                self.xi = rest / rest.sum(axis=2, keepdims=True)
            self.first = False
            V = np.repeat(((1.0 - self.theta)[:, :, None] * self.xi)[:, :, :, None], k, axis=3)
            V[:, :, idx, idx] += self.theta[:, :, None]
            T[:, :, 0, :] = (1.0 - self.cov)[:, :, None]
            T[:, :, 1:, :] = self.cov[:, :, None, None] * V
        if len(self.one_b):
            b, i, c = self.one_b, self.one_i, self.one_c
            per_class = np.add.reduce(N[:, 0], axis=1)  # (B, k) expected rows per class
            rate = self._rates(N[b, i, c + 1], per_class[b, c])
            table = np.full((len(b), k + 1, k), UNSEEN_VOTE)
            table[np.arange(len(b)), self.one_c + 1, :] = rate
            table[:, 0, :] = 1.0 - rate - self.unseen
            T[b, i] = table
        return T

    def step_used(self, N: np.ndarray) -> np.ndarray:
        """:meth:`step` at the design's used columns: tables (U, k, B) from expected counts N (U, k, B).

        Needs the ``design`` given at construction; :meth:`table` gives a member's whole table.
        """
        D = self.design
        if self.any_multi:  # through whole tables
            self.last = self.step(D.full(N))
            return D.gather(self.last)
        per_class = np.add.reduce(N[self.lf0], axis=0)  # (k, B) expected rows per class
        self.rate = rate = self._rates(np.take(N, self.vote_flat), np.take(per_class, self.on_flat))
        out = np.full(N.shape, UNSEEN_VOTE)
        b = self.one_b
        out[self.vote_col, :, b] = rate
        abstain = 1.0 - rate - self.unseen
        if self.abstains:
            out[self.abstain_col, :, b] = abstain
        else:
            has = self.abstain_col >= 0
            out[self.abstain_col[has], :, b[has]] = abstain[has]
        return out

    def table(self, j: int) -> np.ndarray:
        """Member j's whole table (m, n + 1, n) after the last :meth:`step_used` (n its classes)."""
        k = int(self.n_classes[j])
        if self.any_multi:
            return self.last[j, :, : k + 1, :k]
        mine = self.one_b == j  # every LF of the member: rows sorted by LF
        return one_class_tables(self.rate[mine], self.one_c[mine], k)

    def _rates(self, votes: np.ndarray, on_rows: np.ndarray) -> np.ndarray:
        """``P(votes | Y = y)`` (u, k) of the one-class (member, LF) pairs: on-class rate at their class.

        ``votes`` (u, k): expected votes of each pair's LF per class; ``on_rows`` (u,): expected rows
        of the pair's class.
        """
        b = self.one_b
        all_votes = np.add.reduce(votes, axis=1)
        on_votes = votes[self.one_hot]
        total = self.one_total
        cov = all_votes / self.one_safe_total
        if not self.all_shared:  # per-LF rates (mstep_coverage)
            on = (on_votes + cov) / (on_rows + 1.0)
            off = (all_votes - on_votes + cov) / (total - on_rows + 1.0)
        if self.any_shared:  # one precision for a member's one-class LFs (mstep_shared_coverage)
            n = len(self.total)
            prec = ((np.bincount(b, on_votes, n) + 1.0) / (np.bincount(b, all_votes, n) + 2.0))[b]
            pc = _clip(on_rows / self.one_safe_total)
            s_on, s_off = cov * prec / pc, cov * (1.0 - prec) / (1.0 - pc)
            if self.all_shared:
                on, off = s_on, s_off
            else:
                shared = self.one_shared
                on, off = np.where(shared, s_on, on), np.where(shared, s_off, off)
        # the rates clipped to the floor (clipping after choosing between them gives the same values)
        return _clip(np.where(self.one_hot, on[:, None], off[:, None]))


def one_class_tables(rate: np.ndarray, classes: np.ndarray, k: int) -> np.ndarray:
    """Outcome tables (u, k + 1, k) of one-class LFs from ``rate[i, y] = P(votes | Y = y)`` (u, >= k).

    Columns of ``rate`` beyond ``k`` are ignored (classes a padded batch gave the member).
    """
    u = len(classes)
    rate = rate[:, :k]
    T = np.full((u, k + 1, k), UNSEEN_VOTE)
    T[np.arange(u), classes + 1, :] = rate
    T[:, 0, :] = 1.0 - rate - (k - 1) * UNSEEN_VOTE
    return T


def _clip(x: np.ndarray) -> np.ndarray:
    """``x`` clipped to the rate floor in place (two ufuncs: np.clip's wrapper costs more)."""
    np.maximum(x, _RATE_FLOOR, out=x)
    return np.minimum(x, 1.0 - _RATE_FLOOR, out=x)


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
