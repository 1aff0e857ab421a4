"""The benchmark scripts importable from the tests, and the marker of tests that read the shared data.

Importing this module puts ``benchmarks/`` and ``benchmarks/peers/`` on ``sys.path`` (the scripts
are not a package) and reads the data folder the benchmarks read (``benchmarks/peers/common.DATA``:
``$TRIPLETWS_DATA`` or ``../shared/data``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
for _folder in (REPO / "benchmarks" / "peers", REPO / "benchmarks"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

from common import DATA  # noqa: E402

#: Skips a test (or, as ``pytestmark``, a module) where the shared data are absent, saying why.
needs_data = pytest.mark.skipif(
    not (DATA / "index.json").exists(), reason=f"shared data not found at {DATA} (set TRIPLETWS_DATA)"
)
