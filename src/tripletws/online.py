"""Streaming state of an online label model: running statistics with forgetting or a window.

Summaries are sums over rows (:class:`~tripletws.summary.DataSummary`: the statistics
and, when the model needs them, the distinct rows), so a stream of batches reduces
exactly like the chunks of one big matrix:

* no forgetting, no window: ``total = total + batch`` (the stream ends with the
  statistics of all its rows, bit for bit);
* exponential forgetting with factor ``f`` in (0, 1]:
  ``total = f * total + batch``, so a batch seen ``t`` batches ago weighs ``f**t``;
* a window of ``w`` batches: ``total = total + batch - oldest`` once ``w``
  batches are held; the per-batch statistics wait in a deque until they leave
  the window.  Subtraction of whole-number counts is exact.

Rows given to ``fit`` (or seen before a window was switched on) count as one
batch of the stream.

A solve need not follow every batch: a model whose solve costs more than a batch's summary (the
annotator model's EM over up to 20 000 distinct rows) re-solves when the rows of the running
summary added since its last solve reach ``growth - 1`` times those in it that it was solved on,
i.e. a share ``1 - 1 / growth`` of its weight (:meth:`StreamState.due`; the setting
``LabelModel(refit_growth=...)``).  On a plain stream the solves then come at geometrically spaced
sizes (their cost per row falls as the stream grows); with forgetting or a window, every
``1 - 1 / growth`` of the remembered weight (the pending weight decays with the rest; the oldest
rows, solved on, leave a window first).  In between, the batch joins the running summary and the
parameters stay those of the last solve.
"""

from __future__ import annotations

