"""Shared fixtures: the shared benchmark data folder (skipped when absent)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
#: ../shared/data beside the checkout, or $TRIPLETWS_DATA.
DATA_DIR = Path(os.environ.get("TRIPLETWS_DATA", REPO.parent / "shared" / "data"))


def load_real(name: str):
    """Load a dataset from the shared data folder, or skip the test with the reason."""
    from tripletws.datasets import load_dataset

    if not (DATA_DIR / name).is_dir():
        pytest.skip(f"shared dataset {name!r} not found under {DATA_DIR} (set TRIPLETWS_DATA)")
    return load_dataset(name, DATA_DIR)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


#: float64 unit roundoff.
EPS64 = float(np.finfo(np.float64).eps)
#: float32 unit roundoff (the dense binary inference path accumulates log-odds in float32).
EPS32 = float(np.finfo(np.float32).eps)


def assert_close_sums(a, b, n_terms: int, scale: float = 50.0, eps: float = EPS64, err_msg: str = "") -> None:
    """Assert two results of the same arithmetic summed in a different order (chunking, code path) agree.

    A sum of ``n_terms`` values of magnitude at most ``scale`` carries a rounding error of at most
    ``n_terms * scale * eps`` (a standard forward bound for recursive summation), and probabilities
    are 1-Lipschitz in the logits' max-norm, so that bound (times 4 for the two sides and the
    softmax's own rounding) is the tolerance. Never compare floats bit for bit across paths: BLAS
    kernels (``OPENBLAS_CORETYPE``) order their sums differently.
    """
    atol = 4.0 * n_terms * scale * eps
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=atol, err_msg=err_msg)


def run_cli(*args: object, cwd: Path | None = None, preexec_fn=None) -> subprocess.CompletedProcess:
    """``python -m tripletws ARGS`` in a child process that imports this checkout's sources."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run(
        [sys.executable, "-m", "tripletws", *map(str, args)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=preexec_fn,
    )
