"""Vectorised labeling functions: one call on a whole DataFrame (or partition).

Keyword, regular-expression and threshold rules cover most LFs written in
practice; as functions of a column they run inside pandas / pyarrow string
kernels instead of a Python call per row.

>>> lf = keyword_lf(["refund", "money back"], label=1, name="kw_refund")
>>> L = PandasLFApplier([lf]).apply(df)          # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..matrix import ABSTAIN


class VectorizedLF:
    """A labeling function of a whole DataFrame: ``f(df, **resources) -> votes (n,)``.

    Parameters
    ----------
    name : str
    f : callable
        Returns an integer array-like of shape (len(df),): a class or -1 per row.
    resources : mapping, optional
        Keyword arguments passed to ``f`` (part of the cache key).
    """

    vectorized = True

    def __init__(self, name: str, f: Callable[..., Any], resources: Mapping[str, Any] | None = None) -> None:
        self.name = name
        self._f = f
        self._resources = dict(resources or {})

    def apply_frame(self, df: Any) -> np.ndarray:
        """Votes on every row of ``df``, int16 of shape (len(df),); checked for type and range.

        A pandas Series whose index holds ``df``'s labels in another order (votes computed on a
        sorted copy) is matched to the rows by label, as pandas aligns; any other result is read
        in ``df``'s row order.
        """
        try:
            raw = self._f(df, **self._resources)
        except Exception as exc:  # the LF's own error, named (as the dask applier and row-wise LFs do)
            note = f"raised by vectorised LF {self.name!r}"
            if hasattr(exc, "add_note"):
                exc.add_note(note)
            else:  # pragma: no cover - Python 3.10
                exc.__notes__ = [*getattr(exc, "__notes__", []), note]
            raise
        out = self._aligned(raw, df)
        n = len(df)
        if out.shape != (n,):
            raise ValueError(f"vectorised LF {self.name!r} returned shape {out.shape}; expected ({n},)")
        if out.dtype == bool or not np.issubdtype(out.dtype, np.integer):
            raise ValueError(f"vectorised LF {self.name!r} returned dtype {out.dtype}; expected integers")
        if n and out.min() < ABSTAIN:
            row = int(np.argmax(out < ABSTAIN))
            raise ValueError(
                f"vectorised LF {self.name!r} returned {out[row]} on row {row}; expected a class or -1"
            )
        if n and out.max() > np.iinfo(np.int16).max:
            raise ValueError(f"vectorised LF {self.name!r} returned a class above {np.iinfo(np.int16).max}")
        return out.astype(np.int16, copy=False)

    def _aligned(self, out: Any, df: Any) -> np.ndarray:
        """``out`` as an array in ``df``'s row order (see :meth:`apply_frame`)."""
        # (a list's .index is a method: only a pandas result carries row labels)
        index = getattr(out, "index", None) if type(out).__module__.startswith("pandas") else None
        rows = getattr(df, "index", None)
        if index is None or rows is None or len(index) != len(rows) or index.equals(rows):
            return np.asarray(out)
        if not (index.isin(rows).all() and rows.isin(index).all()):
            return np.asarray(out)  # its own labels (a Series built from an array): in order
        if not (index.is_unique and rows.is_unique):
            raise ValueError(
                f"vectorised LF {self.name!r} returned a Series whose index holds the data's labels in "
                "another order, and a label names several rows: return the votes in the data's row order"
            )
        return np.asarray(out.reindex(rows))

    def fingerprint(self) -> str | None:
        """Hash of the code and resources (changes when the LF is edited); None where something it reads
        has no stable description (:func:`tripletws.labeling.fingerprint.fingerprint`: never cached)."""
        from .fingerprint import fingerprint

        return fingerprint(("frame", self._f, self._resources))

    def __repr__(self) -> str:
        return f"VectorizedLF({self.name!r})"


def vectorized_lf(
    name: str | Callable[..., Any] | None = None, resources: Mapping[str, Any] | None = None
) -> Any:
    """Decorator turning ``f(df) -> votes`` into a :class:`VectorizedLF` (``@vectorized_lf()``; a bare
    ``@vectorized_lf`` makes the same with the defaults)."""
    if callable(name):  # @vectorized_lf without parentheses: name is the function
        return VectorizedLF(name.__name__, name, resources)

    def wrap(f: Callable[..., Any]) -> VectorizedLF:
        return VectorizedLF(name or f.__name__, f, resources)

    return wrap


def _column(df: Any, column: str) -> Any:
    if column not in df.columns:
        raise ValueError(f"column {column!r} not in the data (columns: {list(df.columns)})")
    return df[column]


def _regex_votes(df: Any, column: str, pattern: str, label: int) -> np.ndarray:
    from pandas.api.types import is_string_dtype

    col = _column(df, column)
    if col.dtype == object or not is_string_dtype(col.dtype):  # an object column may hold numbers
        col = col.astype("string")  # a number reads as its text, wherever it is; missing stays missing
    hit = col.str.contains(pattern, regex=True, na=False)
    return np.where(hit.to_numpy(dtype=bool, na_value=False), label, ABSTAIN)


def _threshold_votes(df: Any, column: str, threshold: float, label: int, above: bool) -> np.ndarray:
    values = _column(df, column).to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        hit = values > threshold if above else values < threshold
    return np.where(hit, label, ABSTAIN)


def _check_label(label: Any) -> int:
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)) or label < 0:
        raise ValueError(f"label must be a class index >= 0, got {label!r}")
    return int(label)


