"""Streaming state of an online label model: running statistics with forgetting or a window.

Statistics are sums over rows (:class:`~tripletws.stats.LabelStats`), so a stream
of batches reduces exactly like the chunks of one big matrix:

* no forgetting, no window: ``total = total + batch`` (the stream ends with the
  statistics of all its rows, bit for bit);
* exponential forgetting with factor ``f`` in (0, 1]:
  ``total = f * total + batch``, so a batch seen ``t`` batches ago weighs ``f**t``;
* a window of ``w`` batches: ``total = total + batch - oldest`` once ``w``
  batches are held; the per-batch statistics wait in a deque until they leave
  the window.  Subtraction of whole-number counts is exact.

Rows given to ``fit`` (or seen before a window was switched on) count as one
batch of the stream.
"""

from __future__ import annotations

import numbers
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .stats import LabelStats


def check_stream_options(forget: Any, window: Any) -> None:
    """Validate the ``forget`` and ``window`` settings of an online model."""
    if forget is not None:
        if isinstance(forget, bool) or not isinstance(forget, numbers.Real):
            raise ValueError(f"forget must be None or a number in (0, 1], got {forget!r}")
        if not (0.0 < float(forget) <= 1.0):
            raise ValueError(f"forget must lie in (0, 1], got {forget}")
    if window is not None:
        if isinstance(window, bool) or not isinstance(window, numbers.Integral) or window < 1:
            raise ValueError(f"window must be None or a positive integer (batches), got {window!r}")
    if forget is not None and window is not None:
        raise ValueError("forget and window cannot be combined; choose one way to age old batches")


@dataclass(frozen=True)
class StreamState:
    """Bookkeeping of a stream besides the running statistics (held as ``stats_``).

    Attributes
    ----------
    n_batches : int
        Batches seen since the stream started (a ``fit`` counts as one).
    batches : deque of LabelStats, optional
        Window mode: statistics of the batches in the window, oldest first
        (their sum is the running statistics).  ``None`` otherwise.
    prior : ndarray of shape (k,), optional
        Class balance passed explicitly (``class_balance`` or ``Y_dev``) to the
        latest call that gave one; used for later batches that give none.
    prior_source : str, optional
        ``"given"`` or ``"Y_dev"``: where ``prior`` came from.
    """

    n_batches: int = 0
    batches: deque[LabelStats] | None = None
    prior: np.ndarray | None = None
    prior_source: str | None = None

    def push(
        self,
        total: LabelStats | None,
        batch: LabelStats,
        forget: float | None = None,
        window: int | None = None,
    ) -> tuple[LabelStats, StreamState]:
        """Running statistics after ``batch`` arrives, and the new state.

        Neither ``self`` nor ``total`` is modified, so a failed solve leaves the
        stream as it was.

        Parameters
        ----------
        total : LabelStats or None
            Running statistics so far (``None`` at the start of a stream).
        batch : LabelStats
            Statistics of the new batch.
        forget : float in (0, 1], optional
            Factor applied to ``total`` before ``batch`` is added.
        window : int, optional
            Keep only the last ``window`` batches.
        """
        batches = None
        if total is None:
            new_total = batch
            if window is not None:
                batches = deque([batch])
        else:
            base = total if forget is None else total.scaled(float(forget))
            new_total = base + batch
            if window is not None:
                batches = deque(self.batches) if self.batches is not None else deque([total])
                batches.append(batch)
                while len(batches) > window:
                    new_total = new_total - batches.popleft()
        return new_total, replace(self, n_batches=self.n_batches + 1, batches=batches)

    def with_prior(self, prior: np.ndarray, source: str) -> StreamState:
        return replace(self, prior=np.asarray(prior, dtype=np.float64), prior_source=source)

    # -- persistence ---------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (floats are written so that they read back exactly)."""
        return {
            "n_batches": int(self.n_batches),
            "batches": None if self.batches is None else [b.to_dict() for b in self.batches],
            "prior": None if self.prior is None else self.prior.tolist(),
            "prior_source": self.prior_source,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], m: int, k: int) -> StreamState:
        """Inverse of :meth:`to_dict`, checking shapes against m LFs and k classes."""
        n = d["n_batches"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"stream n_batches must be a non-negative integer, got {n!r}")
        batches = None
        if d.get("batches") is not None:
            batches = deque(LabelStats.from_dict(b) for b in d["batches"])
            for b in batches:
                if (b.n_lfs, b.cardinality) != (m, k):
                    raise ValueError(
                        f"stream batch statistics have m={b.n_lfs}, k={b.cardinality}; expected m={m}, k={k}"
                    )
        prior = d.get("prior")
        source = d.get("prior_source")
        if prior is not None:
            prior = np.asarray(prior, dtype=np.float64)
            if prior.shape != (k,) or not np.all(np.isfinite(prior)) or (prior <= 0).any():
                raise ValueError(f"stream prior must be {k} positive probabilities")
            if source not in ("given", "Y_dev"):
                raise ValueError(f"stream prior_source must be 'given' or 'Y_dev', got {source!r}")
        source = source if prior is not None else None
        return cls(n_batches=n, batches=batches, prior=prior, prior_source=source)
