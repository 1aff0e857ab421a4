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

The screen tests independent firing, with no fit.  Every LF's vote for a class is one *indicator*
(an LF voting one class only has one; an LF voting several has one per class, and its own
indicators are not paired, being exclusive by construction).  Under independent firing (each LF's
column of outcomes in a random order of the rows), the number of rows on which two indicators fire
together is hypergeometric with mean ``E = V_i V_j / n``; the counts of pairs from different pairs
of LFs are uncorrelated, those of one pair of LFs that vote several classes are not (they share the
LFs' margins: ``Cov(N_ij, N_i'j') = V_i (n d_ii' - V_i') V_j (n d_jj' - V_j') / (n^2 (n - 1))``, ``d``
Kronecker's delta).  Three tests, read cheapest first; any one rejecting lets the readings be tried:

* **the signed sum**: every pair's excess (observed minus expected), plus where the two indicators
  name one class and minus where they name different ones (the direction the classes imply), summed
  and divided by its standard deviation (the covariances above included), one-sided at
  :data:`SIGNED_Z` (2.5 %); read where its variance, about the expected co-firings, is at least
  :data:`MIN_EXPECTED` (so that its normal law holds).  Many sparse pairs, none expected to fire
  together on 5 rows, reject here;
* **Pearson's test**, in either direction: for each pair of LFs, the table of their outcomes (each
  class voted, or abstain) and its statistic with ``(r - 1)(c - 1)`` degrees of freedom, summed over
  the pairs of LFs whose every expected cell is at least :data:`MIN_EXPECTED` (Cochran's rule), at
  :data:`ALPHA`.  An LF that fires more on the class it does not name (adversarial) co-varies the
  other way, which the signed sum cancels and this test reads (whether the LFs fire as they are
  named is the coverage check's orientation test, after the fit);
* **each pair of indicators**: the count's two-sided tail (twice the smaller one) under the binomial
  law of ``V_j`` draws at the rate ``V_i / n`` (sampling with replacement, whose far tails are wider
  than the hypergeometric's: Hoeffding, J. Amer. Statist. Assoc. 58, 1963), through Bonferroni's
  bound over the pairs at :data:`ALPHA`: one strong pair of rare LFs.

Under independence the screen lets the readings be tried on at most 12.5 % of summaries (the three
levels added), which errs toward the behaviour before it.  The levels are conventions (5 %, the
background test's 1.96, Cochran's 5), not tuned.  Counted rows are those of the summary the readings
fit (LF copies counted once: two copies fire together whatever the class).  Its counts are read as
rows: a hash sample past the summary's cap keeps whole row patterns, whose tables vary more than a
multinomial's, so the tests reject there more often (the readings are tried); counts scaled down by
an online model's forgetting make them reject less often (the readings are refused more often than the
rows seen would say).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rows import RowSummary
from .votes import summary_votes

#: Level of Pearson's test and of the pair test (through Bonferroni's bound over the pairs): the usual 5 %.
ALPHA = 0.05

#: A pair of LFs enters Pearson's test where every expected cell of its table is at least this, and the
#: signed sum is read where its variance is (Cochran's rule for the chi-square law, as
#: :data:`tripletws.estimators.coverage_screen.MIN_EXPECTED`).
MIN_EXPECTED = 5.0

#: One-sided bar of the signed sum (the normal quantile at 2.5 %, as the background test's
#: :data:`tripletws.estimators.coverage_check.BACKGROUND_Z`).
SIGNED_Z = 1.96

#: Pairs of indicators (of any LFs) tested at most (their table is dense); beyond, the screen is not
#: read and the readings are tried, as before it (such summaries hold far more co-firing than the
#: screen needs).
MAX_PAIRS = 1_000_000


@dataclass(frozen=True)
class CofiringScreen:
    """The co-firing screen of a summary's vote indicators.

    Attributes
    ----------
    supported : bool
        Whether a test rejects independent firing (or the screen was not read: more than
        :data:`MAX_PAIRS` pairs).
    p_pair : float
        Bonferroni's bound of the pair test (at most 1; nan where not read: no pair, or a summed test
        rejected first).
    p_sum : float
        p-value of Pearson's test (nan where not read: no pair of LFs has a large enough table, or
        the signed sum rejected first).
    n_pairs : int
        Pairs of indicators of different LFs.
    n_summed : int
        Pairs of LFs in Pearson's test.
    z_signed : float
        The signed sum's statistic (nan where its variance is under :data:`MIN_EXPECTED`, or the
        screen was not read).
    """

    supported: bool
    p_pair: float
    p_sum: float
    n_pairs: int
    n_summed: int = 0
    z_signed: float = float("nan")

    def reason(self) -> str:
        """Why the readings were not tried, in words (for the model's note)."""
        if self.n_pairs == 0:
            return (
                "no two LFs vote on the rows, so no co-firing identifies how much more often an LF fires "
                "on its class, and a reading of abstentions would give the rows without a vote a class by "
                "chance"
            )
        summed = (
            f"Pearson's p = {self.p_sum:.2g} over the tables of the {self.n_summed} pairs of LFs with "
            f"{MIN_EXPECTED:g} expected rows or more in every cell"
            if np.isfinite(self.p_sum)
            else f"no pair of LFs has {MIN_EXPECTED:g} expected rows in every cell of its table"
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


def _signed_variance(V: np.ndarray, lf: np.ndarray, cls: np.ndarray, k: int, n: float) -> float:
    """Variance of the signed sum under independent firing: ``sum over pairs of LFs a < b of
    trace(S A_a S A_b) / (n^2 (n - 1))``, with ``S = 2 I - J`` (k, k) the signs by class and
    ``A_a = n diag(v_a) - v_a v_a^T``, ``v_a`` (k,) LF a's rows per class voted (the covariances of
    the module docstring summed by class); ``lf`` dense LF ids 0..L-1."""
    L = int(lf.max()) + 1
    v = np.zeros((L, k))
    v[lf, cls] = V
    W = v.sum(axis=1)
    S = 2.0 * np.eye(k) - 1.0
    T = n * np.diag(v.sum(axis=0)) - v.T @ v  # sum of the A_a
    STS = S @ T @ S
    cross = float(np.sum(STS * T))  # trace(S T S T): every ordered pair of LFs, each LF with itself too
    # trace(S A S A) for one LF, expanded: S v = 2 v - W 1 and every entry of S is +-1
    Sv = 2.0 * v - W[:, None]
    own = n * n * W * W - 2.0 * n * np.sum(v * Sv * Sv, axis=1) + (np.sum(v * Sv, axis=1)) ** 2
    return (cross - float(own.sum())) / 2.0 / (n * n * (n - 1.0))


def _pearson(
    V: np.ndarray,
    lf: np.ndarray,
    iu: np.ndarray,
    ju: np.ndarray,
    together: np.ndarray,
    E: np.ndarray,
    n: float,
) -> tuple[float, int]:
    """Pearson's test over the pairs of LFs: each pair's table of outcomes (the classes each votes, and
    abstain), summed over the pairs whose every expected cell is at least :data:`MIN_EXPECTED`; the
    p-value (nan where no pair qualifies) and the number of pairs in it.  ``lf`` dense ids 0..L-1;
    ``iu < ju`` every pair of indicators of different LFs, ``together`` their counts and ``E`` their
    expectations ``V_i V_j / n``."""
    from scipy.special import chdtrc

    n_ind, L = len(V), int(lf.max()) + 1
    W = np.bincount(lf, weights=V, minlength=L)  # rows each LF votes on
    per_lf = np.bincount(lf, minlength=L)
    la, lb = lf[iu], lf[ju]  # la < lb (indicators are ordered by LF)
    pair = la * L + lb
    stat = np.zeros(L * L)
    low = np.full(L * L, np.inf)  # smallest expected cell of each pair's table

    def add(where: np.ndarray, observed: np.ndarray, expected: np.ndarray) -> None:
        ok = expected > 0
        stat[:] += np.bincount(
            where[ok], weights=(observed[ok] - expected[ok]) ** 2 / expected[ok], minlength=L * L
        )
        np.minimum.at(low, where, expected)

    add(pair, together, E)  # a class of each
    # a class of one against the other's abstentions: O = V_i - sum over the other's classes
    by_other = np.bincount(iu * L + lb, weights=together, minlength=n_ind * L)
    by_other += np.bincount(ju * L + la, weights=together, minlength=n_ind * L)
    ind_id, other = np.divmod(np.arange(n_ind * L), L)
    keep = other != lf[ind_id]
    ind_id, other, summed_with = ind_id[keep], other[keep], by_other[keep]
    mine = lf[ind_id]
    add(
        np.minimum(mine, other) * L + np.maximum(mine, other),
        V[ind_id] - summed_with,
        V[ind_id] * (n - W[other]) / n,
    )
    # both abstain
    a_id, b_id = np.divmod(np.arange(L * L), L)
    upper = a_id < b_id
    both = np.bincount(pair, weights=together, minlength=L * L)
    add(
        np.flatnonzero(upper),
        (n - W[a_id] - W[b_id] + both)[upper],
        ((n - W[a_id]) * (n - W[b_id]) / n)[upper],
    )
    valid = upper & (low >= MIN_EXPECTED)
    n_valid = int(valid.sum())
    if not n_valid:
        return float("nan"), 0
    df = float((per_lf[a_id] * per_lf[b_id])[valid].sum())
    return float(chdtrc(df, float(stat[valid].sum()))), n_valid


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
    nan = float("nan")
    n_ind = len(lf)
    every_pair = n_ind * (n_ind - 1) // 2
    if every_pair > MAX_PAIRS:
        return CofiringScreen(True, nan, nan, every_pair)
    lf = np.unique(lf, return_inverse=True)[1].astype(np.int64) if n_ind else lf  # dense LF ids
    iu, ju, together, V, n = _pair_counts(unique, ind, r, lf)
    if not len(iu) or n <= 1:
        return CofiringScreen(False, nan, nan, 0)
    E = V[iu] * V[ju] / n
    # the pairs together in the direction the classes imply (the same class: more; different: less)
    z_signed = nan
    var = _signed_variance(V, lf, cls, unique.cardinality, n)
    if var >= MIN_EXPECTED:
        sign = np.where(cls[iu] == cls[ju], 1.0, -1.0)
        z_signed = float(sign @ (together - E)) / float(np.sqrt(var))
        if z_signed >= SIGNED_Z:
            return CofiringScreen(True, nan, nan, len(iu), 0, z_signed)
    # the pairs of LFs in either direction: Pearson's tables
    p_sum, n_summed = _pearson(V, lf, iu, ju, together, E, n)
    if np.isfinite(p_sum) and p_sum <= ALPHA:
        return CofiringScreen(True, nan, p_sum, len(iu), n_summed, z_signed)
    # each pair: two-sided, binomial tails (wider than the hypergeometric's), Bonferroni over the pairs
    from scipy.special import bdtr, bdtrc

    k_obs = np.rint(together).astype(np.int64)
    trials = np.rint(np.minimum(V[iu], V[ju])).astype(np.int64)
    rate = np.clip(np.maximum(V[iu], V[ju]) / n, 0.0, 1.0)
    upper = np.where(k_obs >= 1, bdtrc(np.maximum(k_obs - 1, 0), trials, rate), 1.0)  # P(X >= obs)
    lower = bdtr(k_obs, trials, rate)  # P(X <= obs)
    p = np.minimum(1.0, 2.0 * np.minimum(upper, lower))
    p_pair = float(min(1.0, np.nanmin(p) * len(p)))
    return CofiringScreen(bool(p_pair <= ALPHA), p_pair, p_sum, len(iu), n_summed, z_signed)
