"""The gold-free check that reads every LF's abstentions as informative (estimators.abstain_check)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tripletws import LabelModel
from tripletws.estimators.abstain_check import INFORMATIVE, AbstainCheck

K, M, N = 3, 8, 6_000


def draw(n, cov, acc, rng, background=0.0):
    """Rows of LFs with class-dependent coverage ``cov`` (m, k) and accuracy ``acc`` (m,), errors
    uniform over the other classes, uniform classes; a share ``background`` of the rows is instead
    a group where every LF votes a random class with probability 0.7."""
    m, k = cov.shape
    y = rng.integers(0, k, size=n)
    fire = rng.random((n, m)) < cov[:, y].T
    right = rng.random((n, m)) < acc[None, :]
    other = (y[:, None] + rng.integers(1, k, size=(n, m))) % k
    L = np.where(fire, np.where(right, y[:, None], other), -1)
    if background:
        g = rng.random(n) < background
        L[g] = np.where(rng.random((int(g.sum()), m)) < 0.7, rng.integers(0, k, size=(int(g.sum()), m)), -1)
    return L, y


def world(class_dependent=True):
    rng = np.random.default_rng(0)
    cov = np.clip(0.15 * np.exp(0.9 * rng.normal(size=(M, K))), 0.01, 0.9)
    if not class_dependent:
        cov = np.repeat(cov.mean(axis=1, keepdims=True), K, axis=1)
    return cov, rng.uniform(0.5, 0.8, size=M)


def accuracy(P, y):
    top = P >= P.max(axis=1, keepdims=True) - 1e-9
    return float(np.mean(top[np.arange(len(y)), y] / top.sum(axis=1)))


def fit(L, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LabelModel(K, **kw).fit(L)


def test_class_dependent_coverage_is_read_and_gains(tmp_path):
    cov, acc = world()
    L, _ = draw(N, cov, acc, np.random.default_rng(1))
    L_test, y_test = draw(N, cov, acc, np.random.default_rng(2))
    # votes only under the uniform balance (the default would fall back to majority vote's family here:
    # under the two balances the vote-only fit names other classes on many rows, models.annotator)
    model, votes_only = fit(L), fit(L, one_class="shared", class_balance="uniform")
    check = model.estimate_.abstain
    assert check.accepted and check.reason == "" and model.abstain_ is check
    assert model.family_ == check.family in INFORMATIVE
    assert check.lead > 2 * check.lead_se and check.z <= 1.96
    assert votes_only.estimate_.abstain is None  # "shared": abstentions are "not assigned" throughout
    # a gain far beyond the noise of two accuracies on N test rows (sd of the difference <= sqrt(2 / (4 N)))
    gain = accuracy(model.predict_proba(L_test), y_test) - accuracy(votes_only.predict_proba(L_test), y_test)
    assert gain > 5 * np.sqrt(0.5 / N), gain
    path = tmp_path / "m.json"
    model.save(path)
    back = LabelModel.load(path)
    assert back.estimate_.abstain == check
    np.testing.assert_allclose(back.predict_proba(L_test), model.predict_proba(L_test), rtol=0, atol=1e-9)


def test_class_independent_coverage_is_not_read():
    cov, acc = world(class_dependent=False)
    L, _ = draw(N, cov, acc, np.random.default_rng(1))
    model, votes_only = fit(L), fit(L, one_class="shared")
    check = model.estimate_.abstain
    assert not check.accepted and "held-out rows better" in check.reason
    assert model.family_ == model.selection_.chosen
    np.testing.assert_allclose(model.predict_proba(L), votes_only.predict_proba(L), rtol=0, atol=1e-9)


def test_a_background_group_keeps_the_reading_off():
    cov, acc = world()
    L, _ = draw(N, cov, acc, np.random.default_rng(1), background=0.3)
    check = fit(L).estimate_.abstain
    # the informative fit leads on held-out rows, but a k + 1-th class explains a group of rows
    assert check.lead > 2 * check.lead_se
    assert not check.accepted and check.z > 1.96 and "background latent class" in check.reason


def test_record_round_trip_and_validation():
    check = AbstainCheck(False, "why", "ds_abstain", "estimated", 0.1, 0.01, float("nan"))
    d = check.to_dict()
    assert d["z"] is None
    back = AbstainCheck.from_dict(d)
    assert np.isnan(back.z) and back.to_dict() == d
    with pytest.raises(ValueError, match="family"):
        AbstainCheck.from_dict({**d, "family": "mace"})
    with pytest.raises(ValueError, match="accepted"):
        AbstainCheck.from_dict({**d, "accepted": "yes"})
    with pytest.raises(ValueError, match=r"abstain lacks field\(s\) \['accepted'\]"):
        AbstainCheck.from_dict({"reason": ""})


def test_refused_where_the_fit_overrules_most_clear_majorities(monkeypatch):
    """Stress problem dependent-19 (20 LFs, k = 2, 1 061 rows): the informative fit with the highest
    held-out score passes the lead, background and silenced-class tests but keeps the majority on
    under half of the clear rows (245 of 550), so the check refuses it and names the rule.  (The
    test reads the highest-scoring fit, not the default pick.  It read sparse-02 until the fold
    deal's row keys stopped seeing the class names, session 20: that deal's best fit there
    keeps the majority.)"""
    import sys
    from pathlib import Path

    import tripletws.estimators.abstain_check as abstain_module

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from stress_problems import all_problems, draw

    from tripletws import LabelModel

    monkeypatch.setattr(abstain_module, "PICK", "best")
    problem = next(p for p in all_problems() if p.name == "dependent-19")
    L, _, _, _ = draw(problem)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2).fit(L)
    record = model.estimate_.abstain
    assert record is not None and not record.accepted
    assert "keeps the majority on" in record.reason


def _scores_with(monkeypatch, scores):
    """Make the check's folds score candidate ``key`` ("family/balance") with ``scores[key] = (mean,
    se)``: every held-out row ``mean`` plus ``se * sqrt(n) * z`` for one fixed pattern ``z`` of
    weighted mean 0 and weighted standard deviation 1, so that against a candidate with ``se`` 0 the
    paired lead is exactly the difference of the means and its standard error exactly ``se``."""
    import tripletws.estimators.abstain_check as abstain_module

    def fake(unique, balances, folds, only=None, fits=None):
        w = folds.astype(np.float64)
        n = float(w.sum())
        z = np.random.default_rng(5).normal(size=folds.shape)
        z -= float((w * z).sum()) / n
        z /= np.sqrt(float((w * z * z).sum()) / (n - 1.0))
        out = {
            f"{fam}/{name}": scores[f"{fam}/{name}"][0] + scores[f"{fam}/{name}"][1] * np.sqrt(n) * z
            for name in balances
            for fam in INFORMATIVE
        }
        if only is not None:  # the folds not scored stay 0, as the real function leaves them
            for v in out.values():
                v[~np.isin(np.arange(len(folds)), only)] = 0.0
        return out

    monkeypatch.setattr(abstain_module, "_fold_scores", fake)


def _pick(monkeypatch, pick, scores):
    import tripletws.estimators.abstain_check as abstain_module
    from tripletws.estimators.abstain_check import abstain_check
    from tripletws.matrix import check_label_matrix
    from tripletws.rows import RowSummary

    monkeypatch.setattr(abstain_module, "PICK", pick)
    _scores_with(monkeypatch, scores)
    cov, acc = world()
    L, _ = draw(2_000, cov, acc, np.random.default_rng(3))
    unique = RowSummary.from_matrix(check_label_matrix(L, K), 10**6)
    rec = abstain_check(unique, "mv", np.full(K, 1.0 / K), choose_balance=True)
    return rec.family, rec.balance


def test_the_pick_is_the_simplest_candidate_within_two_standard_errors(monkeypatch):
    # ds_abstain with an estimated balance scores highest; mace_abstain (uniform) trails it by one
    # standard error of the paired lead: within two, so the simplest is picked; "best" takes the
    # highest
    close = {
        "mace_abstain/uniform": (-1.001, 0.001),
        "mace_abstain/estimated": (-1.5, 0.001),
        "ds_abstain/uniform": (-1.5, 0.001),
        "ds_abstain/estimated": (-1.0, 0.0),
    }
    assert _pick(monkeypatch, "simplest", close) == ("mace_abstain", "uniform")
    assert _pick(monkeypatch, "best", close) == ("ds_abstain", "estimated")
    # ten standard errors behind: the best is picked either way
    far = dict(close, **{"mace_abstain/uniform": (-1.01, 0.001)})
    assert _pick(monkeypatch, "simplest", far) == ("ds_abstain", "estimated")
    # the order is by parameters: mace_abstain with an estimated balance comes before ds_abstain
    mid = dict(far, **{"mace_abstain/estimated": (-1.001, 0.001)})
    assert _pick(monkeypatch, "simplest", mid) == ("mace_abstain", "estimated")


def test_unknown_pick_is_an_error(monkeypatch):
    with pytest.raises(ValueError, match="unknown PICK"):
        _pick(
            monkeypatch,
            "first",
            {f"{f}/{b}": (-1.0, 0.0) for f in INFORMATIVE for b in ("uniform", "estimated")},
        )


def test_no_abstention_no_reading():
    # every LF votes on every row: nothing to read, whatever the EMs' rounding says
    rng = np.random.default_rng(4)
    y = rng.integers(0, K, size=500)
    right = rng.random((500, M)) < 0.7
    L = np.where(right, y[:, None], (y[:, None] + rng.integers(1, K, size=(500, M))) % K)
    check = fit(L).estimate_.abstain
    assert check is not None and not check.accepted and check.family == ""
    assert "no LF abstains" in check.reason


def test_copies_are_counted_once_in_the_check_too():
    # two exact copies of LF 0: the default counts them once (estimators.copies), and the abstain
    # check reads the same rows as the choice (copies blanked), so the reading stands as without them
    cov, acc = world()
    L, _ = draw(N, cov, acc, np.random.default_rng(1))
    L_test, y_test = draw(N, cov, acc, np.random.default_rng(2))
    with_copies = fit(np.column_stack([L, L[:, 0], L[:, 0]]))
    alone = fit(L)
    assert set(with_copies.estimate_.copies.members.tolist()) >= {M, M + 1}
    check, ref = with_copies.estimate_.abstain, alone.estimate_.abstain
    assert check.accepted and ref.accepted and check.family == ref.family
    P = with_copies.predict_proba(np.column_stack([L_test, L_test[:, 0], L_test[:, 0]]))
    # the same model up to which LF of the group represents it: accuracies within the noise of two
    # accuracies on N test rows (sd of the difference <= sqrt(2 / (4 N)))
    gap = accuracy(P, y_test) - accuracy(alone.predict_proba(L_test), y_test)
    assert gap > -3 * np.sqrt(0.5 / N), gap


def test_the_kept_clear_bar_is_a_module_constant(monkeypatch):
    """Test (d)'s bar (``KEPT_CLEAR``, 0.5 by default) is read at call time: the reading accepted at
    the default (the first test's data) is refused, and named, when the bar asks for more than every
    clear row (no fit can keep more than all of them), and the fit is then the vote-only family's."""
    import tripletws.estimators.abstain_check as abstain_module

    assert abstain_module.KEPT_CLEAR == 0.5  # the default is unchanged
    cov, acc = world()
    L, _ = draw(N, cov, acc, np.random.default_rng(1))
    assert fit(L).estimate_.abstain.accepted
    monkeypatch.setattr(abstain_module, "KEPT_CLEAR", 1.0)
    model = fit(L)
    record = model.estimate_.abstain
    assert not record.accepted and "not on more than 1 of them" in record.reason
    assert model.family_ == model.selection_.chosen


def test_a_stricter_bar_refuses_a_label_swap(monkeypatch):
    """Stress problem mixed-18 of the fresh draw 20280101 (k = 2, 29 : 1 imbalance): under the rule
    before session 12 (test (d) on the clear rows only) the reading passes (a)-(d) keeping the
    majority on 0.65 of the clear rows and swaps the labels (-54.7 points against majority vote);
    with ``KEPT_CLEAR = 0.75`` (the study option) it is refused, and so it is by the default's test
    (d) on the rows won by one vote (77 of 196 kept).  The rows are dealt with fold seed 1: on the
    library's own deal (seed 0, since session 20's row keys) the held-out lead fails test (a) and
    the reading is refused before (d) is reached; the test is of (d)."""
    import sys
    from pathlib import Path

    import tripletws.estimators.abstain_check as abstain_module
    import tripletws.models.annotator as annotator_module

    monkeypatch.setattr(annotator_module, "FOLD_SEED", 1)  # the choice's and the checks' deal alike
    monkeypatch.setattr(annotator_module, "CHECK_FOLD_SEED", 1)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from stress_problems import all_problems
    from stress_problems import draw as draw_problem

    problem = next(p for p in all_problems(20280101) if p.name == "mixed-18")
    L, _, _, _ = draw_problem(problem)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        record = LabelModel(2).fit(L).estimate_.abstain
        assert not record.accepted and "rows whose majority wins by 1 vote or more" in record.reason
        monkeypatch.setattr(abstain_module, "KEPT_MARGINS", (2,))  # the rule before session 12
        assert LabelModel(2).fit(L).estimate_.abstain.accepted
        monkeypatch.setattr(abstain_module, "KEPT_CLEAR", 0.75)
        record = LabelModel(2).fit(L).estimate_.abstain
    assert not record.accepted and "rows whose majority wins by 2 votes or more" in record.reason


def test_the_stability_bar_is_an_off_by_default_study_option(monkeypatch):
    """Test (e) (``STABILITY_BAR``, None by default: off) is read at call time: a bar of -1 refuses the
    reading accepted at the default (the first test's data) and names the half fits' disagreement,
    which lies in [0, 1]; the fit is then the vote-only family's."""
    import tripletws.estimators.abstain_check as abstain_module

    assert abstain_module.STABILITY_BAR is None  # the default is unchanged
    cov, acc = world()
    L, _ = draw(N, cov, acc, np.random.default_rng(1))
    assert fit(L).estimate_.abstain.accepted
    monkeypatch.setattr(abstain_module, "STABILITY_BAR", -1.0)
    model = fit(L)
    record = model.estimate_.abstain
    assert not record.accepted and "disagree on" in record.reason
    assert model.family_ == model.selection_.chosen
    monkeypatch.setattr(abstain_module, "STABILITY_BAR", 1.0)  # no share exceeds 1: accepted
    assert fit(L).estimate_.abstain.accepted


def test_half_fit_disagreement_is_a_share_and_zero_for_a_clear_reading():
    """The half fits' disagreement lies in [0, 1] and is small where the reading is clear (the first
    test's data)."""
    from tripletws.estimators.abstain_check import half_fit_disagreement
    from tripletws.matrix import check_label_matrix
    from tripletws.rows import RowSummary

    cov, acc = world()
    L, _ = draw(N, cov, acc, np.random.default_rng(1))
    rows = RowSummary.from_matrix(check_label_matrix(L, K), 20_000)
    share = half_fit_disagreement(rows, "mace_abstain", np.full(K, 1.0 / K))
    assert 0.0 <= share <= 0.1, share


def test_the_reading_must_lead_its_own_reading_of_the_votes(monkeypatch):
    """Test (a'), the default since session 13: stress problem confusion-07 (434 rows, 7 LFs,
    k = 10).  Dawid-Skene's tables with abstentions read as outcomes lead the vote-only family
    chosen (MACE), but score below ``"ds"``, the same tables with abstentions read as "not
    assigned": the lead was the tables', not the abstentions', and the check refuses it.  Without
    the test (the rule before) the reading is used."""
    import sys
    from pathlib import Path

    import tripletws.estimators.abstain_check as abstain_module

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from stress_problems import all_problems, draw

    assert abstain_module.OWN_LEAD is True
    problem = next(p for p in all_problems() if p.name == "confusion-07")
    L, _, _, _ = draw(problem)
    k = int(problem.params["k"])
    record = fit_k(L, k).estimate_.abstain
    assert record is not None and not record.accepted and record.family == "ds_abstain"
    assert "its reading of the votes alone" in record.reason and "'ds'" in record.reason
    assert record.lead > 2 * record.lead_se  # test (a) passed: it leads the family chosen
    monkeypatch.setattr(abstain_module, "OWN_LEAD", False)
    before = fit_k(L, k).estimate_.abstain
    assert before.accepted and before.family == "ds_abstain"


def fit_k(L, k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LabelModel(k).fit(L)


def test_the_reading_says_what_it_read_and_where_the_unvoted_rows_go():
    """An accepted "mace_abstain" reading warns once: its evidence, the share of rows without a vote
    and the class they get (majority vote leaves them to a coin), and how to check or switch it off.
    The rows: a stress problem on which the reading is accepted (subpop-20 of draw 20540101)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from stress_problems import all_problems, draw

    problem = next(p for p in all_problems(20540101) if p.name == "subpop-20")
    L = draw(problem)[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LabelModel(2).fit(L)
    check = model.abstain_
    assert check.accepted and model.family_ == check.family == "mace_abstain"
    notes = [n for n in model.notes_ if n.startswith("every LF's abstentions are read as evidence")]
    assert len(notes) == 1 and notes[0] in [str(w.message) for w in caught]
    note = notes[0]
    assert f"by {check.lead:.4f} +- {check.lead_se:.4f}" in note and f"z = {check.z:.1f}" in note
    assert f"'mace_abstain', {model.class_balance_source_} class balance" in note
    unvoted = (L < 0).all(axis=1)
    empty = model.predict_proba(L[unvoted][:1])[0]
    assert f"the {unvoted.mean():.1%} of rows without a vote go to class {int(empty.argmax())}" in note
    assert f"(posterior {empty.max():.3f})" in note  # how sure the fit is of that class
    assert empty.max() > empty.min() + 1e-6  # not a tie
    assert "one_class='shared'" in note and "L_dev" in note
    # "shared" reads abstentions as "not assigned": no reading, no such note
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shared = LabelModel(2, one_class="shared").fit(L)
    assert not any("read as evidence" in n for n in shared.notes_)


def test_twin_classes_refuse_a_reading_that_mixes_class_and_row_type(monkeypatch):
    """Test (b2) (``BACKGROUND_TWINS``, on since session 59): on stress problem subpop-19 of draw 20830101
    with every class imbalanced (53 LFs whose accuracy and coverage depend on a hidden row type, 2 508
    train rows), Dawid-Skene's tables with a twin of each class gain held-out likelihood and the reading
    is refused, at majority vote's level; with the test off (the rule before) the reading is accepted and
    scores far below majority vote.  On the first test's rows (one type of row) it refuses nothing."""
    import bench_paths  # noqa: F401  (puts benchmarks/ on the path)
    from stress_problems import all_problems, imbalance_all
    from stress_problems import draw as draw_problem

    import tripletws.estimators.abstain_check as abstain_module

    assert abstain_module.BACKGROUND_TWINS is True and abstain_module.TWIN_MIN_GAIN == 0.0
    problem = next(p for p in imbalance_all(all_problems(20830101)) if p.name == "subpop-19")
    L, _, L_test, y_test = draw_problem(problem)
    votes = np.stack([(L_test == c).sum(axis=1) for c in range(2)], axis=1)
    mv = accuracy(votes.astype(float), y_test)

    def fitted():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = LabelModel(2).fit(L)
        return model.estimate_.abstain, accuracy(model.predict_proba(L_test), y_test)

    check, acc = fitted()
    # 10 000 test rows: a paired difference has sd below sqrt(0.5 / 10 000) ~ 0.007; these are 3 and 20 sd
    assert not check.accepted and "groups within the classes" in check.reason
    assert acc > mv - 0.02
    monkeypatch.setattr(abstain_module, "BACKGROUND_TWINS", False)
    check, acc = fitted()
    assert check.accepted and acc < mv - 0.15
    monkeypatch.setattr(abstain_module, "BACKGROUND_TWINS", True)
    cov, acc_lf = world()
    L, _ = draw(N, cov, acc_lf, np.random.default_rng(1))
    assert fit(L).estimate_.abstain.accepted  # one type of row: the twins gain nothing significant
