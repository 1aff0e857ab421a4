"""The packed row keys of the row summary: every word is the exact base-(k+1) number of its votes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tripletws.rows import _key_words, _sparse_key_words, row_dtype, unique_rows


def horner_words(rows: np.ndarray, k: int) -> list[list[int]]:
    """The reference: Python integers, digit by digit (votes + 1), most significant first."""
    base = k + 1
    per_word = max(1, int(63 / math.log2(base)))
    out = []
    for row in rows.tolist():
        words = []
        for start in range(0, len(row), per_word):
            w = 0
            for v in row[start : start + per_word]:
                w = w * base + v + 1
            words.append(w)
        out.append(words)
    return out


@pytest.mark.parametrize(
    ("k", "m"),
    [(2, 1), (2, 15), (2, 16), (2, 50), (3, 100), (9, 164), (127, 20), (300, 9), (30_000, 7), (1 << 25, 3)],
)
def test_key_words_are_the_exact_packed_votes(k, m):
    rng = np.random.default_rng(k + m)
    rows = np.where(rng.random((200, m)) < 0.5, rng.integers(0, k, (200, m)), -1).astype(row_dtype(k))
    rows[0] = k - 1  # the largest digits everywhere: the largest words
    rows[1] = -1
    words = _key_words(rows, k)
    assert words.tolist() == horner_words(rows, k)


@pytest.mark.parametrize(("k", "m"), [(2, 1), (2, 50), (3, 100), (7, 64), (9, 164), (127, 20), (30_000, 7)])
def test_sparse_key_words_are_the_dense_ones(k, m):
    """Keyed from the CSR entries (the votes plus one) without the dense copy: the same integers."""
    import scipy.sparse as sp

    rng = np.random.default_rng(k * m)
    rows = np.where(rng.random((300, m)) < 0.1, rng.integers(0, k, (300, m)), -1).astype(row_dtype(k))
    rows[0] = k - 1  # the largest word of every width (k = 7: 2**63 - 1)
    rows[1] = -1
    X = sp.csr_array((rows + 1).astype(np.int64))
    assert _sparse_key_words(X, k).tolist() == horner_words(rows, k)
    # an explicit zero and an entry stored twice read as toarray reads them
    dup = sp.csr_array((np.array([0, 1, 1]), (np.array([0, 1, 1]), np.array([0, 0, 0]))), shape=(2, m))
    want = (dup.toarray() - 1).astype(row_dtype(max(k, 3)))
    assert _sparse_key_words(dup, max(k, 3)).tolist() == horner_words(want, max(k, 3))


@pytest.mark.parametrize(
    ("k", "m", "n"),
    [(2, 1, 50), (2, 33, 600), (3, 100, 300), (6, 68, 250), (127, 20, 200), (2, 5, 1), (3, 4, 0)],
)
def test_unique_rows_are_numpys_rows_order_and_inverse(k, m, n):
    rng = np.random.default_rng(k * m + n)
    rows = np.where(rng.random((n, m)) < 0.2, rng.integers(0, k, (n, m)), -1).astype(row_dtype(k))
    rows = np.concatenate([rows, rows[rng.integers(0, max(n, 1), n // 2)]]) if n else rows  # repeats
    if n:
        rows[: n // 4, m // 2 :] = -1  # rows equal on their first words, different later
    unique, inverse = unique_rows(rows, k)
    want, want_inverse = np.unique(rows, axis=0, return_inverse=True)
    assert unique.dtype == rows.dtype
    np.testing.assert_array_equal(unique, want)
    np.testing.assert_array_equal(inverse, want_inverse.reshape(-1))
    np.testing.assert_array_equal(unique[inverse], rows)


def test_rows_taken_as_records_equal_numpy_indexing():
    from tripletws.rows import _take_rows

    rng = np.random.default_rng(3)
    for dtype, m in ((np.int8, 20), (np.int16, 7), (np.int8, 1)):
        rows = rng.integers(-1, 5, size=(300, m)).astype(dtype)
        mask = rng.random(300) < 0.4
        pos = rng.permutation(300)[:50]
        for index in (mask, pos, np.zeros(300, bool), np.arange(0)):
            got = _take_rows(rows, index)
            np.testing.assert_array_equal(got, rows[index])
            assert got.dtype == rows.dtype and got.shape == rows[index].shape
    sliced = np.arange(60, dtype=np.int8).reshape(6, 10)[:, ::2]  # not contiguous
    np.testing.assert_array_equal(_take_rows(sliced, [0, 5, 2]), sliced[[0, 5, 2]])
