"""Under what a benchmark measured: the commit (``-dirty`` when the measured files changed), the load."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def revision(*paths: str) -> str:
    """Short commit of the checkout, ``-dirty`` when ``src`` or any of ``paths`` has local changes."""
    git = ["git", "-C", str(REPO)]
    try:
        rev = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        changed = subprocess.run(
            [*git, "status", "--porcelain", "--", "src", *paths], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev.stdout.strip() + ("-dirty" if changed.stdout.strip() else "")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, e.g. ``"0.83 1.19 3.35"`` (``"n/a"`` where unknown)."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"
