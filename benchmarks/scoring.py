"""How the benchmarks score labels against gold, the same way for every method.

Accuracy is its expectation under uniform tie-breaking among the top scores (a method that
ties majority vote scores exactly majority vote's accuracy; no method gains from an arbitrary
tie-break); F1 is of class 1 for k = 2 and the mean over the classes otherwise, averaged over
``F1_DRAWS`` seeded tie-breaks.
"""

from __future__ import annotations

import numpy as np

TIE_TOL = 1e-9  # scores this close to the row's max are tied
F1_DRAWS = 20


def f1_score(pred: np.ndarray, y: np.ndarray, k: int) -> float:
    """F1 of class 1 for k = 2, else the mean F1 over the k classes. ``pred``, ``y``: (n,)."""

    def one(c: int) -> float:
        tp = np.sum((pred == c) & (y == c))
        fp = np.sum((pred == c) & (y != c))
        fn = np.sum((pred != c) & (y == c))
        return float(2 * tp / max(2 * tp + fp + fn, 1))

    return one(1) if k == 2 else float(np.mean([one(c) for c in range(k)]))


def _tops(S: np.ndarray) -> np.ndarray:
    """(n, k) bool: the classes tied at each row's top score (non-finite scores count as the lowest;
    a row without a finite score ties every class)."""
    S = np.asarray(S, dtype=np.float64)
    S = np.where(np.isfinite(S), S, -np.inf)
    top = S >= S.max(axis=1, keepdims=True) - TIE_TOL
    top[~top.any(axis=1)] = True
    return top


def row_correct(S: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(n,) expected correctness of scores ``S`` (n, k) under uniform tie-breaking (as tie_scores)."""
    top = _tops(S)
    return top[np.arange(len(y)), y] / top.sum(axis=1)


def tie_scores(S: np.ndarray, y: np.ndarray, k: int) -> tuple[float, float]:
    """(expected accuracy, mean F1) of scores ``S`` (n, k) against gold ``y`` (n,).

    Non-finite scores count as the lowest; a row without a finite score ties every class.
    """
    top = _tops(S)
    acc = float(np.mean(top[np.arange(len(y)), y] / top.sum(axis=1)))
    f1s = []
    for s in range(F1_DRAWS):
        r = np.random.default_rng(s).random(top.shape) * top
        f1s.append(f1_score(r.argmax(axis=1), y, k))
    return acc, float(np.mean(f1s))


def mv_scores(L: np.ndarray, k: int) -> np.ndarray:
    """(n, k) vote counts of a label matrix (abstains ignored): majority vote's scores."""
    return np.stack([(L == c).sum(axis=1) for c in range(k)], axis=1).astype(np.float64)


#: The kinds of evaluation row, by majority vote's reading of them: no vote (majority vote's coin
#: over every class), votes whose top classes tie (a coin over the tied classes) and a clear
#: majority.  Each row is of exactly one kind.
ROW_KINDS = ("unvoted", "tied", "clear")


def row_kinds(mv: np.ndarray) -> dict[str, np.ndarray]:
    """(n,) bool masks of the rows of each kind in :data:`ROW_KINDS`, from majority vote's vote counts
    ``mv`` (n, k) (:func:`mv_scores`): a partition of the rows."""
    unvoted = mv.sum(axis=1) == 0
    tied = ~unvoted & ((mv == mv.max(axis=1, keepdims=True)).sum(axis=1) > 1)
    return {"unvoted": unvoted, "tied": tied, "clear": ~unvoted & ~tied}


def split_by_kind(P: np.ndarray, mv: np.ndarray, y: np.ndarray) -> dict[str, dict[str, float | int | None]]:
    """Accuracy of scores ``P`` (n, k) and of majority vote (its vote counts ``mv`` (n, k),
    :func:`mv_scores`) on each kind of row.

    Per kind of :data:`ROW_KINDS`: ``rows``, ``acc`` and ``mv_acc`` (expectations under a uniform
    tie-break, as :func:`tie_scores`; None where no row is of the kind).  Each part's accuracy times
    its share of the rows adds up to the whole accuracy, so a method's change against majority vote
    splits into the kinds' parts exactly.
    """
    mine, theirs = row_correct(P, y), row_correct(mv, y)
    out: dict[str, dict[str, float | int | None]] = {}
    for kind, mask in row_kinds(mv).items():
        rows = int(mask.sum())
        out[kind] = {
            "rows": rows,
            "acc": float(mine[mask].mean()) if rows else None,
            "mv_acc": float(theirs[mask].mean()) if rows else None,
        }
    return out
