"""Smoke test of benchmarks/speed.py on a tiny grid (keeps the script from rotting)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_speed(tmp_path: Path, *args: str, timeout: int = 120) -> None:
    """benchmarks/speed.py on one tiny cell (3000 rows x 4 LFs, one run), results and scratch in tmp_path."""
    cmd = [
        sys.executable,
        str(REPO / "benchmarks" / "speed.py"),
        *("--sizes", "3000", "--lfs", "4", "--repeats", "1", "--no-extra", *args),
        *("--out", str(tmp_path), "--scratch", str(tmp_path / "data")),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    assert res.returncode == 0, res.stderr[-2000:]


def test_speed_benchmark_tiny_grid(tmp_path):
    run_speed(tmp_path, "--memmap-from", "3000")
    result = json.loads((tmp_path / "speed.json").read_text())
    (row,) = result["rows"]
    assert (row["n"], row["m"], row["input"]) == (3000, 4, "int8 memmap")
    assert row["fit_s"] > 0 and row["predict_s"] > 0 and row["roofline_s"] > 0 and row["peak_rss_mb"] > 0
    assert abs(row["runs"][0]["check"] - 0.5) < 0.1  # mean P(Y=1) of a balanced synthetic set
    md = (tmp_path / "speed.md").read_text()
    assert "| 3e+03 | 4 | auto | int8 memmap |" in md and "fit / roofline" in md
    assert not list((tmp_path / "data").glob("*.npy")), "memmap scratch files are removed without --keep-data"


def test_speed_benchmark_contention_and_jobs(tmp_path):
    """--contention adds a busy measurement next to the idle one; --jobs measures each setting."""
    run_speed(tmp_path, "--jobs", "1", "auto", "--contention", timeout=180)
    rows = json.loads((tmp_path / "speed.json").read_text())["rows"]
    assert [r["jobs"] for r in rows] == [1, "auto"]
    for row in rows:
        busy = row["busy"]
        assert busy["fit_s"] > 0 and busy["predict_s"] > 0 and busy["roofline_s"] > 0
        assert abs(busy["runs"][0]["check"] - row["runs"][0]["check"]) < 1e-12  # same model, same data
    md = (tmp_path / "speed.md").read_text()
    assert "Idle vs one core busy" in md and "| grid | 3e+03 | 4 | 1 |" in md


def test_speed_benchmark_seed(tmp_path):
    """--seed draws another synthetic matrix, names its scratch file after it and records it."""
    run_speed(tmp_path, "--seed", "7")
    assert json.loads((tmp_path / "speed.json").read_text())["seed"] == 7
    assert "random_state=7" in (tmp_path / "speed.md").read_text()
    assert [p.name for p in (tmp_path / "data").glob("*.npy")] == ["L_n3000_m4_k2_seed7.npy"]
