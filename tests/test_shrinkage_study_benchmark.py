"""benchmarks/shrinkage_study.py: two stress runs of one draw compared problem by problem."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import shrinkage_study  # noqa: E402


def _run(path: Path, default: dict[str, float], mv: dict[str, float]) -> str:
    problems = [
        {
            "name": name,
            "results": {"mv": {"acc": mv[name]}, "default": {"acc": acc}, "symmetric": {"acc": 0.5}},
        }
        for name, acc in default.items()
    ]
    path.write_text(json.dumps({"meta": {"base_seed": 7}, "problems": problems}))
    return str(path)


def test_summary_counts_shares_moves_and_families(tmp_path):
    mv = {"ci-00": 0.70, "ci-01": 0.60, "subpop-00": 0.50}
    off = _run(tmp_path / "off.json", {"ci-00": 0.80, "ci-01": 0.58, "subpop-00": 0.40}, mv)
    on = _run(tmp_path / "on.json", {"ci-00": 0.80, "ci-01": 0.60, "subpop-00": 0.52}, mv)
    text = shrinkage_study.summarize([shrinkage_study.compare(off, on)])
    # off: 1 of 3 at or above MV - 0.5 points; on: 3 of 3; mean +0.14 / 3 = +4.67 points
    assert "| 7 | 3 | 0.6000 | 0.5933 / 33.3 % | 0.6400 / 100.0 % | +4.67 | 2 / 0 |" in text
    assert "| subpop | 1 | +12.0 | 1 -> 0 |" in text
    assert "| ci | 2 | +2.0 | 1 -> 0 |" in text
    assert "symmetric 0.5000" in text
    out = tmp_path / "s.md"
    shrinkage_study.main(["--pairs", off, on, "--write", str(out), "--json", str(tmp_path / "s.json")])
    assert out.read_text() == text
    assert json.loads((tmp_path / "s.json").read_text())[0]["problems"][2] == {
        "name": "subpop-00",
        "mv": 0.5,
        "off": 0.4,
        "on": 0.52,
    }


def test_runs_of_different_draws_are_refused(tmp_path):
    off = _run(tmp_path / "off.json", {"ci-00": 0.8}, {"ci-00": 0.7})
    on = _run(tmp_path / "on.json", {"ci-00": 0.8}, {"ci-00": 0.6})
    with pytest.raises(ValueError, match="not the same draw"):
        shrinkage_study.compare(off, on)


def test_another_method_of_the_runs_is_compared_by_name(tmp_path):
    mv = {"ci-00": 0.70, "sparse-00": 0.60}
    off = json.loads(Path(_run(tmp_path / "off.json", {"ci-00": 0.60, "sparse-00": 0.60}, mv)).read_text())
    on = json.loads(Path(_run(tmp_path / "on.json", {"ci-00": 0.75, "sparse-00": 0.60}, mv)).read_text())
    for doc in (off, on):  # the runs' configuration is "class_balance=gold"; "default" is another one
        for p in doc["problems"]:
            p["results"]["class_balance=gold"] = p["results"].pop("default")
            p["results"]["default"] = {"acc": 0.1}
    (tmp_path / "off.json").write_text(json.dumps(off))
    (tmp_path / "on.json").write_text(json.dumps(on))
    draw = shrinkage_study.compare(
        str(tmp_path / "off.json"), str(tmp_path / "on.json"), "class_balance=gold"
    )
    text = shrinkage_study.summarize([draw])
    assert "`class_balance=gold` against the fit unshrunk" in text
    assert "| 7 | 2 | 0.6500 | 0.6000 / 50.0 % | 0.6750 / 100.0 % | +7.50 | 1 / 0 |" in text
    assert "default 0.1000" in text  # the other configurations are reported beside it
