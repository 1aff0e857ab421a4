"""Labeling functions and preprocessors (the names Snorkel users know).

>>> @labeling_function()
... def lf_has_link(x):
...     return 1 if "http" in x.text else ABSTAIN
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from ..matrix import ABSTAIN


def _typed(value: Any) -> Any:
    """``value`` with its type's name (1, 1.0 and True are equal keys, and must not share a result)."""
    if isinstance(value, tuple):
        return ("tuple", tuple(_typed(v) for v in value))
    return (type(value).__qualname__, value)


def _default_key(x: Any) -> Hashable | None:
    """A hashable stand-in for a data point (its values and their types), or None when there is none."""
    if hasattr(x, "index") and hasattr(x, "to_numpy"):  # pandas Series
        pairs = zip(x.index, x.to_numpy().tolist(), strict=True)
        items: Any = tuple((_typed(k), _typed(v)) for k, v in pairs)
    elif isinstance(x, Mapping):
        items = tuple((_typed(k), _typed(v)) for k, v in sorted(x.items(), key=lambda kv: repr(kv[0])))
    else:
        items = _typed(x)
    try:
        hash(items)
    except TypeError:
        return None
    return items


def _copy_point(x: Any) -> Any:
    """A deep copy of a data point for a preprocessor to change (``copy.deepcopy``, cell by cell for
    a pandas Series; a point that does not copy is passed as it is).

    A preprocessor that sets a field (``x["text"] = ...``) or changes a cell in place
    (``x["tokens"].append(...)``) must leave the row that the other LFs, and the data, hold.  A
    Series' own deep copy copies its array but not the objects in an object column's cells (a list,
    a dict), so those are copied one by one.
    """
    try:
        if hasattr(x, "index") and hasattr(x, "to_numpy") and hasattr(x, "attrs"):  # pandas Series
            out = x.copy(deep=True)
            if out.dtype == object:
                cells = [copy.deepcopy(v) for v in x.to_numpy()]
                out = type(x)(cells, index=x.index.copy(), name=x.name, dtype=object)
            out.attrs = copy.deepcopy(x.attrs)
            return out
        return copy.deepcopy(x)
    except Exception:  # a point that does not copy (a generator, a lock, an open file)
        return x


class Preprocessor:
    """A function ``x -> x'`` run before labeling functions, optionally memoised.

    Parameters
    ----------
    name : str
    f : callable
        Returns the transformed data point (or None: the LFs using it abstain).
    memoize : bool
        Keep results keyed by ``memoize_key(x)`` so LFs sharing the preprocessor
        compute it once per data point.
    memoize_key : callable, optional
        Maps a data point to a hashable key (default: its values, as Snorkel's; points with
        unhashable values are not memoised).  A preprocessor that reads more than the values (a
        Series' row label ``x.name``) needs a key that includes it, e.g. ``lambda x: (x.name,
        tuple(x))``: rows with equal values share one result by default.
    maxsize : int
        Most results kept (least recently used dropped first).
    pre : sequence of callables, optional
        Preprocessors applied to ``x`` in order before ``f`` (Snorkel's argument); one returning
        None makes this one return None.  Memoised results are keyed by the point before them.

    Notes
    -----
    As in Snorkel, ``f`` gets a deep copy of the point: it may change it and return it, and the
    row that other labeling functions see stays as it was.
    """

    def __init__(
        self,
        name: str,
        f: Callable[[Any], Any],
        memoize: bool = False,
        memoize_key: Callable[[Any], Hashable] | None = None,
        maxsize: int = 100_000,
        pre: Sequence[Callable[[Any], Any]] | None = None,
    ) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        self.name = name
        self.f = f
        self.memoize = memoize
        self.memoize_key = memoize_key
        self.maxsize = maxsize
        if isinstance(pre, bool) or (pre is not None and not isinstance(pre, Sequence)):
            raise ValueError(
                f"preprocessor {name!r}: pre must be a sequence of preprocessors, got {pre!r} (memoize comes "
                "after pre, as in Snorkel's preprocessor(name, pre, memoize, memoize_key))"
            )
        self.pre = list(pre or [])
        for p in self.pre:
            if not callable(p):
                raise ValueError(f"preprocessor {name!r}: pre holds {p!r}, which is not callable")
        self._memo: OrderedDict[Hashable, Any] = OrderedDict()
        self.hits = 0

    def _run(self, x: Any) -> Any:
        x = _copy_point(x)
        for p in self.pre:
            x = p(x)
            if x is None:
                return None
        return self.f(x)

    def __call__(self, x: Any) -> Any:
        if not self.memoize:
            return self._run(x)
        key = self.memoize_key(x) if self.memoize_key is not None else _default_key(x)
        if key is None:
            return self._run(x)
        if key in self._memo:
            self._memo.move_to_end(key)
            self.hits += 1
            return self._memo[key]
        out = self._run(x)
        self._memo[key] = out
        if len(self._memo) > self.maxsize:
            self._memo.popitem(last=False)
        return out

    def reset_cache(self) -> None:
        """Forget memoised results."""
        self._memo.clear()
        self.hits = 0

    def __getstate__(self) -> dict[str, Any]:  # worker processes start with an empty memo
        return {**self.__dict__, "_memo": OrderedDict(), "hits": 0}

    def __repr__(self) -> str:
        return f"Preprocessor({self.name!r}, memoize={self.memoize})"


