"""The packed row keys of the row summary: every word is the exact base-(k+1) number of its votes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tripletws.rows import _key_words, row_dtype


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


@pytest.mark.parametrize(("k", "m"), [(2, 1), (2, 50), (3, 100), (9, 164), (127, 20), (300, 9), (30_000, 7)])
def test_key_words_are_the_exact_packed_votes(k, m):
    rng = np.random.default_rng(k + m)
    rows = np.where(rng.random((200, m)) < 0.5, rng.integers(0, k, (200, m)), -1).astype(row_dtype(k))
    rows[0] = k - 1  # the largest digits everywhere: the largest words
    rows[1] = -1
    words = _key_words(rows, k)
    assert words.tolist() == horner_words(rows, k)
