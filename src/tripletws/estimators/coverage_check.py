"""Whether to read the coverage of one-class LFs without gold: the check and its record.

The coverage reading (:mod:`tripletws.estimators.one_class`) gains where the latent class
it finds is the class the LFs are about, and collapses where it is something else (a group
of rows on which many LFs fire, a flipped class).  :func:`coverage_check` fits it and asks
the data, without gold, whether that happened.  Since session 60 it also refuses the reading
where the uniform balance is kept and the fits under the two balances send a row without a vote
to different classes (:data:`UNVOTED_FLIP`): that row's class rests on a balance the rows do not
settle (docs/models.md).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..params import LabelModelParams
from ..rows import RowSummary
from ..validate import check_float, check_mapping, check_str
from . import annotator as _annotator
from . import family_choice as _family_choice
from .annotator import EM_TOL, AnnotatorFit, _BatchFit
from .annotator_design import _Design, posterior_in_place, summary_majority, summary_posteriors
from .class_balance import MIN_CLASS_PROB
from .em_jit import JIT_MAX_ROWS, lean_kernel
from .family_choice import TIE_TOL, choose_within_se
from .heldout import HeldOutScores, deal_counts, first_fold
from .one_class import (
    _RATE_FLOOR,
    COVERAGE_FAMILIES,
    UNSEEN_VOTE,
    CoverageRates,
    CoverageTables,
    coverage_rates,
    one_class_tables,
    one_class_votes,
    orientation,
    rate_difference_se,
)
from .votes import summary_votes

logger = logging.getLogger("tripletws")

_TINY = 1e-300
#: The check's designs encode every outcome (abstentions too), so about one cell in ``k + 1`` is a one
#: and dense products beat sparse ones far beyond :data:`tripletws.estimators.annotator_design.DENSE_CELLS`
#: (CPU time of one product with 24 right-hand columns: sms, 143 x 146 cells, 20 us dense against
#: 52 us CSR; cdr_metal, 628 x 66, 43 against 103 us): dense up to this many cells (8 MB).  Beyond,
#: the designs are lean (the votes only: ``_Design``'s default), so a sparse product costs the votes,
#: not R m entries (stress problem dependent-22, 13 951 rows x 85 LFs: the check 811 -> 238 ms, CPU
#: medians of 5 fits).
CHECK_DENSE_CELLS = 1_000_000
#: Folds of the check's cross-fits and the seed of their deal (the family choice's convention).
N_FOLDS, FOLD_SEED = 3, 0

#: One-sided normal quantile at 2.5 %: a background class whose held-out gain is this many
#: standard errors above 0 is taken as real (a conventional level, not fitted to data; on the
#: shared sets the z of the accepted fits are <= -0.5 and those of the rejected >= 6.9).
BACKGROUND_Z = 1.96

#: The background test's futility bar, in this check and in the abstain check's test (b)
#: (:mod:`tripletws.estimators.abstain_check`); None: off, a study switch.  The background class and
#: the fit it is compared with are fitted on the first fold first, and where the background class's
#: held-out gain on that fold's rows is over this many standard errors (its z-score there), the check
#: refuses without the other folds' fits (and, here, without the fits the background test does not
#: read).  The test refuses at a z of :data:`BACKGROUND_Z` on all the rows, where the first fold's z
#: is about that over the square root of 3, so a stop refuses a check that the test would pass only
#: where the first fold's z is about 4 standard errors above its expectation: the conventional 5 of
#: the abstain check's futility bar (:data:`tripletws.estimators.abstain_check.FUTILITY_SE`), not
#: tuned.  Measured with the stops out of reach (``benchmarks/futility_probe.py``, ten stress draws,
#: 3 120 problems): no check that passes the test has a first-fold z above 3.6 (997 abstain and 593
#: coverage checks), and 90 of the abstain check's 230 refusals and 5 of the coverage check's 43 stop
#: there (docs/models.md, "The background test stopped at the first fold").
BACKGROUND_FUTILITY_Z: float | None = 5.0

#: A study switch (None: off, the default): the background test (here and in the abstain check's test
#: (b)) refuses only where the background class's held-out gain per row is also over this share of the
#: reading's own held-out lead per row over the chosen vote-only family (same folds): an effect size
#: beside the significance, since on many rows any group the classes do not explain is significant.
#: With it set, the first-fold stops are not taken (they test the significance alone).
BACKGROUND_SHARE: float | None = None


def background_stop_bar() -> float | None:
    """The first-fold stop's bar of the background test, read at call time (study switches):
    :data:`BACKGROUND_FUTILITY_Z`, or None (no stop) where :data:`BACKGROUND_SHARE` is set, since
    the stop tests the significance alone."""
    return BACKGROUND_FUTILITY_Z if BACKGROUND_SHARE is None else None


def background_refuses(z: float, gain: float, lead: float | None) -> bool:
    """Whether the background test refuses: z over :data:`BACKGROUND_Z` (not a number refuses), and,
    with the study switch :data:`BACKGROUND_SHARE` set and the reading's ``lead`` per row known, the
    gain over that share of the lead."""
    if z <= BACKGROUND_Z:
        return False
    share = BACKGROUND_SHARE
    if share is None or lead is None or not np.isfinite(lead) or not np.isfinite(gain):
        return True
    return gain > float(share) * max(lead, 0.0)


#: Refuse the reading where its fits under the uniform and under the estimated balance (both made where
#: the balance is chosen) give a row without a vote different top classes (:func:`empty_row_class`) and
#: the balance is not settled (:data:`UNVOTED_FLIP_WHERE`): every such row's class then rests on a
#: balance the rows do not settle.  No constant.  Measured in sessions 42 and 48 (docs/studies.md, "The
#: coverage reading refused where its two balances send a row without a vote to different classes"),
#: two bars then missed; adopted in session 60 (docs/studies.md, session 60): in its refined form, under
#: a bar written before its fresh runs, missed on LF-subset seed 32 by 1.3 summed points and passed when
#: replicated on seed 33 and the stress draw 20890101 (tail 49 -> 42 of 450, -44.4 summed; stress 297 ->
#: 297 and 279 -> 279 of 312, +21.6 summed).  False: the reading as before session 60.
UNVOTED_FLIP = True
#: Where :data:`UNVOTED_FLIP` refuses: ``"uniform"`` (since session 60) only where the uniform balance is
#: kept, the estimated one not leading it held out by ``LEAD_SE`` standard errors (where the estimate
#: leads, the rows settle the balance, and the reading's class for a row without a vote is the
#: estimate's); ``"both"`` (sessions 42-48's form) whichever balance is kept, which refuses clean
#: coverage readings whose estimated balance leads by 6-11 standard errors (tests/test_one_class.py).
UNVOTED_FLIP_WHERE = "uniform"

#: A study switch (False: off, the default): refuse the reading where its balance is chosen, the uniform
#: one is kept (the estimated one does not lead it held out) and the fits under the two balances name
#: different classes on at least :data:`BALANCE_NOTE_SHARE` of the rows (the share its note reports):
#: the reading's labels then rest on a balance the rows do not settle, as the vote-only fit's do where
#: the annotator model falls back to majority vote's family (``UNSETTLED_FALLBACK``).  Session 43 measured
#: a scratch version; session 53 with the opt-in ``keyword`` stress family (docs/studies.md).
UNSETTLED_REFUSE = False


def empty_row_top(params: LabelModelParams) -> tuple[np.ndarray, np.ndarray]:
    """The classes a row without a vote ties between at the top under ``params`` (one where it has a
    class; within ``1e-9``), and its log-scores (k,): inference's base term
    (:meth:`LabelModelParams.log_odds_tables`, ``log p(y) + sum_i log P(abstain_i | y)``)."""
    score, _ = params.log_odds_tables()
    return np.flatnonzero(score >= score.max() - 1e-9), score


def empty_row_class(params: LabelModelParams) -> int:
    """The class a row without a vote gets under ``params`` (abstentions read as outcomes), -1 for a tie
    (:func:`empty_row_top`)."""
    top, _ = empty_row_top(params)
    return int(top[0]) if top.size == 1 else -1


def unvoted_flip(uniform: LabelModelParams, estimated: LabelModelParams, estimate: str) -> str:
    """Why a reading is refused where its fits under the uniform and under an estimated balance send a row
    without a vote to different classes, each one class (:func:`empty_row_class`); "" where they do not.

    ``estimate`` names the estimated balance's fit in the reason (with what is known of its held-out
    score): :data:`UNVOTED_FLIP` of this check, and the abstain check's test (g)."""
    a, b = empty_row_class(uniform), empty_row_class(estimated)
    if min(a, b) < 0 or a == b:
        return ""
    return (
        f"a row without a vote goes to class {a} under the uniform balance and to class {b} under "
        f"{estimate}: the class of such rows rests on the balance, which the rows do not settle"
    )


