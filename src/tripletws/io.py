"""Versioned JSON model files.

A file is one JSON object::

    {"format": "tripletws-model", "schema_version": 3, "class": "LabelModel",
     "tripletws_version": "...", "params": {...}, "state": {...} | null,
     "sha256": "<hash of the canonical JSON of everything else>"}

Loading trusts nothing: the file size and the nesting depth are capped before
the JSON is parsed (no pickle, nothing is executed), then the envelope, the
checksum (a truncated or damaged file fails with a clear message; anyone can
recompute it, so it is no protection against edits), the constructor parameters
and the model's own state are validated field by field.  Every problem is one
``ValueError`` naming the field.  Arrays are stored compactly
(:mod:`tripletws.arrays`); files of schema version 1 (arrays as JSON lists) still load.

Model classes register themselves here when they are defined
(:class:`tripletws.base.BaseLabeler`), so this module imports none of them.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

FORMAT = "tripletws-model"
SCHEMA_VERSION = 3
#: Schema versions this version of tripletws reads.
READABLE_VERSIONS = (1, 2, 3)
#: ``em_max_rows`` as files before schema 3 wrote it by default (the class-conditional cap, which
#: the annotator model did not read); schema 3 writes None for "each model's own".
_OLD_EM_MAX_ROWS = 2_000_000
#: Largest model file read (bytes) and deepest JSON nesting accepted.
MAX_FILE_BYTES = 1 << 30
MAX_DEPTH = 64
_ENVELOPE = ("format", "schema_version", "class", "params", "state", "sha256")
_CLASSES: dict[str, type] = {}


def register_class(cls: type) -> None:
    """Let files name ``cls`` (called for every model class when it is defined).

    A class is named by its bare name, unless a class of tripletws already has that name: then by
    ``module.qualname``.  (Until session 40 the last class defined with a name took it: a user's
    ``class LabelModel(tripletws.LabelModel)`` made every file naming ``LabelModel`` load as that
    class and run its methods, an audit found.)  Files never import anything: a class is found only
    where it was defined in the process.
    """
    key = cls.__name__
    held = _CLASSES.get(key)
    if held is not None and held is not cls and _ours(held) and not _ours(cls):
        key = f"{cls.__module__}.{cls.__qualname__}"
    _CLASSES[key] = cls


def _ours(cls: type) -> bool:
    return cls.__module__ == "tripletws" or cls.__module__.startswith("tripletws.")


def class_key(cls: type) -> str | None:
    """The name files give ``cls`` (None: not registered)."""
    for key, value in _CLASSES.items():
        if value is cls:
            return key
    return None


def _registry() -> dict[str, type]:
    """Registered classes (``import tripletws`` defines, and so registers, the built-in ones)."""
    return _CLASSES


def _canonical(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def _json_param(name: str, value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"parameter {name!r} = {value} cannot be saved")
        return value
    if hasattr(value, "tolist"):
        return _json_param(name, value.tolist())
    if isinstance(value, (list, tuple)):
        return [_json_param(name, v) for v in value]
    raise ValueError(
        f"parameter {name!r} of type {type(value).__name__} cannot be saved to JSON; use an int seed or None"
    )


def model_to_dict(model: Any) -> dict[str, Any]:
    """The JSON-ready record of a model (fitted or not)."""
    from . import __version__

    name = class_key(type(model))
    if name is None:
        raise ValueError(f"cannot save objects of type {type(model).__name__}")
    params = {k: _json_param(k, v) for k, v in model.get_params().items()}
    state = model._get_state() if hasattr(model, "_get_state") else None
    body = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "class": name,
        "tripletws_version": __version__,
        "params": params,
        "state": state,
    }
    body["sha256"] = hashlib.sha256(_canonical(body)).hexdigest()
    return body


def _envelope(record: Any, source: str) -> tuple[type, dict[str, Any], Any]:
    """Check format, version, checksum, class and parameter names; the class, params and state."""
    if not isinstance(record, dict):
        raise ValueError(f"{source}: expected a JSON object, got {type(record).__name__}")
    if record.get("format") != FORMAT:
        raise ValueError(f"{source}: not a tripletws model file (format={str(record.get('format'))[:40]!r})")
    version = record.get("schema_version")
    if type(version) is not int or version not in READABLE_VERSIONS:  # (3.0 and True are no versions)
        raise ValueError(
            f"{source}: unsupported schema_version {repr(version)[:40]} (this tripletws reads "
            f"{', '.join(map(str, READABLE_VERSIONS))})"
        )
    unknown = sorted(set(record) - set(_ENVELOPE) - {"tripletws_version"})
    if unknown:
        raise ValueError(f"{source}: unknown field(s) {unknown}")
    expected = record.get("sha256")
    body = {k: v for k, v in record.items() if k != "sha256"}
    try:
        actual = hashlib.sha256(_canonical(body)).hexdigest()
    except (ValueError, TypeError, OverflowError) as exc:
        at = _non_finite_path(body, "")
        if at is not None:
            raise ValueError(f"{source}: {at} is NaN or infinite; a model file holds finite numbers") from exc
        raise ValueError(f"{source}: invalid content ({exc})") from exc
    if expected != actual:
        raise ValueError(f"{source}: checksum mismatch; the file was modified or damaged")
    name = record.get("class")
    cls = _registry().get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"{source}: unknown model class {repr(name)[:60]}")
    params = record.get("params")
    if not isinstance(params, dict):
        raise ValueError(f"{source}: 'params' must be an object")
    unknown = set(params) - set(cls._param_names())
    if unknown:
        raise ValueError(f"{source}: unknown parameter(s) {sorted(unknown)[:5]} for {cls.__name__}")
    if version < 3:
        params = _schema2_params(params)
    edges = params.get("dependencies")
    if isinstance(edges, list):  # JSON has no tuples: the pairs come back as the (i, j) given
        params = {**params, "dependencies": [tuple(e) if isinstance(e, list) else e for e in edges]}
    return cls, params, record.get("state")


def _schema2_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters of a file before schema 3 as this version reads them: the same model.

    Until schema 3 the annotator model (the default) ignored ``em_max_rows`` and files held the
    class-conditional cap, 2 000 000, by default; now None means each model's own cap and the
    annotator reads a number.  So the annotator's value, and the old default of any model, read as None.
    """
    rows = params.get("em_max_rows")
    if "em_max_rows" in params and (
        rows == _OLD_EM_MAX_ROWS or params.get("model", "annotator") == "annotator"
    ):
        params = {**params, "em_max_rows": None}
    return params


