"""Distributed and parallel statistics: map row blocks to :class:`LabelStats`, reduce by ``+``.

Because every statistic is a sum over rows, any partitioning of ``L`` by rows
works: Dask array blocks, files on different machines, a process pool.  The
solve afterwards (``LabelModel.fit_stats``) never touches the rows.

Dask is optional (``pip install "dask[array]"``) and imported lazily.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import repeat
from typing import Any

import numpy as np

from .matrix import check_cardinality
from .stats import LabelStats, merge_stats


def is_dask_array(x: Any) -> bool:
    """True for a ``dask.array.Array`` (checked without importing dask)."""
    return type(x).__module__.startswith("dask.array") and hasattr(x, "to_delayed")


def is_dask_dataframe(x: Any) -> bool:
    """True for a ``dask.dataframe.DataFrame`` (checked without importing dask; a Series is not one)."""
    return (
        type(x).__module__.startswith("dask.dataframe") and hasattr(x, "to_delayed") and hasattr(x, "columns")
    )


def is_dask_input(x: Any) -> bool:
    """True for a dask array or DataFrame: input whose rows are read block by block, lazily."""
    return is_dask_array(x) or is_dask_dataframe(x)


def dask_row_blocks(L: Any, name: str = "L") -> tuple[list[Any], list[int | None], int]:
    """The row blocks of a 2-D dask array or a dask DataFrame, as delayed objects.

    Parameters
    ----------
    L : dask.array.Array (2-D) or dask.dataframe.DataFrame
    name : str
        Argument name used in error messages.

    Returns
    -------
    blocks : list of dask.delayed.Delayed
        The row blocks in order: ndarrays of whole rows (an array split along its columns is
        rechunked), or a DataFrame's partitions (pandas DataFrames, read as pandas input is).
    starts : list of int or None
        The first row of each block in ``L``; None where unknown (chunk sizes unknown after
        boolean indexing; a DataFrame's partitions, named by their number and index instead).
    n_columns : int
    """
    if is_dask_dataframe(L):
        parts = list(L.to_delayed())
        return parts, [None] * len(parts), len(L.columns)
    if L.ndim != 2:
        raise ValueError(f"{name} must be 2-dimensional, got ndim={L.ndim}")
    m = dask_columns(L, name)
    if len(L.chunks[1]) > 1:
        L = L.rechunk({1: -1})
    return list(L.to_delayed().ravel()), row_block_starts(L), m


def placed_error(exc: Any, block: Any, start: int | None, index: int) -> Any:
    """A block's :class:`~tripletws.matrix.LabelMatrixError` naming the row of the whole input: shifted
    by the block's first row ``start`` (None: unknown, named within row block ``index``; for a
    dask DataFrame's partition ``index``, a pandas DataFrame, named within the partition and by its
    index label).  A pandas block's columns are named too."""
    from .lf_names import name_columns, names_of
    from .matrix import rows_in_partition, rows_shifted

    if not (hasattr(block, "index") and hasattr(block, "to_numpy") and hasattr(block, "columns")):
        return rows_shifted(exc, start, index)
    exc = name_columns(exc, names_of(block))  # a pandas DataFrame: its columns named
    if start is None:
        return rows_in_partition(exc, block.index, index)
    return rows_shifted(exc, start, index)  # a block of stats_from_blocks: its place is known


def dask_columns(L: Any, name: str = "L") -> int:
    """The number of columns (LFs) of a 2-D dask array.

    Parameters
    ----------
    L : dask.array.Array, 2-D
    name : str
        Argument name used in the error message.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        Where the count is unknown (NaN: columns kept by a lazy boolean mask); computing the chunk
        sizes makes it known.
    """
    m = L.shape[1]
    if not np.isfinite(m):
        raise ValueError(
            f"{name}'s number of columns (LFs) is unknown: the dask array was filtered along its columns "
            f"by a lazy mask; call {name}.compute_chunk_sizes() first"
        )
    return int(m)


