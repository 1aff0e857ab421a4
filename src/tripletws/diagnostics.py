"""Diagnostics of a fitted label model against the data.

:func:`dependency_candidates` flags LF pairs that agree more (or less) often than
the fitted model predicts: likely undeclared dependencies.  Under the symmetric
model, LFs i and j that both vote agree with probability

    E[A_ij] = (1 + (k - 1) b_i b_j) / k,    b_i = (k alpha_i - 1) / (k - 1),

so with ``N_ij`` co-votes the observed rate has standard error
``sqrt(E[A_ij] (1 - E[A_ij]) / N_ij)`` and ``z = (A_ij - E[A_ij]) / se``.  A pair
sharing its errors shows a large positive z.  p-values are two-sided normal
approximations; ``p_adjusted`` multiplies by the number of pairs tested
(Bonferroni).

:func:`cofiring_candidates` covers the pairs that test cannot read: two LFs that each vote one
class only always agree (the same class) or never do (different classes), whatever their
accuracies.  What such a pair tells is *when* both fire.  Let LF i fire with probability
``a_i`` on rows of its class ``c_i`` and ``b_i`` on the others.  If the LFs are conditionally
independent given the class, two LFs naming different classes fire together with probability
``P(both) = P(i) P(j) + Cov(a_i(Y), a_j(Y))``, and

    Cov(a_i(Y), a_j(Y)) = -(a_i - b_i) (a_j - b_j) p_{c_i} p_{c_j} <= 0

wherever both fire more often on their own class than elsewhere (``a > b``, what an LF is
written to do).  So such a pair fires together *at most* as often as two independent coins
would.  A significant excess (one-sided) says that either the two share something beyond the
class (a feature, a kind of row) or one of them fires more often on the other's class.  No fit is
needed: the statistic is Pearson's for the pair's 2 x 2 table of firing,
``z = sqrt(n) phi`` with ``phi = (P(both) - P(i) P(j)) / sqrt(P(i) (1 - P(i)) P(j) (1 - P(j)))``
(``z**2`` is the table's chi-square statistic; Agresti, *Categorical Data Analysis*, 3rd ed., 2013,
section 2.4), read against the normal law's upper tail, Bonferroni over the pairs tested.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from .dependencies import dependency_mask
from .lf_names import check_fitted_names
from .stats import LabelStats, compute_stats
from .validate import check_int

COFIRING_COLUMNS = (
    "lf_i",
    "lf_j",
    "class_i",
    "class_j",
    "n_rows",
    "cofiring",
    "expected",
    "excess",
    "z",
    "p_value",
    "p_adjusted",
    "suspect",
    "declared",
)

COLUMNS = (
    "lf_i",
    "lf_j",
    "n_covotes",
    "agreement",
    "expected",
    "excess",
    "z",
    "p_value",
    "p_adjusted",
    "suspect",
    "declared",
)


def _model_accuracies(model: Any) -> np.ndarray:
    if not hasattr(model, "accuracies_"):
        raise ValueError(f"model must be a fitted label model, got {type(model).__name__}")
    try:
        accuracies = np.asarray(model.accuracies_, dtype=np.float64)
    except RuntimeError as exc:  # not fitted
        raise ValueError(str(exc)) from exc
    from .estimators.symmetric import SymmetricEstimate, estimate_symmetric

    if hasattr(model, "stats_") and not isinstance(getattr(model, "estimate_", None), SymmetricEstimate):
        # the test is against the symmetric model's agreement: solve it from the same statistics
        # (the class-conditional and annotator tables absorb part of an undeclared dependency)
        return estimate_symmetric(model.stats_, model.solver, eps=model.eps).accuracies
    return accuracies


def _declared(model: Any, m: int) -> np.ndarray:
    edges = getattr(model, "dependencies_", None)
    return dependency_mask(np.asarray(edges if edges is not None else [], dtype=np.int64).reshape(-1, 2), m)


def _two_sided_p(z: np.ndarray) -> np.ndarray:
    """Two-sided normal p-values ``erfc(|z| / sqrt(2))``, elementwise.

    One ``scipy.special.erfc`` call over all the pairs (the per-pair ``math.erfc`` loop it replaces
    agrees to about 1e-13 relative); the few values it rounds to 0 where ``math.erfc`` still gives a
    subnormal number (``|z|`` past about 37.5) are taken from ``math.erfc``, as before.

    Parameters
    ----------
    z : ndarray of float64, shape (n_pairs,)

    Returns
    -------
    ndarray of float64, shape (n_pairs,)
    """
    from scipy.special import erfc

    p = erfc(np.abs(z) / math.sqrt(2.0))
    under = np.flatnonzero((p == 0.0) & np.isfinite(z))
    for i in under.tolist():
        p[i] = math.erfc(abs(float(z[i])) / math.sqrt(2.0))
    return p


def _check_level(alpha: Any, top: Any) -> int | None:
    """Validate the family-wise level and the row limit shared by the two tests; returns ``top``."""
    if top is not None:  # a slice would take top=-1 as "all but the last pair"
        top = check_int(top, "top", 1)
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}")
    return top


def _fitted_k(model: Any) -> int:
    """The classes of the model's fit (set_params may have changed the setting since the fit)."""
    fitted = getattr(model, "_fitted_cardinality", None)
    return int(fitted() if callable(fitted) else model.cardinality)


