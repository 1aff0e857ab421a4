"""The choice of the annotator family, without gold: the simplest family that held-out rows do not reject.

The last step of the annotator models' data flow: the design
(:mod:`tripletws.estimators.annotator_design`) -> the EM (:mod:`tripletws.estimators.annotator`)
-> held-out scores (:mod:`tripletws.estimators.heldout`) -> this module.

:func:`select_family` keeps the simplest
family whose score is within :data:`LEAD_SE` standard errors of the best one
(the one-standard-error rule of cross-validation, with the standard error of
the paired per-row differences): a richer family must describe held-out rows
better by more than the noise of the rows that measured it.  The rule's settings
(:data:`LEAD_SE`, :data:`LEAD_NOISE`, :data:`LEAD_DEALS`, :data:`TIE_TOL`) are read at call
time from this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..rows import RowSummary
from ..validate import check_float, check_int, check_mapping, check_str
from .annotator import FAMILIES, AnnotatorFit, fit_annotator
from .annotator_design import _Design
from .heldout import HeldOutScores, deal_counts, heldout_row_scores, split_counts
from .votes import summary_votes

#: Held-out log-likelihood per row below which one family's lead over a simpler one is a tie.
TIE_TOL = 1e-6

#: Standard errors by which the best-scoring family must lead a simpler one to be preferred to it
#: (the one-standard-error rule of cross-validation with a conventional two, not a tuned constant).
LEAD_SE = 2.0

#: Candidates of the gold-free choice (vote-only reading; see :func:`select_family`).
CANDIDATES = ("mv", "one_coin", "mace")

#: How the standard error of a held-out lead is estimated (:func:`lead_with_fits`): "rows" (the
#: paired per-row differences alone), "fits" (plus the fold fits' noise, read from the spread of
#: the per-fold leads beyond the rows' own noise) or "nb" (Nadeau and Bengio's corrected
#: resampled variance of the per-fold leads).
LEAD_NOISE = "rows"

#: Deals of the rows into folds whose leads are averaged (1: one deal, the scores of
#: :func:`~tripletws.estimators.heldout.heldout_row_scores`; more cost one cross-fit each).
LEAD_DEALS = 1

LEAD_NOISES = ("rows", "fits", "nb")


def lead_with_fits(
    deals: tuple[HeldOutScores, ...] | list[HeldOutScores], richer: str, simpler: str, noise: str = "fits"
) -> tuple[float, float]:
    """Lead of ``richer`` over ``simpler`` averaged over deals, with a standard error that counts the fits.

    The per-row standard error of :meth:`~tripletws.estimators.heldout.HeldOutScores.lead` treats the fits
    that scored the held-out rows as fixed; but each fold's fit is itself an estimate from a sample, and the
    folds' fits share part of their training rows.  Cross-validated comparisons correct for
    this with the variance of the per-fold (per-split) estimates inflated for that overlap:
    the corrected resampled variance of Nadeau and Bengio (2003, *Machine Learning* 52,
    "Inference for the generalization error"), ``(1/J + n_test / n_train) S^2`` over ``J``
    folds with sample variance ``S^2`` of their leads (Bouckaert and Frank, PAKDD 2004, for
    repeated k-fold cross-validation); ``n_test / n_train`` stands for the correlation
    ``rho / (1 - rho)`` between folds that share training rows.

    ``noise="nb"`` is that variance as is.  ``noise="fits"`` splits it into its two parts:
    the rows' noise (the paired per-row variance over ``n``, exact for disjoint test folds)
    plus the folds' spread beyond what their rows explain, ``max(0, S^2 - mean_j v_j / n_j)``,
    times the same correction, so it equals the per-row standard error where the folds agree
    as well as their rows allow.  ``noise="rows"`` is the per-row standard error alone.

    Neither is the default (:data:`LEAD_NOISE` is "rows"): on the stress suite they move no
    loss of the family choice, whose folds agree (docs/studies.md, "What did not work").

    Parameters
    ----------
    deals : sequence of HeldOutScores
        The same rows dealt into folds one or more times (each deal holds every row out once).
    richer, simpler : str
    noise : {"rows", "fits", "nb"}

    Returns
    -------
    (float, float)
        The mean lead in nats per row (averaged over the deals) and its standard error (nan,
        nan when fewer than 2 rows were scored).
    """
    if noise not in LEAD_NOISES:
        raise ValueError(f"unknown noise {noise!r}; choose one of {', '.join(LEAD_NOISES)}")
    first = deals[0]
    mean, se = first.lead(richer, simpler)
    if len(deals) > 1:
        n = first.n_scored
        w = np.stack([dl.folds for dl in deals])  # (deals, folds, R)
        d = np.stack([dl.row_loglik[richer] - dl.row_loglik[simpler] for dl in deals])
        total = float(w.sum())
        if total < 2 or n < 2:
            return float("nan"), float("nan")
        mean = float((w * d).sum()) / total
        per_row = w.sum(axis=(0, 1))
        seen = per_row > 0
        # each distinct row's copies averaged over every deal: one paired difference per row
        e = (w * d).sum(axis=(0, 1))[seen] / per_row[seen]
        c = per_row[seen] * (n / total)  # counts of the rows (each deal holds every row out once)
        var = float((c * (e - mean) ** 2).sum()) / (n - 1.0)
        se = float(np.sqrt(max(var, 0.0) / n))
    if noise == "rows" or not np.isfinite(mean):
        return mean, se
    leads, n_j, v_j = (
        np.concatenate(x) for x in zip(*(dl.fold_leads(richer, simpler) for dl in deals), strict=True)
    )
    J = len(leads)
    if J < 2:
        return mean, se
    n_all = first.n_scored
    share = float(np.mean(n_j)) / max(n_all - float(np.mean(n_j)), 1.0)  # n_test / n_train
    s2 = float(np.var(leads, ddof=1))
    if noise == "nb":
        return mean, float(np.sqrt((1.0 / J + share) * s2))
    excess = max(0.0, s2 - float(np.mean(v_j / n_j)))
    return mean, float(np.sqrt(se**2 + (1.0 / J + share) * excess))


def _json_float(x: float) -> float | None:
    """A JSON-safe float: None for nan/inf (a score of no held-out row)."""
    x = float(x)
    return x if np.isfinite(x) else None


@dataclass(frozen=True)
class Selection:
    """Outcome of :func:`select_family`.

    Attributes
    ----------
    chosen : str
        The simplest family whose held-out log-likelihood is within ``n_se`` standard errors
        of the best one's; a later step may replace it (the annotator model's fallback to majority
        vote's family where the class balance is not settled: ``"mv"`` then, whatever the leads say).
    heldout_loglik : dict
        family -> mean held-out log-likelihood per row (nan when no row could be held out, e.g.
        one distinct row; saved as JSON null).
    n_folds : int
    n_rows : int
        Rows the choice was made on (after any subsample).
    fit : AnnotatorFit or None
        The chosen family's fit on all the rows (not persisted).
    fits : dict
        Every candidate's fit on all the rows (not persisted).
    best : str
        The family with the highest held-out log-likelihood ("" in records written before
        the standard-error rule).
    leads : dict
        family -> ``(lead, standard error)``: how far the best family's held-out log-likelihood
        per row is above this family's, and the standard error of that paired difference.
    n_se : float
        The rule's number of standard errors (0: the plain highest score).
    scores : HeldOutScores or None
        The candidates' held-out scores per row (not persisted; None with a single candidate):
        a later check on the same rows and folds reuses them.
    noise : str
        How the standard errors of ``leads`` were estimated (:func:`lead_with_fits`; "rows" in
        records written before it was recorded).
    n_deals : int
        Deals of the rows into folds whose scores were averaged.
    weights : dict
        family -> mixture weight when the candidates are combined (``LabelModel(combine=...)``,
        :func:`combine_weights`); empty when one is chosen.
    """

    chosen: str
    heldout_loglik: dict[str, float]
    n_folds: int
    n_rows: int
    fit: AnnotatorFit | None = field(default=None, compare=False, repr=False)
    fits: dict[str, AnnotatorFit] = field(default_factory=dict, compare=False, repr=False)
    best: str = ""
    leads: dict[str, tuple[float, float]] = field(default_factory=dict)
    n_se: float = 0.0
    scores: HeldOutScores | None = field(default=None, compare=False, repr=False)
    noise: str = "rows"
    n_deals: int = 1
    weights: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "chosen": self.chosen,
            # nan where no row could be held out (e.g. one distinct row): JSON null
            "heldout_loglik": {f: _json_float(v) for f, v in self.heldout_loglik.items()},
            "n_folds": self.n_folds,
            "n_rows": self.n_rows,
            "best": self.best,
            "leads": {f: [_json_float(a), _json_float(b)] for f, (a, b) in self.leads.items()},
            "n_se": float(self.n_se),
            "noise": self.noise,
            "n_deals": int(self.n_deals),
        }
        if self.weights:
            out["weights"] = {f: float(v) for f, v in self.weights.items()}
        return out

    @classmethod
    def from_dict(cls, d: Any, name: str = "estimate.selection") -> Selection:
        """Read a :meth:`to_dict` record, every field checked (fields added since are optional).

        ``name`` is the record's path in the model file: a ValueError names the field under it that
        is missing, unknown, of the wrong type or out of range.
        """
        d = check_mapping(
            d,
            name,
            ("chosen", "heldout_loglik", "n_folds", "n_rows"),
            ("best", "leads", "n_se", "noise", "n_deals", "weights"),
        )
        chosen = check_str(d["chosen"], f"{name}.chosen", FAMILIES)
        scores = _by_family(d["heldout_loglik"], f"{name}.heldout_loglik", _read_loglik)
        leads = _by_family(d.get("leads", {}), f"{name}.leads", _read_lead)
        weights = _by_family(d.get("weights", {}), f"{name}.weights", _read_weight)
        return cls(
            chosen,
            scores,
            check_int(d["n_folds"], f"{name}.n_folds", 0),
            check_int(d["n_rows"], f"{name}.n_rows", 0),
            best=check_str(d.get("best", ""), f"{name}.best", ("", *FAMILIES)),
            leads=leads,
            n_se=check_float(d.get("n_se", 0.0), f"{name}.n_se", 0.0, _BIG),
            noise=check_str(d.get("noise", "rows"), f"{name}.noise", LEAD_NOISES),
            n_deals=check_int(d.get("n_deals", 1), f"{name}.n_deals", 1),
            weights=weights,
        )


#: Bound of the numbers read from a selection record (finite, far beyond any score).
_BIG = 1e300


def _read_loglik(value: Any, name: str) -> float:
    """A held-out log-likelihood per row: a number, or null (nan: no row held out)."""
    return check_float(value, name, -_BIG, _BIG, nullable=True)


def _read_lead(value: Any, name: str) -> tuple[float, float]:
    """A lead and its standard error: ``[number or null, non-negative number or null]``."""
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"{name} must be a list of a lead and its standard error, got {value!r}"[:200])
    return _read_loglik(value[0], name), check_float(value[1], name, 0.0, _BIG, nullable=True)


def _read_weight(value: Any, name: str) -> float:
    """A candidate's mixture weight: a number in [0, 1]."""
    return check_float(value, name, 0.0, 1.0)


