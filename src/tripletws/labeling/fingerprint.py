"""Stable hashes of labeling-function code, for the LF output cache.

A function's fingerprint covers its bytecode and constants (nested code
included), default arguments, the values in its closure and the module-level
names it reads (data by value, functions recursively, modules by name), so
editing an LF, a keyword list it reads, or a helper it calls changes the hash.
Objects without a stable description (their ``repr`` shows a memory address)
hash by identity, which only costs cache misses.
"""

from __future__ import annotations

import hashlib
import re
import sys
import types
from collections.abc import Mapping
from typing import Any

import numpy as np

#: Bump when the cache's meaning changes.
FORMAT = "tripletws-lf-cache-1"
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def fingerprint(obj: Any) -> str:
    """Hex SHA-256 of ``obj``'s code and data (see the module docstring)."""
    h = hashlib.sha256()
    h.update(f"{FORMAT}|{sys.version_info[:2]}|".encode())
    _feed(h, obj, set())
    return h.hexdigest()


def _tag(h: Any, text: str) -> None:
    h.update(text.encode("utf-8", "surrogatepass") + b"\x00")


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _feed(h: Any, obj: Any, seen: set[int]) -> None:
    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes)):
        _tag(h, f"{type(obj).__name__}:{obj!r}")
        return
    if id(obj) in seen:
        _tag(h, "cycle")
        return
    seen.add(id(obj))
    if isinstance(obj, types.ModuleType):
        _tag(h, f"module:{obj.__name__}")
    elif isinstance(obj, types.CodeType):
        _tag(h, "code")
        h.update(obj.co_code)
        _tag(h, repr(obj.co_names))
        _tag(h, repr(obj.co_varnames))
        for const in obj.co_consts:
            _feed(h, const, seen)
    elif isinstance(obj, types.FunctionType):
        _tag(h, f"function:{obj.__qualname__}")
        _feed(h, obj.__code__, seen)
        _feed(h, obj.__defaults__, seen)
        _feed(h, obj.__kwdefaults__, seen)
        for cell in obj.__closure__ or ():
            try:
                _feed(h, cell.cell_contents, seen)
            except ValueError:  # empty cell
                _tag(h, "empty-cell")
        glb = obj.__globals__
        for name in sorted(_code_names(obj.__code__)):
            if name in glb:
                _tag(h, f"global:{name}")
                _feed(h, glb[name], seen)
    elif isinstance(obj, (types.BuiltinFunctionType, type)):
        _tag(h, f"{type(obj).__name__}:{getattr(obj, '__module__', '')}.{obj.__qualname__}")
    elif isinstance(obj, types.MethodType):
        _tag(h, "method")
        _feed(h, obj.__func__, seen)
        _feed(h, obj.__self__, seen)
    elif isinstance(obj, re.Pattern):
        _tag(h, f"regex:{obj.flags}:{obj.pattern!r}")
    elif isinstance(obj, np.ndarray):
        _tag(h, f"ndarray:{obj.dtype.str}:{obj.shape}")
        h.update(np.ascontiguousarray(obj).tobytes() if obj.dtype != object else repr(obj.tolist()).encode())
    elif isinstance(obj, Mapping):
        _tag(h, f"{type(obj).__name__}:{len(obj)}")
        for key in sorted(obj, key=repr):
            _feed(h, key, seen)
            _feed(h, obj[key], seen)
    elif isinstance(obj, (list, tuple)):
        _tag(h, f"{type(obj).__name__}:{len(obj)}")
        for item in obj:
            _feed(h, item, seen)
    elif isinstance(obj, (set, frozenset)):
        _tag(h, f"{type(obj).__name__}:{len(obj)}")
        for item in sorted(obj, key=repr):
            _feed(h, item, seen)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        # LabelingFunction, Preprocessor, functools.partial-like and user callables: their class and state
        _tag(h, f"object:{type(obj).__module__}.{type(obj).__qualname__}")
        _feed(h, type(obj).__dict__.get("__call__"), seen)
        state = {k: v for k, v in vars(obj).items() if not k.startswith("_memo") and k != "hits"}
        _feed(h, state, seen)
        if hasattr(obj, "func"):
            _feed(h, obj.func, seen)
    else:
        text = repr(obj)
        if _ADDRESS.search(text):
            text += f"|id:{id(obj)}"
        _tag(h, f"{type(obj).__module__}.{type(obj).__qualname__}:{text}")
