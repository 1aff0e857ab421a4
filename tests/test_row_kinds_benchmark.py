"""benchmarks/row_kinds.py and scoring.split_by_kind: a run's points against majority vote by kind of row."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import row_kinds  # noqa: E402
from scoring import ROW_KINDS, mv_scores, split_by_kind, tie_scores  # noqa: E402
from scoring import row_kinds as kinds_of  # noqa: E402


def test_the_kinds_partition_the_rows_as_majority_vote_reads_them():
    L = np.array([[-1, -1, -1], [0, 1, -1], [0, 0, 1], [2, -1, -1], [0, 1, 2], [1, 1, -1]])
    masks = kinds_of(mv_scores(L, 3))
    assert list(masks) == list(ROW_KINDS)
    assert masks["unvoted"].tolist() == [True, False, False, False, False, False]
    assert masks["tied"].tolist() == [False, True, False, False, True, False]
    assert masks["clear"].tolist() == [False, False, True, True, False, True]
    assert (sum(m.astype(int) for m in masks.values()) == 1).all()


def test_the_kinds_accuracies_add_up_to_the_whole():
    rng = np.random.default_rng(0)
    n, m, k = 400, 4, 3
    L = np.where(rng.random((n, m)) < 0.4, rng.integers(0, k, (n, m)), -1)
    y = rng.integers(0, k, n)
    P = rng.dirichlet(np.ones(k), n)
    P[:5] = 1.0 / k  # some rows tie every class under the method too
    by = split_by_kind(P, mv_scores(L, k), y)
    assert sum(part["rows"] for part in by.values()) == n
    for key, whole in (("acc", tie_scores(P, y, k)[0]), ("mv_acc", tie_scores(mv_scores(L, k), y, k)[0])):
        total = sum(part[key] * part["rows"] for part in by.values() if part["rows"])
        assert total / n == pytest.approx(whole, abs=1e-12)
    # majority vote is a coin over every class on the rows without a vote
    assert by["unvoted"]["mv_acc"] == pytest.approx(1.0 / k, abs=1e-12)


def test_a_kind_without_rows_has_no_accuracy():
    L = np.array([[0, 0, -1], [1, 1, 1]])
    by = split_by_kind(np.eye(2)[[0, 1]], mv_scores(L, 2), np.array([0, 1]))
    assert by["unvoted"] == {"rows": 0, "acc": None, "mv_acc": None}
    assert by["tied"]["rows"] == 0 and by["clear"]["rows"] == 2


def _problem(name, k, parts):
    """A stress record whose kinds give ``parts`` (kind -> (rows, acc, mv_acc))."""
    n = sum(p[0] for p in parts.values())
    acc = sum(p[0] * p[1] for p in parts.values()) / n
    mv = sum(p[0] * p[2] for p in parts.values()) / n
    by = {
        kind: {"rows": r, "acc": a if r else None, "mv_acc": b if r else None}
        for kind, (r, a, b) in parts.items()
    }
    return {"name": name, "k": k, "results": {"mv": {"acc": mv}, "default": {"acc": acc, "by_kind": by}}}


def _run():
    return {
        "problems": [
            # loses 2 points, all on tied rows
            _problem("a", 3, {"unvoted": (0, 0, 0), "tied": (20, 0.4, 0.5), "clear": (80, 0.9, 0.9)}),
            # gains 10 on rows without a vote, loses 1 on tied rows
            _problem("b", 2, {"unvoted": (20, 1.0, 0.5), "tied": (10, 0.4, 0.5), "clear": (70, 0.8, 0.8)}),
            # loses 3 on clear rows and 1 on rows without a vote
            _problem(
                "c", 2, {"unvoted": (10, 0.4, 0.5), "tied": (0, 0, 0), "clear": (90, 0.7, 0.7333333333333333)}
            ),
            {"name": "d", "k": 2, "results": {"mv": {"acc": 0.5}, "default": {"error": "boom"}}},
        ]
    }


def test_points_split_by_kind_and_the_what_if():
    kind, bar, recs = row_kinds.records(_run(), "default")
    assert kind == "stress" and bar == row_kinds.STRESS_BELOW and [r["name"] for r in recs] == ["a", "b", "c"]
    pts = [row_kinds.points(r) for r in recs]
    assert pts[0] == pytest.approx({"unvoted": 0.0, "tied": -2.0, "clear": 0.0})
    assert pts[1] == pytest.approx({"unvoted": 10.0, "tied": -1.0, "clear": 0.0})
    assert pts[2] == pytest.approx({"unvoted": -1.0, "tied": 0.0, "clear": -3.0})
    s = row_kinds.summary(recs, bar)
    assert s["problems"] == 3 and s["losses"] == 2 and s["within"] == 1
    assert s["points"] == pytest.approx(3.0)
    tied, unvoted, clear = (s["kinds"][kd] for kd in ("tied", "unvoted", "clear"))
    assert (
        tied["gains"] == 0.0
        and tied["losses"] == pytest.approx(-3.0)
        and tied["in_losses"] == pytest.approx(-2.0)
    )
    assert tied["carries_alone"] == 1  # a comes back; c's loss is not on tied rows
    assert tied["whatif_within"] == 2 and tied["whatif_points"] == pytest.approx(6.0)
    # majority vote on the rows without a vote: b loses its gain (9 below), c keeps 3 below
    assert unvoted["whatif_within"] == 0 and unvoted["whatif_points"] == pytest.approx(-6.0)
    assert unvoted["carries_alone"] == 0 and clear["carries_alone"] == 0


def test_lf_subsets_runs_use_the_issue_bar(tmp_path):
    rec = _problem("x", 2, {"unvoted": (50, 0.48, 0.5), "tied": (0, 0, 0), "clear": (50, 0.9, 0.9)})
    subsets = {
        "records": [
            {
                "set": "s",
                "size": 3,
                "draw": 0,
                "mv": rec["results"]["mv"],
                "default": rec["results"]["default"],
            }
        ]
    }
    kind, bar, recs = row_kinds.records(subsets, "default")
    assert kind == "subsets" and bar == 0.02 and recs[0]["k"] is None
    assert row_kinds.summary(recs, bar)["losses"] == 0  # 1 point below: within the issue's 2 points
    path = tmp_path / "subsets.json"
    path.write_text(json.dumps(subsets))
    out = tmp_path / "kinds.md"
    assert row_kinds.main([str(path), "--below", "0.5", "--out", str(out)]) == 0
    res = json.loads(out.with_suffix(".json").read_text())
    assert res["runs"][0]["bar_points"] == 0.5 and res["runs"][0]["groups"]["all"]["losses"] == 1
    assert "two classes" not in res["runs"][0]["groups"]
    assert "| all | 1 |" in out.read_text()


def test_the_cli_reports_each_group(tmp_path):
    path = tmp_path / "stress.json"
    path.write_text(json.dumps(_run()))
    out = tmp_path / "kinds.md"
    assert row_kinds.main([str(path), "--out", str(out)]) == 0
    text = out.read_text()
    assert "3 problems, 1 without `by_kind`" in text
    assert "| two classes | 2 |" in text and "| more classes | 1 |" in text
    with pytest.raises(ValueError, match=r"not a stress\.py or lf_subsets\.py"):
        row_kinds.records({"rows": []}, "default")


def test_a_change_between_two_fits_splits_by_kind():
    before = {
        "unvoted": {"rows": 10, "acc": 0.5},
        "tied": {"rows": 0, "acc": None},
        "clear": {"rows": 30, "acc": 0.9},
    }
    after = {
        "unvoted": {"rows": 10, "acc": 1.0},
        "tied": {"rows": 0, "acc": None},
        "clear": {"rows": 30, "acc": 0.8},
    }
    assert row_kinds.change_by_kind(before, after) == pytest.approx(
        {"unvoted": 12.5, "tied": 0.0, "clear": -7.5}
    )
    with pytest.raises(ValueError, match="different clear rows"):
        row_kinds.change_by_kind(before, {**after, "clear": {"rows": 31, "acc": 0.8}})
