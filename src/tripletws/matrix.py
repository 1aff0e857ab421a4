"""Label matrices: validation, conventions and chunked iteration.

Convention (Snorkel >= 0.9, WRENCH, crowd-kit): an integer matrix ``L`` of shape
(n, m), ``-1`` = abstain, classes ``0..k-1``.

Accepted inputs: numpy arrays of any integer dtype (int8 included; no arithmetic
is done in the input dtype), integral floats, nested lists, pandas and polars DataFrames,
pyarrow Tables (:func:`plain_input`; their column names are read by
:func:`tripletws.lf_names.names_of`), torch tensors, numpy masked arrays whose masked cells hold
-1, numpy memmaps (read chunk by chunk, never copied whole)
and scipy.sparse matrices.  Sparse matrices use a shifted encoding so that the implicit zero
means abstain: **class c is stored as c + 1**.  :func:`to_sparse` and
:func:`from_sparse` convert.
"""

from __future__ import annotations

import numbers
import os
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .kernels import is_sparse, small_int_dtype

ABSTAIN = -1

#: Cells per dense chunk: a chunk's float32 work arrays (8 bytes per cell for the
#: binary statistics) stay in cache.  Measured on 2 cores: 2**18 beats 2**16, 2**17,
#: 2**19 and 2**20 for m = 10, 50 and 100.
DEFAULT_CHUNK_CELLS = 1 << 18

#: Largest number of classes: votes beyond int16 are refused (CSV and float inputs are read as int16).
MAX_CARDINALITY = 1 << 15

#: Stored votes per sparse chunk.
SPARSE_CHUNK_NNZ = 1 << 17


class LabelMatrixError(ValueError):
    """A label matrix that is not valid input (its shape, dtype or a value), with the place named."""


_ROW_IN_MESSAGE = re.compile(r"\(row (\d+)\)")
#: The place of a cell that is not a number: ``(column 'x', row 3, holds 'spam')``.
_ROW_IN_CELL = re.compile(r"(\(column .*?, )row (\d+)(, holds )")

_UNKNOWN_PLACE = (
    "the dask array's chunk sizes are unknown: L.compute_chunk_sizes() first names rows of the whole matrix"
)


def rows_shifted(exc: LabelMatrixError, offset: int | None, block: int = 0) -> LabelMatrixError:
    """``exc`` with the row it names counted in the whole matrix: a block starting at row ``offset``
    (a dask block) names its own rows from 0.  ``offset=None``: the block's place is unknown (a dask
    array whose chunk sizes are unknown, as after boolean indexing): the row is named within row
    block ``block``.  Both forms of a row's place are read: ``(row 3)`` and, for a cell that is not a
    number, ``(column 1, row 3, holds 'x')``."""
    text = str(exc)
    if offset is None:
        text = _ROW_IN_MESSAGE.sub(
            lambda m: f"(row {m.group(1)} of row block {block}; {_UNKNOWN_PLACE})",
            text,
        )
        cell = _ROW_IN_CELL.subn(
            lambda m: f"{m.group(1)}row {m.group(2)} of row block {block}{m.group(3)}", text
        )
        text = cell[0] + (f"; {_UNKNOWN_PLACE}" if cell[1] else "")
        return LabelMatrixError(text)
    if not offset:
        return exc
    text = _ROW_IN_MESSAGE.sub(lambda m: f"(row {int(m.group(1)) + offset})", text)
    text = _ROW_IN_CELL.sub(lambda m: f"{m.group(1)}row {int(m.group(2)) + offset}{m.group(3)}", text)
    return LabelMatrixError(text)


def rows_in_partition(exc: LabelMatrixError, index: Any, partition: int) -> LabelMatrixError:
    """``exc`` raised on one partition of a dask DataFrame (whose place in the whole frame is unknown
    without a pass over the partitions before it), its row named within the partition and by its
    index label (``index``: the partition's pandas index)."""

    def label(r: str) -> str:
        try:
            value = index[int(r)]
        except (IndexError, TypeError, ValueError):
            return ""
        value = value.item() if isinstance(value, np.generic) else value
        return f", index {value!r}"

    text = _ROW_IN_MESSAGE.sub(
        lambda m: f"(row {m.group(1)} of partition {partition}{label(m.group(1))})", str(exc)
    )
    text = _ROW_IN_CELL.sub(
        lambda m: f"{m.group(1)}row {m.group(2)} of partition {partition}{label(m.group(2))}{m.group(3)}",
        text,
    )
    return LabelMatrixError(text)