#: A study switch on the classes the fit makes rarer than its commonest (its estimated balance; none under
#: a uniform one): ``"off"`` (the default); ``"any"``: refuse the reading where a one-class LF of such a
#: class fires more often on the other classes than on its own; ``"cofire"``: the same, only for such an
#: LF that fires with its own class's one-class LFs at least as much, against independence, as with the
#: other classes' (:func:`cofiring_sides`: its votes side with its class); ``"share"``: refuse it where,
#: for such a class, under half of its one-class LFs' votes (coverage-weighted) come from LFs that fire
#: more often on it by over ``LEAD_SE`` standard errors (the orientation test below, asked of each rarer
#: class alone).
#: The fit then reads a small class covered by LFs that are not its own, as the coverage readings that lose
#: on real LFs' rows with a vote when EM runs longer do; real LFs written for the rarer class are seldom
#: worse than chance (the 11 one-class LFs of the binary shared sets that fire more often off their class
#: than on it all vote the commonest class).  ``"any"``:
#: real-LF subsets, the tail 58 -> 45 (spent seed 36), 56 -> 48 and 49 -> 41 (fresh seeds 40, 41), +112.2,
#: +50.3 and +39.1 summed points; the stress draw 20900101 -128.3 summed and one problem fewer at or
#: above MV - 0.5 in each variant, 20920101 and 20930101 -154.2 and -84.2 on their imbalanced variants
#: (the generators' adversarial LFs of the rarer class), so it misses sessions 59-61's bar
#: (docs/studies.md, session 63).  Taken to fresh data under a bar written first (session 65): the
#: fresh seed 43's tail 45 -> 40 but -57.9 summed points (on cdr_metal it refuses 7 winning readings with
#: 4 losing ones), the fresh stress draw 20960101 0 and -127.9; it stays off.
RARE_AGAINST = "off"


def against_rarer(
    rates: CoverageRates,
    class_balance: np.ndarray,
    coverage: np.ndarray,
    se: np.ndarray,
    rule: str,
    unique: RowSummary | None = None,
) -> np.ndarray:
    """The one-class LFs by which :data:`RARE_AGAINST`'s ``rule`` refuses a fit (empty where it does not).

    Parameters
    ----------
    rates : CoverageRates
        The fit's two rates of each one-class LF (:func:`coverage_rates`), u of them.
    class_balance : ndarray, shape (k,)
        The fit's balance: the classes below its largest entry are the rarer ones (none when uniform).
    coverage : ndarray, shape (m,)
        Each LF's share of the rows it votes on (``"share"``'s weights).
    se : ndarray, shape (u,)
        Standard error of each LF's rate difference (:func:`rate_difference_se`; ``"share"``).
    rule : {"any", "cofire", "share"}
        ``"any"``: the LFs of a rarer class that fire more often on the other classes; ``"cofire"``: those
        of them whose co-firing sides with their class (:func:`cofiring_sides`: with their own class's LFs
        at least as much as with the others'); ``"share"``: the LFs not oriented (beyond ``LEAD_SE`` times
        ``se``) of each rarer class whose oriented LFs cast under half of its coverage-weighted votes.
    unique : RowSummary, optional
        The fitted rows (``"cofire"`` only).

    Returns
    -------
    ndarray of int
        LF indices.
    """
    p = np.asarray(class_balance, dtype=np.float64)
    rarer = np.flatnonzero(p < p.max() - 1e-9)
    if rule in ("any", "cofire"):
        against = rates.lfs[np.isin(rates.classes, rarer) & (rates.on_class < rates.off_class)]
        if rule == "cofire" and against.size:
            if unique is None:
                raise ValueError("RARE_AGAINST='cofire' needs the rows")
            sides = cofiring_sides(unique, rates)
            against = np.array([j for j in against.tolist() if sides[j][0] >= sides[j][1]], int)
        return against
    if rule != "share":
        raise ValueError(f"unknown RARE_AGAINST {rule!r}; choose 'off', 'any', 'cofire' or 'share'")
    se = np.asarray(se, dtype=np.float64)
    oriented = rates.on_class - rates.off_class > _family_choice.LEAD_SE * se
    out = []
    for c in rarer:
        mine = rates.classes == c
        alone = CoverageRates(
            rates.lfs[mine], rates.classes[mine], rates.on_class[mine], rates.off_class[mine]
        )
        # the reading's orientation test asked of this class alone (nan, not under half, without votes)
        if orientation(alone, coverage, se[mine], _family_choice.LEAD_SE) < 0.5:
            out.append(rates.lfs[mine & ~oriented])
    return np.concatenate(out) if out else rates.lfs[:0]


