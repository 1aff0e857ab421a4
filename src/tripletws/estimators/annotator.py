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
entry an LF ever uses becomes zero.  Several fits run as one batch (the candidate families
side by side, then all their folds): one pair of design products per step for the whole
batch, each member stopping on its own rule exactly as if it were fitted alone.

The rows' design is :mod:`tripletws.estimators.annotator_design` and the studies' priors of
MACE's ``theta`` are :mod:`tripletws.estimators.theta_prior`; this module is the EM between
the design and the held-out scores of :mod:`tripletws.estimators.heldout`, from which
:mod:`tripletws.estimators.family_choice` chooses the family.  The EM's settings (:data:`EM_TOL`,
:data:`SPLIT_ENTRIES`, the ``MACE_*`` switches) are read at call time from this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..parallel import map_parts, solve_jobs
from ..params import LabelModelParams
from ..rows import RowSummary
from . import annotator_design as _design
from .annotator_design import _FLOOR, _TINY, _Design, _logsumexp, posterior_in_place
from .class_balance import MIN_CLASS_PROB
from .em_jit import (
    INFORMATIVE_CODES,
    JIT_LARGE_CELLS,
    JIT_MAX_ROWS,
    informative_kernel,
    lean_kernel,
    numba_at_hand,
    run_lean,
)
from .one_class import COVERAGE_FAMILIES, CoverageTables
from .theta_prior import eb_strength, mix_prior, mix_theta

#: The families, fewest parameters first.
FAMILIES = ("mv", "one_coin", "mace", "shared_coverage", "mace_coverage", "mace_abstain", "ds", "ds_abstain")

#: Families whose abstentions are informative (an outcome of the table) for some LFs.
ABSTAIN_INFORMATIVE = frozenset({"shared_coverage", "mace_coverage", "mace_abstain", "ds_abstain"})

#: EM stops when the mean log-likelihood per row improves by less than this.
EM_TOL = 1e-6

#: EM stops after this many steps at most, where ``EM_TOL`` has not stopped it: every EM of the
#: annotator model (the fits on all rows, the folds' fits, the checks' fits and their bootstraps;
#: the coverage check's folds, warm-started, run 10).  Read at call time (a study switch).  The cap
#: binds on many fits of the default, and it is not a free speed knob: at 25 the stress suite
#: loses, at 200 it gains and the real-LF subsets lose (docs/studies.md, "The EM step cap
#: (session 62)").
EM_STEPS = 50

#: ``"mace"`` (vote-only) with an empirical-Bayes prior on the LFs' ``theta``: at each M-step
#: ``theta_i ~ Beta(s mu, s (1 - mu))`` with ``mu`` and ``s`` estimated from all LFs' expected
#: counts (beta-binomial method of moments, :func:`~tripletws.estimators.theta_prior.eb_strength`), then
#: ``theta_i = (knows_i + s mu) / (n_i + s)``.  Off: the uniform prior, ``(knows_i + 1) / (n_i + 2)``.
#: Read at each fit (numpy path and compiled kernel alike).
MACE_EB = False

#: The range ``s`` is clipped to (2: no stronger than the uniform prior's pseudo-counts at least).
MACE_EB_S = (2.0, 1e4)

#: With ``MACE_EB``: the spread of the LFs' rates is measured on the complete-data counts, adding
#: each LF's posterior variance of its "knows" count (``sum_v p_v (1 - p_v)`` over its votes) to the
#: spread of the expected counts.  Without it, the expected counts' spread is below binomial noise
#: (an expectation varies less than the count it predicts) and ``s`` runs to its upper bound.
MACE_EB_VAR = True

#: With ``MACE_EB``: estimate ``mu`` and ``s`` once, at the first M-step (from majority vote's soft
#: labels), and keep them for the whole fit (else re-estimated at every M-step).
MACE_EB_FIXED = False

#: ``"mace"`` (vote-only) with a two-component empirical-Bayes prior on ``theta`` (a study, off):
#: ``theta_i ~ pi Beta(s0 mu0, s0 (1 - mu0)) + (1 - pi) Beta(s1 mu1, s1 (1 - mu1))`` with
#: ``mu0 <= mu1`` (spammers / experts), fitted at each M-step to the LFs' complete-data counts
#: (:func:`~tripletws.estimators.theta_prior.mix_prior`), then ``theta_i`` its posterior mean under the
#: mixture.  Numpy path only: batches holding ``"mace"`` skip the compiled kernel while it is on.  Wins over
#: ``MACE_EB``.
MACE_MIX = False

#: With ``MACE_MIX``: the prior fitted once, at the first M-step (from majority vote's soft labels),
#: and kept (each LF's component posterior still follows its counts).
MACE_MIX_FIXED = False

