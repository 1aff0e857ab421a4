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
    lm: LabelMatrix, params: LabelModelParams, chunk_size: int | None = None
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
    top = counts.max(axis=1)
    strict = ((counts == top[:, None]).sum(axis=1) == 1) & (top > 0)
    n_strict = int(strict.sum())
    if n_strict == 0:
        return 0.0, 0
    pred = log_scores(lm, params, chunk_size).argmax(axis=1)
    return float(np.mean(pred[strict] != counts[strict].argmax(axis=1))), n_strict
