"""``files.write_csv`` writes what ``np.savetxt`` wrote before it, byte for byte, in blocks of rows."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tripletws import files


def _savetxt(arr: np.ndarray, columns: list[str] | None) -> str:
    """The text of the writer before: np.savetxt with the same format, delimiter and header."""
    arr = np.asarray(arr)
    fmt = "%d" if arr.dtype.kind in "iub" else "%.10g"
    header = ""
    if columns:
        header = ",".join(f'"{c}"' if "," in c else c for c in columns)
    out = io.StringIO()
    np.savetxt(out, arr, fmt=fmt, delimiter=",", header=header, comments="")
    return out.getvalue()


def _arrays() -> list[np.ndarray]:
    rng = np.random.default_rng(20261204)
    probs = rng.dirichlet([0.3, 0.3, 0.3], 2000)
    probs[::7, 0] = 1e-15
    probs[::11, 1] = 1.0 - 1e-12
    special = np.array([[np.nan, np.inf], [-np.inf, -0.0], [5e-324, 1e300]])
    return [
        probs,
        probs.astype(np.float32),
        rng.integers(-1, 5, 5000),
        rng.integers(-1, 5, (3000, 7)).astype(np.int8),
        np.array([2**62, -(2**62)], dtype=np.int64),
        np.array([[True, False], [False, True]]),
        np.arange(5, dtype=np.uint64),
        special,
        np.empty((0, 3)),
        np.empty(0, dtype=np.int64),
        np.empty((4, 0)),
        np.array([0.5]),
    ]


@pytest.mark.parametrize("index", range(12))
@pytest.mark.parametrize("columns", [None, ["p0", "p1", "p2"], ["a,b", "c"]])
def test_write_csv_is_savetxt_byte_for_byte(index, columns, monkeypatch):
    arr = _arrays()[index]
    monkeypatch.setattr(files, "WRITE_CELLS", 100)  # many blocks, and a last one that is short
    out = io.StringIO()
    files.write_csv(out, arr, columns)
    assert out.getvalue() == _savetxt(arr, columns)


def test_write_csv_refuses_three_dimensions():
    with pytest.raises(ValueError, match="1-D or 2-D array, got 3 dimensions"):
        files.write_csv(io.StringIO(), np.zeros((2, 2, 2)))
