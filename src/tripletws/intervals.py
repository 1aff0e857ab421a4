"""Confidence intervals for learned LF accuracies and the class balance.

A bootstrap over row chunks of the mergeable statistics: the rows are read once,
in ``n_chunks`` contiguous chunks, and each chunk's :class:`~tripletws.stats.LabelStats`
is kept.  A bootstrap replicate draws ``n_chunks`` chunks with replacement, sums
their statistics (a weighted sum of small tables, no pass over rows) and solves
the model again in closed form.  The interval of each quantity is the percentile
interval of its replicates.

Resampling chunks rather than rows is the block bootstrap: it is valid when the
rows are independent (then the chunks are too) and also covers dependence inside a
chunk.  Rows should be in no particular order (shuffled or in arrival order);
chunks sorted by class would inflate the intervals.  The refits are closed-form
only (no EM, no majority check), so the intervals describe the closed-form
estimate's sampling spread.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .matrix import check_label_matrix
from .stats import LabelStats, compute_stats

#: Default number of row chunks (the bootstrap's resampling units).
DEFAULT_CHUNKS = 100
#: Default number of bootstrap replicates.
DEFAULT_BOOT = 200


@dataclass
class ConfidenceIntervals:
    """Percentile bootstrap intervals of a fitted label model.

    Attributes
    ----------
    level : float
        Nominal coverage, e.g. 0.95.
    n_boot : int
        Replicates that solved (failed solves are left out).
    n_chunks : int
        Row chunks resampled.
    accuracy, accuracy_low, accuracy_high : ndarray, shape (m,)
        Point estimate ``P(LF right | LF votes)`` and its interval.
    class_balance, class_balance_low, class_balance_high : ndarray, shape (k,)
        Point estimate of the fitted class balance and its interval (zero width
        when the class balance was given rather than estimated).
    """

    level: float
    n_boot: int
    n_chunks: int
    accuracy: np.ndarray
    accuracy_low: np.ndarray
    accuracy_high: np.ndarray
    class_balance: np.ndarray
    class_balance_low: np.ndarray
    class_balance_high: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (arrays as lists)."""
        return {
            "level": self.level,
            "n_boot": self.n_boot,
            "n_chunks": self.n_chunks,
            **{
                name: getattr(self, name).tolist()
                for name in (
                    "accuracy",
                    "accuracy_low",
                    "accuracy_high",
                    "class_balance",
                    "class_balance_low",
                    "class_balance_high",
                )
            },
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], m: int, k: int) -> ConfidenceIntervals:
        """Validate field by field (shapes (m,) and (k,), values in [0, 1], low <= high)."""
        level = float(d["level"])
        if not 0.0 < level < 1.0:
            raise ValueError(f"intervals: level must lie in (0, 1), got {level}")
        arrays = {}
        for prefix, size in (("accuracy", m), ("class_balance", k)):
            for suffix in ("", "_low", "_high"):
                name = prefix + suffix
                a = np.asarray(d[name], dtype=np.float64)
                if a.shape != (size,):
                    raise ValueError(f"intervals: {name} must have shape ({size},), got {a.shape}")
                if not np.all(np.isfinite(a)) or a.min(initial=0.0) < 0.0 or a.max(initial=0.0) > 1.0:
                    raise ValueError(f"intervals: {name} must hold probabilities in [0, 1]")
                arrays[name] = a
            if np.any(arrays[prefix + "_low"] > arrays[prefix + "_high"]):
                raise ValueError(f"intervals: {prefix}_low exceeds {prefix}_high")
        n_boot, n_chunks = int(d["n_boot"]), int(d["n_chunks"])
        if n_boot < 1 or n_chunks < 2:
            raise ValueError(f"intervals: need n_boot >= 1 and n_chunks >= 2, got {n_boot}, {n_chunks}")
        return cls(level=level, n_boot=n_boot, n_chunks=n_chunks, **arrays)

    @property
    def accuracy_halfwidth(self) -> np.ndarray:
        """Half the interval width per LF, shape (m,)."""
        return (self.accuracy_high - self.accuracy_low) / 2.0


