"""benchmarks/tail_report.py: where the real-LF subsets' tail is, read from lf_subsets.py's records."""

from __future__ import annotations

import json

import bench_paths  # noqa: F401  (puts benchmarks/ on the path)
import pytest
import tail_report


def _rec(name, acc, mv, voted, unvoted, family="mace", crowd=False, post=None, balance=None):
    """A record: ``voted`` and ``unvoted`` are (rows, acc, mv_acc) of the evaluation rows."""
    decisions = {"unvoted": post or [0.5, 0.5]}
    if balance is not None:
        decisions["one_class" if family.endswith("_coverage") else "abstain"] = {"balance": balance}
    by_rows = {
        p: {"rows": r, "acc": a, "mv_acc": m} for p, (r, a, m) in (("voted", voted), ("unvoted", unvoted))
    }
    return {
        "set": name,
        "crowd": crowd,
        "mv": {"acc": mv},
        "default": {"acc": acc, "family": family, "by_rows": by_rows, "decisions": decisions},
    }


RECORDS = [
    # 100 rows: 60 voted (equal to MV), 40 without a vote sent to the wrong class (0 against MV's 0.5):
    # 20 points below MV, all on the rows without a vote
    _rec(
        "a", 0.60, 0.80, (60, 1.0, 1.0), (40, 0.0, 0.5), "mace_coverage", post=[0.1, 0.9], balance="estimated"
    ),
    # the same bet won: +20
    _rec(
        "a", 1.00, 0.80, (60, 1.0, 1.0), (40, 1.0, 0.5), "mace_coverage", post=[0.9, 0.1], balance="estimated"
    ),
    # a vote-only fit 3 points below MV on its voted rows, its rows without a vote tied (a coin, as MV)
    _rec("b", 0.67, 0.70, (50, 0.64, 0.70), (50, 0.5, 0.5)),
    # a crowd subset: not an LF subset, but its bet counts in the bet's tables
    _rec("c", 0.90, 0.85, (90, 0.95, 0.90), (10, 0.5, 0.5), crowd=True),
]


def test_the_tail_its_parts_and_the_readings():
    rep = tail_report.report(RECORDS)
    assert rep["lf_subsets"] == 3 and rep["tail"] == 2
    assert rep["tail_by_set"] == {"a": 1, "b": 1}
    # -20 on a's rows without a vote; -3 on b's voted rows (0.06 x 50 / 100)
    assert rep["tail_points"]["unvoted"] == pytest.approx(-20.0)
    assert rep["tail_points"]["voted"] == pytest.approx(-3.0)
    cov = rep["by_reading"]["coverage reading (estimated balance)"]
    assert cov[0] == 2 and cov[1] == pytest.approx(0.0) and cov[2] == 1
    assert rep["by_reading"]["vote-only family"][2] == 1


def test_the_bet_by_set_and_by_margin():
    rep = tail_report.report(RECORDS)
    assert rep["bet_by_set"]["all"][:2] == [4, pytest.approx(0.0)]
    assert rep["bet_by_set"]["a"][2:] == [1, 1]  # one subset down by over 2 points, one up
    assert next(iter(rep["bet_by_set"])) == "all"
    assert rep["bet_by_margin"]["<= 1e-09"][0] == 2  # b's and c's ties
    assert rep["bet_by_margin"]["<= 1"][:2] == [2, pytest.approx(0.0)]


def test_the_script_writes_its_report_and_refuses_other_files(tmp_path):
    src = tmp_path / "sub.json"
    src.write_text(json.dumps({"records": RECORDS}))
    out = tmp_path / "tail.json"
    assert tail_report.main([str(src), "--out", str(out)]) == 0
    text = out.with_suffix(".md").read_text()
    assert "**2 of 3** (a 1, b 1)" in text and "-20.0 on the rows without a vote" in text
    assert json.loads(out.read_text())["tail"] == 2
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"records": [{"no": "set"}]}))
    with pytest.raises(ValueError, match=r"not an lf_subsets\.py results file"):
        tail_report.main([str(bad)])
