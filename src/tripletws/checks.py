"""Sanity checks of a fitted model against its training rows."""

from __future__ import annotations

import numpy as np

from .baselines import vote_counts
from .inference import log_scores
from .matrix import LabelMatrix
from .params import LabelModelParams

#: Rows the overrule check reads at most (evenly spaced); its standard error stays below 0.002.
MAX_CHECK_ROWS = 100_000


def majority_overrule_rate(
    lm: LabelMatrix, params: LabelModelParams, chunk_size: int | None = None, n_jobs: int | None = None
) -> tuple[float, int]:
    """How often a model's most likely class contradicts a strict majority of the LFs.

    Among the rows whose votes have a unique most-voted class, the share where
    the model's argmax posterior is another class.  A label model that fits
    its assumptions re-weights the LFs and overrules the majority on the rows
    where it is weak (ties, few votes, votes of poor LFs); one whose latent
    variable has drifted away from the class (strongly dependent LFs, a wrong
    class balance) overrules it wholesale.

    Parameters
    ----------
    lm : LabelMatrix
    params : LabelModelParams
    chunk_size : int, optional
    n_jobs : int, optional
        Threads for the posterior pass (see :func:`~tripletws.parallel.resolve_n_jobs`).

    Returns
    -------
    rate : float
        0.0 when no row has a strict majority.
    n_strict : int
        Rows with a strict majority.
    """
    if lm.n > MAX_CHECK_ROWS:
        rows = np.linspace(0, lm.n - 1, MAX_CHECK_ROWS).astype(np.int64)
        lm = lm.take_rows(rows)
    counts = vote_counts(lm, params.cardinality, chunk_size)
    top, majority, n_top = _column_argmax(counts)
    strict = (n_top == 1) & (top > 0)
    n_strict = int(strict.sum())
    if n_strict == 0:
        return 0.0, 0
    _, pred, _ = _column_argmax(log_scores(lm, params, chunk_size, n_jobs))
    return float(np.mean(pred[strict] != majority[strict])), n_strict


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
