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


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        (9, r"stored value 9 \(class 8\) in column 3 \(row 250\)"),
        (-2, r"value -2(\.0)? in column 3 \(row 250\)"),
        (np.nan, r"NaN in column 3 \(row 250\)"),
        (1.5, r"non-integer value 1.5 in column 3 \(row 250\)"),
    ],
)
def test_sparse_bad_values_name_their_row(stored, message):
    """A bad stored value of a scipy.sparse matrix was named by its column alone, where the same vote in
    a dense matrix (or a dask block, a chunk) is named by its row and column."""
    sp = pytest.importorskip("scipy.sparse")
    from tripletws import LabelModel

    L = make_synthetic(300, 5, 3, random_state=0).L.astype(np.float64)
    L[260, 1] = 2.5 if stored == 1.5 else L[260, 1]  # a later bad value: the first one is named
    X = sp.csr_array(L + 1)
    X[250, 3] = stored
    with pytest.raises(ValueError, match=message):
        LabelModel(3).fit(X)
    with pytest.raises(ValueError, match=message):
        stats_from_blocks([X[:100], X[100:]], 3)


def test_dask_array_with_an_unknown_number_of_columns():
    """LFs filtered by a lazy mask leave a dask array whose column count is unknown (NaN): fit failed
    with "cannot convert float NaN to integer", predict_proba said "L has nan columns but the model was
    fitted with 6 LFs", compute_stats_dask and majority vote raised dask's unknown-chunks error at
    their first step.  Each now says that the number of LFs is unknown and how to find it."""
    da = pytest.importorskip("dask.array")
    from tripletws import LabelModel, MajorityLabelVoter
    from tripletws.distributed import compute_stats_dask

    L = make_synthetic(600, 8, 3, random_state=2).L
    keep = np.array([1, 1, 0, 1, 1, 1, 0, 1], dtype=bool)
    X = da.from_array(L, chunks=(200, 4))[:, da.from_array(keep, chunks=4)]
    assert np.isnan(X.shape[1])
    message = r"number of columns \(LFs\) is unknown.*compute_chunk_sizes"
    model = LabelModel(3).fit(L[:, keep])
    with pytest.raises(ValueError, match=message):
        LabelModel(3).fit(X)
    with pytest.raises(ValueError, match=message):
        model.partial_fit(X)
    with pytest.raises(ValueError, match=message):
        model.predict_proba(X)
    with pytest.raises(ValueError, match=message):
        compute_stats_dask(X, 3)
    with pytest.raises(ValueError, match=message):
        MajorityLabelVoter(3).predict_proba(X)
    X.compute_chunk_sizes()  # what the message asks for: then the LFs are known and the fit the same
    lazy = LabelModel(3).fit(X)
    np.testing.assert_allclose(lazy.params_.cond_probs, model.params_.cond_probs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(model.predict_proba(X).compute(), model.predict_proba(L[:, keep]), atol=1e-12)


def test_statistics_of_no_rows_are_refused():
    """Blocks that hold no rows gave ``stats_from_blocks`` zero statistics (``compute_stats`` and
    ``compute_stats_dask`` of the same rows raise 'no rows'), and ``fit_stats`` fitted them: every LF at
    accuracy 1/k from no data."""
    from tripletws import LabelModel, LabelStats

    L = make_synthetic(100, 6, 3, random_state=2).L
    with pytest.raises(ValueError, match="no rows"):
        stats_from_blocks([L[:0], L[:0]], 3)
    for model in ("annotator", "class_conditional", "symmetric"):
        with pytest.raises(ValueError, match="no rows"):
            LabelModel(3, model=model).fit_stats(LabelStats.zeros(6, 3, joint=True, triple=True))
    assert stats_from_blocks([L[:0], L], 3).n_rows == 100  # an empty block among others is fine


def test_float_matrix_is_converted_block_by_block_naming_the_global_row(tmp_path):
    """A float memmap is checked and converted in row blocks: the same int16 votes as a whole
    conversion, and a bad value past the first block is named by its row in the matrix."""
    from tripletws.matrix import DEFAULT_CHUNK_CELLS, check_label_matrix

    m = 4
    n = 3 * (16 * DEFAULT_CHUNK_CELLS) // m + 5  # three blocks and a few rows
    rng = np.random.default_rng(0)
    votes = rng.integers(-1, 3, size=(n, m))
    path = tmp_path / "L.npy"
    np.save(path, votes.astype(np.float32))
    L = np.load(path, mmap_mode="r")
    assert np.array_equal(np.asarray(check_label_matrix(L, 3).data), votes)
    bad = votes.astype(np.float64)
    row = n - 2
    bad[row, 1] = 0.5
    with pytest.raises(ValueError, match=rf"non-integer value 0\.5 in column 1 \(row {row}\)"):
        check_label_matrix(bad, 3)
    bad[row, 1] = np.nan
    with pytest.raises(ValueError, match=rf"NaN in column 1 \(row {row}\)"):
        check_label_matrix(bad, 3)
