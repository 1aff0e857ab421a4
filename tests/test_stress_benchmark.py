"""Smoke tests of the synthetic stress suite (benchmarks/stress.py, benchmarks/stress_problems.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import stress  # noqa: E402
from stress_problems import (  # noqa: E402
    FAMILIES,
    Problem,
    all_problems,
    build_world,
    draw,
    quick_problems,
    unipolar_table,
)


def test_suite_spans_the_required_ranges():
    problems = all_problems()
    assert len(problems) >= 300
    assert len({p.name for p in problems}) == len(problems)
    assert {p.family for p in problems} == set(FAMILIES)
    ms = [p.params["m"] for p in problems]
    ks = [p.params["k"] for p in problems]
    ns = [p.params["n"] for p in problems]
    assert min(ms) == 3 and max(ms) >= 250
    assert set(ks) == set(range(2, 11))
    assert min(ns) <= 150 and max(ns) >= 50_000
    assert max(p.params.get("imbalance", 1.0) for p in problems) >= 30
    covs = [c for p in problems if "coverage" in p.params for c in p.params["coverage"]]
    assert min(covs) <= 0.005 and max(covs) >= 0.8
    quick = quick_problems()
    assert 50 <= len(quick) <= 70 and {p.family for p in quick} == set(FAMILIES)
    assert all_problems() == problems  # the list itself is deterministic


def test_a_fresh_draw_is_another_suite_of_the_same_shape():
    usual, fresh = all_problems(), all_problems(20270601)
    assert [p.name for p in fresh] == [p.name for p in usual]
    assert [p.family for p in fresh] == [p.family for p in usual]
    assert all(a.seed != b.seed for a, b in zip(usual, fresh, strict=True))
    assert sum(a.params != b.params for a, b in zip(usual, fresh, strict=True)) >= 300
    assert all_problems(20270601) == fresh
    assert [p.name for p in quick_problems(20270601)] == [p.name for p in quick_problems()]


@pytest.mark.parametrize("name", ["ci-00", "crowd-01", "subpop-02", "shared_feature-03", "dependent-01"])
def test_draws_are_deterministic_per_seed(name):
    (problem,) = [p for p in all_problems() if p.name == name]
    a = draw(problem, max_n=500)
    b = draw(problem, max_n=500)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    L, y, L_test, _ = a
    assert L.shape == (min(500, problem.params["n"]), problem.params["m"]) and L.dtype == np.int8
    assert L.min() >= -1 and L.max() < problem.params["k"]
    assert not np.array_equal(L, L_test)  # train and test are separate draws
    other = Problem(problem.name, problem.family, problem.seed + 1, problem.params)
    assert not np.array_equal(draw(other, max_n=500)[0], L)


def test_votes_follow_the_drawn_tables():
    """A conditionally independent world: empirical P(vote = a | y) of every LF matches its table
    within 5 binomial standard errors."""
    problem = Problem("t", "ci", 7, {"m": 4, "k": 3, "n": 40_000, "n_test": 10, "coverage": [0.3, 0.8]})
    world = build_world(problem)
    L, y = world.sample(40_000, seed=7, stream=0)
    for i in range(4):
        for c in range(3):
            rows = L[y == c, i]
            emp = np.array([np.mean(rows == a - 1) for a in range(4)])
            p = world.tables[i, 0, 0, c]
            se = np.sqrt(p * (1 - p) / len(rows))
            assert np.all(np.abs(emp - p) <= 5 * se + 1e-12), (i, c, emp, p)
    cb = world.class_balance
    assert np.all(np.abs(np.bincount(y, minlength=3) / len(y) - cb) <= 5 * np.sqrt(cb * (1 - cb) / len(y)))


def test_unipolar_table_has_the_asked_precision():
    cb = np.array([0.9, 0.1])
    tab = unipolar_table(1, precision=0.6, coverage=0.05, class_balance=cb)
    votes = tab[:, 2]  # P(votes 1 | y)
    assert np.all(tab[:, 1] == 0)
    np.testing.assert_allclose(cb @ votes, 0.05)
    np.testing.assert_allclose(cb[1] * votes[1] / (cb @ votes), 0.6)


def test_crowd_items_get_their_annotator_count():
    (problem,) = [p for p in all_problems() if p.name == "crowd-00"]
    L, *_ = draw(problem, max_n=2000)
    per_row = (L >= 0).sum(axis=1)
    lo, hi = problem.params["crowd"]["per_item"]
    assert per_row.min() >= lo and per_row.max() <= hi


def test_tie_scores_expected_accuracy():
    y = np.array([0, 1, 1, 0])
    S = np.array([[1.0, 1.0], [0.0, 2.0], [1.0, 0.0], [0.5, 0.5]])
    acc, _ = stress.tie_scores(S, y, 2)
    assert acc == pytest.approx((0.5 + 1 + 0 + 0.5) / 4)


def _run(script: str, out: Path, *args: str) -> dict:
    """Run a benchmark script in a subprocess with ``--out out``; its JSON results."""
    cmd = [sys.executable, str(REPO / "benchmarks" / script), *args, "--out", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(out.read_text())


def test_runner_writes_the_table(tmp_path):
    out = tmp_path / "s.json"
    data = _run(
        "stress.py",
        out,
        *("--problems", "ci-00", "unipolar-01", "crowd-02", "imbalanced-00", "--max-n", "400"),
        *("--model-kw", "{}", '{"model": "symmetric"}'),
    )
    assert [p["name"] for p in data["problems"]] == ["ci-00", "unipolar-01", "crowd-02", "imbalanced-00"]
    assert data["meta"]["candidates"] == ["default", "symmetric"]
    assert "class_conditional" in data["meta"]["singles"]
    for p in data["problems"]:
        for name in ["mv", *data["meta"]["methods"]]:
            r = p["results"][name]
            assert "error" in r or 0.0 <= r["acc"] <= 1.0
            if name != "mv" and "error" not in r:  # the kinds of test row add up to the whole
                parts = r["by_kind"].values()
                assert sum(q["rows"] for q in parts) == p["n_test"]
                total = sum(q["acc"] * q["rows"] for q in parts if q["rows"]) / p["n_test"]
                assert total == pytest.approx(r["acc"], abs=1e-9)
                mv = sum(q["mv_acc"] * q["rows"] for q in parts if q["rows"]) / p["n_test"]
                assert mv == pytest.approx(p["results"]["mv"]["acc"], abs=1e-9)
    s = data["summary"]["methods"]["default"]
    assert s["win_mv"] + s["tie_mv"] + s["loss_mv"] == 4
    md = out.with_suffix(".md").read_text()
    assert "| method | mean acc |" in md and "## Mean accuracy per family" in md and "## Slowest fits" in md


def test_runner_draws_a_fresh_suite(tmp_path):
    args = ("--base-seed", "20270601", "--problems", "ci-00", "--models", "--max-n", "300")
    data = _run("stress.py", tmp_path / "fresh.json", *args)
    (problem,) = data["problems"]
    (fresh,) = [p for p in all_problems(20270601) if p.name == "ci-00"]
    assert data["meta"]["base_seed"] == 20270601 and "fresh draw" in data["meta"]["suite"]
    assert problem["seed"] == fresh.seed and problem["params"] == json.loads(json.dumps(fresh.params))


def test_dev_runner_scores_every_variant_of_the_dev_choice(tmp_path):
    out = tmp_path / "dev.json"
    args = ("--problems", "ci-00", "unipolar-01", "--max-n", "400", "--sizes", "50")
    data = _run("stress_dev.py", out, *args)
    assert [p["name"] for p in data["problems"]] == ["ci-00", "unipolar-01"]
    for p in data["problems"]:
        assert "error" not in p, p.get("error")
        row = p["50"]
        for name in ("mv", "no_gold", "dev", "dev_plain", "dev_relabel", "dev_se", "dev_shared"):
            assert 0.0 <= row[name] <= 1.0
        assert isinstance(row["dev_shared_chosen"], str)  # the conservative setting's dev choice ran
    s = data["summary"]["50"]
    assert s["problems"] == 2
    v = s["against_dev_plain"]["dev"]
    assert v["wins"] + v["ties"] + v["losses"] == 2
    assert "| 50 | dev_se |" in out.with_suffix(".md").read_text()


def test_against_counts_crossings_of_the_mv_line():
    def prob(name, family, mv, a, b):
        return {
            "name": name,
            "family": family,
            "results": {"mv": {"acc": mv}, "a": {"acc": a}, "b": {"acc": b}},
        }

    probs = [
        prob("x-00", "x", 0.70, 0.70, 0.60),  # b falls below MV - 0.5 pt
        prob("x-01", "x", 0.70, 0.60, 0.71),  # b rises above it
        prob("y-00", "y", 0.50, 0.52, 0.523),  # within the tie: neither better nor worse
        prob("y-01", "y", 0.50, 0.55, None),  # b crashed: below the line
    ]
    cmp = stress.against(probs, "a", "b")
    assert cmp["families"]["x"] == {
        "n": 2,
        "better": 1,
        "worse": 1,
        "newly_below": 1,
        "newly_above": 1,
        "mean_diff": pytest.approx((-0.10 + 0.11) / 2),
    }
    assert cmp["families"]["y"]["better"] == 0 and cmp["families"]["y"]["worse"] == 0
    assert cmp["families"]["y"]["newly_below"] == 1
    assert [c["name"] for c in cmp["crossings"]] == ["y-01", "x-00", "x-01"]


def test_gold_balance_stands_for_the_generators_class_balance():
    (problem,) = [p for p in all_problems() if p.name == "imbalanced-00"]
    balance = stress.true_balance(problem)
    k = int(problem.params["k"])
    assert balance.shape == (k,) and np.isclose(balance.sum(), 1.0)
    # the generator's balance is what its rows show, within their sampling error
    _, _, _, y_test = draw(problem)
    freq = np.bincount(y_test, minlength=k) / len(y_test)
    assert np.all(np.abs(freq - balance) <= 4.0 * np.sqrt(balance * (1 - balance) / len(y_test)))
    # the token reaches the fit as that balance
    L, _, L_test, _ = draw(problem, 400)
    rec = stress.run_ours({"class_balance": "gold"}, k, L, L_test, balance)
    assert "error" not in rec and rec["P"].shape == (L_test.shape[0], k)
    from tripletws import LabelModel

    given = LabelModel(cardinality=k, class_balance=balance).fit(L)
    assert np.allclose(given.predict_proba(L_test), rec["P"], atol=1e-12)
    with pytest.raises(ValueError, match="true class balance"):
        stress.run_ours({"class_balance": "gold"}, k, L, L_test)


def _opt_in(family: str) -> list:
    """The problems an opt-in family adds to the suite, checked to leave the suite's own unmoved."""
    usual = all_problems()
    with_extra = all_problems(extra=(family,))
    assert with_extra[: len(usual)] == usual  # the suite's problems do not move
    extra = with_extra[len(usual) :]
    assert [p.name for p in extra] == [f"{family}-{j:02d}" for j in range(26)]
    assert {p.seed for p in extra}.isdisjoint({p.seed for p in usual})
    return extra