#: With ``MACE_MIX``: LFs that vote one class only are left out of the prior's estimate (their
#: ``theta`` is not identified by the votes alone); they still get the mixture's posterior mean.
MACE_MIX_SKIP_ONE_CLASS = False


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


#: A batch of EM fits whose design entries times members reach this many is dealt over the solve's
#: threads, whole members to each (:func:`_em_split`), when it runs in a compiled kernel (members one
#: after the other: nothing is lost by dealing them) or on a design too small for row blocks (numpy:
#: each part's products then serve fewer members, ~0.7 of the whole batch's time per half, measured
#: at 1e6 x 50 and x 100); a large sparse design's numpy batch runs by row blocks instead
#: (:meth:`~tripletws.estimators.annotator_design._Design.e_step_blocks`).  A batch this size takes
#: ~15 ms (1e6 x 50 synthetic: 2.8e6 for the family choice's 12 fits, ~80 ms of CPU), the hand-off
#: and a first start of the pool ~0.5 ms.  The largest batch of the 15 shared sets (sentiment_popularity's
#: choice, 1.2e5) stays whole: dealt, it cost 0.7 ms of a 16 ms fit (two threads, a busy machine).
SPLIT_ENTRIES = 500_000


def _clip(x: np.ndarray) -> np.ndarray:
    """``x`` clipped to [_FLOOR, 1 - _FLOOR] in place (two ufuncs: np.clip's wrapper costs more)."""
    np.maximum(x, _FLOOR, out=x)
    return np.minimum(x, 1.0 - _FLOOR, out=x)


#: Families fitted on class-major state (LF-wise parameters, vote-only reading): the default's candidates.
_LEAN = frozenset({"mv", "one_coin", "mace"})


