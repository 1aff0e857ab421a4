"""Whether any LF's abstentions could depend on the class: chi-square tests of independence, no fit.

Read by the abstain check (:mod:`tripletws.estimators.abstain_check`) before its fold fits.  The
vote-only reading of abstentions (coverage independent of the class) has a testable consequence:
with the LFs independent given the class, an LF that fires independently of the class fires
independently of everything the other LFs do.  So for each LF, its firing (votes or abstains) is
cross-tabulated against what the other LFs say on the same row, in ``k + 1`` categories: their
plurality class where it is unique, else none (a tie, or no vote).  Categories whose expected
count is below :data:`MIN_EXPECTED` are pooled into one, and a table must then meet Cochran's rule
(no expected count below 1, at most a fifth below 5).  Under the vote-only reading each table is a
sample from independent margins, and Pearson's chi-square statistic of the table has its asymptotic
chi-square law (Agresti, *Categorical Data Analysis*, 3rd ed., 2013, section 3.2).

The per-LF tests are read through Bonferroni's bound: the smallest p-value times the number of LFs
tested, valid however the tests depend on each other (they share rows).  Where every table is large
enough and the bound does not reject at :data:`ALPHA`, no LF's coverage shows a dependence on the
other LFs' votes, and the informative reading has nothing to read that the votes do not carry: the
check refuses it without fitting it, on summaries of at least :data:`MIN_ROWS` distinct rows.  A
dependence of firing on the others' votes need not come from the class (crowds assigned in batches,
LFs that share a feature): the test then rejects, and the check runs in full, as before.  Rows
kept by a hash sample of whole distinct rows (over ``em_max_rows``) are a sample of patterns, whose
tables vary more than a multinomial's: the test rejects more often there, which only runs the check
more often.  The p-value of the summed statistics (with their summed degrees of freedom) is
reported too, and read only where :data:`SUMMED` (a study switch).

Measured (``tests/test_coverage_screen.py``'s generator, 4 000 rows, 60 seeded draws without a
dependence): Bonferroni's bound rejected at 5 % on 3, 6 and 6 draws with 10, 20 and 40 LFs, the
summed test on 4, 7 and 10; pooled over the draws with 20 LFs, 6.3 % of the per-LF p-values fell
below 0.05.  On the stress suite's development draw and two others (20470101, 20510101), the
check refused every reading the screen refuses on 1 000 distinct rows or more, but two: subpop-21
(the reading 0.05 points better on the test rows) and subpop-05 (the reading 12.7 points worse,
13.1 below majority vote); on the untouched draw 20520101 no accuracy moved
(docs/speed.md, "Session 29").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rows import RowSummary
from .votes import class_counts, summary_votes

#: Level of the test: the abstain check's fold fits are skipped where Bonferroni's bound of the per-LF
#: tests does not reject at this level (nor the summed test, where :data:`SUMMED`; the conventional
#: 5 %, not tuned; None turns the screen off).
ALPHA: float | None = 0.05

#: Distinct rows from which the screen is read.  Below, the check's fold fits are cheap (a few ms in
#: the compiled EM, :data:`tripletws.estimators.em_jit.JIT_MAX_ROWS` is the same size) and the
#: per-LF tests have less power than the check's held-out lead: on the development stress draw the
#: screen would have refused three readings the check accepts, on 16 to 37 distinct rows each.
MIN_ROWS = 1000

#: Whether the summed test is read too (a study switch, off: Bonferroni's bound alone).  The per-LF
#: statistics share rows, so their sum spreads wider than its chi-square law, more so with more LFs
#: (module docstring).
SUMMED = False

#: Expected count below which a category of the others' votes is pooled with the other sparse ones
#: (and at most a fifth of a table's cells may stay below it: Cochran's rule).
MIN_EXPECTED = 5.0


@dataclass(frozen=True)
class CoverageScreen:
    """The per-LF chi-square tests of firing against the other LFs' votes, summarised.

    Attributes
    ----------
    p_any : float
        Bonferroni's bound: the smallest per-LF p-value times the number of LFs tested (at most 1).
    p_sum : float
        p-value of the summed statistics with the summed degrees of freedom.
    n_tested : int
        LFs tested (those that vote).
    valid : bool
        Whether every LF's table is large enough for the chi-square law (Cochran's rule, after
        pooling sparse categories); where it is not, the p-values are nan and the screen keeps nothing.
    """

    p_any: float
    p_sum: float
    n_tested: int
    valid: bool = True

    def rejects(self, alpha: float) -> bool:
        """Whether independence cannot be kept at level ``alpha``: either test rejects it, or some
        table is too small to test (``valid`` False)."""
        return not (self.valid and self.p_any > alpha and (self.p_sum > alpha or not SUMMED))


def _categories(C: np.ndarray) -> np.ndarray:
    """(N,) category of each vote count row of ``C`` (N, k): its unique top class, else ``k`` (a tie,
    or no vote).

    Column by column (k passes of N for the top, k for the ties): the reductions along short rows
    (``max``, ``count_nonzero`` and ``argmax`` over axis 1) cost more for a few classes (1e5 rows,
    medians of 15: 6.3 against 2.2 ms for k = 2, 6.8 against 2.0 for k = 3, about the same for k = 10).
    """
    k = C.shape[1]
    top = C[:, 0].copy()
    for j in range(1, k):
        np.maximum(top, C[:, j], out=top)
    out = np.full(len(C), k, dtype=np.intp)
    n_top = np.zeros(len(C), dtype=np.intp)
    at = np.empty(len(C), dtype=bool)
    for j in range(k - 1, -1, -1):  # the last one written is the first top class, as argmax's
        np.equal(C[:, j], top, out=at)
        n_top += at
        np.copyto(out, j, where=at)
    np.copyto(out, k, where=(n_top != 1) | (top <= 0))
    return out


def firing_tables(unique: RowSummary) -> np.ndarray:
    """(m, 2, k + 1) counted rows by an LF's firing (votes, abstains) and the other LFs' category.

    Parameters
    ----------
    unique : RowSummary
        Distinct rows (R, m) and their counts (R,).
    """
    R, m = unique.rows.shape
    k = unique.cardinality
    K = k + 1
    counts = np.asarray(unique.counts, dtype=np.float64)
    r, i, a = summary_votes(unique)
    C = class_counts(r, a, R, k)
    row_cat = _categories(C)
    # an LF that abstains on a row leaves the row's votes to the others; one that votes, all but its own
    others = C[r]
    others[np.arange(len(r)), a] -= 1
    w = counts[r]
    fire = np.bincount(i * K + _categories(others), weights=w, minlength=m * K).reshape(m, K)
    voted = np.bincount(i * K + row_cat[r], weights=w, minlength=m * K).reshape(m, K)
    every = np.bincount(row_cat, weights=counts, minlength=K)
    return np.maximum(np.stack([fire, every[None, :] - voted], axis=1), 0.0)  # (rounding)


def _pooled(T: np.ndarray) -> np.ndarray:
    """(m, 2, K + 1) tables whose columns with an expected count below :data:`MIN_EXPECTED` are pooled
    into one last column (their own columns emptied; categories fixed before the test keep its law)."""
    rows, cols = T.sum(axis=2), T.sum(axis=1)
    total = np.maximum(T.sum(axis=(1, 2)), 1e-300)
    small = (rows.min(axis=1)[:, None] * cols / total[:, None]) < MIN_EXPECTED  # (m, K)
    out = np.concatenate([T, np.zeros((*T.shape[:2], 1))], axis=2)
    out[:, :, -1] = (T * small[:, None, :]).sum(axis=2)
    out[:, :, :-1] *= ~small[:, None, :]
    return out


def coverage_screen(unique: RowSummary) -> CoverageScreen:
    """Pearson's chi-square tests of each LF's firing against the other LFs' votes (module docstring).

    Parameters
    ----------
    unique : RowSummary

    Returns
    -------
    CoverageScreen
        With ``valid`` False where some LF's table is too small for the chi-square law (its
        p-values are then not read).
    """
    from scipy.special import chdtrc  # the chi-square law's upper tail

    voting = np.flatnonzero((unique.rows >= 0).any(axis=0))
    T = _pooled(firing_tables(unique)[voting])
    total = T.sum(axis=(1, 2))
    rows, cols = T.sum(axis=2), T.sum(axis=1)
    df = (np.count_nonzero(rows > 0, axis=1) - 1) * (np.count_nonzero(cols > 0, axis=1) - 1)
    E = rows[:, :, None] * cols[:, None, :] / np.maximum(total, 1e-300)[:, None, None]
    used = (rows[:, :, None] > 0) & (cols[:, None, :] > 0)
    # Cochran's rule for the chi-square law (Agresti 2013, section 3.2): no expected count below 1,
    # at most a fifth of them below 5
    low = (used & (E < MIN_EXPECTED)).sum(axis=(1, 2)) > 0.2 * used.sum(axis=(1, 2))
    valid = bool(len(voting)) and not (low | (used & (E < 1.0)).any(axis=(1, 2)) | (df <= 0)).any()
    if not valid:
        return CoverageScreen(float("nan"), float("nan"), len(voting), False)
    stat = (np.where(used, (T - E) ** 2, 0.0) / np.where(used, E, 1.0)).sum(axis=(1, 2))
    p = chdtrc(df, stat)
    n = len(voting)
    return CoverageScreen(float(min(1.0, p.min() * n)), float(chdtrc(df.sum(), stat.sum())), n, True)
