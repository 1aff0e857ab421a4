"""LFs that vote one class only: class-dependent coverage fitted by EM ("mace_coverage"), its orientation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tripletws import LabelModel
from tripletws.estimators.annotator import FAMILIES, fit_annotator
from tripletws.estimators.heldout import heldout_loglik
from tripletws.estimators.one_class import (
    coverage_rates,
    coverage_table,
    one_class_votes,
    orientation,
)
from tripletws.matrix import check_label_matrix
from tripletws.params import LabelModelParams
from tripletws.rows import RowSummary


def draw_one_class(n, prior, classes, on, off, rng):
    """Rows of the coverage model: LF i votes ``classes[i]`` w.p. ``on[i]`` on that class, ``off[i]`` else."""
    k = len(prior)
    y = rng.choice(k, size=n, p=prior)
    L = np.full((n, len(classes)), -1, dtype=np.int64)
    for i, c in enumerate(classes):
        rate = np.where(y == c, on[i], off[i])
        L[rng.random(n) < rate, i] = c
    return L, y


def unique_rows(L, k):
    return RowSummary.from_matrix(check_label_matrix(L, k), 10**7)


def test_family_is_listed_and_reads_abstain_for_one_class_lfs_only():
    assert "mace_coverage" in FAMILIES
    rng = np.random.default_rng(3)
    L, _ = draw_one_class(4000, [0.5, 0.5], [0, 0, 1, 1], [0.6] * 4, [0.1] * 4, rng)
    both = rng.integers(0, 2, size=(4000, 1))  # an LF that votes both classes, on every row
    fit = fit_annotator(unique_rows(np.hstack([L, both]), 2), "mace_coverage")
    T = fit.params.cond_probs
    np.testing.assert_allclose(T.sum(axis=1), 1.0, atol=1e-12)
    assert abs(T[4, 0, 0] - T[4, 0, 1]) < 1e-12  # several classes: abstain is "not assigned"
    assert T[0, 0, 0] < T[0, 0, 1] - 0.2  # one class: abstains far more often off its class


@pytest.mark.parametrize("seed", [0, 1])
def test_recovers_coverage_rates_and_class_balance(seed):
    rng = np.random.default_rng(seed)
    n, prior = 40_000, np.array([0.7, 0.3])
    classes = np.array([0, 0, 0, 1, 1, 1])
    on = np.array([0.5, 0.3, 0.6, 0.4, 0.7, 0.25])
    off = np.array([0.05, 0.1, 0.15, 0.02, 0.1, 0.05])
    L, _ = draw_one_class(n, prior, classes, on, off, rng)
    u = unique_rows(L, 2)
    lfs, voted = one_class_votes(u)
    assert lfs.tolist() == list(range(6)) and voted.tolist() == classes.tolist()
    fit = fit_annotator(u, "mace_coverage", max_steps=500, tol=1e-10)
    rates = coverage_rates(fit.params, lfs, voted)
    # a rate estimated from the rows of one class: standard error sqrt(r (1 - r) / n_y); the latent
    # class costs a factor, so 6 standard errors (plus the MAP prior's 1 / n_y)
    n_on = n * prior[classes]
    n_off = n * (1.0 - prior[classes])
    tol_on = 6 * np.sqrt(on * (1 - on) / n_on) + 1.0 / n_on
    tol_off = 6 * np.sqrt(off * (1 - off) / n_off) + 1.0 / n_off
    assert np.all(np.abs(rates.on_class - on) < tol_on), (rates.on_class, on, tol_on)
    assert np.all(np.abs(rates.off_class - off) < tol_off), (rates.off_class, off, tol_off)
    # the latent share: a binomial standard error, doubled for the latent class, 6 of them
    assert abs(fit.params.class_balance[0] - prior[0]) < 12 * np.sqrt(prior[0] * prior[1] / n)
    assert orientation(rates, (L >= 0).mean(axis=0)) == 1.0


def test_recovers_rates_beside_lfs_that_vote_several_classes():
    rng = np.random.default_rng(7)
    k, n = 3, 30_000
    prior = np.full(k, 1.0 / k)
    classes = np.array([0, 1, 2, 0, 1, 2])
    on = np.full(6, 0.5)
    off = np.full(6, 0.08)
    L, y = draw_one_class(n, prior, classes, on, off, rng)
    noisy = np.where(rng.random(n) < 0.7, y, rng.integers(0, k, size=n))  # votes every class, acc 0.8
    u = unique_rows(np.hstack([L, noisy[:, None]]), k)
    fit = fit_annotator(u, "mace_coverage", class_balance=prior, max_steps=300, tol=1e-10)
    lfs, voted = one_class_votes(u)
    rates = coverage_rates(fit.params, lfs, voted)
    n_y = n / k
    assert np.all(np.abs(rates.on_class - 0.5) < 6 * np.sqrt(0.25 / n_y) + 1 / n_y)
    assert np.all(np.abs(rates.off_class - 0.08) < 6 * np.sqrt(0.08 * 0.92 / (n - n_y)) + 1 / n_y)
    V = fit.params.cond_probs[6, 1:, :]
    acc = np.mean(np.diag(V) / V.sum(axis=0))
    assert abs(acc - 0.8) < 6 * np.sqrt(0.8 * 0.2 / n)


def test_orientation_detects_a_flipped_latent_class():
    # the two-rate model is symmetric under swapping the latent labels (k = 2, one-class LFs
    # only): the flipped fit has the same likelihood, and only the LFs' orientation tells them apart
    rng = np.random.default_rng(11)
    classes = np.array([0, 0, 1, 1, 1])
    L, _ = draw_one_class(20_000, [0.5, 0.5], classes, [0.5, 0.4, 0.6, 0.3, 0.5], [0.05] * 5, rng)
    u = unique_rows(L, 2)
    fit = fit_annotator(u, "mace_coverage")
    lfs, voted = one_class_votes(u)
    cov = (L >= 0).mean(axis=0)
    flipped = LabelModelParams(fit.params.class_balance[::-1], fit.params.cond_probs[:, :, ::-1].copy())
    refit = fit_annotator(u, "mace_coverage", init=flipped, class_balance=np.full(2, 0.5))
    assert orientation(coverage_rates(fit.params, lfs, voted), cov) == 1.0
    assert orientation(coverage_rates(refit.params, lfs, voted), cov) == 0.0
    ref = fit_annotator(u, "mace_coverage", class_balance=np.full(2, 0.5))
    assert abs(refit.log_likelihood - ref.log_likelihood) < 1e-4


def test_no_one_class_lf_leaves_orientation_undefined_and_mace_unchanged():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, size=3000)
    L = np.stack([np.where(rng.random(3000) < 0.8, y, 1 - y) for _ in range(4)], axis=1)
    u = unique_rows(L, 2)
    lfs, voted = one_class_votes(u)
    assert lfs.size == 0
    assert np.isnan(orientation(coverage_rates(fit_annotator(u, "mace").params, lfs, voted), np.ones(4)))
    a = fit_annotator(u, "mace", class_balance=np.full(2, 0.5))
    b = fit_annotator(u, "mace_coverage", class_balance=np.full(2, 0.5))
    np.testing.assert_allclose(a.params.cond_probs, b.params.cond_probs, atol=1e-9)


def test_coverage_table_is_a_distribution_and_unseen_votes_carry_no_evidence():
    T = coverage_table(np.array([0.6, 0.2]), np.array([0.1, 0.3]), np.array([2, 0]), 3)
    np.testing.assert_allclose(T.sum(axis=1), 1.0, atol=1e-12)
    assert T[0, 3, 2] == 0.6 and T[0, 3, 0] == 0.1 and T[1, 1, 0] == 0.2 and T[1, 1, 2] == 0.3
    assert np.ptp(T[0, 1, :]) == 0.0 and np.ptp(T[1, 2, :]) == 0.0


def test_heldout_scores_the_family_on_the_same_events():
    rng = np.random.default_rng(2)
    L, _ = draw_one_class(6000, [0.6, 0.4], [0, 0, 1, 1], [0.5, 0.4, 0.6, 0.5], [0.05] * 4, rng)
    scores = heldout_loglik(unique_rows(L, 2), ("mace", "mace_coverage"), n_folds=3, random_state=0)
    # data from the coverage model: reading abstain as informative predicts held-out rows better
    assert scores["mace_coverage"] > scores["mace"]


def test_default_names_each_one_class_lf_with_its_class():
    import warnings

    from tripletws import LabelModel

    rng = np.random.default_rng(4)
    classes = [1, 0, 1]
    # class-independent coverage: neither their votes nor their abstentions identify them (with
    # class-dependent coverage the abstain check reads them: test_abstain_check.py)
    L, _ = draw_one_class(3000, [0.5, 0.5], classes, [0.3, 0.3, 0.3], [0.3, 0.3, 0.3], rng)
    both = np.where(rng.random(3000) < 0.5, rng.integers(0, 2, size=3000), -1)[:, None]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LabelModel(2).fit(np.hstack([L, both, both]))
    text = " ".join(str(w.message) for w in caught)
    assert "LF(s) 0 (class 1), 1 (class 0), 2 (class 1) vote one class only" in text
    assert "L_dev" in text
    assert {0, 1, 2} <= set(model.unidentified_.tolist())


def quiet_rows(L, share, rng):
    """Silence most votes of a random ``share`` of the rows, whatever their class (a background group)."""
    quiet = rng.random(len(L)) < share
    L = L.copy()
    L[(rng.random(L.shape) < 0.85) & quiet[:, None]] = -1
    return L


@pytest.mark.parametrize("seed", [0, 1])
def test_background_group_is_detected_and_a_clean_coverage_model_is_not(seed):
    from tripletws.estimators.coverage_check import BACKGROUND_Z, coverage_check

    rng = np.random.default_rng(seed)
    on = [0.6, 0.5, 0.7, 0.6, 0.5, 0.4]
    clean, _ = draw_one_class(8000, [0.7, 0.3], [0, 0, 0, 1, 1, 1], on, [0.1] * 6, rng)
    check = coverage_check(unique_rows(clean, 2), None)
    # under the model the extra class's held-out gain is noise: z above 1.96 in 2.5 % of draws
    assert check.accepted and check.z <= BACKGROUND_Z and check.fit is not None
    noisy = quiet_rows(clean, 0.4, rng)
    check = coverage_check(unique_rows(noisy, 2), None)
    assert not check.accepted and check.z > 5 and "group the classes do not explain" in check.reason


def test_the_note_says_when_the_rows_without_a_vote_rest_on_the_balance():
    """Broad class-0 LFs, narrow class-1 LFs, balanced classes: under the uniform balance the fit
    fills class 1 up to half of the rows with the rows without a vote, although the votes' majority
    names it on a quarter of the voted rows.  The reading's note gives both shares and the advice;
    with a given balance it gives neither."""
    rng = np.random.default_rng(5)
    n = 6000
    y = (rng.random(n) < 0.5).astype(int)
    L = np.full((n, 6), -1)
    lfs = [(0, 0.5, 0.05), (0, 0.4, 0.05), (0, 0.45, 0.04), (1, 0.15, 0.01), (1, 0.1, 0.01), (1, 0.12, 0.02)]
    for j, (c, on, off) in enumerate(lfs):
        L[(y == c) & (rng.random(n) < on), j] = c
        L[(y != c) & (rng.random(n) < off), j] = c
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2).fit(L)
    (note,) = [n for n in model.notes_ if "rows without a vote go to class" in n]
    c = int(model.predict_proba(np.full((1, 6), -1))[0].argmax())
    # the votes' majority on the rows with a vote, ties shared: computed here from L
    counts = np.stack([(L == a).sum(axis=1) for a in range(2)], axis=1)
    voted = counts.max(axis=1) > 0
    top = counts[voted] == counts[voted].max(axis=1, keepdims=True)
    share = float(np.mean(top[:, c] / top.sum(axis=1)))
    prior = float(model.class_balance_[c])
    assert prior > share  # the balance makes class c commoner than the votes do
    source = model.class_balance_source_
    assert f"the {source} class balance (" in note
    shares = f"makes class {c} {prior:.0%} of the rows, where the votes' majority names it on {share:.0%} "
    assert shares in note
    assert f"where class {c} is rarer than that, give class_balance=" in note
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        given = LabelModel(2).fit(L, class_balance=[0.5, 0.5])
    (note,) = [n for n in given.notes_ if "rows without a vote go to class" in n]
    assert "given class balance" in note and "votes' majority names it on" not in note


def test_default_learns_one_class_lfs_from_their_coverage_when_the_check_passes(tmp_path):
    import warnings

    from tripletws import LabelModel

    rng = np.random.default_rng(8)
    n, prior = 8000, np.array([0.8, 0.2])
    classes = [0, 0, 0, 1, 1, 1]
    on, off = np.array([0.5, 0.3, 0.6, 0.5, 0.6, 0.4]), np.array([0.1, 0.05, 0.2, 0.03, 0.05, 0.1])
    L, _ = draw_one_class(n, prior, classes, on, off, rng)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LabelModel(2).fit(L)
    assert model.one_class_.accepted and model.family_ == "mace_coverage"
    # one warning: what was read, on what evidence, where the rows without votes go, how to check it
    assert [str(w.message) for w in caught] == list(model.notes_)
    (note,) = model.notes_
    unvoted = float(np.mean((L < 0).all(axis=1)))
    assert note.startswith("the abstentions of the LFs that vote one class only are read as evidence")
    assert "'mace_coverage', estimated class balance" in note and f"z = {model.one_class_.z:.1f}" in note
    assert f"the {unvoted:.1%} of rows without a vote go to class 0" in note
    assert "no LF votes class" not in note  # LFs vote class 0: its share is not the balance's alone
    assert "one_class='shared'" in note and "L_dev" in note
    assert model.unidentified_.size == 0 and model.class_balance_source_ == "estimated"
    # the class balance: the latent share's standard error, doubled for the latent class, 6 of them
    assert abs(model.class_balance_[0] - prior[0]) < 12 * np.sqrt(prior[0] * prior[1] / n)
    # P(LF right | votes) = p_c a / (p_c a + (1 - p_c) b): known, and no longer shared
    pc = prior[classes]
    truth = pc * on / (pc * on + (1 - pc) * off)
    assert np.all(np.abs(model.accuracies_ - truth) < 0.05), (model.accuracies_, truth)
    test, y_test = draw_one_class(4000, prior, classes, on, off, rng)
    counts = np.stack([(test == c).sum(axis=1) for c in range(2)], axis=1)
    top = counts >= counts.max(axis=1, keepdims=True)
    mv = float(np.mean(top[np.arange(len(y_test)), y_test] / top.sum(axis=1)))
    acc = float(np.mean(model.predict(test) == y_test))
    assert acc > mv + 5 * np.sqrt(0.25 / len(y_test)), (acc, mv)  # rows without votes go to class 0
    path = tmp_path / "m.json"
    model.save(path)
    back = LabelModel.load(path)
    assert back.one_class_ == model.one_class_
    np.testing.assert_allclose(back.predict_proba(test), model.predict_proba(test), atol=1e-12)


def test_a_background_group_keeps_the_shared_accuracy_and_says_why():
    from tripletws import LabelModel

    rng = np.random.default_rng(9)
    on = [0.6, 0.5, 0.7, 0.6, 0.5, 0.4]
    L, _ = draw_one_class(8000, [0.5, 0.5], [0, 0, 0, 1, 1, 1], on, [0.1] * 6, rng)
    with pytest.warns(UserWarning, match="group the classes do not explain"):
        model = LabelModel(2).fit(quiet_rows(L, 0.4, rng))
    assert not model.one_class_.accepted and set(model.unidentified_.tolist()) == set(range(6))
    assert np.ptp(model.accuracies_) < 1e-9


def precision_rates(prec, cov, classes, prior):
    """``a_i, b_i`` of LFs with precision ``P(Y = c_i | votes)`` and coverage ``P(votes)``."""
    pc = np.asarray(prior)[classes]
    return cov * prec / pc, cov * (1 - prec) / (1 - pc)


def test_held_out_likelihood_shares_the_precision_unless_the_lfs_differ():
    from tripletws.estimators.family_choice import select_family
    from tripletws.estimators.one_class import COVERAGE_FAMILIES

    classes = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    cov = np.full(8, 0.15)
    prior = [0.6, 0.4]
    shared, apart = [], []
    for seed in range(4):
        rng = np.random.default_rng(seed)
        on, off = precision_rates(np.full(8, 0.8), cov, classes, prior)
        L, _ = draw_one_class(3000, prior, classes, on, off, rng)
        shared.append(select_family(unique_rows(L, 2), COVERAGE_FAMILIES, random_state=0).chosen)
        prec = np.array([0.98, 0.6, 0.95, 0.65, 0.97, 0.6, 0.95, 0.62])
        on, off = precision_rates(prec, cov, classes, prior)
        L, _ = draw_one_class(3000, prior, classes, on, off, rng)
        apart.append(select_family(unique_rows(L, 2), COVERAGE_FAMILIES, random_state=0).chosen)
    # a held-out choice errs now and then: equal precisions pick the shared one in most draws
    # (7 of seeds 0-7 when this test was written), precisions 0.6 to 0.98 the per-LF rates in all
    assert shared.count("shared_coverage") >= 3, shared
    assert apart == ["mace_coverage"] * 4, apart


def test_one_class_lfs_with_few_of_the_votes_leave_the_held_out_choice_alone():
    import warnings

    from tripletws import LabelModel

    rng = np.random.default_rng(13)
    n = 4000
    # coverage independent of the class: no reading of abstentions gains (estimators.abstain_check)
    L, y = draw_one_class(n, [0.5, 0.5], [0, 1], [0.3, 0.3], [0.3, 0.3], rng)
    dense = np.stack([np.where(rng.random(n) < 0.8, y, 1 - y) for _ in range(5)], axis=1)  # every row
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LabelModel(2).fit(np.hstack([L, dense]))
    assert model.one_class_ is None and model.family_ == model.selection_.chosen
    assert not model.estimate_.abstain.accepted
    assert any("cast under half of the votes" in str(w.message) for w in caught)
    # coverage that depends on the class: the coverage check is still not run (few votes), but the
    # reading of every LF's abstentions is, and its gold-free tests pass
    L, y = draw_one_class(n, [0.5, 0.5], [0, 1], [0.3, 0.3], [0.05, 0.05], rng)
    dense = np.stack([np.where(rng.random(n) < 0.8, y, 1 - y) for _ in range(5)], axis=1)
    model = LabelModel(2).fit(np.hstack([L, dense]))
    assert model.one_class_ is None and model.estimate_.abstain.accepted
    assert model.family_ == model.estimate_.abstain.family


def test_shared_setting_leaves_the_coverage_unread_and_the_warning_says_so():
    import warnings

    from tripletws import LabelModel

    rng = np.random.default_rng(8)
    L, _ = draw_one_class(4000, [0.8, 0.2], [0, 0, 1, 1], [0.5, 0.3, 0.5, 0.6], [0.1, 0.05, 0.03, 0.05], rng)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LabelModel(2, one_class="shared").fit(L)
    assert model.one_class_ is None and model.family_ == model.selection_.chosen
    assert np.ptp(model.accuracies_) < 1e-9 and set(model.unidentified_.tolist()) == {0, 1, 2, 3}
    assert any("one_class='shared'" in str(w.message) for w in caught)
    # the default reads it on the same rows
    assert LabelModel(2).fit(L).one_class_.accepted


def test_one_class_setting_is_checked_and_reaches_the_cli(tmp_path):
    import warnings

    from conftest import run_cli

    from tripletws import LabelModel

    with pytest.raises(ValueError, match="unknown one_class 'votes'"):
        LabelModel(2, one_class="votes").fit(np.zeros((10, 3), dtype=int))
    with pytest.warns(UserWarning, match="one_class='shared' ignored"):
        LabelModel(2, model="symmetric", one_class="shared").fit(np.eye(3, dtype=int)[[0, 1, 2] * 20])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # the default setting is not a request: silent with other models
        LabelModel(2, model="symmetric").fit(np.eye(3, dtype=int)[[0, 1, 2] * 20])
    assert not [w for w in caught if "one_class" in str(w.message)]
    rng = np.random.default_rng(8)
    on, off = [0.5, 0.3, 0.6, 0.5, 0.6, 0.4], [0.1, 0.05, 0.2, 0.03, 0.05, 0.1]
    L, _ = draw_one_class(4000, [0.8, 0.2], [0, 0, 0, 1, 1, 1], on, off, rng)
    np.save(tmp_path / "L.npy", L)
    out = run_cli("fit", tmp_path / "L.npy", "-o", tmp_path / "m.json")
    assert out.returncode == 0, out.stderr
    back = LabelModel.load(tmp_path / "m.json")
    assert back.one_class == "coverage" and back.one_class_.accepted and back.family_ == "mace_coverage"
    assert back.one_class_.balance == "estimated" and back.class_balance_source_ == "estimated"
    out = run_cli("fit", tmp_path / "L.npy", "-o", tmp_path / "s.json", "--one-class", "shared")
    assert out.returncode == 0, out.stderr
    back = LabelModel.load(tmp_path / "s.json")
    assert back.one_class == "shared" and back.one_class_ is None


@pytest.mark.parametrize("seed", [0, 1])
def test_class_balance_is_estimated_only_where_held_out_rows_support_it(seed):
    from tripletws.estimators.coverage_check import choose_prior
    from tripletws.estimators.family_choice import LEAD_SE

    on, off, classes = [0.6, 0.5, 0.7, 0.6, 0.5, 0.4], [0.1] * 6, [0, 0, 0, 1, 1, 1]
    rng = np.random.default_rng(seed)
    # balanced classes: the estimated balance fits noise, its lead exceeds 2 standard errors in 2.3 % of
    # draws (one-sided normal); the uniform balance is kept
    L, _ = draw_one_class(8000, [0.5, 0.5], classes, on, off, rng)
    fit, (lead, se), balance = choose_prior(unique_rows(L, 2))
    assert balance == "uniform" and lead <= LEAD_SE * se
    np.testing.assert_allclose(fit.params.class_balance, [0.5, 0.5])
    # 7:3: the estimated balance predicts held-out rows far better (expected lead about 10 standard
    # errors at 8000 rows) and is recovered within 6 binomial standard errors of the latent share
    n, prior = 8000, np.array([0.7, 0.3])
    L, _ = draw_one_class(n, prior, classes, on, off, rng)
    fit, (lead, se), balance = choose_prior(unique_rows(L, 2))
    assert balance == "estimated" and lead > LEAD_SE * se
    assert abs(fit.params.class_balance[0] - prior[0]) < 6 * np.sqrt(prior[0] * prior[1] / n)


def test_orientation_counts_an_lf_only_when_its_rates_differ_beyond_their_noise():
    from tripletws.estimators.one_class import CoverageRates, rate_difference_se

    rates = CoverageRates(
        lfs=np.array([0, 1, 2]),
        classes=np.array([0, 1, 1]),
        on_class=np.array([0.40, 0.30, 0.50]),
        off_class=np.array([0.39, 0.10, 0.49]),
    )
    coverage = np.array([0.5, 0.2, 0.3])
    se = rate_difference_se(rates, np.array([0.5, 0.5]), 1000.0)
    # binomial: sqrt(a (1 - a) / (n p_c) + b (1 - b) / (n (1 - p_c)))
    np.testing.assert_allclose(se[1], np.sqrt(0.3 * 0.7 / 500 + 0.1 * 0.9 / 500))
    assert orientation(rates, coverage) == pytest.approx(1.0)  # any positive difference
    # LFs 0 and 2 differ by 0.01, about 0.3 standard errors: not evidence that they fire on their class
    assert orientation(rates, coverage, se, 2.0) == pytest.approx(0.2)


@pytest.mark.parametrize("name", ["dependent-01", "dependent-17", "dependent-23"])
def test_one_class_near_copies_are_counted_once_before_the_coverage_reading(name):
    """Stress problems where groups of near-copies (60-100 % shared outcomes), one-class LFs among
    them, carved out a latent class: the coverage reading (or the abstain reading) lost 5 to 11
    points against majority vote while the copy test looked at LFs that vote two classes only.
    Every pair is tested now (one-class pairs at a copy share of 0.7): the generator's groups are
    found exactly, counted once, and the reading of the rows without them scores at or above
    majority vote - 0.5 points on the 10 000 test rows (-0.2 to +6.2 points: docs/models.md).

    dependent-23 (LFs near chance: with its copies counted once, three LFs whose firing shows no
    dependence) is no longer read since session 44's co-firing screen: the record says why, and the
    fit without the reading scores 1.6 points below majority vote there (docs/studies.md, "LFs that
    fire independently of each other")."""
    import sys
    import warnings
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from scoring import mv_scores, tie_scores
    from stress_problems import all_problems, build_world, draw

    from tripletws import LabelModel

    problem = next(p for p in all_problems() if p.name == name)
    L, _, L_test, y_test = draw(problem)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2).fit(L)
    world = build_world(problem)
    truth = {}
    for j in np.flatnonzero(world.copy_of >= 0):
        truth.setdefault(int(world.copy_of[j]), {int(world.copy_of[j])}).add(int(j))
    assert model.copies_ is not None
    assert sorted(g.tolist() for g in model.copies_.groups) == sorted(sorted(g) for g in truth.values())
    assert model.one_class_ is not None
    if name == "dependent-23":
        assert not model.one_class_.accepted
        assert "fire independently of each other" in model.one_class_.reason
        return
    if name == "dependent-17":
        # since session 60 (coverage_check.UNVOTED_FLIP) its reading is refused: the uniform balance is
        # kept, and its fit and the estimated balance's send a row without a vote to different classes
        assert not model.one_class_.accepted
        assert "rests on the balance, which the rows do not settle" in model.one_class_.reason
    else:
        assert model.one_class_.accepted
    acc = tie_scores(model.predict_proba(L_test), y_test, 2)[0]
    assert acc >= tie_scores(mv_scores(L_test, 2), y_test, 2)[0] - 0.005