class _Tables:
    """The M-steps of one family for a batch of B fits.

    Built from the observed outcome counts ``obs`` (B, m, width) and the rows per member
    ``total`` (B,).  :meth:`step` maps the expected counts of the design's used columns
    ``N`` (U, k, B) to the tables the E-step reads at those columns (U, k, B):
    P(vote a | y, votes) in the vote-only reading, P(outcome a | y) when abstentions are
    informative.  The state (accuracies, MACE's ``theta`` and ``xi``) lives here, with the
    members on the last axis for the candidates of the default (:data:`_LEAN`) and on the
    first for the others; :meth:`keep` drops finished members and :meth:`table` gives a
    member's whole table.
    """

    def __init__(self, family: str, obs: np.ndarray, total: np.ndarray, D: _Design) -> None:
        k = D.k
        self.family, self.k, self.D = family, k, D
        self.informative = family in ABSTAIN_INFORMATIVE
        self.lean = family in _LEAN
        # a lean design's informative M-steps run at its used columns (U, k, B), not whole tables
        self.at_used = D.lean and family in ("mace_abstain", "ds_abstain")
        self.total = total
        B, m, _ = obs.shape
        self.first = True
        if self.lean:  # class-major state, members last
            self.obs = np.ascontiguousarray(obs.transpose(2, 1, 0))  # (k, m, B) votes
            self.n_i = self.obs.sum(axis=0)  # (m, B) votes per LF
            # the M-steps' constant terms
            self.denom = self.n_i + 2.0
            self.pooled_denom = self.n_i.sum(axis=0, keepdims=True) + 2.0
            self.xi_prior = (self.obs + 1e-3) / (np.maximum(self.n_i, 0.0) + 1e-3 * k)
            self.theta = np.full((m, B), 0.5)
            self.xi = (self.obs + 1e-3) / (self.obs + 1e-3).sum(axis=0)
            self.acc = np.zeros((m, B))
            self.eb: tuple[np.ndarray, np.ndarray] | None = None  # MACE_EB_FIXED's (mu, s)
            self.mix: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # MACE_MIX's (pi, mu, s)
            self.mix_fixed = False
            self.multi = (self.obs > 0).sum(axis=0) > 1  # (m, B) LFs that vote several classes
            return
        self.obs = obs
        if family in COVERAGE_FAMILIES:  # MACE over the votes, two rates for one-class LFs; members first
            self.coverage = CoverageTables(family, obs, total)
            self.last = np.zeros((B, m, obs.shape[2], k))
            return
        if self.informative:
            self.n_i = np.broadcast_to(total[:, None], (B, m))
            # kappa: the outcome an LF gives when it knows the class is y (a vote it ever gives, else abstain)
            self.kappa = kappa = np.where(obs[:, :, 1:] > 0, np.arange(k) + 1, 0)  # (B, m, k)
            self.K = (np.arange(k + 1)[:, None] == kappa[:, :, None, :]).astype(np.float64)
            if self.at_used:
                width = k + 1
                self.obs_u = np.ascontiguousarray(obs.reshape(B, m * width)[:, D.used].T)  # (U, B)
                position = np.full(m * width, D.U)  # U: an unused column (a zero row appended to N)
                position[D.used] = D.columns
                self.kcol = position[np.arange(m)[None, :, None] * width + kappa]  # (B, m, k)
                self.lf0 = np.flatnonzero(D.lf == 0)  # LF 0's columns: they partition the rows
        else:
            self.n_i = obs.sum(axis=2)  # votes per LF
        self.theta = np.full((B, m), 0.5)
        self.xi = (obs + 1e-3) / (obs + 1e-3).sum(axis=2, keepdims=True)
        self.last = np.zeros((0 if self.at_used else B, m, obs.shape[2], k))

    def keep(self, keep: np.ndarray) -> None:
        self.total = self.total[keep]
        if self.lean:
            self.obs, self.n_i = self.obs[..., keep], self.n_i[..., keep]
            self.denom, self.pooled_denom = self.denom[..., keep], self.pooled_denom[..., keep]
            self.xi_prior = self.xi_prior[..., keep]
            self.theta, self.xi, self.acc = self.theta[..., keep], self.xi[..., keep], self.acc[..., keep]
            if self.eb is not None:
                self.eb = (self.eb[0][keep], self.eb[1][keep])
            if self.mix is not None:
                self.mix = (self.mix[0][keep], self.mix[1][:, keep], self.mix[2][:, keep])
            self.multi = self.multi[:, keep]
            return
        if self.family in COVERAGE_FAMILIES:
            self.coverage.keep(keep)
        for name in ("obs", "n_i", "theta", "xi", "K", "kappa", "kcol", "last"):
            if hasattr(self, name) and not (name == "last" and self.at_used):
                setattr(self, name, getattr(self, name)[keep])
        if self.at_used:
            self.obs_u = self.obs_u[:, keep]
            if hasattr(self, "last_u"):
                self.last_u = self.last_u[:, :, keep]

    def _right(self, N: np.ndarray) -> np.ndarray:
        """Expected votes for the class voted, ``N[i, y, y]``, class-major (k, m, B) (vote-only reading)."""
        D = self.D
        B = N.shape[2]
        right = np.zeros((D.k * D.m, B))
        right[D.class_major] = N[D.columns, D.vote]
        return right.reshape(D.k, D.m, B)

    def step(self, N: np.ndarray) -> np.ndarray:
        fam, D = self.family, self.D
        if fam in ("mv", "one_coin"):
            right = np.add.reduce(self._right(N), axis=0)  # (m, B) expected right votes
            if fam == "mv":  # one accuracy per member, (1, B)
                acc = (np.add.reduce(right, axis=0, keepdims=True) + 1.0) / self.pooled_denom
            else:
                acc = (right + 1.0) / self.denom
            self.acc = acc = _clip(acc)
            a = (acc if fam == "mv" else acc[D.lf])[:, None, :]
            return np.where(D.says, a, (1.0 - a) / (self.k - 1))
        if fam == "mace":
            right = self._right(N)
            right2 = self._right(self.N2) if _mace_var() else None
            for _ in range(3 if self.first else 1):
                self._mace_lean(right, right2)
            self.first = False
            self.mix_fixed = self.mix is not None
            theta = self.theta[D.lf][:, None, :]
            xi = self.xi.reshape(D.k * D.m, -1)[D.class_major][:, None, :]
            return (1.0 - theta) * xi + theta * D.says
        if self.at_used:
            return self._step_used(N)
        # the others on member-major whole tables (B, m, width, k)
        full = D.full(N)
        if fam == "mace_abstain":
            right = (full * self.K).sum(axis=2)  # (B, m, k): expected outcomes "as if it knew"
            for _ in range(3 if self.first else 1):
                self._mace(right)
            self.first = False
            theta = self.theta[..., None, None]
            table = ((1.0 - self.theta)[..., None] * self.xi)[..., None] + theta * self.K
        elif fam in COVERAGE_FAMILIES:
            table = self.coverage.step(full)
        elif fam == "ds_abstain":
            f = self.obs / self.total[:, None, None]
            Ny = full[:, 0].sum(axis=1)  # (B, k) expected rows per class
            # at most 1: an LF's outcome counts add up to its own rows per class, which equal Ny (LF
            # 0's) only to rounding, so an LF silent on a class got P(abstain | y) = 1 + 2e-16
            table = np.minimum((full + f[..., None]) / (Ny + 1.0)[:, None, None, :], 1.0)
        elif fam == "ds":
            f = self.obs / np.maximum(self.n_i, _TINY)[..., None]
            Vy = full.sum(axis=2)  # (B, m, k) expected votes per class
            table = (full + f[..., None]) / (Vy + 1.0)[:, :, None, :]
        else:
            raise ValueError(f"unknown family {fam!r}")
        self.last = table
        # outcomes an LF never gives have probability 0 under "ds": clamped, as log 0 is -inf
        return D.gather(np.maximum(table, _TINY))

    def _step_used(self, N: np.ndarray) -> np.ndarray:
        """:meth:`step` of ``"mace_abstain"`` and ``"ds_abstain"`` at a lean design's used columns.

        The same updates as on whole tables, entry by entry (an unused column is an outcome no row
        gives: its expected count is 0 and the E-step never reads its table).
        """
        D, k = self.D, self.k
        U, _, B = N.shape
        if self.family == "ds_abstain":
            f = self.obs_u / self.total[None, :]  # (U, B)
            Ny = np.add.reduce(N[self.lf0], axis=0)  # (k, B) expected rows per class
            table = np.minimum((N + f[:, None, :]) / (Ny + 1.0)[None], 1.0)  # (at most 1: as above)
            self.last_u = table
            return np.maximum(table, _TINY)
        padded = np.empty((U + 1, k, B))
        padded[:U] = N
        padded[U] = 0.0
        # expected outcomes "as if it knew": N at the outcome kappa each class has, (B, m, k)
        right = padded[self.kcol, np.arange(k), np.arange(B)[:, None, None]]
        for _ in range(3 if self.first else 1):
            self._mace(right)
        self.first = False
        # (1 - theta) xi(a) + theta 1[a = kappa(y)] at the used columns (lf, a), (U, k, B)
        lf, a = D.lf, D.outcome
        rest = ((1.0 - self.theta)[..., None] * self.xi)[:, lf, a].T  # (U, B)
        theta = self.theta[:, lf].T  # (U, B)
        hit = self.kappa[:, lf, :] == a[None, :, None]  # (B, U, k)
        table = rest[:, None, :] + theta[:, None, :] * hit.transpose(1, 2, 0)
        return np.maximum(table, _TINY)

    def _mace_lean(self, right: np.ndarray, right2: np.ndarray | None = None) -> None:
        """One MACE M-step (vote-only, class-major) from the expected right votes ``right`` (k, m, B).

        ``right2`` (k, m, B): the sums of ``count * q^2`` of the same columns (``MACE_EB_VAR``).
        """
        theta, xi, obs = self.theta, self.xi, self.obs
        # share of the votes for the class given by "knowing" it
        share = theta / np.maximum(theta + (1.0 - theta) * xi, _TINY)
        knows = right * share
        tots = np.add.reduce(knows, axis=0)
        if MACE_MIX:
            var = np.zeros_like(tots)
            if right2 is not None:  # as MACE_EB's: a vote's P(knows | row) is p = q share
                var = tots - np.add.reduce(right2 * share * share, axis=0)
            if self.mix is None or not (MACE_MIX_FIXED and self.mix_fixed):
                use = self.multi if MACE_MIX_SKIP_ONE_CLASS else None
                self.mix = mix_prior(tots, self.n_i, var, *MACE_EB_S, use=use, start=self.mix)
            theta = _clip(mix_theta(tots, self.n_i, *self.mix))
        elif MACE_EB:
            # a vote's P(knows | row) is p = q share: the count's variance is sum p (1 - p)
            var = None if right2 is None else tots - np.add.reduce(right2 * share * share, axis=0)
            if MACE_EB_FIXED and self.eb is not None:
                mu, s = self.eb
            else:
                mu, s = eb_strength(tots, self.n_i, *MACE_EB_S, var=var)
                self.eb = (mu, s)
            theta = _clip((tots + s * mu) / (self.n_i + s))
        else:
            theta = _clip((tots + 1.0) / self.denom)
        rest = np.maximum(obs - knows, 0.0)
        rest += self.xi_prior
        self.theta, self.xi = theta, rest / np.add.reduce(rest, axis=0)

    def _mace(self, right: np.ndarray) -> None:
        """One MACE M-step (member-major) from the expected outcomes "as if it knew" per class (B, m, k)."""
        theta, xi, obs, n_i = self.theta[..., None], self.xi, self.obs, self.n_i
        kappa = self.kappa
        xk = np.take_along_axis(xi, kappa, axis=2)  # xi at kappa, (B, m, k)
        knows = right * (theta / np.maximum(theta + (1.0 - theta) * xk, _TINY))
        theta = np.clip((knows.sum(axis=2) + 1.0) / (n_i + 2.0), _FLOOR, 1.0 - _FLOOR)
        # what "knowing" explains of each outcome: a class's own vote, or abstain, which several
        # classes (those the LF never votes) may share; summed in class order as the one-hot sum does
        known = np.zeros(obs.shape)
        voted = kappa > 0
        known[:, :, 1:] = np.where(voted, knows, 0.0)
        known[:, :, 0] = np.where(voted, 0.0, knows).sum(axis=2)
        rest = obs - known
        width = obs.shape[2]
        rest = np.maximum(rest, 0.0) + (obs + 1e-3) / (np.maximum(n_i, 0.0) + 1e-3 * width)[..., None]
        self.theta, self.xi = theta, rest / rest.sum(axis=2, keepdims=True)

    def table(self, j: int) -> np.ndarray:
        """Member j's table over all outcomes the E-step reads, (m, width, k)."""
        k = self.k
        if self.family in ("mv", "one_coin"):
            acc = np.broadcast_to(self.acc[:, j], (self.D.m,))
            V = np.empty((len(acc), k, k))
            V[:] = ((1.0 - acc) / (k - 1))[:, None, None]
            V[:, np.arange(k), np.arange(k)] = acc[:, None]
            return V
        if self.family == "mace":
            theta = self.theta[:, j]
            return ((1.0 - theta)[:, None] * self.xi[:, :, j].T)[:, :, None] + theta[:, None, None] * np.eye(
                k
            )
        if self.at_used:
            if self.family == "ds_abstain":
                return self.D.full(self.last_u[:, :, j : j + 1])[0]
            return ((1.0 - self.theta[j])[:, None] * self.xi[j])[..., None] + self.theta[j][
                :, None, None
            ] * self.K[j]
        return self.last[j]


