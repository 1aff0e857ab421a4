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

Where the reading estimated the balance from the same rows (:data:`STRICT_SOURCES`), the fitted
expectation is looser and the test is strict: only the LFs that the fit reads as firing at least as
often under their named class as under any other are paired (an adversarial LF that the fit already
reads against its class is not a kind of that class: the stress problem mixed-13 of 20700101, with
every class imbalanced, lost 20.7 points to one), and a pair counts only where it also fires together
on at most :data:`STRICT_RATIO` of the rows expected (a few percent of misfit is significant on a
hundred thousand rows: shared_feature-17 of 20790101, imbalanced, 94 139 rows, pairs at 0.95-0.98 of
their expectation, lost 29.1 points; the real-LF subsets' kinds pairs sit at 0.76 or less).  The
bound 0.9 was chosen after those figures were seen and judged on draws drawn after it
(docs/studies.md, session 57).
"""

from __future__ import annotations

import numpy as np

from ..params import LabelModelParams
from ..rows import RowSummary

#: Family-wise one-sided level of each class's pairs.
ALPHA = 0.05

#: Pairs expected to fire together on fewer rows than this are not tested (Cochran's rule of thumb).
MIN_EXPECTED = 5.0

#: The sources of the fit's class balance (``Fit.class_balance_source``) under which the test is strict
#: (module docstring): the pairs hold only the LFs that the fit reads as firing at least as often under
#: their named class as under any other, and a pair counts only where it also fires together on at most
#: :data:`STRICT_RATIO` of the rows expected.
STRICT_SOURCES: tuple[str, ...] = ("estimated",)

#: The largest ratio of observed to expected rows of a pair that counts under the strict test.
STRICT_RATIO = 0.9


def kinds_classes(
    rows: RowSummary,
    params: LabelModelParams,
    named: np.ndarray,
    alpha: float = ALPHA,
    strict: bool = False,
) -> np.ndarray:
    """Which classes have one-class LFs that fire together less often than ``params`` expects.

    Parameters
    ----------
    rows : RowSummary
        The fitted rows: distinct rows (R, m) and their counts (R,).
    params : LabelModelParams
        The fit: its class balance fixed before it, or estimated from these rows (then ``strict``).
    named : ndarray of int, shape (m,)
        The class each LF votes where it votes one class only, -1 for the others
        (:func:`tripletws.diagnostics.one_class_labels`).
    alpha : float
        Family-wise one-sided level over each class's pairs.
    strict : bool
        Pair only the LFs that ``params`` reads as firing at least as often under their named class
        as under any other, and count a pair only where it fires together on at most
        :data:`STRICT_RATIO` of the rows expected.

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
        if strict:
            lfs = lfs[fires[lfs, c] >= fires[lfs].max(axis=1)]
        if lfs.size < 2:
            continue
        fired = (rows.rows[:, lfs] >= 0).astype(np.float64)  # (R, r)
        observed = (fired * counts[:, None]).T @ fired  # (r, r): rows on which both fire
        expected = n * (fires[lfs] * params.class_balance) @ fires[lfs].T
        upper = np.triu(np.ones_like(expected, dtype=bool), 1) & (expected >= MIN_EXPECTED)
        if not upper.any():
            continue
        z = (observed[upper] - expected[upper]) / np.sqrt(expected[upper])
        below = z < norm.ppf(alpha / z.size)
        if strict:
            below &= observed[upper] <= STRICT_RATIO * expected[upper]
        out[c] = bool(below.any())
    return out