def test_lead_test_study_option_asks_the_reading_to_lead_the_vote_only_family(monkeypatch):
    """``coverage_check.LEAD_TEST`` (a study option, off by default): the reading is refused where
    the vote-only family chosen scores the same held-out rows higher, and kept where it scores lower."""
    import tripletws.estimators.coverage_check as cc
    from tripletws.estimators.heldout import HeldOutScores, deal_counts

    rng = np.random.default_rng(3)
    on = [0.6, 0.5, 0.7, 0.6, 0.5, 0.4]
    L, _ = draw_one_class(6000, [0.7, 0.3], [0, 0, 0, 1, 1, 1], on, [0.1] * 6, rng)
    rows = unique_rows(L, 2)
    folds = deal_counts(rows.rows, rows.counts, 2, cc.N_FOLDS, cc.FOLD_SEED)
    assert cc.LEAD_TEST is False
    base = cc.coverage_check(rows, None, folds=folds)
    assert base.accepted
    # a vote-only family that scores every held-out row 0 nats (probability 1) cannot be beaten;
    # one that scores -50 nats per row always is
    best = HeldOutScores(folds, {"mace": np.zeros(folds.shape)})
    worst = HeldOutScores(folds, {"mace": np.full(folds.shape, -50.0)})
    assert cc.coverage_check(rows, None, folds=folds, ref=best, chosen="mace").accepted  # off: not read
    monkeypatch.setattr(cc, "LEAD_TEST", True)
    refused = cc.coverage_check(rows, None, folds=folds, ref=best, chosen="mace")
    assert not refused.accepted and "does not predict held-out rows better than 'mace'" in refused.reason
    kept = cc.coverage_check(rows, None, folds=folds, ref=worst, chosen="mace")
    assert kept.accepted and np.allclose(kept.fit.params.cond_probs, base.fit.params.cond_probs)


