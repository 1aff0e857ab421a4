"""Class balance: given, from dev labels, uniform, or estimated from L."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..caller import outside_stacklevel
from ..matrix import from_torch
from ..stats import LabelStats

#: Smallest probability any class keeps, so that every class stays predictable.
MIN_CLASS_PROB = 1e-4

#: Smallest entry a given class balance may have (a model file keeps its prior at or above it;
#: inference floors probabilities at it as well).
MIN_GIVEN_PROB = 1e-300

#: Strategies for a prior that is not given; "auto" lets the model pick (see LabelModel).
STRATEGIES = ("auto", "estimate", "uniform")


def check_class_balance(p: Any, cardinality: int) -> np.ndarray:
    """Validate a user-given class balance: k finite, positive entries summing to 1."""
    expected = f"class_balance must be {cardinality} probabilities (a list or array), got {p!r}"
    if p is None or isinstance(p, (dict, set, str, bytes)):
        raise ValueError(expected)
    p = from_torch(p)  # a tensor that requires grad (or lives on a GPU) too
    if isinstance(p, np.ma.MaskedArray) and np.ma.getmaskarray(p).any():  # numpy would drop the mask
        c = int(np.flatnonzero(np.ma.getmaskarray(p))[0])
        raise ValueError(f"class_balance is masked for class {c}; give every class a probability")
    try:
        arr = np.asarray(p, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ValueError(expected) from exc
    if arr.shape[0] != cardinality:
        raise ValueError(f"class_balance has {arr.shape[0]} entries but cardinality is {cardinality}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"class_balance has a non-finite entry: {arr.tolist()}")
    if (arr < 0).any():
        c = int(np.flatnonzero(arr < 0)[0])
        raise ValueError(f"class_balance has negative entry {arr[c]} for class {c}")
    if abs(arr.sum() - 1.0) > 1e-6:
        raise ValueError(f"class_balance must sum to 1, got sum {arr.sum():.6g}")
    if (arr == 0).any():
        c = int(np.flatnonzero(arr == 0)[0])
        raise ValueError(
            f"class_balance is 0 for class {c}: that class could never be predicted; "
            "give it a small positive probability"
        )
    out = arr / arr.sum()
    if (out < MIN_GIVEN_PROB).any():  # subnormal: fitted, but the model file could not be saved
        c = int(np.flatnonzero(out < MIN_GIVEN_PROB)[0])
        raise ValueError(
            f"class_balance is {arr[c]:.3g} for class {c}, below {MIN_GIVEN_PROB:g} (the smallest "
            "probability a model keeps, once the entries are scaled to sum to 1); give that class more"
        )
    return out


def class_balance_from_labels(y: np.ndarray, cardinality: int) -> np.ndarray:
    """Class frequencies of gold labels (-1 entries ignored).

    A class absent from ``y`` gets add-one smoothing and a warning.
    """
    y = y[y >= 0]
    if y.size == 0:
        raise ValueError("Y_dev has no labelled rows (all -1)")
    counts = np.bincount(y, minlength=cardinality).astype(np.float64)
    if (counts == 0).any():
        missing = np.flatnonzero(counts == 0).tolist()
        warnings.warn(
            f"Y_dev has no example of class(es) {missing}; using add-one smoothing",
            UserWarning,
            stacklevel=outside_stacklevel(),
        )
        counts += 1.0
    return counts / counts.sum()


def project_to_simplex(v: np.ndarray, floor: float = MIN_CLASS_PROB) -> np.ndarray:
    """Euclidean projection onto ``{p : p >= floor, sum p = 1}``."""
    k = len(v)
    u = v - floor
    target = 1.0 - k * floor
    s = np.sort(u)[::-1]
    css = np.cumsum(s) - target
    idx = np.arange(1, k + 1)
    rho = np.nonzero(s - css / idx > 0)[0][-1]
    theta = css[rho] / (rho + 1.0)
    return np.maximum(u - theta, 0.0) + floor


def class_balance_from_symmetric(stats: LabelStats, b: np.ndarray) -> np.ndarray:
    """Closed-form class balance under the symmetric model.

    ``P(lambda_i = c | votes) = p_c b_i + (1 - b_i) / k``, so each informative LF
    gives ``p_c = (f_ic - (1 - b_i) / k) / b_i``; the estimates are averaged with
    inverse-variance weights ``votes_i * b_i^2`` and projected onto the simplex.
    """
    k = stats.cardinality
    votes = stats.vote_counts
    use = (votes > 0) & (b > 0.05)
    if not use.any():
        return np.full(k, 1.0 / k)
    f = stats.class_counts[use] / votes[use, None]
    bb = b[use, None]
    per_lf = (f - (1.0 - bb) / k) / bb
    w = votes[use] * b[use] ** 2
    p = (w[:, None] * per_lf).sum(axis=0) / w.sum()
    return project_to_simplex(p)
