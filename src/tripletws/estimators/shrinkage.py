"""The fit's departure from majority vote, shrunk by the share of it that is sampling noise.

A fitted label model gives each row the posterior ``P(y | row)``; majority vote's model (one
accuracy shared by every LF, :data:`tripletws.estimators.annotator.FAMILIES`' ``"mv"``) gives
``V(y | row)``, which ranks the classes as the row's vote counts do.  The fit earns its departure
``d = P - V`` where the rows identify its parameters; where they are few against the parameters,
part of ``d`` is the noise of the estimate, and estimated weights then lose to equal ones (the
"forecast combination puzzle": Smith and Wallis, *Oxford Bulletin of Economics and Statistics* 71(3),
2009).  The positive-part James-Stein estimator (James and Stein, 1961; Efron and Morris, *JASA* 68,
1973) of the departure keeps the share

``lam = max(0, 1 - N / D)``

of it, where ``D`` is the departure's mean square over the fitted rows (counts-weighted, summed over
the classes) and ``N`` the mean square of its noise: the variance of the same family's posteriors
over a Poisson bootstrap of the rows (Hanley and MacGibbon, *Computer Methods and Programs in
Biomedicine* 83, 2006: each row's count redrawn from a Poisson law with that mean; :data:`N_BOOT`
refits in one EM batch, seeded).  ``D`` includes the noise, so ``D - N`` estimates the square of the
true departure.  Both are measured on the probabilities (:data:`SCALE`), which are bounded: a row the
fit is sure of adds little noise however small its other classes' probabilities are.

The shrunk predictor is the log-linear pool ``lam s + (1 - lam) v`` (Genest and Zidek, *Statistical
Science* 1(1), 1986), again a model with one table per LF (:func:`pool`), so it is saved, loaded and
predicts as any fit: each LF's table ``T**lam * T_mv**(1 - lam)`` renormalised, the normalisers put
into the prediction prior (``class_balance_``), while ``fit_class_balance_`` keeps the fit's own.

The class balance itself is not shrunk: given, uniform, or estimated where its own gold-free check
accepts it (:mod:`tripletws.estimators.balance_check`), it is the prior of the fit, of majority
vote's model it is pooled with, and of every refit, so the departure and its noise are the tables'.
Nothing here is tuned on data: ``lam`` is the textbook estimator, and :data:`N_BOOT` only sets the
Monte Carlo precision of ``N``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..params import LabelModelParams
from ..rows import RowSummary
from ..validate import check_float, check_int, check_mapping, check_str
from . import annotator as _annotator
from .annotator_design import summary_design, summary_majority, summary_posteriors
from .heldout import row_fold_keys
from .votes import summary_votes

#: Bootstrap refits that estimate the noise of the fit's posteriors (one EM batch).
N_BOOT = 8

#: Seed of the bootstrap's Poisson draws (the deal of rows into folds has its own).
BOOT_SEED = 20261205

#: The least share of the fit kept in the pool: where majority vote's model ties between classes (a
#: row without votes under a uniform prior, equal vote counts), the fit's order decides, as a second
#: key; where it does not, this share moves a row's log-odds by at most ``1e-6`` times the fit's (far
#: below one vote's weight), while the posteriors it splits differ by far more than the ``1e-9`` within
#: which probabilities count as tied.  A numerical device for a lexicographic order, not a tuned share.
TIE_SHARE = 1e-6

#: ``"james_stein"`` (the default) or ``"off"`` (a study switch: the fit predicts unshrunk).
SHRINK = "james_stein"

#: ``"posteriors"``: the shrunk model's posterior is exactly the log-linear pool of the fit's and
#: majority vote's model's posteriors (the tables' normalisers go into its prediction prior);
#: ``"parameters"``: each table interpolated and the prior kept, which leaves the normalisers'
#: class-dependent factor in the posterior (a study switch; :func:`pool`).
POOL = "posteriors"

#: The scale on which the departure and its noise are measured: ``"probability"`` (the posterior
#: probabilities, bounded, so a row the fit is sure of adds little noise however small its other
#: classes' probabilities) or ``"log"`` (centred log-posteriors: there, near-certain rows' tails
#: dominate both, and a coverage reading right on 12 000 rows was shrunk to majority vote; a study
#: switch).
SCALE = "probability"


#: Where the bootstrap's refits start: ``"majority"`` (majority vote's soft labels, as the fit itself
#: did, so the refits repeat the whole estimate) or ``"fit"`` (the fit's own posterior: fewer EM
#: steps; a study switch).
BOOT_START = "fit"


@dataclass(frozen=True)
class Shrinkage:
    """How far the fit's departure from majority vote was kept (:func:`shrink_toward_mv`).

    Attributes
    ----------
    lam : float
        Share of the departure kept, in [0, 1] (0: the fit predicts as majority vote's model).
    departure : float
        ``D``: mean square of the fit's posteriors minus majority vote's, per row (on :data:`SCALE`).
    noise : float
        ``N``: the part of ``D`` that a bootstrap of the rows attributes to sampling noise.
    family : str
        The family whose fit was refitted on the bootstrap's rows.
    n_boot : int
        Refits in the bootstrap.
    """

    lam: float
    departure: float
    noise: float
    family: str
    n_boot: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "lam": float(self.lam),
            "departure": float(self.departure),
            "noise": float(self.noise),
            "family": self.family,
            "n_boot": int(self.n_boot),
        }

    @classmethod
    def from_dict(cls, d: Any) -> Shrinkage:
        """Inverse of :meth:`to_dict`, each field checked."""
        name = "estimate.shrinkage"
        d = check_mapping(d, name, ("lam", "departure", "noise", "family", "n_boot"))
        return cls(
            check_float(d["lam"], f"{name}.lam", 0.0, 1.0),
            check_float(d["departure"], f"{name}.departure", 0.0, 1e300),
            check_float(d["noise"], f"{name}.noise", 0.0, 1e300),
            check_str(d["family"], f"{name}.family", _annotator.FAMILIES),
            check_int(d["n_boot"], f"{name}.n_boot", 0, 10**6),
        )


def _scale(P: np.ndarray, axis: int = 1) -> np.ndarray:
    """Posteriors on :data:`SCALE`'s scale (classes along ``axis``)."""
    if SCALE == "probability":
        return P
    S = np.log(np.maximum(P, 1e-300))
    return S - S.mean(axis=axis, keepdims=True)


def mean_square(rows: RowSummary, X: np.ndarray) -> float:
    """Counts-weighted mean over the rows of ``sum_y X[r, y]**2``."""
    c = rows.counts.astype(np.float64)
    return float(c @ np.einsum("ry,ry->r", X, X) / c.sum())


def bootstrap_noise(
    rows: RowSummary,
    family: str,
    class_balance: np.ndarray | None,
    n_boot: int = N_BOOT,
    seed: int = BOOT_SEED,
    start: np.ndarray | None = None,
    fixed: np.ndarray | None = None,
    fit: LabelModelParams | None = None,
) -> float:
    """``N``: mean square noise of ``family``'s posteriors (on :data:`SCALE`), by a Poisson bootstrap.

    Parameters
    ----------
    rows : RowSummary
        The distinct rows the fit was made on.
    family : str
        The fitted family (:data:`tripletws.estimators.annotator.FAMILIES`).
    class_balance : ndarray of shape (k,), optional
        The fit's fixed prior; None where the fit estimated it (each refit then does).
    n_boot : int
        Refits (>= 2).
    seed : int
    start : ndarray of shape (R, k), optional
        Soft labels the refits start from (default: majority vote's, as the fit's own EM).
    fixed : ndarray of int, optional
        LFs whose tables the refits keep at ``fit``'s (the fallback tables of LFs the rows do not
        identify: the fit does not estimate them from the rows either).
    fit : LabelModelParams, optional
        The fit, with ``fixed``.

    Returns
    -------
    float
        ``sum_r c_r sum_y Var_b[P_b(y | r)] / sum_r c_r`` over the refits' posteriors ``P_b`` on the
        original rows (0 where fewer than two refits had rows).
    """
    k = rows.cardinality
    c = rows.counts.astype(np.float64)
    draws = bootstrap_counts(rows, n_boot, seed)
    draws = draws[draws.sum(axis=1) > 0]
    if len(draws) < 2:
        return 0.0
    D = summary_design(rows, k, abstain=family in _annotator.ABSTAIN_INFORMATIVE)
    q0 = summary_majority(rows, k) if start is None else start
    q0 = np.ascontiguousarray(q0.T[:, None, :])
    hold = fixed is not None and len(fixed) > 0
    if hold and fit is None:
        raise ValueError("fixed LFs need the fit whose tables they keep")
    boot = _annotator._em(
        D,
        [family] * len(draws),
        draws,
        q0,
        max_steps=None,
        tol=_annotator.EM_TOL,
        class_balance=class_balance,
        params=hold,
    )
    if hold:
        assert fit is not None
        P = _held_posteriors(rows, boot.params, fixed, fit)
    else:
        P = boot.soft_labels  # each refit's posterior on every distinct row (rows it drew no copy of too)
    S = _scale(P, axis=0)  # (k, B, R)
    var = S.var(axis=1, ddof=1)  # (k, R)
    return float(var.sum(axis=0) @ c / c.sum())


def _held_posteriors(
    rows: RowSummary, refits: list[LabelModelParams], fixed: np.ndarray, fit: LabelModelParams
) -> np.ndarray:
    """(k, B, R): each refit's posterior on the distinct rows with the ``fixed`` LFs' tables put back to
    ``fit``'s (:func:`~tripletws.estimators.annotator_design.summary_posteriors`)."""
    held = []
    for refit in refits:
        cp = refit.cond_probs.copy()
        cp[fixed] = fit.cond_probs[fixed]
        held.append(LabelModelParams(refit.class_balance, cp))
    return summary_posteriors(rows, held)


def bootstrap_counts(rows: RowSummary, n_boot: int, seed: int = BOOT_SEED) -> np.ndarray:
    """Poisson bootstrap counts of the distinct rows, shape (n_boot, R): row ``r``'s count in each
    draw from a Poisson law with mean ``rows.counts[r]``.

    The draws are made in the order of the rows' content keys
    (:func:`tripletws.estimators.heldout.row_fold_keys`, as the deal of rows into folds) over the
    columns that vote, so they depend neither on the order of the rows or of the columns of L, nor on
    the names of the classes, nor on LFs that never vote (such as copies blanked out, counted once).
    """
    c = rows.counts.astype(np.float64)
    votes = summary_votes(rows)  # the vote lists (kept per summary), not a pass over the (R, m) rows
    voting = np.bincount(votes[1], minlength=rows.n_lfs) > 0
    if voting.all():
        keys = row_fold_keys(rows.rows, c, rows.cardinality, seed, votes)
    else:
        keys = row_fold_keys(np.ascontiguousarray(rows.rows[:, voting]), c, rows.cardinality, seed)
    order = np.lexsort((np.floor(c), keys))
    out = np.empty((n_boot, len(c)))
    out[:, order] = np.random.default_rng(seed).poisson(c[order], size=(n_boot, len(c)))
    return out


def pool(
    params: LabelModelParams, target: LabelModelParams, lam: float, *, exact: bool = False
) -> LabelModelParams:
    """The model between ``params`` and ``target`` at ``lam``: each table and the prior interpolated
    geometrically.

    Each LF's table is ``T**lam * T_target**(1 - lam)`` renormalised over its outcomes (abstain
    included) by ``Z_i(y)``; the prior is ``p**lam * p_target**(1 - lam)`` renormalised (``p`` itself
    where the two priors are equal: a given balance stays as given).  With ``exact=True`` the prior
    also takes the factor ``prod_i Z_i(y)``, so that the posterior is exactly the log-linear pool
    ``P(y | row) ~ P_params(y | row)**lam * P_target(y | row)**(1 - lam)`` (every LF gives one outcome
    per row); without it, the two differ by that factor per class, 1 where the tables agree.

    Parameters
    ----------
    params, target : LabelModelParams
        Tables (m, k + 1, k) and priors (k,) of the same LFs and classes.
    lam : float
        In [0, 1]; 1 returns ``params`` itself.
    exact : bool

    Returns
    -------
    LabelModelParams
    """
    if lam >= 1.0:
        return params
    floor = 1e-300
    log_t = lam * np.log(np.maximum(params.cond_probs, floor)) + (1.0 - lam) * np.log(
        np.maximum(target.cond_probs, floor)
    )
    T = np.exp(log_t)
    Z = T.sum(axis=1)  # (m, k)
    same = np.array_equal(params.class_balance, target.class_balance)
    if same and not exact:
        return LabelModelParams(params.class_balance.copy(), T / Z[:, None, :])
    log_p = lam * np.log(np.maximum(params.class_balance, floor)) + (1.0 - lam) * np.log(
        np.maximum(target.class_balance, floor)
    )
    if exact:
        log_p = log_p + np.log(Z).sum(axis=0)
    p = np.exp(log_p - log_p.max())
    return LabelModelParams(p / p.sum(), T / Z[:, None, :])


def shrink_toward_mv(
    rows: RowSummary,
    params: LabelModelParams,
    mv: LabelModelParams,
    family: str,
    n_boot: int | None = None,
    seed: int = BOOT_SEED,
    fixed: np.ndarray | None = None,
    keep_prior: bool = False,
) -> tuple[LabelModelParams, Shrinkage]:
    """The fit's departure from majority vote's model shrunk by James-Stein's share (module docstring).

    Parameters
    ----------
    rows : RowSummary
        The distinct rows the fit was made on.
    params : LabelModelParams
        The fit (its family's tables, prior ``params.class_balance``).
    mv : LabelModelParams
        Majority vote's model fitted on the same rows (family ``"mv"``).
    family : str
        ``params``' family, refitted by the bootstrap.
    n_boot : int, optional
        Refits of the bootstrap (default :data:`N_BOOT`, read at call time).
    fixed : ndarray of int, optional
        LFs whose tables are fallbacks, not estimates: the refits keep them (:func:`bootstrap_noise`).
    keep_prior : bool
        Keep ``params``' prior exactly as the prediction prior (a balance the user gave): the tables
        are interpolated alone (:func:`pool` without ``exact``), whatever :data:`POOL` says.

    Returns
    -------
    params : LabelModelParams
        :func:`pool` of the fit's tables and majority vote's model's at ``lam``, with the fit's own
        prior; ``params`` itself where ``lam`` is 1.
    shrinkage : Shrinkage
    """
    target = LabelModelParams(params.class_balance.copy(), mv.cond_probs)
    both = summary_posteriors(rows, [params, target])  # the fit's and majority vote's model's, (k, 2, R)
    P, V = both[:, 0].T, both[:, 1].T  # (R, k) each
    d = _scale(P) - _scale(V)
    departure = mean_square(rows, d)
    if not departure > 0.0:
        return params, Shrinkage(1.0, 0.0, 0.0, family, 0)
    start = P if BOOT_START == "fit" else None
    n_boot = N_BOOT if n_boot is None else n_boot  # read at call time (a study switch)
    noise = bootstrap_noise(
        rows, family, params.class_balance, n_boot, seed, start=start, fixed=fixed, fit=params
    )
    lam = max(0.0, 1.0 - noise / departure)
    # the fit keeps at least TIE_SHARE, so that it still orders the classes where majority vote's
    # model ties (rows without votes, equal vote counts): majority vote first, then the fit
    shrunk = pool(params, target, max(lam, TIE_SHARE), exact=POOL == "posteriors" and not keep_prior)
    return shrunk, Shrinkage(lam, departure, noise, family, n_boot)


#: The solve notes (warns) a shrinkage only where it keeps less than this share of the departure;
#: a smaller one is recorded in the estimate (``shrinkage_``) without a warning. A reporting bar only:
#: the prediction uses ``lam`` whatever it is.
NOTE_BELOW = 0.9


def shrinkage_note(shrinkage: Shrinkage) -> str:
    """The solve's note on a material shrinkage ("" where ``lam`` is at least :data:`NOTE_BELOW`)."""
    if shrinkage.lam >= NOTE_BELOW:
        return ""
    boot = f"a bootstrap of the rows, {shrinkage.n_boot} refits of {shrinkage.family!r}"
    if shrinkage.lam <= 0.0:
        return (
            f"the fit's departure from majority vote is no larger than its sampling noise ({boot}: noise "
            f"{shrinkage.noise:.3g} against a mean square departure of {shrinkage.departure:.3g} per row), "
            "so it predicts as majority vote's model: the rows do not identify the LFs' accuracies well "
            "enough to weigh them apart; more rows, or a few gold rows (fit(L, L_dev=..., Y_dev=...)), can"
        )
    return (
        f"the fit's departure from majority vote is kept at {shrinkage.lam:.2f} of its size (James-Stein "
        f"shrinkage toward majority vote's model: {boot} puts {shrinkage.noise / shrinkage.departure:.0%} "
        "of its mean square down to sampling noise; docs/models.md)"
    )