def test_prediction_disagreement_counts_the_rows_whose_top_classes_differ():
    from tripletws.estimators.coverage_check import prediction_disagreement

    L = np.array([[0, -1, -1], [-1, 1, -1], [-1, -1, -1], [0, -1, -1]])
    rows = unique_rows(L, 2)
    T = np.empty((3, 3, 2))
    T[:, 0] = [0.5, 0.5]  # abstain, class-blind
    T[:, 1] = [0.4, 0.1]  # a vote for class 0
    T[:, 2] = [0.1, 0.4]  # a vote for class 1
    fit = LabelModelParams(np.array([0.5, 0.5]), T)
    assert prediction_disagreement(rows, fit, fit) == 0.0
    # a prior of 0.8 for class 1 turns the class-0 votes (2 rows of 4) and the empty row (a tie before)
    leaning = LabelModelParams(np.array([0.2, 0.8]), T)
    assert prediction_disagreement(rows, fit, leaning) == pytest.approx(3 / 4)


def test_a_balance_the_rows_do_not_tell_is_said_where_it_decides_many_rows(monkeypatch):
    import tripletws.estimators.coverage_check as cc
    from tripletws.estimators.coverage_check import BALANCE_NOTE_SHARE

    # three one-class LFs on 92 / 8 classes and 340 rows: the held-out likelihood cannot tell a uniform
    # balance from an estimated one, and the two fits predict apart on many rows.  The two fits also
    # send a row without a vote to different classes, so the default refuses this reading (since
    # session 60, tests/test_unvoted_flip.py); the note is said where the reading is kept, here with
    # that rule off
    rng = np.random.default_rng(20570101)
    L, _ = draw_one_class(340, [0.92, 0.08], [1, 0, 0], [0.9, 0.65, 0.75], [0.05, 0.35, 0.3], rng)
    monkeypatch.setattr(cc, "UNVOTED_FLIP", False)
    with pytest.warns(UserWarning) as caught:
        lm = LabelModel(cardinality=2).fit(L)
    check = lm.estimate_.one_class
    assert check.accepted and check.balance == "uniform"
    assert check.balance_disagreement >= BALANCE_NOTE_SHARE
    assert any("the rows do not tell the class balance" in str(w.message) for w in caught)
    # balanced classes on many rows: the balance is told (or decides nothing) and nothing is said
    L, _ = draw_one_class(
        8000, [0.5, 0.5], [0, 0, 0, 1, 1, 1], [0.6, 0.5, 0.7, 0.6, 0.5, 0.4], [0.1] * 6, rng
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lm = LabelModel(cardinality=2).fit(L)
    assert lm.estimate_.one_class.balance_disagreement < BALANCE_NOTE_SHARE
    assert not any("do not tell the class balance" in str(w.message) for w in caught)


def _ci_votes(rng: np.random.Generator, y: np.ndarray, m: int, coverage: float) -> np.ndarray:
    """LFs that vote either class, right on 75 % of their votes, firing independently of the class."""
    L = np.where(rng.random((y.size, m)) < 0.75, y[:, None], 1 - y[:, None])
    return np.where(rng.random((y.size, m)) < coverage, L, -1)


def test_the_note_says_when_the_rows_without_a_vote_are_left_to_a_coin():
    """No reading of abstentions, no balance given: the rows without a vote tie, majority vote's coin.
    Where they are at least a tenth of the rows, a note says so and what settles them; a given balance
    (which labels them), a uniform one set by the user, or fewer such rows leave it out."""
    from tripletws.estimators.coverage_check import BALANCE_NOTE_SHARE

    rng = np.random.default_rng(11)
    y = (rng.random(4000) < 0.5).astype(int)
    L = _ci_votes(rng, y, 5, 0.3)
    share = float(np.mean((L < 0).all(axis=1)))
    assert share >= BALANCE_NOTE_SHARE  # 0.7 ** 5 = 17 % expected
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2).fit(L)
    assert model.predict_proba(np.full((1, 5), -1))[0].tolist() == pytest.approx([0.5, 0.5])
    (note,) = [n for n in model.notes_ if "majority vote's coin" in n]
    assert note.startswith(f"the {share:.1%} of rows without a vote stay tied between classes [0, 1]")
    assert "give class_balance=" in note
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        given = LabelModel(2, class_balance=[0.6, 0.4]).fit(L)
        balanced = LabelModel(2, class_balance="uniform").fit(L)  # the user says the classes are even
        dense = LabelModel(2).fit(_ci_votes(rng, y, 5, 0.6))  # 0.4 ** 5 = 1 % without a vote
    assert given.predict_proba(np.full((1, 5), -1))[0].argmax() == 0
    assert not [n for n in given.notes_ + balanced.notes_ + dense.notes_ if "majority vote's coin" in n]


