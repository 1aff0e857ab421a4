"""Reading label matrices and labels from files, writing result arrays.

Supported formats (chosen by the file extension):

``.npy``      one array; read as a read-only memmap, so large matrices are never loaded whole.
``.npz``      an archive; the matrix is the array named ``key`` (``"L"`` by default, or the only
              array when there is just one), labels the array ``"y"``.
``.csv``      integers separated by commas (or tabs / semicolons / spaces); a first row that is
              not numeric is taken as a header and skipped.
``.parquet``  one column per labeling function (needs ``pyarrow``: ``pip install tripletws[parquet]``).

Values are not checked here beyond parsing; :func:`tripletws.matrix.check_label_matrix` and
:func:`tripletws.matrix.check_labels` validate them and name the offending column and value.
Every error is a ``ValueError`` (or ``OSError`` for a missing or unreadable file) that starts
with the path.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import IO

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
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable .npz archive ({exc})") from exc
    with archive:
        names = list(archive.files)
        name = key or default
        if name not in names:
            if key is None and len(names) == 1:
                name = names[0]
            else:
                hint = "; choose one with --key" if what == "label matrix" else ""
                raise ValueError(
                    f"{path}: no array {name!r} for the {what} (arrays: {', '.join(names) or 'none'}){hint}"
                )
        try:
            return archive[name]
        except ValueError as exc:  # object arrays need pickle, which is never allowed
            raise ValueError(f"{path}: array {name!r} cannot be read ({exc})") from exc


def _sniff_delimiter(line: str) -> str | None:
    for delim in (",", "\t", ";"):
        if delim in line:
            return delim
    return None  # whitespace


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _read_csv(path: Path) -> np.ndarray:
    with open(path, encoding="utf-8") as fh:
        first = ""
        skip = 0
        for line in fh:
            skip += 1
            if line.strip():
                first = line
                break
    if not first:
        raise ValueError(f"{path}: empty CSV file")
    delim = _sniff_delimiter(first)
    tokens = [t.strip().strip('"') for t in (first.split(delim) if delim else first.split())]
    header = not all(_is_number(t) for t in tokens if t)
    try:
        with warnings.catch_warnings():  # a header-only file is reported below
            warnings.filterwarnings("ignore", message="loadtxt: input contained no data")
            arr = np.loadtxt(
                path, delimiter=delim, skiprows=skip if header else skip - 1, ndmin=2, dtype=np.float64
            )
    except ValueError as exc:
        raise ValueError(f"{path}: cannot parse as a numeric CSV ({exc})") from exc
    if arr.size == 0:
        raise ValueError(f"{path}: CSV file has a header but no rows")
    # Integral values in int16 range are stored compactly; anything else is left for validation.
    if np.all(arr == np.round(arr)) and arr.min() >= -(2**15) and arr.max() < 2**15:
        arr = arr.astype(np.int16)
    return arr


def _read_parquet(path: Path) -> tuple[np.ndarray, list[str]]:
    pq = _import_pyarrow_parquet(path)
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises its own exception types for damaged files
        raise ValueError(f"{path}: not a readable Parquet file ({exc})") from exc
    if table.num_columns == 0:
        raise ValueError(f"{path}: Parquet file has no columns")
    cols = []
    for name, col in zip(table.column_names, table.columns, strict=True):
        values = col.to_numpy(zero_copy_only=False)
        if values.dtype == object:
            raise ValueError(f"{path}: column {name!r} is not numeric (dtype {col.type})")
        cols.append(values)
    return np.column_stack(cols), list(table.column_names)


def _read_npy(path: Path, mmap_mode: str | None = None) -> np.ndarray:
    try:
        return np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable .npy array ({exc})") from exc


def read_matrix(path: str | Path, key: str | None = None) -> np.ndarray:
    """Read a label matrix from ``.npy``, ``.npz``, ``.csv`` or ``.parquet``.

    Parameters
    ----------
    path : str or Path
    key : str, optional
        Array name inside an ``.npz`` archive (default ``"L"``, or its only array).

    Returns
    -------
    ndarray, shape (n, m)
        A read-only memmap for ``.npy`` files; values are validated later.
    """
    path = Path(path)
    suffix = _suffix(path)
    _require_file(path)
    if suffix == ".npy":
        arr = _read_npy(path, mmap_mode="r")
    elif suffix == ".npz":
        arr = _npz_array(path, key, MATRIX_KEY, "label matrix")
    elif suffix == ".csv":
        arr = _read_csv(path)
    else:
        arr, _ = _read_parquet(path)
    if arr.ndim != 2:
        raise ValueError(
            f"{path}: the label matrix must be 2-dimensional (rows x labeling functions), "
            f"got shape {arr.shape}"
        )
    return arr


def read_labels(path: str | Path, key: str | None = None) -> np.ndarray:
    """Read gold labels (a vector; -1 = unknown) from ``.npy``, ``.npz``, ``.csv`` or ``.parquet``.

    ``.npz``: the array ``key`` (default ``"y"``); ``.parquet``: the column ``key`` (default
    ``"y"``, or the only column); ``.csv``: a single column or a single row.

    Returns
    -------
    ndarray, shape (n,)
    """
    path = Path(path)
    suffix = _suffix(path)
    _require_file(path)
    if suffix == ".npy":
        arr = _read_npy(path)
    elif suffix == ".npz":
        arr = _npz_array(path, key, LABELS_KEY, "labels")
    elif suffix == ".csv":
        arr = _read_csv(path)
    else:
        table, names = _read_parquet(path)
        name = key or LABELS_KEY
        if name in names:
            arr = table[:, names.index(name)]
        elif len(names) == 1 and key is None:
            arr = table[:, 0]
        else:
            raise ValueError(f"{path}: no column {name!r} for the labels (columns: {', '.join(names)})")
    arr = np.asarray(arr)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"{path}: labels must be one column, got shape {arr.shape}")
    return arr


def write_array(path: str | Path, arr: np.ndarray, columns: list[str] | None = None, key: str = "y") -> None:
    """Write a 1-D or 2-D array to ``.npy``, ``.npz`` (array ``key``), ``.csv`` or ``.parquet``.

    Parameters
    ----------
    columns : list of str, optional
        Header row of a CSV file / column names of a Parquet file.
    """
    path = Path(path)
    suffix = _suffix(path)
    arr = np.asarray(arr)
    if suffix == ".npy":
        np.save(path, arr, allow_pickle=False)
    elif suffix == ".npz":
        np.savez_compressed(path, **{key: arr})
    elif suffix == ".csv":
        with open(path, "w", encoding="utf-8") as fh:
            write_csv(fh, arr, columns)
    else:
        pq = _import_pyarrow_parquet(path)
        import pyarrow as pa

        cols = arr.reshape(len(arr), -1)
        names = columns or [f"c{j}" for j in range(cols.shape[1])]
        pq.write_table(pa.table({name: cols[:, j] for j, name in enumerate(names)}), path)


def write_csv(fh: IO[str], arr: np.ndarray, columns: list[str] | None = None) -> None:
    """Write a 1-D or 2-D array as CSV to an open text file (integers as such, floats to 10 digits)."""
    arr = np.asarray(arr)
    fmt = "%d" if arr.dtype.kind in "iub" else "%.10g"
    header = ",".join(columns) if columns else ""
    np.savetxt(fh, arr, fmt=fmt, delimiter=",", header=header, comments="")
