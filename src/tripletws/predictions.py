"""Hard predictions from probabilities, with Snorkel's tie-break policies."""

from __future__ import annotations

from typing import Any

import numpy as np

from .top_classes import top_classes

TIE_BREAK_POLICIES = ("abstain", "random", "true-random")

#: Classes whose probability is within this of the row maximum count as tied (Snorkel's 1e-5).
TIE_TOLERANCE = 1e-5


def _row_hash(rows: np.ndarray) -> np.ndarray:
    """splitmix64 of the row index: a fixed pseudo-random integer per row."""
    z = rows.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def probs_to_preds(
    probs: np.ndarray,
    tie_break_policy: str = "random",
    tol: float = TIE_TOLERANCE,
    random_state: Any = None,
    keys: np.ndarray | None = None,
) -> np.ndarray:
    """Argmax of each row of ``probs`` (n, k) with a tie-break policy.

    Parameters
    ----------
    probs : ndarray of float, shape (n, k)
        Class probabilities of each row (every value finite).
    tie_break_policy : {"abstain", "random", "true-random"}, default "random"
        ``abstain``: -1 for tied rows.  ``random``: a tied class chosen by a fixed
        hash of the row index (deterministic).  ``true-random``: chosen by
        ``random_state`` (a seed or ``numpy.random.Generator``; global state is never used).
    tol : float, default 1e-5
        Classes whose probability is within ``tol`` of the row's maximum count as tied
        (:data:`TIE_TOLERANCE`, Snorkel's).
    random_state : int or numpy Generator, optional
        Used by ``"true-random"`` only.
    keys : ndarray of uint64, shape (n,), optional
        What ``"random"`` hashes instead of the row index: a key of each row's identity (a crowd's
        task ids, :meth:`tripletws.crowd.CrowdMatrix.task_keys`), so that a row keeps its pick
        wherever it stands.

    Returns
    -------
    ndarray of int, shape (n,)
    """
    if tie_break_policy not in TIE_BREAK_POLICIES:
        raise ValueError(
            f"unknown tie_break_policy {tie_break_policy!r}; choose one of {', '.join(TIE_BREAK_POLICIES)}"
        )
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] == 0:
        raise ValueError(f"probs must be 2-dimensional (n, k) with k >= 1, got shape {probs.shape}")
    finite = np.isfinite(probs).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"probs has a value that is not finite in row {row}: {probs[row].tolist()}")
    n = probs.shape[0]
    tied = top_classes(probs, tol)
    n_tied = tied.sum(axis=1)
    preds = np.argmax(probs, axis=1).astype(np.int64, copy=False)  # argmax's own array where it is int64
    multi = np.flatnonzero(n_tied > 1)
    if keys is not None and np.shape(keys) != (n,):
        raise ValueError(f"keys must have shape ({n},) (one per row), got {np.shape(keys)}")
    if multi.size == 0:
        return preds
    if tie_break_policy == "abstain":
        preds[multi] = -1
        return preds
    if tie_break_policy == "random":
        at = multi if keys is None else np.asarray(keys, dtype=np.uint64)[multi]
        pick = _row_hash(at) % n_tied[multi].astype(np.uint64)
    else:
        rng = np.random.default_rng(random_state)
        pick = rng.integers(0, n_tied[multi])
    # index of the pick-th True in each tied row
    csum = np.cumsum(tied[multi], axis=1)
    preds[multi] = np.argmax(csum > pick.astype(np.int64)[:, None], axis=1)
    assert preds.shape == (n,)
    return preds


def preds_to_probs(
    preds: Any, cardinality: int | None = None, *, num_classes: int | None = None
) -> np.ndarray:
    """One-hot (n, k) probabilities from hard labels (-1 rows become uniform).

    Parameters
    ----------
    preds : array of int, shape (n,) or (n, 1)
    cardinality : int
        The number of classes k.
    num_classes : int, optional
        Snorkel's name for ``cardinality`` (``preds_to_probs(preds, num_classes=k)``).
    """
    if num_classes is not None:
        if cardinality is not None:
            raise TypeError("preds_to_probs() got both cardinality and num_classes (Snorkel's name for it)")
        cardinality = num_classes
    if cardinality is None:
        raise TypeError("preds_to_probs() missing the number of classes: preds_to_probs(preds, cardinality)")
    preds = np.asarray(preds).astype(np.int64).reshape(-1)
    if ((preds < -1) | (preds >= cardinality)).any():
        bad = int(preds[(preds < -1) | (preds >= cardinality)][0])
        raise ValueError(f"prediction {bad} outside -1..{cardinality - 1}")
    out = np.zeros((len(preds), cardinality))
    known = preds >= 0
    out[np.flatnonzero(known), preds[known]] = 1.0
    out[~known] = 1.0 / cardinality
    return out


#: The prefix of a probability column's name in the files the command line writes.
PROBA_PREFIX = "p_"


def proba_columns(cardinality: int, classes: Any = None) -> list[str]:
    """The names of the probability columns, one per class, as the command line writes them.

    ``tripletws predict`` and ``tripletws aggregate --proba`` name the column of class ``c``
    ``p_<label>`` where the model knows the label that code ``c`` stands for (a crowd fit's
    ``class_names_``, :mod:`tripletws.crowd`), else ``p_<c>`` (``p_0, p_1, ...``), so that the
    two commands' files agree for the same classes.

    Parameters
    ----------
    cardinality : int
        The number of classes k.
    classes : sequence, optional
        The k labels the class codes 0..k-1 stand for (None: unknown, the codes name the columns).

    Returns
    -------
    list of str
        The k column names.

    Raises
    ------
    ValueError
        ``classes`` does not hold k labels, or two labels give one column name (the label ``1``
        beside the text ``"1"``).
    """
    k = int(cardinality)
    labels = list(range(k)) if classes is None else list(classes)
    if len(labels) != k:
        raise ValueError(f"classes has {len(labels)} labels for cardinality={k}")
    names = [f"{PROBA_PREFIX}{label}" for label in labels]
    seen: dict[str, Any] = {}
    for label, name in zip(labels, names, strict=True):
        if name in seen:
            raise ValueError(
                f"the labels {seen[name]!r} and {label!r} would both name the probability column {name!r}"
            )
        seen[name] = label
    return names
