"""Smoke test of benchmarks/speed.py on a tiny grid (keeps the script from rotting)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_speed_benchmark_tiny_grid(tmp_path):
    cmd = [
        sys.executable,
        str(REPO / "benchmarks" / "speed.py"),
        *("--sizes", "3000", "--lfs", "4", "--repeats", "1", "--no-extra"),
        *("--memmap-from", "3000", "--out", str(tmp_path), "--scratch", str(tmp_path / "data")),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    result = json.loads((tmp_path / "speed.json").read_text())
    (row,) = result["rows"]
    assert (row["n"], row["m"], row["input"]) == (3000, 4, "int8 memmap")
    assert row["fit_s"] > 0 and row["predict_s"] > 0 and row["roofline_s"] > 0 and row["peak_rss_mb"] > 0
    assert abs(row["runs"][0]["check"] - 0.5) < 0.1  # mean P(Y=1) of a balanced synthetic set
    md = (tmp_path / "speed.md").read_text()
    assert "| 3e+03 | 4 | int8 memmap |" in md and "fit / roofline" in md
    assert not list((tmp_path / "data").glob("*.npy")), "memmap scratch files are removed without --keep-data"