def cofiring_sides(unique: RowSummary, rates: CoverageRates) -> dict[int, tuple[float, float]]:
    """For each one-class LF, how much it fires together with the one-class LFs of its own class and with
    those of the other classes, each against independence: ``sum_i n_ij / sum_i n_i n_j / n`` over the LFs
    ``i`` of that side (``n_ij``: the counted rows both vote on), as (own, other); an LF without a voting
    partner on a side has nan there.

    Returns
    -------
    dict
        LF index -> (own, other).
    """
    c = unique.counts.astype(np.float64)
    n = max(float(c.sum()), 1e-300)
    F = (unique.rows[:, rates.lfs] >= 0).astype(np.float64)  # (R, u)
    fires = c @ F
    both = (F * c[:, None]).T @ F  # (u, u): counted rows both vote on
    expected = np.outer(fires, fires) / n
    same = rates.classes[:, None] == rates.classes[None, :]
    partner = ~np.eye(len(fires), dtype=bool) & (fires > 0)[None, :]  # another LF that votes
    sides = []
    for side in (same & partner, ~same & partner):  # own class, other classes
        denom = (expected * side).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            sides.append(np.where(denom > 0, (both * side).sum(axis=1) / denom, np.nan))
    return {j: (float(own), float(other)) for j, own, other in zip(rates.lfs.tolist(), *sides, strict=True)}


#: A study option (False: off, the default): use the coverage reading only where its fit also predicts
#: held-out rows better than the vote-only family chosen (the family choice's scores, same folds) by
#: more than ``LEAD_SE`` standard errors of the paired per-row difference: the abstain check's test
#: (a) (:mod:`tripletws.estimators.abstain_check`) asked of this reading too.
LEAD_TEST = False


