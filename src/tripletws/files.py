"""Reading label matrices and labels from files, writing result arrays.

Supported formats (chosen by the file extension):

``.npy``      one array; read as a read-only memmap, so large matrices are never loaded whole.
``.npz``      an archive; the matrix is the array named ``key`` (``"L"`` by default, or the only
              array when there is just one), labels the array ``"y"``.
``.csv``      integers separated by commas (or tabs / semicolons / spaces), UTF-8 with or without
              a byte-order mark; the header rule is in :func:`read_matrix`.
``.parquet``  one column per labeling function, read in batches of rows (needs ``pyarrow``:
              ``pip install tripletws[parquet]``); a folder of ``.parquet`` files is one matrix.

Every writer replaces its file atomically (:mod:`tripletws.atomic`).

Values are not checked here beyond parsing; :func:`tripletws.matrix.check_label_matrix` and
:func:`tripletws.matrix.check_labels` validate them and name the offending column and value.
Every error is a ``ValueError`` (or ``OSError`` for a missing or unreadable file) that starts
with the path.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

MATRIX_FORMATS = (".npy", ".npz", ".csv", ".parquet")
#: Default array names inside an .npz archive (and column name in Parquet files).
MATRIX_KEY = "L"
LABELS_KEY = "y"


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in MATRIX_FORMATS:
        raise ValueError(
            f"{path}: unsupported file type {suffix or '(no extension)'!r}; use one of "
            f"{', '.join(MATRIX_FORMATS)}"
        )
    return suffix


def _require_file(path: Path) -> None:
    if not path.exists():
        raise FileNotFoundError(2, "no such file", str(path))
    if path.is_dir():
        raise IsADirectoryError(21, "is a directory, not a file", str(path))


def _import_pyarrow_parquet(path: Path):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ValueError(
            f"{path}: reading or writing Parquet needs pyarrow (pip install 'tripletws[parquet]')"
        ) from None
    return pq


def _npz_array(path: Path, key: str | None, default: str, what: str) -> np.ndarray:
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(f"{path}: not a readable .npz archive ({exc})") from exc
    with archive:
        names = list(archive.files)
        # every format scipy saves (csr/csc/bsr: indices, indptr; coo: row, col; dia: offsets)
        if {"data", "shape", "format"} <= set(names) and key is None:
            raise ValueError(
                f"{path}: a scipy.sparse matrix (scipy.sparse.save_npz); files hold dense label matrices: "
                "save the dense one (np.save), or pass the sparse matrix to the Python API "
                "(scipy.sparse.load_npz, class c stored as c + 1)"
            )
        name = key or default
        if name not in names:
            # the only array, unless its name says it is the other one (an archive of L alone has no labels)
            other = {MATRIX_KEY, LABELS_KEY} - {default}
            if key is None and len(names) == 1 and names[0] not in other:
                name = names[0]
            else:
                hint = "; choose one with --key" if what == "label matrix" else ""
                raise ValueError(
                    f"{path}: no array {name!r} for the {what} (arrays: {', '.join(names) or 'none'}){hint}"
                )
        try:
            arr = archive[name]
        except ValueError as exc:  # object arrays need pickle, which is never allowed
            raise ValueError(f"{path}: array {name!r} cannot be read ({exc})") from exc
        except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:  # a damaged member
            raise ValueError(f"{path}: array {name!r} is damaged ({type(exc).__name__}: {exc})") from exc
    if not isinstance(arr, np.ndarray):  # numpy gives the bytes of a member that is no .npy file
        raise ValueError(
            f"{path}: array {name!r} is not a .npy array but a plain file in the zip archive; "
            "write archives with np.savez"
        )
    return arr


def _sniff_delimiter(line: str) -> str | None:
    for delim in (",", "\t", ";"):
        if delim in line:
            return delim
    return None  # whitespace


#: A decimal number as a CSV cell holds it (no nan/inf, which are never votes nor column names).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")  # ASCII digits only

#: Smallest magnitude refused in a CSV cell: from it on, integers have no exact float64 (the cell
#: ``9007199254740993`` parses to 2**53).
_CSV_MAX_ABS = float(2**53)


def _csv_tokens(line: str, delim: str | None) -> list[str]:
    """A row's cells, unquoted: quoted cells may hold the delimiter (``"kw,0"``, as pandas writes such
    names) and quotes doubled inside them (``\"\"\"q\"\"\"`` is ``"q"``); spaces around a cell are dropped.

    Raises
    ------
    csv.Error
        For a cell the csv module refuses (e.g. longer than its field limit).
    """
    text = line.rstrip("\r\n")
    if delim is None:  # whitespace: runs of spaces separate cells, quoted cells may hold spaces
        parts = next(csv.reader([text.strip()], delimiter=" ", skipinitialspace=True))
    else:
        parts = next(csv.reader([text], delimiter=delim, skipinitialspace=True))
    return [p.strip() for p in parts]


#: Spellings of a missing value besides those Python's float() reads as NaN or infinity.
_MISSING = frozenset({"na", "n/a", "null", "none"})


def _is_missing(token: str) -> bool:
    """A cell that spells a missing value (``nan``, ``-nan``, ``inf``, ``NA``, ``null``, a spreadsheet
    error value such as ``#N/A``, ...): a row of numbers and such cells is data (validation names
    the value), never a header, which used to drop the row silently."""
    if token.lower() in _MISSING or _SPREADSHEET_ERRORS.fullmatch(token):  # #N/A, #VALUE!, ...
        return True
    try:
        return not math.isfinite(float(token))
    except ValueError:
        return False


#: Spreadsheet error values that start a cell with ``#`` (Excel's ``#N/A`` for a missing value): a
#: line that starts with one is a row of data (whose value is then reported), not a comment.
_SPREADSHEET_ERRORS = re.compile(r"#(?:N/A|NULL!|DIV/0!|VALUE!|REF!|NAME\?|NUM!|GETTING_DATA)", re.IGNORECASE)


def _is_data_line(line: str, delim: str | None = None) -> bool:
    """Blank lines and ``#`` comment lines (as ``np.savetxt`` writes headers) carry no row; a line that
    starts with a spreadsheet error value (``#N/A,1,0``) is a row (it used to be dropped as a comment),
    and so is a line of tabs in a file delimited by ``delim="\\t"``: a row of empty cells (it used to be
    dropped as blank, moving every later row up one)."""
    text = line.strip()
    if not text:
        return delim == "\t" and "\t" in line
    return not text.startswith("#") or _SPREADSHEET_ERRORS.match(text) is not None


class _BlankRowError(ValueError):
    """A blank line between the rows of a one-column CSV (:func:`_data_lines`)."""


class _NumberedLines:
    """The lines of an open text file, counting them (``number``: the last line's, 1-based)."""

    def __init__(self, fh: Iterator[str]) -> None:
        self._fh = iter(fh)
        self.number = 0

    def __iter__(self) -> _NumberedLines:
        return self

    def __next__(self) -> str:
        line = next(self._fh)
        self.number += 1
        return line


def _data_lines(path: Path, lines: _NumberedLines, delim: str | None, one_column: bool) -> Iterator[str]:
    """The rows of ``lines`` after the first (:func:`_is_data_line`).

    Raises
    ------
    ValueError
        In a file of one column, where a blank line lies between two rows: there it is a row
        whose one cell is empty (pandas writes a missing value so), and dropping it would move
        every later row up one.  Blank lines after the last row are ignored.
    """
    blank = None
    for line in lines:
        if _is_data_line(line, delim):
            if one_column and blank is not None:
                raise _BlankRowError(
                    f"{path}: line {blank} is blank between two rows; in a file of one column that is "
                    "a row without a value: write -1 there (an abstain, or an unknown gold label), or "
                    "delete the line"
                )
            yield line
        elif blank is None and not line.strip():
            blank = lines.number


def _first_data_line(path: Path, lines: Iterator[str]) -> tuple[str | None, str | None]:
    """The first row of ``lines`` and the delimiter it shows (None: whitespace).

    Raises
    ------
    ValueError
        Where the rows are tab-delimited and a line above the first holds only tabs: a row of
        empty cells, which cannot be told apart from a blank line before the delimiter is known.
    """
    tabs = None
    for number, line in enumerate(lines, start=1):
        if _is_data_line(line):
            delim = _sniff_delimiter(line)
            if delim == "\t" and tabs is not None:
                raise ValueError(
                    f"{path}: line {tabs} holds only empty cells (tabs) above the first row; "
                    "write -1 for an abstain, or delete the line"
                )
            return line, delim
        if tabs is None and "\t" in line and not line.strip():
            tabs = number
    return None, None


def _first_row_is_header(path: Path, tokens: list[str], more_rows: bool, header: bool | None) -> bool:
    """Apply the header rule of :func:`read_matrix` to the first row's ``tokens``."""
    if header is not None:
        return header
    named = [t for t in tokens if t]
    pandas_index = tokens[0] == "" and tokens[1:] == [str(j) for j in range(len(tokens) - 1)]
    if len(tokens) > 1 and tokens[0] == "" and (pandas_index or any(not _NUMBER.fullmatch(t) for t in named)):
        raise ValueError(
            f"{path}: the first column has no name, like the index column pandas writes with "
            "to_csv(index=True); write the file with index=False (or drop that column)"
        )
    if any(not _NUMBER.fullmatch(t) and not _is_missing(t) for t in named):
        return True
    if any(not _NUMBER.fullmatch(t) for t in named):  # numbers and missing values: a row of data
        return False
    if more_rows and len(tokens) >= 2 and tokens == [str(j) for j in range(len(tokens))]:
        raise _ambiguous_first_row(path, tokens, "pandas writes column names 0,1,...,m-1")
    return False


def _ambiguous_first_row(path: Path, tokens: list[str], why: str) -> ValueError:
    """The error for a first row that could be a header (``why``) or a row of votes."""
    return ValueError(
        f"{path}: the first row {','.join(tokens)} could be a header ({why}) or a row of votes; say "
        "which with header=True / header=False (command line: --header / --no-header)"
    )


def _numbered_header(arr: np.ndarray) -> bool:
    """Whether the first of the rows ``arr`` (read as data) reads like the numbered column labels of a
    DataFrame: at least two columns and another row, its cells distinct whole numbers >= 0 that are
    either 0..m-1 in another order (three columns or more: a reordered default frame's labels; in
    order, :func:`_first_row_is_header` refuses them already) or all above every finite value of
    the rows below (labels such as 10, 20, 30 above votes of a few classes).  A row of votes of an
    LF set is neither but where every LF votes another class, nobody else's."""
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 2:
        return False
    first = arr[0]
    if not (np.all(np.isfinite(first)) and np.all(first >= 0) and np.all(first == np.round(first))):
        return False
    if len(np.unique(first)) != len(first):
        return False
    m = len(first)
    if m >= 3 and np.array_equal(np.sort(first), np.arange(m)):
        return True
    rest = arr[1:][np.isfinite(arr[1:])]
    return rest.size > 0 and float(first.min()) > float(rest.max())


def _check_header(path: Path, names: list[str], width: int) -> None:
    """A CSV header names every column, each once (else the check of the columns' order is lost)."""
    if len(names) != width:
        raise ValueError(f"{path}: the header names {len(names)} columns, the rows have {width}")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"{path}: the header names {twice} more than once; LF names must be distinct")


def _csv_value_error(path: Path, arr: np.ndarray, mask: np.ndarray, what: str) -> ValueError:
    r, c = (int(v) for v in np.argwhere(mask)[0])
    return ValueError(f"{path}: {what} {arr[r, c].item()!r} in column {c} (row {r})")


#: numpy's loadtxt names a cell "at row R, column C" with C counted from 1 (R from 0, over the data rows).
_LOADTXT_CELL = re.compile(r"at row (\d+), column (\d+)")
#: ... and a row with another number of cells with R counted from 1, adding advice about its own
#: ``usecols`` argument.
_LOADTXT_RAGGED = re.compile(
    r"the number of columns changed from (\d+) to (\d+) at row (\d+)(?:; use `usecols`.*)?"
)


def _zero_based(message: str) -> str:
    """numpy's parse error with its rows and columns counted from 0, as every other message of the
    library (and without numpy's advice on its own arguments)."""
    message = _LOADTXT_RAGGED.sub(
        lambda m: f"row {int(m.group(3)) - 1} has {m.group(2)} cells, the rows above it {m.group(1)}", message
    )
    return _LOADTXT_CELL.sub(lambda m: f"at row {m.group(1)}, column {int(m.group(2)) - 1}", message)


def _read_csv(path: Path, header: bool | None = None) -> np.ndarray:
    """Parse an integer CSV; see :func:`read_matrix` for the header rule."""
    return _read_csv_named(path, header)[0]


def _read_csv_named(path: Path, header: bool | None = None) -> tuple[np.ndarray, list[str] | None]:
    """:func:`_read_csv` and the header's cells (None without a header)."""
    try:
        with open(path, encoding="utf-8-sig", newline=None) as fh:  # -sig: drops a byte-order mark
            lines = _NumberedLines(fh)
            first, delim = _first_data_line(path, lines)
            if first is None:
                raise ValueError(f"{path}: empty CSV file")
            above = lines.number - 1  # blank and comment lines above the first row
            try:
                tokens = _csv_tokens(first, delim)
            except csv.Error as exc:
                raise ValueError(f"{path}: cannot read the first row as CSV ({exc})") from exc
            data = _data_lines(path, lines, delim, one_column=len(tokens) == 1)
            second = next(data, None)
            skip = _first_row_is_header(path, tokens, second is not None, header)
            if skip and len(tokens) > 1 and tokens[-1] == "":
                tokens = tokens[:-1]  # a trailing delimiter after the header's last name
            head = [line for line in ((None if skip else first), second) if line is not None]
            rows = itertools.chain(head, data)
            plain = _plain_eligible(delim, tokens)
            arr = _plain_int16_rows(path, delim, above + int(skip)) if plain else None
            try:
                with warnings.catch_warnings():  # a header-only file gives (0, m) below
                    warnings.filterwarnings("ignore", message="loadtxt: input contained no data")
                    if arr is None:  # line by line, as float64 (checked below)
                        arr = np.loadtxt(
                            rows, delimiter=delim, quotechar='"', ndmin=2, dtype=np.float64, comments=None
                        )
            except _BlankRowError:
                raise
            except ValueError as exc:
                text = _zero_based(str(exc))
                hint = (
                    "; an empty cell is no vote here: write -1 for an abstain (or an unknown gold label)"
                    if "could not convert string '' " in text or "could not convert string ''" in text
                    else ""
                )
                raise ValueError(f"{path}: cannot parse as a numeric CSV ({text}){hint}") from exc
    except UnicodeDecodeError as exc:
        bad = exc.object[exc.start : exc.start + 1]
        raise ValueError(
            f"{path}: not UTF-8 text (byte 0x{bad.hex()} cannot be decoded); save the CSV as UTF-8"
        ) from exc
    names = tokens if skip else None
    if names is not None:
        _check_header(path, names, arr.shape[1] if arr.size else len(names))
    elif header is None and _numbered_header(arr):
        why = (
            "the column labels pandas writes for a DataFrame whose columns are numbered: 0..m-1 in "
            "another order, or numbers above every vote below them"
        )
        raise _ambiguous_first_row(path, tokens, why)
    if arr.size == 0:
        return np.empty((0, len(tokens)), dtype=np.int16), names
    if arr.dtype == np.int16:  # the plain rows' fast parse: integers in int16 range already
        return arr, names
    # checked CSV_CHECK_CELLS at a time: no float64 temporary the size of the parsed matrix
    step = max(1, CSV_CHECK_CELLS // arr.shape[1])
    steps = [slice(s, s + step) for s in range(0, arr.shape[0], step)]
    huge = np.empty(arr.shape, dtype=bool)  # also inf; NaN is left for validation to report
    with np.errstate(invalid="ignore"):
        for rows in steps:
            np.greater_equal(np.abs(arr[rows]), _CSV_MAX_ABS, out=huge[rows])
    if huge.any():
        raise _csv_value_error(path, arr, huge, "number too large:")
    del huge
    # Integral values are integers: in int16 range stored compactly, beyond it as int64 (exact: below
    # 2**53); anything else is left for validation.
    if all(np.all(arr[rows] == np.round(arr[rows])) for rows in steps):
        arr = arr.astype(np.int16 if arr.min() >= -(2**15) and arr.max() < 2**15 else np.int64)
    return arr, names


def _plain_eligible(delim: str | None, tokens: list[str]) -> bool:
    """Whether the rows may be parsed by :func:`_plain_int16_rows`: cells separated by commas,
    semicolons or tabs, more than one of them.  A file of one column (where a blank line is a row
    without a value) and space-delimited files keep to the line-by-line reading, which tells
    those lines from blank ones (numpy's reader skips them; a line of tabs, a row of empty cells,
    it refuses, which sends the file to the line-by-line reading)."""
    return delim in (",", ";", "\t") and len(tokens) > 1


def _plain_int16_rows(path: Path, delim: str, skip_lines: int) -> np.ndarray | None:
    """The rows below the first ``skip_lines`` lines parsed by numpy's reader straight from the file
    (cells separated by ``delim``) as int16, or None where that parse fails (a float cell, a number
    beyond int16, an empty cell, a comment line, a ragged row, bytes that are not UTF-8, ...).

    The line-by-line reading (:func:`_data_lines` into ``np.loadtxt`` as float64, then the checks)
    reads such files to the same integers; it also gives the errors, so a failure here only sends
    the file there.  Blank lines between rows are skipped by both (numpy's reader skips them; the
    line-by-line reading drops them in a file of more than one column).  Measured on a 1e6 x 50 CSV
    of votes (112 MB, 2-core host, ``farm-bench``, medians of 5 alternated runs): 4.47 -> 1.89 s
    wall, peak resident 513 -> 135 MiB (docs/speed.md, "Session 27").
    """
    try:
        with open(path, encoding="utf-8-sig", newline=None) as fh:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="loadtxt: input contained no data")
                return np.loadtxt(
                    fh,
                    delimiter=delim,
                    quotechar='"',
                    ndmin=2,
                    dtype=np.int16,
                    comments=None,
                    skiprows=skip_lines,
                )
    except (ValueError, OverflowError):  # UnicodeDecodeError is a ValueError
        return None


#: Cells per step of the checks of a parsed CSV (their float64 temporaries are a step, not the matrix).
CSV_CHECK_CELLS = 1 << 16

#: Rows decoded at a time from a Parquet file (a row group can hold millions).  Measured on
#: 2e6 x 30 int64 columns: 2**14 rows peaks 43 MB below 2**16 at the same speed.
PARQUET_BATCH_ROWS = 1 << 14
#: Read buffer per Parquet column stream.
PARQUET_BUFFER_BYTES = 1 << 20


def _parquet_files(path: Path) -> list[Path]:
    """``path`` itself, or the ``.parquet`` files of a folder in sorted name order."""
    if not path.is_dir():
        return [path]
    files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".parquet" and p.is_file())
    if not files:
        raise ValueError(f"{path}: folder holds no .parquet files")
    return files


def _parquet_column_dtype(path: Path, name: str, typ: Any, text: bool = False) -> np.dtype:
    """numpy dtype of an Arrow column type; a ValueError naming the column for anything not numeric
    (with ``text``, string columns are read too, as Python str: sequence ids may be strings)."""
    import pyarrow as pa

    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_boolean(typ):
        return np.dtype(typ.to_pandas_dtype())
    if text and (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
        return np.dtype(object)
    raise ValueError(
        f"{path}: column {name!r} is not numeric (type {typ}); label matrices hold integer votes"
    )


def _stored_range(metas: list[tuple[Path, Any]], columns: list[int]) -> tuple[int, int] | None:
    """Smallest and largest value of ``columns`` from the row-group statistics (None if any is missing)."""
    lo: int | None = None
    hi: int | None = None
    for _, meta in metas:
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            if group.num_rows == 0:
                continue
            for j in columns:
                stats = group.column(j).statistics
                if stats is None or not stats.has_min_max:
                    return None
                g_lo, g_hi = int(stats.min), int(stats.max)
                lo = g_lo if lo is None else min(lo, g_lo)
                hi = g_hi if hi is None else max(hi, g_hi)
    return None if lo is None or hi is None else (lo, hi)


def _compact_int_dtype(lo: int, hi: int) -> np.dtype | None:
    for dtype in (np.int8, np.int16, np.int32, np.int64):
        info = np.iinfo(dtype)
        if info.min <= lo and hi <= info.max:
            return np.dtype(dtype)
    return None


def _open_parquet(pq: Any, file: Path) -> Any:
    """A ParquetFile with buffered reads and no pre-buffering of whole column chunks."""
    return pq.ParquetFile(file, pre_buffer=False, buffer_size=PARQUET_BUFFER_BYTES)


def _fill_from_parquet(
    pf: Any, file: Path, path: Path, wanted: list[str], out: np.ndarray, pos: int, limits: Any
) -> int:
    """Copy ``pf``'s columns ``wanted`` into ``out`` from row ``pos`` on; returns the next row."""
    batches = pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=wanted, use_threads=False)
    while True:
        try:
            batch = next(batches, None)
        except Exception as exc:  # pyarrow raises its own exception types for damaged files
            raise ValueError(f"{file}: rows from {pos} on cannot be read ({exc})") from exc
        if batch is None:
            return pos
        rows = batch.num_rows
        if pos + rows > len(out):
            raise ValueError(f"{path}: more rows than the metadata's {len(out)}")
        for j, (name, col) in enumerate(zip(wanted, batch.columns, strict=True)):
            if col.null_count:
                raise ValueError(
                    f"{file}: column {name!r} has {col.null_count} missing (null) value(s); "
                    "write -1 for an abstain"
                )
            values = col.to_numpy(zero_copy_only=False)
            if limits is not None and values.size and values.dtype.kind in "iu":
                v_lo, v_hi = values.min(), values.max()
                if v_lo < limits.min or v_hi > limits.max:
                    bad = v_lo if v_lo < limits.min else v_hi
                    raise ValueError(
                        f"{file}: column {name!r} holds {int(bad)}, outside the range the file's "
                        "statistics state (a damaged file?)"
                    )
            out[pos : pos + rows, j] = values
        pos += rows
        del batch


def _pandas_index_columns(schema: Any) -> list[str]:
    """The columns that hold a pandas index (pandas' metadata in the schema names them; a RangeIndex
    is stored as metadata only, never as a column)."""
    raw = (schema.metadata or {}).get(b"pandas")
    if not raw:
        return []
    try:
        index = json.loads(raw).get("index_columns", [])
    except (ValueError, AttributeError):  # metadata written by another tool: no index named
        return []
    return [c for c in index if isinstance(c, str) and c in schema.names] if isinstance(index, list) else []


def _read_parquet(
    path: Path, columns: list[str] | None = None, compact: bool = False
) -> tuple[np.ndarray, list[str]]:
    """Read a Parquet file or a folder of them, ``PARQUET_BATCH_ROWS`` rows at a time.

    The result is allocated once and filled batch by batch, so the memory is the matrix
    plus one decoded batch, never the whole Arrow table (or a whole row group) beside it.  Its dtype is
    the columns' common dtype, or with ``compact`` and integer columns the smallest integer
    dtype that holds the values the row-group statistics state (pandas writes int64 columns:
    a label matrix of them is read as int8, 8 times smaller); every batch is checked
    against that range as it is copied.
    """
    files = _parquet_files(path)
    pq = _import_pyarrow_parquet(path)
    metas = []
    names: list[str] | None = None
    types: list[Any] = []
    for file in files:
        try:
            with _open_parquet(pq, file) as pf:
                schema, meta = pf.schema_arrow, pf.metadata
        except Exception as exc:  # pyarrow raises its own exception types for damaged files
            raise ValueError(f"{file}: not a readable Parquet file ({exc})") from exc
        if names is None:
            names, types = list(schema.names), [f.type for f in schema]
            if not names:
                raise ValueError(f"{file}: Parquet file has no columns")
        elif list(schema.names) != names or [f.type for f in schema] != types:
            raise ValueError(
                f"{file}: columns {', '.join(f'{f.name}: {f.type}' for f in schema)} differ from those of "
                f"{files[0].name} ({', '.join(f'{n}: {t}' for n, t in zip(names, types, strict=True))})"
            )
        metas.append((file, meta))
    assert names is not None
    index = _pandas_index_columns(schema)
    if columns is None and index:
        raise ValueError(
            f"{files[0]}: column(s) {index} hold the pandas index of the frame that was written, not "
            "labeling functions: write it with df.to_parquet(path, index=False), after "
            "df.reset_index() where the index is an LF"
        )
    wanted = names if columns is None else columns
    twice = sorted({n for n in wanted if names.count(n) > 1})
    if twice:  # which column a name reads would be pyarrow's choice; LF names would be lost
        raise ValueError(
            f"{files[0]}: the column name(s) {twice} appear more than once; give each column its own name"
        )
    text = columns is not None  # a column of labels or sequence ids, which their own checks read
    dtypes = [_parquet_column_dtype(files[0], n, types[names.index(n)], text) for n in wanted]
    n_rows = sum(meta.num_rows for _, meta in metas)
    dtype = np.result_type(*dtypes)
    if compact and dtype.kind in "iub":
        stated = _stored_range(metas, [names.index(n) for n in wanted])
        small = None if stated is None else _compact_int_dtype(*stated)
        dtype = small if small is not None and small.itemsize < dtype.itemsize else dtype
    out = np.empty((n_rows, len(wanted)), dtype=dtype)
    limits = np.iinfo(dtype) if dtype.kind in "iu" else None
    pos = 0
    for file, _ in metas:  # one file open at a time, however many the folder holds
        try:
            pf = _open_parquet(pq, file)
        except Exception as exc:
            raise ValueError(f"{file}: not a readable Parquet file ({exc})") from exc
        with pf:
            pos = _fill_from_parquet(pf, file, path, wanted, out, pos, limits)
    if pos != n_rows:
        raise ValueError(f"{path}: the files hold {pos} rows but their metadata says {n_rows}")
    return out, list(wanted)


def _read_npy(path: Path, mmap_mode: str | None = None) -> np.ndarray:
    try:
        return np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable .npy array ({exc})") from exc


def _kind(path: Path) -> str:
    """The format of ``path``: its suffix, or ``".parquet"`` for a folder of Parquet files."""
    if path.is_dir() and path.suffix.lower() in ("", ".parquet"):
        return ".parquet"
    suffix = _suffix(path)
    _require_file(path)
    return suffix


def read_matrix(path: str | Path, key: str | None = None, header: bool | None = None) -> np.ndarray:
    """Read a label matrix from ``.npy``, ``.npz``, ``.csv``, ``.parquet`` or a folder of ``.parquet``.

    Parameters
    ----------
    path : str or Path
        A file, or a folder whose ``.parquet`` files (same columns and types) are read as one
        matrix, their rows in sorted file-name order.
    key : str, optional
        Array name inside an ``.npz`` archive (default ``"L"``, or its only array).
    header : bool, optional
        CSV only: whether the first non-blank row is a header.  ``None`` (default) decides by
        this rule: a row with any non-numeric cell is a header; a row of votes is data; a row
        that reads exactly ``0,1,...,m-1`` (the column names pandas writes for an unnamed
        DataFrame, but also a valid row of votes when k >= m), or like other numbered column labels
        (distinct whole numbers: 0..m-1 in another order with three columns or more, or all above
        every value of the rows below), is refused with a ``ValueError`` that asks for
        ``header=True`` or ``header=False``.  A UTF-8 byte-order mark, quoted
        cells, CRLF line ends, blank lines and ``#`` comment lines are accepted; no row is ever
        dropped or added.

    Returns
    -------
    ndarray, shape (n, m)
        A read-only memmap for ``.npy`` files; values are validated later.
    """
    return read_matrix_named(path, key, header)[0]


def read_matrix_named(
    path: str | Path, key: str | None = None, header: bool | None = None
) -> tuple[np.ndarray, list[str] | None]:
    """:func:`read_matrix` and the LFs' column names where the file has them (a CSV header, Parquet).

    Returns
    -------
    L : ndarray, shape (n, m)
    names : list of m str, or None
        None for ``.npy`` / ``.npz`` files and CSV files without a header.
    """
    path = Path(path)
    suffix = _kind(path)
    names: list[str] | None = None
    if suffix == ".npy":
        arr = _read_npy(path, mmap_mode="r")
    elif suffix == ".npz":
        arr = _npz_array(path, key, MATRIX_KEY, "label matrix")
    elif suffix == ".csv":
        arr, names = _read_csv_named(path, header)
    else:
        arr, names = _read_parquet(path, compact=True)
    if arr.ndim != 2:
        raise ValueError(
            f"{path}: the label matrix must be 2-dimensional (rows x labeling functions), "
            f"got shape {arr.shape}"
        )
    return arr, names


def read_labels(path: str | Path, key: str | None = None, header: bool | None = None) -> np.ndarray:
    """Read gold labels (a vector; -1 = unknown) from ``.npy``, ``.npz``, ``.csv`` or ``.parquet``.

    ``.npz``: the array ``key`` (default ``"y"``); ``.parquet`` (a file or a folder): the column
    ``key`` (default ``"y"``, or the only column; a string column is read as Python ``str``, as
    sequence ids may be); ``.csv``: a single column or a single row (``header`` as in
    :func:`read_matrix`), or with a header row the column ``key`` (default ``"y"``) among several.

    Returns
    -------
    ndarray, shape (n,)
    """
    path = Path(path)
    suffix = _kind(path)
    if suffix == ".npy":
        arr = _read_npy(path)
    elif suffix == ".npz":
        arr = _npz_array(path, key, LABELS_KEY, "labels")
    elif suffix == ".csv":
        arr, names = _read_csv_named(path, header)
        if key is not None and names is None:
            raise ValueError(f"{path}: no header row names the columns, so there is no column {key!r}")
        if names is not None and (key is not None or arr.shape[1] > 1):
            name = key or LABELS_KEY
            if name not in names:
                raise ValueError(f"{path}: no column {name!r} for the labels (columns: {', '.join(names)})")
            arr = arr[:, names.index(name)]
    else:
        first = _parquet_files(path)[0]
        pq = _import_pyarrow_parquet(path)
        try:
            with _open_parquet(pq, first) as pf:
                names = list(pf.schema_arrow.names)
        except Exception as exc:  # pyarrow raises its own exception types for damaged files
            raise ValueError(f"{first}: not a readable Parquet file ({exc})") from exc
        name = key or LABELS_KEY
        if name not in names:
            if len(names) == 1 and key is None:
                name = names[0]
            else:
                raise ValueError(f"{path}: no column {name!r} for the labels (columns: {', '.join(names)})")
        arr, _ = _read_parquet(path, columns=[name])
    arr = np.asarray(arr)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        pick = " (or name its column: --y-key, key=)" if suffix in (".parquet", ".csv") else ""
        raise ValueError(
            f"{path}: labels must be one column, got shape {arr.shape}; give a file that holds the gold "
            f"labels alone{pick}"
        )
    return arr


def write_array(path: str | Path, arr: np.ndarray, columns: list[str] | None = None, key: str = "y") -> None:
    """Write a 1-D or 2-D array to ``.npy``, ``.npz`` (array ``key``), ``.csv`` or ``.parquet``.

    The file is replaced atomically (:func:`tripletws.atomic.atomic_write`): a failed or
    interrupted write leaves the previous file, never a partial one.

    Parameters
    ----------
    columns : list of str, optional
        Header row of a CSV file / column names of a Parquet file (default ``c0, c1, ...``;
        a CSV file always gets a header, so that it reads back without ambiguity).
    """
    from .atomic import atomic_write

    path = Path(path)
    suffix = _suffix(path)
    arr = np.asarray(arr)
    if arr.ndim not in (1, 2):
        raise ValueError(f"{path}: only 1-D or 2-D arrays can be written, got shape {arr.shape}")
    width = 1 if arr.ndim == 1 else arr.shape[1]
    names = list(columns) if columns else [f"c{j}" for j in range(width)]
    _check_column_names(path, names, width, suffix)
    if suffix == ".npy":
        with atomic_write(path) as fh:
            np.save(fh, arr, allow_pickle=False)
    elif suffix == ".npz":
        with atomic_write(path) as fh:
            np.savez_compressed(fh, **{key: arr})
    elif suffix == ".csv":
        with atomic_write(path, "w") as fh:
            write_csv(fh, arr, names)
    else:
        pq = _import_pyarrow_parquet(path)
        import pyarrow as pa

        cols = arr.reshape(arr.shape[0], width)
        table = pa.table({name: cols[:, j] for j, name in enumerate(names)})
        with atomic_write(path) as fh:
            pq.write_table(table, fh)


def _check_column_names(path: Path, names: list[Any], width: int, suffix: str) -> None:
    """Column names that a reader gets back as written: one per column, distinct strings; in a CSV
    header, not all numbers or missing values (that first row would read back as data), none empty
    or with spaces around it (the reader drops them)."""
    if len(names) != width:
        raise ValueError(f"{path}: {len(names)} column names for {width} columns")
    if not all(isinstance(n, str) for n in names):
        raise ValueError(f"{path}: column names must be strings, got {names!r}")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"{path}: the column names {twice} are given more than once")
    if suffix != ".csv":
        return
    blank = [n for n in names if not n or n != n.strip()]
    if blank:
        raise ValueError(f"{path}: CSV column names {blank!r} are empty or have spaces around them")
    # the reader takes lines one by one, a first line starting with '#' for a comment, and guesses
    # the delimiter from the first line (',', tab, ';', else spaces)
    broken = [n for n in names if "\n" in n or "\r" in n or n.startswith("#")]
    if width == 1:
        broken += [n for n in names if any(c in n for c in "\t; ")]
    if broken:
        raise ValueError(
            f"{path}: CSV column names {broken!r} would not read back (a line break, a leading '#', or in "
            "a single column a tab, ';' or space, which the reader would take for a delimiter)"
        )
    if all(_NUMBER.fullmatch(n) or _is_missing(n) for n in names):
        raise ValueError(
            f"{path}: the CSV header {names!r} holds only numbers or missing values, so it would read "
            "back as a row of data; name the columns with words (e.g. c0, c1, ...)"
        )


