"""`import tripletws` loads numpy only: no scipy, pandas, torch, ... until needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
HEAVY = ("scipy", "pandas", "torch", "pyarrow", "sklearn", "networkx", "tqdm", "numba")


def test_import_is_light() -> None:
    # the compiled EM (numba, which imports scipy) is switched off here: with numba installed a
    # fit loads it on purpose (tests/test_em_jit.py); `import tripletws` alone never does (below)
    code = (
        "import sys, tripletws, tripletws.cli, tripletws.files\n"
        "from tripletws.datasets import make_synthetic\n"
        "from tripletws import LabelModel\n"
        "d = make_synthetic(500, 5, 2, random_state=0)\n"
        "LabelModel().fit(d.L).predict(d.L)\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC), "TRIPLETWS_JIT": "0"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"imported at `import tripletws` / dense fit: {out.stdout.strip()}"


def test_import_does_not_load_numba() -> None:
    code = (
        "import sys, tripletws, tripletws.cli, tripletws.files\n"
        "from tripletws import LabelModel\n"
        "LabelModel()\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TRIPLETWS_JIT"}
    env["PYTHONPATH"] = str(SRC)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"imported at `import tripletws`: {out.stdout.strip()}"
