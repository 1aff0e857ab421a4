"""Classes whose one-class LFs fire together less often than the fit expects: LFs for different kinds.

A reading of abstentions (the coverage reading, :mod:`tripletws.estimators.coverage_check`, or the
abstain reading, :mod:`tripletws.estimators.abstain_check`) takes the LFs as independent given the
class, so on a row where one LF of class ``c`` votes, the silence of every other LF of ``c`` is
evidence against ``c``.  Real LFs are often written for different kinds of row of one class
(keywords for different kinds of spam): given the class, one fires where the others do not, and
their silences say nothing against it (docs/studies.md, sessions 52-55).

With the class balance fixed before the fit (given by the user, the frequencies of gold labels, or
the default's uniform one), independence fixes how often two LFs of one class fire together:
``n sum_y p_y P(i fires | y) P(j fires | y)`` under the fitted tables.  The fit cannot tilt the
balance to match the pairs (a balance estimated from the same rows can: session 52's tubespam_rdp
pairs all within 3.5 standard errors of such a fit), so LFs of different kinds show as pairs that
fire together far less often than expected.  :func:`kinds_classes` flags each class with such a
pair: the Poisson-scaled excess ``z = (observed - expected) / sqrt(expected)`` of each pair of its
one-class LFs expected together on at least :data:`MIN_EXPECTED` rows, the lowest below
``Phi^-1(ALPHA / pairs)`` (a one-sided family-wise level over the class's pairs, Bonferroni's
bound).  The levels are conventions (5 %, Cochran's 5), not tuned.
"""

from __future__ import annotations

import numpy as np

from ..params import LabelModelParams
from ..rows import RowSummary

#: Family-wise one-sided level of each class's pairs.
ALPHA = 0.05

#: Pairs expected to fire together on fewer rows than this are not tested (Cochran's rule of thumb).
MIN_EXPECTED = 5.0


def kinds_classes(
    rows: RowSummary, params: LabelModelParams, named: np.ndarray, alpha: float = ALPHA
) -> np.ndarray:
    """Which classes have one-class LFs that fire together less often than ``params`` expects.

    Parameters
    ----------
    rows : RowSummary
        The fitted rows: distinct rows (R, m) and their counts (R,).
    params : LabelModelParams
        The fit, its class balance fixed before it (not estimated from these rows).
    named : ndarray of int, shape (m,)
        The class each LF votes where it votes one class only, -1 for the others
        (:func:`tripletws.diagnostics.one_class_labels`).
    alpha : float
        Family-wise one-sided level over each class's pairs.

    Returns
    -------
    ndarray of bool, shape (k,)
    """
    from scipy.stats import norm  # imported on first use (a given balance with a reading)

    k = params.cardinality
    counts = np.asarray(rows.counts, dtype=np.float64)
    n = float(counts.sum())
    fires = 1.0 - params.cond_probs[:, 0, :]  # (m, k): P(LF fires | y)
    out = np.zeros(k, dtype=bool)
    if n <= 0:
        return out
    for c in range(k):
        lfs = np.flatnonzero(named == c)
        if lfs.size < 2:
            continue
        fired = (rows.rows[:, lfs] >= 0).astype(np.float64)  # (R, r)
        observed = (fired * counts[:, None]).T @ fired  # (r, r): rows on which both fire
        expected = n * (fires[lfs] * params.class_balance) @ fires[lfs].T
        upper = np.triu(np.ones_like(expected, dtype=bool), 1) & (expected >= MIN_EXPECTED)
        if not upper.any():
            continue
        z = (observed[upper] - expected[upper]) / np.sqrt(expected[upper])
        out[c] = bool(z.min() < norm.ppf(alpha / z.size))
    return out