def _stats_of(data: Any, model: Any, k: int) -> LabelStats:
    """The statistics to test: ``model.stats_`` for ``data=None``, a ``LabelStats`` as given, else
    those of the label matrix (its columns checked against the fit's LF names)."""
    if data is not None and not isinstance(data, LabelStats):
        check_fitted_names(model, data, name="data")  # the columns in the fit's order
    if data is None:
        stats = getattr(model, "stats_", None)
        if stats is None:
            raise ValueError("data is None and the model holds no statistics; pass the label matrix")
        return stats
    if isinstance(data, LabelStats):
        return data
    return compute_stats(data, k)


def _table(
    names: tuple[str, ...], columns: tuple[np.ndarray, ...], n_rows: int, as_frame: bool | None
) -> Any:
    """The test's rows as a DataFrame (default when pandas is installed) or a list of dicts.

    ``columns`` are in table order already: ints, float64 and bools, turned into Python values
    (``tolist``) zipped into one dict per pair, or into the frame's columns."""
    if as_frame is not False:
        try:
            import pandas as pd
        except ImportError as exc:
            if as_frame:
                raise ImportError("as_frame=True needs pandas: pip install 'tripletws[pandas]'") from exc
        else:
            if not n_rows:  # the frame of no rows, as pandas makes it (object columns)
                return pd.DataFrame([], columns=list(names))
            return pd.DataFrame(dict(zip(names, columns, strict=True)), columns=list(names))
    return [
        dict(zip(names, values, strict=True)) for values in zip(*(c.tolist() for c in columns), strict=True)
    ]


# Over 60 lines: one pass of argument checks, the per-pair test and the table, kept together so the
# statistics of the test can be read top to bottom; the pieces are not used elsewhere.
def dependency_candidates(
    data: Any,
    model: Any,
    *,
    alpha: float = 0.05,
    min_covotes: int = 10,
    include_declared: bool = False,
    top: int | None = None,
    as_frame: bool | None = None,
) -> Any:
    """LF pairs whose agreement departs from the fitted model more than sampling explains.

    Parameters
    ----------
    data : label matrix (n, m), LabelStats, or None
        The votes to test (usually the training matrix); ``None`` uses the
        model's running statistics (``model.stats_``: the rows it was fitted on, and in a stream
        whose solves are spaced also those waiting for the next solve, ``pending_rows_``).
    model : fitted LabelModel or SequenceLabelModel
        Supplies the accuracies (and the declared dependencies).  For a model that
        is not symmetric (the default annotator, the class-conditional model), the
        symmetric model is solved from the statistics it was fitted on, and its
        accuracies are used.
    alpha : float
        Family-wise level for the ``suspect`` flag (Bonferroni over the pairs tested).
    min_covotes : int
        Pairs with fewer co-votes are not tested.
    include_declared : bool
        Also list the declared dependencies (their expected agreement is the
        conditionally independent one, so their z measures the declared coupling).
    top : int, optional
        Keep only the first ``top`` rows (at least 1).
    as_frame : bool, optional
        Return a pandas DataFrame (default when pandas is installed) or a list of dicts.

    Returns
    -------
    DataFrame or list of dict
        One row per tested pair, sorted by z (most excess agreement first), with
        columns ``lf_i, lf_j, n_covotes, agreement, expected, excess, z, p_value,
        p_adjusted, suspect, declared``.  Pairs of LFs that each vote one class only
        are skipped (their agreement is fixed by construction).
    """
    check_int(min_covotes, "min_covotes", 0)
    top = _check_level(alpha, top)
    alpha_lf = _model_accuracies(model)
    k = _fitted_k(model)
    stats = _stats_of(data, model, k)
    m = stats.n_lfs
    if stats.cardinality != k or len(alpha_lf) != m:
        raise ValueError(f"data has m={m}, k={stats.cardinality} but the model has m={len(alpha_lf)}, k={k}")
    b = (k * alpha_lf - 1.0) / (k - 1.0)
    N = stats.covote
    single = one_class_labels(stats) >= 0
    declared = _declared(model, m)
    iu, ju = np.triu_indices(m, k=1)
    keep = (N[iu, ju] >= max(min_covotes, 1)) & ~(single[iu] & single[ju])
    if not include_declared:
        keep &= ~declared[iu, ju]
    iu, ju = iu[keep], ju[keep]
    n_co = N[iu, ju]
    observed = stats.agree[iu, ju] / n_co
    expected = np.clip((1.0 + (k - 1.0) * b[iu] * b[ju]) / k, 1e-12, 1.0 - 1e-12)
    se = np.sqrt(expected * (1.0 - expected) / n_co)
    z = (observed - expected) / se
    p = _two_sided_p(z)
    p_adj = np.minimum(1.0, p * max(len(z), 1))
    order = np.argsort(-z, kind="stable")
    if top is not None:
        order = order[:top]
    # the table's columns in pair order: ints, float64 and bools (the types the row-by-row int(),
    # float() and bool() gave)
    columns = (
        iu[order].astype(np.int64),
        ju[order].astype(np.int64),
        n_co[order].astype(np.float64),
        observed[order].astype(np.float64),
        expected[order].astype(np.float64),
        (observed - expected)[order].astype(np.float64),
        z[order].astype(np.float64),
        p[order],
        p_adj[order],
        np.asarray(p_adj[order] < alpha, dtype=bool),
        declared[iu, ju][order],
    )
    return _table(COLUMNS, columns, len(order), as_frame)


