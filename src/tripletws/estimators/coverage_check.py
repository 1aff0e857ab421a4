"""Whether to read the coverage of one-class LFs without gold: the check and its record.

The coverage reading (:mod:`tripletws.estimators.one_class`) gains where the latent class
it finds is the class the LFs are about, and collapses where it is something else (a group
of rows on which many LFs fire, a flipped class).  :func:`coverage_check` fits it and asks
the data, without gold, whether that happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..params import LabelModelParams
from ..rows import RowSummary
from . import annotator as _annotator
from .annotator import (
    TIE_TOL,
    HeldOutScores,
    deal_counts,
    fit_annotator,
    heldout_row_scores,
    select_family,
)
from .one_class import COVERAGE_FAMILIES, coverage_rates, one_class_votes, orientation, rate_difference_se

#: One-sided normal quantile at 2.5 %: a background class whose held-out gain is this many
#: standard errors above 0 is taken as real (a conventional level, not fitted to data; on the
#: shared sets the z of the accepted fits are <= -0.5 and those of the rejected >= 6.9).
BACKGROUND_Z = 1.96


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
    """

    accepted: bool
    reason: str
    gain: float = float("nan")
    z: float = float("nan")
    fit: Any = field(default=None, repr=False, compare=False)
    prior_lead: tuple[float, float] | None = None
    balance: str = ""

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
        return out

    @classmethod
    def from_dict(cls, d: Any) -> CoverageCheck:
        try:
            accepted, reason = d["accepted"], d["reason"]
            gain, z = (float("nan") if d[key] is None else float(d[key]) for key in ("gain", "z"))
            balance = str(d.get("balance", ""))
            lead = d.get("prior_lead")
            if lead is not None and len(lead) != 2:
                raise ValueError("prior_lead must hold a lead and its standard error")
            prior_lead = (
                None
                if lead is None
                else (
                    float("nan") if lead[0] is None else float(lead[0]),
                    float("nan") if lead[1] is None else float(lead[1]),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"invalid coverage check record: {exc}") from exc
        if not isinstance(accepted, bool) or not isinstance(reason, str):
            raise ValueError("invalid coverage check record: accepted must be a bool and reason a string")
        if balance not in ("", "estimated", "uniform"):
            raise ValueError(f"invalid coverage check record: unknown balance {balance!r}")
        return cls(accepted, reason, gain, z, prior_lead=prior_lead, balance=balance)


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


def background_gain(unique: RowSummary, n_folds: int = 3, seed: int = 0) -> tuple[float, float]:
    """Cross-fitted held-out gain per row of a ``k + 1``-th latent class, and its z-score.

    The ``"mace_coverage"`` family is fitted with ``k`` latent classes and with ``k + 1``
    (the extra one a *background* class that no LF votes: every LF fires at its off-class
    rate there), each fold scored by fits on the others (warm-started from the fit on all
    rows, as :func:`tripletws.estimators.annotator.heldout_loglik` does), on the same folds.
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
    from dataclasses import replace

    k = unique.cardinality
    folds = deal_counts(unique.rows, unique.counts, k, n_folds, seed)
    scores = []
    for card in (k, k + 1):
        u = replace(unique, cardinality=card)
        full = fit_annotator(u, "mace_coverage")
        s = np.zeros_like(folds)
        for f in range(n_folds):
            train = unique.counts - folds[f]
            if train.sum() <= 0:
                continue
            sub = replace(u, counts=train, n_rows=float(train.sum()))
            fit = fit_annotator(sub, "mace_coverage", max_steps=10, init=full.params)
            s[f] = row_logliks(unique.rows, fit.params)
        scores.append(s)
    w = folds.ravel()
    d = (scores[1] - scores[0]).ravel()
    n = float(w.sum())
    if n <= 0:
        return float("nan"), float("nan")
    gain = float(w @ d) / n
    sd = float(np.sqrt(max(float(w @ (d - gain) ** 2) / n, 0.0)))
    if sd <= 0:
        return gain, (0.0 if gain <= 0 else float("inf"))
    return gain, gain / (sd / np.sqrt(n))


def choose_prior(unique: RowSummary, n_se: float | None = None) -> tuple[Any, tuple[float, float], str]:
    """The coverage reading's fit with an estimated class balance, or with a uniform one.

    Both are scored as :func:`coverage_check` scores the families (cross-fitted held-out
    log-likelihood on the same 3 folds, folds warm-started, the family with the higher score
    under each balance); the estimated balance is kept when its fit leads the uniform one's by
    more than ``n_se`` standard errors of the paired per-row difference (the rule of
    :func:`tripletws.estimators.annotator.choose_within_se`, the uniform balance being the
    simpler model), else the balance is uniform.

    Parameters
    ----------
    unique : RowSummary
    n_se : float, optional
        None: :data:`tripletws.estimators.annotator.LEAD_SE`.

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
    n_se = _annotator.LEAD_SE if n_se is None else float(n_se)  # read at call time, as select_family does
    best, per_row, folds = {}, {}, None
    for name, prior in (("uniform", np.full(k, 1.0 / k)), ("estimated", None)):
        fits: dict[str, Any] = {}
        scores = heldout_row_scores(
            unique,
            COVERAGE_FAMILIES,
            n_folds=3,
            class_balance=prior,
            random_state=0,
            fits=fits,
            warm_start=True,
        )
        fam = COVERAGE_FAMILIES[0]
        for other in COVERAGE_FAMILIES[1:]:
            if scores.mean(other) > scores.mean(fam) + TIE_TOL:
                fam = other
        best[name], per_row[name], folds = fits[fam], scores.row_loglik[fam], scores.folds
    lead, se = HeldOutScores(folds, per_row).lead("estimated", "uniform")
    estimated = bool(np.isfinite(lead) and lead > max(TIE_TOL, n_se * (se if np.isfinite(se) else 0.0)))
    name = "estimated" if estimated else "uniform"
    return best[name], (lead, se), name


def coverage_check(
    unique: RowSummary, class_balance: np.ndarray | None, choose_balance: bool = False
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
    """

    if unique.cardinality != 2:
        return CoverageCheck(False, "with more than two classes the coverage reading is not used")
    gain, z = background_gain(unique)
    if not z <= BACKGROUND_Z:
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
    prior_lead, balance = None, ""
    if class_balance is None and choose_balance:
        fit, prior_lead, balance = choose_prior(unique)
    else:
        fit = select_family(
            unique, COVERAGE_FAMILIES, class_balance=class_balance, random_state=0, n_se=0.0, warm_start=True
        ).fit
    lfs, classes = one_class_votes(unique)
    n_rows = float(unique.counts.sum())
    coverage = (unique.counts @ (unique.rows >= 0)) / max(n_rows, 1e-300)
    rates = coverage_rates(fit.params, lfs, classes)
    # an LF counts as firing more often on its class when the fitted difference is beyond its noise
    # (LEAD_SE standard errors, the convention of the family choice)
    se = rate_difference_se(rates, fit.params.class_balance, n_rows)
    oriented = orientation(rates, coverage, se, _annotator.LEAD_SE)
    if not oriented >= 0.5:
        return CoverageCheck(
            False,
            f"under the fit, under half of the one-class LFs' votes (share {oriented:.2f}, "
            f"coverage-weighted) come from LFs that fire more often on the class they name by over "
            f"{_annotator.LEAD_SE:g} standard errors: its latent classes are not shown to be the "
            "LFs' classes",
            gain,
            z,
            prior_lead=prior_lead,
            balance=balance,
        )
    return CoverageCheck(True, "", gain, z, fit, prior_lead, balance)
