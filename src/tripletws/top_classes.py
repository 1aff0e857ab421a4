"""Each row's top classes: the classes within a tolerance of the row's highest score.

One definition for the places that read a posterior's or a score table's top classes (a uniform
tie-break among them, whether a vote is among them, whether two fits agree); each passes its own
tolerance, which depends on the scale of what it compares (probabilities or log-scores, float32
or float64 arithmetic).
"""

from __future__ import annotations

import numpy as np


def top_classes(S: np.ndarray, tol: float) -> np.ndarray:
    """Whether each class is among its row's top classes.

    Parameters
    ----------
    S : ndarray, shape (n, k)
        Scores or probabilities, finite.
    tol : float
        A class within ``tol`` of the row's highest value is a top class (absolute, >= 0).

    Returns
    -------
    ndarray of bool, shape (n, k)
        At least one True per row (the highest value itself).
    """
    return S >= S.max(axis=1, keepdims=True) - tol
