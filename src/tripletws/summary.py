"""Everything a label model is solved from, for one block of rows: statistics, plus distinct rows if asked.

:func:`summarize` is the one entry from data to a solver: a label matrix (dense,
sparse, DataFrame, memmap), a ``dask.array`` or dask DataFrame (a map over its blocks and a tree
sum) or precomputed :class:`~tripletws.stats.LabelStats` (no rows).  Summaries of
disjoint blocks add up (``+``), so ``fit``, ``partial_fit`` batches and Dask
partitions all reduce the same way (see :mod:`tripletws.online` for forgetting and
windows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import partial
from typing import Any

import numpy as np

from .distributed import dask_row_blocks, placed_error
from .matrix import LabelMatrixError, check_label_matrix
from .models.base import Needs
from .parallel import single_threaded_blas
from .rows import RowAccumulator, RowSummary, replace_n_rows
from .stats import TRIPLE_LAYOUT, LabelStats, stats_from_rows, stats_pass
from .validate import check_mapping


@dataclass(frozen=True)
class DataSummary:
    """Sufficient statistics of some rows and, when a solver needs rows, their :class:`RowSummary`."""

    stats: LabelStats
    rows: RowSummary | None = None

    @property
    def n_lfs(self) -> int:
        return self.stats.n_lfs

    @property
    def cardinality(self) -> int:
        return self.stats.cardinality

    def __add__(self, other: DataSummary) -> DataSummary:
        rows = self.rows + other.rows if self.rows is not None and other.rows is not None else None
        return DataSummary(self.stats + other.stats, rows)

    def __sub__(self, other: DataSummary) -> DataSummary:
        rows = self.rows - other.rows if self.rows is not None and other.rows is not None else None
        return DataSummary(self.stats - other.stats, rows)

    def scaled(self, factor: float) -> DataSummary:
        return DataSummary(self.stats.scaled(factor), None if self.rows is None else self.rows.scaled(factor))

    def to_dict(self) -> dict[str, Any]:
        from .arrays import encode_array

        stats = {
            f.name: encode_array(value) if isinstance(value, np.ndarray) else value
            for f in fields(self.stats)
            for value in (getattr(self.stats, f.name),)
        }
        if self.stats.triple is not None:
            stats["triple_layout"] = TRIPLE_LAYOUT
        return {"stats": stats, "rows": None if self.rows is None else self.rows.to_dict()}

    @classmethod
    def from_dict(cls, d: Any, m: int | None = None, k: int | None = None) -> DataSummary:
        """Inverse of :meth:`to_dict` (checking m and k when given)."""
        d = check_mapping(d, "summary", ("stats",), ("rows",))
        stats = stats_from_dict(d["stats"])
        m = stats.n_lfs if m is None else m
        k = stats.cardinality if k is None else k
        if (stats.n_lfs, stats.cardinality) != (m, k):
            raise ValueError(f"statistics have m={stats.n_lfs}, k={stats.cardinality}; expected m={m}, k={k}")
        rows = d.get("rows")
        rows = None if rows is None else RowSummary.from_dict(rows, m, k)
        if rows is not None and abs(rows.n_rows - stats.n_rows) > 1e-9 * max(1.0, stats.n_rows):
            raise ValueError(
                f"summary.rows.n_rows ({rows.n_rows:g}) disagrees with summary.stats.n_rows "
                f"({stats.n_rows:g}): the distinct rows and the statistics summarise the same rows"
            )
        return cls(stats, rows)


_STATS_KEYS = ("cardinality", "n_rows", "class_counts", "covote", "agree")


def stats_from_dict(d: Any, name: str = "stats") -> LabelStats:
    """:class:`LabelStats` from a record whose arrays are compact or plain lists, every field checked."""
    from .arrays import decode_array
    from .validate import check_count, check_int

    d = check_mapping(d, name, _STATS_KEYS, ("joint", "triple", "triple_layout"))
    k = check_int(d["cardinality"], f"{name}.cardinality", 2, 10**6)
    n_rows = check_count(d["n_rows"], f"{name}.n_rows")
    counts = decode_array(d["class_counts"], f"{name}.class_counts", ndim=2)
    m = counts.shape[0]
    arrays = {
        "cardinality": k,
        "n_rows": n_rows,
        "class_counts": counts,
        "covote": decode_array(d["covote"], f"{name}.covote", shape=(m, m)),
        "agree": decode_array(d["agree"], f"{name}.agree", shape=(m, m)),
    }
    for key, shape in (("joint", (m, k, m, k)), ("triple", (k + 1,) * 3)):
        if d.get(key) is not None:
            arrays[key] = decode_array(d[key], f"{name}.{key}", shape=shape)
    layout = d.get("triple_layout")
    if layout is not None:
        if layout != TRIPLE_LAYOUT:
            raise ValueError(f"{name}.triple_layout must be {TRIPLE_LAYOUT!r}, got {layout!r}"[:200])
        arrays["triple_layout"] = layout
    stats = LabelStats.from_dict(arrays)
    _check_consistent(stats, name)
    return stats


#: Cells of the (m, m) tables :func:`_check_consistent` compares at a time (whole tables made two
#: temporaries of their size: 200 MB each for a 5 000-worker crowd).
_CHECK_CELLS = 1 << 18


def _check_consistent(stats: LabelStats, name: str) -> None:
    """Counts that cannot come from one set of rows (agree > covote, votes > rows, ...)."""
    slack = 1e-9 * max(1.0, stats.n_rows)
    step = max(1, _CHECK_CELLS // max(1, stats.n_lfs))  # rows of the tables at a time
    starts = range(0, stats.covote.shape[0], step)
    if any((stats.agree[i : i + step] > stats.covote[i : i + step] + slack).any() for i in starts):
        raise ValueError(f"{name}.agree exceeds {name}.covote (agreements are co-votes)")
    if any((stats.covote[i : i + step] > stats.n_rows + slack).any() for i in starts):
        raise ValueError(f"{name}.covote exceeds {name}.n_rows")
    if (abs(stats.class_counts.sum(axis=1) - stats.vote_counts) > slack + 1e-9 * stats.vote_counts).any():
        raise ValueError(f"{name}.class_counts do not add up to the diagonal of {name}.covote")


def summarize(
    data: Any,
    cardinality: int,
    needs: Callable[[int], Needs],
    *,
    chunk_size: int | None = None,
    name: str = "L",
    min_lfs: int = 3,
    expect_lfs: int | None = None,
    n_jobs: int | None = None,
) -> DataSummary:
    """Summarise ``data`` for a solver (the one pass over the rows).

    Parameters
    ----------
    data : label matrix, dask.array or LabelStats
    cardinality : int
    needs : callable
        ``needs(m)``: which statistics, and how many distinct rows at most (0 = none),
        for m LFs (a solver's :meth:`~tripletws.models.Solver.needs`).
    chunk_size : int, optional
    name : str
        Argument name used in error messages.
    min_lfs : int
    expect_lfs : int, optional
        The LF count of the stream ``data`` joins (ValueError if it differs).
    n_jobs : int, optional
        Threads of the statistics pass (:func:`~tripletws.parallel.resolve_n_jobs`).
    """
    k = cardinality
    if isinstance(data, LabelStats):
        if data.cardinality != k:
            raise ValueError(f"statistics have k={data.cardinality} but cardinality is {k}")
        if data.n_lfs < min_lfs:
            raise ValueError(f"the label model needs at least {min_lfs} labeling functions, got {data.n_lfs}")
        if not data.n_rows > 0:  # as a label matrix without rows: there is nothing to fit
            raise ValueError(f"{name} are statistics of no rows (n_rows = {data.n_rows:g})")
        return DataSummary(data)
    from .distributed import is_dask_input

    if is_dask_input(data):  # a dask array, or a dask DataFrame (its partitions, read as pandas input)
        blocks, starts, m = dask_row_blocks(data, name)
        _check_lfs(m, expect_lfs, name)
        return _summarize_dask(blocks, starts, m, k, needs(m), name, min_lfs)
    lm = check_label_matrix(data, k, min_lfs=min_lfs, name=name)
    _check_lfs(lm.m, expect_lfs, name)
    return _summarize_matrix(lm, needs(lm.m), chunk_size, n_jobs)


def _check_lfs(m: int, expect_lfs: int | None, name: str) -> None:
    if expect_lfs is not None and m != expect_lfs:  # a matrix error: callers name the file
        raise LabelMatrixError(f"{name} has {m} LFs (columns) but the stream has {expect_lfs}")


#: In-memory matrices of at most this many entries (rows x LFs) have their distinct rows
#: collected first and their statistics computed from them when they are complete (a second
#: pass over at most this many entries otherwise); larger ones, and file mappings, get both
#: in one pass over the rows.
ROWS_FIRST_MAX_CELLS = 1 << 22
#: ... and when the distinct rows are at most this share of the rows (measured on the 15 shared
#: sets: with 143 distinct rows of 4 571 the statistics cost 0.1 ms instead of 0.9 ms; with
#: 280 of 318, 1.7 ms against 0.8 ms for the pass over the matrix).
ROWS_STATS_MAX_SHARE = 0.25
#: Cells per chunk of a dense pass that gathers the distinct rows too (twice the default chunk's,
#: ``DEFAULT_CHUNK_CELLS``): each chunk's fixed costs (its statistics' set-up and merge, the rows'
#: keys, hashes and sketch) then spread over more rows (the 1e6 x 50 fit's pass, one thread, medians
#: of 12 alternated passes: 313 -> 289 ms of CPU).  Every statistic is a whole-number sum and the
#: distinct rows do not depend on the batching, so the summary is the same.
RIDER_CHUNK_CELLS = 1 << 19
#: ... for matrices of at least this many cells (32 such chunks: smaller ones keep the default chunks,
#: so that as many threads share their pass as before, ``tripletws.parallel.MIN_CHUNKS_PER_JOB``).
RIDER_CHUNKS_FROM = 1 << 24


def _summarize_matrix(
    lm: Any, needs: Needs, chunk_size: int | None, n_jobs: int | None = None
) -> DataSummary:
    """Statistics and, when the solver needs them, the distinct rows: one read of each chunk.

    A small in-memory matrix (at most :data:`ROWS_FIRST_MAX_CELLS` entries) whose distinct
    rows all fit under the solver's cap gets its statistics from its distinct rows
    (:func:`~tripletws.stats.stats_from_rows`: the same whole-number sums, exactly, at the
    cost of the distinct rows: most of a small fit's summary time otherwise).  Should the
    rows not fit, the statistics take a second pass over the (small) matrix.
    """
    if (
        needs.rows
        and not (needs.joint or needs.triple)
        and lm.n * lm.m <= ROWS_FIRST_MAX_CELLS
        and lm.page_release() is None
    ):
        acc = RowAccumulator(lm.m, lm.cardinality, needs.rows)
        step = lm.chunk_rows(chunk_size)
        for start in range(0, lm.n, step):
            acc.add(lm.read_rows(start, start + step))
        rows = replace_n_rows(acc.summary(), float(lm.n))
        # all distinct rows, and few of them (else the pass over the matrix costs less)
        exact = (
            rows.level == 0
            and float(rows.counts.sum()) == float(lm.n)
            and len(rows.counts) <= ROWS_STATS_MAX_SHARE * lm.n
        )
        with single_threaded_blas():  # small products: threads would only wait for each other
            stats = stats_from_rows(rows.rows, rows.counts, lm.cardinality, lm.n) if exact else None
        if stats is None:  # a hash sample of the rows, or too many vote pairs: a pass over the rows
            stats = stats_pass(lm, chunk_size=chunk_size, n_jobs=n_jobs)[0]
        return DataSummary(stats, rows)
    rider = partial(RowAccumulator, lm.m, lm.cardinality, needs.rows) if needs.rows else None
    if chunk_size is None and rider is not None and not lm.is_sparse and lm.n * lm.m >= RIDER_CHUNKS_FROM:
        # a large pass that also keys every row: chunks of RIDER_CHUNK_CELLS (the same sums and rows)
        chunk_size = max(1024, RIDER_CHUNK_CELLS // max(lm.m, 1))
    stats, riders = stats_pass(
        lm, joint=needs.joint, triple=needs.triple, chunk_size=chunk_size, n_jobs=n_jobs, rider=rider
    )
    if not riders:
        return DataSummary(stats)
    rows = riders[0].summary()
    for other in riders[1:]:
        rows = rows + other.summary()
    return DataSummary(stats, replace_n_rows(rows, float(lm.n)))


def _block_summary(block: Any, k: int, needs: Needs, start: int | None = 0, index: int = 0) -> DataSummary:
    # one thread per block: the blocks themselves run in parallel; errors name rows of the whole matrix
    # (start None: the block's place is unknown, the row is named within block index)
    try:
        # a block may hold no rows (a filter removed them all): its summary is empty
        lm = check_label_matrix(block, k, name="dask block", allow_empty=True)
        return _summarize_matrix(lm, needs, None, n_jobs=1)
    except LabelMatrixError as exc:
        raise placed_error(exc, block, start, index) from exc


def _add(a: DataSummary, b: DataSummary) -> DataSummary:
    return a + b


def _summarize_dask(
    blocks: list[Any], starts: list[int | None], m: int, k: int, needs: Needs, name: str, min_lfs: int
) -> DataSummary:
    """Map over the row blocks of a dask array or DataFrame (delayed, from
    :func:`~tripletws.distributed.dask_row_blocks`) and add the summaries in a tree."""
    import dask

    if m < min_lfs:
        raise ValueError(f"{name} has {m} labeling function(s) (columns); at least {min_lfs} are needed")
    summary = dask.delayed(_block_summary)
    parts = [summary(b, k, needs, s, i) for i, (b, s) in enumerate(zip(blocks, starts, strict=True))]
    while len(parts) > 1:  # pairwise tree reduction
        parts = [
            dask.delayed(_add)(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
            for i in range(0, len(parts), 2)
        ]
    total = parts[0].compute()
    if total.stats.n_rows == 0:  # as for any other input (a block may be empty, not the whole matrix)
        raise LabelMatrixError(f"{name} has no rows (every dask block is empty)")
    return total
