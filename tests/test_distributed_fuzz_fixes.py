"""Fixes found by fuzzing the distributed and out-of-core paths (dask arrays and DataFrames, clusters,
statistics merged from blocks)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tripletws import LabelModel
from tripletws.datasets import make_synthetic
from tripletws.distributed import stats_from_blocks


def test_a_cell_that_is_not_a_number_is_named_by_its_row_in_the_whole_matrix():
    """A text cell in a later dask block or row block was named by its row within that block
    ('(column 1, row 400, holds 'x')' for row 2500): only the '(row N)' form of a place was shifted."""
    da = pytest.importorskip("dask.array")
    dask = pytest.importorskip("dask")
    L = make_synthetic(3000, 6, 3, random_state=0).L

    def spoil(block, block_info=None):
        if block_info[0]["chunk-location"][0] != 3:
            return block
        out = block.astype(object)
        out[400, 1] = "x"
        return out

    X = da.from_array(L, chunks=(700, -1)).map_blocks(spoil, dtype=L.dtype)
    place = r"\(column 1, row 2500, holds 'x'\)"
    with dask.config.set(scheduler="sync"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=place):
            LabelModel(3).fit(X)
        with pytest.raises(ValueError, match=place):
            LabelModel(3).fit(L).predict_proba(X).compute()
    text = L[2100:].astype(object)
    text[400, 1] = "x"
    with pytest.raises(ValueError, match=place):
        stats_from_blocks([L[:2100], text], 3)
    # a block whose place is unknown names the row within its block, and says how to know more
    keep = np.ones(3000, dtype=bool)
    masked = X[da.from_array(keep, chunks=700)]
    with dask.config.set(scheduler="sync"), pytest.raises(ValueError, match=r"row 400 of row block 3, holds"):
        LabelModel(3).fit(masked)
