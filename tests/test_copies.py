"""LFs that copy each other: found from the rows and counted once (tripletws.estimators.copies)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tripletws import LabelModel, MajorityLabelVoter
from tripletws.estimators.annotator import fit_annotator
from tripletws.estimators.copies import Copies, find_copies, outcome_agreement, posterior, without_copies
from tripletws.intervals import unidentified_lfs
from tripletws.io import model_from_dict, model_to_dict
from tripletws.kernels import cells
from tripletws.matrix import check_label_matrix
from tripletws.rows import RowSummary

K = 3
ACC = np.array([0.85, 0.6, 0.65, 0.8, 0.55, 0.7, 0.6, 0.75])
COVERAGE = 0.7


def independent_lfs(n, rng, acc=ACC, k=K, coverage=COVERAGE):
    """Conditionally independent LFs: vote w.p. ``coverage``, right w.p. ``acc``, errors uniform."""
    y = rng.integers(0, k, size=n)
    wrong = (y[:, None] + rng.integers(1, k, size=(n, len(acc)))) % k
    L = np.where(rng.random((n, len(acc))) < acc, y[:, None], wrong)
    L[rng.random(L.shape) >= coverage] = -1
    return L, y


def fit(L, k=K):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LabelModel(k).fit(L)
    return model, [str(w.message) for w in caught]


def summary(L, k=K):
    return RowSummary.from_matrix(check_label_matrix(L, k), 10**7)


@pytest.mark.parametrize("k", [2, K])  # k = 2: agreements from signed votes
@pytest.mark.parametrize("scale", [1.0, 1.5])  # 1.5: counts not all integers (float64 products)
def test_agreement_counts_equal_outcomes_dense_and_sparse(monkeypatch, k, scale):
    rng = np.random.default_rng(3)
    L = rng.integers(-1, k, size=(400, 12))
    L[rng.random(L.shape) < 0.85] = -1
    L[:, 11] = -1  # never votes: no pair
    equal = (L[:, :, None] == L[:, None, :]).mean(axis=0)
    covoting = ((L[:, :, None] >= 0) & (L[:, None, :] >= 0)).any(axis=0)
    want = [(i, j) for i in range(12) for j in range(i + 1, 12) if covoting[i, j]]
    import tripletws.estimators.copies as copies_module

    rows = summary(L, k)
    rows = RowSummary(k, rows.rows, rows.counts * scale, rows.n_rows, rows.max_rows, rows.level)
    votes = cells(rows.rows >= 0)
    subset = np.array([2, 5, 7, 11])
    want_subset = [(i, j) for i, j in want if i in subset and j in subset]
    # dense products; pairs of votes summed in dense arrays; the same pairs sorted (few against m^2, or
    # m^2 over MAX_PAIR_KEYS); one sparse product
    for density, max_keys, ratio, max_pairs in (
        (0.0, 10**6, 8, 10**6),
        (1.0, 10**6, 10**6, 10**6),
        (1.0, 10**6, 0, 10**6),
        (1.0, 0, 10**6, 10**6),
        (1.0, 0, 10**6, 0),
    ):
        monkeypatch.setattr(copies_module, "SPARSE_DENSITY", density)
        monkeypatch.setattr(copies_module, "MAX_PAIR_KEYS", max_keys)
        monkeypatch.setattr(copies_module, "DENSE_KEYS_RATIO", ratio)
        monkeypatch.setattr(copies_module, "MAX_VOTE_PAIRS", max_pairs)
        iu, ju, agreement, n = outcome_agreement(rows, np.arange(12))
        assert n == 400 * scale
        assert list(zip(iu.tolist(), ju.tolist(), strict=True)) == want
        # shares of whole rows: the products are exact (integer counts) or within float64 rounding
        np.testing.assert_allclose(agreement, equal[iu, ju], atol=1e-12)
        # a subset of LFs keeps their own indices, with the votes' cells given or not
        for given in (None, votes):
            iu, ju, agreement, _ = outcome_agreement(rows, subset, given)
            assert list(zip(iu.tolist(), ju.tolist(), strict=True)) == want_subset
            np.testing.assert_allclose(agreement, equal[iu, ju], atol=1e-12)


def test_exact_copies_are_found_and_counted_once():
    n = 6_000
    L, _ = independent_lfs(n, np.random.default_rng(0))
    # three exact copies of LF 0 (the most accurate) and two of LF 3
    L = np.hstack([L, L[:, [0, 0, 0, 3, 3]]])
    model, notes = fit(L)
    copies = model.copies_
    assert isinstance(copies, Copies)
    assert sorted(map(tuple, (g.tolist() for g in copies.groups))) == [(0, 8, 9, 10), (3, 11, 12)]
    # exact copies tie on every criterion: the lowest index represents its group
    np.testing.assert_array_equal(copies.representatives, [0, 3])
    np.testing.assert_array_equal(copies.members, [8, 9, 10, 11, 12])
    np.testing.assert_array_equal(copies.copy_of[8:], [0, 0, 0, 3, 3])
    np.testing.assert_allclose(copies.share[8:], 1.0, atol=1e-6)
    assert any("copy another LF's outcome" in m and "8 (of 0" in m for m in notes)
    # the non-copies' accuracies are recovered: within 4 binomial standard errors of the LF's
    # votes (n * coverage of them) plus the spread of the posterior labels' errors, bounded by the
    # same scale again
    se = np.sqrt(ACC * (1 - ACC) / (n * COVERAGE))
    np.testing.assert_array_less(np.abs(model.accuracies_[:8] - ACC), 8 * se)
    # the members' reported accuracy is that of their source, measured against the posterior
    np.testing.assert_array_less(np.abs(copies.accuracy[8:] - ACC[[0, 0, 0, 3, 3]]), 8 * se[[0, 0, 0, 3, 3]])
    # counted once: the posterior is that of the LFs without the copies
    alone, _ = fit(L[:, :8])
    np.testing.assert_allclose(model.predict_proba(L), alone.predict_proba(L[:, :8]), atol=1e-6)
    # members are neither unidentified nor "worse than chance"
    assert not np.isin(copies.members, model.unidentified_).any()
    assert not any("worse than chance" in m for m in notes)


def test_copies_round_trip_through_the_model_file():
    L, _ = independent_lfs(3_000, np.random.default_rng(1))
    L = np.hstack([L, L[:, [1]]])
    model, _ = fit(L)
    assert model.copies_ is not None and model.copies_.members.tolist() == [8]
    again = model_from_dict(model_to_dict(model))
    np.testing.assert_array_equal(again.copies_.copy_of, model.copies_.copy_of)
    # its accuracy is not an estimate: no confidence interval for it
    assert 8 in unidentified_lfs(model).tolist()
    np.testing.assert_array_equal(again.predict_proba(L), model.predict_proba(L))


@pytest.mark.parametrize("seed", range(8))
def test_conditionally_independent_lfs_are_not_flagged(seed):
    # The test's null is a copy share of one half; independent LFs have a share of 0, so a flag
    # would need the agreement to exceed its expectation by (1 - e) / 2, dozens of standard errors
    # at these n: nothing may be flagged (the 5 % family-wise level bounds even the borderline case).
    rng = np.random.default_rng(100 + seed)
    acc = rng.uniform(0.45, 0.9, size=15)
    L, _ = independent_lfs(int(rng.integers(500, 5_000)), rng, acc=acc, coverage=rng.uniform(0.1, 0.9))
    model, notes = fit(L)
    assert model.copies_ is None
    assert not any("copy another LF" in m for m in notes)


def test_near_copies_share_is_estimated():
    rng = np.random.default_rng(7)
    n, share = 20_000, 0.8
    L, _ = independent_lfs(n, rng)
    copy = np.where(rng.random(n) < share, L[:, 2], L[:, 5])  # LF 5's own outcome otherwise
    L = np.hstack([L[:, :5], L[:, 6:], copy[:, None]])  # LF 5 replaced by the near-copy of LF 2
    rows = summary(L)
    ref = fit_annotator(rows, "mace", class_balance=np.full(K, 1.0 / K))
    found = find_copies(rows, ref.params)
    assert [g.tolist() for g in found.groups] == [[2, 7]]
    j = int(found.members[0])
    # the share estimate (o - e) / (1 - e) has a standard error of about sqrt(o (1 - o) / n) / (1 - e)
    # < 0.01, but its null e comes from a fit that counted both LFs: their tables look more accurate
    # than they are, e is too high and the share too low (0.72 here; 0.80 with the true tables).
    # The test is conservative, never the other way: above one half (it was flagged), at most s + 5 se.
    assert 0.5 < found.share[j] <= share + 0.05
    blank = without_copies(rows, found)
    assert blank.counts.sum() == rows.counts.sum() and (blank.rows[:, j] == -1).all()


def test_posterior_of_the_rows_is_the_models():
    L, _ = independent_lfs(2_000, np.random.default_rng(4))
    model, _ = fit(L)
    rows = summary(L)
    # same arithmetic in another order (sums of logs): equal to rounding
    np.testing.assert_allclose(posterior(rows, model.params_), model.predict_proba(rows.rows), atol=1e-9)


def test_copies_setting_is_checked_saved_and_reaches_the_cli(tmp_path):
    from conftest import run_cli

    L, _ = independent_lfs(3_000, np.random.default_rng(4))
    L = np.hstack([L, L[:, [0, 0]]])  # two exact copies of LF 0
    with pytest.raises(ValueError, match="unknown copies 'drop'"):
        LabelModel(K, copies="drop").fit(L)
    with pytest.warns(UserWarning, match="copies='keep' ignored"):
        LabelModel(K, model="symmetric", copies="keep").fit(L)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kept = LabelModel(K, copies="keep").fit(L)
    assert kept.copies_ is None  # every LF counted: nothing tested, nothing named
    np.save(tmp_path / "L.npy", L)
    for flag, expect in (([], "once"), (["--copies", "keep"], "keep")):
        out = run_cli("fit", tmp_path / "L.npy", "-o", tmp_path / "m.json", "-k", str(K), *flag)
        assert out.returncode == 0, out.stderr
        back = LabelModel.load(tmp_path / "m.json")
        assert back.copies == expect
        assert (back.copies_ is None) == (expect == "keep")
    # the file reproduces the fit it was saved from
    np.testing.assert_allclose(back.predict_proba(L), kept.predict_proba(L), atol=1e-12)


def test_abstain_check_reads_the_first_choice_scores_when_copies_make_it_again():
    """The abstain check scores ``rows`` (copies included) on the choice's folds; with copies the
    family is chosen again on other rows, and the check reads the first choice's scores of the
    family then chosen: they are those a lone cold fit of that family gives (each member of the
    choice's batch is fitted as if alone)."""
    from tripletws.estimators.copies import count_once
    from tripletws.estimators.coverage_check import FOLD_SEED, N_FOLDS
    from tripletws.estimators.family_choice import CANDIDATES, select_family
    from tripletws.estimators.heldout import deal_counts, heldout_row_scores

    L, _ = independent_lfs(2_000, np.random.default_rng(4))
    rows = summary(np.hstack([L, L[:, [0, 0, 3]]]))
    given = np.full(K, 1.0 / K)
    folds = deal_counts(rows.rows, rows.counts, K, N_FOLDS, FOLD_SEED)
    first = select_family(
        rows, CANDIDATES, n_folds=N_FOLDS, class_balance=given, random_state=FOLD_SEED, folds=folds
    )
    again, copies, _ = count_once(rows, first, CANDIDATES, given, FOLD_SEED)
    assert copies is not None and again.scores is not None
    assert first.scores is not None
    for fam in CANDIDATES:
        alone = heldout_row_scores(
            rows, (fam,), n_folds=N_FOLDS, class_balance=given, random_state=FOLD_SEED, folds=folds
        )
        np.testing.assert_array_equal(alone.folds, first.scores.folds)  # counts: whole numbers
        # the same EM from the same start on the same rows: equal to float64 rounding of the batch
        np.testing.assert_allclose(alone.row_loglik[fam], first.scores.row_loglik[fam], rtol=0, atol=1e-9)


@pytest.mark.parametrize("copied", [True, False])
@pytest.mark.parametrize("jit", ["1", "0"])
def test_choosing_once_is_count_once_of_the_first_choice(monkeypatch, copied, jit):
    """select_counting_once fits the richest candidate alone first and chooses once; it returns what
    count_once of a choice on all rows returns (the same choice, copies and fits) and the deal of
    the rows it returns.  The fits agree to float64 rounding of the EM (a member of a batch is
    fitted as if alone; the compiled kernel does it member by member)."""
    from tripletws.estimators.copies import count_once, select_counting_once
    from tripletws.estimators.coverage_check import FOLD_SEED, N_FOLDS
    from tripletws.estimators.family_choice import CANDIDATES, select_family
    from tripletws.estimators.heldout import deal_counts

    monkeypatch.setenv("TRIPLETWS_JIT", jit)
    L, _ = independent_lfs(2_000, np.random.default_rng(5))
    rows = summary(np.hstack([L, L[:, [0, 0, 3]]]) if copied else L)
    given = np.full(K, 1.0 / K)
    folds = deal_counts(rows.rows, rows.counts, K, N_FOLDS, FOLD_SEED)
    first = select_family(
        rows, CANDIDATES, n_folds=N_FOLDS, class_balance=given, random_state=FOLD_SEED, folds=folds
    )
    expect, copies, plain = count_once(rows, first, CANDIDATES, given, FOLD_SEED)
    got, got_copies, got_plain, got_folds = select_counting_once(rows, CANDIDATES, given, FOLD_SEED, N_FOLDS)
    assert (copies is None) == (not copied) == (got_copies is None)
    if copies is not None:
        assert got_copies is not None
        np.testing.assert_array_equal(got_copies.members, copies.members)
    np.testing.assert_array_equal(got_plain.rows, plain.rows)
    np.testing.assert_array_equal(got_plain.counts, plain.counts)
    # whole numbers: the deal the checks make of these rows
    np.testing.assert_array_equal(got_folds, deal_counts(plain.rows, plain.counts, K, N_FOLDS, FOLD_SEED))
    assert got.chosen == expect.chosen and list(got.fits) == list(expect.fits)
    for fam in CANDIDATES:
        a, b = got.fits[fam].params, expect.fits[fam].params
        np.testing.assert_allclose(a.cond_probs, b.cond_probs, rtol=0, atol=1e-12)
        np.testing.assert_allclose(a.class_balance, b.class_balance, rtol=0, atol=1e-12)
        assert got.fits[fam].n_steps == expect.fits[fam].n_steps
        held, ref = got.scores.row_loglik[fam], expect.scores.row_loglik[fam]
        np.testing.assert_allclose(held, ref, rtol=0, atol=1e-9)


def test_an_exact_duplicate_is_found_where_every_lf_votes_on_every_row():
    """At full coverage the reference fit read an LF and its exact duplicate as two perfect witnesses
    (accuracies 1.0), their expected agreement was then 1 and no agreement could show the copy: the
    pair outvoted the other three LFs (accuracy of LF 0 alone, 16 points below majority vote).  With
    abstentions the same duplicate was found."""
    rng = np.random.default_rng(0)
    n, k = 3000, 3
    y = rng.integers(0, k, n)
    L = np.where(rng.random((n, 5)) < 0.7, y[:, None], (y[:, None] + rng.integers(1, k, (n, 5))) % k)
    L[:, 1] = L[:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(k).fit(L)
        mv = MajorityLabelVoter(k).predict_proba(L)
    assert model.copies_ is not None and model.copies_.copy_of[1] == 0
    P = model.predict_proba(L)
    top = P == P.max(axis=1, keepdims=True)
    acc = float((top[np.arange(n), y] / top.sum(axis=1)).mean())
    top = mv == mv.max(axis=1, keepdims=True)
    mv_acc = float((top[np.arange(n), y] / top.sum(axis=1)).mean())
    # about 0.85 against MV's 0.82 (2000+ rows: a binomial standard error under 0.01)
    assert acc > mv_acc + 0.01
