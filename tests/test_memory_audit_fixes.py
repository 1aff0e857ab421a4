"""Memory audit: allocations out of proportion to the data (widening copies, dense copies of sparse crowds).

Each test asserts on the mechanism (the dtype kept, or a tracemalloc peak on a small input with a
generous margin below what the removed copy alone would take), not on the process's memory.
"""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from tripletws.analysis import LFAnalysis, lf_summary_arrays, matrix_summary_arrays
from tripletws.matrix import DEFAULT_CHUNK_CELLS, from_metal, from_sparse
from tripletws.metrics import score


def _peak(fn, *args, **kwargs) -> int:
    """Peak bytes traced while ``fn`` runs (its result is dropped)."""
    tracemalloc.start()
    try:
        fn(*args, **kwargs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _crowd(n: int = 4000, m: int = 400, k: int = 3, per_row: int = 5, seed: int = 0):
    """A sparse crowd (class c stored as c + 1) with ``per_row`` votes a row, and gold labels."""
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n), per_row)
    cols = np.concatenate([rng.choice(m, per_row, replace=False) for _ in range(n)])
    y = rng.integers(0, k, n)
    votes = np.where(rng.random(n * per_row) < 0.7, y[rows], rng.integers(0, k, n * per_row))
    S = sp.csr_array(((votes + 1).astype(np.int8), (rows, cols)), shape=(n, m))
    y[rng.random(n) < 0.2] = -1
    return S, y