def one_class_labels(stats: LabelStats) -> np.ndarray:
    """The class each LF votes where it votes one class only, else -1, shape (m,)."""
    voted = stats.class_counts > 0
    return np.where(voted.sum(axis=1) == 1, voted.argmax(axis=1), -1)


@dataclass(frozen=True)
class CofiringPairs:
    """The co-firing test's pairs (one-class LFs naming different classes), shape (P,) each."""

    lf_i: np.ndarray
    lf_j: np.ndarray
    class_i: np.ndarray
    class_j: np.ndarray
    both: np.ndarray
    expected: np.ndarray
    z: np.ndarray
    n_rows: float

    def p_value(self) -> np.ndarray:
        """One-sided (upper-tail) normal p-values of ``z``: an excess only contradicts the model."""
        from scipy.special import ndtr

        return ndtr(-self.z)

    def p_adjusted(self, p: np.ndarray | None = None) -> np.ndarray:
        """The p-values (``p``, when at hand) times the pairs tested (Bonferroni), at most 1."""
        return np.minimum(1.0, (self.p_value() if p is None else p) * max(len(self.z), 1))


def cofiring_pairs(
    stats: LabelStats, min_expected: float = 5.0, skip: np.ndarray | None = None
) -> CofiringPairs:
    """The pairs :func:`cofiring_candidates` tests, and their statistics, from the running statistics.

    Parameters
    ----------
    stats : LabelStats
        ``class_counts`` (m, k), ``covote`` (m, m) and ``n_rows``.
    min_expected : float
        Pairs expected to fire together on fewer rows under independence are left out.
    skip : ndarray of bool, shape (m, m), optional
        Pairs left out (the declared dependencies).
    """
    n = float(stats.n_rows)
    label = one_class_labels(stats)
    cover = np.asarray(stats.class_counts, dtype=np.float64).sum(axis=1) / max(n, 1.0)
    # only LFs that can be in a tested pair (one class; enough firing with the most covering partner):
    # a crowd of thousands of annotators seen a few times each pairs few of them
    top = float(cover[label >= 0].max()) if (label >= 0).any() else 0.0
    lfs = np.flatnonzero((label >= 0) & (cover < 1.0) & (n * cover * top >= float(min_expected)))
    a, b = np.triu_indices(len(lfs), k=1)
    iu, ju = lfs[a], lfs[b]
    keep = (label[iu] != label[ju]) & (n * cover[iu] * cover[ju] >= float(min_expected))
    if skip is not None:
        keep &= ~skip[iu, ju]
    iu, ju = iu[keep], ju[keep]
    both = np.asarray(stats.covote, dtype=np.float64)[iu, ju] / max(n, 1.0)
    expected = cover[iu] * cover[ju]
    spread = np.sqrt(cover[iu] * (1.0 - cover[iu]) * cover[ju] * (1.0 - cover[ju]))
    z = math.sqrt(n) * (both - expected) / spread
    return CofiringPairs(iu, ju, label[iu], label[ju], both, expected, z, n)


