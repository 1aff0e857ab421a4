"""The stress suite's variant with every problem's classes imbalanced (stress.py --imbalance-all)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import stress  # noqa: E402
from stress_problems import IMBALANCE_ALL_RATIO, all_problems, build_world, draw, imbalance_all  # noqa: E402


def test_every_problem_gets_a_ratio_and_nothing_else_changes():
    problems = all_problems(20590101)
    variant = imbalance_all(problems)
    assert [p.name for p in variant] == [p.name for p in problems]
    lo, hi = IMBALANCE_ALL_RATIO
    drawn = 0
    for before, after in zip(problems, variant, strict=True):
        assert after.seed == before.seed and after.family == before.family
        if "imbalance" in before.params:
            assert after is before  # a family's own ratio is kept
            continue
        drawn += 1
        ratio = after.params["imbalance"]
        assert lo <= ratio <= hi
        assert {key: v for key, v in after.params.items() if key != "imbalance"} == before.params
    assert drawn > 200  # most of the suite's problems have balanced classes
    again = imbalance_all(problems)
    assert [p.params for p in again] == [p.params for p in variant]  # seeded, not random


def test_the_world_keeps_its_lfs_and_changes_its_balance():
    problems = {p.name: p for p in all_problems(20590101)}
    variant = {p.name: p for p in imbalance_all(list(problems.values()))}
    name = "ci-03"  # k = 2, multi-class LFs: the balance is the only difference
    assert problems[name].params["k"] == 2
    flat, tilted = build_world(problems[name]), build_world(variant[name])
    np.testing.assert_allclose(flat.class_balance, [0.5, 0.5])
    ratio = variant[name].params["imbalance"]
    np.testing.assert_allclose(tilted.class_balance, [ratio / (1 + ratio), 1 / (1 + ratio)], rtol=1e-12)
    assert tilted.tables.shape == flat.tables.shape
    _, y, _, _ = draw(variant[name], max_n=4000)
    share = float(np.mean(y == 0))
    expected = ratio / (1 + ratio)
    # binomial: within 5 standard errors of the drawn rows' share
    assert abs(share - expected) < 5 * np.sqrt(expected * (1 - expected) / len(y))


def test_cli_flag_runs_and_says_so(tmp_path):
    out = tmp_path / "imb.json"
    code = stress.main(
        ["--problems", "ci-03", "unipolar-01", "--max-n", "300", "--imbalance-all", "--out", str(out)]
    )
    assert code in (0, None)
    import json

    res = json.loads(out.read_text())
    assert res["meta"]["imbalance_all"] is True
    assert "imbalanced" in res["meta"]["suite"]
    assert {p["name"] for p in res["problems"]} == {"ci-03", "unipolar-01"}
    for p in res["problems"]:
        assert "imbalance" in p["params"] if isinstance(p["params"], dict) else True


def test_the_variant_never_writes_over_the_balanced_suite(tmp_path, monkeypatch):
    monkeypatch.setattr(stress, "RESULTS", tmp_path)
    code = stress.main(["--problems", "ci-03", "--max-n", "200", "--imbalance-all"])  # the usual seed
    assert code in (0, None)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == [
        f"stress_seed{stress.BASE_SEED}_imbalanced.json",
        f"stress_seed{stress.BASE_SEED}_imbalanced.md",
    ]
