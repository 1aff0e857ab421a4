"""Field checks for records read from model files: one ValueError that names the field."""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection
from typing import Any

#: Largest row count a record may claim (far above any real data set; keeps arithmetic finite).
MAX_ROWS = 1e15


def check_mapping(value: Any, name: str, required: Collection[str], optional: Collection[str] = ()) -> dict:
    """A JSON object with the ``required`` keys, perhaps some ``optional`` ones, and no others."""
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be an object, got {type(value).__name__}")
    missing = sorted(set(required) - set(value))
    if missing:
        raise ValueError(f"{name} lacks field(s) {missing}")
    unknown = sorted(set(value) - set(required) - set(optional))
    if unknown:
        raise ValueError(f"{name} has unknown field(s) {unknown}")
    return value


def check_int(value: Any, name: str, lo: int, hi: int | None = None) -> int:
    """An integer (not a bool; a numpy integer too) in [lo, hi] (``hi`` None: no upper bound)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo:
        ok = False
    else:
        ok = hi is None or value <= hi
    if not ok:
        bounds = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise ValueError(f"{name} must be an integer {bounds}, got {_short(value)}")
    return int(value)


def check_float(value: Any, name: str, lo: float, hi: float, *, nullable: bool = False) -> float:
    """A finite number in [lo, hi]; ``None`` reads as NaN when ``nullable``."""
    if value is None and nullable:
        return float("nan")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {_short(value)}")
    try:
        x = float(value)
    except OverflowError as exc:
        raise ValueError(f"{name} is out of range") from exc
    if not (math.isfinite(x) and lo <= x <= hi):
        raise ValueError(f"{name} must lie in [{lo}, {hi}], got {_short(value)}")
    return x


def check_count(value: Any, name: str) -> float:
    """A row count: a finite number in [0, MAX_ROWS] (fractional under forgetting)."""
    return check_float(value, name, 0.0, MAX_ROWS)


def check_str(value: Any, name: str, choices: Collection[str] | None = None, max_len: int = 10_000) -> str:
    """A string (of at most ``max_len`` characters, one of ``choices`` when given)."""
    if not isinstance(value, str) or len(value) > max_len:
        raise ValueError(f"{name} must be a string of at most {max_len} characters, got {_short(value)}")
    if choices is not None and value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
