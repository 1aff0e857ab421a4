"""The row accumulator past its cap (a bottom-k sketch over the rows' hashes) keeps what the
plain merge of :meth:`RowSummary._with` keeps: the same rows, counts, order and level.

Rows are small integers and counts whole numbers, so the comparisons are exact."""

from __future__ import annotations

import numpy as np
import pytest

import tripletws.rows as rows_module
from tripletws.rows import RowAccumulator, RowSummary, _hash, _key_words, _keys, row_dtype


def reference(L: np.ndarray, k: int, cap: int) -> RowSummary:
    """The summary of all rows at once, through the plain merge (one sort by key, then the cap)."""
    B = L.astype(row_dtype(k))
    _, first, c = np.unique(_keys(_key_words(B, k)), return_index=True, return_counts=True)
    return RowSummary.empty(L.shape[1], k, cap)._with([(B[first], c.astype(np.float64))])


def accumulate(L: np.ndarray, k: int, cap: int, step: int) -> tuple[RowSummary, RowAccumulator]:
    acc = RowAccumulator(L.shape[1], k, cap)
    for s in range(0, len(L), step):
        acc.add(L[s : s + step])
    return acc.summary(), acc


def labels(n: int, m: int, k: int, coverage: float, seed: int, copies: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    L = np.where(rng.random((n, m)) < coverage, rng.integers(0, k, (n, m)), -1).astype(np.int8)
    L = np.repeat(L, copies, axis=0)  # repeated rows: counts above one
    return L[rng.permutation(len(L))]


def assert_same(a: RowSummary, b: RowSummary) -> None:
    assert a.level == b.level
    assert a.rows.dtype == b.rows.dtype
    np.testing.assert_array_equal(a.rows, b.rows)
    np.testing.assert_array_equal(a.counts, b.counts)  # whole numbers: exact
    assert a.max_rows == b.max_rows


@pytest.mark.parametrize(
    ("n", "m", "k", "coverage", "cap", "step", "copies"),
    [
        (40_000, 50, 2, 0.5, 2_000, 3_000, 1),  # two key words, level 5
        (20_000, 50, 2, 0.5, 2_000, 3_000, 3),  # repeated rows across blocks
        (30_000, 30, 5, 0.3, 1_500, 2_000, 2),  # k = 5, one word
        (20_000, 8, 3, 0.6, 50, 700, 1),  # few possible rows, many repeats
        (5_000, 20, 2, 0.5, 10_000, 50, 1),  # under the cap, but more than 64 blocks wait
    ],
)
def test_sketch_keeps_the_rows_of_the_plain_merge(n, m, k, coverage, cap, step, copies):
    L = labels(n, m, k, coverage, seed=n + m + k, copies=copies)
    got, acc = accumulate(L, k, cap, step)
    assert acc.sketch is not None  # the sketch ran
    assert_same(got, reference(L, k, cap))
    # other chunkings, and a second summary of the same accumulator, give it again
    assert_same(accumulate(L, k, cap, 997)[0], got)
    assert_same(acc.summary(), got)


def test_sketch_merges_rows_whose_hashes_collide(monkeypatch):
    """With a hash of 3 bits (distinct rows collide all the time) the rows are still merged exactly."""
    monkeypatch.setattr(rows_module, "_hash", lambda words: (_hash(words) >> np.uint64(61)) << np.uint64(61))
    L = labels(6_000, 50, 2, 0.5, seed=7, copies=2)
    got, acc = accumulate(L, 2, 5_000, 1_000)
    assert acc.sketch is not None
    assert_same(got, reference(L, 2, 5_000))
    # a cap the collisions force to level 3 (the hashes then keep one value of eight)
    assert_same(accumulate(L, 2, 3_000, 1_000)[0], reference(L, 2, 3_000))


@pytest.mark.parametrize(
    ("n", "m", "k", "coverage", "cap", "step"),
    [
        (30_000, 400, 4, 0.01, 2_000, 4_000),  # a crowd: mostly distinct rows, the sketch
        (8_000, 60, 2, 0.05, 20_000, 1_000),  # under the cap: the plain merge
        (70_000, 30, 3, 0.02, 1_000, 70_000),  # blocks of BLOCK_ROWS within one chunk
    ],
)
def test_sparse_chunks_give_the_dense_summary(n, m, k, coverage, cap, step):
    """CSR chunks (the votes plus one) are keyed from their entries and made dense at the kept rows
    only; the summary is the one of the same rows dense, whatever the chunking."""
    import scipy.sparse as sp

    L = labels(n, m, k, coverage, seed=n + m)
    X = sp.csr_array(L.astype(np.int64) + 1)
    want = reference(L, k, cap)
    for chunk in (step, 997):
        acc = RowAccumulator(m, k, cap)
        for s in range(0, n, chunk):
            acc.add(X[s : s + chunk])
        assert_same(acc.summary(), want)


def test_small_matrix_stays_off_the_sketch():
    L = labels(3_000, 12, 2, 0.5, seed=1)
    got, acc = accumulate(L, 2, 20_000, 1_000)
    assert acc.sketch is None
    assert_same(got, reference(L, 2, 20_000))
