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
    (``None`` from the first block whose row count is unknown); read lazily, as ``blocks`` is."""
    at: int | None = 0
    for index, block in enumerate(blocks):
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
    from .matrix import LabelMatrixError, check_label_matrix, rows_shifted
    from .stats import stats_pass

    try:  # a block may hold no rows (a filter removed them all): its statistics are zeros
        lm = check_label_matrix(block, cardinality, name="dask block", allow_empty=True)
        return stats_pass(lm, joint=joint, triple=triple, n_jobs=1)[0]
    except LabelMatrixError as exc:
        raise rows_shifted(exc, start, index) from exc


def compute_stats_dask(L: Any, cardinality: int, *, joint: bool = False, triple: bool = False) -> LabelStats:
    """:class:`LabelStats` of a 2-D ``dask.array`` by a map over row blocks and a tree sum.

    Blocks split along columns are first rechunked to whole rows.  ``joint`` and
    ``triple`` as in :func:`~tripletws.stats.compute_stats` (both are needed by the
    class-conditional model).
    """
    import dask

    k = check_cardinality(cardinality)
    if L.ndim != 2:
        raise ValueError(f"L must be 2-dimensional, got ndim={L.ndim}")
    dask_columns(L)
    if len(L.chunks[1]) > 1:
        L = L.rechunk({1: -1})
    if L.shape[1] < 1:
        raise ValueError("L has no columns")
    blocks = L.to_delayed().ravel()
    stats = dask.delayed(_block_stats)
    starts = row_block_starts(L)
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
    """Lazy ``model.predict_proba`` over a 2-D ``dask.array``: returns a dask array (n, k).

    The task graph holds the small fitted parameter object (``model.params_``:
    an (m, k + 1, k) table and the class balance), not the model with its
    statistics, so it stays small however the model was fitted.
    """
    import dask.array as da

    if L.ndim != 2:
        raise ValueError(f"L must be 2-dimensional (n rows x m labeling functions), got ndim={L.ndim}")
    m = int(model.params_.n_lfs)
    if dask_columns(L) != m:
        raise ValueError(f"L has {L.shape[1]} columns but the model was fitted with {m} LFs")
    if len(L.chunks[1]) > 1:
        L = L.rechunk({1: -1})
    k = int(model.params_.cardinality)  # the fitted classes
    # the default model's families combined (combine="stack" / "pseudo_bma"): their tables travel instead
    estimate = getattr(getattr(model, "solution_", None), "estimate", None)
    mixture = getattr(estimate, "mixture", None)
    return da.map_blocks(
        _posterior_block,
        L,
        params=model.params_,
        cardinality=k,
        chunk_size=getattr(model, "chunk_size", None),
        components=None if mixture is None else list(mixture.components),
        weights=None if mixture is None else mixture.weights,
        second=getattr(estimate, "tie_break", None),  # the fit that breaks ties (tripletws.ties)
        dtype=np.float64,
        chunks=(L.chunks[0], (k,)),
    )


def _posterior_block(
    block: Any,
    params: Any,
    cardinality: int,
    chunk_size: int | None,
    components: list[Any] | None = None,
    weights: np.ndarray | None = None,
    second: Any = None,
    block_info: dict[Any, Any] | None = None,
) -> np.ndarray:
    from .inference import mixture_posterior, posterior
    from .matrix import LabelMatrixError, check_label_matrix, rows_shifted
    from .ties import break_ties

    try:  # the votes are checked as they are read; a bad one is named by its row in the whole matrix
        lm = check_label_matrix(block, cardinality, allow_empty=True)
        if components is not None:
            return mixture_posterior(lm, components, weights, chunk_size)
        P = posterior(lm, params, chunk_size)
        return P if second is None else break_ties(P, lm, params, second)
    except LabelMatrixError as exc:
        raise rows_shifted(exc, *block_place(block_info)) from exc
