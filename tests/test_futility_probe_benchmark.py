"""Smoke test of benchmarks/futility_probe.py's summary: stops and wrong stops per bar, per test."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import futility_probe  # noqa: E402


def test_stops_and_wrong_stops_per_bar() -> None:
    records = [
        # test (a): the first fold's best reading, lead / SE; a stop where it is below -bar
        {"test": "a", "first": -8.0, "passes": False},  # stops at 3, 4, 5, 7
        {"test": "a", "first": -3.5, "passes": False},  # stops at 3
        {"test": "a", "first": -4.5, "passes": True},  # a pass that 3 and 4 would stop: wrong stops
        {"test": "a", "first": 2.0, "passes": True},
        # background tests: the first fold's z; a stop where it is above the bar
        {"test": "b", "first": 12.0, "all": 20.0, "passes": False},
        {"test": "b", "first": 1.0, "all": 0.5, "passes": True},
        {"test": "coverage", "first": 6.0, "all": 9.0, "passes": False},
    ]
    rows = {r["test"]: r for r in futility_probe.summarize(records, (3.0, 4.0, 5.0, 7.0))}
    a = rows["a"]
    assert (a["checks"], a["passes"], a["max_toward_stop_of_a_pass"]) == (4, 2, 4.5)
    assert a["bars"] == {
        "3": {"stops": 3, "wrong": 1},
        "4": {"stops": 2, "wrong": 1},
        "5": {"stops": 1, "wrong": 0},
        "7": {"stops": 1, "wrong": 0},
    }
    assert rows["b"]["bars"]["5"] == {"stops": 1, "wrong": 0}
    assert rows["b"]["max_toward_stop_of_a_pass"] == 1.0
    assert rows["coverage"]["bars"]["7"] == {"stops": 0, "wrong": 0}
    assert rows["coverage"]["max_toward_stop_of_a_pass"] is None  # no coverage check passes
    text = futility_probe.to_markdown(list(rows.values()), [1, 2])
    assert "| abstain check, test (a) | 4 | 2 | 4.50 | 3 / 1 | 2 / 1 | 1 / 0 | 1 / 0 |" in text
