"""The stratum of a row sample: rows of few votes are kept at every level, and weighted back.

Beyond the cap on distinct rows the summary keeps a row by its hash, all copies together, so a
heavy pattern (the all-abstain row of sparse LFs, a one-vote row) is either in the sample with its
full count or missing from it.  The stratum keeps every row of at most ``stratum`` votes; the
solvers read :meth:`RowSummary.weighted`, which puts both strata on one scale.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from tripletws import LabelModel
from tripletws.rows import (
    STRATUM_SHARE,
    RowAccumulator,
    RowSummary,
    _few_votes,
    _key_words,
    _sparse_key_words,
    replace_n_rows,
    stratum_votes,
)


def sparse_votes(n: int, m: int, k: int, coverage: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.where(rng.random((n, m)) < coverage, rng.integers(0, k, (n, m)), -1).astype(np.int8)


@pytest.mark.parametrize(
    ("m", "k"),
    [(3, 2), (30, 2), (39, 2), (40, 2), (100, 2), (18, 10), (19, 10), (60, 10), (25, 4)],
)
def test_few_votes_reads_the_vote_count_from_the_key_words(m, k):
    """One and two words per row (the word boundary at 39 digits for k = 2, 18 for k = 10)."""
    import scipy.sparse as sp

    L = sparse_votes(6_000, m, k, min(0.5, 2.5 / m), seed=m * k)
    L[:3] = -1
    L[3, -1] = k - 1  # one vote in the last place
    L[4, 0], L[4, -1] = 0, k - 1  # two votes at both ends
    votes = (L >= 0).sum(axis=1)
    assert set(np.unique(votes)) >= {0, 1, 2, 3}
    dense = _key_words(L, k)
    sparse = _sparse_key_words(sp.csr_array(L.astype(np.int64) + 1), k)
    for words in (dense, sparse):
        for v in (0, 1, 2):
            np.testing.assert_array_equal(_few_votes(words, m, k, v), votes <= v)


def test_stratum_is_the_most_votes_whose_patterns_fit_half_the_cap():
    def patterns(m, k, v):
        return sum(math.comb(m, i) * k**i for i in range(v + 1))

    cases = [(30, 2, 20_000), (50, 2, 20_000), (100, 2, 20_000), (400, 4, 20_000), (10_000, 2, 20_000)]
    for m, k, cap in cases:
        v = stratum_votes(m, k, cap)
        assert v >= 0
        assert patterns(m, k, v) <= STRATUM_SHARE * cap
        assert v == 2 or patterns(m, k, v + 1) > STRATUM_SHARE * cap
    assert stratum_votes(30, 2, 20_000) == 2
    assert stratum_votes(100, 2, 20_000) == 1
    assert stratum_votes(10_000, 2, 20_000) == 0
    assert stratum_votes(5, 2, 1) == -1


def heavy(n: int, seed: int) -> np.ndarray:
    """Sparse LFs: a third of the rows unvoted, many one- and two-vote rows, mostly distinct others."""
    rng = np.random.default_rng(seed)
    L = sparse_votes(n, 30, 2, 0.06, seed)
    dense = rng.random(n) < 0.3  # a share of rows with many votes: the hashed stratum
    L[dense] = np.where(rng.random((dense.sum(), 30)) < 0.6, rng.integers(0, 2, (dense.sum(), 30)), -1)
    return L


def test_a_sample_keeps_every_row_of_the_stratum_and_weighs_it_back():
    L = heavy(60_000, seed=3)
    cap = 4_000
    acc = RowAccumulator(30, 2, cap)
    for s in range(0, len(L), 7_000):
        acc.add(L[s : s + 7_000])
    got = acc.summary()
    assert got.stratum == 2 and got.level > 0 and got.n_unique <= cap
    # every distinct row of at most two votes is there, with its full count
    votes = (L >= 0).sum(axis=1)
    few_rows, few_counts = np.unique(L[votes <= 2], axis=0, return_counts=True)
    in_sample = (got.rows >= 0).sum(axis=1) <= 2
    np.testing.assert_array_equal(got.rows[in_sample], few_rows)
    np.testing.assert_array_equal(got.counts[in_sample], few_counts)
    # weighted: the stratum's counts on the hashed rows' scale; the sum estimates n * 2**-level
    w = got.weighted()
    assert w.stratum == -1 and w.weighted() is w
    rate = 2.0**-got.level
    np.testing.assert_allclose(w.counts[in_sample], few_counts * rate)
    np.testing.assert_array_equal(w.counts[~in_sample], got.counts[~in_sample])
    hashed_all = int((votes > 2).sum())  # mostly distinct rows: the hashed count has a binomial spread
    spread = 4 * math.sqrt(hashed_all * rate * (1 - rate)) + 4 * rate * len(L) / got.n_unique
    assert abs(w.counts.sum() - len(L) * rate) <= spread


def test_the_stratum_round_trips_and_is_checked_on_load():
    L = heavy(30_000, seed=5)
    acc = RowAccumulator(30, 2, 4_000)
    acc.add(L)
    got = replace_n_rows(acc.summary(), len(L))
    assert got.level > 0
    d = got.to_dict()
    assert d["stratum"] == 2
    back = RowSummary.from_dict(d, 30, 2)
    assert back.stratum == 2 and back.level == got.level
    np.testing.assert_array_equal(back.counts, got.counts)
    old = dict(d)
    del old["stratum"]  # written before the stratum: every row hashed
    assert RowSummary.from_dict(old, 30, 2).stratum == -1
    with pytest.raises(ValueError, match=r"rows\.stratum"):
        RowSummary.from_dict({**d, "stratum": 7}, 30, 2)
    small = RowAccumulator(30, 2, 4_000)
    small.add(L[:500])
    d = replace_n_rows(small.summary(), 500).to_dict()
    RowSummary.from_dict({**d, "max_rows": 3_602}, 30, 2)  # 1 + 60 + 1740 patterns: half of 3 602
    with pytest.raises(ValueError, match=r"rows\.stratum is 2, but m = 30, k = 2 and max_rows = 3601"):
        RowSummary.from_dict({**d, "max_rows": 3_601}, 30, 2)


def test_merges_keep_the_smaller_stratum_and_stay_exact():
    """A part summarised under a smaller cap (a smaller stratum) merges to the summary of all rows
    at once under that cap: kept-always rows of the other part are hashed again."""
    L = heavy(40_000, seed=9)
    small = RowSummary.empty(30, 2, 1_500)  # stratum 1 (1 + 60 + 1740 > 750)
    assert small.stratum == 1
    a = RowAccumulator(30, 2, 20_000)
    a.add(L[:20_000])
    b = RowAccumulator(30, 2, 1_500)
    b.add(L[20_000:])
    merged = a.summary() + b.summary()
    whole = RowAccumulator(30, 2, 1_500)
    whole.add(L)
    want = whole.summary()
    assert merged.stratum == want.stratum == 1
    assert merged.level == want.level
    np.testing.assert_array_equal(merged.rows, want.rows)
    np.testing.assert_array_equal(merged.counts, want.counts)


def test_a_capped_fit_finds_the_class_balance_of_all_rows():
    """Sparse LFs that fire more on one class (class-dependent coverage) over 1.5e5 rows: a cap of
    4 000 distinct rows (level 3 or more) used to drop or keep the heavy few-vote patterns whole;
    with the stratum the capped fit estimates the class balance and labels the rows as the fit on
    every row does (balance within 0.03, accuracy within 1.5 points: both fits see the same
    few-vote rows, and the hashed rest is thousands of distinct rows)."""
    rng = np.random.default_rng(11)
    n, m = 150_000, 30
    y = (rng.random(n) < 0.35).astype(np.int8)
    L = -np.ones((n, m), dtype=np.int8)
    for j in range(m):
        cov, acc = rng.uniform(0.02, 0.12), rng.uniform(0.6, 0.9)
        fire = rng.random(n) < np.where(y == j % 2, 1.6 * cov, 0.4 * cov)
        right = rng.random(n) < acc
        L[fire, j] = np.where(right[fire], y[fire], 1 - y[fire])
    voted = (L >= 0).any(axis=1)
    fits = {}
    for cap in (4_000, 400_000):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lm = LabelModel(em_max_rows=cap, random_state=0).fit(L)
        accuracy = float((lm.predict_proba(L).argmax(axis=1)[voted] == y[voted]).mean())
        fits[cap] = (lm.class_balance_[1], accuracy, lm.rows_.level)
    assert fits[4_000][2] >= 3 and fits[400_000][2] == 0
    assert abs(fits[4_000][0] - fits[400_000][0]) <= 0.03
    assert abs(fits[4_000][1] - fits[400_000][1]) <= 0.015


def test_a_stream_saved_and_resumed_past_the_cap_is_the_stream_uninterrupted(tmp_path):
    """The stratum travels in the model file: a stream written after two batches, read back and fed
    the rest ends with the summary (rows, counts, level, stratum) and posteriors of the stream fed
    every batch in one process."""
    L = heavy(36_000, seed=13)
    batches = [L[i : i + 9_000] for i in range(0, len(L), 9_000)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = LabelModel(em_max_rows=3_000, random_state=0)
        for b in batches:
            whole.partial_fit(b)
        part = LabelModel(em_max_rows=3_000, random_state=0)
        for b in batches[:2]:
            part.partial_fit(b)
        part.save(tmp_path / "stream.json")
        resumed = LabelModel.load(tmp_path / "stream.json")
        for b in batches[2:]:
            resumed.partial_fit(b)
    a, b = whole.rows_, resumed.rows_
    assert a.level > 0 and a.stratum == b.stratum == 1  # 1 + 60 + 1 740 patterns > 1 500
    assert a.level == b.level
    np.testing.assert_array_equal(a.rows, b.rows)
    np.testing.assert_array_equal(a.counts, b.counts)  # whole numbers: exact
    # the same summary, the same solve: equal to the solvers' rounding across the two processes' calls
    np.testing.assert_allclose(resumed.predict_proba(L[:2_000]), whole.predict_proba(L[:2_000]), atol=1e-9)


def test_dask_blocks_past_the_cap_give_the_summary_of_one_pass():
    """A dask array's blocks are summarised apart and merged: past the cap, the merged summary is the
    one-pass summary (rows, counts, level and stratum), and so is the default fit's prior."""
    da = pytest.importorskip("dask.array")
    L = heavy(40_000, seed=17)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lazy = LabelModel(2, em_max_rows=3_000, random_state=0).fit(da.from_array(L, chunks=(7_000, 30)))
        eager = LabelModel(2, em_max_rows=3_000, random_state=0).fit(L)
    a, b = lazy.rows_, eager.rows_
    assert b.level > 0 and a.stratum == b.stratum == 1
    assert a.level == b.level
    np.testing.assert_array_equal(a.rows, b.rows)
    np.testing.assert_array_equal(a.counts, b.counts)  # whole numbers: exact
    np.testing.assert_allclose(lazy.class_balance_, eager.class_balance_, rtol=0, atol=1e-12)
