"""Stable hashes of labeling-function code, for the LF output cache.

A function's fingerprint covers its bytecode and constants (nested code
included), default arguments, the values in its closure and the module-level
names it reads (data by value, functions recursively), so editing an LF, a
keyword list it reads, or a helper it calls changes the hash.  A module the
code reads is followed into the attributes the code names (``helpers.is_pos``
hashes ``is_pos``'s code), and a class defined in the project into its
methods (``scorer.score(...)`` hashes ``Scorer.score``); modules, classes and
functions of installed packages and of the standard library are named, not
followed (their code changes with their version, which a cache need not track).
An object whose ``__dict__`` is empty, its values kept elsewhere (a
``pd.Timestamp``, a categorical, a torch tensor), hashes the bytes pickle makes
of it (written, never read back).
A class of the project is followed into its own base classes of the project too
(``Scorer(Base)``: editing ``Base.norm`` changes the hash).  An object without a
``__dict__`` whose ``repr`` does not show its values (a memory address, or ``...``
eliding an array) hashes the bytes pickle makes of it too.  An object with no stable
description at all (neither shown nor pickled) makes the LF's fingerprint ``None``:
the LF is computed at every apply and never cached.  (Until session 40 such objects
hashed by their address, which a later object can reuse, in the same process or
another: an LF whose matcher was rebound returned an earlier matcher's column.)
"""

from __future__ import annotations

import functools
import hashlib
import pickle
import re
import sys
import types
from collections.abc import Mapping
from typing import Any

import numpy as np

#: Bump when the cache's meaning changes.
FORMAT = "tripletws-lf-cache-1"
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


class _ModuleAttributes(tuple):
    """(module, names): a project module as read by some code, through the names that code uses."""

    __slots__ = ()

    def __new__(cls, module: types.ModuleType, names: frozenset[str]) -> _ModuleAttributes:
        return super().__new__(cls, (module, names))


def _followed(value: Any, names: frozenset[str]) -> Any:
    """A project module read by code naming ``names``: followed through those names; else ``value``."""
    if isinstance(value, types.ModuleType) and not _installed(value.__name__):
        return _ModuleAttributes(value, names)
    return value


class Unstable(Exception):
    """An object the fingerprint cannot describe by value (raised inside :func:`_feed`)."""


def fingerprint(obj: Any) -> str | None:
    """Hex SHA-256 of ``obj``'s code and data (see the module docstring); None where some object it
    reads has no stable description (the LF is then never cached)."""
    h = hashlib.sha256()
    h.update(f"{FORMAT}|{sys.version_info[:2]}|".encode())
    try:
        _feed(h, obj, {})
    except Unstable:
        return None
    return h.hexdigest()


def _tag(h: Any, text: str) -> None:
    h.update(text.encode("utf-8", "surrogatepass") + b"\x00")


