"""Wide label matrices (crowds of hundreds to thousands of workers, a few votes per row): fixes.

Each test fails on the code before its fix (a dense table quadratic in the LFs, or held once
per chunk) and checks that the values are unchanged.
"""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from tripletws import LabelModel
from tripletws import intervals as intervals_module
from tripletws.stats import _sparse_block, block_stats
from tripletws.summary import summarize


def _crowd(n: int, m: int, k: int, r: int, seed: int = 0) -> tuple[sp.csr_array, np.ndarray]:
    """n tasks, m workers, r distinct workers per task, k classes (class c stored as c + 1)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    acc = rng.uniform(0.6, 0.95, m)
    cols = np.argsort(rng.random((n, m)), axis=1)[:, :r] if m <= 64 else None
    if cols is None:
        cols = np.empty((n, r), dtype=np.int64)
        for i in range(n):
            cols[i] = rng.choice(m, size=r, replace=False)
    right = rng.random((n, r)) < acc[cols]
    lab = np.where(right, y[:, None], (y[:, None] + rng.integers(1, k, (n, r))) % k)
    L = sp.csr_array(
        ((lab + 1).ravel().astype(np.int8), (np.repeat(np.arange(n), r), cols.ravel())), shape=(n, m)
    )
    return L, y


def _peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_sparse_block_stats_without_mk_squared_table():
    # a sparse chunk's counts, co-votes and agreements came from a dense (m k, m k) Gram: 59 MB here
    # (800 MB at 2 000 workers and 5 classes); the (m, m) tables are 2.3 MB each
    L, _ = _crowd(400, 540, 5, 4, seed=1)
    peak = _peak_bytes(lambda: block_stats(L, 5))
    assert peak < 20e6
    got = _sparse_block(L, 5, joint=False)
    ref = _sparse_block(L, 5, joint=True)  # the joint table's Gram, summed
    assert got.joint is None
    for name in ("class_counts", "covote", "agree"):
        assert np.array_equal(getattr(got, name), getattr(ref, name)), name


@pytest.mark.parametrize("max_pairs", [0, 10**9])
def test_sparse_block_stats_equal_joint_sums(monkeypatch, max_pairs):
    # both ways of counting (the pair list and the sparse Gram beyond SPARSE_VOTES_MAX_PAIRS)
    from tripletws import stats as stats_module

    monkeypatch.setattr(stats_module, "SPARSE_VOTES_MAX_PAIRS", max_pairs)
    for n, m, k, r, seed in [(300, 90, 3, 5, 2), (120, 40, 7, 9, 3), (50, 12, 2, 3, 4)]:
        L, _ = _crowd(n, m, k, r, seed=seed)
        got = _sparse_block(L, k, joint=False)
        ref = _sparse_block(L, k, joint=True)
        for name in ("class_counts", "covote", "agree"):
            assert np.array_equal(getattr(got, name), getattr(ref, name)), name


def test_bootstrap_chunks_keep_no_dense_tables_and_same_sums():
    # the bootstrap kept every chunk's dense (m, m) co-vote and agreement tables: 100 chunks x 2 x 32 MB
    # at 2 000 workers (6.4 GB); here 60 chunks x 2 x 2 MB = 240 MB before, a few MB after
    L, _ = _crowd(600, 500, 3, 4, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(cardinality=3).fit(L)
    from functools import partial

    from tripletws.settings import check_settings

    settings = check_settings(model.get_params())
    needs = partial(settings.solver.needs, settings.options)
    holder = {}
    peak = _peak_bytes(lambda: holder.setdefault("c", intervals_module._chunk_summaries(model, L, 60, needs)))
    assert peak < 60e6
    chunks = holder["c"]
    # the resampled sums equal the dense chunk tables added up (whole numbers: exact)
    parts = [summarize(b, 3, needs, min_lfs=1) for _, b in _chunks_of(L, 60)]
    w = np.random.default_rng(0).multinomial(60, np.full(60, 1 / 60))
    total = intervals_module._resampled(chunks, w)
    cov = sum(p.stats.covote * c for p, c in zip(parts, w, strict=True))
    agr = sum(p.stats.agree * c for p, c in zip(parts, w, strict=True))
    assert np.array_equal(total.stats.covote, cov)
    assert np.array_equal(total.stats.agree, agr)
    assert np.array_equal(
        total.stats.class_counts, sum(p.stats.class_counts * c for p, c in zip(parts, w, strict=True))
    )


def _chunks_of(L, n_chunks):
    from tripletws.matrix import check_label_matrix

    lm = check_label_matrix(L, 3)
    return lm.chunks(-(-lm.n // n_chunks), release_pages=False)
