"""Whether the LFs' firing shows the classes at all: a screen before the readings of one-class LFs.

Where LFs that vote one class only cast most of the votes, the default reads their abstentions
(the coverage reading, :mod:`tripletws.estimators.coverage_check`, or the abstain reading,
:mod:`tripletws.estimators.abstain_check`): it estimates how much more often each LF fires on its
class than on the others, and a row without any vote goes to the class whose LFs fire least.
Under the model those readings fit (the LFs independent given the class) that difference is what
makes two LFs' firing co-vary: with two classes, the covariance of the firing indicators of LFs
``i`` and ``j`` is ``pi_0 pi_1 d_i d_j``, ``d_i`` being the LF's rate on the class it names minus its
rate on the other, the second moment the triplet method reads (Fu et al., "Fast and Three-rious",
ICML 2020).  LFs naming the same class then fire together more often than chance, LFs naming
different classes less often.  Where no pair does so beyond chance, nor the pairs together, the rows
do not identify the differences: a reading's fit rests on its start and its class balance, and the
class it gives the rows without a vote is a coin (near-disjoint keyword LFs: docs/studies.md).

The screen tests independence of firing against that alternative, with no fit.  Every LF's vote for
a class is one *indicator* (an LF voting one class only has one; an LF voting several has one per
class, and its own indicators are not paired, being exclusive by construction); two indicators
naming the same class are expected to co-fire more than chance, two naming different classes less.
Under independent firing (each indicator's firing rows a random set of its size), the number of
rows on which two indicators fire together is hypergeometric with mean ``V_i V_j / n``.  Two tests,
either of which supports a reading:

* **a pair**: each pair's count against its law in the expected direction (the upper tail for the
  same class, the lower tail for different classes), through the binomial law of ``V_j`` draws at
  the rate ``V_i / n`` (sampling with replacement, whose tails are wider than the hypergeometric's:
  Hoeffding, J. Amer. Statist. Assoc. 58, 1963, so the p-values err on the large side), and
  Bonferroni's bound over the pairs at :data:`ALPHA`;
* **the pairs together**: the sum over pairs of the signed excess (observed minus expected; plus
  for the same class, minus for different ones) over its standard deviation under independence,
  one-sided at :data:`Z` (the counts of two distinct pairs are uncorrelated under independent
  firing, so the variance is the sum of the pairs' hypergeometric variances).  Many weak pairs
  (accurate LFs that fire on both classes at close rates, stress problems with 100 LFs) pass here
  where no single pair does.  It is read where its variance is at least :data:`MIN_VARIANCE`.

Both levels are conventions (5 %, and the normal quantile 1.96 the background test uses), not
tuned.  Counted rows are those of the summary the readings fit (a hash sample past its cap: its
patterns vary more than a multinomial's, which only makes the tests support a reading more often).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rows import RowSummary
from .votes import summary_votes

#: Level of the pair test (Bonferroni's bound over the pairs): the usual 5 %, not tuned.
ALPHA = 0.05

#: One-sided bar of the summed test in standard deviations: the normal quantile at 2.5 %, as the
#: background test's :data:`tripletws.estimators.coverage_check.BACKGROUND_Z`.
Z = 1.96

#: The summed test is read only where its variance (about the expected rows on which two indicators
#: fire together, summed over the pairs) is at least this: the expected count under which the
#: chi-square screen pools a category (:data:`tripletws.estimators.coverage_screen.MIN_EXPECTED`), so
#: that the normal law holds.  With fewer, one co-firing of two rare LFs would read as many standard
#: deviations; the pair test's exact tails decide there.
MIN_VARIANCE = 5.0

#: Pairs tested one by one at most (the indicators' pair table is dense): beyond, the summed test alone
#: is read (its sums have closed forms).
MAX_PAIRS = 1_000_000


@dataclass(frozen=True)
class CofiringScreen:
    """The co-firing screen of a summary's vote indicators.

    Attributes
    ----------
    supported : bool
        Whether either test rejects independent firing in the direction the classes imply.
    p_pair : float
        Bonferroni's bound of the pair test (at most 1; nan where the pairs were not tested one by one).
    z_sum : float
        The summed test's statistic (nan where it has no variance: fewer than two indicators firing).
    n_pairs : int
        Pairs of indicators of different LFs.
    """

    supported: bool
    p_pair: float
    z_sum: float
    n_pairs: int

    def reason(self) -> str:
        """Why a reading is not supported, in words (for the model's note)."""
        pair = f"p = {self.p_pair:.2g} by Bonferroni's bound" if np.isfinite(self.p_pair) else "not tested"
        summed = f"z = {self.z_sum:.2f}" if np.isfinite(self.z_sum) else "no variance"
        return (
            "the LFs' firing does not show the classes: no pair of LFs fires together more often than "
            f"chance where they name one class, nor less often where they name different ones ({pair}, "
            f"over {self.n_pairs} pairs), nor do the pairs together ({summed}), so the rows do not "
            "identify how much more often an LF fires on its class, and a reading of abstentions would "
            "give the rows without a vote a class by chance"
        )


def _indicators(unique: RowSummary) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The vote indicators: each vote's indicator (nnz,), its row (nnz,), and per indicator its LF and
    class (I,) each."""
    r, i, a = summary_votes(unique)
    k = unique.cardinality
    cell = i * k + a
    used, ind = np.unique(cell, return_inverse=True)
    return ind.astype(np.int64), r, used // k, used % k


def _summed(
    V: np.ndarray, lf: np.ndarray, cls: np.ndarray, k: int, n: float, signed_observed: float
) -> tuple[float, float, int]:
    """The summed test's z, its variance and the number of pairs, from the indicators' counts ``V`` (I,), their LFs
    and classes, and the signed sum of the observed pair counts: every pair's expectation and variance
    summed in closed form (pairs of one LF's indicators left out)."""

    def pair_sum(w: np.ndarray, groups: np.ndarray, size: int) -> float:
        """Sum of ``w_i w_j`` over pairs i < j within each group."""
        tot, sq = (
            np.bincount(groups, weights=w, minlength=size),
            np.bincount(groups, weights=w * w, minlength=size),
        )
        return float((tot**2 - sq).sum()) / 2

    m = int(lf.max()) + 1
    ones = np.zeros(len(V), dtype=np.int64)
    all_pairs = pair_sum(V, ones, 1) - pair_sum(V, lf, m)
    same = pair_sum(V, cls, k)  # (an LF's own indicators name different classes: none of them here)
    expected = (2 * same - all_pairs) / n
    a = V * (n - V)
    var = (pair_sum(a, ones, 1) - pair_sum(a, lf, m)) / (n * n * (n - 1))
    per_lf = np.bincount(lf, minlength=m)
    n_pairs = (len(V) * (len(V) - 1) - int((per_lf * (per_lf - 1)).sum())) // 2
    z = (signed_observed - expected) / np.sqrt(var) if var > 0 else float("nan")
    return float(z), float(var), n_pairs


def _pair_test(
    V: np.ndarray, lf: np.ndarray, cls: np.ndarray, n: float, pi: np.ndarray, pj: np.ndarray, obs: np.ndarray
) -> float:
    """Bonferroni's bound of the pair test over every pair of indicators of different LFs (unobserved
    pairs count 0, so only their lower tail can be small); ``pi < pj``, ``obs``: the observed pairs."""
    from scipy.special import bdtr, bdtrc

    n_ind = len(V)
    iu, ju = np.triu_indices(n_ind, 1)
    valid = lf[iu] != lf[ju]
    iu, ju = iu[valid], ju[valid]
    if not len(iu):
        return float("nan")
    key = iu * n_ind + ju
    seen = pi * n_ind + pj
    order = np.argsort(seen)
    at = np.searchsorted(seen[order], key)
    hit = (
        (at < len(seen)) & (seen[order][np.minimum(at, len(seen) - 1)] == key)
        if len(seen)
        else np.zeros(len(key), bool)
    )
    k_obs = np.zeros(len(key), dtype=np.int64)
    k_obs[hit] = np.rint(obs[order][at[hit]]).astype(np.int64)
    trials = np.rint(np.minimum(V[iu], V[ju])).astype(np.int64)
    rate = np.clip(np.maximum(V[iu], V[ju]) / n, 0.0, 1.0)
    same = cls[iu] == cls[ju]
    upper = np.where(k_obs >= 1, bdtrc(np.maximum(k_obs - 1, 0), trials, rate), 1.0)  # P(X >= obs)
    p = np.where(same, upper, bdtr(k_obs, trials, rate))  # different classes: P(X <= obs)
    return float(min(1.0, np.nanmin(p) * len(p)))


def cofiring_screen(unique: RowSummary) -> CofiringScreen:
    """Test whether the LFs' firing co-varies as the classes imply (module docstring).

    Parameters
    ----------
    unique : RowSummary
        Distinct rows (R, m) and their counts (R,).

    Returns
    -------
    CofiringScreen
    """
    from scipy import sparse

    counts = np.asarray(unique.counts, dtype=np.float64)
    n = float(counts.sum())
    ind, r, lf, cls = _indicators(unique)
    n_ind = len(lf)
    if n_ind < 2 or n <= 1:
        return CofiringScreen(False, float("nan"), float("nan"), 0)
    F = sparse.csr_matrix((np.ones(len(r)), (r, ind)), shape=(len(counts), n_ind))
    V = np.asarray(F.T @ counts).ravel()  # counted rows each indicator fires on
    co = sparse.triu(F.T @ sparse.diags(counts) @ F, k=1).tocoo()  # rows two indicators fire on together
    keep = lf[co.row] != lf[co.col]
    pi, pj, obs = co.row[keep].astype(np.int64), co.col[keep].astype(np.int64), co.data[keep]
    signed = float(np.where(cls[pi] == cls[pj], 1.0, -1.0) @ obs)
    z_sum, var, n_pairs = _summed(V, lf, cls, unique.cardinality, n, signed)
    if np.isfinite(z_sum) and z_sum >= Z and var >= MIN_VARIANCE:
        return CofiringScreen(True, float("nan"), z_sum, n_pairs)
    if n_pairs > MAX_PAIRS:  # too many pairs to test one by one: the summed test alone
        return CofiringScreen(False, float("nan"), z_sum, n_pairs)
    p_pair = _pair_test(V, lf, cls, n, pi, pj, obs)
    return CofiringScreen(bool(p_pair <= ALPHA), p_pair, z_sum, n_pairs)
