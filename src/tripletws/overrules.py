"""Where a fitted label model overrules the LFs' majority, and which LF's term drives each overrule.

A label model departs from majority vote on rows without a vote, on ties, and where it names another
class than a strict majority of the votes (``overrule_rate_`` counts those on the fitted rows).  On
each overruled row, :meth:`tripletws.LabelModel.explain` splits the log-scores into one term per LF;
the LF whose term favours the model's class over the majority's class most is that row's *driver*:
an LF whose vote the model trusts over the majority's, or, where the model reads abstentions as
evidence, an LF whose abstention speaks against the majority's class; or the class balance, where
its term favours the model's class more than any LF's (a strongly imbalanced prior).  Declared
dependencies' pair terms are not counted as drivers.  Counting drivers over the
overruled rows names the LFs (or abstentions) that the departures from majority vote rest on, which
is where a few gold rows, or a look at the LFs, should go first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .checks import _column_argmax
from .kernels import vote_counts as _vote_counts
from .matrix import check_label_matrix
from .ties import BAND
from .validate import check_int

#: Overruled rows explained at most (the first ones, in row order): the counts of drivers settle long
#: before, and an explanation holds rows x LFs x classes terms.
MAX_ROWS = 2000

#: Terms (rows x LFs x classes) explained at most: fewer rows where the LFs are many (a crowd of
#: 2 000 workers with k = 4: 500 rows, 32 MB of terms).
MAX_TERMS = 4_000_000


@dataclass(frozen=True)
class OverruleDrivers:
    """The overruled rows of a label matrix and the LF that drives each (module docstring).

    Attributes
    ----------
    n_majority : int
        Rows whose votes have one most-voted class.
    rows : ndarray of int, shape (r,)
        Those of them where the model's most likely class is another class (the majority's class
        below the top by more than :data:`tripletws.ties.BAND`: a row whose top classes tie, the
        majority's among them, is not overruled).
    majority, named : ndarray of int, shape (r,)
        On each of ``rows``, the majority's class and the class the model names.
    examined : ndarray of int, shape (e,)
        The overruled rows explained (the first ``max_rows``, fewer where :data:`MAX_TERMS` binds).
    driver : ndarray of int, shape (e,)
        On each, the LF whose term favours the model's class over the majority's most (-1: the
        class balance's term does).
    by : ndarray of str, shape (e,)
        ``"vote"`` (the LF voted on the row), ``"abstention"`` (it abstained) or ``"class balance"``.
    push : ndarray, shape (e,)
        Its term for the model's class minus its term for the majority's class, in nats.
    """

    n_majority: int
    rows: np.ndarray
    majority: np.ndarray
    named: np.ndarray
    examined: np.ndarray
    driver: np.ndarray
    by: np.ndarray
    push: np.ndarray

    def counts(self) -> list[tuple[int, str, int, float]]:
        """``(lf, by, rows driven, mean push)`` per driver (-1: the class balance) and way, most rows
        first."""
        out = []
        for lf, by in sorted({(int(i), str(b)) for i, b in zip(self.driver, self.by, strict=True)}):
            sel = (self.driver == lf) & (self.by == by)
            out.append((lf, by, int(sel.sum()), float(self.push[sel].mean())))
        return sorted(out, key=lambda t: (-t[2], t[0], t[1]))


def overrule_drivers(
    model: Any, L: Any, max_rows: int = MAX_ROWS, probs: np.ndarray | None = None
) -> OverruleDrivers:
    """Which LF drives each row where ``model`` overrules the LFs' strict majority (module docstring).

    Parameters
    ----------
    model : fitted LabelModel
        One whose prediction has a single set of terms (not ``combine="stack"``).
    L : label matrix, shape (n, m)
    max_rows : int
        Overruled rows explained at most (the first ones; fewer where rows x LFs x classes would
        pass :data:`MAX_TERMS`).
    probs : ndarray, shape (n, k), optional
        ``model.predict_proba(L)`` where the caller has it already (the report).

    Returns
    -------
    OverruleDrivers

    Raises
    ------
    ValueError
        As :meth:`tripletws.LabelModel.explain`; for a model that is not a fitted LabelModel, a bad
        label matrix, columns named otherwise than the fit's, dask input, or ``max_rows`` below 1.
    """
    from .distributed import is_dask_input
    from .lf_names import check_names, columns_named, names_of

    # a fitted LabelModel, known by what its class offers (as the report checks it: this module, which
    # the report reads, does not import the model, which offers the report)
    if not hasattr(type(model), "explain") or not hasattr(model, "params_"):
        raise ValueError(
            "overrule_drivers reads a fitted LabelModel (its terms, model.explain), got "
            f"{type(model).__name__}"
        )
    max_rows = check_int(max_rows, "max_rows", 1)
    if is_dask_input(L):
        raise ValueError("overrule_drivers reads its rows in memory: compute the dask input first")
    k = int(model.cardinality)
    # the columns named as the fit's, as predict_proba checks them (the rows are read as an array below)
    check_names(getattr(model, "lf_names_", None), L, classes=getattr(model, "class_names_", None))
    with columns_named(names_of(L)):
        lm = check_label_matrix(L, k, allow_empty=True)
    if lm.m != model.n_lfs_:
        raise ValueError(f"L has {lm.m} LFs (columns) but the model was fitted with {model.n_lfs_}")
    top, majority, n_top = _column_argmax(_vote_counts(lm))  # (the matrix checked above: no second scan)
    strict = (n_top == 1) & (top > 0)
    P = np.asarray(model.predict_proba(lm.data) if probs is None else probs, dtype=np.float64)
    if P.shape != (lm.n, k):
        raise ValueError(f"probs must have shape ({lm.n}, {k}), got {P.shape}")
    pred = P.argmax(axis=1)
    # a row whose top classes tie under the model (the majority's among them) names no other class
    below = P[np.arange(len(P)), majority] < P.max(axis=1) - BAND
    rows = np.flatnonzero(strict & below)
    m = lm.m
    examined = rows[: min(max_rows, max(1, MAX_TERMS // max(1, m * k)))]
    if examined.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return OverruleDrivers(
            int(strict.sum()),
            rows,
            majority[rows],
            pred[rows],
            examined,
            empty,
            np.zeros(0, dtype="<U13"),
            np.zeros(0),
        )
    e = model.explain(lm.data[examined])
    j = np.arange(len(examined))
    lfs = e.lfs[j, :, pred[examined]] - e.lfs[j, :, majority[examined]]  # (e, m)
    prior = e.prior[pred[examined]] - e.prior[majority[examined]]  # (e,)
    push = np.concatenate([lfs, prior[:, None]], axis=1)  # the class balance last: an LF wins a tie
    top = push.argmax(axis=1)
    balance = top == m
    driver = np.where(balance, -1, top)
    voted = e.votes[j, np.minimum(top, m - 1)] >= 0
    by = np.where(balance, "class balance", np.where(voted, "vote", "abstention"))
    return OverruleDrivers(
        n_majority=int(strict.sum()),
        rows=rows,
        majority=majority[rows],
        named=pred[rows],
        examined=examined,
        driver=driver.astype(np.int64),
        by=by,
        push=push[j, top],
    )
