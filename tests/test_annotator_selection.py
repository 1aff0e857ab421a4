"""The gold-free family choice: paired held-out differences, their standard error, the rule."""

from __future__ import annotations

import numpy as np
import pytest

from tripletws.datasets import make_synthetic
from tripletws.estimators.family_choice import LEAD_SE, Selection, choose_within_se, select_family
from tripletws.estimators.heldout import HeldOutScores, heldout_loglik, heldout_row_scores
from tripletws.matrix import check_label_matrix
from tripletws.rows import RowSummary


def unique_rows(L, k):
    return RowSummary.from_matrix(check_label_matrix(L, k), 10**7)


def scores_from_rows(per_row: dict[str, np.ndarray]) -> HeldOutScores:
    """HeldOutScores of rows seen once each, all held out in one fold."""
    n = len(next(iter(per_row.values())))
    return HeldOutScores(np.ones((1, n)), {f: v[None, :].astype(float) for f, v in per_row.items()})


def test_lead_is_the_mean_and_standard_error_of_the_paired_differences():
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 5, size=40).astype(float)
    folds = np.stack([np.floor(counts / 2), counts - np.floor(counts / 2)])
    a, b = rng.normal(size=(2, 40)), rng.normal(size=(2, 40))
    s = HeldOutScores(folds, {"mv": a, "mace": b})
    # the same rows written out one by one
    d = np.concatenate([np.repeat(b[f] - a[f], folds[f].astype(int)) for f in range(2)])
    lead, se = s.lead("mace", "mv")
    np.testing.assert_allclose(lead, d.mean(), rtol=1e-12)
    np.testing.assert_allclose(se, d.std(ddof=1) / np.sqrt(d.size), rtol=1e-12)
    np.testing.assert_allclose(s.mean("mace") - s.mean("mv"), lead, rtol=1e-12)


def test_rule_prefers_the_simplest_family_within_the_standard_errors():
    n = 400
    base = np.zeros(n)
    noise = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)  # sd 1.0025: SE of a paired mean = 0.0501
    se = noise.std(ddof=1) / np.sqrt(n)
    for lead, expected in ((1.5 * se, "mv"), (2.5 * se, "mace")):
        s = scores_from_rows({"mv": base, "one_coin": base - 1.0, "mace": base + lead + noise})
        chosen, best, leads = choose_within_se(s, ("mv", "one_coin", "mace"), n_se=2.0)
        assert best == "mace" and chosen == expected
        np.testing.assert_allclose(leads["mv"], (lead, se), rtol=1e-9)
        # n_se = 0 is the plain highest score
        assert choose_within_se(s, ("mv", "one_coin", "mace"), n_se=0.0)[0] == "mace"
    # an intermediate family within the band is chosen over the best when the simplest is not
    s = scores_from_rows({"mv": base - 1.0, "one_coin": base + noise, "mace": base + 0.01})
    assert choose_within_se(s, ("mv", "one_coin", "mace"), n_se=2.0)[:2] == ("one_coin", "mace")


@pytest.mark.parametrize("k", [2, 3])
def test_majority_vote_data_keep_mv(k):
    # equal accuracies: a richer family's held-out lead is noise, so the two-SE rule keeps mv except
    # on about 2.3 % of fold deals per comparison (one-sided normal tail at 2): at most 2 of 10
    # (binomial tail P(>= 3 | 10, 0.05) = 1.2 %)
    d = make_synthetic(4_000, 8, k, accuracies=0.7, coverage=0.5, random_state=11)
    u = unique_rows(d.L, k)
    chosen = [select_family(u, class_balance=np.full(k, 1.0 / k), random_state=s).chosen for s in range(10)]
    assert sum(c != "mv" for c in chosen) <= 2, chosen


@pytest.mark.parametrize("k", [2, 3])
def test_one_coin_data_keep_one_coin(k):
    # varied accuracies with uniform errors (the one-coin model exactly): at n = 20 000 the lead of
    # one_coin over mv is many standard errors, and mace's extra parameters are not worth two
    d = make_synthetic(20_000, 6, k, accuracies=np.linspace(0.55, 0.9, 6), coverage=0.6, random_state=12)
    u = unique_rows(d.L, k)
    for s in range(3):
        sel = select_family(u, class_balance=np.full(k, 1.0 / k), random_state=s)
        assert sel.chosen == "one_coin", (sel.chosen, sel.leads)
        lead, se = sel.leads["mv"]  # the best family (one_coin or mace) leads mv by far
        assert lead > 5 * LEAD_SE * se, sel.leads


def test_row_scores_agree_with_the_mean_scores():
    d = make_synthetic(3_000, 6, 3, accuracies=np.linspace(0.5, 0.9, 6), random_state=13)
    u = unique_rows(d.L, 3)
    fams = ("mv", "one_coin", "mace")
    rows = heldout_row_scores(u, fams, n_folds=3, random_state=0)
    means = heldout_loglik(u, fams, n_folds=3, random_state=0)
    for f in fams:
        np.testing.assert_allclose(rows.mean(f), means[f], rtol=1e-12)
    assert rows.n_scored == u.counts.sum()