def _full_table(table: np.ndarray, cov: np.ndarray, informative: bool) -> np.ndarray:
    """One member's table P(outcome a | y), shape (m, k + 1, k), abstain first.

    ``table`` is what :meth:`_Tables.table` gives for the member; ``cov`` (m,) its LFs' coverage
    (used in the vote-only reading only).
    """
    if informative:
        return table
    m, k = table.shape[0], table.shape[2]
    T = np.empty((m, k + 1, k))
    T[:, 0, :] = (1.0 - cov)[:, None]
    T[:, 1:, :] = cov[:, None, None] * table
    return T


@dataclass
class _BatchFit:
    """Per-member outcome of :func:`_em` (indexed like the input counts)."""

    params: list[LabelModelParams]
    log_likelihood: np.ndarray
    n_steps: np.ndarray
    converged: np.ndarray
    log_norm: np.ndarray  # (B, R): log p(row) under each member's final model
    soft_labels: np.ndarray  # (k, B, R): P(y | row) under each member's final model

    @classmethod
    def empty(cls, B: int, R: int, k: int) -> _BatchFit:
        """Room for B members' outcomes over R distinct rows and k classes, filled as members finish."""
        return cls(
            [None] * B,
            np.zeros(B),
            np.zeros(B, dtype=np.int64),
            np.zeros(B, bool),
            np.zeros((B, R)),
            np.empty((k, B, R)),
        )