def stats_from_blocks(
    blocks: Iterable[Any],
    cardinality: int,
    *,
    joint: bool = False,
    triple: bool = False,
    map_fn: Callable[..., Iterable[LabelStats]] = map,
) -> LabelStats:
    """Statistics of a label matrix given as row blocks.

    Parameters
    ----------
    blocks : iterable of label matrices, each (n_b, m)
        Disjoint row blocks (any input :func:`check_label_matrix` accepts).
    cardinality : int
    joint : bool
        Also collect the (m, k, m, k) co-occurrence table.
    triple : bool
        Also collect the pooled third moment (the class-conditional model
        needs ``joint`` and ``triple``).
    map_fn : callable
        ``map``-like function, e.g. ``concurrent.futures.ProcessPoolExecutor().map``.

    Returns
    -------
    LabelStats
        Equal to ``compute_stats`` of the stacked blocks.
    """
    k = check_cardinality(cardinality)
    placed = _placed(blocks)  # each block's first row in the stacked matrix, for its errors
    parts = list(map_fn(_placed_block_stats, placed, repeat(k), repeat(joint), repeat(triple)))
    if not parts:
        raise ValueError("no blocks given")
    total = merge_stats(parts)
    if total.n_rows == 0:  # as compute_stats of the stacked blocks (a block may be empty, not all)
        raise ValueError("L has no rows (every block is empty)")
    return total


def _placed(blocks: Iterable[Any]) -> Iterator[tuple[Any, int | None, int]]:
    """``(block, first row, index)`` of each block, the first row counted in the stacked blocks
    (``None`` from the first block whose row count is unknown); read lazily, as ``blocks`` is.

    Blocks that name their columns (DataFrames) must name them as the first named block does, in its
    order: the statistics are summed column by column, and a block with its LFs in another order was
    summed into the wrong LFs' counts (a symmetric fit on such bluebird blocks scored 0.852 against
    0.704).  Unnamed blocks (arrays) are read by position, as ``predict`` reads them."""
    from .lf_names import compare_names, names_of

    at: int | None = 0
    first: tuple[str, ...] | None = None
    for index, block in enumerate(blocks):
        names = names_of(block)
        if first is None:
            first = names
        else:
            try:
                compare_names(first, names, name=f"block {index}")
            except ValueError as exc:  # (its "model" is here the first block that names its columns)
                raise ValueError(
                    f"{exc} (blocks are read against the first block that names its columns)"
                ) from None
        yield block, at, index
        at = None if at is None else _n_rows(block, at)


def _n_rows(block: Any, at: int) -> int | None:
    """``at`` plus the rows of ``block`` (None where its row count is unknown)."""
    shape = getattr(block, "shape", None)
    try:
        size = len(block) if shape is None else shape[0]
    except (TypeError, IndexError):
        return None
    return at + int(size) if isinstance(size, (int, np.integer)) else None


def _placed_block_stats(
    placed: tuple[Any, int | None, int], cardinality: int, joint: bool, triple: bool
) -> LabelStats:
    """:func:`_block_stats` of a block from :func:`_placed` (its errors name rows of the stacked blocks)."""
    block, start, index = placed
    return _block_stats(block, cardinality, joint, triple, start, index)


def row_block_starts(L: Any) -> list[int | None]:
    """First row of each row block of a 2-D dask array; ``None`` from the first block whose place is
    unknown (its chunk sizes are unknown, as after boolean indexing: the statistics do not need it,
    only error messages do)."""
    starts: list[int | None] = []
    at: int | None = 0
    for size in L.chunks[0]:
        starts.append(at)
        at = None if at is None or not np.isfinite(size) else at + int(size)
    return starts


def block_place(block_info: dict[Any, Any] | None) -> tuple[int | None, int]:
    """(first row or None where unknown, row block index) of a block, from dask's ``block_info``."""
    info = (block_info or {}).get(0, {})
    first = info.get("array-location", [(0, 0)])[0][0]
    index = int(info.get("chunk-location", (0,))[0])
    return (int(first) if np.isfinite(first) else None), index


def _block_stats(
    block: Any, cardinality: int, joint: bool, triple: bool = False, start: int | None = 0, index: int = 0
) -> LabelStats:
    # one thread per block: the blocks themselves run in parallel; a dask block's errors name rows of
    # the whole matrix (its first row is start; None: unknown, the row is named within block index)
    from .matrix import LabelMatrixError, check_label_matrix
    from .stats import stats_pass

    try:  # a block may hold no rows (a filter removed them all): its statistics are zeros
        lm = check_label_matrix(block, cardinality, name="dask block", allow_empty=True)
        return stats_pass(lm, joint=joint, triple=triple, n_jobs=1)[0]
    except LabelMatrixError as exc:
        raise placed_error(exc, block, start, index) from exc