def _by_family(value: Any, name: str, read: Callable[[Any, str], Any]) -> dict[str, Any]:
    """A JSON object of family -> value, each value read by ``read(value, its name)``."""
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be an object of family -> value, got {type(value).__name__}")
    return {check_str(f, f"{name} key", FAMILIES): read(v, f"{name}[{f!r}]") for f, v in value.items()}


def choose_within_se(
    scores: HeldOutScores,
    candidates: tuple[str, ...],
    n_se: float = LEAD_SE,
    *,
    noise: str = "rows",
    extra: tuple[HeldOutScores, ...] = (),
) -> tuple[str, str, dict[str, tuple[float, float]]]:
    """The simplest candidate whose held-out score is within ``n_se`` standard errors of the best.

    The one-standard-error rule of cross-validation (Breiman et al., 1984; Hastie, Tibshirani
    and Friedman, *The Elements of Statistical Learning*, 7.10), with the standard error of
    the *paired* per-row difference to the best family
    (:meth:`~tripletws.estimators.heldout.HeldOutScores.lead`): a richer family is chosen only when its better
    description of held-out rows is larger than the noise of the rows that measured it.  Leads within
    :data:`TIE_TOL` are ties.

    Parameters
    ----------
    scores : HeldOutScores
    candidates : tuple of str
        Fewest parameters first.
    n_se : float
        0 gives the plain highest score (ties to the simpler family).
    noise : {"rows", "fits", "nb"}
        The standard error of the leads (:func:`lead_with_fits`; "rows":
        :meth:`~tripletws.estimators.heldout.HeldOutScores.lead`).
    extra : tuple of HeldOutScores
        Further deals of the same rows into folds: the scores and leads are averaged over
        ``scores`` and these.

    Returns
    -------
    (chosen, best, leads)
        ``leads[f] = (lead of best over f, standard error)``.
    """
    deals = (scores, *extra)
    if extra:
        means = {f: float(np.mean([dl.mean(f) for dl in deals])) for f in candidates}
    else:  # the mean of one value is that value
        means = {f: scores.mean(f) for f in candidates}
    best = candidates[0]
    for fam in candidates[1:]:
        # nan (no fold could be scored) never wins; ties go to the simpler family
        if means[fam] > means[best] + TIE_TOL:
            best = fam
    if noise == "rows" and not extra:
        leads = {f: scores.lead(best, f) if f != best else (0.0, 0.0) for f in candidates}
    else:
        leads = {f: lead_with_fits(deals, best, f, noise) if f != best else (0.0, 0.0) for f in candidates}
    for fam in candidates:
        lead, se = leads[fam]
        if fam == best or (
            np.isfinite(lead) and lead <= max(TIE_TOL, n_se * (se if np.isfinite(se) else 0.0))
        ):
            return fam, best, leads
    return best, best, leads


