"""The pooled third moment in LabelStats: exact on every path, mergeable, serialisable, order-free."""

from __future__ import annotations

import numpy as np
import pytest

from tripletws.datasets import make_synthetic
from tripletws.matrix import to_sparse
from tripletws.stats import MAX_TRIPLE_CLASSES, LabelStats, compute_stats, merge_stats


def brute_triple(L: np.ndarray, k: int) -> np.ndarray:
    """sum over rows of z (x) z (x) z, z = (class counts over all LFs, 1)."""
    counts = np.stack([(L == c).sum(axis=1) for c in range(k)], axis=1)
    z = np.hstack([counts, np.ones((len(L), 1), dtype=np.int64)])
    return np.einsum("na,nb,nc->abc", z, z, z).astype(np.float64)


@pytest.mark.parametrize("k", [2, 5, 20])
def test_triple_is_exact_on_dense_chunked_and_sparse_paths(k):
    d = make_synthetic(2_000, 8, k, coverage=0.4, unipolar=0.25, random_state=3)
    expected = brute_triple(d.L, k)
    dense = compute_stats(d.L, k, joint=True, triple=True)
    chunked = compute_stats(d.L, k, joint=True, triple=True, chunk_size=333)
    sparse = compute_stats(to_sparse(d.L), k, joint=True, triple=True, chunk_size=500)
    for s in (dense, chunked, sparse):
        np.testing.assert_array_equal(s.triple, expected)
        np.testing.assert_array_equal(s.joint, dense.joint)
        np.testing.assert_array_equal(s.class_counts, dense.class_counts)
    # the constant coordinate makes the lower moments slices of the table
    assert dense.triple[k, k, k] == len(d.L)


@pytest.mark.parametrize("k", [2, 4])
def test_triple_does_not_depend_on_the_lf_order(k):
    d = make_synthetic(1_000, 7, k, coverage=0.5, random_state=8)
    perm = np.random.default_rng(0).permutation(7)
    a = compute_stats(d.L, k, joint=True, triple=True).triple
    b = compute_stats(d.L[:, perm], k, joint=True, triple=True).triple
    np.testing.assert_array_equal(a, b)  # integer counts: exact


def test_triple_is_left_out_above_the_class_limit():
    k = MAX_TRIPLE_CLASSES + 1
    L = np.array([[0, 1, k - 1], [2, 2, -1], [-1, 3, 3]])
    assert compute_stats(L, k, joint=True, triple=True).triple is None
    assert LabelStats.zeros(3, k, triple=True).triple is None


def test_a_saved_triple_of_the_older_layout_is_dropped_with_a_warning():
    record = compute_stats(make_synthetic(500, 4, 2, random_state=6).L, 2, triple=True).to_dict()
    assert record["triple_layout"] == "pooled"
    del record["triple_layout"]
    with pytest.warns(UserWarning, match="older layout"):
        assert LabelStats.from_dict(record).triple is None


def test_triple_merges_scales_and_round_trips():
    d = make_synthetic(3_000, 6, 3, random_state=4)
    whole = compute_stats(d.L, 3, joint=True, triple=True)
    parts = [compute_stats(d.L[s : s + 1000], 3, joint=True, triple=True) for s in (0, 1000, 2000)]
    np.testing.assert_array_equal(merge_stats(parts).triple, whole.triple)
    np.testing.assert_array_equal((parts[0] + parts[1] + parts[2]).triple, whole.triple)
    acc = parts[0].copy()
    acc += parts[1]
    acc += parts[2]
    np.testing.assert_array_equal(acc.triple, whole.triple)
    np.testing.assert_allclose(whole.scaled(0.5).triple, whole.triple * 0.5)
    back = LabelStats.from_dict(whole.to_dict())
    np.testing.assert_array_equal(back.triple, whole.triple)
    np.testing.assert_array_equal(back.joint, whole.joint)


def test_merging_with_stats_without_triple_drops_it():
    d = make_synthetic(1_000, 5, 2, random_state=5)
    a = compute_stats(d.L[:500], 2, joint=True, triple=True)
    b = compute_stats(d.L[500:], 2, joint=True)
    assert (a + b).triple is None
    a += b
    assert a.triple is None
    assert LabelStats.zeros(5, 2, triple=True).triple.shape == (3, 3, 3)


def test_from_dict_rejects_a_misshapen_triple():
    record = compute_stats(make_synthetic(500, 4, 2, random_state=6).L, 2, triple=True).to_dict()
    record["triple"] = np.zeros((2, 2, 2)).tolist()
    with pytest.raises(ValueError, match="triple"):
        LabelStats.from_dict(record)


@pytest.mark.parametrize("k", [6, 12])
def test_dense_joint_through_sparse_products_matches_the_dense_gram(k):
    from tripletws.stats import _multiclass_dense, block_stats

    d = make_synthetic(3_000, 9, k, coverage=0.5, random_state=k)
    reference = _multiclass_dense(d.L, k, True)
    got = block_stats(d.L, k, joint=True)
    for name in ("joint", "class_counts", "covote", "agree"):
        np.testing.assert_array_equal(getattr(got, name), getattr(reference, name))


def test_subtracting_a_block_removes_its_triple():
    d = make_synthetic(2_000, 6, 3, random_state=7)
    a = compute_stats(d.L[:1200], 3, joint=True, triple=True)
    b = compute_stats(d.L[1200:], 3, joint=True, triple=True)
    np.testing.assert_array_equal(((a + b) - b).triple, a.triple)
    with pytest.raises(ValueError, match="negative"):
        a - (a + b)
