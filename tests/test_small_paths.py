"""The small-fit shortcuts of the held-out scores and the copies test give the values of the long way."""

from __future__ import annotations

import numpy as np

from tripletws.datasets import make_synthetic
from tripletws.estimators.annotator import fit_annotator
from tripletws.estimators.copies import find_copies
from tripletws.estimators.family_choice import choose_within_se, select_family
from tripletws.estimators.heldout import HeldOutScores
from tripletws.matrix import check_label_matrix
from tripletws.rows import RowSummary

CANDIDATES = ("mv", "one_coin", "mace")


def _scores(seed: int, n_folds: int = 5, R: int = 40) -> HeldOutScores:
    rng = np.random.default_rng(seed)
    folds = rng.integers(0, 4, size=(n_folds, R)).astype(float)
    return HeldOutScores(folds, {f: rng.normal(size=(n_folds, R)) for f in CANDIDATES})


def test_mean_is_the_fold_by_fold_sum_and_is_kept():
    s = _scores(0)
    n = s.folds.sum()
    for fam in CANDIDATES:
        # the written-out order: one dot product per fold, summed from the first
        total = 0.0
        for f in range(len(s.folds)):
            total += float(s.folds[f] @ s.row_loglik[fam][f])
        assert s.mean(fam) == total / n  # the same operations in the same order: equal
        assert s.mean(fam) == s.mean(fam)
    # nothing scored: nan, and not kept
    empty = HeldOutScores(np.zeros((2, 3)), {"mv": np.zeros((2, 3))})
    assert np.isnan(empty.mean("mv")) and empty._means == {}


def test_one_deal_choice_reads_the_same_means_as_np_mean():
    for seed in range(5):
        s = _scores(seed)
        fresh = _scores(seed)  # no kept means
        one = choose_within_se(s, CANDIDATES, 1.0)
        # the one-value mean of numpy is that value, so the choice with an extra copy of the deal
        # (np.mean over two equal values: exact, x + x is 2x) is the same choice
        two = choose_within_se(fresh, CANDIDATES, 1.0, noise="fits", extra=(fresh,))
        assert one[:2] == two[:2]
        for fam in CANDIDATES:
            assert float(np.mean([fresh.mean(fam)])) == s.mean(fam)


def test_selection_means_are_the_scores_means():
    L = make_synthetic(600, 6, 2, random_state=3).L
    rows = RowSummary.from_matrix(check_label_matrix(L, 2), 10**7)
    sel = select_family(rows, CANDIDATES, class_balance=np.full(2, 0.5))
    for fam in CANDIDATES:
        assert sel.heldout_loglik[fam] == sel.scores.mean(fam)


def test_no_copies_result_holds_the_test_size_and_separate_arrays():
    L = make_synthetic(800, 5, 2, random_state=1).L
    rows = RowSummary.from_matrix(check_label_matrix(L, 2), 10**7)
    found = find_copies(rows, fit_annotator(rows, "mace", class_balance=np.full(2, 0.5)).params)
    assert found.groups == [] and found.members.size == 0
    assert found.n_pairs == 10 and found.z_crit > 0  # 5 LFs: 10 pairs tested
    assert (found.copy_of == -1).all() and np.isnan(found.share).all() and np.isnan(found.accuracy).all()
    assert not np.shares_memory(found.share, found.accuracy)
    few = RowSummary.from_matrix(check_label_matrix(L[:, :1], 2), 10**7)
    alone = find_copies(few, fit_annotator(few, "mv", class_balance=np.full(2, 0.5)).params)
    assert alone.n_pairs == 0 and alone.z_crit == 0.0 and alone.copy_of.tolist() == [-1]


def test_listed_pairs_are_the_triangle_mask_indices():
    from tripletws.estimators.copies import _upper_pairs

    rng = np.random.default_rng(5)
    for m in (2, 3, 7, 20):
        covote = rng.integers(0, 3, size=(m, m)).astype(float)
        iu, ju = _upper_pairs(m)
        keep = covote[iu, ju] > 0
        want = np.nonzero(np.triu(covote > 0, k=1))
        np.testing.assert_array_equal(iu[keep], want[0])
        np.testing.assert_array_equal(ju[keep], want[1])
        assert iu.dtype == want[0].dtype and not iu.flags.writeable


def test_agreement_of_few_and_many_lfs_match_the_sparse_listing(monkeypatch):
    # the dense path lists pairs from the cached triangle up to _LISTED_PAIRS_MAX LFs and from the
    # mask beyond: both give the pairs in the same order, with the same counts
    from tripletws.estimators import copies

    L = make_synthetic(500, 9, 2, random_state=4).L
    rows = RowSummary.from_matrix(check_label_matrix(L, 2), 10**7)
    lfs = np.arange(9)
    listed = copies.outcome_agreement(rows, lfs)
    monkeypatch.setattr(copies, "_LISTED_PAIRS_MAX", 0)
    masked = copies.outcome_agreement(rows, lfs)
    for x, y in zip(listed[:3], masked[:3], strict=True):
        np.testing.assert_array_equal(x, y)  # integer indices; the shares: the same products read