def _non_finite_path(obj: Any, path: str) -> str | None:
    """The JSON path (``state.solution.estimate.leads.mv[1]``) of the first NaN or infinity in ``obj``.

    Parameters
    ----------
    obj : Any
        A record as ``json`` reads it (objects, lists, numbers, strings, null).
    path : str
        The path of ``obj`` ("" for the whole record).

    Returns
    -------
    str or None
        None when every number is finite.
    """
    if isinstance(obj, float):
        return None if math.isfinite(obj) else path
    if isinstance(obj, dict):
        items = ((f"{path}.{key}" if path else str(key), value) for key, value in obj.items())
    elif isinstance(obj, (list, tuple)):
        items = ((f"{path}[{i}]", value) for i, value in enumerate(obj))
    else:
        return None
    for at, value in items:
        found = _non_finite_path(value, at)
        if found is not None:
            return found
    return None


def _with_params(record: Any, source: str) -> tuple[Any, Any]:
    """The model ``record`` describes, its constructor parameters checked, and its state (not yet set)."""
    cls, params, state = _envelope(record, source)
    model = cls(**params)
    try:
        model._check_params()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{source}: invalid parameter: {exc}") from exc
    return model, state


def _with_state(model: Any, state: Any, source: str) -> Any:
    """``model`` with its fitted ``state`` set (null: unfitted), every field checked."""
    if state is not None:
        if not isinstance(state, dict):
            raise ValueError(f"{source}: 'state' must be an object or null")
        try:
            model._set_state(state)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
            raise ValueError(f"{source}: invalid fitted state: {exc}") from exc
    return model


def model_from_dict(record: Any, source: str = "model record") -> Any:
    """Rebuild a model from :func:`model_to_dict` output, validating everything (ValueError otherwise)."""
    model, state = _with_params(record, source)
    return _with_state(model, state, source)


