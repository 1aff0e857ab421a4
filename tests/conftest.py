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


def signed_record(record: dict) -> dict:
    """A model file's record with its checksum recomputed (an edited record that still loads as far as
    the checksum goes, so that the field-by-field checks are what reject it)."""
    import hashlib

    from tripletws.io import _canonical

    body = {k: v for k, v in record.items() if k != "sha256"}
    body["sha256"] = hashlib.sha256(_canonical(body)).hexdigest()
    return body


def binary_batching_tolerance(lm, L: np.ndarray) -> float:
    """Binary log-odds products run in float32 (``inference.LOGIT_DTYPE``): two summation orders
    of a row's m terms each lie within m u sum|w| of the exact sum (u = 2^-24, Higham 2002,
    section 4.2), plus two more roundings (adding the vote-indicator product, the float64 cast);
    the posterior moves by at most a quarter of the log-odds' move.  Only the LFs that vote in
    ``L`` add terms (an LF's weight times a zero indicator is exactly 0)."""
    _, D = lm.params_.log_odds_tables()
    D = D[(L >= 0).any(axis=0)]
    e = D[:, :, 1] - D[:, :, 0]
    w = np.abs((e[:, 1] - e[:, 0]) / 2).sum() + np.abs((e[:, 1] + e[:, 0]) / 2).sum()
    return 0.25 * 2 * (lm.params_.n_lfs + 2) * 2.0**-24 * float(w)


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
