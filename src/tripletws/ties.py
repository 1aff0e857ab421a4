"""Rows whose posterior ties several classes, and their ties broken by a second model.

Where the default finds no per-LF accuracies (majority vote's model), or where votes cancel
exactly, a row's top classes have equal posteriors: the model cannot tell them apart.  The
annotator model then keeps a second fit, one that reads abstentions as informative
(Dawid-Skene's full tables, :mod:`tripletws.estimators.annotator`), and on every tied row with at
least one vote it shares the tied classes' mass in proportion to that fit's posterior.  Rows
that do not tie keep their posterior exactly; rows without a vote keep the prior (docs/models.md,
"Ties").

A tie is judged in float64 whatever the posterior's own arithmetic: rows whose top two
probabilities are within :data:`BAND` (well above the float32 binary path's rounding, about
2.4e-7, :data:`tripletws.inference.LOGIT_DTYPE`) are scored again with
:func:`tripletws.inference.log_joint`, and classes within :data:`REL_TOL` of the row's top
log-probability (relative, at least 1) tie.
"""

from __future__ import annotations

import numpy as np

from .inference import log_joint, posterior
from .matrix import LabelMatrix
from .params import LabelModelParams

#: Rows whose two highest probabilities are this close are scored again in float64.
BAND = 1e-5
#: Classes whose float64 log-probabilities are within this share of the row's top one tie.
REL_TOL = 1e-9


def _subset(lm: LabelMatrix, idx: np.ndarray) -> LabelMatrix:
    return LabelMatrix(lm.data[idx], lm.cardinality)


def _voted(lm: LabelMatrix) -> np.ndarray:
    """Whether each row holds at least one vote, shape (n,)."""
    if lm.is_sparse:
        return np.diff(lm.data.indptr) > 0
    return (np.asarray(lm.data) >= 0).any(axis=1)


def tied_classes(P: np.ndarray, lm: LabelMatrix, params: LabelModelParams) -> tuple[np.ndarray, np.ndarray]:
    """The voted rows whose top classes tie under ``params``, and which classes tie on each.

    Parameters
    ----------
    P : ndarray, shape (n, k)
        The rows' posterior under ``params`` (any arithmetic).
    lm : LabelMatrix
        The rows' votes (n, m).
    params : LabelModelParams
        The model (no dependencies).

    Returns
    -------
    rows : ndarray of int, shape (t,)
        The tied rows.
    top : ndarray of bool, shape (t, k)
        The classes that tie for the top on each (two or more).
    """
    k = P.shape[1]
    empty = np.zeros(0, dtype=np.int64), np.zeros((0, k), dtype=bool)
    if k < 2 or len(P) == 0:
        return empty
    part = np.partition(P, k - 2, axis=1)
    near = np.flatnonzero(part[:, k - 1] - part[:, k - 2] <= BAND)
    if near.size == 0:
        return empty
    sub = _subset(lm, near)
    voted = _voted(sub)
    if not voted.all():
        near, sub = near[voted], _subset(sub, np.flatnonzero(voted))
    if near.size == 0:
        return empty
    s = log_joint(sub, params, named=True)  # the tables the posterior read (tripletws.params)
    best = s.max(axis=1, keepdims=True)
    top = s >= best - REL_TOL * np.maximum(1.0, np.abs(best))
    tied = top.sum(axis=1) > 1
    return near[tied], top[tied]


def break_ties(
    P: np.ndarray, lm: LabelMatrix, params: LabelModelParams, second: LabelModelParams
) -> np.ndarray:
    """``P`` with each tied row's top mass shared in proportion to ``second``'s posterior.

    Parameters
    ----------
    P : ndarray, shape (n, k)
        Posterior under ``params`` (changed in place and returned).
    lm : LabelMatrix
    params : LabelModelParams
        The model that gave ``P``.
    second : LabelModelParams
        The model that breaks its ties (no dependencies).

    Returns
    -------
    ndarray, shape (n, k)
        Rows that do not tie are unchanged; a tied row's tied classes keep their summed mass.
    """
    rows, top = tied_classes(P, lm, params)
    if rows.size == 0:
        return P
    Q = posterior(_subset(lm, rows), second) * top
    total = Q.sum(axis=1, keepdims=True)
    # a second model that gives the tied classes no mass leaves the row as it was
    share = np.where(total > 0, Q / np.where(total > 0, total, 1.0), top / top.sum(axis=1, keepdims=True))
    mass = (P[rows] * top).sum(axis=1, keepdims=True)
    P[rows] = np.where(top, share * mass, P[rows])
    return P
