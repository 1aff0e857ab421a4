"""Smoke test of benchmarks/unvoted_study.py (the abstain reading scored on rows with and without votes)."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import unvoted_study  # noqa: E402
from stress_problems import all_problems  # noqa: E402


def test_split_adds_up_and_bound_holds():
    import tripletws.models.annotator as mod

    before = mod.abstain_check
    # imbalanced-03: 100 train rows, the abstain reading is accepted and acts on unvoted rows
    # (benchmarks/results/unvoted.md)
    problem = next(p for p in all_problems() if p.name == "imbalanced-03")
    row = unvoted_study.run_problem(problem)
    assert mod.abstain_check is before  # the probe's patches are undone
    assert row["accepted"]
    # the two row sets' summed correctness over n is the accuracy: n terms in [0, 1], each sum
    # exact to n * 2**-52 relative, so 1e-9 is loose for any n in the suite
    assert abs(row["read_voted"] + row["read_unvoted"] - row["default"]) < 1e-9
    assert abs(row["vote_only_voted"] + row["vote_only_unvoted"] - row["no_abstain"]) < 1e-9
    # no prediction on the unvoted rows beats the best single class there (same input on each)
    assert row["best_unvoted"] >= max(row["read_unvoted"], row["vote_only_unvoted"]) - 1e-9
    assert 0.0 <= row["u_test"] <= 1.0
    res = {"command": "test", "revision": "x", "date": "d", "problems": [row]}
    res["analysis"] = unvoted_study.analyse(res["problems"])
    assert res["analysis"]["accepted"] == 1
    text = unvoted_study.to_markdown(res)
    assert "| prior (vote-only fit on unvoted rows) |" in text
