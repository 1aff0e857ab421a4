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
