"""What a fitted :class:`~tripletws.LabelModel` offers beyond fitting and predicting.

Bootstrap confidence intervals (:mod:`tripletws.intervals`) and the HTML report
(:mod:`tripletws.report`), kept out of the model class so that it stays the thin front of
the fitting path; both import their modules lazily (``import tripletws`` stays light).
"""

from __future__ import annotations

from typing import Any


class AnalysisMixin:
    """Intervals and report for a fitted label model (mixed into :class:`~tripletws.LabelModel`)."""

    def confidence_intervals(
        self,
        L: Any,
        level: float = 0.95,
        n_boot: int = 200,
        n_chunks: int | None = None,
        random_state: Any = None,
    ):
        """Bootstrap intervals of the learned accuracies and class balance (see :mod:`tripletws.intervals`).

        ``L`` is the training matrix; it is read once, in ``n_chunks`` row chunks (default 100, or one
        row per chunk where ``L`` has fewer rows).
        The result is also kept as ``intervals_`` (and saved with the model).

        Returns
        -------
        ConfidenceIntervals
        """
        from .intervals import bootstrap_intervals

        self.intervals_ = bootstrap_intervals(
            self, L, level=level, n_boot=n_boot, n_chunks=n_chunks, random_state=random_state
        )
        return self.intervals_

    def report(self, L: Any, Y: Any = None, path: Any = None, **kwargs: Any) -> str:
        """Self-contained HTML report (see :mod:`tripletws.report`); written to ``path`` when given.

        Returns
        -------
        str
            The HTML.
        """
        from .report import build_report, write_report

        if path is None:
            return build_report(self, L, Y, **kwargs)
        return write_report(self, L, path, Y, **kwargs).read_text(encoding="utf-8")


def with_intervals(model: Any, state: dict[str, Any]) -> dict[str, Any]:
    """The model file's state plus the model's ``intervals_`` when it has them."""
    if model.__dict__.get("intervals_") is not None:
        state["intervals"] = model.intervals_.to_dict()
    return state


def split_intervals(state: Any) -> tuple[Any, Any]:
    """``(state without "intervals", the intervals record or None)``."""
    if isinstance(state, dict) and "intervals" in state:
        return {key: value for key, value in state.items() if key != "intervals"}, state["intervals"]
    return state, None


def read_intervals(record: Any, n_lfs: int, cardinality: int) -> Any:
    """:class:`~tripletws.intervals.ConfidenceIntervals` from a model file's record (validated), or None."""
    if record is None:
        return None
    from .intervals import ConfidenceIntervals

    return ConfidenceIntervals.from_dict(record, n_lfs, cardinality)
