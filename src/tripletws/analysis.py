"""Per-LF summary of a label matrix (the table Snorkel users know as ``LFAnalysis``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .matrix import check_label_matrix, check_labels, from_sparse


def lf_summary_arrays(L: Any, Y: Any = None, cardinality: int | None = None) -> dict[str, Any]:
    """Per-LF statistics as plain arrays (no pandas needed).

    Returns
    -------
    dict with keys ``polarity`` (list of sorted class lists), ``coverage``,
    ``overlaps``, ``conflicts`` (fractions of all rows, shape (m,)) and, when ``Y``
    is given, ``correct``, ``incorrect`` (counts over rows with gold) and ``emp_acc``.
    """
    lm = check_label_matrix(L, cardinality)
    k, m = lm.cardinality, lm.m
    y = None if Y is None else check_labels(Y, lm.n, k)
    votes_per_class = np.zeros((m, k))
    overlaps = np.zeros(m)
    conflicts = np.zeros(m)
    correct = np.zeros(m)
    incorrect = np.zeros(m)
    for start, block in lm.chunks():
        B = from_sparse(block) if lm.is_sparse else np.asarray(block)
        V = B >= 0
        cnt = np.stack([(B == c).sum(axis=1) for c in range(k)], axis=1)  # (nc, k)
        nv = V.sum(axis=1)
        same = np.take_along_axis(cnt, np.where(V, B, 0).astype(np.intp), axis=1)  # votes agreeing with i
        overlaps += (V & (nv[:, None] >= 2)).sum(axis=0)
        conflicts += (V & ((nv[:, None] - same) > 0)).sum(axis=0)
        for c in range(k):
            votes_per_class[:, c] += (B == c).sum(axis=0)
        if y is not None:
            yc = y[start : start + B.shape[0]]
            gold = (yc >= 0)[:, None] & V
            correct += (gold & (B == yc[:, None])).sum(axis=0)
            incorrect += (gold & (B != yc[:, None])).sum(axis=0)
    n = lm.n
    out: dict[str, Any] = {
        "polarity": [np.flatnonzero(votes_per_class[i]).tolist() for i in range(m)],
        "coverage": votes_per_class.sum(axis=1) / n,
        "overlaps": overlaps / n,
        "conflicts": conflicts / n,
    }
    if y is not None:
        tot = correct + incorrect
        out.update(
            correct=correct.astype(np.int64),
            incorrect=incorrect.astype(np.int64),
            emp_acc=np.divide(correct, tot, out=np.full(m, np.nan), where=tot > 0),
        )
    return out


def lf_summary(
    L: Any,
    Y: Any = None,
    model: Any = None,
    cardinality: int | None = None,
    lf_names: list[str] | None = None,
):
    """Per-LF summary as a pandas DataFrame.

    Columns: ``j``, ``Polarity``, ``Coverage``, ``Overlaps``, ``Conflicts``, and with
    gold ``Y``: ``Correct``, ``Incorrect``, ``Emp. Acc.``; with a fitted ``model``:
    ``Learned Weight`` (its ``get_weights()``, the estimated accuracy).

    Parameters
    ----------
    L : label matrix, shape (n, m)
    Y : array of shape (n,), optional
        Gold labels (-1 = unknown).
    model : fitted LabelModel, optional
    lf_names : list of m str, optional
        Index of the table (default ``0..m-1``).
    """
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("lf_summary needs pandas: pip install 'tripletws[pandas]'") from exc
    if cardinality is None and model is not None:
        cardinality = model.cardinality
    s = lf_summary_arrays(L, Y, cardinality)
    m = len(s["coverage"])
    cols: dict[str, Any] = {
        "j": np.arange(m),
        "Polarity": s["polarity"],
        "Coverage": s["coverage"],
        "Overlaps": s["overlaps"],
        "Conflicts": s["conflicts"],
    }
    if Y is not None:
        cols.update({"Correct": s["correct"], "Incorrect": s["incorrect"], "Emp. Acc.": s["emp_acc"]})
    if model is not None:
        w = np.asarray(model.get_weights())
        if w.shape != (m,):
            raise ValueError(f"model has {w.shape[0]} LFs but L has {m} columns")
        cols["Learned Weight"] = w
    if lf_names is not None and len(lf_names) != m:
        raise ValueError(f"lf_names has {len(lf_names)} names for {m} LFs")
    return pd.DataFrame(cols, index=lf_names)
