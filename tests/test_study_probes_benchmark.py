"""Smoke tests of session 31's study scripts: benchmarks/meta_rule_study.py and benchmarks/stress_probe.py."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

pytest.importorskip("sklearn", reason="the meta-rule study needs scikit-learn (the dev extra)")

import meta_rule_study  # noqa: E402
import stress_probe  # noqa: E402


def _problem(i: int, family: str, switch_gains: bool) -> dict:
    """A worst_losses.py record whose one informative feature (rows_won) says whether MV's family gains."""
    won = 0.95 if switch_gains else 0.55
    return {
        "name": f"{family}-{i:02d}",
        "family": family,
        "n": 1000 + i,
        "m": 10,
        "k": 2,
        "coverage": 0.3,
        "mv": 0.70,
        "default": 0.68 if switch_gains else 0.80,
        "record": {
            "selection": {"chosen": "mace", "leads": {"mv": [0.1, 0.01], "one_coin": [0.05, 0.01]}},
            "lead_shape": {"top1": 0.05, "trim_t": 10.0, "min_fold_t": 5.0, "win": won},
        },
        "fit_prior": [0.5, 0.5],
        "clear_shares": [0.5, 0.5],
        "mv_shares": [0.5, 0.5],
        "ablations": {"family=mv": 0.72 if switch_gains else 0.70},
    }


def _records(tmp_path: Path) -> list[str]:
    paths = []
    for d in range(2):
        problems = [
            _problem(i, family, switch_gains=(i % 3 == 0))
            for family in ("alpha", "beta", "gamma")
            for i in range(d * 12, d * 12 + 12)
        ]
        path = tmp_path / f"wl_{d}.json"
        path.write_text(json.dumps({"problems": problems}))
        paths.append(str(path))
    return paths


def test_a_learnable_signal_is_found_held_out(tmp_path):
    paths = _records(tmp_path)
    rows, X = meta_rule_study.load(paths, "family=mv")
    assert len(rows) == 72 and X.shape == (72, len(rows[0]["features"])) and np.isfinite(X).all()
    out = tmp_path / "table.json"
    assert meta_rule_study.main([*paths, "--C", "1", "--thresholds", "0.5", "--out", str(out)]) == 0
    table = json.loads(out.read_text())["table"]
    logistic = [r for r in table if r["classifier"] == "logistic C=1"]
    assert {r["held_out"] for r in logistic} == {"leave one family out", "leave one draw out"}
    for r in logistic:
        # the 24 problems where MV's family gains (4 points each, from 0.68 below MV to 0.72) switch,
        # and only those: each was a loss against MV, none is after
        assert r["switched"] == 24
        assert r["points"] == pytest.approx(24 * 4.0)
        assert r["losses"] == -24


def test_an_action_no_record_took_is_an_error(tmp_path):
    paths = _records(tmp_path)
    with pytest.raises(SystemExit, match="no_abstain"):
        meta_rule_study.load(paths, "no_abstain")


def test_the_cap_bounds_every_outcome(monkeypatch):
    import tripletws.params as params

    monkeypatch.setattr(params.LabelModelParams, "log_odds_tables", params.LabelModelParams.log_odds_tables)
    rng = np.random.default_rng(0)
    m, k = 6, 3
    cond = rng.dirichlet(np.ones(k + 1) * 0.3, size=(m, k)).transpose(0, 2, 1)  # (m, k + 1, k)
    p = params.LabelModelParams(np.full(k, 1.0 / k), cond)
    _, D0 = p.log_odds_tables()
    assert D0.min() < -3.0  # some outcome says more than 3 nats before the cap
    stress_probe.weight_cap(3.0, abstentions=True)
    base, D = p.log_odds_tables()
    assert D.min() >= -3.0 - 1e-12 and D.max() <= 1e-12
    # outcomes already within the cap keep their ratios
    inside = D0 >= -3.0
    assert np.allclose(D[inside], D0[inside])
    # every LF's abstention moves the base by at most 3 nats between classes
    abstain = np.log(cond[:, 0, :]) - np.log(cond[:, 0, :]).max(axis=1, keepdims=True)
    expected = np.log(np.full(k, 1.0 / k)) + np.maximum(abstain, -3.0).sum(axis=0)
    assert np.allclose(base, expected)


