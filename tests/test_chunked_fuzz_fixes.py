"""Fixes found by fuzzing the paths that fit from data in pieces (dask blocks, row blocks, chunks)."""

from __future__ import annotations

import numpy as np
import pytest

from tripletws.datasets import make_synthetic
from tripletws.distributed import stats_from_blocks


def test_stats_from_blocks_names_the_row_of_the_stacked_blocks():
    """A bad vote in a later block was named by its row within that block ('row 50' for row 250 of
    the stacked matrix, whose statistics ``stats_from_blocks`` returns)."""
    L = make_synthetic(300, 5, 3, random_state=0).L.astype(np.int64)
    L[250, 3] = 7
    with pytest.raises(ValueError, match=r"value 7 in column 3 \(row 250\)"):
        stats_from_blocks(np.array_split(L, 3), 3)
    with pytest.raises(ValueError, match=r"value 7 in column 3 \(row 250\)"):
        stats_from_blocks(iter([L[:100], L[100:100], L[100:]]), 3)  # a generator, an empty block
    L[250, 3] = -1
    L[20, 1] = -4
    with pytest.raises(ValueError, match=r"value -4 in column 1 \(row 20\)"):
        stats_from_blocks([L[:7].tolist(), L[7:]], 3)