def preprocessor(
    name: str | Callable[[Any], Any] | None = None,
    pre: Sequence[Callable[[Any], Any]] | None = None,
    memoize: bool = False,
    memoize_key: Callable[[Any], Hashable] | None = None,
    maxsize: int = 100_000,
) -> Any:
    """Decorator turning ``f(x) -> x'`` into a :class:`Preprocessor` (Snorkel's arguments, in its
    order: ``name``, ``pre``, ``memoize``, ``memoize_key``).

    Written ``@preprocessor()``, as in Snorkel; a bare ``@preprocessor`` makes the same
    :class:`Preprocessor` with the defaults.
    """
    if callable(name):  # @preprocessor without parentheses: name is the function
        return Preprocessor(name.__name__, name, memoize, memoize_key, maxsize, pre)

    def wrap(f: Callable[[Any], Any]) -> Preprocessor:
        return Preprocessor(name or f.__name__, f, memoize, memoize_key, maxsize, pre)

    return wrap


class LabelingFunction:
    """A named function ``x -> class | -1`` with optional resources and preprocessors.

    Parameters
    ----------
    name : str
    f : callable
        Called as ``f(x, **resources)``; returns a class index or -1 (abstain).
    resources : mapping, optional
        Keyword arguments passed to ``f`` on every call.
    pre : sequence of callables, optional
        Applied to ``x`` in order before ``f``; a preprocessor returning None
        makes the LF abstain.  Each gets a copy of the point (a :class:`Preprocessor`
        makes its own), so changing it leaves the row other LFs see.
    """

    #: Row-wise: called once per data point.
    vectorized = False

    def __init__(
        self,
        name: str,
        f: Callable[..., Any],
        resources: Mapping[str, Any] | None = None,
        pre: Sequence[Callable[[Any], Any]] | None = None,
    ) -> None:
        self.name = name
        self._f = f
        self._resources = dict(resources or {})
        self._pre = list(pre or [])

    def __call__(self, x: Any) -> int:
        for p in self._pre:
            x = p(x) if isinstance(p, Preprocessor) else p(_copy_point(x))
            if x is None:
                return ABSTAIN
        return self._f(x, **self._resources)

    def fingerprint(self) -> str | None:
        """Hash of the code, resources and preprocessors (changes when the LF is edited); None where
        something it reads has no stable description (:func:`tripletws.labeling.fingerprint.fingerprint`:
        never cached)."""
        from .fingerprint import fingerprint

        return fingerprint(("row", self._f, self._resources, self._pre))

    def __repr__(self) -> str:
        return f"LabelingFunction({self.name!r})"


def labeling_function(
    name: str | Callable[..., Any] | None = None,
    resources: Mapping[str, Any] | None = None,
    pre: Sequence[Callable[[Any], Any]] | None = None,
) -> Any:
    """Decorator turning ``f(x) -> int`` into a :class:`LabelingFunction`.

    Written ``@labeling_function()``, as in Snorkel; a bare ``@labeling_function`` makes the same
    :class:`LabelingFunction` with the defaults.
    """
    if callable(name):  # @labeling_function without parentheses: name is the function
        return LabelingFunction(name.__name__, name, resources, pre)

    def wrap(f: Callable[..., Any]) -> LabelingFunction:
        return LabelingFunction(name or f.__name__, f, resources, pre)

    return wrap
