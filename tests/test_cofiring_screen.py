"""The co-firing screen before the readings of one-class LFs (estimators.cofiring_screen)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tripletws import LabelModel
from tripletws.estimators import cofiring_screen as screen_module
from tripletws.estimators.cofiring_screen import _indicators, cofiring_screen
from tripletws.matrix import LabelMatrix
from tripletws.models import annotator as annotator_module
from tripletws.rows import RowSummary


def summary(L, k=2):
    return RowSummary.from_matrix(LabelMatrix(L, k), 20_000)


def one_class_lfs(y, rates, classes, rng):
    """One-class LFs: LF j fires with probability ``rates[j, y]`` and then votes ``classes[j]``."""
    fire = rng.random((len(y), len(classes))) < rates[:, y].T
    return np.where(fire, np.asarray(classes)[None, :], -1).astype(np.int8)


def test_independent_firing_is_rarely_taken_for_the_classes():
    # firing independent of the class and of the other LFs: the three tests err at 5 %, 5 % and 2.5 %,
    # so the screen rejects on 12.5 % of the draws at most (7.5 of these 60); the count is binomial (sd
    # 2.6), and 20 would say the tests are far more liberal than their laws
    supported = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        y = rng.integers(0, 2, size=2_000)
        rates = np.repeat(rng.uniform(0.01, 0.4, size=(8, 1)), 2, axis=1)
        s = cofiring_screen(summary(one_class_lfs(y, rates, [0, 1] * 4, rng)))
        assert s.n_pairs == 28
        supported += s.supported
    assert supported <= 20


def test_class_dependent_firing_is_shown():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=2_000)
    classes = [0, 0, 0, 1, 1, 1]
    rates = np.array([[0.3, 0.05] if c == 0 else [0.05, 0.3] for c in classes])
    s = cofiring_screen(summary(one_class_lfs(y, rates, classes, rng)))
    assert s.supported and s.z_signed > 5  # (the cheapest test rejects: the others are not read)


def test_disjoint_lfs_show_nothing():
    # keyword LFs that never fire on one row: no co-firing to read, whatever the classes
    L = np.full((3_000, 4), -1, dtype=np.int8)
    for j, c in enumerate([0, 1, 0, 1]):
        L[j * 10 : j * 10 + 10, j] = c
    s = cofiring_screen(summary(L))
    assert not s.supported
    # each pair expects 10 * 10 / 3000 rows together and has none: P(X = 0) is near 1 on both sides
    assert s.n_pairs == 6 and s.p_pair == pytest.approx(1.0)
    assert s.n_summed == 0 and np.isnan(s.p_sum)
    assert np.isnan(s.z_signed)  # (the pairs' variances sum to 0.2: its normal law does not hold)
    assert "fire independently of each other" in s.reason()


def test_an_lf_voting_several_classes_gives_one_indicator_per_class_never_paired_with_itself():
    L = np.array([[0, 1, -1], [1, 1, 0], [1, -1, 0], [-1, 0, 1]], dtype=np.int8)
    ind, r, lf, cls = _indicators(summary(L))
    pairs = {(int(a), int(b)) for a, b in zip(lf, cls, strict=True)}
    assert pairs == {(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)}
    assert len(ind) == len(r) == int((L >= 0).sum())
    # 6 indicators, 15 pairs, 3 of them within one LF
    assert cofiring_screen(summary(L)).n_pairs == 12


def _no_signed_sum(monkeypatch):
    monkeypatch.setattr(screen_module, "SIGNED_Z", np.inf)  # Pearson's test is read


def test_pearsons_test_sums_the_tables_of_the_pairs_of_lfs(monkeypatch):
    # every pair of LFs' table of outcomes (the classes it votes, abstain) counted from L by hand, its
    # statistic and (r - 1)(c - 1) degrees of freedom, summed over the tables whose expected cells are
    # all at least 5, against the chi-square tail
    from scipy.stats import chi2

    _no_signed_sum(monkeypatch)
    rng = np.random.default_rng(3)
    L = np.where(rng.random((2_000, 5)) < 0.3, rng.integers(0, 3, size=(2_000, 5)), -1).astype(np.int8)
    L[:, 4] = np.where(L[:, 4] >= 0, 1, -1)  # one LF voting one class only
    stat, df, tables = 0.0, 0, 0
    for a in range(5):
        for b in range(a + 1, 5):
            ca, cb = np.unique(L[:, a]), np.unique(L[:, b])  # abstain (-1) and the classes voted
            t = np.array([[np.sum((L[:, a] == x) & (L[:, b] == z)) for z in cb] for x in ca], float)
            E = t.sum(axis=1, keepdims=True) * t.sum(axis=0, keepdims=True) / t.sum()
            if E.min() >= screen_module.MIN_EXPECTED:
                stat += float(((t - E) ** 2 / E).sum())
                df += (len(ca) - 1) * (len(cb) - 1)
                tables += 1
    s = cofiring_screen(summary(L, 3))
    assert (
        s.n_summed == tables == 10 and df == 6 * 9 + 4 * 3
    )  # (4 x 4 tables among the first four, 2 x 4 with the last)
    # sums of a few hundred terms: float rounding far below 1e-9 relative
    assert s.p_sum == pytest.approx(chi2.sf(stat, df), rel=1e-9)


def test_signed_variance_counts_the_covariances_within_a_pair_of_lfs():
    # LFs voting several classes: the counts of one pair of LFs share their margins, so the signed
    # sum's variance is the covariances' double sum, not the variances' sum
    from tripletws.estimators.cofiring_screen import _signed_variance

    rng = np.random.default_rng(8)
    L = np.where(rng.random((500, 4)) < 0.4, rng.integers(0, 3, size=(500, 4)), -1).astype(np.int8)
    unique = summary(L, 3)
    ind, r, lf, cls = _indicators(unique)
    counts = np.asarray(unique.counts)
    n = float(counts.sum())
    V = np.bincount(ind, weights=counts[r])
    total = 0.0
    for i in range(len(lf)):
        for j in range(len(lf)):
            for i2 in range(len(lf)):
                for j2 in range(len(lf)):
                    if not (lf[i] < lf[j] and lf[i2] == lf[i] and lf[j2] == lf[j]):
                        continue
                    s1 = 1.0 if cls[i] == cls[j] else -1.0
                    s2 = 1.0 if cls[i2] == cls[j2] else -1.0
                    a = V[i] * (n * (i == i2) - V[i2])
                    b = V[j] * (n * (j == j2) - V[j2])
                    total += s1 * s2 * a * b / (n * n * (n - 1))
    assert _signed_variance(V, lf, cls, 3, n) == pytest.approx(total, rel=1e-9)
    # the sum of the pairs' own variances, which the first version used, is not it
    plain = sum(
        V[i] * V[j] * (n - V[i]) * (n - V[j]) / (n * n * (n - 1))
        for i in range(len(lf))
        for j in range(i + 1, len(lf))
        if lf[i] != lf[j]
    )
    assert abs(plain - total) > 0.05 * total


def test_lfs_voting_several_classes_are_rarely_taken_for_dependent():
    # eight LFs voting both classes at random, independently: the three tests err at 5 %, 5 % and
    # 2.5 %, so the screen rejects on 12.5 % of the draws at most (7.5 of these 60; sd 2.6); 20 would
    # say a test is far more liberal than its law (the first version's variance rejected on 15 %)
    supported = 0
    for seed in range(60):
        rng = np.random.default_rng(100 + seed)
        cov = rng.uniform(0.05, 0.5, size=8)
        L = np.where(rng.random((2_000, 8)) < cov, rng.integers(0, 2, size=(2_000, 8)), -1).astype(np.int8)
        supported += cofiring_screen(summary(L)).supported
    assert supported <= 20


def test_one_co_firing_of_rare_lfs_is_read_by_its_exact_tail():
    # two rare LFs (3 and 2 rows of 5000) fire together once: no pair expects 5 rows together, so the
    # summed test is not read, and the pair's two-sided binomial tail decides
    L = np.full((5_000, 4), -1, dtype=np.int8)
    L[0:3, 0] = 1
    L[2:4, 1] = 1  # LFs 0 and 1 fire together on row 2
    L[10:20, 2] = 0
    L[30:40, 3] = 0
    s = cofiring_screen(summary(L))
    assert s.n_summed == 0
    # P(X >= 1) for 2 draws at the rate 3 / 5000, doubled, times 6 pairs: about 0.014, under 5 %
    assert s.supported and s.p_pair == pytest.approx(12 * (1 - (1 - 3 / 5_000) ** 2), rel=1e-6)


def test_adversarial_lfs_show_the_classes_too():
    # LFs that fire more on the class they do not name make their pairs co-vary the other way: the
    # screen reads dependence in either direction (orientation is the coverage check's test)
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, size=3_000)
    classes = [0, 0, 0, 1, 1, 1]
    rates = np.array([[0.3, 0.05], [0.05, 0.3], [0.3, 0.05], [0.05, 0.3], [0.3, 0.05], [0.05, 0.3]])
    s = cofiring_screen(summary(one_class_lfs(y, rates, classes, rng)))
    assert s.supported and s.p_sum < 1e-6


def test_signed_sum_reads_many_sparse_pairs(monkeypatch):
    # 40 rare LFs of class-dependent firing: no pair expects 5 rows together and none is significant
    # alone after Bonferroni, but their excesses add up in the direction the classes imply
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, size=4_000)
    classes = [0, 1] * 20
    rates = np.array([[0.02, 0.002] if c == 0 else [0.002, 0.02] for c in classes])
    unique = summary(one_class_lfs(y, rates, classes, rng))
    s = cofiring_screen(unique)
    assert s.supported and s.z_signed > screen_module.SIGNED_Z
    monkeypatch.setattr(screen_module, "SIGNED_Z", np.inf)  # the other two tests alone
    s = cofiring_screen(unique)
    assert s.n_summed == 0 and s.p_pair > screen_module.ALPHA and not s.supported


def test_signed_sum_matches_the_pairs_counted_one_by_one():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, size=600)
    L = one_class_lfs(y, np.array([[0.3, 0.1], [0.1, 0.3], [0.2, 0.2], [0.3, 0.1]]), [0, 1, 1, 0], rng)
    unique = summary(L)
    ind, r, lf, cls = _indicators(unique)
    counts = np.asarray(unique.counts)
    n = float(counts.sum())
    F = np.zeros((len(counts), len(lf)))
    F[r, ind] = 1.0
    V, together = F.T @ counts, F.T @ (F * counts[:, None])
    num = var = 0.0
    for i in range(len(lf)):
        for j in range(i + 1, len(lf)):
            num += (1.0 if cls[i] == cls[j] else -1.0) * (together[i, j] - V[i] * V[j] / n)
            var += V[i] * V[j] * (n - V[i]) * (n - V[j]) / (n * n * (n - 1))
    assert cofiring_screen(unique).z_signed == pytest.approx(num / np.sqrt(var), rel=1e-9)


def _disjoint_problem(seed):
    """Eight rare keyword LFs that fire together once (two of different classes), most rows without a
    vote: the readings have nothing to identify the class-dependent rates from."""
    rng = np.random.default_rng(seed)
    n = 4_000
    L = np.full((n, 8), -1, dtype=np.int8)
    rows = rng.permutation(n)[:160].reshape(8, 20)
    for j in range(8):
        L[rows[j], j] = j % 2
    L[rows[0, 0], 1] = 1  # LFs 0 and 1 (different classes) fire together once: no class shows in it
    return L


def test_the_default_reads_no_abstentions_where_the_firing_shows_no_class():
    L = _disjoint_problem(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LabelModel(2).fit(L)
    record = model.estimate_.one_class
    assert record is not None and not record.accepted
    assert "fire independently of each other" in record.reason
    assert model.estimate_.abstain is None
    assert any("fire independently of each other" in str(w.message) for w in caught)
    # the rows without a vote are left to the prior (a tie, as majority vote leaves them)
    P = model.predict_proba(np.full((1, 8), -1, dtype=np.int8))
    np.testing.assert_allclose(P, [[0.5, 0.5]], atol=1e-12)


def test_the_switch_restores_the_readings(monkeypatch):
    L = _disjoint_problem(0)
    monkeypatch.setattr(annotator_module, "COFIRING_SCREEN", False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2).fit(L)
    record = model.estimate_.one_class
    assert record is not None
    assert "fire independently of each other" not in record.reason


def test_class_dependent_coverage_is_still_read():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, size=3_000)
    classes = [0, 0, 0, 1, 1, 1]
    rates = np.array([[0.4, 0.05] if c == 0 else [0.05, 0.4] for c in classes])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2).fit(one_class_lfs(y, rates, classes, rng))
    assert model.estimate_.one_class.accepted


def test_the_screens_record_survives_the_model_file(tmp_path):
    L = _disjoint_problem(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2).fit(L)
        model.save(tmp_path / "m.json")
        back = LabelModel.load(tmp_path / "m.json")
    assert back.estimate_.one_class.to_dict() == model.estimate_.one_class.to_dict()  # (nan != nan)
    assert not back.estimate_.one_class.accepted
    assert "fire independently of each other" in back.estimate_.one_class.reason
    np.testing.assert_allclose(back.predict_proba(L), model.predict_proba(L), rtol=0, atol=1e-12)
