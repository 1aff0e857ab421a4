"""benchmarks/switch_check.py: a study switch against the default, paired problem by problem."""

from __future__ import annotations

import bench_paths  # noqa: F401  (puts benchmarks/ on the path)
import pytest
import switch_check


def _sub(name, size, draw, acc, mv, crowd=False):
    return {
        "set": name,
        "size": size,
        "draw": draw,
        "crowd": crowd,
        "mv": {"acc": mv},
        "default": {"acc": acc},
    }


def test_subsets_are_paired_by_set_size_and_draw():
    base = [
        _sub("a", 3, 0, 0.70, 0.75),
        _sub("a", 3, 1, 0.80, 0.80),
        _sub("c", 10, 0, 0.60, 0.70, crowd=True),
    ]
    switch = [
        _sub("c", 10, 0, 0.60, 0.70, crowd=True),
        _sub("a", 3, 1, 0.81, 0.80),
        _sub("a", 3, 0, 0.76, 0.75),
    ]
    out = switch_check.compare_subsets(base, switch)
    assert out["subsets"] == 3 and out["moved"] == 2
    assert out["points"] == pytest.approx(6.0 + 1.0)
    assert out["lf_subsets"] == 2 and out["far_below"] == [1, 0]  # the crowd subset is not counted
    assert out["by_set"] == pytest.approx({"a": 7.0})
    with pytest.raises(ValueError, match="different subsets"):
        switch_check.compare_subsets(base, switch[:2])


def _prob(name, acc, mv):
    return {"name": name, "results": {"mv": {"acc": mv}, "default": {"acc": acc}}}


def test_stress_problems_are_paired_by_name_and_a_crash_counts_as_a_loss():
    base = [_prob("p1", 0.80, 0.70), _prob("p2", 0.70, 0.70), _prob("p3", 0.60, 0.61)]
    switch = [_prob("p3", 0.60, 0.61), _prob("p2", None, 0.70), _prob("p1", 0.75, 0.70)]
    out = switch_check.compare_stress(base, switch)
    assert out["problems"] == 3 and out["at_or_above"] == [2, 1]  # p3 is 1 point below before and after
    assert out["points"] == pytest.approx(-5.0 - 70.0)
    assert [m[0] for m in out["moves"]] == ["p2", "p1"]  # the largest loss first
    text = switch_check.to_markdown(["m:X=1"], {"stress": {"d": out}, "subsets": {}})
    assert "| d | 2 | -75.0 | 2 -> 1 of 3 |" in text and "summed over the runs: -75.0" in text


def test_settings_are_restored_after_the_block():
    import tripletws.models.annotator as annotator

    before = annotator.SPECIFICITY_CLASSES
    with switch_check.settings(["tripletws.models.annotator:SPECIFICITY_CLASSES=more"]):
        assert annotator.SPECIFICITY_CLASSES == "more"
    assert annotator.SPECIFICITY_CLASSES == before


def test_keyword_draws_run_the_opt_in_family_and_are_reported_apart(tmp_path, monkeypatch):
    import json

    seen = []

    def fake_run(argv):
        seen.append(argv)
        out = argv[argv.index("--out") + 1]
        acc = 0.6 if "stress_probe.py" in argv[0] else 0.7
        problems = [_prob("keyword-00", acc, 0.65)]
        with open(out, "w") as fh:
            json.dump({"problems": problems}, fh)

    monkeypatch.setattr(switch_check, "_run", fake_run)
    out = switch_check.run_stress(["m:X=1"], 5, False, 1, tmp_path, ("keyword",))
    assert all(argv[-2:] == ["--families", "keyword"] for argv in seen) and len(seen) == 2
    assert out["points"] == pytest.approx(-10.0) and out["at_or_above"] == [1, 0]
    text = switch_check.to_markdown(["m:X=1"], {"stress": {}, "subsets": {}, "keyword": {"5": out}})
    assert "| `keyword` draw (opt-in family) |" in text and "`keyword`, summed over the runs: -10.0" in text
    assert "Stress, summed" not in text


