"""The sparse path for dense blocks with few votes gives the same integer counts as the dense Grams."""

from __future__ import annotations

import numpy as np
import pytest

from tripletws.kernels import workspace
from tripletws.stats import (
    SPARSE_VOTES_MAX_DENSITY,
    SPARSE_VOTES_MIN_LFS,
    _binary_dense,
    _multiclass_dense,
    _sparse_votes_block,
    compute_stats,
)


@pytest.mark.parametrize("k", [2, 3, 5, 9])
@pytest.mark.parametrize("abstain", [0.5, 0.95])
@pytest.mark.parametrize("max_pairs", [4_000_000, 0])  # pairs of votes listed, or one sparse product
def test_sparse_votes_equal_dense_grams(k, abstain, max_pairs, monkeypatch):
    import tripletws.stats as stats_module

    monkeypatch.setattr(stats_module, "SPARSE_VOTES_MAX_PAIRS", max_pairs)
    rng = np.random.default_rng(k)
    B = rng.integers(0, k, size=(700, 40))
    B[rng.random(B.shape) < abstain] = -1
    sparse = _sparse_votes_block(B, k)
    with workspace() as ws:
        dense = _multiclass_dense(B, k, False, ws) if k > 2 else _binary_dense(B, False, ws)
    assert sparse.n_rows == dense.n_rows
    for name in ("class_counts", "covote", "agree"):
        np.testing.assert_array_equal(getattr(sparse, name), getattr(dense, name), err_msg=name)


def test_compute_stats_takes_the_sparse_path_on_few_votes():
    """The dispatch reaches the sparse path and its result equals the per-pair definition."""
    rng = np.random.default_rng(0)
    m, k = SPARSE_VOTES_MIN_LFS + 8, 3
    L = rng.integers(0, k, size=(400, m))
    L[rng.random(L.shape) >= SPARSE_VOTES_MAX_DENSITY / 2] = -1
    st = compute_stats(L, k)
    V = (L >= 0).astype(np.int64)
    np.testing.assert_array_equal(st.covote, V.T @ V)
    agree = sum(((L == c).astype(np.int64).T @ (L == c).astype(np.int64)) for c in range(k))
    np.testing.assert_array_equal(st.agree, agree)
