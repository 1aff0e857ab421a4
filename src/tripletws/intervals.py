"""Confidence intervals for learned LF accuracies and the class balance.

A bootstrap over row chunks of the mergeable data summaries: the rows are read
once, in ``n_chunks`` contiguous chunks, and each chunk's summary (its
:class:`~tripletws.stats.LabelStats`, plus its distinct rows with their counts for
solvers that use rows) is kept.  A bootstrap replicate draws ``n_chunks`` chunks
with replacement, adds their summaries (weighted sums of small tables, no pass
over the rows) and solves the model again with its own solver and settings.  The
interval of each quantity is the percentile interval of its replicates.

Resampling chunks rather than rows is the block bootstrap: it is valid when the
rows are independent (then the chunks are too) and also covers dependence inside a
chunk.  Rows should be in no particular order (shuffled or in arrival order);
chunks sorted by class would inflate the intervals.  The replicates take the
fit's path (the majority check and row-based refinements included, on the
resampled distinct rows).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .lf_names import check_fitted_names
from .matrix import check_label_matrix
from .rows import for_solve
from .stats import LabelStats, compute_stats
from .validate import check_float, check_int, check_mapping

#: Default number of row chunks (the bootstrap's resampling units).
DEFAULT_CHUNKS = 100
#: Default number of bootstrap replicates.
DEFAULT_BOOT = 200
#: Most bootstrap replicates one call draws (each one solve: more would run for hours, and the
#: percentile endpoints gain nothing measurable past a few thousand).
MAX_BOOT = 100_000
#: Said when the model's class balance is its fixed uniform prior (the annotator's default).
UNIFORM_PRIOR_WARNING = (
    "the model kept a uniform class balance (its default prior, or the balance check found no support for "
    "another); when the classes are not balanced "
    "its accuracies carry a bias that these intervals do not include (docs/workflow.md, section 3); "
    "fit LabelModel(class_balance='estimate') (command line: --class-balance estimate), or give a known "
    "class balance (fit(L, class_balance=[...])), before computing intervals"
)


def level_text(level: float) -> str:
    """The nominal coverage as a percentage, as written (0.95: "95%", 0.975: "97.5%", 0.999: "99.9%").

    Rounding to whole percents showed a 99.9 % interval as "100%" and a 97.5 % one as "98%".
    """
    return f"{100.0 * float(level):.6g}%"


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
        Point estimate ``P(LF right | LF votes)`` (under the model's fitted class
        balance) and its interval; the interval is NaN for an LF the model does
        not identify (see ``identified``).
    class_balance, class_balance_low, class_balance_high : ndarray, shape (k,)
        Point estimate of the fitted class balance and its interval (zero width
        when the class balance was given rather than estimated).
    identified : ndarray of bool, shape (m,)
        False for an LF whose accuracy the rows do not identify (the model's
        ``unidentified_``, an LF a symmetric solve could not estimate, an LF that never
        votes: it was given a shared fallback or neutral value, so there is no interval
        to report); all True when there is none (:func:`unidentified_lfs`).
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
    identified: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.identified is None:
            self.identified = np.ones(len(self.accuracy), dtype=bool)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (arrays as lists; the NaN bounds of unidentified LFs as null)."""
        return {
            "level": self.level,
            "n_boot": self.n_boot,
            "n_chunks": self.n_chunks,
            "identified": np.asarray(self.identified, dtype=bool).tolist(),
            **{
                name: [None if np.isnan(v) else v for v in getattr(self, name).tolist()]
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
        """Validate field by field (shapes (m,) and (k,), values in [0, 1], low <= high).

        ``identified`` (absent in files written before it existed) defaults to all
        True; the bounds of an unidentified LF must be null (NaN), of any other finite.
        """
        names = [p + s for p in ("accuracy", "class_balance") for s in ("", "_low", "_high")]
        d = check_mapping(d, "intervals", ("level", "n_boot", "n_chunks", *names), ("identified",))
        level = check_float(d["level"], "intervals.level", 0.0, 1.0)
        if not 0.0 < level < 1.0:
            raise ValueError(f"intervals: level must lie in (0, 1), got {level}")
        n_boot = check_int(d["n_boot"], "intervals.n_boot", 1, 10**12)
        n_chunks = check_int(d["n_chunks"], "intervals.n_chunks", 2, 10**15)
        known = d.get("identified")
        identified = np.ones(m, dtype=bool) if known is None else np.asarray(known)
        if identified.shape != (m,) or identified.dtype != bool:
            raise ValueError(f"intervals: identified must be {m} booleans, got {known!r}")
        arrays = {}
        for prefix, size in (("accuracy", m), ("class_balance", k)):
            for suffix in ("", "_low", "_high"):
                name = prefix + suffix
                raw = d[name]
                numbers_only = isinstance(raw, list) and all(
                    v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in raw
                )
                try:
                    values = [np.nan if v is None else v for v in raw] if numbers_only else []
                    a = np.array(values, dtype=np.float64)
                except OverflowError:  # an integer beyond float range
                    numbers_only = False
                if not numbers_only:
                    raise ValueError(f"intervals: {name} must be a list of numbers (null: none)")
                if a.shape != (size,):
                    raise ValueError(f"intervals: {name} must have shape ({size},), got {a.shape}")
                may_be_nan = suffix != "" and prefix == "accuracy"
                finite = np.isfinite(a) | (~identified & np.isnan(a)) if may_be_nan else np.isfinite(a)
                if not np.all(finite) or np.nanmin(a, initial=0.0) < 0.0 or np.nanmax(a, initial=0.0) > 1.0:
                    raise ValueError(f"intervals: {name} must hold probabilities in [0, 1]")
                if may_be_nan and np.any(~identified & ~np.isnan(a)):
                    raise ValueError(f"intervals: {name} must be null for the unidentified LFs")
                arrays[name] = a
            low, high = arrays[prefix + "_low"], arrays[prefix + "_high"]
            if np.any(np.nan_to_num(low, nan=0.0) > np.nan_to_num(high, nan=1.0)):
                raise ValueError(f"intervals: {prefix}_low exceeds {prefix}_high")
        if abs(arrays["class_balance"].sum() - 1.0) > 1e-6:
            raise ValueError("intervals: class_balance (the fitted class balance) must sum to 1")
        return cls(level=level, n_boot=n_boot, n_chunks=n_chunks, identified=identified, **arrays)

    @property
    def accuracy_halfwidth(self) -> np.ndarray:
        """Half the interval width per LF, shape (m,) (NaN for unidentified LFs)."""
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


def _check_solved(model: Any) -> None:
    """NoIntervalsError where rows of the model's stream wait for a solve (its parameters are not those
    of all its rows, which every replicate would be)."""
    pending = float(getattr(model, "pending_rows_", 0.0) or 0.0)
    if pending > 0:
        why = f"{pending:g} rows of the model's stream wait for a solve (refit_growth)"
        raise NoIntervalsError(
            f"{why}: its parameters are not those of all its rows, which every replicate would be; "
            "call model.refit() first",
            why,
            "model.refit() and then model.confidence_intervals(L_train)",
        )


def chunk_summaries(model: Any, L: Any, n_chunks: int | None = None) -> _ChunkSummaries:
    """The chunk summaries :func:`bootstrap_intervals` resamples, read once to serve several calls.

    The one pass over the rows of a bootstrap: hand the result to ``bootstrap_intervals(model, L,
    summaries=...)`` (with the same ``n_chunks``), as many times as wanted, e.g. a probe of two
    replicates and then the bootstrap proper (:func:`tripletws.report.build_report`).

    Parameters
    ----------
    model : fitted LabelModel
        Not changed; its solver's needs decide what the summaries hold (statistics, distinct rows).
    L : label matrix, shape (n, m)
        The rows the model was fitted on (as for :func:`bootstrap_intervals`).
    n_chunks : int, optional
        Row chunks (at least 2).  Default: :data:`DEFAULT_CHUNKS`, or one row per chunk where ``L``
        has fewer rows.

    Returns
    -------
    object
        The chunk summaries (opaque: pass them to :func:`bootstrap_intervals`).

    Raises
    ------
    NoIntervalsError
        Rows of the model's stream wait for a solve; ``L`` has too few rows to resample and they are
        not the fit's (:class:`OtherRowsError`).
    ValueError
        ``n_chunks`` below 2 or above the row count, or ``L`` of another LF count.
    """
    from functools import partial

    from .settings import check_settings

    model._check_fitted()
    chunks = None if n_chunks is None else check_int(n_chunks, "n_chunks", 2)
    _check_solved(model)
    settings = check_settings(model.get_params())
    return _chunk_summaries(model, L, chunks, partial(settings.solver.needs, settings.options))


def _check_summaries(summaries: Any, model: Any, n_chunks: int | None, needs: Any) -> _ChunkSummaries:
    """``summaries`` handed to :func:`bootstrap_intervals`, where they fit its other arguments."""
    if not isinstance(summaries, _ChunkSummaries):
        raise ValueError(
            "summaries must be the chunk summaries chunk_summaries(model, L) returns, got "
            f"{type(summaries).__name__}"
        )
    if summaries.n_lfs != model.n_lfs_:
        raise ValueError(f"summaries are of {summaries.n_lfs} LFs but the model was fitted on {model.n_lfs_}")
    if n_chunks is not None and len(summaries) != n_chunks:
        raise ValueError(f"summaries are of {len(summaries)} chunks, n_chunks is {n_chunks}")
    if summaries.needs != needs(summaries.n_lfs):
        raise ValueError(
            f"summaries were read for other solver needs ({summaries.needs}) than the model's "
            f"({needs(summaries.n_lfs)}): read them with chunk_summaries(model, L)"
        )
    return summaries


def _chunk_summaries(model: Any, L: Any, n_chunks: int | None, needs: Any) -> _ChunkSummaries:
    """The model's data summary (statistics, and distinct rows when its solver needs them) per chunk
    (``n_chunks`` None: :data:`DEFAULT_CHUNKS`, or one row per chunk where ``L`` has fewer rows)."""
    from .summary import summarize

    check_fitted_names(model, L)  # the columns in the fit's order
    lm = check_label_matrix(L, int(model.cardinality), min_lfs=3)
    if lm.n < max(2, n_chunks or 2):  # too few rows to resample: first, whether they are the fit's at all
        reason = unlike_fit(model, compute_stats(lm, lm.cardinality))
        if reason is not None:
            raise _other_rows(reason)
    if n_chunks is None:
        if lm.n < 2:
            raise ValueError(f"L has {lm.n} row(s): the bootstrap resamples at least 2")
        n_chunks = min(DEFAULT_CHUNKS, lm.n)
    if n_chunks < 2:
        raise ValueError(f"n_chunks must be at least 2, got {n_chunks}")
    if lm.n < n_chunks:
        raise ValueError(f"L has {lm.n} rows, fewer than n_chunks={n_chunks}")
    if lm.m != model.n_lfs_:
        raise ValueError(f"L has {lm.m} LFs (columns) but the model was fitted on {model.n_lfs_}")
    size = -(-lm.n // n_chunks)
    parts = _ChunkSummaries(
        summarize(block, lm.cardinality, needs, min_lfs=1)
        for _, block in lm.chunks(size, release_pages=False)
    )
    parts.needs = needs(parts.n_lfs)  # what they hold (statistics, distinct rows), checked where reused
    return parts


class _ChunkSummaries:
    """Chunk summaries kept for resampling, their (m, m) co-vote and agreement tables (and the
    class-conditional model's (m, k, m, k) joint vote table) as nonzero entries.

    A chunk of a wide matrix (a crowd of thousands of workers) has few co-votes: 100 rows of 5 votes
    fill at most 2 500 of the 4 million cells of a 2 000-LF table, so 100 dense chunk tables
    (6.4 GB at m = 2 000; the joint tables k^2 times that, 3.2 GB at m = 500 and k = 4, which a
    report of a 500-worker crowd under ``model="class_conditional"`` held at once) become the chunks'
    entries, and a replicate's tables one weighted ``np.bincount`` of them (the same whole-number sums
    as adding the dense tables: exact in float64).
    The chunks' distinct rows are kept apart and merged once per replicate
    (:func:`~tripletws.rows.sum_row_summaries`).

    Parameters
    ----------
    parts : iterable of DataSummary
        One per chunk, of the same m and k; each chunk's dense tables are dropped as it is read.
    """

    def __init__(self, parts: Iterable[Any]) -> None:
        from dataclasses import replace

        self.m = 0
        self.parts = []
        self.needs: Any = None  # the solver's Needs they were read for (set by _chunk_summaries)
        cells, covote, agree, lens, rows = [], [], [], [], []
        joint_cells, joint, joint_lens = [], [], []
        self.joint_shape: tuple[int, ...] | None = None
        for part in parts:
            stats = part.stats
            self.m = stats.n_lfs
            # agreements are co-votes: the agreement table's nonzero cells are among the co-vote table's
            nz = np.flatnonzero(stats.covote)
            cells.append(nz)
            covote.append(stats.covote.ravel()[nz].astype(np.float64))
            agree.append(stats.agree.ravel()[nz].astype(np.float64))
            lens.append(len(nz))
            if stats.joint is not None:
                self.joint_shape = stats.joint.shape
                nzj = np.flatnonzero(stats.joint)
                joint_cells.append(nzj)
                joint.append(stats.joint.ravel()[nzj].astype(np.float64))
                joint_lens.append(len(nzj))
            rows.append(part.rows)
            self.parts.append(
                replace(part, stats=replace(stats, covote=None, agree=None, joint=None), rows=None)
            )
        self.rows = None if any(r is None for r in rows) else rows
        self.cells = np.concatenate(cells)
        self.covote = np.concatenate(covote)
        self.agree = np.concatenate(agree)
        self.lens = np.asarray(lens, dtype=np.int64)
        if self.joint_shape is not None and len(joint_lens) != len(self.parts):
            raise ValueError("chunk summaries mix statistics with and without the joint vote table")
        self.joint_cells = np.concatenate(joint_cells) if joint_cells else None
        self.joint = np.concatenate(joint) if joint else None
        self.joint_lens = np.asarray(joint_lens, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.parts)

    @property
    def n_lfs(self) -> int:
        return self.m

    def tables(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Co-vote and agreement tables of the chunks counted ``w`` times each, shape (m, m) each."""
        weights = np.repeat(np.asarray(w, dtype=np.float64), self.lens)
        size = self.m * self.m
        covote = np.bincount(self.cells, weights=self.covote * weights, minlength=size)
        agree = np.bincount(self.cells, weights=self.agree * weights, minlength=size)
        return covote.astype(np.float64, copy=False).reshape(self.m, self.m), agree.astype(
            np.float64, copy=False
        ).reshape(self.m, self.m)

    def joint_table(self, w: np.ndarray) -> np.ndarray | None:
        """The joint vote table of the chunks counted ``w`` times each, shape (m, k, m, k) (None where
        the chunks hold none)."""
        if self.joint_shape is None:
            return None
        weights = np.repeat(np.asarray(w, dtype=np.float64), self.joint_lens)
        size = int(np.prod(self.joint_shape))
        out = np.bincount(self.joint_cells, weights=self.joint * weights, minlength=size)
        return out.astype(np.float64, copy=False).reshape(self.joint_shape)


class NoIntervalsError(ValueError):
    """:func:`bootstrap_intervals` cannot resample this model with these rows as they stand.

    The LF summary and the report show no intervals then (rather than none of the rest).

    Attributes
    ----------
    why : str
        What stands in the way, as a phrase (e.g. "L is not the matrix the model was fitted on (...)").
    remedy : str
        The call that gives intervals, as a phrase.
    """

    def __init__(self, message: str, why: str, remedy: str) -> None:
        super().__init__(message)
        self.why = why
        self.remedy = remedy


class OtherRowsError(NoIntervalsError):
    """:func:`bootstrap_intervals` was given rows the model was not fitted on (``reason`` says how
    they differ); the LF summary and the report show no intervals then."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(
            message,
            f"L is not the matrix the model was fitted on ({reason})",
            "model.confidence_intervals(L_train)",
        )
        self.reason = reason


def _other_rows(reason: str) -> OtherRowsError:
    return OtherRowsError(
        f"L is not the matrix the model was fitted on ({reason}): the intervals resample the fit's rows; "
        "pass the training matrix",
        reason,
    )


def unlike_fit(model: Any, stats: LabelStats) -> str | None:
    """Why ``stats`` (of some rows) are not those of the rows ``model`` was fitted on, or None.

    Compares the row count and each LF's votes per class with the fit's statistics
    (``model.summary_``), to a tolerance of rounding in their sums; a model without them
    (none kept) passes, and so does a stream that forgets (``forget`` < 1: its statistics are
    decayed weights, which no matrix's counts match; its intervals are those of a fit on ``L``).
    """
    fit = getattr(getattr(model, "summary_", None), "stats", None)
    if fit is None or fit.class_counts.shape != stats.class_counts.shape:
        return None
    forget = getattr(model, "forget", None)
    if forget is not None and forget < 1.0:
        return None
    slack = 1e-9 * max(1.0, fit.n_rows)
    if abs(fit.n_rows - stats.n_rows) > slack:
        return f"L has {stats.n_rows:g} rows, the fit {fit.n_rows:g}"
    gap = np.abs(fit.class_counts - stats.class_counts)
    if gap.max(initial=0.0) > slack:
        i, c = np.unravel_index(int(gap.argmax()), gap.shape)
        names = getattr(model, "lf_names_", None)
        lf = f"LF {names[i]!r}" if names is not None else f"LF {int(i)}"
        return (
            f"{lf} votes class {int(c)} on {stats.class_counts[i, c]:g} rows of L and on "
            f"{fit.class_counts[i, c]:g} of the fit's rows"
        )
    return None


def _resampled(chunks: _ChunkSummaries, w: np.ndarray) -> Any:
    """Sum of the chunk summaries with multiplicities ``w`` (mergeable sums, no rows read).

    Parameters
    ----------
    chunks : _ChunkSummaries
        The n_chunks chunk summaries.
    w : ndarray of int, shape (n_chunks,)
        How many times each chunk is drawn.

    Returns
    -------
    DataSummary
    """
    from dataclasses import replace

    from .rows import sum_row_summaries

    total = None
    for part, count in zip(chunks.parts, w.tolist(), strict=True):
        if count:
            piece = part if count == 1 else part.scaled(float(count))
            total = piece if total is None else total + piece
    covote, agree = chunks.tables(w)
    rows = None
    if chunks.rows is not None:  # the distinct rows in one merge (folding + re-keys them at every chunk)
        rows = sum_row_summaries([(r, float(c)) for r, c in zip(chunks.rows, w.tolist(), strict=True) if c])
    joint = chunks.joint_table(w)
    return replace(total, stats=replace(total.stats, covote=covote, agree=agree, joint=joint), rows=rows)


def bootstrap_intervals(
    model: Any,
    L: Any,
    *,
    level: float = 0.95,
    n_boot: int = DEFAULT_BOOT,
    n_chunks: int | None = None,
    random_state: Any = None,
    summaries: _ChunkSummaries | None = None,
) -> ConfidenceIntervals:
    """Percentile intervals for ``model.accuracies_`` and the fitted class balance.

    An LF the model does not identify (:func:`unidentified_lfs`: its ``unidentified_``, one a
    symmetric solve could not estimate, one that never votes) gets a NaN interval and
    ``identified = False``: its accuracy is a shared fallback or neutral value, and the
    spread of that value over replicates says nothing about the LF.

    The intervals describe the sampling spread of the model's own estimate.  A
    model with a fixed uniform class balance (the annotator model's default) is
    biased when the classes are not balanced, and the bootstrap cannot see that
    bias: a warning says so, and ``class_balance="estimate"`` avoids it
    (docs/workflow.md has the measured coverage of both).

    Every replicate is solved by the model's own solver with its settings, prior
    and dependencies, from the resampled chunk summaries (statistics, plus the
    distinct rows for solvers that use rows), so it takes the same path as the fit;
    after ``fit(L, L_dev=, Y_dev=)`` the same dev rows choose among each replicate's
    candidates (a model loaded from a file does not keep them: a ValueError, where
    they chose other parameters than the gold-free fit's).

    Parameters
    ----------
    model : fitted LabelModel
        Not changed.
    L : label matrix, shape (n, m)
        The rows the model was fitted on (n >= n_chunks, n >= 2); other rows (their count or
        an LF's votes per class differ from the fit's) are an :class:`OtherRowsError` (a
        ValueError).  A model that cannot be resampled as it stands (rows of its stream wait for
        a solve; a loaded model whose dev rows chose its parameters) is a
        :class:`NoIntervalsError` (a ValueError, the base of ``OtherRowsError``).
    level : float
        Nominal coverage in (0, 1).
    n_boot : int
        Bootstrap replicates (each one solve), 2 to :data:`MAX_BOOT`.
    n_chunks : int, optional
        Row chunks to resample (at least 2; 50 to 200 works well).  Default: :data:`DEFAULT_CHUNKS`
        (100), or one row per chunk (the plain row bootstrap) where ``L`` has fewer rows.
    random_state : int or numpy Generator, optional
    summaries : optional
        The chunk summaries of ``L`` for this model, as :func:`chunk_summaries` (``model``, ``L``,
        ``n_chunks``) returned them, e.g. to a bootstrap of a few replicates before this one: the
        rows are then not read again (``L`` is not read at all).  Summaries of another LF count,
        chunk count or solver's needs are a ValueError; of other rows, an :class:`OtherRowsError`
        as for ``L``.  Not changed; the result is the same as without them.

    Returns
    -------
    ConfidenceIntervals
    """
    from dataclasses import replace
    from functools import partial

    from .models import Prior
    from .priors import setting_prior
    from .settings import check_dependency_graph, check_random_state, check_settings

    model._check_fitted()
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0.0 < level < 1.0:
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    check_int(n_boot, "n_boot", 2, MAX_BOOT)
    chunks = None if n_chunks is None else check_int(n_chunks, "n_chunks", 2)
    check_random_state(random_state)
    _check_solved(model)
    k = int(model.cardinality)
    settings = check_settings(model.get_params())
    solver, options = settings.solver, settings.options
    needs = partial(solver.needs, options)
    if summaries is None:
        parts = _chunk_summaries(model, L, chunks, needs)
    else:
        parts = _check_summaries(summaries, model, chunks, needs)
    m = parts.n_lfs
    reason = unlike_fit(model, _resampled(parts, np.ones(len(parts), dtype=np.int64)).stats)
    if reason is not None:  # replicates of a fit on other rows would not describe this fit
        raise _other_rows(reason)
    options = replace(
        options, dependencies=check_dependency_graph(np.asarray(model.dependencies_).tolist(), m)
    )
    # the prior of the fit's gold-free solve: one given to fit (class_balance=, Y_dev=), kept by the
    # model's stream, else the setting's
    stream = getattr(model, "_stream", None)
    if stream is not None and stream.prior is not None:
        prior = Prior(np.asarray(stream.prior, dtype=np.float64), stream.prior_source)
    else:
        prior = setting_prior(model.class_balance, k)
    # fit(L, L_dev=, Y_dev=): the dev rows chose among the candidate fits; each replicate chooses again
    dev_set = model.__dict__.get("_dev_set")
    chosen = (getattr(model.solution_.estimate, "dev_choice", None) or {}).get("chosen")
    if dev_set is None and chosen not in (None, "gold_free"):
        why = f"the model's parameters were chosen by dev rows ({chosen!r}) that a loaded model does not keep"
        raise NoIntervalsError(
            f"{why}: the replicates cannot repeat that choice; fit(L, L_dev=..., Y_dev=...) again, then "
            "compute the intervals",
            why,
            "fit(L_train, L_dev=..., Y_dev=...) and then model.confidence_intervals(L_train) (command line: "
            "fit --L-dev ... --y-dev ... --intervals N)",
        )
    fit_balance = np.asarray(model.fit_class_balance_, dtype=np.float64)
    if model.class_balance_source_ == "uniform" and np.allclose(fit_balance, 1.0 / k):
        warnings.warn(UNIFORM_PRIOR_WARNING, stacklevel=3)
    rng = np.random.default_rng(random_state)
    c = len(parts)
    accs, balances = [], []
    for _ in range(n_boot):
        w = rng.multinomial(c, np.full(c, 1.0 / c))
        total = _resampled(parts, w)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rows = for_solve(total.rows)
                fit = solver.solve(total.stats, prior, rows, options)
                if dev_set is not None:
                    fit = solver.choose_with_dev(fit, rows, *dev_set, model.chunk_size, options=options)
        except (ValueError, np.linalg.LinAlgError):
            continue
        accs.append(fit.accuracies)
        balances.append(fit.fit_class_balance)
    if len(accs) < 2:
        raise ValueError("fewer than 2 bootstrap replicates could be solved; use more rows or chunks")
    if len(accs) < n_boot:  # the intervals describe the replicates that could be solved: say how many
        warnings.warn(
            f"{n_boot - len(accs)} of {n_boot} bootstrap replicates could not be solved and are left out "
            f"(the intervals read the other {len(accs)}; their n_boot says so); use more rows or chunks",
            UserWarning,
            stacklevel=3,
        )
    tail = (1.0 - level) / 2.0 * 100.0
    A, B = np.asarray(accs), np.asarray(balances)
    a_lo, a_hi = np.percentile(A, [tail, 100.0 - tail], axis=0)
    b_lo, b_hi = np.percentile(B, [tail, 100.0 - tail], axis=0)
    identified = np.ones(m, dtype=bool)
    identified[unidentified_lfs(model)] = False
    return ConfidenceIntervals(
        level=float(level),
        n_boot=len(accs),
        n_chunks=c,
        accuracy=np.asarray(model.accuracies_, dtype=np.float64).copy(),
        accuracy_low=np.where(identified, np.clip(a_lo, 0.0, 1.0), np.nan),
        accuracy_high=np.where(identified, np.clip(a_hi, 0.0, 1.0), np.nan),
        class_balance=np.asarray(model.fit_class_balance_, dtype=np.float64).copy(),
        class_balance_low=np.clip(b_lo, 0.0, 1.0),
        class_balance_high=np.clip(b_hi, 0.0, 1.0),
        identified=identified,
    )


def point_estimates(model: Any) -> ConfidenceIntervals:
    """The model's accuracies and fitted class balance without intervals (NaN bounds, no replicates)."""
    acc = np.asarray(model.accuracies_, dtype=np.float64).copy()
    balance = np.asarray(model.fit_class_balance_, dtype=np.float64).copy()
    none_m, none_k = np.full(acc.shape, np.nan), np.full(balance.shape, np.nan)
    identified = np.ones(len(acc), dtype=bool)
    identified[unidentified_lfs(model)] = False
    return ConfidenceIntervals(
        level=float("nan"),
        n_boot=0,
        n_chunks=0,
        accuracy=acc,
        accuracy_low=none_m,
        accuracy_high=none_m.copy(),
        class_balance=balance,
        class_balance_low=none_k,
        class_balance_high=none_k.copy(),
        identified=identified,
    )


def unidentified_lfs(model: Any) -> np.ndarray:
    """LFs whose accuracy the fit did not identify (given a shared fallback value), as indices.

    The annotator model lists them in ``unidentified_`` (one-class LFs, LFs that never
    vote together with another one, every LF when majority vote's model was chosen) and
    counts LFs that copy another once (``copies_.members``: their table carries no class
    information, so their ``accuracies_`` is not an estimate).  A symmetric solve (the
    symmetric model, the annotator's symmetric fallback) names those it could not estimate
    (``estimate_.estimated`` False: no usable triplet, given the estimated LFs' mean or a
    default); and an LF that never votes on the fit's rows is given a neutral value by every model.
    """
    found = getattr(model, "unidentified_", None)
    out = np.zeros(0, dtype=np.int64) if found is None else np.asarray(found, dtype=np.int64).reshape(-1)
    estimated = getattr(getattr(model, "estimate_", None), "estimated", None)
    if estimated is not None:
        out = np.union1d(out, np.flatnonzero(~np.asarray(estimated, dtype=bool)))
    votes = getattr(getattr(model, "stats_", None), "vote_counts", None)
    if votes is not None:
        out = np.union1d(out, np.flatnonzero(np.asarray(votes) == 0))
    copies = getattr(model, "copies_", None)
    out = out if copies is None else np.union1d(out, copies.members)
    return np.asarray(out, dtype=np.int64)