def cofiring_candidates(
    data: Any,
    model: Any,
    *,
    alpha: float = 0.05,
    min_expected: float = 5.0,
    include_declared: bool = False,
    top: int | None = None,
    as_frame: bool | None = None,
) -> Any:
    """Pairs of one-class LFs naming different classes that fire together more often than chance.

    Under conditional independence given the class, two LFs that each fire more often on the class
    they name fire together at most as often as two independent coins with their coverages would
    (module docstring).  A significant excess says that the pair shares something beyond the class
    (a feature, a kind of row), or that one of the two fires more often on the other's class.  The
    agreement test of :func:`dependency_candidates` cannot read such pairs: their votes never agree.

    Parameters
    ----------
    data : label matrix (n, m), LabelStats, or None
        The votes to test; ``None`` uses the model's running statistics (``model.stats_``).
    model : fitted LabelModel or SequenceLabelModel
        Supplies the classes and the declared dependencies; no fitted parameter enters the test.
    alpha : float
        Family-wise level for the ``suspect`` flag (Bonferroni over the pairs tested).
    min_expected : float
        Pairs whose expected co-firing rows under independence, ``n P(i) P(j)``, fall below this are
        not tested (the normal law of ``z`` needs a few; 5 is Cochran's rule for the 2 x 2 table).
    include_declared : bool
        Also list the declared dependencies.
    top : int, optional
        Keep only the first ``top`` rows (at least 1).
    as_frame : bool, optional
        Return a pandas DataFrame (default when pandas is installed) or a list of dicts.

    Returns
    -------
    DataFrame or list of dict
        One row per tested pair, sorted by z (most excess co-firing first), with columns ``lf_i,
        lf_j, class_i, class_j, n_rows, cofiring, expected, excess, z, p_value, p_adjusted, suspect,
        declared``: ``cofiring`` is the share of the rows on which both vote, ``expected`` the product
        of their coverages, ``z = sqrt(n) phi`` (phi: the pair's correlation of firing), ``p_value`` its
        one-sided upper tail.
    """
    if isinstance(min_expected, bool) or not isinstance(min_expected, numbers.Real) or not min_expected >= 0:
        raise ValueError(f"min_expected must be a number >= 0, got {min_expected!r}")
    top = _check_level(alpha, top)
    try:
        m_fit = len(model.accuracies_)
    except (AttributeError, RuntimeError) as exc:
        raise ValueError(f"model must be a fitted label model, got {type(model).__name__}") from exc
    k = _fitted_k(model)
    stats = _stats_of(data, model, k)
    m = stats.n_lfs
    if stats.cardinality != k or m != m_fit:
        raise ValueError(f"data has m={m}, k={stats.cardinality} but the model has m={m_fit}, k={k}")
    declared = _declared(model, m)
    pairs = cofiring_pairs(stats, min_expected, None if include_declared else declared)
    z = pairs.z
    p = pairs.p_value()
    p_adj = pairs.p_adjusted(p)
    order = np.argsort(-z, kind="stable")
    if top is not None:
        order = order[:top]
    columns = (
        pairs.lf_i[order].astype(np.int64),
        pairs.lf_j[order].astype(np.int64),
        pairs.class_i[order].astype(np.int64),
        pairs.class_j[order].astype(np.int64),
        np.full(len(order), pairs.n_rows, dtype=np.float64),
        pairs.both[order],
        pairs.expected[order],
        (pairs.both - pairs.expected)[order],
        z[order],
        p[order],
        p_adj[order],
        np.asarray(p_adj[order] < alpha, dtype=bool),
        declared[pairs.lf_i, pairs.lf_j][order],
    )
    return _table(COFIRING_COLUMNS, columns, len(order), as_frame)


def untested_pairs(stats: LabelStats, min_covotes: int = 10) -> dict[str, int]:
    """Why LF pairs are not tested by :func:`dependency_candidates`, counted.

    Returns
    -------
    dict
        ``few_covotes``: pairs with fewer than ``min_covotes`` rows on which both vote;
        ``one_class``: pairs with enough co-votes whose LFs both vote one class only (their
        agreement is fixed by construction); ``other_class``: the one-class pairs, with enough
        co-votes or not, whose LFs name different classes (:func:`cofiring_candidates` tests them).
    """
    m = stats.n_lfs
    iu, ju = np.triu_indices(m, k=1)
    enough = stats.covote[iu, ju] >= max(min_covotes, 1)
    label = one_class_labels(stats)
    both_single = (label[iu] >= 0) & (label[ju] >= 0)
    return {
        "few_covotes": int((~enough).sum()),
        "one_class": int((enough & both_single).sum()),
        "other_class": int((both_single & (label[iu] != label[ju])).sum()),
    }
