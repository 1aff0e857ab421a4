"""A sparse chunk's row index and classes are built once: ``_sparse_votes`` hands them to
``sparse_class_counts``, whose counts (and the LF summaries read from them) stay the same."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from tripletws.analysis import LFAnalysis, _sparse_votes, lf_summary_arrays, matrix_summary_arrays
from tripletws.kernels import sparse_class_counts


def _crowd(n, m, k, per, seed, empty_rows=0):
    """CSR crowd (class c stored as c + 1): ``per`` answers per task, the last ``empty_rows`` tasks none."""
    rng = np.random.default_rng(seed)
    counts = np.full(n, per)
    counts[n - empty_rows :] = 0
    cols = np.concatenate([np.sort(rng.choice(m, c, replace=False)) for c in counts])
    data = rng.integers(1, k + 1, counts.sum()).astype(np.int8)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return sp.csr_array((data, cols, indptr), shape=(n, m))


def _reference_counts(block, k):
    """The counts as ``sparse_class_counts`` took them before (its own row index)."""
    nc = block.shape[0]
    rows = np.repeat(np.arange(nc, dtype=np.int64), np.diff(block.indptr))
    return np.bincount(rows * k + (block.data.astype(np.int64) - 1), minlength=nc * k).reshape(nc, k)


CROWDS = [
    (_crowd(300, 40, 3, 4, 0), 3),
    (_crowd(257, 9, 2, 1, 1, empty_rows=30), 2),
    (_crowd(50, 12, 5, 6, 2), 5),
]


@pytest.mark.parametrize("block, k", CROWDS)
def test_counts_with_the_callers_index_equal_its_own(block, k):
    want = _reference_counts(block, k)
    rows = np.repeat(np.arange(block.shape[0], dtype=np.intp), np.diff(block.indptr))
    classes = block.data.astype(np.intp) - 1
    for kwargs in ({}, {"rows": rows}, {"classes": classes}, {"rows": rows, "classes": classes}):
        got = sparse_class_counts(block, k, **kwargs)
        assert got.dtype == np.int64 and got.shape == (block.shape[0], k)
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("block, k", CROWDS)
def test_sparse_votes_builds_its_row_index_once(block, k, monkeypatch):
    calls = []
    real_repeat = np.repeat

    def counting(*args, **kwargs):
        calls.append(1)
        return real_repeat(*args, **kwargs)

    monkeypatch.setattr(np, "repeat", counting)
    rows, cols, cls, nv, n_classes = _sparse_votes(block, k)
    assert len(calls) == 1
    monkeypatch.undo()
    counts = _reference_counts(block, k)
    np.testing.assert_array_equal(n_classes, np.count_nonzero(counts, axis=1))
    np.testing.assert_array_equal(nv, counts.sum(axis=1))
    np.testing.assert_array_equal(rows, np.repeat(np.arange(block.shape[0]), np.diff(block.indptr)))
    np.testing.assert_array_equal(cols, block.indices)
    np.testing.assert_array_equal(cls, block.data.astype(np.int64) - 1)
    assert n_classes.dtype == nv.dtype == np.int64


@pytest.mark.parametrize("block, k", CROWDS)
def test_summaries_of_a_crowd_equal_those_of_its_dense_matrix(block, k):
    dense = block.toarray().astype(np.int64) - 1
    y = np.random.default_rng(5).integers(-1, k, block.shape[0])
    for a, b in ((lf_summary_arrays(block, y, k), lf_summary_arrays(dense, y, k)),):
        assert a["polarity"] == b["polarity"]
        for key in ("coverage", "overlaps", "conflicts", "emp_acc", "correct", "incorrect"):
            np.testing.assert_array_equal(a[key], b[key])
    s, d = matrix_summary_arrays(block, k), matrix_summary_arrays(dense, k)
    for key in ("coverage", "overlap", "conflict", "pair_overlap", "pair_conflict"):
        np.testing.assert_array_equal(s[key], d[key])
    np.testing.assert_array_equal(
        LFAnalysis(block, cardinality=k).lf_empirical_probs(y, k),
        LFAnalysis(dense, cardinality=k).lf_empirical_probs(y, k),
    )


@pytest.mark.parametrize("block, k", CROWDS)
def test_votes_without_the_per_row_counts(block, k, monkeypatch):
    """``per_row=False`` gives the same votes and no class counts (the pass is skipped)."""
    full = _sparse_votes(block, k)
    import tripletws.analysis as analysis

    def refuse(*args, **kwargs):
        raise AssertionError("the per-row class counts were computed")

    monkeypatch.setattr(analysis, "sparse_class_counts", refuse)
    lean = _sparse_votes(block, k, per_row=False)
    for a, b in zip(full[:4], lean[:4], strict=True):
        np.testing.assert_array_equal(a, b)
    assert lean[4].shape == (0,)