def test_unvoted_balance_gives_rows_without_a_vote_the_fit_balance_above_k(monkeypatch):
    import warnings

    from tripletws.model import LabelModel

    monkeypatch.setattr(LabelModel, "predict_proba", LabelModel.predict_proba)
    rng = np.random.default_rng(4)
    n, k = 3000, 3
    y = rng.integers(0, k, n)
    L = np.where(
        rng.random((n, 5)) < 0.3, np.where(rng.random((n, 5)) < 0.8, y[:, None], (y[:, None] + 1) % k), -1
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(k).fit(L)
    before = model.predict_proba(L)
    stress_probe.unvoted_balance(2)
    after = model.predict_proba(L)
    unvoted = (L < 0).all(axis=1)
    assert unvoted.any() and (~unvoted).any()
    np.testing.assert_allclose(
        after[unvoted], np.broadcast_to(model.fit_class_balance_, after[unvoted].shape)
    )
    np.testing.assert_array_equal(after[~unvoted], before[~unvoted])  # the voted rows as predicted
    # at or below K classes nothing changes
    stress_probe.unvoted_balance(5)
    np.testing.assert_allclose(model.predict_proba(L)[unvoted], after[unvoted])


def test_set_constant_keeps_the_type(monkeypatch):
    import tripletws.estimators.copies as copies

    monkeypatch.setattr(copies, "COPY_SHARE", copies.COPY_SHARE)
    stress_probe.set_constant("tripletws.estimators.copies:COPY_SHARE=0.3")
    assert copies.COPY_SHARE == 0.3 and isinstance(copies.COPY_SHARE, float)


def test_several_probes_apply_together_and_the_rest_goes_to_the_suite(monkeypatch):
    import tripletws.estimators.copies as copies
    import tripletws.models.annotator as annotator

    monkeypatch.setattr(copies, "COPY_SHARE", copies.COPY_SHARE)
    monkeypatch.setattr(annotator, "SPECIFICITY_CLASSES", annotator.SPECIFICITY_CLASSES)
    seen = {}
    monkeypatch.setattr(
        stress_probe.runpy, "run_path", lambda path, run_name: seen.update(argv=list(sys.argv))
    )
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "stress_probe.py",
            "set:tripletws.estimators.copies:COPY_SHARE=0.3",
            "set:tripletws.models.annotator:SPECIFICITY_CLASSES=more",
            "--jobs",
            "2",
            "--quick",
        ],
    )
    stress_probe.main()
    assert copies.COPY_SHARE == 0.3 and annotator.SPECIFICITY_CLASSES == "more"
    assert seen["argv"][0].endswith("stress.py") and seen["argv"][1:] == ["--jobs", "2", "--quick"]


def test_the_reading_bar_report_bins_the_gain_and_keeps_a_bar_that_only_loses(tmp_path):
    problems = []
    for i, (z, gain) in enumerate([(2.5, 0.02), (3.5, 0.01), (8.0, 0.03), (25.0, 0.05)] * 3):
        problems.append(
            {
                "name": f"fam{i % 3}-{i:02d}",
                "family": f"fam{i % 3}",
                "default": 0.70 + gain,
                "mv": 0.70,
                "record": {"abstain": {"accepted": True, "lead": 0.01 * z, "lead_se": 0.01, "z": -1.0}},
                "ablations": {"no_abstain": 0.70},
            }
        )
    path = tmp_path / "wl_x.json"
    path.write_text(json.dumps({"problems": problems}))
    lines = meta_rule_study.reading_bar([str(path)])
    assert lines[0] == "12 accepted readings in 1 draws"
    assert "| lead z in [2, 3) | 3 | +6.0 | 0 | 0 |" in lines
    assert "| background z in [-inf, 0) | 12 | +33.0 | 0 | 0 |" in lines
    assert "bar 3, in-sample: -6.0 points, losses +0" in lines
    assert "leave one family out: bars [2.0], +0.0 points, losses +0" in lines


