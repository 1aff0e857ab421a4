"""Smoke test of benchmarks/worst_losses.py (the default's parts switched off one at a time)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import worst_losses  # noqa: E402
from stress_problems import all_problems  # noqa: E402


def test_parts_are_switched_off_and_restored():
    import tripletws.models.annotator as mod

    before = mod.abstain_check
    # imbalanced-03: 100 train rows, the abstain reading is accepted (benchmarks/results/worst_losses.md)
    problem = next(p for p in all_problems() if p.name == "imbalanced-03")
    row = worst_losses.run_problem(problem)
    assert mod.abstain_check is before  # the probe's patches are undone
    assert row["record"]["abstain"]["accepted"]
    assert {"no_abstain", "family=mv", "family=one_coin"} <= set(row["ablations"])
    for v in (row["default"], row["mv"], *row["ablations"].values()):
        assert 0.0 <= v <= 1.0
    assert 0.0 <= row["record"]["abstain"]["kept_clear"] <= 1.0
    assert np.isclose(sum(row["fit_prior"]), 1.0, atol=1e-9)  # a distribution, up to rounding
    text = worst_losses.to_markdown({"command": "test", "revision": "x", "date": "d", "problems": [row]})
    assert "| abstain reading | 1 |" in text


def test_each_loss_is_blamed_on_the_part_whose_switch_off_restores_it(tmp_path):
    import json

    def prob(name, family, default, mv, **ablations):
        return {"name": name, "family": family, "default": default, "mv": mv, "ablations": ablations}

    problems = [
        prob("a", "subpop", 0.60, 0.70, **{"family=mv": 0.70, "family=one_coin": 0.50}),
        prob("b", "confusion", 0.40, 0.70, no_abstain=0.75, **{"family=mv": 0.40}),
        prob("c", "mixed", 0.60, 0.70, no_balance=0.62, **{"family=mv": 0.60}),  # nothing restores it
        prob("d", "ci", 0.80, 0.70, **{"family=mv": 0.70}),  # not a loss
    ]
    assert [worst_losses.blame(p) for p in problems[:3]] == ["family", "no_abstain", "none"]
    path = tmp_path / "draw.json"
    path.write_text(json.dumps({"problems": problems}))
    text = worst_losses.attribution([str(path)])
    assert "| draw | 4 | 3 | 1 | 1 | 0 | 0 | 0 | 1 |" in text
    assert text.rstrip().endswith("by stress family: subpop 1")


def test_imbalance_all_runs_the_imbalanced_variant(tmp_path, monkeypatch):
    """``--imbalance-all`` ablates the problems of stress.py's variant (every class imbalanced)."""
    from stress_problems import imbalance_all

    seen = []

    def fake(problem):
        seen.append(problem)
        return {"name": problem.name, "family": problem.family, "default": 0.5, "mv": 0.5, "ablations": {}}

    monkeypatch.setattr(worst_losses, "run_problem", fake)
    monkeypatch.setattr(worst_losses, "to_markdown", lambda res: "")
    out = tmp_path / "wl.json"
    for flag, suite in (([], all_problems()), (["--imbalance-all"], imbalance_all(all_problems()))):
        seen.clear()
        assert worst_losses.main([*flag, "--problems", "ci-00", "--out", str(out)]) == 0
        want = next(p for p in suite if p.name == "ci-00")
        assert [p.params for p in seen] == [want.params]
    assert seen[0].params.get("imbalance") is not None  # the variant's ratio, drawn by imbalance_all