def _check_depth(record: Any, source: str) -> None:
    """Refuse a parsed record nested deeper than MAX_DEPTH (no model file is; the readers recurse).

    Checked after parsing, with a stack over the containers: the parser refuses what it cannot nest
    (a RecursionError, reported as invalid JSON).  Until session 40 the text was scanned before
    parsing, with a regular expression that backtracked on escape-heavy strings and per-byte arrays:
    a 100 MB file under the size cap peaked at 6.2 GB there (an audit)."""
    stack = [(record, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"{source}: JSON nested deeper than {MAX_DEPTH} levels")
        children = value.values() if isinstance(value, dict) else value
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's dict, refusing a key given twice (parsers disagree on which value wins, and the
    checksum covers the parsed object: a second ``params`` before the real one loaded unnoticed)."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"the key {twice[:40]!r} is given twice in one JSON object")
    return out


def save_model(model: Any, path: str | Path) -> None:
    """Write ``model`` to ``path`` as versioned JSON, atomically (see :mod:`tripletws.atomic`)."""
    from .atomic import atomic_write_text

    atomic_write_text(path, model_text(model))


def model_text(model: Any) -> str:
    """The JSON text :func:`save_model` writes, checked to load back (a ValueError otherwise), so
    that a caller writing it beside other files can refuse it before writing any of them."""
    record = model_to_dict(model)
    source = "the model being saved"
    # a file that would not load back is not written (e.g. set_params after fit changed k)
    try:
        copy, state = _with_params(record, source)
    except ValueError as exc:
        raise ValueError(f"not saved: the file would not load back ({exc}); set a valid value") from exc
    try:
        _with_state(copy, state, source)
    except ValueError as exc:  # a refit continues the fitted stream: it cannot change what it serves
        raise ValueError(
            f"not saved: the file would not load back ({exc}); the fitted state serves the settings it was "
            "fitted with (model, cardinality, ...): fit again (fit starts a new stream), or set the "
            "setting back to its fitted value"
        ) from exc
    return json.dumps(record, separators=(",", ":"))


#: Bytes read at a time past the size the file had when it was opened.
_READ_STEP = 1 << 20


def _read_capped(path: Path, size: int) -> bytes:
    """The bytes of ``path``, at most ``MAX_FILE_BYTES + 1`` of them (one more says it is too large).

    ``size`` is what the file held when stat'ed; a file that grew since (or one whose size is not
    known, a pipe) is read on in steps of :data:`_READ_STEP`.  One ``read(MAX_FILE_BYTES + 1)``
    allocated a buffer of that size for every file, 1 GiB of address space for a model of a few
    kilobytes: a process under an address-space limit (``ulimit -v``) could not load any model.
    """
    with path.open("rb") as fh:
        parts = [fh.read(min(size, MAX_FILE_BYTES) + 1)]
        total = len(parts[0])
        while total <= MAX_FILE_BYTES and parts[-1]:
            parts.append(fh.read(min(_READ_STEP, MAX_FILE_BYTES + 1 - total)))
            total += len(parts[-1])
    return b"".join(parts)


def load_model(path: str | Path) -> Any:
    """Read a model file written by :func:`save_model` (never executes code; ValueError if invalid)."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValueError(f"{path}: {size} bytes is larger than a model file may be ({MAX_FILE_BYTES})")
    raw = _read_capped(path, size)
    if len(raw) > MAX_FILE_BYTES:  # it grew past the limit after the size was read
        raise ValueError(f"{path}: more bytes than a model file may hold ({MAX_FILE_BYTES})")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        said = ""
        if raw[:1] == b"\x80":  # a pickle's protocol mark (protocol 2 and later)
            said = (
                " (it is a pickle, such as Snorkel's LabelModel.save writes: tripletws reads only the JSON "
                "files its own save writes, and never unpickles; fit the tripletws model on the label matrix "
                "and save it)"
            )
        raise ValueError(f"{path}: not a text JSON model file{said}") from exc
    try:
        record = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: corrupt or truncated model file ({exc.msg} at char {exc.pos})") from exc
    except RecursionError as exc:  # the parser's own limit (its C scanner checks Python's recursion limit)
        raise ValueError(f"{path}: JSON nested deeper than {MAX_DEPTH} levels") from exc
    except ValueError as exc:  # e.g. an integer of too many digits, a key twice
        raise ValueError(f"{path}: invalid JSON ({str(exc)[:80]})") from exc
    _check_depth(record, str(path))
    return model_from_dict(record, source=str(path))