def test_cross_feature_is_opt_in_and_shares_a_feature_across_classes():
    extra = _opt_in("cross_feature")
    with pytest.raises(ValueError, match="unknown extra families"):
        all_problems(extra=("nope",))
    crossed = 0
    for problem in extra[:8]:
        world = build_world(problem)
        assert np.all(world.feature_rate == world.feature_rate[:, :1])  # the feature ignores the class
        for g in range(len(world.feature_rate)):
            members = np.flatnonzero(world.group == g)
            # under the feature each member votes its own (one) class, whatever y is
            fired = world.tables[members, :, 1]  # (members, types, k, k + 1)
            voted = fired[..., 1:].sum(axis=(1, 2)).argmax(axis=1)
            own = world.tables[members, :, 0, :, 1:].sum(axis=(1, 2)).argmax(axis=1)
            assert np.array_equal(voted, own)
            crossed += len(set(voted.tolist())) > 1
    assert crossed >= 4  # most groups hold LFs of two classes or more


def test_keyword_is_opt_in_and_aims_each_lf_at_one_kind_of_its_class():
    for problem in _opt_in("keyword")[:6]:
        world = build_world(problem)
        k, kinds = world.k, problem.params["keyword"]["kinds"]
        assert world.tables.shape[1] == k * kinds
        # a kind belongs to one class: its rows have that class with probability `purity`
        own = np.arange(k * kinds) % k
        assert np.allclose(
            world.type_class_balance[np.arange(k * kinds), own], problem.params["keyword"]["purity"]
        )
        assert np.allclose(world.class_balance.sum(), 1.0)
        fire = 1.0 - world.tables[:, :, 0, :, 0]  # (m, kinds, k): P(the LF votes | kind, class)
        assert np.allclose(fire, fire[:, :, :1])  # firing follows the kind, not the class
        home = fire[:, :, 0].argmax(axis=1)
        voted = world.tables[:, 0, 0, 0, 1:].argmax(axis=1)
        assert np.array_equal(voted, own[home])  # each LF votes the class of its home kind, only that
        assert np.all(world.tables[:, :, 0, 0, 1:].astype(bool).sum(axis=2) <= 1)
        leak = problem.params["keyword"]["leak"]
        rate = fire[np.arange(len(home)), home, 0]
        assert np.allclose(np.sort(fire[:, :, 0], axis=1)[:, -2], rate * leak)  # elsewhere: rate x leak
        L = world.sample(2000, problem.seed, stream=0)[0]
        assert all(len(np.unique(L[L[:, i] >= 0, i])) <= 1 for i in range(L.shape[1]))


