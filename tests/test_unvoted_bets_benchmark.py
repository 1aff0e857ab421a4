"""The rows without a vote on real-LF subsets, by the classes the LFs name (benchmarks/unvoted_bets.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from bench_paths import needs_data


def _record(
    name: str, lfs: list[int], acc: float, mv: float, unvoted: tuple[int, float, float], n: int
) -> dict:
    rows, u_acc, u_mv = unvoted
    return {
        "set": name,
        "crowd": False,
        "lfs": lfs,
        "mv": {"acc": mv},
        "default": {
            "acc": acc,
            "by_rows": {
                "voted": {"rows": n - rows, "acc": 0.0, "mv_acc": 0.0},
                "unvoted": {"rows": rows, "acc": u_acc, "mv_acc": u_mv},
            },
        },
    }


def test_points_split_and_groups_without_data():
    import unvoted_bets

    L = np.array([[0, -1, 1], [0, 1, -1], [-1, -1, -1]])
    named = unvoted_bets.named_classes(L)
    assert named == [frozenset({0}), frozenset({1}), frozenset({1})]
    rec = _record("toy", [0], 0.70, 0.75, (40, 0.25, 0.5), 100)
    total, unvoted = unvoted_bets.split_points(rec)
    assert total == pytest.approx(-0.05) and unvoted == pytest.approx(40 * (0.25 - 0.5) / 100)
    assert unvoted_bets.group_of(rec, 2, named, rare=1).startswith(
        "k = 2, one class named: toy, class 0 (the commoner)"
    )
    assert unvoted_bets.group_of({**rec, "lfs": [1, 2]}, 2, named, rare=1).endswith("class 1 (the rarer)")
    assert unvoted_bets.group_of({**rec, "lfs": [0, 1]}, 2, named, rare=1) == "k = 2, both named"
    assert unvoted_bets.group_of({**rec, "lfs": [0, 1]}, 3, named, rare=2) == "k > 2, some class unnamed"
    sets = {"toy": {"L_fit": L, "y": np.array([0, 0, 1]), "k": 2}}
    # a duplicate subset counts once; the loss goes away without the bet on the rows without a vote
    groups = unvoted_bets.tally([rec, dict(rec)], sets)
    (g,) = groups.values()
    assert g["subsets"] == 1 and g["below"] == 1 and g["below_without_bet"] == 0
    assert g["points"] == pytest.approx(-5.0) and g["unvoted_points"] == pytest.approx(-10.0)


@needs_data
def test_run_on_a_subsets_record(tmp_path):
    import lf_subsets
    import unvoted_bets

    sub = tmp_path / "subsets.json"
    assert lf_subsets.main(["--draws", "2", "--sets", "cdr_metal", "--out", str(sub)]) == 0
    out = tmp_path / "bets.json"
    assert unvoted_bets.main([str(sub), "--out", str(out), "--about", "a test"]) == 0
    res = json.loads(out.read_text())
    records = json.loads(sub.read_text())["records"]
    assert res["meta"]["subsets"] == len({tuple(r["lfs"]) for r in records})
    assert sum(g["subsets"] for g in res["groups"].values()) == res["meta"]["subsets"]
    summed = sum(100 * (r["default"]["acc"] - r["mv"]["acc"]) for r in records)
    assert sum(g["points"] for g in res["groups"].values()) == pytest.approx(summed, abs=1e-9)
    assert "a test" in out.with_suffix(".md").read_text()


def test_groups_by_the_reading_behind_the_bet():
    import unvoted_bets

    rec = _record("toy", [0, 1], 0.70, 0.75, (40, 0.25, 0.5), 100)
    cover = {"accepted": True, "balance": "uniform"}
    rec["default"]["decisions"] = {"one_class": cover, "abstain": None, "unvoted": [0.3, 0.7]}
    group = unvoted_bets.reading_group(rec, 2)
    assert group == "toy, coverage reading, uniform balance, rows without a vote: class 1"
    rec["default"]["decisions"] = {
        "one_class": {"accepted": False},
        "abstain": {"accepted": True, "balance": "estimated"},
        "unvoted": [0.5, 0.5],
    }
    group = unvoted_bets.reading_group(rec, 2)
    assert group == "toy, abstain reading, estimated balance, rows without a vote: coin"
    rec["default"]["decisions"] = {"one_class": None, "abstain": None, "unvoted": [0.5, 0.5]}
    assert unvoted_bets.reading_group(rec, 2) == "toy, no reading"
    assert unvoted_bets.reading_group(rec, 3) == "k > 2"
    sets = {"toy": {"L_fit": np.array([[0, 1], [1, 0]]), "y": np.array([0, 1]), "k": 2}}
    (g,) = unvoted_bets.tally([rec], sets, by="reading").values()
    assert g["subsets"] == 1 and g["points"] == pytest.approx(-5.0)