def compute_stats_dask(L: Any, cardinality: int, *, joint: bool = False, triple: bool = False) -> LabelStats:
    """:class:`LabelStats` of a 2-D ``dask.array`` (or a dask DataFrame: its partitions) by a map over
    row blocks and a tree sum.

    Blocks split along columns are first rechunked to whole rows.  ``joint`` and
    ``triple`` as in :func:`~tripletws.stats.compute_stats` (both are needed by the
    class-conditional model).
    """
    import dask

    k = check_cardinality(cardinality)
    blocks, starts, m = dask_row_blocks(L)
    if m < 1:
        raise ValueError("L has no columns")
    stats = dask.delayed(_block_stats)
    parts = [stats(b, k, joint, triple, s, i) for i, (b, s) in enumerate(zip(blocks, starts, strict=True))]
    while len(parts) > 1:  # pairwise tree reduction
        parts = [
            dask.delayed(_add)(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
            for i in range(0, len(parts), 2)
        ]
    total = parts[0].compute()
    if total.n_rows == 0:
        raise ValueError("L has no rows (every dask block is empty)")
    return total


def _add(a: LabelStats, b: LabelStats) -> LabelStats:
    return a + b


def predict_proba_dask(model: Any, L: Any):
    """Lazy ``model.predict_proba`` over a 2-D ``dask.array`` or a dask DataFrame: returns a dask
    array (n, k).

    The task graph holds the small fitted parameter object (``model.params_``:
    an (m, k + 1, k) table and the class balance), not the model with its
    statistics, so it stays small however the model was fitted.
    A dask DataFrame gives a dask array of its rows in order, one block per partition (their
    sizes unknown until computed); its columns must name the model's LFs as at fit (where the fit
    had named columns), as a pandas DataFrame's do.
    """
    import dask.array as da

    from .lf_names import check_fitted_names

    check_fitted_names(model, L)
    m = int(model.params_.n_lfs)
    k = int(model.params_.cardinality)  # the fitted classes
    # the default model's families combined (combine="stack" / "pseudo_bma"): their tables travel instead
    estimate = getattr(getattr(model, "solution_", None), "estimate", None)
    mixture = getattr(estimate, "mixture", None)
    kwargs = {
        "params": model.params_,
        "cardinality": k,
        "chunk_size": getattr(model, "chunk_size", None),
        "components": None if mixture is None else list(mixture.components),
        "weights": None if mixture is None else mixture.weights,
        "second": getattr(estimate, "tie_break", None),  # the fit that breaks ties (tripletws.ties)
        "guard": getattr(estimate, "voted_guard", None),  # rows kept among their votes (voted_guard)
    }
    if is_dask_dataframe(L):
        if len(L.columns) != m:
            raise ValueError(f"L has {len(L.columns)} columns but the model was fitted with {m} LFs")
        import dask

        shared = dask.delayed(kwargs, pure=True, traverse=False)  # one node of the graph, not one a partition
        part = dask.delayed(_posterior_partition, pure=True)
        blocks = [
            da.from_delayed(part(frame, shared, i), shape=(np.nan, k), dtype=np.float64)
            for i, frame in enumerate(L.to_delayed())
        ]
        return da.concatenate(blocks, axis=0)
    if L.ndim != 2:
        raise ValueError(f"L must be 2-dimensional (n rows x m labeling functions), got ndim={L.ndim}")
    if dask_columns(L) != m:
        raise ValueError(f"L has {L.shape[1]} columns but the model was fitted with {m} LFs")
    if len(L.chunks[1]) > 1:
        L = L.rechunk({1: -1})
    return da.map_blocks(_posterior_block, L, **kwargs, dtype=np.float64, chunks=(L.chunks[0], (k,)))


def _posterior_partition(frame: Any, kwargs: dict[str, Any], partition: int) -> np.ndarray:
    """:func:`_posterior_block` of a dask DataFrame's partition ``partition`` (a pandas DataFrame)."""
    return _posterior_block(frame, **kwargs, partition=partition)


def _posterior_block(
    block: Any,
    params: Any,
    cardinality: int,
    chunk_size: int | None,
    components: list[Any] | None = None,
    weights: np.ndarray | None = None,
    second: Any = None,
    guard: Any = None,
    block_info: dict[Any, Any] | None = None,
    partition: int | None = None,
) -> np.ndarray:
    from .inference import mixture_posterior, posterior
    from .matrix import LabelMatrixError, check_label_matrix
    from .ties import break_ties
    from .voted_guard import guard_votes

    try:  # the votes are checked as they are read; a bad one is named by its row in the whole matrix
        lm = check_label_matrix(block, cardinality, allow_empty=True)
        if components is not None:
            return mixture_posterior(lm, components, weights, chunk_size)
        P = posterior(lm, params, chunk_size)
        P = P if second is None else break_ties(P, lm, params, second)
        return guard_votes(P, lm, guard)
    except LabelMatrixError as exc:
        if partition is not None:  # a dask DataFrame's partition
            raise placed_error(exc, block, None, partition) from exc
        raise placed_error(exc, block, *block_place(block_info)) from exc