def chunk_stats(
    L: Any, cardinality: int, n_chunks: int, *, joint: bool = False, triple: bool = False
) -> list[LabelStats]:
    """Statistics of ``n_chunks`` contiguous row chunks of ``L`` (one pass over the rows).

    Returns
    -------
    list of LabelStats whose sum is ``compute_stats(L, ...)``.
    """
    lm = check_label_matrix(L, cardinality, min_lfs=3)
    if n_chunks < 2:
        raise ValueError(f"n_chunks must be at least 2, got {n_chunks}")
    if lm.n < n_chunks:
        raise ValueError(f"L has {lm.n} rows, fewer than n_chunks={n_chunks}")
    size = -(-lm.n // n_chunks)
    return [
        compute_stats(block, lm.cardinality, joint=joint, triple=triple)
        for _, block in lm.chunks(size, release_pages=False)
    ]


def _stack(parts: list[LabelStats]) -> dict[str, np.ndarray | None]:
    out: dict[str, np.ndarray | None] = {"n_rows": np.array([p.n_rows for p in parts])}
    for name in ("class_counts", "covote", "agree", "joint", "triple"):
        values = [getattr(p, name) for p in parts]
        out[name] = None if any(v is None for v in values) else np.stack(values)
    return out


def _weighted(stacked: dict[str, np.ndarray | None], w: np.ndarray, k: int) -> LabelStats:
    def mix(name: str) -> np.ndarray | None:
        a = stacked[name]
        return None if a is None else np.tensordot(w, a, axes=1)

    return LabelStats(
        cardinality=k,
        n_rows=float(w @ stacked["n_rows"]),
        class_counts=mix("class_counts"),
        covote=mix("covote"),
        agree=mix("agree"),
        joint=mix("joint"),
        triple=mix("triple"),
    )


def _refit(
    model: Any, stats: LabelStats, prior: np.ndarray | None, deps: list, overruled: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Accuracies and fitted class balance of ``model``'s settings solved from ``stats``."""
    if overruled:
        from .estimators.class_conditional import symmetric_fallback
        from .params import LabelModelParams

        params = symmetric_fallback(stats, prior, model.eps, model.solver)
        return LabelModelParams(params.class_balance, params.cond_probs).accuracies, params.class_balance
    refit = type(model)(**{**model.get_params(), "verbose": False, "em_steps": 0})
    refit.fit_stats(stats, class_balance=prior, dependencies=deps)
    return refit.accuracies_, refit.fit_class_balance_


def bootstrap_intervals(
    model: Any,
    L: Any,
    *,
    level: float = 0.95,
    n_boot: int = DEFAULT_BOOT,
    n_chunks: int = DEFAULT_CHUNKS,
    random_state: Any = None,
) -> ConfidenceIntervals:
    """Percentile intervals for ``model.accuracies_`` and the fitted class balance.

    Parameters
    ----------
    model : fitted LabelModel
        Its settings (and a given class balance, and declared dependencies) are
        reused by every refit; the model itself is not changed.
    L : label matrix, shape (n, m)
        The rows the model was fitted on (n >= n_chunks).
    level : float
        Nominal coverage in (0, 1).
    n_boot : int
        Bootstrap replicates (each one closed-form solve).
    n_chunks : int
        Row chunks to resample (at least 2; 50 to 200 works well).
    random_state : int or numpy Generator, optional

    Returns
    -------
    ConfidenceIntervals
    """
    model._check_fitted()
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise ValueError(f"n_boot must be an integer >= 2, got {n_boot!r}")
    from .settings import check_settings

    k = int(model.cardinality)
    cc = model.model == "class_conditional"
    settings = check_settings(model.get_params())
    needs = settings.solver.needs(settings.options, int(model.n_lfs_))
    parts = chunk_stats(L, k, int(n_chunks), joint=needs.joint, triple=needs.triple)
    m = parts[0].n_lfs
    if m != model.n_lfs_:
        raise ValueError(f"L has {m} LFs (columns) but the model was fitted on {model.n_lfs_}")
    stacked = _stack(parts)
    given = model.class_balance_source_ in ("given", "Y_dev")
    prior = model.fit_class_balance_ if given else None
    deps = [tuple(e) for e in np.asarray(model.dependencies_).tolist()]
    # the majority check (it needs the rows) replaced the class-conditional fit by the
    # symmetric solution: the replicates take the same path
    overruled = cc and float(getattr(model, "overrule_rate_", np.nan)) > model.max_overrule
    rng = np.random.default_rng(random_state)
    c = len(parts)
    accs, balances = [], []
    for _ in range(n_boot):
        w = rng.multinomial(c, np.full(c, 1.0 / c)).astype(np.float64)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                acc, balance = _refit(model, _weighted(stacked, w, k), prior, deps, overruled)
        except (ValueError, np.linalg.LinAlgError):
            continue
        accs.append(acc)
        balances.append(balance)
    if len(accs) < 2:
        raise ValueError("fewer than 2 bootstrap replicates could be solved; use more rows or chunks")
    tail = (1.0 - level) / 2.0 * 100.0
    A, B = np.asarray(accs), np.asarray(balances)
    a_lo, a_hi = np.percentile(A, [tail, 100.0 - tail], axis=0)
    b_lo, b_hi = np.percentile(B, [tail, 100.0 - tail], axis=0)
    return ConfidenceIntervals(
        level=float(level),
        n_boot=len(accs),
        n_chunks=c,
        accuracy=np.asarray(model.accuracies_, dtype=np.float64).copy(),
        accuracy_low=np.clip(a_lo, 0.0, 1.0),
        accuracy_high=np.clip(a_hi, 0.0, 1.0),
        class_balance=np.asarray(model.fit_class_balance_, dtype=np.float64).copy(),
        class_balance_low=np.clip(b_lo, 0.0, 1.0),
        class_balance_high=np.clip(b_hi, 0.0, 1.0),
    )
