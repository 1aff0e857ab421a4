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
from .annotator import deal_counts, fit_annotator, select_family
from .one_class import COVERAGE_FAMILIES, coverage_rates, one_class_votes, orientation

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
        the higher held-out likelihood, with the class balance asked for), when accepted.
    """

    accepted: bool
    reason: str
    gain: float = float("nan")
    z: float = float("nan")
    fit: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able record (non-finite numbers as None)."""

        def num(v: float) -> float | None:
            return float(v) if np.isfinite(v) else None

        return {"accepted": self.accepted, "reason": self.reason, "gain": num(self.gain), "z": num(self.z)}

    @classmethod
    def from_dict(cls, d: Any) -> CoverageCheck:
        try:
            accepted, reason = d["accepted"], d["reason"]
            gain, z = (float("nan") if d[key] is None else float(d[key]) for key in ("gain", "z"))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"invalid coverage check record: {exc}") from exc
        if not isinstance(accepted, bool) or not isinstance(reason, str):
            raise ValueError("invalid coverage check record: accepted must be a bool and reason a string")
        return cls(accepted, reason, gain, z)


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


def coverage_check(unique: RowSummary, class_balance: np.ndarray | None) -> CoverageCheck:
    """Fit the coverage reading of one-class LFs and decide, without gold, whether to use it.

    The fit is that of :data:`COVERAGE_FAMILIES` (per-LF rates, or one precision shared by all
    one-class LFs, as majority vote shares one accuracy) with the higher cross-fitted held-out
    likelihood, so that rates too noisy to beat a shared precision are not used.  It is used
    when the classes are two (``k = 2``), the rows hold no significant background group
    (:func:`background_gain`, z at most :data:`BACKGROUND_Z`) and, under the fit, at least half
    of the one-class LFs' votes (coverage-weighted) fall more often on the class they name
    (:func:`orientation`: an LF is written to fire on its class; a fit where most fire on the
    other class has found another latent variable, or the classes swapped).

    For ``k > 2`` it is not used: the two-rate model's single off-class rate ignores confusable
    classes, and on real LF sets (trec, semeval) its fit loses 6 to 15 points against majority
    vote without the background test noticing (docs/models.md).

    Parameters
    ----------
    unique : RowSummary
    class_balance : ndarray of shape (k,), optional
        A fixed prior for the fit (else estimated: the coverage reading identifies it).
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
    fit = select_family(
        unique, COVERAGE_FAMILIES, class_balance=class_balance, random_state=0, n_se=0.0, warm_start=True
    ).fit
    lfs, classes = one_class_votes(unique)
    coverage = (unique.counts @ (unique.rows >= 0)) / max(float(unique.counts.sum()), 1e-300)
    oriented = orientation(coverage_rates(fit.params, lfs, classes), coverage)
    if not oriented >= 0.5:
        return CoverageCheck(
            False,
            f"under the fit, most of the one-class LFs' votes (share {1.0 - oriented:.2f} of them, "
            "coverage-weighted) fall more often on the classes they do not name: its latent classes "
            "are not the LFs' classes",
            gain,
            z,
        )
    return CoverageCheck(True, "", gain, z, fit)