def test_adversarial_common_is_opt_in_and_its_adversarial_lfs_vote_the_commonest_class():
    from stress_problems import imbalance_all

    usual = all_problems()
    extra = all_problems(extra=("adversarial_common",))[len(usual) :]
    plain = [p for p in usual if p.family == "adversarial"]
    # the adversarial family's problems, one knob added
    assert [p.seed for p in extra] == [p.seed for p in plain]
    assert all(
        {**a.params, "adversarial_class": "common"} == b.params for a, b in zip(plain, extra, strict=True)
    )
    checked = 0
    for problem in imbalance_all(extra):
        assert problem.params["adversarial_class"] == "common"
        world = build_world(problem)
        votes = world.tables[:, 0, 0, :, 1:]  # (m, k, k): P(votes a | y)
        one_class = (votes.sum(axis=1) > 0).sum(axis=1) == 1
        voted = votes.sum(axis=1).argmax(axis=1)
        on = votes[np.arange(len(voted)), voted, voted]  # P(votes c | y = c)
        rate = votes.sum(axis=2)  # P(votes | y), (m, k)
        off = (rate.sum(axis=1) - rate[np.arange(len(voted)), voted]) / max(world.k - 1, 1)
        against = one_class & (on < off)
        if against.any():
            assert np.all(voted[against] == np.argmax(world.class_balance))
            checked += 1
    assert checked >= 5  # problems with an LF worse than chance, each voting the commonest class
