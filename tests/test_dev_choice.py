"""A few gold rows name the latent classes: the dev choice's relabelled candidates (tripletws.dev_choice)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tripletws import LabelModel
from tripletws.datasets import make_synthetic
from tripletws.dev_choice import best_labelling, crossfit_labelling, relabel
from tripletws.inference import posterior
from tripletws.matrix import check_label_matrix
from tripletws.params import LabelModelParams

# seven LFs that vote one class each; three of them (0, 2, 4) fire mostly on the *other* class, and
# fire often, so that majority vote is wrong on most rows (about 45 % accurate) while the LFs'
# coverage still identifies the classes up to their names: the gold-free fit reads the abstentions
# (Dawid-Skene's full tables, whose likelihood does not name the classes) and, started from majority
# vote, names them the wrong way round
VOTE = np.array([1, 1, 1, 0, 0, 0, 1])
FIRE = np.array(
    [[0.95, 0.30], [0.23, 0.72], [0.85, 0.18], [0.46, 0.21], [0.24, 0.83], [0.875, 0.53], [0.48, 0.95]]
)


def _draw(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    L = np.where(rng.random((n, len(VOTE))) < FIRE[:, y].T, VOTE[None, :], -1)
    return L, y


def _acc(P: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(P.argmax(axis=1) == y))


def test_gold_rows_relabel_a_fit_that_swapped_its_classes():
    L, _ = _draw(20_000, 0)
    L_dev, y_dev = _draw(3_100, 1)
    dev, rest = slice(0, 100), slice(100, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gold_free = LabelModel(2).fit(L)
        model = LabelModel(2).fit(L, L_dev=L_dev[dev], Y_dev=y_dev[dev])
    mv = np.stack([(L_dev[rest] == c).sum(axis=1) for c in range(2)], axis=1) + 1e-3 * np.arange(2)
    # 3000 scored rows: a binomial standard error of at most 0.009; the margins are 30-90 of them
    assert _acc(mv, y_dev[rest]) < 0.5
    assert _acc(gold_free.predict_proba(L_dev[rest]), y_dev[rest]) < 0.2  # swapped
    # ... and says that its tables do not name the classes, and what would
    assert any("does not name the classes" in note and "L_dev" in note for note in gold_free.notes_)
    assert "+relabel" in model.dev_choice_["chosen"]
    assert _acc(model.predict_proba(L_dev[rest]), y_dev[rest]) > 0.9
    # the relabelled candidates' dev scores are cross-fitted, and recorded beside the others
    assert model.dev_choice_["dev_accuracy"][model.dev_choice_["chosen"]] > 0.85


def test_gold_rows_keep_the_labelling_of_a_fit_that_names_its_classes_right():
    d = make_synthetic(6_000, 8, 3, random_state=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(3).fit(d.L[200:], L_dev=d.L[:200], Y_dev=d.y[:200])
    assert "+relabel" not in model.dev_choice_["chosen"]
    assert not any("+relabel" in name for name in model.dev_choice_["dev_accuracy"])


def test_best_labelling_recovers_a_permutation_and_keeps_its_own_on_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 200)
    g_true = np.array([2, 0, 3, 1])  # latent a is named g_true[a]
    latent = np.argsort(g_true)[y]  # the latent class of each row
    W = np.eye(4)[latent]
    np.testing.assert_array_equal(best_labelling(W, y), g_true)
    g, scores = crossfit_labelling(W, y)
    np.testing.assert_array_equal(g, g_true)
    np.testing.assert_allclose(scores, 1.0)
    # one row for each labelling of two classes: a tie, so the fit's own labelling stays
    np.testing.assert_array_equal(best_labelling(np.eye(2)[[0, 1]], np.array([1, 1])), [0, 1])


def test_crossfit_scores_a_labelling_supported_by_one_row_as_it_predicts():
    # two classes, one dev row: the labelling fitted on it swaps the classes and scores it 1.0 in
    # sample; left out, the other rows (none) keep the fit's own labelling, which gets it wrong
    W = np.array([[1.0, 0.0]])
    y = np.array([1])
    g, scores = crossfit_labelling(W, y)
    np.testing.assert_array_equal(g, [1, 0])
    np.testing.assert_allclose(scores, [0.0])


@pytest.mark.parametrize("k", [2, 3, 5])
def test_relabelled_params_predict_the_permuted_posterior(k):
    d = make_synthetic(500, 6, k, random_state=k)
    lm = check_label_matrix(d.L, k)
    params = LabelModelParams(d.class_balance, d.cond_probs)
    g = np.roll(np.arange(k), 1)
    P = posterior(lm, params)
    Q = posterior(lm, relabel(params, g))
    np.testing.assert_allclose(Q[:, g], P, atol=1e-12)


def test_dev_rule_keeps_the_gold_free_fit_unless_the_gold_rows_prefer_another():
    # rows without votes: the dev rows' class frequencies (+dev_prior) beat the gold-free uniform
    # prior by far, so the rule keeps the gold-free fit only when the bar is out of reach
    d = make_synthetic(4_000, 6, 2, coverage=0.1, class_balance=[0.9, 0.1], random_state=2)
    fit = {"L_train": d.L[200:], "L_dev": d.L[:200], "Y_dev": d.y[:200]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chosen = {
            rule: LabelModel(2, dev_rule=rule).fit(**fit).dev_choice_["chosen"]
            for rule in ("any", "loo", 2, 1e9)
        }
    assert chosen["any"].endswith("+dev_prior")
    # 200 dev rows, accuracy 0.63 -> 0.905: a lead of about 9 standard errors of the paired difference,
    # which any left-out choice keeps too
    assert chosen["loo"] == chosen[2] == chosen["any"]
    assert chosen[1e9] == "gold_free"
    assert LabelModel(2).dev_rule == "loo"


def test_partial_fit_repeats_the_dev_choice_and_says_when_it_cannot(tmp_path):
    d = make_synthetic(4_000, 6, 2, coverage=0.1, class_balance=[0.9, 0.1], random_state=2)
    gold = {"L_dev": d.L[:200], "Y_dev": d.y[:200]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        streamed = LabelModel(2).fit(d.L[200:2_000], **gold).partial_fit(d.L[2_000:])
        whole = LabelModel(2).fit(d.L[200:], **gold)
    # the same dev rows choose again on the grown stream: as one fit on all its rows (the summaries
    # merge counts of distinct rows, whole numbers: the same rows and fits to float rounding)
    assert streamed.dev_choice_ == whole.dev_choice_
    np.testing.assert_allclose(streamed.params_.cond_probs, whole.params_.cond_probs, atol=1e-9)
    # a model file does not keep the dev rows: its next solve says that the choice was not repeated
    # (300 rows on 3800 are not due for a solve by the default's refit_growth: refit solves them)
    path = tmp_path / "m.json"
    streamed.save(path)
    loaded = LabelModel.load(path)
    loaded.partial_fit(d.L[:300])
    assert loaded.pending_rows_ == 300 and loaded.dev_choice_ == whole.dev_choice_
    with pytest.warns(UserWarning, match=r"without the dev rows that chose the previous fit"):
        loaded.refit()
    assert loaded.dev_choice_ is None and loaded.pending_rows_ == 0
    # a new fit without gold starts a stream without them
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        streamed.fit(d.L[200:]).partial_fit(d.L[:300]).refit()
    assert streamed.dev_choice_ is None


def test_loo_selection_counts_the_choice_own_noise():
    from tripletws.dev_choice import _selection_leads

    n = 20
    # candidate c is wrong on dev row c alone: each looks right on 95 % of the rows, but the one the
    # other rows rank highest for row j is always candidate j, wrong there (the winner's curse)
    rows = {"gold_free": np.full(n, 0.5)}
    rows.update({f"c{c}": (np.arange(n) != c).astype(float) for c in range(n)})
    among = dict.fromkeys(rows)
    assert not _selection_leads(rows, among, "gold_free")
    # a candidate right on every row (listed before the others, so it wins their ties) beats a
    # gold-free fit right on half of them, left one out too
    rows["sure"] = np.ones(n)
    assert _selection_leads(rows, {"gold_free": None, "sure": None, **among}, "gold_free")


@pytest.mark.parametrize("bad", ["best", 0, -1.0, float("nan"), True, None])
def test_dev_rule_is_checked(bad):
    with pytest.raises(ValueError, match="dev_rule"):
        LabelModel(2, dev_rule=bad).fit(np.array([[0, 1, -1], [1, 1, 0], [0, 0, 0]] * 5))


def test_dev_choice_line_names_a_higher_score_that_was_not_chosen():
    from tripletws.models.base import dev_choice_line

    kept = {"chosen": "gold_free", "dev_accuracy": {"gold_free": 0.8, "mace+dev_prior": 0.84}, "n_dev": 50}
    line = dev_choice_line(kept, digits=2)
    assert line.startswith("gold_free (dev accuracy 0.80 on 50 gold rows)")
    assert "mace+dev_prior scored 0.84 there, not by enough to be chosen" in line
    best = {"chosen": "mace", "dev_accuracy": {"gold_free": 0.8, "mace": 0.84}, "n_dev": 50}
    assert dev_choice_line(best, digits=2) == "mace (dev accuracy 0.84 on 50 gold rows)"


def test_loo_selection_remakes_the_dev_prior_without_the_left_out_row():
    """The left-out check scores each dev row by a choice that has not seen it, the dev prior included:
    the fast path (one prior per class of the left-out row) equals choosing again from scratch."""
    from tripletws.dev_choice import (
        _left_out_choice,
        _left_out_prior_rows,
        _row_accuracy,
        check_dev_prior,
    )
    from tripletws.inference import posterior
    from tripletws.matrix import check_label_matrix
    from tripletws.params import LabelModelParams

    # weak LFs on 20 rows: the prior decides many rows, so one row's count in it shows
    rng = np.random.default_rng(0)
    k, m, n = 3, 5, 20
    y = rng.choice(k, size=n, p=[0.5, 0.3, 0.2])
    right = rng.random((n, m)) < 0.5
    L = np.where(right, y[:, None], rng.integers(0, k, size=(n, m)))
    L[rng.random((n, m)) < 0.6] = -1
    dev = check_label_matrix(L, k)
    # (m, k + 1, k) tables near uniform, each column a distribution over the outcomes
    tables = {name: rng.dirichlet(np.full(k + 1, 20.0), size=(m, k)).transpose(0, 2, 1) for name in "ab"}
    uniform = np.full(k, 1.0 / k)
    prior = check_dev_prior(y, k)
    among = {"gold_free": LabelModelParams(uniform, tables["a"])}
    for name, t in tables.items():
        among[name] = LabelModelParams(uniform, t)
        among[f"{name}+dev_prior"] = LabelModelParams(prior, t)
    rows = {c: _row_accuracy(posterior(dev, p), y) for c, p in among.items()}
    held = {f"{name}+dev_prior": _left_out_prior_rows(dev, y, t, None) for name, t in tables.items()}
    fast = _left_out_choice(rows, among, y_dev=y, held=held)

    slow = np.empty(n)
    for i in range(n):
        keep = np.arange(n) != i
        prior_i = check_dev_prior(y[keep], k)
        cands = dict(among)
        for name, t in tables.items():
            cands[f"{name}+dev_prior"] = LabelModelParams(prior_i, t)
        acc = {c: _row_accuracy(posterior(dev, p), y) for c, p in cands.items()}
        best = max(cands, key=lambda c: (acc[c][keep].sum(), -list(cands).index(c)))
        slow[i] = acc[best][i]
    np.testing.assert_allclose(fast, slow, atol=1e-12)
    # the prior made with the left-out row (the check before) scores this draw otherwise: the test
    # tells the two apart
    leaky = _left_out_choice(rows, among)
    assert not np.allclose(leaky, fast)


def test_dev_rows_without_gold_are_left_out():
    """Y_dev = -1 (unknown) on some dev rows: those rows are left out of the choice (the same choice as
    without them); on every row: a ValueError before the model changes."""
    d = make_synthetic(3000, 6, 2, coverage=0.5, random_state=4)
    L, L_dev, y_dev = d.L[:2500], d.L[2500:2600], d.y[2500:2600].copy()
    y_unknown = y_dev.copy()
    y_unknown[[3, 17, 40]] = -1
    keep = y_unknown >= 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        partial = LabelModel(2).fit(L, L_dev=L_dev, Y_dev=y_unknown)
        subset = LabelModel(2).fit(L, L_dev=L_dev[keep], Y_dev=y_dev[keep])
    assert partial.dev_choice_ == subset.dev_choice_
    assert partial.dev_choice_["n_dev"] == 97
    model = LabelModel(2)
    with pytest.raises(ValueError, match=r"Y_dev is -1 .* on every dev row"):
        model.fit(L, L_dev=L_dev, Y_dev=np.full(100, -1))
    assert "solution_" not in model.__dict__


def test_a_class_balance_given_to_fit_survives_the_dev_choice():
    """fit(..., class_balance=) overrides Y_dev: the dev rows used to replace the given prior with their
    own class frequencies ("+dev_prior") or a relabelling's permutation of it."""
    given = [0.3, 0.7]
    for seed in range(4):
        d = make_synthetic(1500, 6, 2, random_state=seed, class_balance=[0.8, 0.2])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = LabelModel(2).fit(
                d.L[:1000], L_dev=d.L[1000:1100], Y_dev=d.y[1000:1100], class_balance=given
            )
        assert not model.dev_choice_["chosen"].endswith("+dev_prior")
        np.testing.assert_allclose(model.class_balance_, given)
        assert model.class_balance_source_ == "given"