def test_the_note_says_when_an_estimated_balance_rests_on_the_shared_accuracy_alone():
    """``class_balance="estimate"`` with ``one_class="shared"`` on LFs that vote one class only: their votes
    identify neither their accuracies nor the balance, and a note gives the estimate beside the votes'
    majority shares.  The default prior, a given balance, and the default reading (accepted here) say
    nothing of it."""
    rng = np.random.default_rng(5)
    L, _ = draw_one_class(
        8000, [0.5, 0.5], [0, 0, 0, 1, 1, 1], [0.6, 0.5, 0.7, 0.6, 0.5, 0.4], [0.1] * 6, rng
    )
    marker = "the class balance was estimated as asked"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        asked = LabelModel(2, one_class="shared", class_balance="estimate").fit(L)
        others = [
            LabelModel(2, one_class="shared").fit(L),
            LabelModel(2, one_class="shared", class_balance=[0.5, 0.5]).fit(L),
            LabelModel(2, class_balance="estimate").fit(L),
        ]
    (note,) = [n for n in asked.notes_ if n.startswith(marker)]
    p = asked.solution_.params.class_balance
    assert f"(class 0 {p[0]:.1%}, class 1 {p[1]:.1%})" in note
    assert "the votes' majority gives class 0 " in note and "give class_balance=" in note
    assert others[2].estimate_.one_class.accepted  # the coverage reading reads the balance from the rows
    assert not [n for model in others for n in model.notes_ if n.startswith(marker)]