def _res(
    judge=(0.79, 0.79), tail=(10, 9), subset_points=-5.0, shares=((290, 290), (270, 271)), stress=(-10.0, 5.0)
):
    shared = [{"set": "s", "mv": [0.7], "default": [judge[0]], "switch": [judge[1]]}]
    subsets = {"seed 1": {"far_below": list(tail), "lf_subsets": 450, "points": subset_points}}
    runs = {
        f"d{i}": {"at_or_above": list(sh), "problems": 312, "points": pts, "moves": []}
        for i, (sh, pts) in enumerate(zip(shares, stress, strict=True))
    }
    return {"shared": shared, "subsets": subsets, "stress": runs}


BAR = {
    "judge_drop": 0.001,
    "tail": "lower",
    "subsets_points": -100.0,
    "shares": "each_not_fewer",
    "stress_points": -40.0,
}


def test_a_bar_is_judged_criterion_by_criterion():
    rows = switch_check.judge_bar(BAR, _res())
    assert [name for name, _, _ in rows] == [
        "judge",
        "tail, seed 1",
        "summed points, seed 1",
        "share, d0",
        "share, d1",
        "stress summed points",
    ]
    assert all(held for _, held, _ in rows)
    assert "Verdict: **passed**." in "\n".join(switch_check.bar_markdown(BAR, _res()))
    # each criterion can miss on its own
    for res, missed in (
        (_res(judge=(0.79, 0.7885)), "judge"),
        (_res(tail=(10, 10)), "tail, seed 1"),
        (_res(subset_points=-100.5), "summed points, seed 1"),
        (_res(shares=((290, 289), (270, 280))), "share, d0"),
        (_res(stress=(-30.0, -10.5)), "stress summed points"),
    ):
        rows = switch_check.judge_bar(BAR, res)
        assert [name for name, held, _ in rows if not held] == [missed]
        assert "Verdict: **missed**." in "\n".join(switch_check.bar_markdown(BAR, res))
    # the rules' other settings
    loose = {"tail": "not_higher", "shares": "each_not_fewer_total_more"}
    rows = dict((name, held) for name, held, _ in switch_check.judge_bar(loose, _res(tail=(10, 10))))
    assert rows["tail, seed 1"] and rows["share, all runs"]
    rows = dict(
        (name, held) for name, held, _ in switch_check.judge_bar(loose, _res(shares=((290, 290), (270, 270))))
    )
    assert not rows["share, all runs"]


def test_the_bar_is_on_record_before_any_run(tmp_path, monkeypatch):
    out = tmp_path / "check.md"
    seen = []

    def fake_shared(specs):
        seen.append(out.read_text())  # what the file holds when the first run starts
        return [{"set": "s", "mv": [0.7], "default": [0.79], "switch": [0.79]}]

    monkeypatch.setattr(switch_check, "shared_rows", fake_shared)
    argv = ["m:X=1", "--bar-judge-drop", "0.001", "--bar-stress-points", "-40", "--out", str(out)]
    assert switch_check.main(argv) == 0
    assert "the bar, written with the command before any run" in seen[0] and "(running)" in seen[0]
    assert "summed points >= -40" in seen[0] and "--bar-judge-drop 0.001" in seen[0]
    final = out.read_text()
    assert "| judge | 0.7900 -> 0.7900 | yes |" in final and "Verdict: **passed**." in final
    import json

    assert json.loads(out.with_suffix(".json").read_text())["verdict"] == [
        ["judge", True, "0.7900 -> 0.7900"]
    ]


