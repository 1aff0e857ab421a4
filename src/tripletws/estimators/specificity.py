"""Two-class ties broken by the specificity of the LFs that vote one class only.

Where a model weighs the votes as majority vote does (``one_class="shared"``, or majority vote's
family), a row with as many votes for each class ties, and a coin decides it.  On real LF sets such
ties are far from a coin: a one-class LF that fires on few rows (a keyword, a pattern) is usually
more precise than one that fires on many, and the tied rows mostly belong to the class of the
narrowly firing LFs (docs/studies.md, "A few gold rows on the real-LF subsets (session 50)"; session
10 found the LF that fires less often right on 74 of semeval's 79 and 31 of trec's 32 split test
rows).  The rows cannot identify this (a one-class LF's precision and its coverage are separate
parameters), so it is a prior about how LFs are written, used only among the classes the votes
cannot separate: a lexicographic order, as :mod:`tripletws.ties` does with its second fit.

:func:`specificity_params` writes that order as a second fit's tables, so that the model file,
``predict_proba`` and the dask path carry it unchanged: a one-class LF ``i`` that names class ``c``
and votes on a share ``cov_i`` of the fitted rows gets

    log P(vote c | Y = c) - log P(vote c | Y = y) = w_i = -log cov_i   (y != c),

its abstentions the same probability under every class (they say nothing), and every other LF
tables that are the same under every class.  Under a uniform balance a tied row's classes then
score ``sum of w_i over the one-class LFs voting for each``: the class named by the rarer-firing
LFs leads.
"""

from __future__ import annotations

import numpy as np

from ..params import LabelModelParams

#: Probability of the named vote under the named class (any value in (0, 1) with room for
#: :data:`OTHER` gives the same log-odds; the tables only order tied classes).
NAMED = 0.5
#: Probability of each vote an LF has never cast on the fitted rows, under every class.
OTHER = 1e-3


def specificity_params(coverage: np.ndarray, named: np.ndarray, cardinality: int) -> LabelModelParams:
    """Tables under which a row's classes score by the specificity of the one-class LFs voting them.

    Parameters
    ----------
    coverage : ndarray, shape (m,)
        Share of the fitted rows on which each LF votes.
    named : ndarray of int, shape (m,)
        The class each LF votes where it votes one class only, else -1
        (:func:`tripletws.diagnostics.one_class_labels`).
    cardinality : int
        k.

    Returns
    -------
    LabelModelParams
        Uniform balance; ``cond_probs`` of shape (m, k + 1, k), each column summing to 1 and every
        LF's abstention equally likely under every class.
    """
    k = int(cardinality)
    coverage = np.asarray(coverage, dtype=np.float64)
    named = np.asarray(named, dtype=np.int64)
    m = coverage.size
    weight = np.where((named >= 0) & (coverage > 0), -np.log(np.clip(coverage, 1e-300, 1.0)), 0.0)
    voting = NAMED + (k - 1) * OTHER  # P(any vote | y), the same under every class
    table = np.empty((m, k + 1, k))
    table[:, 0, :] = 1.0 - voting
    table[:, 1:, :] = voting / k  # an LF without a named class: every vote as likely under each class
    for i in np.flatnonzero(weight > 0):
        c = int(named[i])
        table[i, 1:, :] = OTHER
        table[i, c + 1, c] = NAMED
        for y in range(k):
            if y != c:  # the named vote is exp(-w) as likely; the rest of its mass is a vote for y
                table[i, c + 1, y] = NAMED * np.exp(-weight[i])
                table[i, y + 1, y] = OTHER + NAMED * (1.0 - np.exp(-weight[i]))
    return LabelModelParams(np.full(k, 1.0 / k), table)
