"""`import tripletws` loads numpy only: no scipy, pandas, torch, ... until needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
HEAVY = ("scipy", "pandas", "torch", "pyarrow", "sklearn", "networkx", "tqdm")


def test_import_is_light() -> None:
    code = (
        "import sys, tripletws, tripletws.cli, tripletws.files\n"
        "from tripletws.datasets import make_synthetic\n"
        "from tripletws import LabelModel\n"
        "d = make_synthetic(500, 5, 2, random_state=0)\n"
        "LabelModel().fit(d.L).predict(d.L)\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"imported at `import tripletws` / dense fit: {out.stdout.strip()}"
