"""Versioned JSON model files.

A file is one JSON object::

    {"format": "tripletws-model", "schema_version": 1, "class": "LabelModel",
     "tripletws_version": "...", "params": {...}, "state": {...} | null,
     "sha256": "<hash of the canonical JSON of everything else>"}

Loading parses JSON only (no pickle, nothing is executed), checks the envelope
and the checksum (a truncated or edited file fails with a clear message), then
lets the model class validate its own state (shapes, ranges, sums).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

FORMAT = "tripletws-model"
SCHEMA_VERSION = 1


def _registry() -> dict[str, type]:
    from .baselines import MajorityLabelVoter
    from .model import LabelModel
    from .sequence import SequenceLabelModel

    return {cls.__name__: cls for cls in (LabelModel, MajorityLabelVoter, SequenceLabelModel)}


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

    name = type(model).__name__
    if name not in _registry():
        raise ValueError(f"cannot save objects of type {name}")
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


def model_from_dict(record: Any, source: str = "model record") -> Any:
    """Rebuild a model from :func:`model_to_dict` output, validating everything."""
    if not isinstance(record, dict):
        raise ValueError(f"{source}: expected a JSON object, got {type(record).__name__}")
    if record.get("format") != FORMAT:
        raise ValueError(f"{source}: not a tripletws model file (format={record.get('format')!r})")
    version = record.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ValueError(
            f"{source}: unsupported schema_version {version!r} (this tripletws reads {SCHEMA_VERSION})"
        )
    expected = record.get("sha256")
    body = {k: v for k, v in record.items() if k != "sha256"}
    try:
        actual = hashlib.sha256(_canonical(body)).hexdigest()
    except ValueError as exc:
        raise ValueError(f"{source}: invalid content ({exc})") from exc
    if expected != actual:
        raise ValueError(f"{source}: checksum mismatch; the file was modified or damaged")
    registry = _registry()
    cls = registry.get(record.get("class"))
    if cls is None:
        raise ValueError(f"{source}: unknown model class {record.get('class')!r}")
    params = record.get("params")
    if not isinstance(params, dict):
        raise ValueError(f"{source}: 'params' must be an object")
    unknown = set(params) - set(cls._param_names())
    if unknown:
        raise ValueError(f"{source}: unknown parameter(s) {sorted(unknown)} for {cls.__name__}")
    model = cls(**params)
    state = record.get("state")
    if state is not None:
        if not isinstance(state, dict):
            raise ValueError(f"{source}: 'state' must be an object or null")
        try:
            model._set_state(state)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{source}: invalid fitted state: {exc}") from exc
    return model


def save_model(model: Any, path: str | Path) -> None:
    """Write ``model`` to ``path`` as versioned JSON, atomically (see :mod:`tripletws.atomic`)."""
    from .atomic import atomic_write_text

    atomic_write_text(path, json.dumps(model_to_dict(model), separators=(",", ":")))


def load_model(path: str | Path) -> Any:
    """Read a model file written by :func:`save_model` (never executes code)."""
    path = Path(path)
    try:
        text = path.read_text()
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a text JSON model file") from exc
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: corrupt or truncated model file ({exc.msg} at char {exc.pos})") from exc
    return model_from_dict(record, source=str(path))
