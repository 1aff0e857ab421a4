"""The CSV reader's fast parse of plain rows (``files._plain_int16_rows``) against its line-by-line reading.

Every file is read twice, with the fast parse allowed and with it switched off: the two must give the
same matrix (values and integer type) and names, or the same error.  The files are drawn with the
features each reading treats on its own: headers, comment and blank lines above and between the rows,
CRLF line ends, a byte-order mark, quoted and padded cells, floats that are integers, numbers beyond
int16, empty cells, rows of empty cells, ragged rows, one-column files and other delimiters.
"""

from __future__ import annotations

import numpy as np
import pytest

from tripletws import files


def _read(path, header, fast: bool, monkeypatch):
    with monkeypatch.context() as mp:
        if not fast:
            mp.setattr(files, "_plain_eligible", lambda delim, tokens: False)
        try:
            arr, names = files._read_csv_named(path, header)
        except ValueError as exc:
            return ("error", str(exc))
    return ("ok", arr.dtype.str, arr.shape, arr.tobytes(), names)  # bytes: NaN equals NaN


def _cell(rng: np.random.Generator) -> str:
    v = int(rng.integers(-1, 4))
    roll = rng.random()
    if roll < 0.03:
        return f"{v}.0"
    if roll < 0.05:
        return f' "{v}" '
    if roll < 0.07:
        return f" {v}"
    if roll < 0.075:
        return str(int(rng.choice([40000, -40000, 2**60])))
    if roll < 0.08:
        return ""
    if roll < 0.085:
        return "nan"
    return str(v)


def _draw_file(rng: np.random.Generator) -> tuple[str, bool | None]:
    delim = str(rng.choice([",", ",", ",", ";", "\t", " "]))
    m = int(rng.integers(1, 5))
    n = int(rng.integers(0, 6))
    lines = []
    if rng.random() < 0.3:
        lines.append("# written by numpy.savetxt")
    if rng.random() < 0.2:
        lines.append("")
    header = rng.random() < 0.4
    if header:
        lines.append(delim.join(f"lf{j}" for j in range(m)))
    for _ in range(n):
        width = m if rng.random() > 0.05 else m + 1
        lines.append(delim.join(_cell(rng) for _ in range(width)))
        roll = rng.random()
        if roll < 0.05:
            lines.append("")
        elif roll < 0.08:
            lines.append("# a comment")
        elif roll < 0.1:
            lines.append("   ")
        elif roll < 0.11:
            lines.append("#N/A" + delim + "1")
        elif roll < 0.12:
            lines.append(delim * (m - 1))  # a row of empty cells (with tabs: a line of tabs)
    end = "\r\n" if rng.random() < 0.2 else "\n"
    text = end.join(lines) + (end if rng.random() < 0.8 else "")
    if rng.random() < 0.1:
        text = "\ufeff" + text
    given = [None, True, False][int(rng.integers(0, 3))] if rng.random() < 0.3 else None
    return text, given


@pytest.mark.parametrize("seed", range(4))
def test_the_fast_parse_reads_every_file_as_the_line_by_line_reading(tmp_path, monkeypatch, seed):
    rng = np.random.default_rng(20261204 + seed)
    fast_used = 0
    for i in range(150):
        text, header = _draw_file(rng)
        path = tmp_path / f"f{i}.csv"
        path.write_text(text, encoding="utf-8", newline="")
        slow = _read(path, header, False, monkeypatch)
        fast = _read(path, header, True, monkeypatch)
        assert fast == slow, (text, header)
        fast_used += fast[0] == "ok" and files._plain_int16_rows(path, ",", 0) is not None
    assert fast_used > 0  # the draw reaches the fast parse


def test_plain_rows_are_parsed_straight_to_int16(tmp_path):
    path = tmp_path / "L.csv"
    path.write_text("a,b,c\n0,1,-1\n2,-1,1\n")
    arr, names = files._read_csv_named(path)
    assert arr.dtype == np.int16 and arr.tolist() == [[0, 1, -1], [2, -1, 1]] and names == ["a", "b", "c"]
    assert files._plain_int16_rows(path, ",", 1).tolist() == arr.tolist()


@pytest.mark.parametrize(
    "rows",
    ["0,1\n\n1,0\n", "0,1\n# note\n1,0\n", "0,1.0\n1,0\n", "0,40000\n1,0\n", "0,\n1,0\n", "0,1,1\n1,0\n"],
)
def test_rows_the_fast_parse_refuses_go_line_by_line(tmp_path, monkeypatch, rows):
    path = tmp_path / "L.csv"
    path.write_text(rows)
    assert _read(path, None, True, monkeypatch) == _read(path, None, False, monkeypatch)


def test_a_blank_line_in_a_one_column_file_is_still_refused(tmp_path):
    path = tmp_path / "y.csv"
    path.write_text("0\n\n1\n")
    with pytest.raises(ValueError, match="line 2 is blank between two rows"):
        files._read_csv_named(path)