def _groups(families: list[str]) -> list[tuple[str, slice]]:
    """Runs of equal families in ``families``: (family, slice of its members)."""
    out, start = [], 0
    for b in range(1, len(families) + 1):
        if b == len(families) or families[b] != families[start]:
            out.append((families[start], slice(start, b)))
            start = b
    return out


# Over 60 lines: one EM loop for a batch of fits, with the E and M steps sharing its running arrays.
def _em(
    D: _Design,
    families: list[str],
    counts: np.ndarray,
    q: np.ndarray,
    *,
    max_steps: int | None,
    tol: float,
    class_balance: np.ndarray | None,
    params: bool | np.ndarray = True,
    estimate_prior: np.ndarray | None = None,
) -> _BatchFit:
    """EM for B fits on the same distinct rows, each with its own family, counts and start.

    ``families`` (B,) names each member's family (equal families next to each other, all
    reading abstentions the way ``D`` encodes them), ``counts`` (B, R) are the members' row
    counts and ``q`` (k, B or 1, R) their starting soft labels.  The E-step of all members
    is one pair of design products; each family's M-step runs on its members at once.  Each
    member stops on its own (its log-likelihood per row improves by less than ``tol``, or
    ``max_steps``; None: :data:`EM_STEPS`), exactly as if it were fitted alone.  ``params=False`` (or
    False for some members, a (B,) bool array) skips building the members' :class:`LabelModelParams`
    (held-out scoring needs their likelihoods only).  ``estimate_prior`` (B,) bool, with
    ``class_balance=None``: which members estimate their prior, the others keeping the uniform
    one (a batch of both readings of the prior ``"auto"``; each member as if fitted alone).

    Batches of the default's candidates (:data:`_LEAN`, vote-only reading) run in the compiled
    kernel when numba is available (:mod:`tripletws.estimators.em_jit`), with the same results
    to rounding.
    """
    B, R = counts.shape
    if max_steps is None:
        max_steps = EM_STEPS
    k = D.k
    informative = D.abstain
    kinds = set(families)  # a batch holds many members of a few families
    if any((f in ABSTAIN_INFORMATIVE) != informative for f in kinds):
        raise ValueError("every member of a batch must read abstentions as the design does")
    want = np.broadcast_to(np.asarray(params, dtype=bool), (B,))
    jobs = min(solve_jobs(), B)
    # on several threads: a compiled batch (members one after the other, without the GIL), or a numpy
    # batch on a design too small for row blocks, is dealt by members; a large sparse numpy batch
    # runs its steps by row blocks instead (all members together: each design product serves them all)
    if (
        jobs > 1
        and len(D.pos) * B >= SPLIT_ENTRIES
        and (_runs_compiled(D, families, R) or D.dense or len(D.pos) < _design.PARALLEL_NNZ)
    ):
        return _em_split(D, families, counts, q, jobs, max_steps, tol, class_balance, want, estimate_prior)
    p0 = np.full(k, 1.0 / k) if class_balance is None else np.asarray(class_balance, dtype=np.float64)
    # "mv" always has a uniform prior; the others estimate theirs unless one is given
    free = np.array([class_balance is None and f != "mv" for f in families])
    if estimate_prior is not None:
        if class_balance is not None:
            raise ValueError("estimate_prior needs class_balance=None (the others keep a uniform prior)")
        free &= np.asarray(estimate_prior, dtype=bool)
    if not informative and _compiled_size(R, k) and _LEAN.issuperset(kinds) and not _mix_numpy(kinds):
        kernel = lean_kernel()
        if kernel is not None:
            return _em_compiled(kernel, D, families, counts, q, free, p0, want, max_steps, tol)
    if informative and D.lean and _compiled_size(R, k) and kinds <= INFORMATIVE_CODES.keys():
        kernel = informative_kernel()
        if kernel is not None:
            return _em_informative_compiled(kernel, D, families, counts, q, free, p0, want, max_steps, tol)
    total = counts.sum(axis=1)
    any_free = bool(free.any())
    p = np.repeat(p0[:, None], B, axis=1)  # (k, B)
    logp = np.log(p)
    D.build_matrix()  # every step multiplies by it: the observed counts too (the same sums)
    # a lean design's abstentions: where a counted row abstains (exact zeros elsewhere)
    seen = D.abstaining(counts) if D.lean and len(D.abstain_cols) else None
    obs = D.observed(counts, seen)
    groups = [(_Tables(f, obs[sl], total[sl], D), sl) for f, sl in _groups(families)]
    if not informative:  # P(abstain | y) = 1 - coverage, fixed by the observed votes
        cov = np.clip(obs.sum(axis=2) / total[:, None], _FLOOR, 1.0 - _FLOOR)  # (B, m)
        log_odds = (np.log(cov) - np.log1p(-cov)).T[D.lf][:, None, :]  # (U, 1, B) at the used columns
        log_abstain = np.log1p(-cov).sum(axis=1)
    else:
        cov = np.zeros((B, 0))
    out = _BatchFit.empty(B, R, k)
    members = np.arange(B)
    c = counts
    prev = np.full(B, -np.inf)
    steps = 0
    # a large sparse design on several threads: each step's E-step and the next step's counts by row
    # blocks, one part per thread (Design.e_step_blocks); else the same steps on the whole arrays
    blocks = not D.dense and bool(D._blocks)
    N = w_sum = None
    eb_var = _mace_var() and "mace" in kinds and not informative
    while True:
        if N is None:
            W = q * c
            # the class sums over the rows, read by the estimated priors and a lean design's abstentions
            sums = np.add.reduce(W, axis=2) if any_free or seen is not None else None
            N = D.counts(W, seen, sums)
            w_sum = sums if any_free else None
        if eb_var:  # MACE's complete-data spread: sum count * q^2 at the used columns
            N2 = D.counts(q * q * c, seen)
            for tab, sl in groups:
                tab.N2 = N2[:, :, sl]
        if len(groups) == 1:
            logt = np.log(groups[0][0].step(N))
        else:
            logt = np.empty(N.shape)
            for tab, sl in groups:
                logt[:, :, sl] = tab.step(N[:, :, sl])
            np.log(logt, out=logt)
        if any_free:
            assert w_sum is not None
            pf = np.maximum(w_sum / total, MIN_CLASS_PROB)
            pf /= pf.sum(axis=0)
            p[:, free] = pf[:, free]
            logp = np.log(p)
        const = logp
        if not informative:
            logt += log_odds
            const = logp + log_abstain
        if blocks:
            q, lse, ll, N, w_sum = D.e_step_blocks(logt, const, c, seen)
            ll /= total
        else:
            q, lse, ll = posterior_in_place(D.scores(logt, const), c, total)
            N = w_sum = None
        steps += 1
        conv = ll - prev < tol
        done = conv if steps < max_steps else np.ones(len(ll), dtype=bool)
        if not done.any():
            prev = ll
            continue
        for tab, sl in groups:
            for j in range(sl.start, sl.stop):
                if not done[j]:
                    continue
                b = members[j]
                if want[b]:
                    T = _full_table(tab.table(j - sl.start), cov[j], informative)
                    out.params[b] = LabelModelParams(p[:, j].copy(), T)
                out.log_likelihood[b], out.n_steps[b], out.converged[b] = ll[j], steps, conv[j]
                out.log_norm[b] = lse[j]
                out.soft_labels[:, b] = q[:, j]
        if done.all():
            return out
        keep = ~done
        kept_groups, start = [], 0
        for tab, sl in groups:
            mine = keep[sl]
            if mine.any():
                tab.keep(mine)
                n = int(mine.sum())
                kept_groups.append((tab, slice(start, start + n)))
                start += n
        groups = kept_groups
        members, c, q, total, free = members[keep], c[keep], q[:, keep], total[keep], free[keep]
        any_free = bool(free.any())
        p, logp, cov = p[:, keep], logp[:, keep], cov[keep]
        if seen is not None:
            seen = seen[:, keep]
        if not informative:
            log_odds, log_abstain = log_odds[:, :, keep], log_abstain[keep]
        if N is not None:  # the next step's counts, already made by the row blocks
            N = np.ascontiguousarray(N[:, :, keep])
            w_sum = None if w_sum is None else w_sum[:, keep]
        prev = ll[keep]


