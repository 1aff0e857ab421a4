"""Sanity checks of a fitted model against the rows it was fitted on."""

from __future__ import annotations

import numpy as np

from .estimators.annotator_design import summary_design
from .estimators.votes import class_counts, summary_votes
from .inference import log_scores
from .params import LabelModelParams
from .rows import RowSummary


def overrule_rate(
    rows: RowSummary,
    params: LabelModelParams,
    chunk_size: int | None = None,
    scores: np.ndarray | None = None,
) -> float:
    """How often a model's most likely class contradicts a strict majority of the LFs.

    Among the rows whose votes have a unique most-voted class, the count-weighted
    share where the model's argmax posterior is another class.  A label model that
    fits its assumptions re-weights the LFs and overrules the majority on the rows
    where it is weak (ties, few votes, votes of poor LFs); one whose latent
    variable has drifted away from the class (strongly dependent LFs, a wrong
    class balance) overrules it wholesale.

    Parameters
    ----------
    rows : RowSummary
        Distinct rows with counts (a hash sample of them past its cap).
    params : LabelModelParams
    chunk_size : int, optional
        Rows per chunk of the posterior's pass, read only for parameters with dependency edges
        (the others are scored on the summary's design, :func:`summary_design`).
    scores : ndarray, shape (R, k), optional
        The distinct rows' log-scores under ``params`` where the caller has them already.

    Returns
    -------
    float
        0.0 when no row has a strict majority.
    """
    R, k = len(rows.counts), rows.cardinality
    if R == 0:
        return 0.0
    r, _, a = summary_votes(rows)  # the vote lists, shared with the solve that made the summary
    top, majority, n_top = _column_argmax(class_counts(r, a, R, k))
    strict = (n_top == 1) & (top > 0)
    weight = rows.counts[strict]
    if not strict.any() or weight.sum() <= 0:
        return 0.0
    if scores is None:
        scores = row_scores(rows, params, chunk_size)
    best, _, _ = _column_argmax(scores)
    # overruled: the majority's class below the top; a row whose top classes tie with it (the draft's
    # scores alike to rounding: majority vote's model, copies) names no other class, as
    # tripletws.overrules counts it (until session 40 the first top class decided: trec's 1.0 % was
    # 0.2 % of rows where the model names another class)
    held = scores[np.flatnonzero(strict), majority[strict]]
    over = held < best[strict] - TIE_LOG
    return float(weight[over].sum() / weight.sum())


#: Log-score gap within which the majority's class counts as tied with the top (about the posterior
#: difference 1e-5 that ``tripletws.ties.BAND`` reads, at probabilities near one half).
TIE_LOG = 2e-5


def row_scores(rows: RowSummary, params: LabelModelParams, chunk_size: int | None = None) -> np.ndarray:
    """The distinct rows' log-scores under ``params``, shape (R, k): the summary's design (abstentions
    included, the solve's design where it built one), or the posterior's own pass for parameters with
    dependency edges (their pair corrections)."""
    if params.has_dependencies:
        return log_scores(rows.as_matrix(), params, chunk_size)
    return summary_design(rows, rows.cardinality, abstain=True).log_scores(params)


def _column_argmax(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row maximum, first argmax and number of maximal entries of an (n, k) array.

    Column by column (k vector passes): numpy's reductions over rows of a few
    entries cost about 10x more.
    """
    top = x[:, 0].copy()
    arg = np.zeros(len(x), dtype=np.int64)
    for c in range(1, x.shape[1]):
        better = x[:, c] > top
        arg[better] = c
        np.maximum(top, x[:, c], out=top)
    n_top = np.zeros(len(x), dtype=np.int64)
    for c in range(x.shape[1]):
        n_top += x[:, c] == top
    return top, arg, n_top
