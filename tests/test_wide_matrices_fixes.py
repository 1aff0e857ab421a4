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
    peak, chunks, parts = _kept_and_dense_chunks(LabelModel(cardinality=3), L)
    assert peak < 60e6
    # the resampled sums equal the dense chunk tables added up (whole numbers: exact)
    w = np.random.default_rng(0).multinomial(60, np.full(60, 1 / 60))
    total = intervals_module._resampled(chunks, w)
    cov = sum(p.stats.covote * c for p, c in zip(parts, w, strict=True))
    agr = sum(p.stats.agree * c for p, c in zip(parts, w, strict=True))
    assert np.array_equal(total.stats.covote, cov)
    assert np.array_equal(total.stats.agree, agr)
    assert np.array_equal(
        total.stats.class_counts, sum(p.stats.class_counts * c for p, c in zip(parts, w, strict=True))
    )


def _kept_and_dense_chunks(model, L, n_chunks=60):
    """Fit ``model`` on ``L``; the peak traced memory of the bootstrap's kept chunk summaries, those
    summaries, and the same chunks summarised plainly (their dense tables), for the same sums."""
    from functools import partial

    from tripletws.settings import check_settings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(L)
    settings = check_settings(model.get_params())
    needs = partial(settings.solver.needs, settings.options)
    holder = {}
    peak = _peak_bytes(
        lambda: holder.setdefault("c", intervals_module._chunk_summaries(model, L, n_chunks, needs))
    )
    parts = [summarize(b, 3, needs, min_lfs=1) for _, b in _chunks_of(L, n_chunks)]
    return peak, holder["c"], parts


def _chunks_of(L, n_chunks):
    from tripletws.matrix import check_label_matrix

    lm = check_label_matrix(L, 3)
    return lm.chunks(-(-lm.n // n_chunks), release_pages=False)


def test_bootstrap_replicate_merges_the_chunks_rows_once(monkeypatch):
    # a replicate folded the chunks' distinct rows with +, re-keying the rows kept so far at every
    # chunk (quadratic in the chunks: 2.2 s per replicate at 2 000 workers); now one merge
    from tripletws import rows as rows_module

    L, _ = _crowd(400, 120, 3, 4, seed=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(cardinality=3).fit(L)
    from functools import partial

    from tripletws.settings import check_settings

    settings = check_settings(model.get_params())
    needs = partial(settings.solver.needs, settings.options)
    chunks = intervals_module._chunk_summaries(model, L, 40, needs)
    parts = [summarize(b, 3, needs, min_lfs=1) for _, b in _chunks_of(L, 40)]
    w = np.random.default_rng(1).multinomial(40, np.full(40, 1 / 40))
    calls = []
    real = rows_module._key_words
    monkeypatch.setattr(rows_module, "_key_words", lambda *a: calls.append(1) or real(*a))
    got = intervals_module._resampled(chunks, w).rows
    assert len(calls) == 1
    monkeypatch.setattr(rows_module, "_key_words", real)
    ref = None
    for p, c in zip(parts, w.tolist(), strict=True):
        if c:
            piece = p.rows if c == 1 else p.rows.scaled(float(c))
            ref = piece if ref is None else ref + piece
    assert np.array_equal(got.rows, ref.rows)
    assert np.array_equal(got.counts, ref.counts)
    assert (got.n_rows, got.level, got.max_rows) == (ref.n_rows, ref.level, ref.max_rows)


def test_sum_row_summaries_past_the_cap_matches_folding():
    from tripletws.matrix import check_label_matrix
    from tripletws.rows import RowSummary, sum_row_summaries

    L, _ = _crowd(600, 30, 2, 3, seed=7)
    lm = check_label_matrix(L, 2)
    parts = [RowSummary.from_matrix(check_label_matrix(b, 2), 64) for _, b in lm.chunks(50)]
    factors = [1.0, 2.0, 3.0] * 4
    ref = None
    for p, f in zip(parts, factors, strict=True):
        piece = p if f == 1 else p.scaled(f)
        ref = piece if ref is None else ref + piece
    got = sum_row_summaries(list(zip(parts, factors, strict=True)))
    assert ref.level > 0  # the cap forced a sample
    assert np.array_equal(got.rows, ref.rows)
    assert np.array_equal(got.counts, ref.counts)
    assert (got.n_rows, got.level, got.max_rows) == (ref.n_rows, ref.level, ref.max_rows)


def test_report_draws_at_most_max_plotted_lfs(monkeypatch):
    # the charts drew every LF: 2 000 tick labels per axis took 285 s and an 11 MB page
    pytest.importorskip("matplotlib")
    from tripletws import report as report_module

    m = report_module.MAX_PLOTTED_LFS + 10
    L, _ = _crowd(300, m, 2, 4, seed=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(cardinality=2).fit(L)
    drawn = []
    monkeypatch.setattr(report_module, "_barh", lambda names, *a, **kw: drawn.append(len(names)) or "<svg/>")
    monkeypatch.setattr(
        report_module, "_heatmaps", lambda names, o, c: drawn.append((len(names), o.shape)) or "<svg/>"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        page = model.report(L, n_boot=2)
    cap = report_module.MAX_PLOTTED_LFS
    assert drawn == [cap, cap, (cap, (cap, cap))]
    assert f"The {cap} LFs with the most votes of {m} are drawn" in page
    assert page.count("<tr>") >= m  # the LF table lists every LF


def test_plotted_lfs_are_the_most_voting_in_lf_order():
    from tripletws.report import MAX_PLOTTED_LFS, _plotted_lfs

    cov = np.linspace(0.0, 1.0, MAX_PLOTTED_LFS + 7)[::-1].copy()
    cov[3] = np.nan
    got = _plotted_lfs(cov)
    assert np.array_equal(got, np.sort(got))
    assert len(got) == MAX_PLOTTED_LFS and 3 not in got
    assert np.array_equal(_plotted_lfs(np.ones(5)), np.arange(5))


def test_bootstrap_chunks_keep_the_joint_tables_sparse_and_the_same_sums():
    # the class-conditional model's chunk summaries kept a dense (m, k, m, k) joint table each:
    # 100 x 32 MB at 500 workers and k = 4 (a report peaked at 3.3 GB; 24 GB, killed, at 2 000 workers)
    L, _ = _crowd(600, 300, 3, 4, seed=7)
    # 60 dense joint tables of 300 x 3 x 300 x 3 would take 389 MB
    peak, chunks, parts = _kept_and_dense_chunks(LabelModel(cardinality=3, model="class_conditional"), L)
    assert peak < 60e6
    assert all(p.stats.joint is not None for p in parts)
    w = np.random.default_rng(1).multinomial(60, np.full(60, 1 / 60))
    total = intervals_module._resampled(chunks, w)
    # whole-number counts: the sums are exact either way
    assert np.array_equal(total.stats.joint, sum(p.stats.joint * c for p, c in zip(parts, w, strict=True)))