@dataclass(frozen=True)
class CoverageCheck:
    """Whether the coverage reading of one-class LFs is used, and why.

    Attributes
    ----------
    accepted : bool
    reason : str
        Empty when accepted; else why not, in words.
    gain : float
        Held-out log-likelihood per row gained by a background class (nan when not tested).
    z : float
        ``gain`` over its standard error (nan when not tested).
    fit : AnnotatorFit or None
        The coverage reading's fit (``"shared_coverage"`` or ``"mace_coverage"``, the one with
        the higher held-out likelihood, with the class balance asked for or chosen), when accepted.
    prior_lead : (float, float) or None
        When the class balance was chosen (:func:`choose_prior`): the held-out log-likelihood per
        row by which the fit with an estimated balance leads the fit with a uniform one, and its
        standard error (None when the balance was given).
    balance : str
        ``"estimated"`` or ``"uniform"``: the class balance :func:`choose_prior` chose ("" when
        it did not choose).
    balance_disagreement : float
        When the class balance was chosen: the share of the fitted rows (counted) on which the fits
        under the two balances predict different classes (:func:`prediction_disagreement`); how
        much the choice the rows could not make, where they could not, decides (nan otherwise).
    """

    accepted: bool
    reason: str
    gain: float = float("nan")
    z: float = float("nan")
    fit: Any = field(default=None, repr=False, compare=False)
    prior_lead: tuple[float, float] | None = None
    balance: str = ""
    balance_disagreement: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able record (non-finite numbers as None)."""

        def num(v: float) -> float | None:
            return float(v) if np.isfinite(v) else None

        out: dict[str, Any] = {
            "accepted": self.accepted,
            "reason": self.reason,
            "gain": num(self.gain),
            "z": num(self.z),
        }
        if self.prior_lead is not None:
            out["prior_lead"] = [num(v) for v in self.prior_lead]
            out["balance"] = self.balance
        if np.isfinite(self.balance_disagreement):
            out["balance_disagreement"] = float(self.balance_disagreement)
        return out

    @classmethod
    def from_dict(cls, d: Any, name: str = "estimate.one_class") -> CoverageCheck:
        """Read a :meth:`to_dict` record, every field checked (null numbers read as nan).

        ``name`` is the record's path in the model file: a ValueError names the field under it that
        is missing, unknown, of the wrong type or out of range.
        """
        d = check_mapping(
            d, name, ("accepted", "reason", "gain", "z"), ("prior_lead", "balance", "balance_disagreement")
        )
        if not isinstance(d["accepted"], bool):
            raise ValueError(f"{name}.accepted must be true or false, got {d['accepted']!r}"[:200])
        lead = d.get("prior_lead")
        if lead is not None and (not isinstance(lead, list) or len(lead) != 2):
            raise ValueError(f"{name}.prior_lead must be a list of a lead and its standard error or null")
        return cls(
            d["accepted"],
            check_str(d["reason"], f"{name}.reason"),
            check_float(d["gain"], f"{name}.gain", -1e300, 1e300, nullable=True),
            check_float(d["z"], f"{name}.z", -1e300, 1e300, nullable=True),
            prior_lead=None
            if lead is None
            else (
                check_float(lead[0], f"{name}.prior_lead", -1e300, 1e300, nullable=True),
                check_float(lead[1], f"{name}.prior_lead", 0.0, 1e300, nullable=True),
            ),
            balance=check_str(d.get("balance", ""), f"{name}.balance", ("", "estimated", "uniform")),
            balance_disagreement=check_float(
                d.get("balance_disagreement"), f"{name}.balance_disagreement", 0.0, 1.0, nullable=True
            ),
        )


def row_logliks(rows: np.ndarray, params: LabelModelParams) -> np.ndarray:
    """``log P(row)`` of each row under a model (abstentions included), shape (R,).

    Parameters
    ----------
    rows : ndarray of int, shape (R, m)
    params : LabelModelParams
    """
    logt = np.log(np.maximum(params.cond_probs, 1e-300))
    s = np.broadcast_to(np.log(params.class_balance), (rows.shape[0], params.cardinality)).copy()
    for i in range(rows.shape[1]):
        s += logt[i, rows[:, i].astype(np.int64) + 1, :]
    top = s.max(axis=1, keepdims=True)
    return np.log(np.exp(s - top).sum(axis=1)) + top[:, 0]


def coverage_em(
    D: _Design,
    families: Sequence[str],
    counts: np.ndarray,
    q: np.ndarray,
    prior: np.ndarray,
    free: np.ndarray,
    *,
    max_steps: int | None = None,
    tol: float = EM_TOL,
    params: bool = True,
    n_classes: np.ndarray | None = None,
) -> _BatchFit:
    """EM of the coverage families for B fits on the same distinct rows, each with its own class balance.

    The updates and stopping rule of :func:`tripletws.estimators.annotator._em` for these families
    (abstentions informative), with every member's M-step in one vectorised call
    (:class:`tripletws.estimators.one_class.CoverageTables`) and a class balance per member, so that
    fits under a fixed and an estimated balance share a batch.  Each member stops on its own (its
    log-likelihood per row improves by less than ``tol``, or ``max_steps``; None: ``EM_STEPS``), as if
    fitted alone.

    Parameters
    ----------
    D : _Design
        The one-hot design of the distinct rows, abstentions encoded (``abstain=True``).
    families : sequence of str, length B
        Each member's family (:data:`tripletws.estimators.one_class.COVERAGE_FAMILIES`).
    counts : ndarray, shape (B, R)
        Each member's row counts.
    q : ndarray, shape (k, B or 1, R)
        Starting soft labels.
    prior : ndarray, shape (k, B)
        Each member's class balance: fixed where ``free`` is False, the start where True.
    free : ndarray of bool, shape (B,)
        Members whose class balance is estimated.
    max_steps : int or None
        EM steps at most (None: :data:`tripletws.estimators.annotator.EM_STEPS`).
    tol : float
    params : bool
        Build the members' :class:`LabelModelParams` (held-out scoring needs their likelihoods only).
    n_classes : ndarray of int, shape (B,), optional
        Classes of each member's model (default ``D.k``): a member with fewer is fitted as its own
        model (its extra classes get a zero prior and start with zero soft labels, so they never hold
        a row, and no LF's vote for them has mass: its parameters are its own classes' only).

    Returns
    -------
    _BatchFit
        Indexed like ``counts``.
    """
    B, R = counts.shape
    if max_steps is None:
        max_steps = _annotator.EM_STEPS  # read at call time (a study switch)
    k = D.k
    if R <= JIT_MAX_ROWS:
        kernel = _compiled()
        if kernel is not None:
            votes = D.observed(counts)[:, :, 1:] > 0
            n_voted = votes.sum(axis=2)
            # every LF votes one class in every member's rows, or none (a fold without its votes)
            if bool((n_voted <= 1).all()):
                return _coverage_em_compiled(
                    kernel,
                    D,
                    families,
                    counts,
                    q,
                    prior,
                    free,
                    n_classes,
                    np.where(n_voted == 1, votes.argmax(axis=2), -1),
                    max_steps,
                    tol,
                    params,
                )
    total = counts.sum(axis=1)
    p = np.array(prior, dtype=np.float64, copy=True)
    free = np.asarray(free, dtype=bool).copy()
    any_free = bool(free.any())
    n_classes = np.full(B, k) if n_classes is None else np.asarray(n_classes, dtype=np.int64)
    # the classes each member has (its prior is 0 on the others, and stays 0 when estimated)
    has = np.arange(k)[:, None] < n_classes[None, :]  # (k, B)
    padded = not bool(has.all())
    logp = np.log(p, out=np.full((k, B), -np.inf), where=has)
    D.build_matrix()  # every step multiplies by it: the observed counts too (the same sums)
    # a lean design's abstentions: where a counted row abstains (exact zeros elsewhere)
    seen = D.abstaining(counts) if D.lean and len(D.abstain_cols) else None
    tables = CoverageTables(list(families), D.observed(counts, seen), total, design=D, n_classes=n_classes)
    out = _BatchFit.empty(B, R, k)
    members = np.arange(B)
    c = counts
    prev = np.full(B, -np.inf)
    steps = 0
    while True:
        W = q * c
        logt = np.log(np.maximum(tables.step_used(D.counts(W, seen)), _TINY))  # (U, k, B)
        if any_free:
            pf = np.maximum(W.sum(axis=2) / total, MIN_CLASS_PROB)
            if padded:
                pf[~has] = 0.0
            pf /= pf.sum(axis=0)
            p[:, free] = pf[:, free]
            logp = np.log(p, out=np.full(p.shape, -np.inf), where=has) if padded else np.log(p)
        q, lse, ll = posterior_in_place(D.scores(logt, logp), c, total)
        steps += 1
        conv = ll - prev < tol
        done = conv if steps < max_steps else np.ones(len(ll), dtype=bool)
        if not done.any():
            prev = ll
            continue
        for j in np.flatnonzero(done):
            b = members[j]
            if params:
                out.params[b] = LabelModelParams(p[: n_classes[j], j].copy(), tables.table(j))
            out.log_likelihood[b], out.n_steps[b], out.converged[b] = ll[j], steps, conv[j]
            out.log_norm[b] = lse[j]
            out.soft_labels[:, b] = q[:, j]
        if done.all():
            return out
        keep = ~done
        tables.keep(keep)
        if seen is not None:
            seen = seen[:, keep]
        members, c, q, total, free = members[keep], c[keep], q[:, keep], total[keep], free[keep]
        any_free = bool(free.any())
        n_classes, has = n_classes[keep], has[:, keep]
        p, logp, prev = p[:, keep], logp[:, keep], ll[keep]


def _compiled() -> Any:
    """The compiled coverage EM, or None (numba missing, or the compiled EM off: ``TRIPLETWS_JIT``)."""
    if lean_kernel() is None:
        return None
    try:
        from ._coverage_kernel import coverage_em_kernel
    except Exception as exc:  # a numba that does not compile this kernel
        logger.debug("compiled coverage EM unavailable (%s: %s); using numpy", type(exc).__name__, exc)
        return None
    return coverage_em_kernel


def _coverage_em_compiled(
    kernel: Any,
    D: _Design,
    families: Sequence[str],
    counts: np.ndarray,
    q: np.ndarray,
    prior: np.ndarray,
    free: np.ndarray,
    n_classes: np.ndarray | None,
    classes: np.ndarray,
    max_steps: int,
    tol: float,
    params: bool,
) -> _BatchFit:
    """:func:`coverage_em` by the compiled kernel (every LF votes one class: ``classes`` (B, m), or
    none: -1, the numpy path's MACE table at no votes, :func:`_silent_tables`)."""
    B, R = counts.shape
    k, m = D.k, D.m
    i64, f64 = np.int64, np.float64
    n_classes = np.full(B, k, dtype=i64) if n_classes is None else np.asarray(n_classes, dtype=i64)
    out = _BatchFit.empty(B, R, k)
    p_out, rate = np.zeros((B, k)), np.empty((B, m, k))
    # the votes of the distinct rows, row by row, as vote columns 0..V-1 (the used columns but
    # abstentions), built once per design
    indptr, vcol, vote_lf, vote_class = D.vote_entries
    kernel(
        indptr,
        vcol,
        vote_lf,
        vote_class,
        int(m),
        n_classes,
        np.array([f == "shared_coverage" for f in families]),
        np.ascontiguousarray(classes, dtype=i64),
        np.ascontiguousarray(counts, dtype=f64),
        np.ascontiguousarray(np.broadcast_to(q, (k, B, R)), dtype=f64),
        np.ascontiguousarray(prior, dtype=f64),
        np.ascontiguousarray(free, dtype=np.bool_),
        int(max_steps),
        float(tol),
        _RATE_FLOOR,
        _TINY,
        float(MIN_CLASS_PROB),
        UNSEEN_VOTE,
        p_out,
        rate,
        out.log_likelihood,
        out.n_steps,
        out.converged,
        out.log_norm,
        out.soft_labels,
    )
    if params:
        for b in range(B):
            n = int(n_classes[b])
            silent = classes[b] < 0
            if silent.any():
                T = np.empty((m, n + 1, n))
                T[~silent] = one_class_tables(rate[b, ~silent], classes[b, ~silent], n)
                T[silent] = _silent_tables(int(silent.sum()), n)
            else:
                T = one_class_tables(rate[b], classes[b], n)
            out.params[b] = LabelModelParams(p_out[b, :n].copy(), T)
    return out


def _silent_tables(u: int, n: int) -> np.ndarray:
    """Tables (u, n + 1, n) of LFs without votes in a fit's rows: MACE's at no votes (as
    :class:`tripletws.estimators.one_class.CoverageTables` fits them): coverage at the rate floor,
    ``theta = 1/2`` and ``xi`` uniform over the ``n`` classes."""
    V = np.full((n, n), 0.5 / n) + 0.5 * np.eye(n)
    T = np.empty((u, n + 1, n))
    T[:, 0, :] = 1.0 - _RATE_FLOOR
    T[:, 1:, :] = _RATE_FLOOR * V
    return T


def _design(rows: np.ndarray, k: int, votes: tuple[np.ndarray, ...] | None = None) -> _Design:
    """The design of ``rows`` with abstentions informative: one-hot (every outcome encoded) and dense up
    to :data:`CHECK_DENSE_CELLS` cells, lean (the votes only, sparse) beyond.

    Both encodings use the same columns (an LF's abstain column is used where it abstains on some
    row, in the lean one too), at most ``m (k + 1)``: below the limit at that many, the one-hot
    design is built directly.  ``votes``: :func:`summary_votes` of the rows, when at hand."""
    R, m = rows.shape
    if R * m * (k + 1) > CHECK_DENSE_CELLS:
        D = _Design(rows, k, abstain=True, votes=votes)
        if D.R * D.U > CHECK_DENSE_CELLS:
            return D
    D = _Design(rows, k, abstain=True, lean=False)
    if not D.dense and "_csr" not in vars(D):
        D.dense = True  # the matrices are built on first use, dense or CSR by this flag
    return D


@dataclass
class _CrossFit:
    """Fits of several (family, class balance) members on all rows and held-out scores from their folds."""

    fits: list[AnnotatorFit]
    row_loglik: list[np.ndarray]  # per member (n_folds, R); 0 on folds with nothing to fit on
    scored: np.ndarray  # (n_folds, R): the folds, 0 where a fold had nothing to fit on


def _cross_fit(
    unique: RowSummary,
    members: Sequence[tuple[str, np.ndarray | None, int]],
    folds: np.ndarray,
    max_steps: int | None = None,
    fold_steps: int = 10,
    design: _Design | None = None,
) -> _CrossFit:
    """Every member fitted on all rows, then on each fold's complement warm-started from that fit.

    What :func:`tripletws.estimators.heldout.heldout_row_scores` does with ``warm_start=True``,
    for members that may differ in family, class balance (None: estimated) and number of latent
    classes (:func:`coverage_em`'s ``n_classes``), in two batches: the fits on all rows, then every
    member's folds (:class:`_Batch`).

    Parameters
    ----------
    unique : RowSummary
    members : sequence of (family, class balance or None, number of classes)
    folds : ndarray, shape (n_folds, R)
        Counts held out by each fold.
    design : _Design, optional
        The design to fit on (:func:`_design` of the rows with at least the members' classes).
    """
    batch = _Batch(unique, members, design)
    fits, starts = batch.fit_all(max_steps)
    lls, scored = batch.fit_folds(folds, starts, fold_steps)
    return _CrossFit(fits, lls, scored)


class _Batch:
    """Members fitted together by :func:`coverage_em` on one design: on all rows, then on folds.

    Each member is fitted as if alone, so members and folds fitted in several batches score as in
    one (compiled: float for float; numpy's batch: to rounding) when the design is the same.
    """

    def __init__(
        self,
        unique: RowSummary,
        members: Sequence[tuple[str, np.ndarray | None, int]],
        design: _Design | None = None,
    ) -> None:
        self.unique = unique
        self.fams = [f for f, _, _ in members]
        self.sizes = np.array([n for _, _, n in members])
        self.free = np.array([bal is None for _, bal, _ in members])
        if design is None:
            design = _design(unique.rows, int(self.sizes.max()), summary_votes(unique))
        self.D = design
        self.k = k = self.D.k
        self.prior = np.zeros((k, len(members)))
        for b, (_, bal, n) in enumerate(members):
            self.prior[:n, b] = 1.0 / n if bal is None else bal

    def __call__(self, counts: np.ndarray, start: list[np.ndarray], steps: int) -> _BatchFit:
        """Fit every member on each row of ``counts`` (F, R) (member-major), from ``start``."""
        F, R = counts.shape
        B = len(self.fams)
        q = np.zeros((self.k, B * F, R))
        for b, n in enumerate(self.sizes):
            q[:n, b * F : (b + 1) * F] = start[b][:, None, :]
        return coverage_em(
            self.D,
            [f for f in self.fams for _ in range(F)],
            np.tile(counts, (B, 1)),
            q,
            np.repeat(self.prior, F, axis=1),
            np.repeat(self.free, F),
            max_steps=steps,
            params=F == 1,
            n_classes=np.repeat(self.sizes, F),
        )

    def fit_all(self, max_steps: int | None = None) -> tuple[list[AnnotatorFit], list[np.ndarray]]:
        """Every member fitted on all rows from majority vote: the fits, and their soft labels (n, R)
        each (the start of the member's folds)."""
        unique = self.unique
        majority = {n: summary_majority(unique, n).T for n in set(self.sizes.tolist())}
        start = [majority[n] for n in self.sizes.tolist()]  # (n, R) each (shared: only read)
        full = self(unique.counts.astype(np.float64)[None], start, max_steps)
        fits: list[AnnotatorFit] = []
        for b, (fam, n) in enumerate(zip(self.fams, self.sizes.tolist(), strict=True)):
            ll, steps, conv = float(full.log_likelihood[b]), int(full.n_steps[b]), bool(full.converged[b])
            fits.append(AnnotatorFit(fam, full.params[b], ll, steps, conv))
            start[b] = full.soft_labels[:n, b]  # the folds start from the fit on all rows
        return fits, start

    def fit_folds(
        self,
        folds: np.ndarray,
        starts: list[np.ndarray],
        fold_steps: int = 10,
        only: np.ndarray | None = None,
    ) -> tuple[list[np.ndarray], np.ndarray]:
        """Each member fitted on each fold's complement from ``starts`` (:meth:`fit_all`), its fold scored.

        ``only``: the folds to fit and score (the others' scores stay 0).  Returns each member's
        held-out log-likelihood (n_folds, R) and the counts scored (n_folds, R): the folds, 0 where a
        fold had nothing to fit on (whatever ``only``).
        """
        train = self.unique.counts.astype(np.float64)[None, :] - folds
        usable = np.flatnonzero(train.sum(axis=1) > 0)
        scored = np.zeros_like(folds)
        scored[usable] = folds[usable]
        if only is not None:
            usable = np.intersect1d(usable, only)
        n_usable = len(usable)
        lls = [np.zeros(folds.shape) for _ in self.fams]
        if n_usable:
            held = self(train[usable], starts, fold_steps)
            for b in range(len(self.fams)):
                lls[b][usable] = held.log_norm[b * n_usable : (b + 1) * n_usable]
        return lls, scored


def _gain(folds: np.ndarray, with_k: np.ndarray, with_background: np.ndarray) -> tuple[float, float]:
    """Held-out gain per row of the background class and its z-score (:func:`background_gain`)."""
    w = folds.ravel()
    d = (with_background - with_k).ravel()
    n = float(w.sum())
    if n <= 0:
        return float("nan"), float("nan")
    gain = float(w @ d) / n
    sd = float(np.sqrt(max(float(w @ (d - gain) ** 2) / n, 0.0)))
    if sd <= 0:
        return gain, (0.0 if gain <= 0 else float("inf"))
    return gain, gain / (sd / np.sqrt(n))


def background_gain(unique: RowSummary, n_folds: int = N_FOLDS, seed: int = FOLD_SEED) -> tuple[float, float]:
    """Cross-fitted held-out gain per row of a ``k + 1``-th latent class, and its z-score.

    The ``"mace_coverage"`` family is fitted with ``k`` latent classes and with ``k + 1``
    (the extra one a *background* class that no LF votes: every LF fires at its off-class
    rate there), each fold scored by fits on the others (warm-started from the fit on all
    rows, as :func:`tripletws.estimators.heldout.heldout_loglik` does), on the same folds.
    Under the coverage model the extra class fits noise, so its held-out gain is at most 0 up
    to sampling error; a gain many standard errors above 0 says the rows hold a group that
    the classes do not explain (rows where no LF fires, most often), and the latent classes
    of the ``k``-class fit are then not the LFs' classes alone.

    Returns
    -------
    gain : float
        Mean held-out log-likelihood per row, ``k + 1`` classes minus ``k``.
    z : float
        ``gain`` over its standard error (rows taken as independent).
    """
    k = unique.cardinality
    folds = deal_counts(unique.rows, unique.counts, k, n_folds, seed)
    cross = _cross_fit(unique, [("mace_coverage", None, k), ("mace_coverage", None, k + 1)], folds)
    return _gain(folds, cross.row_loglik[0], cross.row_loglik[1])


def _best_family(scores: HeldOutScores) -> str:
    """The coverage family with the highest held-out score (ties to the simpler)."""
    fam = COVERAGE_FAMILIES[0]
    for other in COVERAGE_FAMILIES[1:]:
        if scores.mean(other) > scores.mean(fam) + TIE_TOL:
            fam = other
    return fam


def _best_per_balance(
    cross: _CrossFit, index: dict[tuple[str, str], int]
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Under each balance, the family with the higher held-out score: its fit and its held-out scores."""
    best, per_row = {}, {}
    for name in ("uniform", "estimated"):
        scores = HeldOutScores(cross.scored, {f: cross.row_loglik[index[f, name]] for f in COVERAGE_FAMILIES})
        fam = _best_family(scores)
        best[name], per_row[name] = cross.fits[index[fam, name]], scores.row_loglik[fam]
    return best, per_row


#: The coverage reading's note says that the rows do not tell the class balance where the balance was
#: chosen, the uniform one kept (the estimated one not ahead by ``LEAD_SE`` standard errors) and the two
#: fits predict different classes on at least this share of the rows.  A reporting bar only: the fit is
#: the same whatever it is.
BALANCE_NOTE_SHARE = 0.1


def balance_note(check: CoverageCheck) -> str:
    """The coverage reading's words on a balance the rows do not tell ("" where the bar is not reached)."""
    share = check.balance_disagreement
    if check.balance != "uniform" or check.prior_lead is None or not share >= BALANCE_NOTE_SHARE:
        return ""
    lead, se = check.prior_lead
    return (
        f"the rows do not tell the class balance: the fit with an estimated one predicts held-out rows as "
        f"well (lead {lead:+.4f} +- {se:.4f} log-likelihood per row) and another class on {share:.0%} of "
        "the rows, which the uniform balance kept decides; where the classes are not balanced, give "
        "class_balance= (the known frequencies, or 'estimate')"
    )


def prediction_disagreement(
    unique: RowSummary, a: LabelModelParams, b: LabelModelParams, *, strict: bool = False
) -> float:
    """Share of the rows (counted) on which ``a`` and ``b`` predict different classes: where the classes
    of highest posterior (within the tie tolerance ``1e-9``) differ.

    Both are read in the coverage reading's terms (abstentions as outcomes), on the distinct rows.
    ``strict``: only rows where each names one class and they differ (a tie under either, such as a row
    without votes under a uniform prior, which any other prior breaks, is not counted).
    """
    P = summary_posteriors(unique, [a, b])  # (k, 2, R)
    top = P >= P.max(axis=0, keepdims=True) - 1e-9
    c = np.asarray(unique.counts, dtype=np.float64)
    total = float(c.sum())
    differ = (top[:, 0] != top[:, 1]).any(axis=0)
    if strict:
        differ &= (top.sum(axis=0) == 1).all(axis=0)
    return float(c[differ].sum()) / total if total > 0 else 0.0


def _choose_prior(
    cross: _CrossFit, index: dict[tuple[str, str], int], n_se: float
) -> tuple[dict[str, Any], tuple[float, float], str]:
    """:func:`choose_prior` from the cross-fits of both families under both balances: the best fit under
    each balance (by name), the lead and the name chosen."""
    best, per_row = _best_per_balance(cross, index)
    lead, se = HeldOutScores(cross.scored, per_row).lead("estimated", "uniform")
    estimated = bool(np.isfinite(lead) and lead > max(TIE_TOL, n_se * (se if np.isfinite(se) else 0.0)))
    return best, (lead, se), "estimated" if estimated else "uniform"


def _members(
    balances: dict[str, np.ndarray | None], k: int
) -> tuple[list[tuple[str, Any, int]], dict[tuple[str, str], int]]:
    """Both coverage families under each named balance, ``k`` classes: the members and their index."""
    members, index = [], {}
    for name, bal in balances.items():
        for fam in COVERAGE_FAMILIES:
            index[fam, name] = len(members)
            members.append((fam, bal, k))
    return members, index


def choose_prior(unique: RowSummary, n_se: float | None = None) -> tuple[Any, tuple[float, float], str]:
    """The coverage reading's fit with an estimated class balance, or with a uniform one.

    Both are scored as :func:`coverage_check` scores the families (cross-fitted held-out
    log-likelihood on the same 3 folds, folds warm-started, the family with the higher score
    under each balance); the estimated balance is kept when its fit leads the uniform one's by
    more than ``n_se`` standard errors of the paired per-row difference (the rule of
    :func:`tripletws.estimators.family_choice.choose_within_se`, the uniform balance being the
    simpler model), else the balance is uniform.

    Parameters
    ----------
    unique : RowSummary
    n_se : float, optional
        None: :data:`tripletws.estimators.family_choice.LEAD_SE`.

    Returns
    -------
    fit : AnnotatorFit
    lead : (float, float)
        Held-out log-likelihood per row of the estimated balance's fit minus the uniform one's,
        and its standard error.
    balance : str
        ``"estimated"`` or ``"uniform"``.
    """
    k = unique.cardinality
    n_se = _family_choice.LEAD_SE if n_se is None else float(n_se)  # read at call time, as select_family does
    folds = deal_counts(unique.rows, unique.counts, k, N_FOLDS, FOLD_SEED)
    members, index = _members({"uniform": np.full(k, 1.0 / k), "estimated": None}, k)
    best, lead, name = _choose_prior(_cross_fit(unique, members, folds), index, n_se)
    return best[name], lead, name


def coverage_check(
    unique: RowSummary,
    class_balance: np.ndarray | None,
    choose_balance: bool = False,
    folds: np.ndarray | None = None,
    *,
    ref: HeldOutScores | None = None,
    chosen: str = "",
) -> CoverageCheck:
    """Fit the coverage reading of one-class LFs and decide, without gold, whether to use it.

    The fit is that of :data:`COVERAGE_FAMILIES` (per-LF rates, or one precision shared by all
    one-class LFs, as majority vote shares one accuracy) with the higher cross-fitted held-out
    likelihood, so that rates too noisy to beat a shared precision are not used.  It is used
    when the classes are two (``k = 2``), the rows hold no significant background group
    (:func:`background_gain`, z at most :data:`BACKGROUND_Z`) and, under the fit, at least half
    of the one-class LFs' votes (coverage-weighted) come from LFs that fire more often on the
    class they name, by more than ``LEAD_SE`` binomial standard errors of the difference
    (:func:`orientation`, :func:`tripletws.estimators.one_class.rate_difference_se`: an LF is
    written to fire on its class; a fit where most fire on the other class, or where the LFs
    casting most of the votes fire alike on both, has found another latent variable, e.g. a
    group of LF copies firing together, or swapped the classes).

    Without a given balance and with ``choose_balance``, the balance is estimated only where its
    fit predicts held-out rows better than the uniform balance's by ``LEAD_SE`` standard errors
    (:func:`choose_prior`), else it is uniform.

    For ``k > 2`` it is not used: the two-rate model's single off-class rate ignores confusable
    classes, and on real LF sets (trec, semeval) its fit loses 6 to 15 points against majority
    vote without the background test noticing (docs/models.md).

    Parameters
    ----------
    unique : RowSummary
    class_balance : ndarray of shape (k,), optional
        A fixed prior for the fit (else estimated: the coverage reading identifies it).
    choose_balance : bool
        Without ``class_balance``: estimate it only where the held-out likelihood supports it
        (:func:`choose_prior`), else use a uniform one.
    folds : ndarray, shape (N_FOLDS, R), optional
        The deal of the rows into folds when already made (``deal_counts(unique.rows,
        unique.counts, k, N_FOLDS, FOLD_SEED)``, the family choice's folds on the same rows).
    ref : HeldOutScores, optional
        The family choice's held-out scores on these rows and ``folds`` (read by the study option
        :data:`LEAD_TEST` only).
    chosen : str
        The vote-only family chosen (with ``ref``).
    """

    k = unique.cardinality
    if k != 2:
        return CoverageCheck(False, "with more than two classes the coverage reading is not used")
    # every fit the check needs in one cross-fit (the same folds throughout): both families under the
    # balance(s) to choose from, and "mace_coverage" under an estimated balance with k and k + 1
    # classes for the background test (the k-class one shared with the balance choice's)
    if folds is None:
        folds = deal_counts(unique.rows, unique.counts, k, N_FOLDS, FOLD_SEED)
    choose = class_balance is None and choose_balance
    if choose:
        balances: dict[str, np.ndarray | None] = {"uniform": np.full(k, 1.0 / k), "estimated": None}
    else:
        balances = {"estimated": None} if class_balance is None else {"given": class_balance}
    members, index = _members(balances, k)
    if ("mace_coverage", "estimated") not in index:
        index["mace_coverage", "estimated"] = len(members)
        members.append(("mace_coverage", None, k))
    members.append(("mace_coverage", None, k + 1))  # with a background class
    test = [index["mace_coverage", "estimated"], len(members) - 1]  # the background test's pair
    bar = background_stop_bar()
    first, one = first_fold(folds)
    if bar is not None and first.size:
        # the background test's pair on the first fold alone: where the background class gains far
        # beyond the test's bar there, neither the other folds nor the other members are fitted
        batch = _Batch(unique, [members[b] for b in test])  # the design of k + 1 classes, as one batch's
        pair_fits, starts = batch.fit_all()
        pair_lls, _ = batch.fit_folds(folds, starts, only=first)
        gain, z = _gain(one, pair_lls[0], pair_lls[1])
        if z > float(bar):
            return CoverageCheck(
                False,
                f"the rows hold a group the classes do not explain (a background latent class gains "
                f"{gain:.4f} held-out log-likelihood per row on the first fold's held-out rows, z = {z:.1f}, "
                f"over {float(bar):g}; the other folds were not fitted)",
                gain,
                z,
            )
        # the other members on all rows, then every member's folds in one batch (the pair's first fold
        # again: each member is fitted as if alone, so its scores are those above)
        others = [b for b in range(len(members)) if b not in test]
        other_fits, other_starts = (
            _Batch(unique, [members[b] for b in others], batch.D).fit_all() if others else ([], [])
        )
        fits: list[Any] = [None] * len(members)
        starts_all: list[Any] = [None] * len(members)
        for fit_list, start_list, where in ((pair_fits, starts, test), (other_fits, other_starts, others)):
            for j, b in enumerate(where):
                fits[b], starts_all[b] = fit_list[j], start_list[j]
        lls, scored = _Batch(unique, members, batch.D).fit_folds(folds, starts_all)
        cross = _CrossFit(fits, lls, scored)
    else:
        cross = _cross_fit(unique, members, folds)
    gain, z = _gain(folds, cross.row_loglik[test[0]], cross.row_loglik[test[1]])
    lead = None
    if BACKGROUND_SHARE is not None and ref is not None and chosen in ref.row_loglik:
        own = {"coverage": cross.row_loglik[test[0]], chosen: ref.row_loglik[chosen]}
        lead = HeldOutScores(cross.scored, own).lead("coverage", chosen)[0]
    if background_refuses(z, gain, lead):
        return CoverageCheck(
            False,
            f"the rows hold a group the classes do not explain (a background latent class gains "
            f"{gain:.4f} held-out log-likelihood per row, z = {z:.1f})",
            gain,
            z,
        )
    # per-LF rates, or one precision shared by all one-class LFs: the held-out likelihood chooses
    # (as measured for this check: highest score, folds warm-started; the default family choice
    # uses the two-standard-error rule and cold folds)
    prior_lead, balance, disagreement = None, "", float("nan")
    if choose:
        both, prior_lead, balance = _choose_prior(cross, index, _family_choice.LEAD_SE)
        fit = both[balance]
        disagreement = prediction_disagreement(unique, both["uniform"].params, both["estimated"].params)
        if UNSETTLED_REFUSE and balance == "uniform" and disagreement >= BALANCE_NOTE_SHARE:
            return CoverageCheck(
                False,
                f"the rows do not settle the class balance: the fits under the uniform and the estimated "
                f"balance name different classes on {disagreement:.0%} of the rows",
                gain,
                z,
                prior_lead=prior_lead,
                balance=balance,
                balance_disagreement=disagreement,
            )
        if UNVOTED_FLIP_WHERE not in ("both", "uniform"):
            raise ValueError(f"unknown UNVOTED_FLIP_WHERE {UNVOTED_FLIP_WHERE!r}; choose 'both' or 'uniform'")
        unsettled = UNVOTED_FLIP_WHERE == "both" or balance == "uniform"
        lead = (
            f", which does not predict held-out rows better (lead {prior_lead[0]:.4f} +- {prior_lead[1]:.4f} "
            "per row)"
            if balance == "uniform"
            else ""
        )
        flip = (
            unvoted_flip(both["uniform"].params, both["estimated"].params, "the estimated one" + lead)
            if UNVOTED_FLIP and unsettled
            else ""
        )
        if flip:
            return CoverageCheck(
                False,
                flip,
                gain,
                z,
                prior_lead=prior_lead,
                balance=balance,
                balance_disagreement=disagreement,
            )
    else:
        name = next(iter(balances))
        scores = HeldOutScores(cross.scored, {f: cross.row_loglik[index[f, name]] for f in COVERAGE_FAMILIES})
        fit = cross.fits[index[choose_within_se(scores, COVERAGE_FAMILIES, 0.0)[0], name]]
    if LEAD_TEST and ref is not None and chosen in ref.row_loglik:
        at = next(b for b, f in enumerate(cross.fits) if f is fit)
        held = HeldOutScores(cross.scored, {"coverage": cross.row_loglik[at], chosen: ref.row_loglik[chosen]})
        lead, se = held.lead("coverage", chosen)
        n_se = _family_choice.LEAD_SE
        if not (np.isfinite(lead) and np.isfinite(se) and lead > n_se * se):
            return CoverageCheck(
                False,
                f"the coverage reading does not predict held-out rows better than {chosen!r} by over "
                f"{n_se:g} standard errors (lead {lead:.4f} +- {se:.4f} per row)",
                gain,
                z,
                prior_lead=prior_lead,
                balance=balance,
                balance_disagreement=disagreement,
            )
    lfs, classes = one_class_votes(unique)
    n_rows = float(unique.counts.sum())
    coverage = (unique.counts @ (unique.rows >= 0)) / max(n_rows, 1e-300)
    rates = coverage_rates(fit.params, lfs, classes)
    # an LF counts as firing more often on its class when the fitted difference is beyond its noise
    # (LEAD_SE standard errors, the convention of the family choice)
    se = rate_difference_se(rates, fit.params.class_balance, n_rows)
    oriented = orientation(rates, coverage, se, _family_choice.LEAD_SE)
    against = (
        against_rarer(rates, fit.params.class_balance, coverage, se, RARE_AGAINST, unique)
        if RARE_AGAINST != "off"
        else rates.lfs[:0]
    )
    if against.size:
        return CoverageCheck(
            False,
            f"under the fit, one-class LF(s) {', '.join(map(str, against.tolist()))} of a class it makes "
            "rarer fire more often on another class: its rare class may not be the class its LFs name "
            "(LFs written for a rare class seldom fire more often off it)",
            gain,
            z,
            prior_lead=prior_lead,
            balance=balance,
            balance_disagreement=disagreement,
        )
    if not oriented >= 0.5:
        return CoverageCheck(
            False,
            f"under the fit, under half of the one-class LFs' votes (share {oriented:.2f}, "
            f"coverage-weighted) come from LFs that fire more often on the class they name by over "
            f"{_family_choice.LEAD_SE:g} standard errors: its latent classes are not shown to be the "
            "LFs' classes",
            gain,
            z,
            prior_lead=prior_lead,
            balance=balance,
            balance_disagreement=disagreement,
        )
    return CoverageCheck(True, "", gain, z, fit, prior_lead, balance, disagreement)