def _installed(module_name: str | None) -> bool:
    """Whether a module belongs to the standard library or an installed package (not followed)."""
    if not module_name:  # code made by exec() or compile() in the user's session
        return False
    top = module_name.split(".", 1)[0]
    if top in sys.stdlib_module_names or top == "builtins":
        return True
    module = sys.modules.get(module_name) or sys.modules.get(top)
    path = str(getattr(module, "__file__", "") or "")
    if not path:  # the interactive session (REPL, Jupyter, python -c): the user's code; else built in
        return top != "__main__"
    return any(part in path for part in ("site-packages", "dist-packages"))


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _feed(h: Any, obj: Any, seen: dict[Any, Any]) -> None:
    """Hash ``obj`` into ``h``.  ``seen`` maps ``id(x)`` to ``(order, x)`` for the objects hashed so
    far, ``order`` counting them (a repeat is tagged with the order of the object it repeats, not
    followed: a resource that is the same set as a global the code reads must not hash alike whichever
    global it is; a project module followed through its attributes is keyed
    ``("attributes", id(module))``); holding them keeps a temporary's address from being reused by
    the next one, which would then be taken for a repeat."""
    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes)):
        _tag(h, f"{type(obj).__name__}:{obj!r}")
        return
    if id(obj) in seen:
        _tag(h, f"repeat:{seen[id(obj)][0]}")
        return
    seen[id(obj)] = (len(seen), obj)
    if isinstance(obj, types.ModuleType):
        _tag(h, f"module:{obj.__name__}")
    elif isinstance(obj, _ModuleAttributes):
        # a project module read by the code: the attributes the code names (helpers.is_pos)
        module, names = obj
        _tag(h, f"module:{module.__name__}")
        if ("attributes", id(module)) in seen:  # modules that import each other: followed once
            return
        seen["attributes", id(module)] = (len(seen), module)
        for name in sorted(names):
            if hasattr(module, name):
                _tag(h, f"attr:{name}")
                _feed(h, _followed(getattr(module, name), names), seen)  # a submodule: followed too
    elif isinstance(obj, types.CodeType):
        _tag(h, "code")
        h.update(obj.co_code)
        _tag(h, repr(obj.co_names))
        _tag(h, repr(obj.co_varnames))
        for const in obj.co_consts:
            _feed(h, const, seen)
    elif isinstance(obj, types.FunctionType) and _installed(obj.__module__):
        _tag(h, f"function:{obj.__module__}.{obj.__qualname__}")  # a library's: named, not followed
    elif isinstance(obj, types.FunctionType):
        _tag(h, f"function:{obj.__qualname__}")
        _feed(h, obj.__code__, seen)
        _feed(h, obj.__defaults__, seen)
        _feed(h, obj.__kwdefaults__, seen)
        names = frozenset(_code_names(obj.__code__))
        for cell in obj.__closure__ or ():
            try:
                _feed(h, _followed(cell.cell_contents, names), seen)
            except ValueError:  # empty cell
                _tag(h, "empty-cell")
        glb = obj.__globals__
        for name in sorted(names):
            if name in glb:
                _tag(h, f"global:{name}")
                _feed(h, _followed(glb[name], names), seen)
    elif isinstance(obj, type) and not _installed(obj.__module__):
        # a class of the project: its methods and class attributes (an LF calling scorer.score)
        _tag(h, f"class:{obj.__module__}.{obj.__qualname__}")
        for base in obj.__mro__[1:]:
            _tag(h, f"base:{base.__module__}.{base.__qualname__}")
            if not _installed(base.__module__):  # a base class of the project: its methods too
                _feed(h, base, seen)
        for name, value in sorted(vars(obj).items()):
            if name.startswith("__") and name not in ("__call__", "__init__"):
                continue
            _tag(h, f"member:{name}")
            if isinstance(value, property):
                for part in (value.fget, value.fset, value.fdel):
                    _feed(h, part, seen)
            else:
                _feed(h, getattr(value, "__func__", value), seen)  # staticmethod / classmethod: the function
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
    elif isinstance(obj, functools.partial):
        _tag(h, "partial")
        _feed(h, obj.func, seen)
        _feed(h, obj.args, seen)
        _feed(h, obj.keywords, seen)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        # LabelingFunction, Preprocessor, functools.partial-like and user callables: their class and state
        _tag(h, f"object:{type(obj).__module__}.{type(obj).__qualname__}")
        _feed(h, type(obj).__dict__.get("__call__"), seen)
        _feed(h, type(obj), seen)  # a project class: its methods (named only for a library's)
        state = {k: v for k, v in vars(obj).items() if not k.startswith("_memo") and k != "hits"}
        _feed(h, state, seen)
        if hasattr(obj, "func"):
            _feed(h, obj.func, seen)
        if not state:  # its state lives outside __dict__ (pd.Timestamp, pd.Categorical, a torch tensor)
            _feed_pickled(h, obj)
    else:
        text = repr(obj)
        if _ADDRESS.search(text) or "..." in text:  # the repr does not show the values (slots, arrays)
            _feed_pickled(h, obj)
            return
        _tag(h, f"{type(obj).__module__}.{type(obj).__qualname__}:{text}")


def _feed_pickled(h: Any, obj: Any) -> None:
    """Hash the bytes pickle makes of ``obj``, for an object whose ``__dict__`` does not hold its
    values; one that does not pickle has no stable description (:class:`Unstable`)."""
    name = f"{type(obj).__module__}.{type(obj).__qualname__}"
    try:
        data = pickle.dumps(obj, protocol=4)
    except Exception as exc:
        raise Unstable(name) from exc
    _tag(h, f"pickled:{name}")
    h.update(hashlib.sha256(data).digest())