def test_keep_leaves_each_run_file_in_the_folder(tmp_path, monkeypatch):
    import json

    def fake_run(argv):
        out = argv[argv.index("--out") + 1]
        acc = 0.6 if "stress_probe.py" in argv[0] else 0.7
        with open(out, "w") as fh:
            json.dump({"problems": [_prob("ci-00", acc, 0.65)]}, fh)

    monkeypatch.setattr(switch_check, "_run", fake_run)
    keep = tmp_path / "runs"
    argv = [
        "m:X=1",
        "--no-shared",
        "--stress-seeds",
        "7",
        "--keep",
        str(keep),
        "--out",
        str(tmp_path / "c.md"),
    ]
    assert switch_check.main(argv) == 0
    names = sorted(p.name for p in keep.iterdir())
    assert names == ["stress_7_False__base.json", "stress_7_False__switch.json"]
    kept = json.loads((keep / "stress_7_False__switch.json").read_text())["problems"]
    assert kept[0]["name"] == "ci-00"


def test_stress_moves_are_grouped_by_the_default_family_before_and_after():
    def prob(name, acc, mv, family):
        return {"name": name, "results": {"mv": {"acc": mv}, "default": {"acc": acc, "family": family}}}

    base = [
        prob("p1", 0.90, 0.70, "mace_coverage"),
        prob("p2", 0.70, 0.70, "mace"),
        prob("p3", 0.8, 0.7, "mv"),
    ]
    switch = [prob("p1", 0.70, 0.70, "mace"), prob("p2", 0.72, 0.70, "mace"), prob("p3", 0.8, 0.7, "mv")]
    out = switch_check.compare_stress(base, switch)
    assert out["readings"] == {
        "mace_coverage -> mace": [1, pytest.approx(-20.0)],
        "mace -> mace": [1, pytest.approx(2.0)],
    }
    text = switch_check.to_markdown(["m:X=1"], {"stress": {"d": out}, "subsets": {}})
    assert "- d: moved readings: mace_coverage -> mace 1 (-20.0), mace -> mace 1 (+2.0)" in text
    # records without a family (before session 63) give no line
    for p in base + switch:
        del p["results"]["default"]["family"]
    assert "moved readings" not in switch_check.to_markdown(
        ["m:X=1"], {"stress": {"d": switch_check.compare_stress(base, switch)}, "subsets": {}}
    )


def test_stress_moves_are_split_by_kind_of_row_where_the_records_have_it():
    def by(unvoted, tied, clear):  # 20 rows without a vote, 10 tied, 70 clear
        return {
            "unvoted": {"rows": 20, "acc": unvoted, "mv_acc": 0.5},
            "tied": {"rows": 10, "acc": tied, "mv_acc": 0.5},
            "clear": {"rows": 70, "acc": clear, "mv_acc": 0.8},
        }

    def prob(name, kinds, family="mace"):
        acc = (20 * kinds["unvoted"]["acc"] + 10 * kinds["tied"]["acc"] + 70 * kinds["clear"]["acc"]) / 100
        default = {"acc": acc, "family": family, "by_kind": kinds}
        return {"name": name, "results": {"mv": {"acc": 0.71}, "default": default}}

    base = [prob("p1", by(1.0, 0.5, 0.8)), prob("p2", by(0.5, 0.5, 0.8))]
    switch = [prob("p1", by(0.0, 0.5, 0.8)), prob("p2", by(0.5, 0.7, 0.9))]
    out = switch_check.compare_stress(base, switch)
    # p1 loses its 20 rows without a vote (-20 points); p2 gains 2 on tied rows and 7 on clear ones
    assert out["kinds"] == pytest.approx({"unvoted": -20.0, "tied": 2.0, "clear": 7.0})
    assert out["points"] == pytest.approx(-11.0)
    text = switch_check.to_markdown(["m:X=1"], {"stress": {"d": out}, "subsets": {}})
    assert (
        "- d: rows without a vote -20.0, tied +2.0, clear +7.0; moved readings: mace -> mace 2 (-11.0)"
        in text
    )
    # one moved record without the split (a run before session 64): no split for the run
    del switch[1]["results"]["default"]["by_kind"]
    assert switch_check.compare_stress(base, switch)["kinds"] is None
