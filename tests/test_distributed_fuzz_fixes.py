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


def _frames(n: int = 3000, m: int = 6, k: int = 3, seed: int = 0):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    L = make_synthetic(n, m, k, random_state=seed).L
    names = [f"lf{j}" for j in range(m)]
    # a non-default index: a frame's rows are named by their index, not their position
    frame = pd.DataFrame(L, columns=names, index=np.arange(n) * 7 + 3)
    return L, names, frame, dd.from_pandas(frame, npartitions=4, sort=False)


def test_a_dask_dataframe_is_read_partition_by_partition_with_its_column_names():
    """A dask DataFrame was computed whole into one numpy array (np.asarray), its column names dropped:
    fit kept no ``lf_names_``, and predict_proba on its columns in another order silently read each
    column as another LF.  predict_proba returned a numpy array where dask input gives a lazy dask
    array (as documented).  Now its partitions are the row blocks (read as pandas input is), the names
    are kept and checked, and predict_proba is lazy, in the frame's row order."""
    da = pytest.importorskip("dask.array")
    dask = pytest.importorskip("dask")
    L, names, frame, ddf = _frames()
    with warnings.catch_warnings(), dask.config.set(scheduler="sync"):
        warnings.simplefilter("ignore")
        eager = LabelModel(3).fit(frame)
        lazy = LabelModel(3).fit(ddf)
        assert lazy.lf_names_ == tuple(names)
        # the same whole-number statistics, summed in another order: the fits agree to rounding
        np.testing.assert_allclose(lazy.params_.cond_probs, eager.params_.cond_probs, rtol=0, atol=1e-9)
        P = eager.predict_proba(ddf)
        assert isinstance(P, da.Array)
        np.testing.assert_array_equal(P.compute(), eager.predict_proba(L))  # the same rows, one model
        assert np.array_equal(eager.predict(ddf), eager.predict(L))
        with pytest.raises(ValueError, match="names the model's LFs in another order"):
            eager.predict_proba(ddf[names[::-1]])
        with pytest.raises(ValueError, match="in another order"):
            lazy.partial_fit(ddf[names[::-1]])
        # a filter that empties partitions: the rows kept, in order
        kept = ddf[ddf["lf0"] != -1]
        keep = L[:, 0] != -1
        np.testing.assert_array_equal(eager.predict_proba(kept).compute(), eager.predict_proba(L[keep]))
        refit = LabelModel(3).fit(kept)
        np.testing.assert_allclose(
            refit.params_.cond_probs, LabelModel(3).fit(L[keep]).params_.cond_probs, rtol=0, atol=1e-9
        )


def test_dask_dataframe_columns_pandas_reads():
    """Nullable Int64 columns were refused with 'must hold integers, got dtype object (column 2, row
    2994, holds <NA>)' and categorical columns with 'got dtype object', where the same pandas frame
    fits (categorical) or names the missing vote like any NaN.  Each partition is now read as the
    pandas frame it is: a missing vote is named by its row in its partition, its index and its column."""
    dask = pytest.importorskip("dask")
    dd = pytest.importorskip("dask.dataframe")
    L, _, frame, _ = _frames()
    with warnings.catch_warnings(), dask.config.set(scheduler="sync"):
        warnings.simplefilter("ignore")
        eager = LabelModel(3).fit(frame)
        categorical = dd.from_pandas(frame.astype("category"), npartitions=3, sort=False)
        lazy = LabelModel(3).fit(categorical)
        np.testing.assert_allclose(lazy.params_.cond_probs, eager.params_.cond_probs, rtol=0, atol=1e-9)
        np.testing.assert_array_equal(eager.predict_proba(categorical).compute(), eager.predict_proba(L))
        nullable = frame.astype("Int64")
        nullable.iloc[1500, 2] = None  # pd.NA: not an abstain (write -1), as for pandas input
        missing = dd.from_pandas(nullable, npartitions=3, sort=False)
        place = r"NaN in column 2 \('lf2'\) \(row 500 of partition 1, index 10503\)"
        with pytest.raises(ValueError, match=place):
            LabelModel(3).fit(missing)
        with pytest.raises(ValueError, match=place):
            eager.predict_proba(missing).compute()
        nullable.iloc[1500, 2] = int(L[1500, 2])
        good = dd.from_pandas(nullable, npartitions=3, sort=False)
        np.testing.assert_allclose(
            LabelModel(3).fit(good).params_.cond_probs, eager.params_.cond_probs, rtol=0, atol=1e-9
        )


def test_pandas_blocks_of_stats_from_blocks_name_the_row_of_the_stacked_blocks():
    """A bad vote of a DataFrame block given to ``stats_from_blocks`` was named by its column index alone
    (pandas input names the column too; the partition naming of dask DataFrames, 847211c, briefly named
    it by its place in its block).  Blocks whose places are known are named by their row in the stacked
    blocks, with the column's name; only a dask DataFrame's partitions are named by partition and index."""
    frame = _frames()[2]
    bad = frame.astype("Int64")
    bad.iloc[2500, 4] = None
    with pytest.raises(ValueError, match=r"NaN in column 4 \('lf4'\) \(row 2500\)"):
        stats_from_blocks([bad.iloc[:1000], bad.iloc[1000:]], 3)
