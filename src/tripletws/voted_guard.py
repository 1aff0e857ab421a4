"""Rows with votes kept among the classes voted on them, where only other LFs' silences say otherwise.

With a reading of abstentions, the default model can send a row to a class that no LF voted for on
it: the other LFs' silences outweigh the votes.  That inference takes the LFs to be independent given
the class.  Where the LFs of a class fire together far less often than the fit expects
(:func:`tripletws.estimators.kinds.kinds_classes`: LFs written for different kinds of row of the
class), their silences are no evidence against it, and such rows are lost: on real-LF subsets given
their classes' frequencies, a precise spam LF voting alone was sent to ham at a posterior of 0.15
(docs/studies.md, sessions 54-55).  The test reads the fit's class balance: one fixed before the fit
(given, the frequencies of ``Y_dev``, or the default's uniform one), or one the reading estimated
from the same rows, which can tilt to match the pairs, so that the test is strict there
(:data:`tripletws.models.annotator.VOTED_GUARD_SOURCES`, :data:`tripletws.estimators.kinds.STRICT_SOURCES`;
session 57).

:class:`VotedGuard` keeps the fit's posterior except on the rows where all three hold:

- every class voted on the row is such a class (:attr:`VotedGuard.classes`);
- none of the fit's top classes was voted on the row;
- the model of the votes and the balance alone (:attr:`VotedGuard.votes_only`: the solve with
  ``one_class="shared"`` under the same balance, whose abstentions say nothing about the class) puts
  a voted class among its top classes.

There the posterior is conditioned on the voted classes (their mass renormalised; uniform over them
where the fit gave them none).  A row that the votes and the balance alone send elsewhere keeps
the fit's posterior: a low-precision vote for a rare class is still overruled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .inference import posterior
from .matrix import LabelMatrix, dense_votes
from .params import LabelModelParams
from .top_classes import top_classes
from .validate import check_mapping

#: Classes within this of a row's top probability are among its top classes.
TOP_TOL = 1e-9


@dataclass(frozen=True)
class VotedGuard:
    """What :func:`guard_votes` reads at prediction.

    Attributes
    ----------
    classes : ndarray of bool, shape (k,)
        The classes whose LFs fire together less often than the fit expects.
    votes_only : LabelModelParams
        The model of the votes and the balance alone (no dependencies).
    """

    classes: np.ndarray
    votes_only: LabelModelParams

    def to_dict(self) -> dict[str, Any]:
        return {"classes": [bool(c) for c in self.classes], "votes_only": self.votes_only.to_dict()}

    @classmethod
    def from_dict(cls, d: Any, m: int, k: int) -> VotedGuard:
        """Rebuild and validate against a fit of ``m`` LFs and ``k`` classes."""
        d = check_mapping(d, "estimate.voted_guard", ("classes", "votes_only"))
        classes = d["classes"]
        flags = isinstance(classes, list) and all(isinstance(c, bool) for c in classes)
        if not flags or len(classes) != k:
            raise ValueError(f"estimate.voted_guard.classes must be a list of {k} booleans")
        votes_only = LabelModelParams.from_dict(d["votes_only"])
        if votes_only.n_lfs != m or votes_only.cardinality != k or votes_only.has_dependencies:
            raise ValueError(
                f"estimate.voted_guard.votes_only: tables must have shape ({m}, {k + 1}, {k}), "
                "without dependencies"
            )
        return cls(np.array(classes, dtype=bool), votes_only)


#: Votes read at a time by :func:`voted_off_top` (about 1 MiB of int8 votes).
SCAN_CELLS = 1 << 20


def voted_off_top(lm: LabelMatrix, top: np.ndarray) -> np.ndarray:
    """The rows with a vote, none of them for the row's class ``top``.

    Each block of rows is read once in the matrix's own integer type and transposed, so that both
    tests run along contiguous LF columns (a reduction over each row's few votes is several times
    slower: predict_proba of the guarded default on youtube's rows tiled to 10^6 x 10, 0.12 s before).

    Parameters
    ----------
    lm : LabelMatrix
        The rows' votes (n, m).
    top : ndarray of int, shape (n,)
        A class per row (the fit's most probable one).

    Returns
    -------
    ndarray of int64, shape (r,)
        The rows, ascending.
    """
    step = max(1, SCAN_CELLS // max(1, lm.m))
    found = [np.empty(0, dtype=np.int64)]
    for start in range(0, lm.n, step):
        stop = min(start + step, lm.n)
        block = dense_votes(lm, start, stop) if lm.is_sparse else lm.read_rows(start, stop)
        if block.dtype.kind != "i":  # whole numbers in another type (validated): compared as int64
            block = block.astype(np.int64)
        tops = top[start:stop]
        if tops.size and int(tops.max()) > np.iinfo(block.dtype).max:  # a class the type cannot hold
            block = block.astype(np.int64)
        votes = np.ascontiguousarray(block.T)  # (m, rows)
        voted = votes.max(axis=0, initial=-1) >= 0
        own = (votes == tops.astype(votes.dtype)).any(axis=0)
        found.append(start + np.flatnonzero(voted & ~own))
    return np.concatenate(found)


def guard_votes(
    P: np.ndarray, lm: LabelMatrix, guard: VotedGuard | None, moved: np.ndarray | None = None
) -> np.ndarray:
    """``P`` with the rows the module docstring describes conditioned on their voted classes.

    Parameters
    ----------
    P : ndarray, shape (n, k)
        The fit's posterior (changed in place and returned).
    lm : LabelMatrix
        The rows' votes (n, m).
    guard : VotedGuard, optional
        None: ``P`` unchanged.
    moved : ndarray of bool, shape (n,), optional
        Set True on the rows conditioned (for :meth:`tripletws.model.LabelModel.explain`).

    Returns
    -------
    ndarray, shape (n, k)
    """
    if guard is None or len(P) == 0 or not guard.classes.any():
        return P
    k = P.shape[1]
    rows = voted_off_top(lm, P.argmax(axis=1))
    if rows.size == 0:
        return P
    sub = lm.take_rows(rows)
    votes = dense_votes(sub)
    on_row = np.stack([(votes == c).any(axis=1) for c in range(k)], axis=1)  # (r, k): voted classes
    fit_top = top_classes(P[rows], TOP_TOL)
    kept = top_classes(posterior(sub, guard.votes_only), TOP_TOL)
    fix = (
        ~(on_row & ~guard.classes[None, :]).any(axis=1)  # every voted class is one of the guard's
        & ~(fit_top & on_row).any(axis=1)  # the fit puts no voted class on top
        & (kept & on_row).any(axis=1)  # the votes and the balance alone do
    )
    if not fix.any():
        return P
    rows, on_row = rows[fix], on_row[fix]
    if moved is not None:
        moved[rows] = True
    Q = np.where(on_row, P[rows], 0.0)
    total = Q.sum(axis=1, keepdims=True)
    even = on_row / on_row.sum(axis=1, keepdims=True)  # (where the fit gave the voted classes nothing)
    P[rows] = np.where(total > 0, Q / np.where(total > 0, total, 1.0), even)
    return P