def _naive_lf_summary(L: np.ndarray, y: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Overlaps, conflicts and gold counts by their definitions, LF by LF and row by row."""
    n, m = L.shape
    out = {key: np.zeros(m) for key in ("overlaps", "conflicts", "correct", "incorrect")}
    for r in range(n):
        voters = np.flatnonzero(L[r] >= 0)
        for i in voters:
            others = [j for j in voters if j != i]
            out["overlaps"][i] += bool(others)
            out["conflicts"][i] += any(L[r, j] != L[r, i] for j in others)
            if y[r] >= 0:
                out["correct" if L[r, i] == y[r] else "incorrect"][i] += 1
    for key in ("overlaps", "conflicts"):
        out[key] /= n
    return out


def test_from_sparse_shifts_in_the_narrow_type():
    # before: the dense (n, m) copy went through int64 (8 bytes a cell) before int8
    S, _ = _crowd()
    cells = S.shape[0] * S.shape[1]
    dense = from_sparse(S)
    assert dense.dtype == np.int8
    expected = np.full(S.shape, -1, dtype=np.int8)
    coo = S.tocoo()
    expected[coo.row, coo.col] = coo.data - 1
    np.testing.assert_array_equal(dense, expected)
    # int16 toarray (2 bytes a cell) and the int8 result (1): 3 bytes a cell, not 11
    assert _peak(from_sparse, S) < 5 * cells


def test_from_sparse_wide_classes_and_unsigned_storage():
    L = np.array([[-1, 0, 199], [5, -1, -1]])
    S = sp.csr_matrix((L + 1).astype(np.uint8))
    out = from_sparse(S, 200)
    assert out.dtype == np.int16
    np.testing.assert_array_equal(out, L)


_CROWD_CALLS = {
    "lf_summary_arrays": lambda S, y: lf_summary_arrays(S),
    "lf_summary_arrays_gold": lambda S, y: lf_summary_arrays(S, y),
    "matrix_summary_arrays": lambda S, y: matrix_summary_arrays(S),
    "lf_empirical_probs": lambda S, y: LFAnalysis(S).lf_empirical_probs(y, 3),
}


@pytest.mark.parametrize("name", list(_CROWD_CALLS))
def test_crowd_summaries_never_make_a_chunk_dense(name, monkeypatch):
    # before: each chunk of a sparse crowd went through from_sparse (a dense (rows, m) copy, and an
    # int64 one): a 1e4 x 2 000 crowd with 5 votes a row peaked 381 MB in lf_summary_arrays
    S, y = _crowd(n=500, m=50)

    def refuse(self, *args, **kwargs):
        raise AssertionError("a sparse chunk was made dense")

    monkeypatch.setattr(sp.csr_array, "toarray", refuse)
    monkeypatch.setattr(sp.csr_matrix, "toarray", refuse)
    _CROWD_CALLS[name](S, y)


@pytest.mark.parametrize("name", ["lf_summary_arrays", "lf_summary_arrays_gold", "lf_empirical_probs"])
def test_crowd_summaries_peak_in_proportion_to_the_votes(name):
    # the per-LF figures need arrays the size of the votes (here 50 000, in a 1e7-cell matrix)
    S, y = _crowd(n=10000, m=1000)
    assert _peak(_CROWD_CALLS[name], S, y) < 100 * S.nnz


def test_crowd_summaries_equal_the_dense_ones():
    S, y = _crowd(n=3000, m=40, k=4, per_row=4, seed=1)
    D = from_sparse(S)
    for gold in (None, y):
        sparse_out, dense_out = lf_summary_arrays(S, gold), lf_summary_arrays(D, gold)
        assert sparse_out.keys() == dense_out.keys()
        for key, value in dense_out.items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(sparse_out[key], value, err_msg=key)
                assert sparse_out[key].dtype == value.dtype
            else:
                assert sparse_out[key] == value, key
    for key, value in matrix_summary_arrays(D).items():
        np.testing.assert_array_equal(matrix_summary_arrays(S)[key], value, err_msg=key)
    np.testing.assert_array_equal(
        LFAnalysis(S).lf_empirical_probs(y, 4), LFAnalysis(D).lf_empirical_probs(y, 4)
    )


@pytest.mark.parametrize("sparse", [False, True])
def test_lf_summary_arrays_matches_the_definitions(sparse):
    rng = np.random.default_rng(7)
    L = rng.integers(-1, 4, size=(300, 6))
    L[rng.random(L.shape) < 0.5] = -1
    L[:5] = -1  # rows without votes
    L[5:10, 1:] = -1  # rows with one vote
    y = rng.integers(-1, 4, 300)
    given = sp.csr_array(L + 1) if sparse else L.astype(np.int8)
    got = lf_summary_arrays(given, y, 4)
    for key, value in _naive_lf_summary(L, y, 4).items():
        np.testing.assert_array_equal(got[key], value, err_msg=key)


def test_dense_lf_summary_arrays_does_not_widen_chunks():
    # before: np.where(V, B, 0).astype(np.intp) made an 8-byte copy of every int8 chunk
    m = 16
    L = np.random.default_rng(0).integers(-1, 2, size=(4 * DEFAULT_CHUNK_CELLS // m, m)).astype(np.int8)
    assert _peak(lf_summary_arrays, L) < 10 * DEFAULT_CHUNK_CELLS  # before: 27 bytes a chunk cell, now 5


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int64])
def test_from_metal_shifts_in_the_narrow_output_type(dtype):
    # before: (arr.astype(np.int64) - 1): an 8-byte copy of the whole matrix, then the int8 one
    rng = np.random.default_rng(0)
    metal = rng.integers(0, 4, size=(50000, 20)).astype(dtype)
    kept = metal.copy()
    out = from_metal(metal)
    assert out.dtype == np.int8
    np.testing.assert_array_equal(out, kept.astype(np.int64) - 1)
    np.testing.assert_array_equal(metal, kept)  # the caller's array is left alone
    assert _peak(from_metal, metal) < 3 * metal.size


def test_from_metal_many_classes():
    metal = np.array([[0, 1, 200], [127, 128, 0]], dtype=np.uint8)
    out = from_metal(metal)
    assert out.dtype == np.int16
    np.testing.assert_array_equal(out, metal.astype(np.int64) - 1)


def test_brier_temporaries_are_a_step_not_the_matrix():
    # before: a one-hot (n, k) float64 matrix, the difference and its square: three copies of probs,
    # plus probs[gold] (a fourth) where every row has a gold label
    rng = np.random.default_rng(0)
    n, k = 200_000, 4
    P = rng.dirichlet(np.ones(k), size=n)
    y = rng.integers(0, k, n)
    expected = float(np.mean(np.sum((P - np.eye(k)[y]) ** 2, axis=1)))
    assert score(y, P.argmax(axis=1), P, k, ["brier"])["brier"] == expected
    # the checks' temporaries (n-long, and (n, k) booleans) and one step's: 1.7 x P, was 4.3 x P
    assert _peak(score, y, P.argmax(axis=1), P, k, ["brier"]) < 2.5 * P.nbytes


def test_brier_with_rows_without_gold():
    rng = np.random.default_rng(1)
    P = rng.dirichlet(np.ones(3), size=70_001)
    y = rng.integers(-1, 3, len(P))
    g = y >= 0
    expected = float(np.mean(np.sum((P[g] - np.eye(3)[y[g]]) ** 2, axis=1)))
    got = score(y, P.argmax(axis=1), P, 3, ["brier"])["brier"]
    np.testing.assert_allclose(got, expected, rtol=1e-14)


def test_row_summary_block_rows_shift_in_the_narrow_type():
    # before: (toarray() - 1).astype(int8) held two int16 (rows, m) arrays at once (4 bytes a cell);
    # now the int16 toarray and the int8 result (3)
    from tripletws.matrix import check_label_matrix
    from tripletws.rows import _Block

    S, _ = _crowd(n=2000, m=500)
    block = _Block(check_label_matrix(S, 3).data, 3)
    index = np.arange(S.shape[0])
    rows = block.rows(index)
    assert rows.dtype == np.int8
    np.testing.assert_array_equal(rows, from_sparse(S, 3))
    assert _peak(block.rows, index) < 3.5 * S.shape[0] * S.shape[1]


def test_csv_checks_make_no_float64_copy_of_the_matrix(tmp_path):
    # before: np.round(arr) (and np.abs(arr)) made float64 copies of the whole parsed matrix:
    # a 1e5 x 20 CSV peaked 36 MB, now 20 MB (loadtxt's float64 array and the int16 result)
    from tripletws.files import read_matrix

    L = np.random.default_rng(0).integers(-1, 3, size=(20000, 10))
    path = tmp_path / "L.csv"
    np.savetxt(path, L, fmt="%d", delimiter=",")
    got = read_matrix(path)
    assert got.dtype == np.int16
    np.testing.assert_array_equal(got, L)
    assert _peak(read_matrix, path) < 1.8 * 8 * L.size  # now 1.5, before 2.25


def test_probs_to_preds_keeps_argmax_array():
    # before: argmax's int64 array was copied by .astype(np.int64) (8 bytes a row more)
    from tripletws.predictions import probs_to_preds

    rng = np.random.default_rng(0)
    n = 200_000
    P = rng.dirichlet(np.ones(2), size=n)
    preds = probs_to_preds(P)
    assert preds.dtype == np.int64
    clear = np.abs(P[:, 0] - P[:, 1]) > 1e-5  # rows without a tie to break
    np.testing.assert_array_equal(preds[clear], np.argmax(P[clear], axis=1))
    # (n, 2) booleans, the row maxima, the tied counts and the predictions: 20 bytes a row, was 28
    assert _peak(probs_to_preds, P) < 24 * n


def test_matrix_summary_pair_tables_of_a_few_lfs_from_their_columns(monkeypatch):
    import tripletws.stats

    S, _ = _crowd(n=600, m=120)
    full = matrix_summary_arrays(S)
    lfs = np.array([5, 0, 119, 60])
    seen = []
    real = tripletws.stats.compute_stats

    def spy(lm, *args, **kwargs):
        seen.append(lm.m)
        return real(lm, *args, **kwargs)

    monkeypatch.setattr(tripletws.stats, "compute_stats", spy)
    for X in (S, from_sparse(S)):
        sub = matrix_summary_arrays(X, lfs=lfs)
        for key in ("pair_overlap", "pair_conflict"):
            np.testing.assert_array_equal(sub[key], full[key][np.ix_(lfs, lfs)])
        for key in ("n_rows", "coverage", "overlap", "conflict"):
            assert sub[key] == full[key]
    assert seen == [len(lfs), len(lfs)]  # the statistics of the 4 LFs' columns, not of all 120


def test_report_pair_tables_only_for_the_drawn_lfs(monkeypatch):
    # before: the report built the (m, m) pair tables of every LF and drew MAX_PLOTTED_LFS of them
    # (a 1 500 x 300 crowd: peak 142.8 -> 101.7 MB, 81.8 -> 19.2 s, the same HTML)
    pytest.importorskip("matplotlib")
    import tripletws.report
    from tripletws import LabelModel

    S, y = _crowd(n=400, m=80)
    model = LabelModel(3).fit(S)
    shapes = []
    real = tripletws.report.matrix_summary_arrays

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        shapes.append(out["pair_overlap"].shape)
        return out

    monkeypatch.setattr(tripletws.report, "matrix_summary_arrays", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.report(S, y, n_boot=2)
    n = tripletws.report.MAX_PLOTTED_LFS
    assert shapes == [(n, n)]
