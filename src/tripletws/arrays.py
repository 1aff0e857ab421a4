"""Arrays inside JSON model files: compact, typed, validated.

An array is written as ``{"dtype": "<f8", "shape": [m, k], "zlib_base64": "..."}``: the
little-endian bytes of the array, deflated (zlib) and base64-encoded.  This is about
3x smaller than JSON lists of float64 and reads back bit for bit, with no pickle.
Readers also accept plain (nested) JSON lists, the form of schema version 1.

:func:`decode_array` trusts nothing: the dtype must be one of a few plain numeric
types, the shape a short list of non-negative ints, the entry count capped, and the
inflated byte count must match the shape exactly (inflation stops past it, so a
small record cannot expand into a huge buffer).
"""

from __future__ import annotations

import base64
import binascii
import math
import zlib
from typing import Any

import numpy as np

#: dtypes an array record may declare (little-endian or byte-order free).
DTYPES = ("<f8", "<i8", "<i4", "<i2", "|i1", "|b1")
#: Largest number of entries one array record may hold.
MAX_ENTRIES = 1 << 31
_KINDS = {"f": "fiu", "i": "iu", "b": "b"}
_RECORD_KEYS = {"dtype", "shape", "zlib_base64"}
#: Most bytes inflated at a time, straight into the decoded array (one bytes object of the whole
#: array, then a copy of it, page-faulted 400 MB for a 200 MB table of a 5 000-worker crowd).
_INFLATE_STEP = 1 << 20
#: Deflate's largest expansion (zlib's FAQ: 1032:1): a record whose shape holds more bytes than its
#: data can inflate to gets no buffer of that size (it is refused, by the inflation of old).
_DEFLATE_MAX_RATIO = 1032


def encode_array(arr: np.ndarray) -> dict[str, Any]:
    """JSON-ready record of ``arr``: floats as float64, ints and bools at their own width."""
    a = np.asarray(arr)
    # no copy where the array already has the stored type (a crowd's (m, m) float64 tables were copied
    # twice, by astype and tobytes, before zlib read them: 200 MB each at m = 5 000)
    if a.dtype.kind == "f":
        a = a.astype("<f8", copy=False)
    elif a.dtype.kind in "iu":
        a = a.astype(a.dtype.newbyteorder("<") if a.dtype.itemsize > 1 else a.dtype, copy=False)
    if a.dtype.str not in DTYPES:
        raise ValueError(f"cannot store arrays of dtype {a.dtype} (use one of {', '.join(DTYPES)})")
    flat = np.ascontiguousarray(a).reshape(-1)  # (ascontiguousarray makes a 0-d array 1-d: not a's shape)
    data = zlib.compress(memoryview(flat.view(np.uint8)), 1)
    return {"dtype": a.dtype.str, "shape": list(a.shape), "zlib_base64": base64.b64encode(data).decode()}


def _shape(value: Any, name: str) -> tuple[int, ...]:
    if not isinstance(value, list) or len(value) > 8:
        raise ValueError(f"{name}: shape must be a list of at most 8 integers")
    if not all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= MAX_ENTRIES for s in value):
        raise ValueError(f"{name}: shape entries must be non-negative integers, got {value!r}")
    if math.prod(value) > MAX_ENTRIES:
        raise ValueError(f"{name}: {math.prod(value)} entries exceed the limit of {MAX_ENTRIES}")
    return tuple(value)