def _mace_var() -> bool:
    """Whether MACE's M-step needs the complete-data spread (the sums of ``count * q^2``)."""
    return MACE_MIX or (MACE_EB and MACE_EB_VAR)


def _mix_numpy(kinds: set[str]) -> bool:
    """Whether a batch must run on the numpy path: ``MACE_MIX`` is not in the compiled kernel."""
    return MACE_MIX and "mace" in kinds


def _compiled_size(R: int, k: int) -> bool:
    """Whether a batch on ``R`` distinct rows of ``k`` classes is of a size the compiled EM runs:
    :data:`~tripletws.estimators.em_jit.JIT_MAX_ROWS` rows at most, or at least
    :data:`~tripletws.estimators.em_jit.JIT_LARGE_CELLS` rows times classes where numba is loaded
    already (:func:`~tripletws.estimators.em_jit.numba_at_hand`: a large fit alone does not load it)."""
    return R <= JIT_MAX_ROWS or (R * k >= JIT_LARGE_CELLS and numba_at_hand())


def _lean_compiled(families: tuple[str, ...] | list[str] | set[str]) -> bool:
    """Whether a vote-only batch of these families runs in the lean kernel, its size allowing."""
    kinds = set(families)
    return _LEAN.issuperset(kinds) and not _mix_numpy(kinds) and lean_kernel() is not None


