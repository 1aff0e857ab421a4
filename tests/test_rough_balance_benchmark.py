"""A rough class balance given to the default on real-LF subsets (benchmarks/rough_balance.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from bench_paths import needs_data


def test_balances_and_the_baseline_without_data():
    import rough_balance

    p = np.array([0.8, 0.2])
    b = rough_balance.balances(p)
    assert set(b) == {"exact", "mix70", "mix50", "tilt10", "odds/2", "odds*2", "swapped"}
    np.testing.assert_allclose(b["mix50"], [0.65, 0.35])
    np.testing.assert_allclose(b["tilt10"], [0.53, 0.47])
    np.testing.assert_allclose(b["swapped"], [0.2, 0.8])
    # class 1's odds 0.25 halved and doubled: 0.125 and 0.5
    assert b["odds/2"][1] / b["odds/2"][0] == pytest.approx(0.125)
    assert b["odds*2"][1] / b["odds*2"][0] == pytest.approx(0.5)
    for v in b.values():
        assert v.sum() == pytest.approx(1.0)
    assert set(rough_balance.balances(np.array([0.5, 0.3, 0.2]))) == {"exact", "mix70", "mix50", "tilt10"}
    # ties (and the row without a vote) go to the commoner class; a vote still beats the nudge
    mv = np.array([[1.0, 1.0], [0.0, 0.0], [0.0, 1.0]])
    assert rough_balance.mv_with_balance(mv, np.array([0.3, 0.7])).argmax(axis=1).tolist() == [1, 1, 1]
    assert rough_balance.mv_with_balance(mv, np.array([0.7, 0.3])).argmax(axis=1).tolist() == [0, 0, 1]
    three = rough_balance.mv_with_balance(np.array([[2.0, 2.0, 1.0]]), np.array([0.2, 0.3, 0.5]))
    assert three.argmax() == 1  # the tied classes 0 and 1: class 1 is the commoner of the two
    even = rough_balance.mv_with_balance(np.array([[0.0, 0.0, 0.0]]), np.array([0.4, 0.4, 0.2]))
    assert even[0, 0] == even[0, 1] > even[0, 2]  # equally common classes stay tied


@needs_data
def test_run_on_one_draw(tmp_path):
    import rough_balance

    out = tmp_path / "rough.json"
    assert rough_balance.main(["--draws", "1", "--lf-sizes", "3", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["meta"]["subsets"] == len(res["records"]) > 0
    assert all(not r["crowd"] for r in res["records"])
    methods = {row["method"] for row in res["summary"]}
    assert {"default none", "default exact", "shared exact", "mv+balance exact"} <= methods
    for rec in res["records"]:
        assert sum(rec["gold_balance"]) == pytest.approx(1.0)
        for key, s in rec["scores"].items():
            assert "error" not in s, (rec["set"], key, s)
    assert out.with_suffix(".md").read_text().startswith("# A rough class balance")


def _record(name: str, lfs: list[int], mv: float, default_none: float, default_exact: float) -> dict:
    return {
        "set": name,
        "lfs": lfs,
        "mv": {"acc": mv},
        "scores": {"default none": {"acc": default_none}, "default exact": {"acc": default_exact}},
    }


def test_compare_two_runs_of_the_same_draws(capsys):
    import rough_balance

    base = {"meta": {"command": "base"}, "records": [_record("a", [0, 1, 2], 0.7, 0.70, 0.80)]}
    base["records"].append(_record("b", [1, 2, 3], 0.6, 0.50, 0.65))
    after = {"meta": {"command": "after"}, "records": [_record("a", [0, 1, 2], 0.7, 0.75, 0.80)]}
    after["records"].append(_record("b", [1, 2, 3], 0.6, 0.62, 0.55))
    text = rough_balance.compare(base, after)
    lines = {line.split(" | ")[0].strip("| "): line for line in text.splitlines() if line.startswith("| ")}
    # none: +5 (a) and +12 (b) points, both moved; b was 10 points below MV and is now above it
    assert "| none | +17.0 | 2 | 1 -> 0 of 2 | a +5.0, b +12.0 |" == lines["none"]
    # exact: a unchanged, b 10 points lower and now 5 below MV
    assert "| exact | -10.0 | 1 | 0 -> 1 of 2 | b -10.0 |" == lines["exact"]
    after["records"][1]["lfs"] = [1, 2, 4]
    with pytest.raises(SystemExit, match="different subsets"):
        rough_balance.compare(base, after)


@needs_data
def test_a_study_switch_is_set_and_recorded(tmp_path):
    import rough_balance

    out = tmp_path / "rough.json"
    switch = "tripletws.estimators.kinds:STRICT_RATIO=0.5"
    argv = ["--draws", "1", "--lf-sizes", "3", "--set", switch, "--out", str(out)]
    assert rough_balance.main(argv) == 0
    assert json.loads(out.read_text())["meta"]["settings"] == [switch]