@dataclass(frozen=True)
class LabelMatrix:
    """A validated label matrix.

    Attributes
    ----------
    data : ndarray or scipy.sparse.csr_array
        Dense: an integer array (possibly a memmap) in the -1/0..k-1 convention.
        Sparse: CSR with class c stored as c + 1 and abstains implicit.
    cardinality : int
        Number of classes k; every vote is checked to lie in 0..k-1.
    """

    data: Any
    cardinality: int

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.data.shape)  # type: ignore[return-value]

    @property
    def n(self) -> int:
        return int(self.data.shape[0])

    @property
    def m(self) -> int:
        return int(self.data.shape[1])

    @property
    def is_sparse(self) -> bool:
        return is_sparse(self.data)

    def chunk_rows(self, chunk_size: int | None = None) -> int:
        """Rows per chunk (default: about ``DEFAULT_CHUNK_CELLS`` cells)."""
        if chunk_size is not None:
            if chunk_size < 1:
                raise ValueError(f"chunk_size must be a positive integer, got {chunk_size}")
            return int(chunk_size)
        if self.is_sparse:
            # sparse products cost ~ nnz per row squared: aim at SPARSE_CHUNK_NNZ stored votes
            per_row = max(1.0, self.data.nnz / max(self.n, 1))
            return int(min(1 << 18, max(1024, SPARSE_CHUNK_NNZ / per_row)))
        return max(1024, DEFAULT_CHUNK_CELLS // max(self.m, 1))

    def chunks(
        self, chunk_size: int | None = None, *, release_pages: bool = True
    ) -> Iterator[tuple[int, Any]]:
        """Yield ``(start_row, block)``; dense blocks are value-checked as they pass.

        When the matrix is a read-only file mapping (``np.load(..., mmap_mode="r")``
        or ``np.memmap(..., mode="r")``) and ``release_pages`` is true, the pages of
        each block are handed back to the OS (``madvise(MADV_DONTNEED)``) once the
        consumer asks for the next block, so the resident memory stays at a few
        chunks however large the file; the data stays in the page cache.
        """
        step = self.chunk_rows(chunk_size)
        pages = self.page_release() if release_pages else None
        for start in range(0, self.n, step):
            block = self.read_rows(start, start + step)
            yield start, block
            if pages is not None:
                pages.release(block)

    def read_rows(self, start: int, stop: int) -> Any:
        """Rows ``start:stop`` as one block (dense blocks are value-checked).

        Safe to call from several threads at once (the parallel chunk passes do).
        """
        if self.is_sparse:
            return _csr_rows(self.data, start, stop)
        block = np.asarray(self.data[start:stop])
        _check_dense_values(block, self.cardinality, col_offset=0, row_offset=start)
        return block

    def page_release(self) -> _PageRelease | None:
        """Releaser of the pages under blocks already read (read-only file mappings only, else None)."""
        return None if self.is_sparse else _PageRelease.of(self.data)

    def take_rows(self, rows: np.ndarray) -> LabelMatrix:
        """The rows ``rows`` (sorted, ascending) as a new in-memory LabelMatrix.

        A read-only file mapping is gathered range by range with its pages
        released behind, so sampling rows across a large memmap keeps the
        resident memory at one range (as :meth:`chunks` does).
        """
        rows = np.asarray(rows, dtype=np.int64)
        pages = None if self.is_sparse else _PageRelease.of(self.data)
        if pages is None:
            return LabelMatrix(self.data[rows], self.cardinality)
        out = np.empty((len(rows), self.m), dtype=self.data.dtype)
        span = 16 * self.chunk_rows()
        cuts = np.searchsorted(rows, np.arange(0, self.n + span, span))
        for i in range(len(cuts) - 1):
            a, b = int(cuts[i]), int(cuts[i + 1])
            if b > a:
                out[a:b] = self.data[rows[a:b]]
                pages.release(self.data[i * span : (i + 1) * span])
        return LabelMatrix(out, self.cardinality)


class _PageRelease:
    """Drops the resident pages of a read-only file mapping behind a sequential reader."""

    def __init__(self, mm: Any, base_address: int) -> None:
        import mmap

        self._mm = mm
        self._base = base_address
        self._page = mmap.PAGESIZE
        self._advice = mmap.MADV_DONTNEED

    @classmethod
    def of(cls, arr: Any) -> _PageRelease | None:
        """The mapping behind ``arr`` when it is a read-only ``mmap`` (else None).

        Only read-only mappings qualify: dropping their pages loses nothing (they
        are read back from the file), whereas a copy-on-write mapping would lose
        its private changes.
        """
        import mmap

        if not hasattr(mmap, "MADV_DONTNEED") or not isinstance(arr, np.ndarray):
            return None
        obj = arr
        for _ in range(64):
            base = obj.base
            if isinstance(base, mmap.mmap):
                try:
                    with memoryview(base) as view:
                        if not view.readonly:
                            return None
                    address = np.frombuffer(base, dtype=np.uint8).ctypes.data
                except (ValueError, TypeError, BufferError):
                    return None
                return cls(base, address)
            if not isinstance(base, np.ndarray):
                return None
            obj = base
        return None

    def release(self, block: np.ndarray) -> None:
        """Advise the kernel that the whole pages under ``block`` are not needed now."""
        if block.size == 0:
            return
        lo = hi = block.ctypes.data
        for n, stride in zip(block.shape, block.strides, strict=True):
            span = (n - 1) * stride
            lo, hi = (lo + span, hi) if span < 0 else (lo, hi + span)
        hi += block.itemsize
        start = (lo - self._base) // self._page * self._page
        stop = (hi - self._base) // self._page * self._page  # keep the page the next block starts in
        if stop > start >= 0:
            try:
                self._mm.madvise(self._advice, start, stop - start)
            except (OSError, ValueError):
                pass


def _csr_rows(X: Any, start: int, stop: int) -> Any:
    """Rows ``start:stop`` of a canonical CSR array as views of its arrays (no copy)."""
    import scipy.sparse as sp

    stop = min(stop, X.shape[0])
    indptr = X.indptr[start : stop + 1]
    lo, hi = int(indptr[0]), int(indptr[-1])
    return sp.csr_array(
        (X.data[lo:hi], X.indices[lo:hi], indptr - lo), shape=(stop - start, X.shape[1]), copy=False
    )


def _first_bad(mask: np.ndarray) -> tuple[int, int]:
    r, c = np.argwhere(mask)[0]
    return int(r), int(c)


def _check_dense_values(block: np.ndarray, k: int | None, col_offset: int, row_offset: int) -> None:
    """Raise ValueError naming the first cell outside -1..k-1."""
    if block.size == 0:
        return
    lo, hi = block.min(), block.max()
    if lo < ABSTAIN:
        r, c = _first_bad(block < ABSTAIN)
        raise LabelMatrixError(
            f"label matrix has value {int(block[r, c])} in column {c + col_offset} "
            f"(row {r + row_offset}); votes must be -1 (abstain) or a class 0..k-1"
        )
    if k is not None and hi >= k:
        wrapped = _wrapped_abstain(block)
        r, c = _first_bad(block == wrapped if wrapped is not None else block >= k)
        # an unsigned dtype's largest value is -1 cast to it: no cardinality fixes that
        hint = _wrap_hint(block.dtype, wrapped) if wrapped is not None else _cardinality_hint(int(hi))
        raise LabelMatrixError(
            f"label matrix has value {int(block[r, c])} in column {c + col_offset} "
            f"(row {r + row_offset}), outside 0..{k - 1} for cardinality {k}{hint}"
        )


def _wrapped_abstain(block: np.ndarray) -> int | None:
    """The value -1 (abstain) takes when cast to ``block``'s unsigned dtype, when ``block`` holds it."""
    if block.dtype.kind != "u" or block.size == 0:
        return None
    top = int(np.iinfo(block.dtype).max)
    return top if int(block.max()) == top else None


def _wrap_hint(dtype: np.dtype, wrapped: int) -> str:
    return (
        f": {wrapped} is -1 (abstain) cast to the unsigned dtype {dtype}; give the votes a signed dtype "
        "(e.g. int16) before writing -1"
    )


def _cardinality_hint(top: int) -> str:
    """What to do about a vote above k - 1, whose largest value is ``top``."""
    return (
        f": set cardinality={top + 1} if there are {top + 1} classes 0..{top}; if the classes are "
        "numbered from 1, subtract 1 from the votes (tripletws.from_metal(L) where 0 means abstain)"
    )


#: What to do about NaN in a label matrix.
NAN_HINT = "; write -1 for abstain (e.g. np.nan_to_num(L, nan=-1).astype(int))"


def _scan_blocks(arr: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """``(first row, block)`` of a dense matrix in blocks of about ``16 * DEFAULT_CHUNK_CELLS`` cells; a
    read-only file mapping has each block's pages released once the caller is done with it (as
    :meth:`LabelMatrix.chunks` does), so a scan of a large ``.npy`` keeps one block resident."""
    pages = _PageRelease.of(arr)
    step = max(1, (16 * DEFAULT_CHUNK_CELLS) // max(arr.shape[1], 1))
    for start in range(0, arr.shape[0], step):
        block = arr[start : start + step]
        yield start, block
        if pages is not None:
            pages.release(block)


def _dense_from_float(arr: np.ndarray) -> np.ndarray:
    """Integral floats as int16 votes, checked and converted block by block of rows (a float memmap is
    read once, with temporaries the size of a block, not of the matrix).

    Parameters
    ----------
    arr : ndarray of float, shape (n, m)

    Returns
    -------
    ndarray of int16, shape (n, m)
    """
    out = np.empty(arr.shape, dtype=np.int16)
    for start, rows in _scan_blocks(arr):
        block = np.asarray(rows)
        nan = np.isnan(block)
        if nan.any():
            r, c = _first_bad(nan)
            raise LabelMatrixError(f"label matrix has NaN in column {c} (row {r + start}){NAN_HINT}")
        bad = block != np.round(block)
        if bad.any():
            r, c = _first_bad(bad)
            raise LabelMatrixError(
                f"label matrix has non-integer value {block[r, c].item()!r} in column {c} (row {r + start})"
            )
        if block.size and (block.min() < -128 or block.max() > 32767):
            r, c = _first_bad((block < -128) | (block > 32767))
            raise LabelMatrixError(
                f"label matrix has value {block[r, c].item()!r} in column {c} (row {r + start})"
            )
        out[start : start + len(block)] = block
    return out


def _first_non_number(arr: np.ndarray, frame: Any = None, limit: int = 100_000) -> str:
    """Where an object or text matrix first holds something that is not a number (for the error).

    Parameters
    ----------
    arr : ndarray, shape (n, m)
    frame : DataFrame, optional
        The input ``arr`` came from: its column names are used, and its columns' dtypes point
        at the column to look in.
    limit : int
        At most this many cells are looked at (an error path: a large matrix is not scanned).

    Returns
    -------
    str
        ``" (column 'x', row 3, holds 'spam')"``, or ``""`` when none was found.
    """
    if arr.ndim != 2 or arr.dtype.kind not in "OUS":
        return ""
    columns = list(range(arr.shape[1]))
    dtypes = getattr(frame, "dtypes", None)
    dtypes = None if dtypes is None else list(dtypes)  # pandas: a Series; polars: a list
    if dtypes is not None and len(dtypes) == len(columns):
        # the columns pandas does not hold as numbers first (a stable sort keeps their order; a dtype
        # without a numpy kind, as polars', counts as not a number)
        columns.sort(key=lambda c: getattr(dtypes[c], "kind", "O") in "iufb")
    seen = 0
    for c in columns:
        for r in range(arr.shape[0]):
            value = arr[r, c]
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
                names = getattr(frame, "columns", None)
                column = repr(str(names[c])) if names is not None else c
                return f" (column {column}, row {r}, holds {value!r})"
            seen += 1
            if seen >= limit:
                return ""
    return ""


def _numbers_from_objects(arr: np.ndarray) -> np.ndarray:
    """An object array of Python or numpy numbers as int64 (integers only) or float64 (for the float
    checks' messages); any other object array is returned as it is, for its error to name the cell.

    A list of lists built in Python, or ``np.array(..., dtype=object)``, holds its votes so.
    """
    kinds = set(map(type, arr.ravel().tolist()))  # tolist: numpy scalars become Python numbers
    if not kinds or not all(issubclass(t, (int, float)) and not issubclass(t, bool) for t in kinds):
        return arr
    if all(issubclass(t, int) for t in kinds):
        try:
            return arr.astype(np.int64)
        except OverflowError:  # an integer beyond 64 bits: out of range, named by the float checks
            pass
    return arr.astype(np.float64)


def _sparse_cell(X: Any, pos: int) -> str:
    """``"column c (row r)"`` of stored entry ``pos`` of a canonical CSR matrix ``X``: the cell a dense
    matrix's error names (entries are in row-major order, so the first bad entry is the dense first)."""
    row = int(np.searchsorted(X.indptr, pos, side="right")) - 1
    return f"column {int(X.indices[pos])} (row {row})"


def _validate_sparse(L: Any, k: int | None, name: str) -> tuple[Any, int]:
    import scipy.sparse as sp

    if L.ndim != 2:  # a 1-D sparse array (scipy >= 1.13): its one shape entry was read as two
        raise LabelMatrixError(
            f"{name} must be 2-dimensional (n rows x m labeling functions), got ndim={L.ndim} with shape "
            f"{L.shape} ({a_type(L)})"
        )

    if not getattr(L, "has_canonical_format", True) or getattr(L, "format", None) == "coo":
        coo = sp.coo_array(L)
        if coo.nnz and len(np.unique(coo.row.astype(np.int64) * coo.shape[1] + coo.col)) < coo.nnz:
            raise LabelMatrixError(
                f"sparse {name} has duplicate entries for the same cell; scipy would add them "
                "into a different class, so give one vote per cell"
            )
    X = sp.csr_array(L, copy=True)
    X.sum_duplicates()
    X.eliminate_zeros()
    if X.ndim != 2:
        raise LabelMatrixError(f"{name} must be 2-dimensional, got ndim={X.ndim}")
    data = X.data
    if data.dtype.kind == "f":
        if np.isnan(data).any():
            at = _sparse_cell(X, int(np.flatnonzero(np.isnan(data))[0]))
            raise LabelMatrixError(f"sparse label matrix has NaN in {at}{NAN_HINT}")
        frac = data != np.round(data)
        if frac.any():
            pos = int(np.flatnonzero(frac)[0])
            raise LabelMatrixError(
                f"sparse label matrix has non-integer value {data[pos].item()!r} in {_sparse_cell(X, pos)}"
            )
    elif data.dtype.kind not in "iub":
        raise LabelMatrixError(f"sparse label matrix must hold integers, got dtype {data.dtype}")
    if data.size and data.min() < 1:
        pos = int(np.flatnonzero(data < 1)[0])
        raise LabelMatrixError(
            f"sparse label matrix has value {data[pos].item()!r} in {_sparse_cell(X, pos)}; "
            "sparse matrices store class c as c + 1 (0 / implicit = abstain)"
        )
    top = int(data.max()) if data.size else 1
    kk = max(2, top) if k is None else k
    if top > kk:
        pos = int(np.flatnonzero(data > kk)[0])
        raise LabelMatrixError(
            f"sparse label matrix has stored value {int(data[pos])} (class {int(data[pos]) - 1}) "
            f"in {_sparse_cell(X, pos)}, outside 0..{kk - 1} for cardinality {kk}"
            f"{_cardinality_hint(top - 1)}"
        )
    X.data = data.astype(np.int16)
    # One index type for indices and indptr, so that row slices need no conversion.
    idx = np.int32 if max(X.nnz, X.shape[1]) < np.iinfo(np.int32).max else np.int64
    X.indices = X.indices.astype(idx, copy=False)
    X.indptr = X.indptr.astype(idx, copy=False)
    return X, kk


def check_cardinality(cardinality: Any) -> int:
    """Validate k (an integer >= 2)."""
    if isinstance(cardinality, bool) or not isinstance(cardinality, numbers.Integral):
        raise ValueError(f"cardinality must be an integer >= 2, got {cardinality!r}")
    if cardinality < 2:
        raise ValueError(f"cardinality must be >= 2, got {cardinality}")
    if cardinality > MAX_CARDINALITY:
        raise ValueError(
            f"cardinality {cardinality} is too large; at most {MAX_CARDINALITY} classes are supported"
        )
    return int(cardinality)


def _value_range(arr: np.ndarray) -> tuple[int, int]:
    """(min, max) of a dense integer matrix, read in row blocks (:func:`_scan_blocks`: inferring k
    from a large ``.npy`` keeps one block resident, not the whole file)."""
    lo, hi = None, None
    for start, block in _scan_blocks(arr):
        b_lo, b_hi = int(block.min()), int(block.max())
        if b_lo < ABSTAIN:
            _check_dense_values(np.asarray(block), None, col_offset=0, row_offset=start)
        lo = b_lo if lo is None else min(lo, b_lo)
        hi = b_hi if hi is None else max(hi, b_hi)
    return (ABSTAIN, ABSTAIN) if lo is None or hi is None else (lo, hi)


#: What a label matrix is, and what gold labels are (for the errors about inputs that are neither).
_MATRIX = "a label matrix (n rows x m LFs, -1 = abstain)"
_LABELS = "gold labels (a 1-D array, one per row, -1 = unknown)"


def type_name(x: Any) -> str:
    """``x``'s type as a user knows it: ``dict``, ``polars.DataFrame``, ``pyarrow.Table``."""
    t = type(x)
    package = t.__module__.split(".")[0]
    return t.__qualname__ if package == "builtins" else f"{package}.{t.__qualname__}"


def a_type(x: Any) -> str:
    """``"a dict"``, ``"an int"``: :func:`type_name` with its article."""
    kind = type_name(x)
    return f"{'an' if kind[0].lower() in 'aeio' else 'a'} {kind}"


def _not_an_array(x: Any, name: str, what: str, reader: str) -> str | None:
    """Why ``x`` is no array at all (None, a path, a dict, a set, an iterator, a lazy frame), or None.

    numpy reads each of these as a 0-d object array, whose error ("got ndim=0 with shape ()") said
    neither what was passed nor what to pass instead."""
    kind = a_type(x)
    if x is None:
        return f"{name} is None; pass {what}"
    if isinstance(x, (str, bytes, os.PathLike)):
        return (
            f"{name} is {kind} ({x!r}), not {what}; to read a file, load it first "
            f"(tripletws.files.{reader}(path) reads .npy, .npz, .csv and .parquet files) or give the file "
            "to the command line"
        )
    if isinstance(x, Mapping) and not is_sparse(x):  # (scipy's dok format is a dict of cells)
        keys = list(x)[:3]
        instead = (
            "an array of its values in row order"
            if what == _LABELS
            else "an array, or a DataFrame of its columns (pandas.DataFrame(d): string keys name the LFs)"
        )
        return f"{name} is {kind} (keys {keys}{', ...' if len(x) > 3 else ''}), not {what}; pass {instead}"
    if isinstance(x, (set, frozenset)):
        return f"{name} is {kind}, whose order is arbitrary, not {what}; pass a list or an array"
    if isinstance(x, Iterator):
        return (
            f"{name} is {kind} (read once, of unknown length), not {what}; pass a list or an array "
            "of its items (np.array(list(...)))"
        )
    if type_name(x).startswith("polars.") and hasattr(x, "collect") and not hasattr(x, "to_numpy"):
        return f"{name} is {kind}, not {what}; collect it first ({name}.collect())"
    return None


def from_torch(x: Any) -> Any:
    """A torch tensor as a numpy array (one that requires grad, or lives on a GPU, too: torch itself
    refuses those); anything else as it is."""
    if not (type(x).__module__.startswith("torch") and hasattr(x, "detach")):
        return x
    t = x.detach().cpu()
    try:
        return t.numpy()
    except TypeError:  # a dtype numpy lacks (bfloat16): its values read exactly as float32
        return t.float().numpy()


def _unmasked(x: Any, name: str, fill: int | None, what: str) -> np.ndarray:
    """A numpy masked array's data, refused where a masked cell holds another value than ``fill``
    (numpy drops the mask on conversion: the hidden value would be read as a vote or a label)."""
    data, mask = np.ma.getdata(x), np.ma.getmaskarray(x)
    bad = mask if fill is None else mask & (data != fill)
    if bad.any():
        at = tuple(int(i) for i in np.argwhere(bad)[0])
        value = data[at].item() if isinstance(data[at], np.generic) else data[at]
        place = f"cell in column {at[1]} (row {at[0]})" if len(at) == 2 else f"entry at position {at[0]}"
        todo = (
            f"fill them with {fill} ({what}): {name}.filled({fill})"
            if fill is not None
            else f"give every entry: {name}.filled(...)"
        )
        raise LabelMatrixError(
            f"{name} is a masked array whose masked {place} holds {value!r}; masked entries are "
            f"missing, and would be read as the value they hide: {todo}"
        )
    return np.asarray(data)


def _ragged(x: Any, name: str, exc: Exception) -> str:
    """The error for a sequence numpy could not read as an array: the first row whose length differs."""
    if isinstance(x, (list, tuple)) and x:
        lengths = [len(r) if isinstance(r, (list, tuple, np.ndarray)) else None for r in x]
        sizes = ["a single value" if n is None else f"{n} entries" for n in lengths]
        for i, length in enumerate(lengths):
            if length != lengths[0]:
                return (
                    f"{name} is a ragged {type_name(x)}: row {i} has {sizes[i]}, row 0 {sizes[0]}; "
                    "every row needs one entry per LF (-1 = abstain)"
                )
    return (
        f"{name}: {a_type(x)} could not be read as an array ({exc}); pass a numpy array, a list of "
        "equal-length rows or a DataFrame"
    )


def plain_input(x: Any, name: str, *, labels: bool = False) -> Any:
    """``x`` as the checks read it: a torch tensor, masked array or pyarrow Table or RecordBatch as a
    numpy array (a Table's column names are read from it by :func:`tripletws.lf_names.names_of`, as a
    pandas DataFrame's); ValueError for what is no array at all (None, a path, a dict, a generator,
    ...), naming what was given.  Other inputs
    are returned as they are (DataFrames, sparse and dask input keep their own paths).

    Parameters
    ----------
    x : any
    name : str
        What the errors call ``x``.
    labels : bool
        ``x`` is gold labels (a masked label is -1, unknown), not a label matrix.
    """
    what = _LABELS if labels else _MATRIX
    why = _not_an_array(x, name, what, "read_labels" if labels else "read_matrix")
    if why is not None:
        raise LabelMatrixError(why)
    given = x
    x = from_torch(x)
    if isinstance(x, np.ma.MaskedArray):
        x = _unmasked(x, name, ABSTAIN, "unknown" if labels else "abstain")
    elif type(x).__module__.startswith("pyarrow"):
        # a Table or RecordBatch (its column names are read from it by lf_names.names_of), an Array or
        # ChunkedArray: numpy's conversion copies where it must (their own to_numpy() refuses to, with
        # an ArrowInvalid about zero_copy_only), nulls as NaN
        x = np.asarray(x)
    if x is not given and not labels and x.ndim != 2:  # named by the type given, not numpy's
        raise _shape_error(x, given, name)
    return x


def _dense_array(L: Any, name: str) -> np.ndarray:
    """``np.asarray(L)``, a ragged or otherwise unreadable sequence named (not numpy's own error)."""
    if isinstance(L, np.ndarray):
        return L
    try:
        arr = np.asarray(L)
    except (ValueError, TypeError) as exc:
        raise LabelMatrixError(_ragged(L, name, exc)) from exc
    if arr.ndim == 0 and arr.dtype == object:  # an object numpy could not see into
        raise LabelMatrixError(f"{name} is {a_type(L)}, not {_MATRIX}; pass a 2-D array or a DataFrame")
    return arr


def _shape_error(arr: np.ndarray, given: Any, name: str) -> LabelMatrixError:
    """The error for a dense matrix that is not 2-D, naming the type given where it is not numpy's."""
    kind = "" if isinstance(given, np.ndarray) else f" ({a_type(given)})"
    hint = (
        "; give a 2-D matrix (one column per LF), e.g. a DataFrame: one row of votes is "
        "L.reshape(1, -1), one LF's column L.reshape(-1, 1)"
        if arr.ndim == 1
        else ""
    )
    return LabelMatrixError(
        f"{name} must be 2-dimensional (n rows x m labeling functions), "
        f"got ndim={arr.ndim} with shape {arr.shape}{kind}{hint}"
    )


# Over 60 lines: one dispatch over every accepted input type (sparse, DataFrame, memmap, arrays),
# each branch short; the order of the checks matters and reads best in one place.
def check_label_matrix(
    L: Any,
    cardinality: int | None = None,
    *,
    min_lfs: int = 1,
    name: str = "L",
    scan: bool = False,
    allow_empty: bool = False,
) -> LabelMatrix:
    """Validate a label matrix and wrap it for chunked reading.

    Parameters
    ----------
    L : array-like, DataFrame, memmap or scipy.sparse matrix, shape (n, m)
    cardinality : int, optional
        Number of classes k.  ``None`` infers ``max(2, max(L) + 1)`` (one scan).
    min_lfs : int
        Minimum number of columns (3 for fitting a triplet model).
    name : str
        What the error messages call the matrix (e.g. ``"L_train"``).
    scan : bool
        Check every value now instead of chunk by chunk as the data is read.
    allow_empty : bool
        Accept a matrix with no rows (prediction on an empty batch).

    Returns
    -------
    LabelMatrix
    """
    if isinstance(L, LabelMatrix):
        if cardinality is not None and L.cardinality != cardinality:
            return check_label_matrix(
                L.data, cardinality, min_lfs=min_lfs, name=name, scan=True, allow_empty=allow_empty
            )
        return L
    if cardinality is not None:
        cardinality = check_cardinality(cardinality)
    given = L
    L = plain_input(L, name)
    if is_sparse(L):
        X, k = _validate_sparse(L, cardinality, name)
        lm = LabelMatrix(X, k)
    else:
        frame = None
        if hasattr(L, "to_numpy") and not isinstance(L, np.ndarray):
            frame = L
            L = frame.to_numpy()
            if is_sparse(L):  # named sparse votes (lf_names.NamedVotes over a scipy.sparse matrix)
                return check_label_matrix(
                    L, cardinality, min_lfs=min_lfs, name=name, scan=scan, allow_empty=allow_empty
                )
            if L.dtype == object:  # pandas nullable integers (Int8, Int64, ...): NA becomes NaN
                try:
                    L = frame.to_numpy(dtype=np.float64, na_value=np.nan)
                except (TypeError, ValueError):
                    pass  # not numeric: reported below
        arr = _dense_array(L, name)
        if arr.ndim != 2:
            raise _shape_error(arr, given, name)
        if arr.dtype == object:
            arr = _numbers_from_objects(arr)
        if arr.dtype.kind == "f":
            arr = _dense_from_float(arr)
        elif arr.dtype.kind == "b":
            arr = arr.astype(np.int8)
        elif arr.dtype.kind not in "iu":
            raise LabelMatrixError(
                f"{name} must hold integers, got dtype {arr.dtype}{_first_non_number(arr, frame)}"
            )
        k = cardinality
        if k is None:
            # Inferring k needs one scan (block by block); it also checks the lower bound.
            top = _value_range(arr)[1] if arr.size else 1
            if arr.dtype.kind == "u" and arr.size and top == np.iinfo(arr.dtype).max:
                # before: k inferred as 256 from a uint8 matrix whose abstains (-1) had wrapped to 255
                for start, block in _scan_blocks(arr):
                    if (np.asarray(block) == top).any():
                        r, c = _first_bad(np.asarray(block) == top)
                        raise LabelMatrixError(
                            f"{name} has value {top} in column {c} (row {r + start})"
                            f"{_wrap_hint(arr.dtype, top)}; if it is a class, give the cardinality "
                            f"({top + 1} or more)"
                        )
            if top >= MAX_CARDINALITY:
                check_cardinality(top + 1)
            k = max(2, top + 1)
            scan = False
        lm = LabelMatrix(arr, k)
        if scan:
            for _ in lm.chunks():
                pass
    if lm.m < min_lfs:
        raise LabelMatrixError(
            f"{name} has {lm.m} labeling function(s) (columns); at least {min_lfs} are needed"
        )
    if lm.n == 0 and not allow_empty:
        raise LabelMatrixError(f"{name} has no rows")
    return lm


def check_labels(y: Any, n: int | None, cardinality: int, name: str = "Y") -> np.ndarray:
    """Validate gold labels: shape (n,), values -1 (unknown) or 0..k-1.

    ``n=None`` skips the length check (dev labels of another split).
    """
    given = y
    y = plain_input(y, name, labels=True)
    try:
        arr = np.asarray(y)
    except (ValueError, TypeError) as exc:  # a ragged list
        raise ValueError(f"{name}: {a_type(given)} could not be read as {_LABELS} ({exc})") from exc
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        kind = "" if isinstance(given, np.ndarray) else f" ({a_type(given)})"
        raise ValueError(f"{name} must be 1-dimensional, got shape {arr.shape}{kind}; pass {_LABELS}")
    if arr.shape[0] == 0 and n != 0:  # the labels of a matrix without rows are empty too
        raise ValueError(f"{name} is empty")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has length {arr.shape[0]} but the label matrix has {n} rows")
    if arr.dtype.kind == "O":  # Python ints in an object array (a list mixing int types, pandas object)
        whole = [isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in arr.tolist()]
        if not all(whole):
            pos = whole.index(False)
            raise ValueError(f"{name} must hold integers; position {pos} holds {arr[pos]!r}")
        try:
            arr = arr.astype(np.int64)
        except OverflowError as exc:
            raise ValueError(f"{name} holds an integer beyond 64 bits ({exc})") from exc
    if arr.dtype.kind == "f":
        if np.isnan(arr).any():
            raise ValueError(f"{name} has NaN at position {int(np.flatnonzero(np.isnan(arr))[0])}")
        frac = arr != np.round(arr)
        if frac.any():
            pos = int(np.flatnonzero(frac)[0])
            raise ValueError(f"{name} has non-integer value {arr[pos].item()!r} at position {pos}")
    elif arr.dtype.kind not in "iub":
        raise ValueError(f"{name} must hold integers, got dtype {arr.dtype}")
    # compared in the input's own dtype: the cast below would wrap a uint64 beyond int64 into -1
    # (unknown) and make infinite floats garbage
    bad = (arr < -1) | (arr >= cardinality)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        value = arr[pos].item()
        if isinstance(value, float) and abs(value) < 2**53:
            value = int(value)  # an integral float, named as the integer it holds
        raise ValueError(f"{name} has value {value!r} at position {pos}, outside -1..{cardinality - 1}")
    return arr.astype(np.int64)


def check_same_rows(L: Any, Y: Any, L_name: str = "L", Y_name: str = "Y", what: str | None = None) -> None:
    """ValueError where a pandas ``L`` and ``Y`` have indexes holding the same row labels in another order.

    Read by position, each gold label would go to another row; the error names the first such row.
    Indexes with other labels are read by position, as numpy arrays are (``df.iloc[rows]`` beside a
    fresh Series).

    Parameters
    ----------
    L : label matrix
    Y : gold labels
    L_name, Y_name : str
        How the error calls them.
    what : str, optional
        What is read by position (default: ``Y_name``).
    """
    index_L, index_y = (getattr(x, "index", None) for x in (L, Y))
    if not all(type(i).__module__.startswith("pandas") for i in (index_L, index_y)):
        return
    if len(index_L) != len(index_y) or index_L.equals(index_y):
        return
    if index_L.has_duplicates or set(index_L.tolist()) != set(index_y.tolist()):
        return
    labels_L, labels_y = index_L.tolist(), index_y.tolist()  # Python values, named as the user wrote them
    pos = next((i for i, (a, b) in enumerate(zip(labels_L, labels_y, strict=True)) if a != b), None)
    if pos is None:  # equal label by label where pandas' equals says not (NaN, mixed types): aligned
        return
    raise ValueError(
        f"{L_name} and {Y_name} hold the same rows in another order (row {pos}: {L_name}'s index "
        f"{labels_L[pos]!r}, {Y_name}'s {labels_y[pos]!r}); {what or Y_name} is read by position: align "
        f"them, e.g. {Y_name}.loc[{L_name}.index]"[:400]
    )


def hint_flyingsquid_labels(y: np.ndarray, cardinality: int, name: str, stacklevel: int = 3) -> None:
    """Warn where binary gold labels ``y`` (checked) hold -1 and 1 only: FlyingSquid's -1/+1 labels
    read in this convention lose every class-0 row.  Called once per public entry point that takes
    gold (``score``, ``fit(Y_dev=)``, ``fit(L_dev=, Y_dev=)``, the report), not by
    :func:`check_labels` (several layers check the same labels)."""
    if cardinality == 2 and (y == -1).any() and (y == 1).any() and not (y == 0).any():
        warnings.warn(
            f"{name} holds -1 and 1 only: -1 means 'no gold label' here (those rows are left out) and the "
            "classes are 0 and 1; if these are FlyingSquid's -1/+1 labels, convert them with "
            f"tripletws.from_flyingsquid({name})",
            UserWarning,
            stacklevel=stacklevel + 1,
        )


# ----------------------------------------------------------------------------
# Conventions
# ----------------------------------------------------------------------------


def from_flyingsquid(L: Any) -> np.ndarray:
    """FlyingSquid / Snorkel 0.7 (0 = abstain, votes -1/+1) -> -1 abstain, classes 0/1.

    A 1-D array is gold labels in that convention (-1/+1; 0 = unknown) -> -1 unknown, classes 0/1
    (labels of shape (n, 1) convert the same way and are read as 1-D by ``score``).  A 3-D array is
    padded sequences of votes, (B, T, m) as the sequence loss takes them.  Any integer or float dtype;
    a bool array (no -1) and missing values (None, ``pd.NA``) are a ValueError.
    """
    arr = _dense_convention_input(L)
    if arr.ndim not in (1, 2, 3):
        raise ValueError(
            f"L must be 2-dimensional (or 1-D labels, or 3-D padded sequences), got shape {arr.shape}"
        )
    if arr.dtype.kind == "b":  # True would read as +1 and False as abstain (or, for labels, unknown)
        raise ValueError(
            "FlyingSquid votes and labels hold -1, 0, +1; got a bool array, which holds no -1: give the "
            "votes as integers"
        )
    if arr.dtype.kind == "O":  # a DataFrame with missing values, a list holding None: named, not a TypeError
        number = np.array(
            [
                isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                for v in arr.reshape(-1).tolist()
            ],
            dtype=bool,
        ).reshape(arr.shape)
        bad = ~number
        if not bad.any():
            arr = arr.astype(np.float64)
    else:
        bad = None
    if bad is None or not bad.any():
        bad = ~np.isin(arr, (-1, 0, 1))
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        value = arr[where]
        value = value.item() if isinstance(value, np.generic) else value
        if arr.ndim == 1:
            raise ValueError(f"FlyingSquid labels hold -1, 0, +1; found {value!r} at position {where[0]}")
        if arr.ndim == 3:
            raise ValueError(
                f"FlyingSquid votes hold -1, 0, +1; found {value!r} in sequence {where[0]}, frame "
                f"{where[1]}, column {where[2]}"
            )
        raise ValueError(
            f"FlyingSquid matrices hold -1, 0, +1; found {value!r} in column {where[1]} (row {where[0]})"
        )
    out = np.full(arr.shape, ABSTAIN, dtype=np.int8)
    out[arr == 1] = 1
    out[arr == -1] = 0
    return out


def to_flyingsquid(L: Any) -> np.ndarray:
    """-1 abstain, classes 0/1 -> FlyingSquid (0 = abstain, -1/+1 votes), as int64.

    A 1-D array is gold labels (-1 unknown, classes 0/1) -> FlyingSquid's (0 unknown, -1/+1).
    int64, not the narrowest type: FlyingSquid sums products of the votes over the rows in the
    array's own integer type (``np.einsum``), which int8 overflows without a word (an audit measured
    a mean accuracy error of 0.211 at 1e5 rows with int8, 0.0032 with int64).
    """
    if np.ndim(L) == 1 and not is_sparse(L):
        y = check_labels(L, None, 2, name="labels")
        return np.where(y == 1, 1, np.where(y == 0, -1, 0)).astype(np.int64)
    arr = check_label_matrix(L, 2, scan=True).data
    if is_sparse(arr):
        arr = from_sparse(arr)
    out = np.zeros(arr.shape, dtype=np.int64)
    out[arr == 1] = 1
    out[arr == 0] = -1
    return out


def _dense_convention_input(L: Any) -> np.ndarray:
    """A matrix in another library's convention as a dense array (a scipy.sparse one densified:
    MeTaL's own label matrices are sparse, its 0 = abstain being the implicit entries)."""
    return L.toarray() if is_sparse(L) else np.asarray(L)


def from_metal(L: Any, cardinality: int | None = None) -> np.ndarray:
    """MeTaL (0 = abstain, classes 1..k; dense or scipy.sparse) -> -1 abstain, classes 0..k-1."""
    arr = _dense_convention_input(L)
    if arr.ndim != 2:
        raise ValueError(f"L must be 2-dimensional, got shape {arr.shape}")
    if arr.dtype.kind == "f":
        arr = _dense_from_float(arr)
    if arr.size and arr.min() < 0:
        r, c = _first_bad(arr < 0)
        raise ValueError(
            f"MeTaL matrices hold 0 (abstain) or 1..k; found {arr[r, c]} in column {c} (row {r})"
        )
    if cardinality is not None and arr.size and arr.max() > cardinality:
        r, c = _first_bad(arr > cardinality)
        raise ValueError(f"MeTaL value {arr[r, c]} in column {c} exceeds cardinality {cardinality}")
    top = int(arr.max(initial=0))
    if top > MAX_CARDINALITY:
        r, c = _first_bad(arr > MAX_CARDINALITY)
        raise ValueError(f"MeTaL value {arr[r, c]} in column {c} (row {r}): over {MAX_CARDINALITY} classes")
    out = arr.astype(small_int_dtype(top))  # a copy (never the caller's array), shifted in place
    out -= 1
    return out


def to_metal(L: Any) -> np.ndarray:
    """-1 abstain, classes 0..k-1 -> MeTaL (0 = abstain, classes 1..k)."""
    arr = check_label_matrix(L, scan=True).data
    if is_sparse(arr):
        return np.asarray(arr.toarray(), dtype=np.int16)
    return arr.astype(np.int16) + 1


def dense_votes(lm: LabelMatrix, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Rows ``start:stop`` of ``lm`` (all by default) as a dense int64 array, -1 = abstain (a sparse
    matrix stores class c as c + 1)."""
    block = lm.read_rows(start, lm.n if stop is None else min(stop, lm.n))
    if lm.is_sparse:
        return np.asarray(block.toarray(), dtype=np.int64) - 1
    return np.asarray(block, dtype=np.int64)


def to_sparse(L: Any, cardinality: int | None = None):
    """Dense label matrix -> ``scipy.sparse.csr_array`` storing class c as c + 1."""
    import scipy.sparse as sp

    lm = check_label_matrix(L, cardinality, scan=True)
    if lm.is_sparse:
        return lm.data
    return sp.csr_array(lm.data.astype(np.int16) + 1)


def from_sparse(X: Any, cardinality: int | None = None) -> np.ndarray:
    """Sparse (class c stored as c + 1) -> dense int array with -1 = abstain.

    The stored values are validated as for a fit (whole numbers 1..k; ValueError naming the column).
    """
    if not is_sparse(X):
        raise ValueError(f"from_sparse takes a scipy.sparse matrix, got {type(X).__name__}")
    lm = check_label_matrix(X, cardinality)  # validates the stored values
    # shifted in the narrow output type (it holds the stored 0..k): no (n, m) int64 copy
    out = lm.data.toarray().astype(small_int_dtype(lm.cardinality), copy=False)
    out -= 1
    return out


def voted_rows(L: Any, cardinality: int | None = None) -> np.ndarray:
    """Boolean mask of the rows where at least one LF votes, shape (n,).

    Read chunk by chunk (works for memmaps and sparse matrices).
    """
    lm = L if isinstance(L, LabelMatrix) else check_label_matrix(L, cardinality, allow_empty=True)
    out = np.zeros(lm.n, dtype=bool)
    for start, block in lm.chunks():
        if lm.is_sparse:
            out[start : start + block.shape[0]] = np.diff(block.indptr) > 0
        else:
            out[start : start + block.shape[0]] = (np.asarray(block) >= 0).any(axis=1)
    return out