#: Cells formatted at a time by :func:`write_csv` (one ``%`` over a block's rows).
WRITE_CELLS = 1 << 15


def write_csv(fh: IO[str], arr: np.ndarray, columns: list[str] | None = None) -> None:
    """Write a 1-D or 2-D array as CSV to an open text file (integers as such, floats to 10 digits);
    header names holding a comma or a quote are quoted, as the reader unquotes them.

    The text is ``np.savetxt``'s with ``fmt="%d"`` or ``"%.10g"`` and ``delimiter=","`` (a 1-D
    array as one column), byte for byte; each block of rows is formatted by one ``%`` over its
    values instead of one per row: 1e6 x 3 probabilities 3.1 -> 1.0 s, 1e6 labels 2.0 -> 0.09 s.
    """
    arr = np.asarray(arr)
    if arr.ndim not in (1, 2):
        raise ValueError(f"write_csv writes a 1-D or 2-D array, got {arr.ndim} dimensions")
    cell = "%d" if arr.dtype.kind in "iub" else "%.10g"
    if columns:
        line = io.StringIO()
        csv.writer(line, lineterminator="").writerow(columns)
        fh.write(line.getvalue() + "\n")
    rows = arr.reshape(-1, 1) if arr.ndim == 1 else arr
    row_format = ",".join([cell] * rows.shape[1]) + "\n"
    step = max(1, WRITE_CELLS // max(1, rows.shape[1]))
    for start in range(0, rows.shape[0], step):
        block = rows[start : start + step]
        fh.write((row_format * len(block)) % tuple(block.ravel().tolist()))
