"""Property tests (hypothesis) of the file formats: what is written reads back exactly, and a
CSV reads the same whatever its byte-order mark, header, delimiter, quoting and line ends."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from tripletws.files import read_labels, read_matrix, write_array  # noqa: E402

FORMATS = [".npy", ".npz", ".csv", ".parquet"]
SETTINGS = settings(max_examples=40, deadline=None)


def _has_pyarrow() -> bool:
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


def _formats() -> list[str]:
    return FORMATS if _has_pyarrow() else FORMATS[:3]


@st.composite
def label_matrices(draw, min_rows: int = 0) -> np.ndarray:
    dtype = draw(st.sampled_from([np.int8, np.int16, np.int32, np.int64]))
    k = draw(st.integers(2, 6))
    shape = (draw(st.integers(min_rows, 30)), draw(st.integers(1, 6)))
    return draw(hnp.arrays(dtype, shape, elements=st.integers(-1, k - 1)))


@SETTINGS
@given(L=label_matrices(), suffix=st.sampled_from(_formats()))
def test_matrix_round_trip_is_exact(L: np.ndarray, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"L{suffix}"
        write_array(path, L, key="L")
        got = read_matrix(path)
        assert got.shape == L.shape
        np.testing.assert_array_equal(got, L)


@SETTINGS
@given(
    y=hnp.arrays(np.int64, st.integers(0, 40), elements=st.integers(-1, 9)),
    suffix=st.sampled_from(_formats()),
)
def test_labels_round_trip_is_exact(y: np.ndarray, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"y{suffix}"
        write_array(path, y, columns=["y"])
        got = read_labels(path)
        assert got.shape == y.shape
        np.testing.assert_array_equal(got, y)


@SETTINGS
@given(
    probs=hnp.arrays(
        np.float64,
        st.tuples(st.integers(0, 20), st.integers(1, 4)),
        elements=st.floats(0.0, 1.0, allow_nan=False, allow_subnormal=False),
    ),
    suffix=st.sampled_from(_formats()),
)
def test_float_round_trip(probs: np.ndarray, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"p{suffix}"
        write_array(path, probs, key="probs")
        got = read_matrix(path, key="probs")
        assert got.shape == probs.shape
        # binary formats keep every bit; CSV writes 10 significant digits
        rtol = 1e-9 if suffix == ".csv" else 0.0
        np.testing.assert_allclose(got, probs, rtol=rtol, atol=0)


def _csv_text(L: np.ndarray, header: str, delim: str, quote: bool, eol: str) -> str:
    def cell(v: object) -> str:
        return f'"{v}"' if quote else str(v)

    lines = []
    if header == "named":
        lines.append(delim.join(cell(f"lf_{j}") for j in range(L.shape[1])))
    elif header == "numeric":  # what pandas writes for an unnamed DataFrame
        lines.append(delim.join(cell(j) for j in range(L.shape[1])))
    lines += [delim.join(cell(v) for v in row) for row in L.tolist()]
    return eol.join(lines) + eol


@settings(max_examples=150, deadline=None)
@given(
    L=label_matrices(min_rows=1),
    header=st.sampled_from(["none", "named", "numeric"]),
    delim=st.sampled_from([",", ";", "\t"]),
    quote=st.booleans(),
    eol=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
    blank_tail=st.integers(0, 3),
)
def test_csv_never_drops_or_invents_a_row(L, header, delim, quote, eol, bom, blank_tail) -> None:
    text = _csv_text(L, header, delim, quote, eol) + eol * blank_tail
    raw = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    n, m = L.shape
    first_is_range = L[0].tolist() == list(range(m))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "L.csv"
        path.write_bytes(raw)
        # told explicitly: always exact
        np.testing.assert_array_equal(read_matrix(path, header=header != "none"), L)
        # detected: exact, or refused when the first row could be either
        # numbered column labels: distinct whole numbers >= 0, 0..m-1 in another order (m >= 3) or
        # all above every vote below them
        first, rest = L[0].tolist(), L[1:]
        numbered = (
            n >= 2
            and len(set(first)) == m
            and min(first) >= 0
            and ((m >= 3 and sorted(first) == list(range(m))) or min(first) > rest.max())
        )
        ambiguous = m >= 2 and (
            header == "numeric" or (header == "none" and (first_is_range or numbered) and n >= 2)
        )
        if ambiguous:
            with pytest.raises(ValueError, match="could be a header"):
                read_matrix(path)
        elif header == "numeric":  # one column: "0" reads as a vote, as documented
            assert read_matrix(path).shape == (n + 1, m)
        else:
            got = read_matrix(path)
            assert got.shape == L.shape
            np.testing.assert_array_equal(got, L)