import math
import numbers
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .validate import check_mapping


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
    """Bookkeeping of a stream besides the running summary (``stats_`` and ``rows_`` of the model).

    Attributes
    ----------
    n_batches : int
        Batches seen since the stream started (a ``fit`` counts as one).
    batches : deque of DataSummary, optional
        Window mode: summaries of the batches in the window, oldest first
        (their sum is the running summary).  ``None`` otherwise.
    prior : ndarray of shape (k,), optional
        Class balance passed explicitly (``class_balance`` or ``Y_dev``) to the
        latest call that gave one; used for later batches that give none.
    prior_source : str, optional
        ``"given"`` or ``"Y_dev"``: where ``prior`` came from.
    solved_rows : float
        Weight of the running summary (rows, fractional under forgetting) at the last solve.
    pending_rows : float
        Weight of the running summary's rows added since the last solve (0 when the parameters
        are the running summary's): decayed under forgetting, at most the summary's weight.
    """

    n_batches: int = 0
    batches: deque[Any] | None = None
    prior: np.ndarray | None = None
    prior_source: str | None = None
    solved_rows: float = 0.0
    pending_rows: float = 0.0

    def push(
        self,
        total: Any,
        batch: Any,
        forget: float | None = None,
        window: int | None = None,
    ) -> tuple[Any, StreamState]:
        """Running summary after ``batch`` arrives, and the new state.

        Neither ``self`` nor ``total`` is modified, so a failed solve leaves the
        stream as it was.

        Parameters
        ----------
        total : DataSummary or None
            Running summary so far (``None`` at the start of a stream).
        batch : DataSummary
            Summary of the new batch (anything with ``+``, ``-`` and ``scaled``).
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
                departed_level = -1  # the highest sampling level among the batches that left
                while len(batches) > window:
                    gone = batches.popleft()
                    new_total = new_total - gone
                    gone_rows = getattr(gone, "rows", None)
                    departed_level = max(departed_level, -1 if gone_rows is None else gone_rows.level)
                rows = getattr(new_total, "rows", None)
                kept_level = -1 if rows is None else max(kept.rows.level for kept in batches)
                if rows is not None and departed_level > kept_level and rows.level > kept_level:
                    # the rows re-merged from the batches the window holds: a subtraction keeps the
                    # departed batch's sampling level (a batch over the row cap left a small sample).
                    # Only where a departed batch's own level was above every kept batch's: a level
                    # the merge itself reached (the window's rows over the cap) would come back from
                    # re-merging them, which cost 65 ms a call at 100 batches of 1 000 rows
                    rows = batches[0].rows
                    for kept in list(batches)[1:]:
                        rows = rows + kept.rows
                    new_total = replace(new_total, rows=rows)
        # the rows added since the last solve age as the others do; a window drops its oldest rows, solved
        # on, first, so that those added since are all still in it while the summary outweighs them
        pending = self.pending_rows * (1.0 if forget is None else float(forget)) + float(batch.stats.n_rows)
        pending = min(pending, float(new_total.stats.n_rows))
        return new_total, replace(self, n_batches=self.n_batches + 1, batches=batches, pending_rows=pending)

    def due(self, growth: float, weight: float) -> bool:
        """Whether a running summary of ``weight`` rows calls for a solve (``growth >= 1``): the rows in it
        added since the last solve reach ``growth - 1`` times those solved on, i.e. a share
        ``1 - 1 / growth`` of it (always with ``growth == 1`` or before any solve).  On a plain stream:
        ``pending >= (growth - 1) * solved_rows``."""
        if self.solved_rows <= 0:
            return True
        new, old = self.pending_rows * growth, (growth - 1.0) * weight
        if math.isinf(new) or math.isinf(old):
            # a growth near the float range (1e306): both products overflowed to inf and every batch was
            # due, the opposite of the setting; divided by the growth instead (the exact form above keeps
            # the spacing of ordinary growths bit for bit)
            return self.pending_rows >= weight - weight / growth
        return new >= old

    def check_against(self, n_rows: float) -> None:
        """The counts agree with a running summary of ``n_rows`` rows (a read file's state; ValueError
        naming the field)."""
        slack = 1e-9 * max(1.0, n_rows)  # sums of whole or decayed counts, to rounding
        if self.n_batches < 1:
            raise ValueError(
                f"stream.n_batches is {self.n_batches}, but a fitted model has seen at least one batch"
            )
        if self.pending_rows > n_rows + slack:
            raise ValueError(
                f"stream.pending_rows ({self.pending_rows:g}) exceeds the running summary's rows ({n_rows:g})"
            )
        if self.batches is not None:
            if len(self.batches) > self.n_batches:  # a window holds batches of the stream
                raise ValueError(
                    f"stream.batches hold {len(self.batches)} batches, more than stream.n_batches "
                    f"({self.n_batches}) the stream has seen"
                )
            held = sum(float(b.stats.n_rows) for b in self.batches)
            if abs(held - n_rows) > slack:
                raise ValueError(
                    f"stream.batches hold {held:g} rows but the running summary {n_rows:g}: the window's "
                    "batches must add up to it"
                )

    def solved(self, n_rows: float) -> StreamState:
        """The state after a solve on a running summary of ``n_rows`` rows (nothing pending)."""
        return replace(self, solved_rows=float(n_rows), pending_rows=0.0)

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
            "solved_rows": float(self.solved_rows),
            "pending_rows": float(self.pending_rows),
        }

    @classmethod
    def from_dict(cls, d: Any, read_batch: Callable[[Any], Any], k: int) -> StreamState:
        """Inverse of :meth:`to_dict`; ``read_batch`` reads (and checks) one batch record."""
        from .validate import check_count, check_float, check_int, check_str

        d = check_mapping(
            d, "stream", ("n_batches",), ("batches", "prior", "prior_source", "solved_rows", "pending_rows")
        )
        n = check_int(d["n_batches"], "stream.n_batches", 0, 10**15)
        # files written before scheduled solves hold neither: a solve is then due at the next batch
        solved = check_count(d.get("solved_rows", 0.0), "stream.solved_rows")
        pending = check_count(d.get("pending_rows", 0.0), "stream.pending_rows")
        batches = None
        if d.get("batches") is not None:
            if not isinstance(d["batches"], list) or len(d["batches"]) > 100_000:
                raise ValueError("stream.batches must be a list of batch records")
            batches = deque(read_batch(b) for b in d["batches"])
        prior = d.get("prior")
        source = d.get("prior_source")
        if prior is not None:
            if not isinstance(prior, list) or len(prior) != k:
                raise ValueError(f"stream.prior must be a list of {k} positive probabilities")
            prior = np.array([check_float(x, "stream.prior entry", 1e-300, 1.0) for x in prior])
            if abs(prior.sum() - 1) > 1e-6:
                raise ValueError("stream.prior must sum to 1")
            source = check_str(source, "stream.prior_source", ("given", "Y_dev"))
        elif source is not None:
            raise ValueError(f"stream.prior_source must be null without stream.prior, got {source!r}"[:200])
        return cls(
            n_batches=n,
            batches=batches,
            prior=prior,
            prior_source=source,
            solved_rows=solved,
            pending_rows=pending,
        )