def test_a_dev_choice_of_another_family_updates_what_the_model_says():
    """The gold-free fit chose majority vote's model, the dev rows 'ds_abstain': unidentified_ still
    listed every LF (so intervals were all NaN) and the notes only said no accuracy was identified."""
    d = make_synthetic(4000, 3, 2, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LabelModel().fit(d.L[:3000], L_dev=d.L[3000:3060], Y_dev=d.y[3000:3060])
    assert model.family_ == "mv" and model.dev_choice_["chosen"] == "ds_abstain"
    assert model.unidentified_.tolist() == []
    said = "the dev rows replaced the gold-free fit ('mv') by 'ds_abstain'"
    assert said in model.notes_[-1]
    assert any(said in str(w.message) for w in caught)


def test_dev_rows_unused_by_the_symmetric_fallback_are_said_once():
    """L_dev with declared dependencies (the symmetric model is solved): 'L_dev was not used' was
    warned twice, once directly and once as the fit's note."""
    d = make_synthetic(1000, 5, 2, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LabelModel(2, dependencies=[(0, 1)]).fit(d.L[:800], L_dev=d.L[800:], Y_dev=d.y[800:])
    said = [w for w in caught if "L_dev was not used" in str(w.message)]
    assert len(said) == 1
    assert any("L_dev was not used" in note for note in model.notes_)
