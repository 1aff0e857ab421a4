"""Scoring metrics for label models (names as in Snorkel and WRENCH).

Label metrics (accuracy, f1, ...) are computed over rows with gold (``y >= 0``)
where the model did not abstain (``pred >= 0``), as Snorkel does;
``coverage`` is the fraction of gold rows that got a prediction; probabilistic
metrics (``brier``, ``log_loss``, ``roc_auc``) use every gold row.  Snorkel's names all work:
``fbeta`` is its F1 (beta = 1), ``matthews_corrcoef`` and ``roc_auc`` (binary) are there too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def _confusion(y: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(y * k + pred, minlength=k * k).reshape(k, k)


def _f1_per_class(cm: np.ndarray) -> np.ndarray:
    tp = np.diag(cm).astype(np.float64)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    denom = 2 * tp + fp + fn
    return np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)


def accuracy(y, pred, probs, k):
    return float(np.mean(y == pred)) if len(y) else float("nan")


def f1(y, pred, probs, k):
    """F1 of class 1 (binary only)."""
    if k != 2:
        raise ValueError("metric 'f1' is for binary tasks; use 'f1_macro' or 'f1_micro'")
    if not len(y):  # no scorable row: undefined, as accuracy
        return float("nan")
    return float(_f1_per_class(_confusion(y, pred, k))[1])


def precision(y, pred, probs, k):
    if k != 2:
        raise ValueError("metric 'precision' is for binary tasks")
    if not len(y):  # no scorable row: undefined, as accuracy
        return float("nan")
    cm = _confusion(y, pred, k)
    d = cm[:, 1].sum()
    return float(cm[1, 1] / d) if d else 0.0


def recall(y, pred, probs, k):
    if k != 2:
        raise ValueError("metric 'recall' is for binary tasks")
    if not len(y):  # no scorable row: undefined, as accuracy
        return float("nan")
    cm = _confusion(y, pred, k)
    d = cm[1].sum()
    return float(cm[1, 1] / d) if d else 0.0


def f1_macro(y, pred, probs, k):
    cm = _confusion(y, pred, k)
    present = (cm.sum(axis=0) + cm.sum(axis=1)) > 0
    return float(_f1_per_class(cm)[present].mean()) if present.any() else float("nan")


def f1_micro(y, pred, probs, k):
    return accuracy(y, pred, probs, k)


def brier(y, pred, probs, k):
    """Mean over rows of sum_c (p_c - 1[y = c])^2 (NaN without a gold row, as accuracy)."""
    if not len(y):
        return float("nan")
    onehot = np.zeros_like(probs)
    onehot[np.arange(len(y)), y] = 1.0
    return float(np.mean(np.sum((probs - onehot) ** 2, axis=1)))


def log_loss(y, pred, probs, k):
    if not len(y):  # no gold row: undefined, as accuracy
        return float("nan")
    p = np.clip(probs[np.arange(len(y)), y], 1e-15, 1.0)
    return float(-np.mean(np.log(p)))


def matthews_corrcoef(y, pred, probs, k):
    """Matthews correlation coefficient (multiclass form, Gorodkin 2004; 0 where it is undefined,
    as scikit-learn)."""
    if not len(y):
        return float("nan")
    cm = _confusion(y, pred, k).astype(np.float64)
    t, p = cm.sum(axis=1), cm.sum(axis=0)
    c, s = float(np.trace(cm)), float(cm.sum())
    denom = np.sqrt((s * s - p @ p) * (s * s - t @ t))
    return float((c * s - t @ p) / denom) if denom > 0 else 0.0


def roc_auc(y, pred, probs, k):
    """Area under the ROC curve of ``P(Y = 1)`` (binary only; ties count one half, as the
    Mann-Whitney statistic); NaN without gold rows of both classes."""
    if k != 2:
        raise ValueError("metric 'roc_auc' is for binary tasks")
    from scipy.stats import rankdata

    n1 = int((y == 1).sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    # ranked at 1e-6: the sparse path's float32 logits move probabilities by up to 2.4e-7
    # (docs/threads.md), which split rows that tie on the dense path and moved the AUC
    ranks = rankdata(np.round(probs[:, 1], 6))
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


LABEL_METRICS: dict[str, Callable] = {
    "accuracy": accuracy,
    "f1": f1,
    "precision": precision,
    "recall": recall,
    "f1_macro": f1_macro,
    "f1_micro": f1_micro,
    "matthews_corrcoef": matthews_corrcoef,
}
PROB_METRICS: dict[str, Callable] = {"brier": brier, "log_loss": log_loss, "roc_auc": roc_auc}
# Snorkel's "fbeta" is F1 at its default beta = 1
ALIASES = {
    "acc": "accuracy",
    "f1_binary": "f1",
    "logloss": "log_loss",
    "fbeta": "f1",
    "mcc": "matthews_corrcoef",
}
METRICS = (*LABEL_METRICS, "coverage", *PROB_METRICS)


def reads_probabilities(metrics: Sequence[str]) -> bool:
    """Whether any of ``metrics`` (names or aliases) is a probabilistic metric (it scores every gold
    row, abstained predictions included)."""
    return any(ALIASES.get(name, name) in PROB_METRICS for name in metrics)


def score(
    y: np.ndarray,
    preds: np.ndarray,
    probs: np.ndarray | None,
    cardinality: int,
    metrics: Sequence[str] = ("accuracy",),
) -> dict[str, float]:
    """Compute named metrics.

    Parameters
    ----------
    y : ndarray of int, shape (n,)
        Gold labels, -1 = unknown (row ignored).
    preds : ndarray of int, shape (n,)
        Predictions, -1 = abstained.
    probs : ndarray, shape (n, k), optional
        Needed for ``brier``, ``log_loss`` and ``roc_auc``.
    """
    if isinstance(metrics, str):
        metrics = [metrics]
    gold = y >= 0
    y_g, p_g = y[gold], preds[gold]
    covered = p_g >= 0
    out: dict[str, float] = {}
    for name in metrics:
        key = ALIASES.get(name, name)
        if key == "coverage":
            out[name] = float(covered.mean()) if len(covered) else float("nan")
        elif key in LABEL_METRICS:
            try:
                out[name] = LABEL_METRICS[key](y_g[covered], p_g[covered], None, cardinality)
            except ValueError as exc:  # an alias's error names the metric asked for ('fbeta', not 'f1')
                raise ValueError(str(exc).replace(f"'{key}'", f"'{name}'")) from None
        elif key in PROB_METRICS:
            if probs is None:
                raise ValueError(f"metric {name!r} needs probabilities")
            out[name] = PROB_METRICS[key](y_g, p_g, probs[gold], cardinality)
        else:
            names = ", ".join((*METRICS, *ALIASES))
            raise ValueError(f"unknown metric {name!r}; choose from {names} (a labeler's score: and no_vote)")
    return out


def metric_score(
    golds: np.ndarray | None = None,
    preds: np.ndarray | None = None,
    probs: np.ndarray | None = None,
    metric: str = "accuracy",
    filter_dict: dict[str, Sequence[int]] | None = None,
    **kwargs: object,
) -> float:
    """One metric, Snorkel's ``snorkel.analysis.metric_score`` (the names of :func:`score`).

    Rows are first dropped as ``filter_dict`` says (``{"golds": [-1], "preds": [-1]}``: unknown gold
    labels and abstained predictions, as Snorkel's ``Scorer`` and :func:`score` do).  A -1 left in
    ``golds``, or in ``preds`` for a label metric, is a ValueError: Snorkel would score it as one
    more class, :func:`score` would drop the row.

    Parameters
    ----------
    golds : array of int, shape (n,)
    preds : array of int, shape (n,), optional
        Needed by the label metrics (``accuracy``, ``f1``, ``coverage``, ...).
    probs : array, shape (n, k), optional
        Needed by ``brier``, ``log_loss`` and ``roc_auc``; gives k.
    metric : str
    filter_dict : dict of {"golds", "preds"} to lists of labels, optional
    **kwargs
        Snorkel's scikit-learn options; only ``beta=1`` (``fbeta``, which is F1 here) is read.

    Returns
    -------
    float
    """
    if kwargs and kwargs != {"beta": 1}:
        raise TypeError(
            f"metric_score() takes no scikit-learn options here, got {sorted(kwargs)} (fbeta is F1)"
        )
    if golds is None:
        raise ValueError("metric_score needs golds")
    arrays = {"golds": np.asarray(golds).reshape(-1), "preds": None if preds is None else np.asarray(preds)}
    if arrays["preds"] is not None:
        arrays["preds"] = arrays["preds"].reshape(-1)
    keep = np.ones(len(arrays["golds"]), dtype=bool)
    for name, values in (filter_dict or {}).items():
        if name not in ("golds", "preds"):
            raise ValueError(f"filter_dict keys are 'golds' and 'preds', got {name!r}")
        if arrays[name] is not None:
            keep &= ~np.isin(arrays[name], list(values))
    y = arrays["golds"][keep].astype(np.int64)
    key = ALIASES.get(metric, metric)
    if key in PROB_METRICS:
        if probs is None:
            raise ValueError(f"metric {metric!r} needs probs")
        p = np.asarray(probs, dtype=np.float64)[keep]
        k = p.shape[1]
        pred = np.argmax(p, axis=1) if arrays["preds"] is None else arrays["preds"][keep].astype(np.int64)
    else:
        if arrays["preds"] is None:
            raise ValueError(f"metric {metric!r} needs preds")
        pred, p = arrays["preds"][keep].astype(np.int64), None
        if (pred < 0).any() and key != "coverage":
            raise ValueError(
                "preds hold -1 (abstain): pass filter_dict={'golds': [-1], 'preds': [-1]} to leave those "
                "rows out, as Snorkel's Scorer does"
            )
        k = (
            int(max(2, y.max(initial=0) + 1, pred.max(initial=0) + 1))
            if probs is None
            else np.shape(probs)[1]
        )
    if (y < 0).any():
        raise ValueError("golds hold -1 (unknown): pass filter_dict={'golds': [-1]} to leave those rows out")
    return score(y, pred, p, k, [metric])[metric]