def _from_record(record: dict[str, Any], name: str) -> np.ndarray:
    if set(record) != _RECORD_KEYS:
        raise ValueError(f"{name}: an array record has exactly the keys {sorted(_RECORD_KEYS)}")
    dtype = record["dtype"]
    if dtype not in DTYPES:
        raise ValueError(f"{name}: dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    shape = _shape(record["shape"], name)
    expected = math.prod(shape) * np.dtype(dtype).itemsize
    text = record["zlib_base64"]
    if not isinstance(text, str):
        raise ValueError(f"{name}: zlib_base64 must be a string")
    try:
        packed = base64.b64decode(text.encode("ascii"), validate=True)
        inflater = zlib.decompressobj()
        raw, filled = _inflate(inflater, packed, expected)
    except (binascii.Error, UnicodeEncodeError, zlib.error, ValueError) as exc:
        raise ValueError(f"{name}: damaged array data ({exc})") from exc
    if filled != expected or not inflater.eof or inflater.unused_data:
        raise ValueError(f"{name}: array data does not match dtype {dtype} and shape {list(shape)}")
    return raw.view(dtype).reshape(shape)


def _inflate(inflater: Any, packed: bytes, expected: int) -> tuple[np.ndarray, int]:
    """Inflate ``packed`` into a new writable buffer of ``expected`` bytes, stopping past it.

    Parameters
    ----------
    inflater : zlib decompression object
        Fresh; afterwards its ``eof`` and ``unused_data`` say whether the stream ended, and ended
        where the data did.
    packed : bytes
        The deflated data.
    expected : int
        The bytes the record's dtype and shape hold.

    Returns
    -------
    buffer : ndarray of uint8, shape (expected,)
        The inflated bytes (its first ``filled``).
    filled : int
        Bytes inflated: ``expected + 1`` where the data hold more (inflation stops there, so a small
        record cannot expand into a huge buffer), fewer where they end early.  The buffer is
        allocated only where the data can fill it; otherwise they are inflated as they come
        (so fewer bytes, and the record is refused).
    """
    if expected > _DEFLATE_MAX_RATIO * len(packed):  # cannot fill the shape: no buffer of its size
        short = np.frombuffer(inflater.decompress(packed, expected + 1), dtype=np.uint8)
        return short, len(short)
    raw = np.empty(expected, dtype=np.uint8)
    view = memoryview(raw)
    filled, data = 0, packed
    while not inflater.eof:
        piece = inflater.decompress(data, min(_INFLATE_STEP, expected + 1 - filled))
        data = inflater.unconsumed_tail
        if filled + len(piece) > expected:
            return raw, expected + 1
        view[filled : filled + len(piece)] = piece
        filled += len(piece)
        if not piece:  # below the output limit, all input read and no stream end: the data end early
            break
    return raw, filled


def _from_lists(value: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError, OverflowError) as exc:  # ragged lists
        raise ValueError(f"{name}: not a rectangular array ({exc})") from exc
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise ValueError(f"{name}: expected numbers, got {arr.dtype} entries")
    if arr.size > MAX_ENTRIES:
        raise ValueError(f"{name}: too many entries")
    return arr


def decode_array(
    value: Any,
    name: str,
    *,
    kind: str = "f",
    ndim: int | None = None,
    shape: tuple[int, ...] | None = None,
    stored_ints: bool = False,
) -> np.ndarray:
    """Read an array record (or plain JSON lists) and check it.

    Parameters
    ----------
    value : dict or list
        An :func:`encode_array` record, or nested lists (schema version 1).
    name : str
        Field name used in error messages.
    kind : {"f", "i", "b"}
        Float (returned as float64; integer data allowed), integer (int64) or bool.
    ndim, shape : optional
        Required dimensionality or exact shape.
    stored_ints : bool
        With ``kind="i"``: keep the integer type the record stores (a copy, writable) instead of
        int64 (a label matrix's rows stored as int8 would take eight times their size).

    Raises
    ------
    ValueError
        Naming ``name`` and what is wrong.
    """
    arr = _from_record(value, name) if isinstance(value, dict) else _from_lists(value, name)
    if arr.size == 0:
        arr = arr.astype({"f": np.float64, "i": np.int64, "b": bool}[kind])
    if kind == "b" and arr.dtype.kind in "iu" and np.isin(arr, (0, 1)).all():
        arr = arr.astype(bool)
    if arr.dtype.kind not in _KINDS[kind]:
        raise ValueError(f"{name}: expected {dict(f='numbers', i='integers', b='booleans')[kind]}")
    if ndim is not None and arr.ndim != ndim and not (arr.size == 0 and shape is not None):
        raise ValueError(f"{name}: expected {ndim} dimension(s), got shape {list(arr.shape)}")
    if shape is not None:
        if arr.size == 0 and math.prod(shape) == 0:
            arr = arr.reshape(shape)
        if arr.shape != tuple(shape):
            raise ValueError(f"{name}: expected shape {list(shape)}, got {list(arr.shape)}")
    keep = stored_ints and kind == "i" and arr.dtype.kind == "i"
    # a record's array is its own (inflated into a new buffer): no copy where it has the type asked for
    out = arr.astype(
        arr.dtype if keep else {"f": np.float64, "i": np.int64, "b": bool}[kind],
        copy=not isinstance(value, dict),
    )
    if kind == "f" and not np.all(np.isfinite(out)):
        raise ValueError(f"{name}: entries must be finite")
    return out
