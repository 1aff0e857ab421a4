"""Scoring metrics for label models (names as in Snorkel and WRENCH).

Label metrics (accuracy, f1, ...) are computed over rows with gold (``y >= 0``)
where the model did not abstain (``pred >= 0``), as Snorkel does;
``coverage`` is the fraction of gold rows that got a prediction; probabilistic
metrics (``brier``, ``log_loss``, ``roc_auc``) use every gold row.  Snorkel's names all work:
``fbeta`` is its F1 (beta = 1), ``matthews_corrcoef`` and ``roc_auc`` (binary) are there too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

#: How far a probability may stray outside 0..1, and a row's sum from 1 (float32 predictions round).
PROB_TOL = 1e-4


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


#: Rows per step of :func:`brier`: its (rows, k) temporaries stay the size of a step, not of ``probs``.
BRIER_STEP_ROWS = 1 << 15


def brier(y, pred, probs, k):
    """Mean over rows of sum_c (p_c - 1[y = c])^2 (NaN without a gold row, as accuracy)."""
    if not len(y):
        return float("nan")
    per_row = np.empty(len(y))
    for s in range(0, len(y), BRIER_STEP_ROWS):
        diff = np.array(probs[s : s + BRIER_STEP_ROWS], dtype=np.float64)
        diff[np.arange(len(diff)), y[s : s + BRIER_STEP_ROWS]] -= 1.0
        per_row[s : s + len(diff)] = np.sum(diff**2, axis=1)
    return float(np.mean(per_row))


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


def check_probs(probs: Any, n: int, k: int | None = None, name: str = "probs") -> np.ndarray:
    """``probs`` as a float64 array of shape (n, k) whose rows are probabilities.

    Parameters
    ----------
    probs : array-like
    n : int
        The number of rows expected (one per gold label).
    k : int, optional
        The number of classes expected (None: any number from 2).
    name : str
        How the errors call ``probs``.

    Raises
    ------
    ValueError
        Another shape; NaN or an infinity; a value outside 0..1 or a row whose sum is not 1 (beyond
        :data:`PROB_TOL`), naming the first such row.
    """
    try:
        P = np.asarray(probs, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must hold numbers ({exc})") from exc
    if P.ndim != 2 or P.shape[0] != n or P.shape[1] < 2 or (k is not None and P.shape[1] != k):
        raise ValueError(
            f"{name} has shape {P.shape}; expected ({n}, {'k' if k is None else k}): a row of class "
            "probabilities per label"
        )
    bad = ~np.isfinite(P).all(axis=1)
    if bad.any():
        raise ValueError(f"{name} has NaN or an infinity in row {int(np.flatnonzero(bad)[0])}")
    bad = ((P < -PROB_TOL) | (P > 1 + PROB_TOL)).any(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} row {row} holds {P[row].tolist()}, outside 0..1: pass probabilities")
    sums = P.sum(axis=1)
    bad = np.abs(sums - 1.0) > PROB_TOL
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} row {row} sums to {sums[row]:.6g}, not 1: pass probabilities (e.g. a softmax of scores)"
        )
    return P


def _labels(values: Any, name: str, cardinality: int, n: int | None = None, of: str = "") -> np.ndarray:
    """Labels as :func:`tripletws.matrix.check_labels` reads them (1-D integers, -1 allowed), of length
    ``n`` (the length of ``of``) where given."""
    from .matrix import check_labels

    labels = check_labels(values, 0 if np.size(values) == 0 else None, cardinality, name=name)
    if n is not None and len(labels) != n:
        raise ValueError(f"{name} has length {len(labels)} but {of} has {n}")
    return labels


def check_metric_names(metrics: Sequence[str], extra: Sequence[str] = ()) -> None:
    """Raise ValueError for the first name in ``metrics`` that is neither a metric, an alias, nor in
    ``extra`` (a labeler's score also takes ``"no_vote"``): before any work or warning."""
    for name in metrics:
        if not isinstance(name, str) or (name not in extra and ALIASES.get(name, name) not in METRICS):
            names = ", ".join((*METRICS, *ALIASES))
            raise ValueError(f"unknown metric {name!r}; choose from {names} (a labeler's score: and no_vote)")


def score(
    y: np.ndarray,
    preds: np.ndarray,
    probs: np.ndarray | None,
    cardinality: int,
    metrics: Sequence[str] | str | None = ("accuracy",),
) -> dict[str, float]:
    """Compute named metrics (``metrics``: one name, a list of names, or None for accuracy, as
    ``LabelModel.score`` reads it).

    Parameters
    ----------
    y : ndarray of int, shape (n,)
        Gold labels, -1 = unknown (row ignored).
    preds : ndarray of int, shape (n,)
        Predictions, -1 = abstained.
    probs : ndarray, shape (n, k), optional
        Needed for ``brier``, ``log_loss`` and ``roc_auc`` (rows of probabilities, see
        :func:`check_probs`).

    Raises
    ------
    ValueError
        Labels outside -1..k-1, or not integers; ``y`` and ``preds`` of different lengths; ``probs``
        of another shape, holding NaN, or not probabilities (where a metric reads them); an unknown
        metric.
    """
    if metrics is None:
        metrics = ["accuracy"]
    elif isinstance(metrics, str):
        metrics = [metrics]
    check_metric_names(metrics)
    y = _labels(y, "y", cardinality)
    preds = _labels(preds, "preds", cardinality, len(y), "y")
    if probs is not None and reads_probabilities(metrics):
        probs = check_probs(probs, len(y), cardinality)
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
            gold_probs = probs if gold.all() else probs[gold]  # no (n, k) copy where every row has gold
            out[name] = PROB_METRICS[key](y_g, p_g, gold_probs, cardinality)
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
        Needed by ``brier``, ``log_loss`` and ``roc_auc``; gives k.  Rows of probabilities: each value
        in 0..1, each row summing to 1 (see :func:`check_probs`).
    metric : str
    filter_dict : dict of {"golds", "preds"} to lists of labels, optional
    **kwargs
        Snorkel's scikit-learn options; only ``beta=1`` (``fbeta``, which is F1 here) is read.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Labels that are not integers (a float 0.5, text) or not 1-D; ``preds`` or ``probs`` of another
        length than ``golds``; ``probs`` not (n, k) probabilities; a label beyond the classes of
        ``probs``; a -1 left as the filter says above.
    """
    if kwargs and kwargs != {"beta": 1}:
        raise TypeError(
            f"metric_score() takes no scikit-learn options here, got {sorted(kwargs)} (fbeta is F1)"
        )
    if golds is None:
        raise ValueError("metric_score needs golds")
    if not isinstance(metric, str):
        raise ValueError(f"metric must be one metric's name, got {metric!r} (score() takes a list)")
    from .matrix import MAX_CARDINALITY

    # read as score reads labels: a float 0.5 was cast to class 0, (n, k) golds flattened
    arrays = {"golds": _labels(golds, "golds", MAX_CARDINALITY), "preds": None}
    n = len(arrays["golds"])
    if preds is not None:
        arrays["preds"] = _labels(preds, "preds", MAX_CARDINALITY, n, "golds")
    p_all = None if probs is None else check_probs(probs, n)
    keep = np.ones(n, dtype=bool)
    for name, values in (filter_dict or {}).items():
        if name not in ("golds", "preds"):
            raise ValueError(f"filter_dict keys are 'golds' and 'preds', got {name!r}")
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise ValueError(f"filter_dict[{name!r}] must be a list of labels (e.g. [-1]), got {values!r}")
        if arrays[name] is not None:
            keep &= ~np.isin(arrays[name], list(values))
    y = arrays["golds"][keep]
    key = ALIASES.get(metric, metric)
    if key in PROB_METRICS:
        if p_all is None:
            raise ValueError(f"metric {metric!r} needs probs")
        p = p_all[keep]
        k = p.shape[1]
        pred = np.argmax(p, axis=1) if arrays["preds"] is None else arrays["preds"][keep]
    else:
        if arrays["preds"] is None:
            raise ValueError(f"metric {metric!r} needs preds")
        pred, p = arrays["preds"][keep], None
        if (pred < 0).any() and key != "coverage":
            raise ValueError(
                "preds hold -1 (abstain): pass filter_dict={'golds': [-1], 'preds': [-1]} to leave those "
                "rows out, as Snorkel's Scorer does"
            )
        k = int(max(2, y.max(initial=0) + 1, pred.max(initial=0) + 1)) if p_all is None else p_all.shape[1]
    if (y < 0).any():
        raise ValueError("golds hold -1 (unknown): pass filter_dict={'golds': [-1]} to leave those rows out")
    for name, values in (("golds", y), ("preds", pred)):
        if (values >= k).any():
            raise ValueError(
                f"{name} has value {int(values[values >= k][0])}, outside 0..{k - 1}: probs has {k} "
                "columns, one per class"
            )
    return score(y, pred, p, k, [metric])[metric]
