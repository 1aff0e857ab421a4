"""Distributed statistics equal single-pass statistics exactly."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import binary_batching_tolerance

from tripletws import LabelModel, compute_stats
from tripletws.datasets import make_synthetic
from tripletws.distributed import stats_from_blocks


def _same(a, b):
    assert a.n_rows == b.n_rows
    for name in ("class_counts", "covote", "agree"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize("k", [2, 4])
def test_blocks_through_an_executor_match_one_pass(k):
    d = make_synthetic(5_000, 7, k, random_state=3)
    blocks = np.array_split(d.L, 5)
    with ThreadPoolExecutor(2) as ex:
        merged = stats_from_blocks(blocks, k, map_fn=ex.map)
    _same(merged, compute_stats(d.L, k))


def test_dask_array_fit_and_predict_match_numpy():
    da = pytest.importorskip("dask.array")
    from tripletws.distributed import compute_stats_dask, predict_proba_dask

    d = make_synthetic(6_000, 8, 3, random_state=4)
    X = da.from_array(d.L, chunks=(1_000, 4))  # column-split blocks get rechunked
    _same(compute_stats_dask(X, 3), compute_stats(d.L, 3))
    # the default (class-conditional) model needs the joint table and the third moment
    stats = compute_stats_dask(X, 3, joint=True, triple=True)
    np.testing.assert_array_equal(stats.triple, compute_stats(d.L, 3, triple=True).triple)
    lm = LabelModel(3, model="class_conditional").fit_stats(stats)
    ref = LabelModel(3, model="class_conditional").fit(d.L)
    np.testing.assert_allclose(lm.accuracies_, ref.accuracies_)
    np.testing.assert_allclose(predict_proba_dask(lm, X).compute(), ref.predict_proba(d.L))


def test_label_model_fit_accepts_a_dask_array():
    da = pytest.importorskip("dask.array")
    d = make_synthetic(8_000, 9, 2, random_state=5)
    X = da.from_array(d.L, chunks=(1_500, 9))
    for model in ("symmetric", "class_conditional"):
        lazy = LabelModel(2, model=model).fit(X)
        eager = LabelModel(2, model=model).fit(d.L)
        np.testing.assert_allclose(lazy.accuracies_, eager.accuracies_, atol=1e-12)
        probs = lazy.predict_proba(X)
        assert hasattr(probs, "compute")
        # binary posteriors from float32 log-odds products: a row's rounding depends on its block
        tol = binary_batching_tolerance(eager, d.L)
        np.testing.assert_allclose(probs.compute(), eager.predict_proba(d.L), rtol=0, atol=tol)


def test_predict_on_an_empty_batch():
    d = make_synthetic(2_000, 5, 3, random_state=6)
    lm = LabelModel(3, model="class_conditional").fit(d.L)
    assert lm.predict_proba(d.L[:0]).shape == (0, 3)


def test_dask_errors_name_rows_of_the_whole_matrix_and_shapes_up_front():
    """A bad vote in a later dask block is named by its row in the whole matrix (as for numpy input),
    and a wrong ndim or column count is a ValueError when the call is made, not at compute."""
    da = pytest.importorskip("dask.array")
    import warnings

    from tripletws.distributed import compute_stats_dask

    L = make_synthetic(3000, 6, 2, random_state=0).L
    bad = L.copy()
    bad[1200, 3] = 5
    lazy = da.from_array(bad, chunks=(500, -1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2).fit(L)
        with pytest.raises(ValueError, match=r"value 5 in column 3 \(row 1200\)"):
            LabelModel(2).fit(lazy)
        with pytest.raises(ValueError, match=r"value 5 in column 3 \(row 1200\)"):
            model.predict_proba(lazy).compute()
        with pytest.raises(ValueError, match=r"value 5 in column 3 \(row 1200\)"):
            compute_stats_dask(lazy, 2)
        with pytest.raises(ValueError, match="must be 2-dimensional"):
            LabelModel(2).fit(da.from_array(np.zeros(10, dtype=int)))
        with pytest.raises(ValueError, match="L has 5 columns but the model was fitted with 6 LFs"):
            model.predict_proba(da.from_array(L[:, :5]))
        good = model.predict_proba(da.from_array(L, chunks=(700, -1))).compute()
    # binary posteriors: float32 log-odds products, whose rounding depends on a row's place in its
    # block (BLAS kernels differ by processor: 7.4e-9 on a SkylakeX core type, under 1e-12 on another)
    tol = binary_batching_tolerance(model, L)
    np.testing.assert_allclose(good, model.predict_proba(L), rtol=0, atol=tol)


def test_majority_voter_is_lazy_on_dask_input():
    """MajorityLabelVoter.predict_proba returns a dask array for dask input, as LabelModel's does."""
    da = pytest.importorskip("dask.array")
    from tripletws import MajorityLabelVoter

    L = make_synthetic(3000, 6, 3, random_state=0).L
    lazy = MajorityLabelVoter(3).predict_proba(da.from_array(L, chunks=(700, 3)))
    assert isinstance(lazy, da.Array) and lazy.shape == (3000, 3)
    np.testing.assert_array_equal(lazy.compute(), MajorityLabelVoter(3).predict_proba(L))


