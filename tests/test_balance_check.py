"""The annotator model's gold-free check of an estimated class balance (estimators.balance_check)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tripletws.estimators.balance_check as balance_module
from tripletws import LabelModel
from tripletws.estimators.balance_check import clear_rows, crowd_like
from tripletws.matrix import check_label_matrix
from tripletws.rows import RowSummary


def _crowd(seed: int, prior: list[float], n: int = 3000, m: int = 150, per: int = 5):
    """MACE-like crowd: each item seen by ``per`` of ``m`` annotators, each knowing the class with
    probability theta_j ~ U(0.3, 0.9), else voting a uniformly random class."""
    rng = np.random.default_rng(seed)
    k = len(prior)
    y = rng.choice(k, size=n, p=prior)
    theta = rng.uniform(0.3, 0.9, size=m)
    L = -np.ones((n, m), dtype=np.int64)
    for i in range(n):
        who = rng.choice(m, size=per, replace=False)
        knows = rng.random(per) < theta[who]
        L[i, who] = np.where(knows, y[i], rng.integers(0, k, size=per))
    return L, y


def _fit(L: np.ndarray, **kw) -> LabelModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LabelModel(cardinality=2, **kw).fit(L)


@pytest.mark.parametrize("seed", [0, 1])
def test_imbalanced_crowd_gets_estimated_balance(seed):
    L, y = _crowd(seed, [0.88, 0.12])
    auto, uniform = _fit(L), _fit(L, class_balance="uniform")
    assert auto.class_balance_source_ == "estimated"
    assert uniform.class_balance_source_ == "uniform"
    # the class share of 3000 rows has sd 0.006; EM's estimate was 0.85-0.86 for 3 seeds:
    # 0.05 leaves room for its bias, and is far from the uniform 0.5
    assert abs(auto.class_balance_[0] - np.mean(y == 0)) < 0.05
    # the uniform prior predicts the rare class far too often (0.72-0.76 accuracy against
    # 0.96-0.97 measured for seeds 0-2): a gain of 0.1 is a small fraction of it
    assert (auto.predict(L) == y).mean() > (uniform.predict(L) == y).mean() + 0.1


@pytest.mark.parametrize("seed", [0, 1])
def test_balanced_crowd_balance_stays_near_uniform(seed):
    L, y = _crowd(seed, [0.5, 0.5])
    check = _fit(L, balance_rule="check")
    assert check.class_balance_source_ == "uniform"
    np.testing.assert_allclose(check.class_balance_, [0.5, 0.5])
    # the default's crowd rule accepts the estimated balance on these crowd-like rows, and it stays
    # near the truth: the class share of 3000 rows has sd 0.009, and 0.05 leaves room for EM's bias
    auto = _fit(L)
    assert abs(auto.class_balance_[0] - np.mean(y == 0)) < 0.05


def test_explicit_uniform_is_never_replaced():
    L, _ = _crowd(0, [0.88, 0.12])
    assert _fit(L, class_balance="uniform").class_balance_source_ == "uniform"


def test_clear_rows_need_a_two_vote_margin():
    L = np.array([[0, 0, -1], [0, 1, -1], [1, 1, 1], [0, 0, 1], [-1, -1, -1]])
    rows = RowSummary.from_matrix(check_label_matrix(L, 2), 100)
    clear, majority = clear_rows(rows)
    got = {
        tuple(int(v) for v in r): (bool(c), int(mj))
        for r, c, mj in zip(rows.rows, clear, majority, strict=True)
    }
    assert got[(0, 0, -1)] == (True, 0)
    assert got[(1, 1, 1)] == (True, 1)
    assert got[(0, 1, -1)][0] is False
    assert got[(0, 0, 1)][0] is False
    assert got[(-1, -1, -1)][0] is False


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_crowd_rule_accepts_where_the_check_cannot_tell(seed):
    # 800 items, 3 votes each: too few clear rows for the test (balance_rule="check" keeps uniform
    # for these seeds); the default, "crowd", accepts the estimated balance on such crowd-like rows
    L, y = _crowd(seed, [0.88, 0.12], n=800, per=3)
    default, crowd = _fit(L, balance_rule="check"), _fit(L)
    assert default.class_balance_source_ == "uniform"
    # the uniform balance kept unsettled, and deciding many labels: majority vote's family
    # (models.annotator._settle_balance); the uniform-balance fit itself is class_balance="uniform"
    assert default.family_ == "mv"
    uniform = _fit(L, class_balance="uniform")
    assert crowd.class_balance_source_ == "estimated"
    # EM's estimate was 0.785-0.814 for these seeds against a true share of ~0.88 (sd 0.011):
    # 0.7 leaves room for its bias and is far from uniform
    assert crowd.class_balance_[0] > 0.7
    # measured accuracy 0.705-0.736 (check) against 0.891-0.931 (crowd) before the shrinkage toward
    # majority vote (session 35), 0.778-0.791 against 0.902-0.954 with it (the uniform-balance MACE
    # fit of 16 votes per annotator is mostly noise, and is shrunk): 0.05 is under half the gain
    assert (crowd.predict(L) == y).mean() > (uniform.predict(L) == y).mean() + 0.05


def test_commonest_disagrees_reads_the_clear_rows_counted():
    from tripletws.estimators.balance_check import commonest_disagrees

    # clear rows: (0, 0, -1) x 3 -> class 0, (1, 1, 1) x 5 -> class 1, (2, 2, -1) x 1 -> class 2;
    # (0, 1, -1) is not clear and (2, 2, 2) has count 0: neither counts
    L = np.array([[0, 0, -1]] * 3 + [[1, 1, 1]] * 5 + [[2, 2, -1], [0, 1, -1]])
    rows = RowSummary.from_matrix(check_label_matrix(L, 3), 100)
    clear, majority = clear_rows(rows)
    disagrees, commonest, shares = commonest_disagrees(rows, clear, majority, np.array([0.2, 0.5, 0.3]))
    assert (disagrees, commonest) == (False, 1)
    np.testing.assert_allclose(shares, [3, 5, 1])
    disagrees, commonest, _ = commonest_disagrees(rows, clear, majority, np.array([0.6, 0.3, 0.1]))
    assert (disagrees, commonest) == (True, 0)
    # a class tied with the most clear rows agrees: three rows each for classes 0 and 1
    even = RowSummary.from_matrix(check_label_matrix(L[[0, 1, 2, 3, 4, 5]], 3), 100)
    clear, majority = clear_rows(even)
    assert not commonest_disagrees(even, clear, majority, np.array([0.6, 0.3, 0.1]))[0]
    assert not commonest_disagrees(even, clear, majority, np.array([0.3, 0.6, 0.1]))[0]


def test_crowd_rule_refuses_an_estimate_that_mislabels_the_classes(monkeypatch):
    """Stress problem confusion-00 of draw 20800101 with every class imbalanced (k = 3, 49 annotators,
    each class's errors going to one partner class, gold shares 0.11 / 0.62 / 0.27): MACE's estimated
    prior (0.15 / 0.20 / 0.65) makes class 2 the commonest where the clear rows' majority is class 1
    on 2 340 rows and class 2 on 1 295.  The crowd rule took it before session 58 (0.501 against
    majority vote's 0.698 on the 10 000 test rows); it now does not (0.702)."""
    import bench_paths  # noqa: F401  (puts benchmarks/ on the path)
    from stress_problems import all_problems, draw, imbalance_all

    problem = next(p for p in imbalance_all(all_problems(20800101)) if p.name == "confusion-00")
    L, _, L_test, y_test = draw(problem)
    votes = np.stack([(L_test == c).sum(axis=1) for c in range(3)], axis=1)
    top = votes == votes.max(axis=1, keepdims=True)
    mv = float(np.mean(top[np.arange(len(y_test)), y_test] / top.sum(axis=1)))  # ties to a coin

    def fitted():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = LabelModel(3).fit(L)
        notes = " ".join(str(w.message) for w in caught)
        return model, float(np.mean(model.predict_proba(L_test).argmax(axis=1) == y_test)), notes

    model, acc, notes = fitted()
    assert model.class_balance_source_ == "uniform"
    assert "class 2 the commonest" in notes and "so the crowd rule does not take it" in notes
    # a paired difference on 10 000 rows that disagree on about a fifth of them has sd ~0.005:
    # 0.02 below majority vote is 4 sd; the swapped balance was 19.7 points below
    assert acc > mv - 0.02
    monkeypatch.setattr(balance_module, "CROWD_TOP_AGREES", False)
    model, acc, _ = fitted()
    assert model.class_balance_source_ == "estimated"
    assert int(np.argmax(model.class_balance_)) == 2
    assert acc < mv - 0.1


def test_crowd_like_needs_sparse_multi_class_annotators():
    L, _ = _crowd(0, [0.88, 0.12], n=800, per=3)
    assert crowd_like(RowSummary.from_matrix(check_label_matrix(L, 2), 10_000))
    # three dense LFs: each votes on every row (median coverage 1 > CROWD_COVERAGE)
    rng = np.random.default_rng(0)
    dense = rng.integers(0, 2, size=(500, 3))
    assert not crowd_like(RowSummary.from_matrix(check_label_matrix(dense, 2), 10_000))


def test_unknown_balance_rule_is_refused():
    with pytest.raises(ValueError, match="balance_rule"):
        LabelModel(2, balance_rule="always").fit(np.array([[0, 1], [1, 1], [0, 0]]))


def test_crowd_rule_reaches_the_cli_and_is_saved(tmp_path):
    from test_cli import ok

    L, _ = _crowd(0, [0.88, 0.12], n=800, per=3)
    np.save(tmp_path / "L.npy", L)
    ok("fit", tmp_path / "L.npy", "-k", "2", "-o", tmp_path / "m.json")
    again = LabelModel.load(tmp_path / "m.json")
    assert again.balance_rule == "crowd"
    assert again.class_balance_source_ == "estimated"
    ok("fit", tmp_path / "L.npy", "-k", "2", "--balance-rule", "check", "-o", tmp_path / "c.json")
    check = LabelModel.load(tmp_path / "c.json")
    assert check.balance_rule == "check"
    assert check.class_balance_source_ == "uniform"


def test_vote_list_counts_match_the_dense_formulas():
    """clear_rows, crowd_like and lfs_without_overlap read the summary's vote lists (session 16: no
    (R, m) passes, 0.3 s of a 2 s fit on 10 000 x 762 crowd rows); the dense formulas they replaced
    give the same answers, zero and fractional row counts included."""
    from dataclasses import replace

    from tripletws.estimators.votes import lfs_without_overlap

    rng = np.random.default_rng(5)
    outcomes = set()
    for trial in range(30):
        n, m, k = int(rng.integers(20, 300)), int(rng.integers(3, 40)), int(rng.integers(2, 7))
        coverage = rng.uniform(0.02, 0.6)
        if trial % 3 == 0:  # a crowd: many annotators, each on a few items, about 4.5 votes per item
            n, m, coverage = 400, 100, 0.045
        L = rng.integers(0, k, size=(n, m))
        L = np.where(rng.random((n, m)) < coverage, L, -1)
        rows = RowSummary.from_matrix(check_label_matrix(L, k), 10_000)
        counts = rows.counts * np.where(rng.random(len(rows.counts)) < 0.2, 0.0, rng.uniform(0.1, 2.0))
        rows = replace(rows, counts=counts) if trial % 2 else rows
        r, w = rows.rows, np.asarray(rows.counts, dtype=np.float64)
        votes = np.stack([(r == c).sum(axis=1) for c in range(k)], axis=1)
        top2 = np.sort(votes, axis=1)[:, -2:]
        clear, majority = clear_rows(rows)
        np.testing.assert_array_equal(clear, top2[:, 1] - top2[:, 0] >= 2)
        np.testing.assert_array_equal(majority, votes.argmax(axis=1))
        voted = r >= 0
        others = voted.sum(axis=1, keepdims=True) - voted
        dense_lonely = np.flatnonzero(((voted & (others > 0)) * w[:, None]).sum(axis=0) == 0)
        np.testing.assert_array_equal(lfs_without_overlap(rows), dense_lonely)
        coverage = (voted * w[:, None]).sum(axis=0) / w.sum()
        n_classes = sum(((r == c) * w[:, None]).sum(axis=0) > 0 for c in range(k))
        active = n_classes > 0
        on = voted.sum(axis=1) > 0
        expect = bool(
            active.any()
            and w[on].sum() > 0
            and np.median(coverage) <= balance_module.CROWD_COVERAGE
            and np.mean(n_classes[active] >= 2) >= balance_module.CROWD_MULTI
            and (voted.sum(axis=1) * w)[on].sum() / w[on].sum() >= balance_module.CROWD_VOTES
        )
        assert crowd_like(rows) == expect
        outcomes.add(expect)
    assert outcomes == {True, False}  # both answers were tested