def test_standard_error_matches_the_spread_over_independent_draws():
    # the SE of one data set's lead estimates the spread of the lead over independent data sets
    # (20 draws: the sample sd is within a factor 1.6 of its expectation with probability > 99 %)
    leads, ses = [], []
    for seed in range(20):
        d = make_synthetic(1_500, 5, 2, accuracies=0.7, coverage=0.6, random_state=100 + seed)
        s = heldout_row_scores(unique_rows(d.L, 2), ("mv", "one_coin"), n_folds=3, random_state=0)
        lead, se = s.lead("one_coin", "mv")
        leads.append(lead)
        ses.append(se)
    ratio = np.std(leads, ddof=1) / np.mean(ses)
    assert 1 / 1.6 < ratio < 1.6 * 1.5, ratio  # fold-fit noise adds to the row noise: allow 1.5x on top


def test_selection_records_round_trip_and_old_records_load():
    sel = Selection(
        "mv", {"mv": -3.0, "mace": -2.9}, 3, 100, best="mace", leads={"mv": (0.1, 0.06)}, n_se=2.0
    )
    again = Selection.from_dict(sel.to_dict())
    assert again == sel
    old = {"chosen": "mace", "heldout_loglik": {"mv": -3.0, "mace": -2.9}, "n_folds": 3, "n_rows": 100}
    loaded = Selection.from_dict(old)
    assert loaded.chosen == "mace" and loaded.best == "" and loaded.leads == {} and loaded.n_se == 0.0
    with pytest.raises(ValueError, match=r"selection\.leads key must be one of"):  # not a family
        Selection.from_dict({**sel.to_dict(), "leads": {"glad": [0.1, 0.1]}})
    with pytest.raises(ValueError, match=r"selection\.leads\['mv'\] must be a list"):
        Selection.from_dict({**sel.to_dict(), "leads": {"mv": [0.1]}})


def test_lead_with_fits_adds_only_the_folds_spread_beyond_their_rows():
    from tripletws.estimators.family_choice import lead_with_fits

    # three folds of 60 rows each; per-row leads +-1 around a fold mean (row sd 1.0084)
    n_f = 60
    noise = np.where(np.arange(n_f) % 2 == 0, 1.0, -1.0)
    folds = np.kron(np.eye(3), np.ones((1, n_f)))  # fold f holds rows f*60 .. f*60+59 once
    base = np.zeros(3 * n_f)

    def scores(fold_means):
        rich = np.concatenate([m + noise for m in fold_means])
        return HeldOutScores(folds, {"mv": np.tile(base, (3, 1)), "mace": np.tile(rich, (3, 1))})

    # equal fold means: no spread beyond the rows, so "fits" is the per-row standard error
    same = scores([0.1, 0.1, 0.1])
    lead, se = same.lead("mace", "mv")
    for noise_kind in ("rows", "fits"):
        got = lead_with_fits([same], "mace", "mv", noise_kind)
        np.testing.assert_allclose(got, (lead, se), rtol=1e-12)
    # spread fold means: S^2 of the fold leads, corrected by 1/J + n_test/n_train = 1/3 + 1/2
    spread = scores([0.0, 0.3, 0.6])
    lead, se = spread.lead("mace", "mv")
    s2 = np.var([0.0, 0.3, 0.6], ddof=1)
    v = noise.var(ddof=1) / n_f  # each fold's own row variance of its mean
    _, se_nb = lead_with_fits([spread], "mace", "mv", "nb")
    np.testing.assert_allclose(se_nb, np.sqrt((1 / 3 + 1 / 2) * s2), rtol=1e-12)
    # "fits": the pooled per-row variance (which includes the folds' spread) plus the spread beyond
    # the folds' own row variance, corrected
    _, se_fits = lead_with_fits([spread], "mace", "mv", "fits")
    np.testing.assert_allclose(se_fits, np.sqrt(se**2 + (1 / 3 + 1 / 2) * (s2 - v)), rtol=1e-12)
    assert se_fits > se
    # the same deal twice: the same mean lead and per-row standard error, the fold spread counted over 6 folds
    twice = lead_with_fits([spread, spread], "mace", "mv", "rows")
    np.testing.assert_allclose(twice, (lead, se), rtol=1e-12)
    with pytest.raises(ValueError, match="unknown noise"):
        lead_with_fits([spread], "mace", "mv", "bootstrap")


def test_selection_records_its_noise():
    d = make_synthetic(600, 6, 2, accuracies=0.7, coverage=0.5, random_state=21)
    u = unique_rows(d.L, 2)
    sel = select_family(u, class_balance=np.full(2, 0.5), random_state=0, noise="fits", n_deals=2)
    assert sel.noise == "fits" and sel.n_deals == 2
    again = Selection.from_dict(sel.to_dict())
    assert again.noise == "fits" and again.n_deals == 2 and again.chosen == sel.chosen
    default = select_family(u, class_balance=np.full(2, 0.5), random_state=0)
    assert default.noise == "rows" and default.n_deals == 1
    with pytest.raises(ValueError, match=r"selection\.noise must be one of"):
        Selection.from_dict({**sel.to_dict(), "noise": "bootstrap"})