def test_dask_arrays_whose_chunk_sizes_are_unknown():
    """A boolean-masked dask array (unknown chunk sizes) used to fail to fit with 'cannot convert float
    NaN to integer'; MajorityLabelVoter named a bad vote by its row within its block."""
    da = pytest.importorskip("dask.array")
    import warnings

    from tripletws import MajorityLabelVoter

    L = make_synthetic(2000, 6, 3, random_state=4).L
    keep = np.arange(2000) % 3 != 0
    masked = da.from_array(L, chunks=(300, -1))[da.from_array(keep, chunks=300)]
    assert np.isnan(masked.chunks[0][1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for model in ("annotator", "class_conditional", "symmetric"):
            lazy = LabelModel(3, model=model).fit(masked)
            eager = LabelModel(3, model=model).fit(L[keep])
            np.testing.assert_allclose(lazy.params_.cond_probs, eager.params_.cond_probs, rtol=0, atol=1e-9)
        bad = L.copy()
        bad[1000, 2] = 7
        masked_bad = da.from_array(bad, chunks=(300, -1))[da.from_array(keep, chunks=300)]
        unsized = r"value 7 in column 2 \(row \d+ of row block 3; .*compute_chunk_sizes"
        with pytest.raises(ValueError, match=unsized):
            LabelModel(3).fit(masked_bad)
        with pytest.raises(ValueError, match=r"value 7 in column 2 \(row 1000\)"):
            MajorityLabelVoter(3).predict_proba(da.from_array(bad, chunks=(300, -1))).compute()


def test_dask_row_blocks_left_empty_by_a_filter():
    """A boolean mask that removes every row of one block (filtering) left a 0-row block, and fit
    raised 'dask block has no rows' for every model (numpy fitted the same rows); a matrix whose every
    block is empty is refused as numpy's is."""
    da = pytest.importorskip("dask.array")
    import warnings

    from tripletws.distributed import compute_stats_dask
    from tripletws.stats import compute_stats

    L = make_synthetic(3000, 6, 2, random_state=0).L
    keep = np.ones(3000, dtype=bool)
    keep[500:1000] = False
    masked = da.from_array(L, chunks=(500, -1))[da.from_array(keep, chunks=500)]
    sized = da.from_array(L[keep], chunks=((500, 0, 2000), (6,)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for model in ("annotator", "class_conditional", "symmetric"):
            eager = LabelModel(2, model=model).fit(L[keep])
            for X in (masked, sized):
                lazy = LabelModel(2, model=model).fit(X)
                np.testing.assert_allclose(
                    lazy.params_.cond_probs, eager.params_.cond_probs, rtol=0, atol=1e-9
                )
    np.testing.assert_array_equal(compute_stats_dask(masked, 2).covote, compute_stats(L[keep], 2).covote)
    empty = da.from_array(np.zeros((0, 4), dtype=np.int8), chunks=((0,), (4,)))
    with pytest.raises(ValueError, match="no rows"):
        LabelModel(2).fit(empty)
    with pytest.raises(ValueError, match="no rows"):
        compute_stats_dask(empty, 2)