def regex_lf(
    pattern: str, label: int, column: str = "text", name: str | None = None, ignore_case: bool = True
) -> VectorizedLF:
    """Vote ``label`` where ``column`` matches ``pattern`` (a search, not a full match), else abstain.

    A cell that is not a string is matched as its text (``123`` as ``"123"``, in a column of numbers
    or of mixed objects alike); a missing cell abstains.  The pattern runs in pandas' string kernels
    (RE2 syntax with pyarrow strings: no backreferences or lookarounds).
    """
    re.compile(pattern)  # fail early with Python's message on a broken pattern
    full = f"(?i){pattern}" if ignore_case else pattern
    resources = {"column": column, "pattern": full, "label": _check_label(label)}
    return VectorizedLF(name or f"regex_{column}_{pattern}", _regex_votes, resources)


def keyword_lf(
    keywords: str | Iterable[str],
    label: int,
    column: str = "text",
    name: str | None = None,
    ignore_case: bool = True,
    whole_word: bool = True,
) -> VectorizedLF:
    """Vote ``label`` where ``column`` contains any of ``keywords``, else abstain.

    With ``whole_word``, a keyword's edge that is a word character (letter, digit, underscore) must
    meet a word boundary (``"art"`` does not match ``"party"``); an edge that is not (``"c++"``,
    ``"$5"``, ``":)"``) matches as written (a boundary there would need a word character beside it).

    Parameters
    ----------
    keywords : str or iterable of str
        The keywords (non-empty strings); any one of them in a cell makes the LF vote.
    label : int
        The class voted (>= 0).
    column : str, default "text"
        The DataFrame column searched.
    name : str, optional
        The LF's name.  The default names every keyword and the label, so that two keyword LFs
        differ in name whenever they differ in keywords or label: ``keyword_<kw1>_..._<label>``
        (``keyword_lf(["refund", "broken"], label=0)`` is ``keyword_refund_broken_0``), each
        keyword's runs of characters other than letters and digits written as one ``_``.  Where
        that text alone could stand for another LF (a keyword holding a space, punctuation or
        ``_``; a column other than ``"text"``, written after ``keyword_``; ``ignore_case=False``
        or ``whole_word=False``) or is longer than :data:`KEYWORD_NAME_CHARS` (48) characters (the
        column and keywords then cut, the label kept), ``_`` and 8 hex digits of a SHA-256 of all
        the arguments follow, the same on every run and machine (``keyword_money_back_1_<hex>``).
        Snorkel's tutorial names such LFs ``keyword_<first keyword>``; pass ``name=`` for that or
        any other name.  Two LFs of one applier with one name are a ValueError naming them.
    ignore_case : bool, default True
        Match regardless of case.
    whole_word : bool, default True
        Ask for a word boundary at each keyword edge that is a word character.

    Returns
    -------
    VectorizedLF
    """
    words = [keywords] if isinstance(keywords, str) else list(keywords)
    if not words or not all(isinstance(w, str) and w for w in words):
        raise ValueError(f"keywords must be non-empty strings, got {keywords!r}")
    if whole_word:

        def edge(char: str) -> str:
            return r"\b" if re.match(r"\w", char) else ""

        pattern = "|".join(f"{edge(w[0])}{re.escape(w)}{edge(w[-1])}" for w in words)
        pattern = f"(?:{pattern})"
    else:
        pattern = "(?:" + "|".join(re.escape(w) for w in words) + ")"
    if name is None:
        name = _keyword_name(words, _check_label(label), column, ignore_case, whole_word)
    return regex_lf(pattern, label, column, name, ignore_case)


#: Longest readable part of :func:`keyword_lf`'s default name (a hash suffix follows a longer one).
KEYWORD_NAME_CHARS = 48


def _keyword_name(words: list[str], label: int, column: str, ignore_case: bool, whole_word: bool) -> str:
    """:func:`keyword_lf`'s default name (the rule is in its docstring)."""
    import hashlib
    import json

    def clean(text: str) -> str:
        return re.sub(r"[\W_]+", "_", text).strip("_")

    parts = [clean(w) for w in words]
    lossy = not all(re.fullmatch(r"[^\W_]+", w) for w in words) or column != "text"
    lossy = lossy or not (ignore_case and whole_word)
    prefix = "keyword" if column == "text" else f"keyword_{clean(column)}".rstrip("_")
    middle = "_".join(p for p in parts if p)
    readable = "_".join(p for p in (prefix, middle, str(label)) if p)
    if not lossy and len(readable) <= KEYWORD_NAME_CHARS:
        return readable
    if len(readable) > KEYWORD_NAME_CHARS:  # the column and keywords cut, the label kept
        head = "_".join(p for p in (prefix, middle) if p)
        readable = f"{head[: KEYWORD_NAME_CHARS - len(str(label)) - 1].rstrip('_')}_{label}"
    record = json.dumps([words, label, column, ignore_case, whole_word], ensure_ascii=True)
    digest = hashlib.sha256(record.encode()).hexdigest()[:8]
    return f"{readable}_{digest}"


def threshold_lf(
    column: str, threshold: float, label: int, above: bool = True, name: str | None = None
) -> VectorizedLF:
    """Vote ``label`` where ``column > threshold`` (or ``<`` when ``above=False``), else abstain.

    Missing values abstain.
    """
    resources = {
        "column": column,
        "threshold": float(threshold),
        "label": _check_label(label),
        "above": above,
    }
    side = "gt" if above else "lt"
    return VectorizedLF(name or f"{column}_{side}_{threshold:g}", _threshold_votes, resources)