def _runs_compiled(D: _Design, families: list[str], R: int) -> bool:
    """Whether :func:`_em` fits this batch in a compiled kernel (its dispatch's conditions)."""
    if not _compiled_size(R, D.k):
        return False
    if not D.abstain:
        return _lean_compiled(families)
    return D.lean and set(families) <= INFORMATIVE_CODES.keys() and informative_kernel() is not None


def fits_alone_exactly(R: int, k: int, families: tuple[str, ...] | list[str]) -> bool:
    """Whether a vote-only batch of these families on ``R`` distinct rows of ``k`` classes runs in
    the compiled kernel, which fits its members one after the other: a member's fit is then the fit made
    alone, float for float (numpy's batched steps agree with a lone fit to rounding only).  The
    conditions of :func:`_runs_compiled` for a vote-only design."""
    return _compiled_size(R, k) and _lean_compiled(families)


def _em_split(
    D: _Design,
    families: list[str],
    counts: np.ndarray,
    q: np.ndarray,
    jobs: int,
    max_steps: int,
    tol: float,
    class_balance: np.ndarray | None,
    want: np.ndarray,
    estimate_prior: np.ndarray | None,
) -> _BatchFit:
    """:func:`_em` of a batch dealt over ``jobs`` threads of the solve, member ``b`` to part ``b % jobs``.

    Each member is fitted as if alone, so every part is an :func:`_em` batch of its own (the dealt
    members keep their order: equal families stay next to each other) and the merged outcome is the
    whole batch's, to rounding.  Inside a part the products are not split again
    (:func:`tripletws.parallel.map_parts`).
    """
    B, R = counts.shape
    if not D.dense:
        D.X  # noqa: B018 (the shared sparse matrices, built once here rather than raced for by the parts)
    deal = [np.arange(j, B, jobs) for j in range(jobs)]

    def part(j: int) -> _BatchFit:
        idx = deal[j]
        return _em(
            D,
            [families[b] for b in idx],
            counts[idx],
            q if q.shape[1] == 1 else q[:, idx],
            max_steps=max_steps,
            tol=tol,
            class_balance=class_balance,
            params=want[idx],
            estimate_prior=None if estimate_prior is None else np.asarray(estimate_prior, dtype=bool)[idx],
        )

    out = _BatchFit.empty(B, R, D.k)
    for idx, fit in zip(deal, map_parts(part, jobs), strict=True):
        for j, b in enumerate(idx):
            out.params[b] = fit.params[j]
        out.log_likelihood[idx], out.n_steps[idx], out.converged[idx] = (
            fit.log_likelihood,
            fit.n_steps,
            fit.converged,
        )
        out.log_norm[idx] = fit.log_norm
        out.soft_labels[:, idx] = fit.soft_labels
    return out


