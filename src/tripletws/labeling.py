"""Writing and applying labeling functions (the names Snorkel users know).

>>> @labeling_function()
... def lf_has_link(x):
...     return 1 if "http" in x.text else ABSTAIN
>>> L = PandasLFApplier([lf_has_link]).apply(df)        # doctest: +SKIP

Applying LFs calls user Python code once per row, so it is the one place with a
per-row loop; a tqdm progress bar is shown when tqdm is installed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .matrix import ABSTAIN

logger = logging.getLogger("tripletws")


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
        makes the LF abstain.
    """

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
            x = p(x)
            if x is None:
                return ABSTAIN
        return self._f(x, **self._resources)

    def __repr__(self) -> str:
        return f"LabelingFunction({self.name!r})"


def labeling_function(
    name: str | None = None,
    resources: Mapping[str, Any] | None = None,
    pre: Sequence[Callable[[Any], Any]] | None = None,
) -> Callable[[Callable[..., Any]], LabelingFunction]:
    """Decorator turning ``f(x) -> int`` into a :class:`LabelingFunction`."""

    def wrap(f: Callable[..., Any]) -> LabelingFunction:
        return LabelingFunction(name or f.__name__, f, resources, pre)

    return wrap


def _check_vote(value: Any, lf: LabelingFunction, row: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(
            f"labeling function {lf.name!r} returned {value!r} on row {row}; expected an int class or -1"
        )
    if value < ABSTAIN:
        raise ValueError(f"labeling function {lf.name!r} returned {value} on row {row}; expected >= -1")
    return int(value)


class LFApplier:
    """Apply LFs to any sequence of data points, giving L of shape (n, m)."""

    def __init__(self, lfs: Sequence[LabelingFunction]) -> None:
        if not lfs:
            raise ValueError("LFApplier needs at least one labeling function")
        names = [lf.name for lf in lfs]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"duplicate labeling function names: {sorted(dup)}")
        self._lfs = list(lfs)

    def _rows(self, data: Any):
        return iter(data)

    def apply(self, data: Any, progress_bar: bool = True, fault_tolerant: bool = False) -> np.ndarray:
        """Vote matrix, shape (n, m), int16 (-1 = abstain).

        Parameters
        ----------
        progress_bar : bool
            Show a tqdm bar (when tqdm is installed).
        fault_tolerant : bool
            An LF that raises abstains on that row (logged) instead of stopping.
        """
        rows = self._rows(data)
        n = len(data)
        if progress_bar:
            try:
                from tqdm.auto import tqdm

                rows = tqdm(rows, total=n, desc="applying LFs")
            except ImportError:
                pass
        L = np.full((n, len(self._lfs)), ABSTAIN, dtype=np.int16)
        failures = 0
        for r, x in enumerate(rows):
            for j, lf in enumerate(self._lfs):
                try:
                    L[r, j] = _check_vote(lf(x), lf, r)
                except ValueError:
                    raise
                except Exception:
                    if not fault_tolerant:
                        raise
                    failures += 1
        if failures:
            logger.warning("%d labeling-function calls raised and were counted as abstains", failures)
        return L


class PandasLFApplier(LFApplier):
    """Apply LFs to the rows of a pandas DataFrame (each row a ``Series``)."""

    def _rows(self, df: Any):
        return (row for _, row in df.iterrows())


def filter_unlabeled_dataframe(X: Any, y: Any, L: Any) -> tuple[Any, Any]:
    """Drop the rows of ``X`` and ``y`` on which every LF abstained.

    Returns
    -------
    (X_filtered, y_filtered)
    """
    mask = (np.asarray(L) != ABSTAIN).any(axis=1)
    X_f = X.iloc[mask] if hasattr(X, "iloc") else np.asarray(X)[mask]
    return X_f, np.asarray(y)[mask]