def select_family(
    unique: RowSummary,
    candidates: tuple[str, ...] = CANDIDATES,
    *,
    n_folds: int = 3,
    max_steps: int | None = None,
    class_balance: np.ndarray | None = None,
    random_state: Any = None,
    n_se: float | None = None,
    warm_start: bool = False,
    folds: np.ndarray | None = None,
    noise: str | None = None,
    n_deals: int | None = None,
    fitted: dict[str, AnnotatorFit] | None = None,
    design: _Design | None = None,
) -> Selection:
    """Choose the simplest family that predicts held-out rows as well as the best (no tuned constant).

    Every candidate is scored by its cross-fitted log-likelihood of held-out rows
    (:func:`~tripletws.estimators.heldout.heldout_row_scores`); the chosen family is the simplest one whose
    score is within ``n_se`` standard errors of the best score (:func:`choose_within_se`).

    Parameters
    ----------
    unique : RowSummary
    candidates : tuple of str
        Families to compare, fewest parameters first.
    n_folds : int
    max_steps : int, optional
        EM steps at most of each fit (None: :data:`tripletws.estimators.annotator.EM_STEPS`).
    class_balance : ndarray of shape (k,), optional
        Fixed prior for every fit.
    random_state : int or numpy Generator, optional
    n_se : float, optional
        Standard errors of the rule (None: :data:`LEAD_SE`, read at call time; 0: the highest
        score wins).
    warm_start : bool
        Start the folds' fits from the fit on all rows (see
        :func:`~tripletws.estimators.heldout.heldout_loglik`; about half the cost, but the start has seen the
        held-out rows).
    folds : ndarray, shape (n_folds, R), optional
        The deal of the rows into folds when already made
        (:func:`~tripletws.estimators.heldout.heldout_row_scores`).
    fitted : dict, optional
        Candidates' fits on all rows when already made (:func:`~tripletws.estimators.annotator.fit_annotator`
        of ``unique`` with ``class_balance`` and ``max_steps``): used instead of fitting them again
        (:func:`~tripletws.estimators.heldout.heldout_row_scores`).
    design : optional
        Internal: the vote-only design of ``unique`` when already built
        (:func:`~tripletws.estimators.heldout.heldout_row_scores`).
    noise : {"rows", "fits", "nb"}, optional
        The standard error of the leads (None: :data:`LEAD_NOISE`; :func:`lead_with_fits`).
    n_deals : int, optional
        Deals of the rows into folds, scores and leads averaged over them (None:
        :data:`LEAD_DEALS`); deal ``d > 0`` is seeded ``random_state + d`` (or drawn from
        the Generator).  Each costs the folds' fits once more.

    Returns
    -------
    Selection
    """
    n_se = LEAD_SE if n_se is None else float(n_se)
    noise = LEAD_NOISE if noise is None else str(noise)
    n_deals = LEAD_DEALS if n_deals is None else max(1, int(n_deals))
    if noise not in LEAD_NOISES:
        raise ValueError(f"unknown noise {noise!r}; choose one of {', '.join(LEAD_NOISES)}")
    n = int(unique.counts.sum())
    if len(candidates) == 1:
        fit = (fitted or {}).get(candidates[0]) or fit_annotator(
            unique, candidates[0], max_steps=max_steps, class_balance=class_balance
        )
        return Selection(candidates[0], {}, 0, n, fit, {candidates[0]: fit}, best=candidates[0], n_se=n_se)
    fits: dict[str, AnnotatorFit] = {}
    scores = heldout_row_scores(
        unique,
        candidates,
        n_folds=n_folds,
        max_steps=max_steps,
        class_balance=class_balance,
        random_state=random_state,
        fits=fits,
        warm_start=warm_start,
        folds=folds,
        fitted=fitted,
        design=design,
    )
    extra = []
    if n_deals > 1:
        votes = summary_votes(unique)
        base = (
            None
            if isinstance(random_state, np.random.Generator)
            else (0 if random_state is None else int(random_state))
        )
        for d in range(1, n_deals):
            deal = (
                split_counts(unique.counts, n_folds, random_state)
                if base is None
                else deal_counts(unique.rows, unique.counts, unique.cardinality, n_folds, base + d, votes)
            )
            extra.append(
                heldout_row_scores(
                    unique,
                    candidates,
                    n_folds=n_folds,
                    max_steps=max_steps,
                    class_balance=class_balance,
                    warm_start=warm_start,
                    folds=deal,
                )
            )
    chosen, best, leads = choose_within_se(scores, candidates, n_se, noise=noise, extra=tuple(extra))
    if extra:
        means = {f: float(np.mean([dl.mean(f) for dl in (scores, *extra)])) for f in candidates}
    else:  # one deal: its means (the mean of one value is that value)
        means = {f: scores.mean(f) for f in candidates}
    return Selection(
        chosen,
        means,
        n_folds,
        n,
        fits[chosen],
        fits,
        best=best,
        leads=leads,
        n_se=float(n_se),
        scores=scores,
        noise=noise,
        n_deals=n_deals,
    )
