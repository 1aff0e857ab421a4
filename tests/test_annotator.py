"""Annotator (MACE-like) model: recovery of known parameters, the gold-free choice, LabelModel wiring."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pytest

from tripletws import LabelModel
from tripletws.datasets import make_synthetic
from tripletws.estimators import annotator_design as AD
from tripletws.estimators.annotator import FAMILIES, fit_annotator
from tripletws.estimators.family_choice import Selection, select_family
from tripletws.estimators.heldout import deal_counts, heldout_loglik, row_loglik, split_counts
from tripletws.inference import posterior
from tripletws.io import model_from_dict, model_to_dict
from tripletws.matrix import LabelMatrix, check_label_matrix
from tripletws.rows import RowSummary


def draw_mace(n, theta, xi, coverage, k, rng):
    """Rows of the MACE annotator model: LF i votes w.p. coverage[i]; then the class w.p.
    theta[i], else a draw from xi[i]."""
    y = rng.integers(0, k, size=n)
    L = np.full((n, len(theta)), -1, dtype=np.int64)
    for i in range(len(theta)):
        votes = rng.random(n) < coverage[i]
        knows = rng.random(n) < theta[i]
        other = rng.choice(k, size=n, p=xi[i])
        L[votes, i] = np.where(knows, y, other)[votes]
    return L, y


def unique_rows(L, k):
    return RowSummary.from_matrix(check_label_matrix(L, k), 10**7)


def vote_table(params):
    """P(vote a | y, the LF votes), shape (m, k, k)."""
    V = params.cond_probs[:, 1:, :]
    return V / V.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("seed", [0, 1])
def test_mace_recovers_theta_and_xi(seed):
    rng = np.random.default_rng(seed)
    k, m, n = 3, 6, 30_000
    theta = np.linspace(0.3, 0.8, m)
    xi = rng.dirichlet(2 * np.ones(k), size=m)
    cov = np.full(m, 0.6)
    L, _ = draw_mace(n, theta, xi, cov, k, rng)
    fit = fit_annotator(unique_rows(L, k), "mace", class_balance=np.full(k, 1.0 / k))
    V = vote_table(fit.params)
    off = ~np.eye(k, dtype=bool)
    # V[a, y] = theta 1[a = y] + (1 - theta) xi(a): theta = diagonal minus the same row off the diagonal
    theta_hat = np.array([np.mean([V[i, y, y] - V[i, y][off[y]].mean() for y in range(k)]) for i in range(m)])
    xi_hat = (
        np.array([[V[i, a][off[a]].mean() for a in range(k)] for i in range(m)]) / (1 - theta_hat)[:, None]
    )
    se = 1.0 / np.sqrt(n * cov)  # binomial scale of a per-LF vote frequency
    np.testing.assert_array_less(np.abs(theta_hat - theta), 5 * se)
    np.testing.assert_array_less(np.abs(xi_hat - xi).max(axis=1), 6 * se / (1 - theta))


@pytest.mark.parametrize("k", [2, 3])
def test_selection_picks_the_generating_family(k):
    for seed in range(2):
        equal = make_synthetic(20_000, 6, k, accuracies=0.7, coverage=0.6, random_state=seed)
        varied = make_synthetic(
            20_000, 6, k, accuracies=np.linspace(0.55, 0.9, 6), coverage=0.6, random_state=seed
        )
        rng = np.random.default_rng(seed)
        L_mace, _ = draw_mace(
            20_000, np.linspace(0.3, 0.8, 6), rng.dirichlet(np.ones(k), 6), np.full(6, 0.6), k, rng
        )
        for L, truth in ((equal.L, "mv"), (varied.L, "one_coin"), (L_mace, "mace")):
            # between nested families at n = 20 000 the held-out margin (~1e-4 per row) is of the
            # order of the fold draw's noise: the generating family must win most fold draws
            u = unique_rows(L, k)
            chosen = [
                select_family(u, class_balance=np.full(k, 1.0 / k), random_state=fs).chosen for fs in range(5)
            ]
            assert chosen.count(truth) >= 3, (truth, chosen)


def test_split_counts_deals_every_count_once():
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 50, size=200).astype(float)
    folds = split_counts(counts, 4, rng)
    np.testing.assert_array_equal(folds.sum(axis=0), counts)
    assert (folds >= 0).all()
    # each fold holds about a quarter of the rows (binomial: 5 standard deviations)
    total = counts.sum()
    assert np.all(np.abs(folds.sum(axis=1) - total / 4) < 5 * np.sqrt(total * 0.25 * 0.75))


def test_every_family_fits_and_scores():
    d = make_synthetic(3_000, 6, 3, unipolar=0.5, random_state=4)
    u = unique_rows(d.L, 3)
    scores = heldout_loglik(u, FAMILIES, n_folds=3, random_state=0)
    assert set(scores) == set(FAMILIES) and all(np.isfinite(v) for v in scores.values())
    for fam in FAMILIES:
        fit = fit_annotator(u, fam)
        np.testing.assert_allclose(fit.params.cond_probs.sum(axis=1), 1.0, atol=1e-9)
        assert np.isfinite(fit.log_likelihood)
    with pytest.raises(ValueError, match="unknown family"):
        fit_annotator(u, "glad")


def test_default_model_reports_its_choice_and_round_trips():
    d = make_synthetic(8_000, 6, 2, accuracies=np.linspace(0.55, 0.9, 6), random_state=5)
    model = LabelModel(2, random_state=0).fit(d.L)
    assert model.model == "annotator"
    assert isinstance(model.selection_, Selection) and model.selection_.chosen == "one_coin"
    assert set(model.selection_.heldout_loglik) == {"mv", "one_coin", "mace"}
    assert model.unidentified_.size == 0 and model.fallback_ == ""
    # accuracies follow the truth: within the binomial scale of each LF's votes
    se = 1.0 / np.sqrt(d.L.shape[0] * 0.5)
    np.testing.assert_array_less(np.abs(model.accuracies_ - d.accuracies), 6 * se)
    again = model_from_dict(model_to_dict(model))
    assert again.selection_ == model.selection_
    np.testing.assert_array_equal(again.predict_proba(d.L), model.predict_proba(d.L))


def test_equal_accuracies_are_reported_as_not_identified():
    d = make_synthetic(20_000, 6, 3, accuracies=0.7, coverage=0.6, random_state=6)
    with pytest.warns(UserWarning, match="do not identify the LFs' accuracies"):
        model = LabelModel(3).fit(d.L)
    assert model.selection_.chosen == "mv"
    np.testing.assert_array_equal(model.unidentified_, np.arange(6))
    assert np.ptp(model.accuracies_) < 1e-12


def test_lf_without_overlap_falls_back_alone():
    d = make_synthetic(5_000, 6, 2, random_state=7)
    L = d.L.copy()
    L[:, 5] = -1
    alone = np.flatnonzero((L[:, :5] < 0).all(axis=1))[:200]
    L[alone, 5] = d.y[alone]
    with pytest.warns(UserWarning, match=r"LF\(s\) 5 never vote on a row where another LF votes"):
        model = LabelModel(2, random_state=0).fit(L)
    np.testing.assert_array_equal(model.unidentified_, [5])
    rest = model.accuracies_[:5]
    assert model.accuracies_[5] == pytest.approx(np.average(rest, weights=model.coverage_[:5]), abs=1e-9)


def test_statistics_alone_fall_back_to_symmetric_with_a_note():
    from tripletws import compute_stats

    d = make_synthetic(2_000, 6, 2, random_state=8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LabelModel(2).fit_stats(compute_stats(d.L, 2))
    assert model.selection_ is None and "symmetric model was used" in model.fallback_


def test_a_stream_of_batches_ends_with_one_fit():
    d = make_synthetic(6_000, 6, 3, accuracies=np.linspace(0.55, 0.9, 6), random_state=9)
    whole = LabelModel(3).fit(d.L)
    stream = LabelModel(3)
    for start in range(0, 6_000, 2_000):
        stream.partial_fit(d.L[start : start + 2_000])
    assert stream.selection_ == whole.selection_
    np.testing.assert_allclose(stream.predict_proba(d.L), whole.predict_proba(d.L), rtol=0, atol=1e-12)


def test_dev_set_chooses_and_sets_the_prior():
    # unipolar LFs, k = 3 (the one-class coverage check is not run, tests/test_one_class.py), 7:2:1
    d = make_synthetic(
        6_000, 8, 3, unipolar=True, class_balance=[0.7, 0.2, 0.1], coverage=0.2, random_state=10
    )
    dev = np.arange(200)
    model = LabelModel(3).fit(d.L, L_dev=d.L[dev], Y_dev=d.y[dev])
    choice = model.dev_choice_
    assert choice["n_dev"] == 200 and "gold_free" in choice["dev_accuracy"]
    # the best candidate with its own labelling, or a relabelled one that leads it (tests/test_dev_choice.py)
    own = [v for name, v in choice["dev_accuracy"].items() if "+relabel" not in name]
    assert choice["dev_accuracy"][choice["chosen"]] >= max(own)
    rest = np.arange(200, 6_000)
    gold_free = LabelModel(3).fit(d.L)

    def acc(P, y):
        top = P >= P.max(axis=1, keepdims=True) - 1e-9
        return float(np.mean(top[np.arange(len(y)), y] / top.sum(axis=1)))

    # the gold-free fit reads these LFs' abstentions (estimators.abstain_check: their coverage depends
    # on the class) and so estimates the 7:2:1 balance itself; the dev choice keeps whichever candidate
    # is best on the dev rows, so on the other rows it may fall short of the gold-free fit by no more
    # than three binomial standard errors of a 200-row accuracy
    assert gold_free.estimate_.abstain.accepted
    gain = acc(model.predict_proba(d.L[rest]), d.y[rest]) - acc(gold_free.predict_proba(d.L[rest]), d.y[rest])
    assert gain > -3 * np.sqrt(0.25 / 200), (gain, choice["chosen"])
    again = model_from_dict(model_to_dict(model))
    assert again.dev_choice_ == choice
    with pytest.raises(ValueError, match="needs its gold labels"):
        LabelModel(3).fit(d.L, L_dev=d.L[dev])
    with pytest.raises(ValueError, match="annotator"):
        LabelModel(3, model="symmetric").fit(d.L, L_dev=d.L[dev], Y_dev=d.y[dev])


def test_one_class_lfs_get_the_shared_accuracy_and_are_named():
    # abstentions read as "not assigned" throughout (one_class="shared"; the default reads them where
    # gold-free checks pass: tests/test_one_class.py, tests/test_abstain_check.py)
    d = make_synthetic(6_000, 8, 3, unipolar=0.5, random_state=11)
    one_class = [i for i in range(8) if len(np.unique(d.L[:, i][d.L[:, i] >= 0])) == 1]
    assert 0 < len(one_class) < 8
    with pytest.warns(UserWarning, match="vote one class only"):
        model = LabelModel(3, one_class="shared").fit(d.L)
    assert set(one_class) <= set(model.unidentified_.tolist())
    acc = model.accuracies_[one_class]
    assert np.ptp(acc) < 1e-9  # one shared accuracy, majority vote's model's
    # all LFs one-class: the posterior ranks classes as the vote counts do
    L = make_synthetic(4_000, 6, 3, unipolar=True, random_state=12).L
    fitted = LabelModel(3, one_class="shared").fit(L)
    plain = posterior(LabelMatrix(L, 3), fitted.params_)  # the tables' posterior, ties kept
    P = fitted.predict_proba(L)  # ties broken by the second fit (tests/test_ties.py)
    counts = np.stack([(L == c).sum(axis=1) for c in range(3)], axis=1)
    for a, b in ((0, 1), (1, 2), (0, 2)):
        diff = plain[:, a] - plain[:, b]
        diff[np.abs(diff) < 1e-9] = 0.0  # equal counts: equal posteriors up to rounding
        np.testing.assert_array_equal(np.sign(diff), np.sign(counts[:, a] - counts[:, b]))
    # the second fit only chooses among the classes with the most votes
    voted = counts.sum(axis=1) > 0
    best = counts == counts.max(axis=1, keepdims=True)
    assert best[np.flatnonzero(voted), P[voted].argmax(axis=1)].all()


# EM is a contraction near its fixed point: the rounding of a different summation order (~1e-16 per
# term) stays orders of magnitude below this, while any difference in the updates shows at 1e-3 or more.
EM_PATH_RTOL = 1e-9


@pytest.mark.parametrize("family", FAMILIES)
def test_batched_fold_fits_equal_separate_fits(family):
    """heldout_loglik fits the folds in one batch; each must be the fit of its fold alone."""
    d = make_synthetic(2_000, 5, 3, unipolar=0.3, random_state=7)
    u = unique_rows(d.L, 3)
    n_folds = 3
    folds = deal_counts(u.rows, u.counts, 3, n_folds, seed=0)
    full = fit_annotator(u, family)
    total = 0.0
    for f in range(n_folds):
        train = u.counts - folds[f]
        alone = fit_annotator(
            replace(u, counts=train, n_rows=float(train.sum())), family, max_steps=10, init=full.params
        )
        total += row_loglik(u.rows, folds[f], alone.params)
    batched = heldout_loglik(u, (family,), n_folds=n_folds, random_state=0, warm_start=True)[family]
    np.testing.assert_allclose(batched, total / folds.sum(), rtol=EM_PATH_RTOL)
    # and batched with every other family (one E-step for all of them)
    together = heldout_loglik(u, FAMILIES, n_folds=n_folds, random_state=0, warm_start=True)[family]
    np.testing.assert_allclose(together, total / folds.sum(), rtol=EM_PATH_RTOL)
    # cold folds (the default): each fold's fit from majority vote, as if alone, batched with the
    # fits on all rows
    cold = 0.0
    for f in range(n_folds):
        train = u.counts - folds[f]
        alone = fit_annotator(replace(u, counts=train, n_rows=float(train.sum())), family)
        cold += row_loglik(u.rows, folds[f], alone.params)
    fits = {}
    together = heldout_loglik(u, FAMILIES, n_folds=n_folds, random_state=0, fits=fits)[family]
    np.testing.assert_allclose(together, cold / folds.sum(), rtol=EM_PATH_RTOL)
    np.testing.assert_allclose(fits[family].params.cond_probs, full.params.cond_probs, rtol=EM_PATH_RTOL)


@pytest.mark.parametrize("family", ["mace", "one_coin", "mace_abstain", "ds"])
def test_dense_and_sparse_designs_fit_the_same(family, monkeypatch):
    d = make_synthetic(1_500, 6, 3, coverage=0.4, random_state=8)
    u = unique_rows(d.L, 3)
    monkeypatch.setattr(AD, "DENSE_CELLS", 10**12)
    dense = fit_annotator(u, family)
    monkeypatch.setattr(AD, "DENSE_CELLS", 0)
    sparse = fit_annotator(u, family)
    assert dense.n_steps == sparse.n_steps
    np.testing.assert_allclose(sparse.params.cond_probs, dense.params.cond_probs, rtol=EM_PATH_RTOL)
    np.testing.assert_allclose(sparse.log_likelihood, dense.log_likelihood, rtol=EM_PATH_RTOL)


@pytest.mark.parametrize("abstain", [False, True])
def test_log_scores_of_a_sparse_design_match_the_dense_product(abstain):
    # a design over DENSE_CELLS sums each row's entries by bincount; the dense product is the reference
    rng = np.random.default_rng(11)
    n, m, k = 3000, 40, 3
    L = np.where(rng.random((n, m)) < 0.3, rng.integers(0, k, (n, m)), -1)
    u = RowSummary.from_matrix(check_label_matrix(L, k), 10**6)
    fit = fit_annotator(u, "mace")
    D = AD._Design(u.rows, k, abstain=abstain)
    assert not D.dense  # the bincount path
    got = D.log_scores(fit.params)
    dense = AD._Design(u.rows, k, abstain=abstain)
    dense.dense = True  # the same design as a dense matrix: one BLAS product
    ref = dense.log_scores(fit.params)
    # sums of m log-probabilities of size <= 15 each: rounding ~ m * 15 * 2**-52 ~ 1e-13
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-10)


def test_classes_no_lf_votes_are_named():
    """cardinality=3 on LFs that vote classes 0 and 1 only: under the uniform balance class 2 keeps a
    third of the rows and the likeliest vote-only fit explains it by LFs that seldom know the class
    (accuracies near 0.4, posteriors near uniform); nothing was said.  The fit is kept (spreading the
    balance over the voted classes lost on the stress problems where such a class occurs): the
    warning names the classes and what to do."""
    rng = np.random.default_rng(0)
    n = 2000
    y = rng.integers(0, 2, n)
    L = np.where(rng.random((n, 4)) < 0.85, y[:, None], 1 - y[:, None])
    L = np.where(rng.random(L.shape) < 0.7, L, -1)
    for k in (3, 5):
        with pytest.warns(
            UserWarning, match=rf"no LF votes class\(es\) \{list(range(2, k))}.*smaller cardinality"
        ):
            LabelModel(k).fit(L)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        given = LabelModel(3).fit(L, class_balance=[0.4, 0.4, 0.2])
    assert any("only the class balance and the LFs' abstentions speak" in str(w.message) for w in caught)
    assert given.class_balance_[2] == pytest.approx(0.2)
    with warnings.catch_warnings(record=True) as caught:  # every class voted: no such warning
        warnings.simplefilter("always")
        LabelModel(2).fit(L)
        # k = 2 with LFs voting class 1 only: the one-class reading's own case (class 0 is what their
        # abstentions mark), not a class to leave out (a smaller cardinality would be 1)
        LabelModel(2).fit(np.where(L == 1, 1, -1))
    # (the reading's note may say that class 0's share rests on the balance: not this note's advice)
    assert not any("no LF votes class(es)" in str(w.message) for w in caught)
    assert not any("smaller cardinality" in str(w.message) for w in caught)
