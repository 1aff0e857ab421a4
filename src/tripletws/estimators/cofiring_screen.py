"""Whether the LFs' firing depends on anything at all: a screen before the readings of one-class LFs.

Where LFs that vote one class only cast most of the votes, the default reads their abstentions
(the coverage reading, :mod:`tripletws.estimators.coverage_check`, or the abstain reading,
:mod:`tripletws.estimators.abstain_check`): it estimates how much more often each LF fires on its
class than on the others, and a row without any vote goes to the class whose LFs fire least.
Under the model those readings fit (the LFs independent given the class), that difference is what
makes two LFs' firing co-vary: with two classes, the covariance of the firing indicators of LFs
``i`` and ``j`` is ``pi_0 pi_1 d_i d_j``, ``d_i`` being the LF's rate on the class it names minus
its rate on the other, the second moment the triplet method reads (Fu et al., "Fast and
Three-rious", ICML 2020).  Where the LFs fire independently of each other, every such covariance
is 0 and the rows do not identify the differences: a reading's fit then rests on its start and its
class balance, and the class it gives the rows without a vote is a coin (near-disjoint keyword
LFs: docs/studies.md, "The firing that shows no class").

The screen tests independent firing, with no fit and in either direction (an LF that fires more
on the class it does not name, adversarial, makes its pairs co-vary the other way, and whether the
LFs fire as they are named is the coverage check's orientation test, after the fit).  Every LF's
vote for a class is one *indicator* (an LF voting one class only has one; an LF voting several has
one per class, and its own indicators are not paired, being exclusive by construction).  Under
independent firing (each LF's column of outcomes in a random order of the rows), the number of rows
on which two indicators fire together is hypergeometric with mean ``E = V_i V_j / n``, and the
counts of two different pairs are uncorrelated.  Two tests; either rejecting independence at
:data:`ALPHA` lets the readings be tried:

* **each pair**: the count's two-sided tail (twice the smaller one), under the binomial law of
  ``V_j`` draws at the rate ``V_i / n`` (sampling with replacement, whose tails are wider than the
  hypergeometric's: Hoeffding, J. Amer. Statist. Assoc. 58, 1963, so the p-values err on the large
  side), and Bonferroni's bound over the pairs;
* **the pairs together**: Pearson's statistic ``sum (O - E)^2 / Var`` over the pairs whose expected
  count is at least :data:`MIN_EXPECTED` (where each term follows the chi-square law with one degree
  of freedom), against the chi-square law with as many degrees of freedom as such pairs.  Many weak
  pairs (LFs that fire on both classes at close rates, of either orientation: stress problems with
  80 LFs) reject here where no single pair does.

Both levels are conventions (5 %, and Cochran's expected count of 5 that the chi-square screen of
:mod:`tripletws.estimators.coverage_screen` uses), not tuned.  Counted rows are those of the summary
the readings fit (LF copies counted once: two copies fire together whatever the class; a hash
sample past its cap varies more than a multinomial, which only makes the tests reject more often).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rows import RowSummary
from .votes import summary_votes

#: Level of both tests (the pair test through Bonferroni's bound over the pairs): the usual 5 %.
ALPHA = 0.05

#: Pairs enter the summed test where their expected count of rows fired together is at least this
#: (Cochran's rule for the chi-square law, as :data:`tripletws.estimators.coverage_screen.MIN_EXPECTED`).
MIN_EXPECTED = 5.0

#: One-sided bar of the signed sum (the normal quantile at 2.5 %, as the background test's
#: :data:`tripletws.estimators.coverage_check.BACKGROUND_Z`).
SIGNED_Z = 1.96

#: Pairs of indicators tested at most (their table is dense); beyond, the screen is not read and the
#: readings are tried, as before it (such summaries hold far more co-firing than the screen needs).
MAX_PAIRS = 1_000_000


@dataclass(frozen=True)
class CofiringScreen:
    """The co-firing screen of a summary's vote indicators.

    Attributes
    ----------
    supported : bool
        Whether either test rejects independent firing (or the screen was not read: ``n_pairs`` over
        :data:`MAX_PAIRS`).
    p_pair : float
        Bonferroni's bound of the pair test (at most 1; nan where not read: no pair, or a summed test
        rejected first).
    p_sum : float
        p-value of Pearson's test (nan where not read: no pair expects :data:`MIN_EXPECTED`
        co-firings, or the signed sum rejected first).
    n_pairs : int
        Pairs of indicators of different LFs.
    n_summed : int
        Pairs in the summed test.
    z_signed : float
        The signed sum's statistic (nan where the pairs' variances sum to under :data:`MIN_EXPECTED`,
        or the screen was not read).
    """

    supported: bool
    p_pair: float
    p_sum: float
    n_pairs: int
    n_summed: int = 0
    z_signed: float = float("nan")

    def reason(self) -> str:
        """Why the readings were not tried, in words (for the model's note)."""
        summed = (
            f"Pearson's p = {self.p_sum:.2g} over the {self.n_summed} pairs expected to fire together on "
            f"{MIN_EXPECTED:g} rows or more"
            if np.isfinite(self.p_sum)
            else f"no pair is expected to fire together on {MIN_EXPECTED:g} rows"
        )
        signed = (
            f"the signed sum's z = {self.z_signed:.2f}"
            if np.isfinite(self.z_signed)
            else "too few co-firings expected for the signed sum"
        )
        return (
            "the LFs fire independently of each other as far as the rows tell: no pair of them fires "
            f"together more or less often than chance (p = {self.p_pair:.2g} by Bonferroni's bound over "
            f"{self.n_pairs} pairs), nor do the pairs together ({summed}; {signed}), so the rows do not "
            "identify how much more often an LF fires on its class, and a reading of abstentions would "
            "give the rows without a vote a class by chance"
        )


def _indicators(unique: RowSummary) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The vote indicators: each vote's indicator (nnz,), its row (nnz,), and per indicator its LF and
    class (I,) each."""
    r, i, a = summary_votes(unique)
    k = unique.cardinality
    used, ind = np.unique(i * k + a, return_inverse=True)
    return ind.astype(np.int64), r, used // k, used % k


#: Distinct rows times indicators up to which the co-firing counts come from a dense product (about
#: 30 MB); beyond, from a sparse one (whose set-up costs more than the product on small summaries: 0.6
#: of cdr_metal's 0.9 ms).
DENSE_CELLS = 4_000_000


def _pair_counts(
    unique: RowSummary, ind: np.ndarray, r: np.ndarray, lf: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Every pair of indicators of different LFs: the pairs (i < j) as two arrays, their observed
    co-firing counts, the indicators' counts ``V`` (I,) and the rows counted."""
    counts = np.asarray(unique.counts, dtype=np.float64)
    n_ind = len(lf)
    iu, ju = np.triu_indices(n_ind, 1)
    keep = lf[iu] != lf[ju]
    iu, ju = iu[keep], ju[keep]
    if len(counts) * n_ind <= DENSE_CELLS:
        F = np.zeros((len(counts), n_ind))
        F[r, ind] = 1.0
        V = counts @ F
        return iu, ju, (F.T @ (F * counts[:, None]))[iu, ju], V, float(counts.sum())
    from scipy import sparse

    F = sparse.csr_matrix((np.ones(len(r)), (r, ind)), shape=(len(counts), n_ind))
    V = np.asarray(F.T @ counts).ravel()
    co = sparse.triu(F.T @ sparse.diags(counts) @ F, k=1).tocoo()
    together = np.zeros(len(iu))
    if co.nnz:
        key, seen = iu * n_ind + ju, co.row.astype(np.int64) * n_ind + co.col
        at = np.searchsorted(key, seen)  # (key is sorted: row-major upper triangle)
        found = (at < len(key)) & (key[np.minimum(at, len(key) - 1)] == seen)
        together[at[found]] = co.data[found]
    return iu, ju, together, V, float(counts.sum())


def cofiring_screen(unique: RowSummary) -> CofiringScreen:
    """Test whether the LFs fire independently of each other (module docstring).

    The tests are read cheapest first (the signed sum, Pearson's, then the pairs' binomial tails),
    and the screen stops at the first that rejects (the later ones' p-values are then nan).

    Parameters
    ----------
    unique : RowSummary
        Distinct rows (R, m) and their counts (R,).

    Returns
    -------
    CofiringScreen
    """
    ind, r, lf, cls = _indicators(unique)
    per_lf = np.bincount(lf) if len(lf) else np.zeros(0, dtype=np.int64)
    n_pairs = (len(lf) * (len(lf) - 1) - int((per_lf * (per_lf - 1)).sum())) // 2
    nan = float("nan")
    if n_pairs > MAX_PAIRS:
        return CofiringScreen(True, nan, nan, n_pairs)
    iu, ju, together, V, n = _pair_counts(unique, ind, r, lf)
    if not len(iu) or n <= 1:
        return CofiringScreen(False, nan, nan, 0)
    E = V[iu] * V[ju] / n
    var = V[iu] * V[ju] * (n - V[iu]) * (n - V[ju]) / (n * n * (n - 1))
    # the pairs together in the direction the classes imply (the same class: more; different: less)
    z_signed = nan
    if float(var.sum()) >= MIN_EXPECTED:
        sign = np.where(cls[iu] == cls[ju], 1.0, -1.0)
        z_signed = float(sign @ (together - E)) / float(np.sqrt(var.sum()))
        if z_signed >= SIGNED_Z:
            return CofiringScreen(True, nan, nan, len(iu), 0, z_signed)
    # the pairs together in either direction: Pearson's statistic over the pairs expected to fire
    # together often enough for its chi-square law
    from scipy.special import bdtr, bdtrc, chdtrc

    summed = (E >= MIN_EXPECTED) & (var > 0)
    n_summed = int(summed.sum())
    p_sum = nan
    if n_summed:
        p_sum = float(chdtrc(n_summed, float((((together - E) ** 2)[summed] / var[summed]).sum())))
        if p_sum <= ALPHA:
            return CofiringScreen(True, nan, p_sum, len(iu), n_summed, z_signed)
    # each pair: two-sided, binomial tails (wider than the hypergeometric's), Bonferroni over the pairs
    k_obs = np.rint(together).astype(np.int64)
    trials = np.rint(np.minimum(V[iu], V[ju])).astype(np.int64)
    rate = np.clip(np.maximum(V[iu], V[ju]) / n, 0.0, 1.0)
    upper = np.where(k_obs >= 1, bdtrc(np.maximum(k_obs - 1, 0), trials, rate), 1.0)  # P(X >= obs)
    lower = bdtr(k_obs, trials, rate)  # P(X <= obs)
    p = np.minimum(1.0, 2.0 * np.minimum(upper, lower))
    p_pair = float(min(1.0, np.nanmin(p) * len(p)))
    return CofiringScreen(bool(p_pair <= ALPHA), p_pair, p_sum, len(iu), n_summed, z_signed)
