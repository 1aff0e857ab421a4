"""Baselines with the label-model surface: majority vote."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import BaseLabeler
from .distributed import dask_columns, is_dask_array
from .kernels import vote_counts as _vote_counts
from .matrix import check_cardinality, check_label_matrix
from .metrics import score
from .settings import check_random_state
from .validate import check_int


def vote_counts(L: Any, cardinality: int | None = None, chunk_size: int | None = None) -> np.ndarray:
    """Per-row vote counts for each class, shape (n, k) (any label matrix input).

    Raises
    ------
    ValueError
        A bad label matrix or cardinality, or a ``chunk_size`` that is not a positive integer.
    """
    if chunk_size is not None:
        chunk_size = check_int(chunk_size, "chunk_size", 1)
    return _vote_counts(check_label_matrix(L, cardinality, allow_empty=True), chunk_size)


#: The kinds of rows by majority vote's margin (:func:`majority_margin`), in the order ``evaluate``
#: reports them: no vote, a tie between the top classes, a margin of one vote, two votes or more.
MARGIN_KINDS = ("no vote", "tie", "margin 1", "margin 2+")


def majority_margin(L: Any, cardinality: int | None = None, chunk_size: int | None = None) -> np.ndarray:
    """Majority vote's margin per row: the votes for its most-voted class minus those for the next.

    Where a label model departs from majority vote: on rows without a vote (majority vote has none), on
    ties (majority vote flips a coin), and where it overrules a majority; a margin of two or more
    votes survives any one LF changing its vote.

    Parameters
    ----------
    L : label matrix, shape (n, m)
    cardinality : int, optional
        The number of classes ``k`` (else inferred from ``L``, as :func:`vote_counts` does).
    chunk_size : int, optional
        Rows per block of the vote count.

    Returns
    -------
    ndarray of int64, shape (n,)
        ``-1`` on rows without a vote, ``0`` on ties, else the margin (``>= 1``).

    Raises
    ------
    ValueError
        As :func:`vote_counts`.
    """
    counts = vote_counts(L, cardinality, chunk_size)  # (n, k), k >= 2
    top2 = np.partition(counts, -2, axis=1)[:, -2:]
    out = (top2[:, 1] - top2[:, 0]).astype(np.int64)
    out[counts.sum(axis=1) == 0] = -1
    return out


def margin_kinds(margin: np.ndarray) -> np.ndarray:
    """Each row's kind, an index into :data:`MARGIN_KINDS`, shape (n,), from :func:`majority_margin`'s
    margins (n,)."""
    return np.minimum(np.asarray(margin, dtype=np.int64), 2) + 1


def accuracy_by_margin(
    L: Any, y: np.ndarray, preds: dict[str, np.ndarray], cardinality: int
) -> dict[str, dict[str, Any]]:
    """Per kind of row by majority vote's margin (:data:`MARGIN_KINDS`): the gold rows and each
    labeler's accuracy on them.

    Parameters
    ----------
    L : label matrix, shape (n, m)
    y : ndarray of int, shape (n,)
        Gold labels, -1 = unknown (left out).
    preds : dict of name -> ndarray of int, shape (n,)
        Each labeler's predictions (-1 = abstained: left out of its accuracy, as ``score`` reads it).
    cardinality : int

    Returns
    -------
    dict of kind -> {"rows": gold rows of that kind, name: accuracy (nan without rows) for each labeler}
    """
    kind = margin_kinds(majority_margin(L, cardinality))
    gold = y >= 0
    out: dict[str, dict[str, Any]] = {}
    for t, name in enumerate(MARGIN_KINDS):
        rows = gold & (kind == t)
        rec: dict[str, Any] = {"rows": int(rows.sum())}
        for lab, pred in preds.items():
            rec[lab] = (
                score(y[rows], pred[rows], None, cardinality, ["accuracy"])["accuracy"]
                if rows.any()
                else float("nan")
            )
        out[name] = rec
    return out


class MajorityLabelVoter(BaseLabeler):
    """Majority vote of the non-abstaining LFs.

    ``predict_proba`` splits the mass evenly among the most-voted classes (uniform
    for rows with no vote), so ``predict`` applies the tie-break policy to ties.

    Parameters
    ----------
    cardinality : int, default 2
    random_state : int or numpy Generator, optional
        For the ``"true-random"`` tie-break policy.
    """

    def __init__(self, cardinality: int = 2, *, random_state: Any = None) -> None:
        self.cardinality = cardinality
        self.random_state = random_state

    def fit(self, L_train: Any = None, *args: Any, **kwargs: Any) -> MajorityLabelVoter:
        """Nothing to learn (majority vote has no parameters): checks the settings and returns self.

        Raises
        ------
        ValueError
            Naming ``cardinality`` or ``random_state`` and the value, as ``LabelModel.fit`` does.
        """
        check_cardinality(self.cardinality)
        check_random_state(self.random_state)
        return self

    def predict_proba(self, L: Any) -> np.ndarray:
        """Shape (n, k): 1/t on each of the t most-voted classes of a row (a lazy dask array for dask
        input, as ``LabelModel.predict_proba``)."""
        k = check_cardinality(self.cardinality)
        if is_dask_array(L):
            if L.ndim != 2:
                raise ValueError(f"L must be 2-dimensional (rows x labeling functions), got ndim={L.ndim}")
            dask_columns(L)
            if len(L.chunks[1]) > 1:
                L = L.rechunk({1: -1})
            return L.map_blocks(_majority_block, k=k, dtype=np.float64, chunks=(L.chunks[0], (k,)))
        counts = vote_counts(L, k)
        if counts.shape[0] == 0:
            return counts
        top = counts == counts.max(axis=1, keepdims=True)
        return top / top.sum(axis=1, keepdims=True)


def _majority_block(block: Any, k: int, block_info: dict[Any, Any] | None = None) -> np.ndarray:
    """Majority vote's probabilities on one row block of a dask array; a bad vote is named by its row
    in the whole matrix."""
    from .distributed import block_place
    from .matrix import LabelMatrixError, rows_shifted

    try:
        return MajorityLabelVoter(k).predict_proba(block)
    except LabelMatrixError as exc:
        raise rows_shifted(exc, *block_place(block_info)) from exc
