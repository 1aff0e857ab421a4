"""benchmarks/peers/run_stress.py --update: our column rerun on the same draws, the peers' kept."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks" / "peers"))

import run_stress  # noqa: E402


def _results(ours: dict[str, float], mv: dict[str, float], peer: float | None, when: str) -> dict:
    methods = ["mv", "ours_default"] + ([] if peer is None else ["snorkel"])
    problems = []
    for name, acc in ours.items():
        res = {"mv": {"status": "ok", "acc": mv[name]}, "ours_default": {"status": "ok", "acc": acc}}
        if peer is not None:
            res["snorkel"] = {"status": "ok", "acc": peer}
        problems.append({"name": name, "results": res})
    return {"meta": {"date": when, "ours": f"tripletws @ {when}", "methods": methods}, "problems": problems}


def test_update_replaces_our_column_and_keeps_the_peers():
    mv = {"ci-00": 0.7, "subpop-00": 0.5}
    old = _results({"ci-00": 0.6, "subpop-00": 0.4}, mv, 0.55, "old")
    new = _results({"ci-00": 0.8, "subpop-00": 0.45}, mv, None, "new")
    out = run_stress.merge_update(old, new)
    got = {p["name"]: p["results"] for p in out["problems"]}
    assert got["ci-00"]["ours_default"]["acc"] == 0.8 and got["subpop-00"]["ours_default"]["acc"] == 0.45
    assert got["ci-00"]["snorkel"]["acc"] == 0.55  # the peer's result is kept
    assert "ours_default rerun on new at tripletws @ new" in out["meta"]["ours"]


def test_update_refuses_other_draws_or_problems():
    old = _results({"ci-00": 0.6}, {"ci-00": 0.7}, 0.55, "old")
    with pytest.raises(SystemExit, match="not the same draw"):
        run_stress.merge_update(old, _results({"ci-00": 0.8}, {"ci-00": 0.71}, None, "new"))
    with pytest.raises(SystemExit, match="problems differ"):
        run_stress.merge_update(old, _results({"ci-01": 0.8}, {"ci-01": 0.7}, None, "new"))


def test_row_cap_read_back():
    assert run_stress._row_cap("quick subset, first 1 per family, train and test rows capped at 600") == 600
    assert run_stress._row_cap("full suite") is None


def test_quality_runs_give_the_valid_prior_to_its_own_column_only():
    """run_quality.py passes the valid split's balance to Snorkel's "valid prior" column only: our
    default (common.Ours passes a given balance through) and the other peers stay gold-free."""
    import numpy as np
    import run_quality
    from common import Ours

    cb = np.array([0.8, 0.2])
    assert run_quality.valid_prior_for(Ours("ours_default", {}), cb) is None

    class WithPrior:
        use_prior = True

    assert run_quality.valid_prior_for(WithPrior(), cb) is cb


def test_a_fresh_draw_and_its_imbalanced_variant_are_the_stress_suites(monkeypatch):
    """--base-seed and --imbalance-all run stress.py's problems of that draw (the same draws, named in the
    header), and --update reruns the draw the results were made on."""
    from stress_problems import all_problems, draw, imbalance_all

    monkeypatch.setattr(run_stress, "build_methods", lambda: [])
    monkeypatch.setattr(run_stress, "warm_up", lambda methods, k: None)
    res = run_stress.run(True, None, ["ci"], 200, 1, None, 20960101, True)
    want = imbalance_all([p for p in all_problems(20960101) if p.name == "ci-00"])[0]
    _, _, L_test, y_test = draw(want, 200)
    acc, _ = run_stress.tie_scores(run_stress.mv_scores(L_test, want.params["k"]), y_test, want.params["k"])
    (prob,) = res["problems"]
    assert prob["name"] == "ci-00" and prob["results"]["mv"]["acc"] == acc
    assert res["meta"]["base_seed"] == 20960101 and res["meta"]["imbalance_all"] is True
    assert "base seed 20960101" in res["meta"]["suite"] and "imbalanced" in res["meta"]["suite"]
    plain = run_stress.run(True, None, ["ci"], 200, 1)
    assert plain["meta"]["base_seed"] == run_stress.BASE_SEED and "base seed" not in plain["meta"]["suite"]
    assert plain["problems"][0]["results"]["mv"]["acc"] != acc  # another draw
    # --update reads the draw back from the header (older headers: the development suite, balanced)
    assert run_stress._draw_of(res["meta"]) == (20960101, True)
    assert run_stress._draw_of({"suite": "full suite"}) == (run_stress.BASE_SEED, False)
