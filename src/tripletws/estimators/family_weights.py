"""Weights that combine the vote-only families instead of choosing one (``LabelModel(combine=...)``).

The default keeps one family, chosen by cross-fitted held-out log-likelihood
(:func:`tripletws.estimators.family_choice.select_family`).  These rules weigh all of them from the same
held-out scores instead: stacking of predictive densities and pseudo-BMA+ (Yao, Vehtari, Simpson &
Gelman, 2018, Bayesian Analysis 13(3)); the model then predicts with the families' mixture
(:func:`tripletws.inference.mixture_posterior`).  A study option, not the default (docs/studies.md,
"What did not work").
"""

from __future__ import annotations

import numpy as np

from .annotator_design import _TINY
from .heldout import HeldOutScores

#: Ways to combine the candidates instead of choosing one (``LabelModel(combine=...)``): ``"none"``
#: (the choice of :func:`~tripletws.estimators.family_choice.select_family`), ``"stack"``
#: (:func:`stacking_weights`) and ``"pseudo_bma"`` (:func:`pseudo_bma_weights`).
COMBINE_RULES = ("none", "stack", "pseudo_bma")
#: A stacking weight whose EM factor (its gradient) stays below 1 - this at convergence is set to 0
#: (:func:`stacking_weights`).
STACK_KKT_TOL = 1e-3
#: Bayesian-bootstrap draws of :func:`pseudo_bma_weights`.
PSEUDO_BMA_DRAWS = 1000
#: Seed of those draws (fixed: a fit is a function of the data alone).
PSEUDO_BMA_SEED = 0


def _scored_cells(scores: HeldOutScores, candidates: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The held-out cells (fold, distinct row) with a positive count: counts (C,) and scores (F, C)."""
    w = scores.folds.reshape(-1)
    keep = np.flatnonzero(w > 0)
    S = np.stack([scores.row_loglik[f].reshape(-1)[keep] for f in candidates])
    return w[keep].astype(np.float64), S


def stacking_weights(
    scores: HeldOutScores, candidates: tuple[str, ...], *, tol: float = 1e-10, max_steps: int = 10_000
) -> np.ndarray:
    """Stacking of predictive densities: simplex weights that maximise the held-out log score.

    Maximises ``sum_r c_r log sum_f w_f exp(s_{f,r})`` over the simplex, ``s_{f,r}`` the
    cross-fitted log-likelihood of held-out row ``r`` under family ``f`` and ``c_r`` its count
    (Yao, Vehtari, Simpson & Gelman, 2018, "Using stacking to average Bayesian predictive
    distributions", Bayesian Analysis 13(3), eq. 4, with the log score).  The objective is concave
    in ``w``; it is maximised by EM on the mixture weights (each step raises it; the weights of the
    families are the mean responsibilities of the rows).

    Parameters
    ----------
    scores : HeldOutScores
    candidates : tuple of str
    tol : float
        Stop when the objective per row rises by less than this.
    max_steps : int

    Returns
    -------
    ndarray, shape (len(candidates),)
        Non-negative weights summing to 1 (uniform when no row was scored).
    """
    F = len(candidates)
    c, S = _scored_cells(scores, candidates)
    n = float(c.sum())
    if n <= 0 or F == 1:
        return np.full(F, 1.0 / F)
    S = S - S.max(axis=0, keepdims=True)  # per row: a constant of the objective
    E = np.exp(S)  # (F, C), max 1 per column
    w = np.full(F, 1.0 / F)
    for _ in range(F):
        last = -np.inf
        for _ in range(max_steps):
            mix = w @ E  # (C,)
            obj = float(c @ np.log(np.maximum(mix, _TINY))) / n
            if obj - last < tol:
                break
            last = obj
            w = w * ((E / np.maximum(mix, _TINY)) @ c) / n
            w /= w.sum()
        # EM multiplies each weight by its gradient g_f (1 for a family inside the optimum's support);
        # one still shrinking by a factor under 1 - STACK_KKT_TOL belongs at 0 (the KKT condition
        # g_f <= 1 of a family outside the support): set it there and refit the others, rather than
        # leaving a vanishing weight that only breaks the other families' exact ties
        g = (E / np.maximum(w @ E, _TINY)) @ c / n
        drop = (w > 0) & (g < 1.0 - STACK_KKT_TOL)
        if not drop.any() or drop.sum() == (w > 0).sum():
            break
        w = np.where(drop, 0.0, w)
        w /= w.sum()
    return w


def pseudo_bma_weights(
    scores: HeldOutScores,
    candidates: tuple[str, ...],
    *,
    n_draws: int = PSEUDO_BMA_DRAWS,
    seed: int = PSEUDO_BMA_SEED,
) -> np.ndarray:
    """Pseudo-BMA+ weights: ``exp`` of each family's summed held-out score, Bayesian-bootstrap averaged.

    Yao, Vehtari, Simpson & Gelman (2018), section 3.4: for each draw ``alpha ~ Dirichlet(1, ..., 1)``
    over the n scored rows, ``z_f = n sum_r alpha_r s_{f,r}`` and the draw's weights
    ``softmax(z)``; the weights are the mean over the draws.  A distinct row held out ``c`` times
    draws ``Gamma(c, 1)`` (the sum of its copies' exponential draws).

    Parameters
    ----------
    scores : HeldOutScores
    candidates : tuple of str
    n_draws : int
    seed : int

    Returns
    -------
    ndarray, shape (len(candidates),)
        Non-negative weights summing to 1 (uniform when no row was scored).
    """
    F = len(candidates)
    c, S = _scored_cells(scores, candidates)
    n = float(c.sum())
    if n <= 0 or F == 1:
        return np.full(F, 1.0 / F)
    rng = np.random.default_rng(seed)
    g = rng.gamma(c, 1.0, size=(n_draws, len(c)))  # (D, C)
    alpha = g / g.sum(axis=1, keepdims=True)
    z = n * (alpha @ S.T)  # (D, F)
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    w = p.mean(axis=0)
    return w / w.sum()


def combine_weights(scores: HeldOutScores, candidates: tuple[str, ...], rule: str) -> np.ndarray:
    """Weights of the candidates under ``rule`` (one of :data:`COMBINE_RULES` but ``"none"``)."""
    if rule == "stack":
        return stacking_weights(scores, candidates)
    if rule == "pseudo_bma":
        return pseudo_bma_weights(scores, candidates)
    raise ValueError(f"unknown combine rule {rule!r}; choose one of {', '.join(COMBINE_RULES[1:])}")
