"""Baselines with the label-model surface: majority vote."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import BaseLabeler
from .kernels import class_indicator, conversion_rows, narrow, workspace
from .matrix import check_cardinality, check_label_matrix


def vote_counts(L: Any, cardinality: int | None = None, chunk_size: int | None = None):
    """Per-row vote counts for each class, shape (n, k).

    Dense chunks: one float32 matrix-vector product per class indicator (exact
    integer counts), in steps small enough for one BLAS thread.
    """
    lm = check_label_matrix(L, cardinality)
    k = lm.cardinality
    out = np.zeros((lm.n, k))
    with workspace() as ws:
        ones = np.ones(lm.m, dtype=np.float32)
        for start, block in lm.chunks(chunk_size):
            nc = block.shape[0]
            if lm.is_sparse:
                rows = np.repeat(np.arange(nc), np.diff(block.indptr))
                cnt = np.bincount(rows * k + (block.data - 1), minlength=nc * k).reshape(nc, k)
                out[start : start + nc] = cnt
                continue
            step = conversion_rows(lm.m)
            for s in range(0, nc, step):
                part = narrow(block[s : s + step], k, ws)
                rows = out[start + s : start + s + len(part)]
                for c in range(k):
                    rows[:, c] = class_indicator(part, c, ws) @ ones
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
        """No-op (majority vote has no parameters); returns self."""
        return self

    def predict_proba(self, L: Any) -> np.ndarray:
        """Shape (n, k): 1/t on each of the t most-voted classes of a row."""
        counts = vote_counts(L, check_cardinality(self.cardinality))
        top = counts == counts.max(axis=1, keepdims=True)
        return top / top.sum(axis=1, keepdims=True)
