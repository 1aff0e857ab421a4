"""benchmarks/subsets_diff.py: two lf_subsets.py runs compared subset by subset (by rows, by reading)."""

from __future__ import annotations

import json

import bench_paths  # noqa: F401  (puts benchmarks/ on the path)
import pytest
import subsets_diff
import switch_check


def _rec(name, size, draw, acc, mv, family="mace", voted=None, crowd=False):
    """A record; ``voted`` = (rows with a vote, their accuracy, rows without, their accuracy)."""
    out = {"acc": acc, "family": family}
    if voted is not None:
        rv, av, ru, au = voted
        out["by_rows"] = {
            "voted": {"rows": rv, "acc": av, "mv_acc": None},
            "unvoted": {"rows": ru, "acc": au, "mv_acc": None},
        }
    return {"set": name, "size": size, "draw": draw, "crowd": crowd, "mv": {"acc": mv}, "default": out}


def _pair():
    # subset a/3/0: 60 rows with a vote (0.80 -> 0.80), 40 without (0.50 -> 0.25): 0.68 -> 0.58
    base = [
        _rec("a", 3, 0, 0.68, 0.65, "mace", (60, 0.80, 40, 0.50)),
        _rec("a", 3, 1, 0.70, 0.70, "mace", (100, 0.70, 0, None)),
        _rec("c", 10, 0, 0.60, 0.70, "ds", (90, 0.60, 10, 0.60), crowd=True),
    ]
    other = [
        _rec("c", 10, 0, 0.60, 0.70, "ds", (90, 0.60, 10, 0.60), crowd=True),
        _rec("a", 3, 1, 0.75, 0.70, "mace_coverage", (100, 0.75, 0, None)),
        _rec("a", 3, 0, 0.58, 0.65, "mace_coverage", (60, 0.80, 40, 0.25)),
    ]
    return base, other


def test_the_change_splits_into_the_rows_with_a_vote_and_without():
    res = subsets_diff.diff(*_pair())
    total = res["total"]
    assert total["subsets"] == 3 and total["moved"] == 2
    assert total["points"] == pytest.approx(-10.0 + 5.0)
    # a/3/0: the 40 % of rows without a vote lose 25 points each: -10 there, 0 on the voted rows;
    # a/3/1 has no row without a vote: its +5 is all on the voted rows
    assert total["voted"] == pytest.approx(5.0) and total["unvoted"] == pytest.approx(-10.0)
    assert total["voted"] + total["unvoted"] == pytest.approx(total["points"])
    # a/3/0 ends 7 points below MV; the crowd subset is not counted
    assert res["far_below"]["all"] == [0, 1, 2]
    assert res["by_set"]["c"]["moved"] == 0 and res["by_set"]["a"]["points"] == pytest.approx(-5.0)
    assert res["readings"]["mace -> mace_coverage"]["moved"] == 2
    assert [m[0] for m in res["moves"]] == ["a/3/0", "a/3/1"]  # the largest loss first
    assert res["moves"][0] == ("a/3/0", -10.0, 3.0)


def test_records_without_the_split_are_counted_but_not_split():
    base, other = _pair()
    del other[1]["default"]["by_rows"]
    res = subsets_diff.diff(base, other)
    assert res["total"]["split"] is False and res["total"]["points"] == pytest.approx(-5.0)
    assert "| **all** | 3 | 2 | -5.0 | - | - | 0 -> 1 of 2 |" in subsets_diff.to_markdown(res)


def test_errors_are_left_out_and_other_subsets_refused():
    base, other = _pair()
    other[2]["default"] = {"error": "ValueError: boom"}
    res = subsets_diff.diff(base, other)
    assert res["errors"] == 1 and res["total"]["subsets"] == 2
    with pytest.raises(ValueError, match="different subsets"):
        subsets_diff.diff(base, other[:2])


def test_the_script_compares_two_results_files(tmp_path, capsys):
    base, other = _pair()
    paths = []
    for name, records in (("base", base), ("other", other)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"meta": {}, "records": records}))
        paths.append(str(path))
    out = tmp_path / "diff.md"
    assert subsets_diff.main([*paths, "--out", str(out)]) == 0
    text = out.read_text()
    assert "| mace -> mace_coverage | 2 | -5.0 | +5.0 | -10.0 |" in text
    assert json.loads(out.with_suffix(".json").read_text())["total"]["moved"] == 2
    assert text in capsys.readouterr().out
    (tmp_path / "bad.json").write_text(json.dumps({"records": [{"set": "a"}]}))
    with pytest.raises(SystemExit, match="record 0 lacks"):
        subsets_diff.main([paths[0], str(tmp_path / "bad.json")])


def test_switch_check_reports_where_the_points_fall():
    c = switch_check.compare_subsets(*_pair())
    assert c["rows"] == pytest.approx([5.0, -10.0])
    assert c["readings"]["mace -> mace_coverage"] == [2, pytest.approx(-5.0)]
    text = switch_check.to_markdown(["m:X=1"], {"subsets": {"seed 1": c}, "stress": {}})
    line = "- seed 1: rows with a vote +5.0, without -10.0; moved readings: mace -> mace_coverage 2 (-5.0)"
    assert line in text