def _em_compiled(
    kernel: Any,
    D: _Design,
    families: list[str],
    counts: np.ndarray,
    q: np.ndarray,
    free: np.ndarray,
    p0: np.ndarray,
    want: np.ndarray,
    max_steps: int,
    tol: float,
) -> _BatchFit:
    """:func:`_em` of a batch of :data:`_LEAN` members (vote-only design) in the compiled kernel."""
    r = run_lean(
        kernel,
        D.indptr,
        D.pos,
        D.lf,
        D.vote,
        D.m,
        D.k,
        families,
        counts,
        q,
        free,
        p0,
        max_steps=max_steps,
        tol=tol,
        floor=_FLOOR,
        tiny=_TINY,
        min_class_prob=MIN_CLASS_PROB,
        want=want,
        eb_s=MACE_EB_S if MACE_EB else None,
        eb_var=MACE_EB_VAR,
        eb_fixed=MACE_EB_FIXED,
    )
    fitted: list[Any] = [None] * len(families)
    for b in np.flatnonzero(want):
        fitted[b] = LabelModelParams(r["p"][b].copy(), r["tables"][r["slot"][b]])
    return _BatchFit(fitted, r["ll"], r["steps"], r["conv"], r["log_norm"], r["soft"])


def _em_informative_compiled(
    kernel: Any,
    D: _Design,
    families: list[str],
    counts: np.ndarray,
    q: np.ndarray,
    free: np.ndarray,
    p0: np.ndarray,
    want: np.ndarray,
    max_steps: int,
    tol: float,
) -> _BatchFit:
    """:func:`_em` of a batch of ``"mace_abstain"`` / ``"ds_abstain"`` members (lean design) in the
    compiled kernel (:mod:`tripletws.estimators._abstain_kernel`)."""
    B, R = counts.shape
    m, k = D.m, D.k
    i64, f64 = np.int64, np.float64
    counts = np.ascontiguousarray(counts, dtype=f64)
    seen = D.abstaining(counts) if len(D.abstain_cols) else np.zeros((0, B), bool)
    obs_u = np.ascontiguousarray(D.observed_used(counts, seen).T)  # (B, U): the observed counts' used columns
    seen_u = np.ones((B, D.U))
    seen_u[:, D.abstain_cols] = seen.T
    slot = np.where(want, np.cumsum(want) - 1, -1).astype(i64)
    tables = np.empty((int(want.sum()), m, k + 1, k))
    out = _BatchFit.empty(B, R, k)
    p_out = np.empty((B, k))
    kernel(
        np.ascontiguousarray(D.indptr, dtype=i64),
        np.ascontiguousarray(D.pos, dtype=i64),
        np.ascontiguousarray(D.lf, dtype=i64),
        np.ascontiguousarray(D.outcome, dtype=i64),
        int(m),
        int(k),
        np.array([INFORMATIVE_CODES[f] for f in families], dtype=i64),
        counts,
        np.ascontiguousarray(q, dtype=f64),
        np.ascontiguousarray(free, dtype=np.bool_),
        np.ascontiguousarray(p0, dtype=f64),
        obs_u,
        seen_u,
        int(max_steps),
        float(tol),
        _FLOOR,
        _TINY,
        float(MIN_CLASS_PROB),
        slot,
        tables,
        p_out,
        out.log_likelihood,
        out.n_steps,
        out.converged,
        out.log_norm,
        out.soft_labels,
    )
    for b in np.flatnonzero(want):
        out.params[b] = LabelModelParams(p_out[b].copy(), tables[slot[b]])
    return out


def fit_annotator(
    unique: RowSummary,
    family: str,
    *,
    max_steps: int | None = None,
    tol: float = EM_TOL,
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
    max_steps : int, optional
        EM steps at most (each O(R m k)); None: :data:`EM_STEPS`.
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
    if design is None:
        design = _design.summary_design(unique, k, abstain=family in ABSTAIN_INFORMATIVE)
    D = design
    c = unique.counts.astype(np.float64)
    if float(c.sum()) <= 0:
        raise ValueError("no rows to fit")
    q = _design.summary_majority(unique, k) if init is None else _logsumexp(D.log_scores(init))[1]
    fit = _em(
        D, [family], c[None], q.T[:, None, :], max_steps=max_steps, tol=tol, class_balance=class_balance
    )
    return AnnotatorFit(
        family, fit.params[0], float(fit.log_likelihood[0]), int(fit.n_steps[0]), bool(fit.converged[0])
    )