# --------------------------------------------------------------------------- session 32: temper_study.py

import temper_study  # noqa: E402


def test_mv_log_odds_recovers_a_shared_accuracy() -> None:
    """Majority vote's model fitted by EM on votes of one shared accuracy recovers its log-odds.

    5 000 rows, 7 LFs that always vote (35 000 votes), k = 3, accuracy 0.7: the estimate's standard
    error is about sqrt(0.7 * 0.3 / 35 000) = 0.0024, and 0.02 is eight of those."""
    rng = np.random.default_rng(3)
    n, m, k, acc = 5000, 7, 3, 0.7
    y = rng.integers(0, k, size=n)
    right = rng.random((n, m)) < acc
    wrong = (y[:, None] + rng.integers(1, k, size=(n, m))) % k
    L = np.where(right, y[:, None], wrong)
    c = temper_study.mv_log_odds(L, k)
    a = 1.0 / (1.0 + (k - 1) * np.exp(-c))
    assert abs(a - acc) < 0.02


def test_blend_scores_ends() -> None:
    """lambda = 1 is the posterior's log; lambda = 0 ranks the classes as the vote counts do."""
    P = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    N = np.array([[0.0, 2.0], [3.0, 1.0], [1.0, 1.0]])
    assert np.allclose(temper_study.blend_scores(P, N, 1.3, 1.0), np.log(P))
    S0 = temper_study.blend_scores(P, N, 1.3, 0.0)
    assert (S0.argmax(axis=1) == N.argmax(axis=1))[:2].all() and S0[2, 0] == S0[2, 1]
    # in between, the pooled scores are the weighted sum
    S = temper_study.blend_scores(P, N, 1.3, 0.5)
    assert np.allclose(S, 0.5 * np.log(P) + 0.5 * 1.3 * N)


def test_temper_study_choice_and_leave_one_out() -> None:
    """The leave-one-group-out choice picks on the other groups and scores the held-out one."""

    def row(fam: str, mv: float, accs: dict[str, float]) -> dict:
        full = {str(lam): accs.get(str(lam), mv) for lam in temper_study.LAMBDAS}
        return {"family": fam, "name": fam, "mv": mv, "acc": full}

    rows = [
        row("a", 0.70, {"1.0": 0.80, "0.5": 0.75}),  # the fit is right: tempering costs
        row("b", 0.70, {"1.0": 0.60, "0.5": 0.72}),  # the fit is wrong: tempering mends
        row("c", 0.70, {"1.0": 0.90, "0.5": 0.85}),
    ]
    assert temper_study.choose(rows, "mean") == "0.5"  # in sample: 0.7733 against 0.7667
    lo = temper_study.leave_one_out(rows, "family", "mean")
    # without a (or c) the mending of b outweighs: 0.5 is picked and a (c) is scored at 0.5; without b, 1.0
    assert lo["picks"] == {"a": "0.5", "b": "1.0", "c": "0.5"}
    assert lo["losses"] == 1 and abs(lo["mean"] - (0.75 + 0.60 + 0.85) / 3) < 1e-12


def test_keep_clear_overrides_only_clear_majorities() -> None:
    """Rows whose top vote count leads by the margin take majority vote's class; the others keep P."""
    P = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]])
    N = np.array([[0.0, 3.0], [1.0, 2.0], [2.0, 2.0]])  # clear for class 1 by 3; by 1; a tie
    S = temper_study.keep_clear(P, N, 2)
    assert S[0].argmax() == 1 and np.isneginf(S[0, 0])
    assert np.allclose(S[1:], np.log(P[1:]))
    assert np.allclose(temper_study.keep_clear(P, N, 4), np.log(P))
