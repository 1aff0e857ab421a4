"""Shared fixtures: the shared benchmark data folder (skipped when absent)."""

from __future__ import annotations

import os
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
