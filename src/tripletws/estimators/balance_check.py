"""A gold-free check of an estimated class balance against the uniform one (annotator model).

The annotator model fits its families with a uniform prior P(Y) by default: an EM-estimated
prior fixes strongly imbalanced crowd data but collapses to one class on other sets. This
check accepts the chosen family's fit with an estimated prior only where the rows say so:

* **clear rows**: rows whose majority vote wins by at least two votes (one LF changing its
  vote cannot undo the majority);
* a fit **keeps** a clear row when its most probable class is that majority;
* the estimated-prior fit is accepted when it keeps significantly more clear rows than the
  uniform-prior fit (McNemar's test on the discordant rows, with continuity correction, at
  :data:`BALANCE_SE` standard errors, the conventional 2 of the family choice's rule, held
  fixed when that rule's number is varied), and it keeps at least
  one clear row of every class that clear rows name (a prior that silences a class is a collapse).

Where one-class LFs carry most votes, or the chosen family is majority vote, the balance is not
identified and the check is not run (see :mod:`tripletws.models.annotator`).

With ``crowd=True`` (``LabelModel(balance_rule="crowd")``, the default) the estimated prior is
also accepted, without the test, on crowd-like data (:func:`crowd_like`: each LF votes on few
rows, most LFs vote several classes, rows carry several votes) where it silences no class and
gives every class at least :data:`CROWD_FLOOR` / k.  There the clear rows are too few for the
test to decide (few votes per item), while each annotator's votes over several classes identify
its confusion and so the balance (Dawid and Skene, 1979, "Maximum likelihood estimation of
observer error-rates using the EM algorithm", Applied Statistics 28(1)).  The likelihood does not
name its latent classes, though: where the estimate's commonest class is not the class that the
most clear rows have as their majority (:func:`commonest_disagrees`, since session 58), the latent
classes are mislabelled and the crowd rule does not take it (:data:`CROWD_TOP_AGREES`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..rows import RowSummary
from .annotator import ABSTAIN_INFORMATIVE, AnnotatorFit, fit_annotator
from .annotator_design import summary_design
from .family_choice import Selection
from .one_class import voted_classes
from .votes import class_counts, summary_votes

#: Standard errors by which the estimated prior must keep more clear rows (conventional; on the
#: stress suite 1, 2 and 3 give the same result within 0.01 points, docs/models.md).
BALANCE_SE = 2.0

#: Crowd rule: largest median share of rows an LF votes on.
CROWD_COVERAGE = 0.05
#: Crowd rule: smallest share of voting LFs that vote two or more classes.
CROWD_MULTI = 0.8
#: Crowd rule: fewest mean votes per voted row.
CROWD_VOTES = 3.0
#: Crowd rule: the estimated prior's smallest class probability times k must reach this.
CROWD_FLOOR = 0.2

#: Votes by which a row's majority must win to count as a clear row (one flipped vote cannot undo it).
CLEAR_MARGIN = 2

#: A study switch (False: off): the crowd rule accepts the estimated prior only where the clear rows'
#: test cannot decide either way, not where it finds the estimated prior significantly worse (it keeps
#: fewer clear rows by over ``n_se`` standard errors: McNemar's test mirrored).
CROWD_TWO_SIDED = False

#: The crowd rule accepts the estimated prior only where its commonest class is a class that the most
#: clear rows have as their majority (:func:`commonest_disagrees`).  An estimate that names another
#: class commonest has mislabelled the latent classes (the stress problems confusion-00 of 20800101 and
#: mixed-15 of 20810101, every class imbalanced: -19.7 and -23.9 points against majority vote with the
#: swapped balance).  No constant; adopted in session 58 under a bar written before its runs
#: (docs/studies.md).  False: the crowd rule as before.
CROWD_TOP_AGREES = True


@dataclass(frozen=True)
class BalanceCheck:
    """Outcome of :func:`balance_check`.

    Attributes
    ----------
    accepted : bool
        Whether the estimated-prior fit replaces the uniform-prior one.
    fit : AnnotatorFit or None
        The chosen family fitted with an estimated prior (None when not run).
    gained : float
        Clear rows (weighted by count) the estimated-prior fit keeps and the uniform one does not.
    lost : float
        Clear rows the uniform-prior fit keeps and the estimated one does not.
    reason : str
        Why it was accepted or not, in words.
    """

    accepted: bool
    fit: AnnotatorFit | None
    gained: float
    lost: float
    reason: str


def clear_rows(rows: RowSummary, margin: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose majority wins by at least ``margin`` votes (None: :data:`CLEAR_MARGIN`).

    Returns
    -------
    (clear, majority) : ndarray of bool, shape (R,), and ndarray of int64, shape (R,)
        Whether each distinct row is clear, and its majority class (meaningful where clear).
    """
    k = rows.cardinality
    R = len(rows.rows)
    r, _, a = summary_votes(rows)  # the vote lists, not k passes over the (R, m) rows
    votes = class_counts(r, a, R, k)
    top2 = np.sort(votes, axis=1)[:, -2:]
    need = CLEAR_MARGIN if margin is None else int(margin)
    return top2[:, 1] - top2[:, 0] >= need, votes.argmax(axis=1)


def commonest_disagrees(
    rows: RowSummary, clear: np.ndarray, majority: np.ndarray, class_balance: np.ndarray
) -> tuple[bool, int, np.ndarray]:
    """Whether ``class_balance`` names as commonest a class that fewer clear rows have as majority
    than some other class.

    Parameters
    ----------
    rows : RowSummary
        Distinct rows (R, m) and counts (R,).
    clear, majority : ndarray, shape (R,)
        :func:`clear_rows` of ``rows``.
    class_balance : ndarray, shape (k,)
        An estimated prior.

    Returns
    -------
    (disagrees, commonest, shares)
        The verdict, the prior's commonest class, and the clear rows' counted majorities per class (k,).
    """
    k = rows.cardinality
    counts = np.asarray(rows.counts, dtype=np.float64)
    shares = np.bincount(majority[clear], weights=counts[clear], minlength=k)
    commonest = int(np.argmax(class_balance))
    return bool(shares[commonest] < shares.max()), commonest, shares


def crowd_like(rows: RowSummary) -> bool:
    """Whether the rows look like a crowd: the setting where the crowd rule accepts a balance.

    True when the median LF votes on at most :data:`CROWD_COVERAGE` of the rows, at least
    :data:`CROWD_MULTI` of the LFs with a vote vote two or more classes, and a row with a vote
    carries at least :data:`CROWD_VOTES` votes on average (rows weighted by their counts).

    Parameters
    ----------
    rows : RowSummary
        Distinct rows (R, m) and counts (R,).

    Returns
    -------
    bool
    """
    R, m = rows.rows.shape
    w = np.asarray(rows.counts, dtype=np.float64)
    total = float(w.sum())
    if total <= 0 or m == 0:
        return False
    r, i, _ = summary_votes(rows)  # from the vote lists: no (R, m) passes (10 000 x 762: 0.16 s)
    coverage = np.bincount(i, weights=w[r], minlength=m) / total  # (m,)
    n_classes = voted_classes(rows).sum(axis=1)  # (m,): classes LF i votes on counted rows
    active = n_classes > 0
    n_votes = np.bincount(r, minlength=R)  # (R,)
    on = n_votes > 0
    if not active.any() or float(w[on].sum()) <= 0:
        return False
    multi = float(np.mean(n_classes[active] >= 2))
    votes_per_row = float((n_votes * w)[on].sum() / w[on].sum())
    return bool(
        float(np.median(coverage)) <= CROWD_COVERAGE and multi >= CROWD_MULTI and votes_per_row >= CROWD_VOTES
    )


def clear_row_moves(
    counts: np.ndarray, clear: np.ndarray, majority: np.ndarray, pred_u: np.ndarray, pred_e: np.ndarray
) -> tuple[float, float, np.ndarray]:
    """The clear rows (counted) that predictions ``pred_e`` keep and ``pred_u`` do not (gained), the
    reverse (lost), and the classes that clear rows name and ``pred_e`` never predicts on them.

    Parameters
    ----------
    counts : ndarray (R,)
        The distinct rows' counts.
    clear, majority : ndarray (R,)
        :func:`clear_rows`'s output.
    pred_u, pred_e : ndarray of int (R,)
        Each fit's class per distinct row.
    """
    keep_u = clear & (pred_u == majority)
    keep_e = clear & (pred_e == majority)
    gained = float(counts[keep_e & ~keep_u].sum())
    lost = float(counts[keep_u & ~keep_e].sum())
    seen = clear & (counts > 0)
    return gained, lost, np.setdiff1d(np.unique(majority[seen]), np.unique(pred_e[seen]))


def mcnemar_favours(gained: float, lost: float, n_se: float) -> bool:
    """McNemar's test with continuity correction: ``(gained - lost - 1) / sqrt(gained + lost) > n_se``
    (the counted rows one prediction keeps and the other does not, each way)."""
    return gained - lost - 1.0 > n_se * math.sqrt(gained + lost)


def clear_rows_favour(
    counts: np.ndarray,
    clear: np.ndarray,
    majority: np.ndarray,
    pred_u: np.ndarray,
    pred_e: np.ndarray,
    n_se: float = BALANCE_SE,
) -> bool:
    """Whether ``pred_e`` keeps significantly more clear majorities than ``pred_u`` (McNemar's test with
    continuity correction at ``n_se`` standard errors) and silences no class that clear rows name:
    :func:`balance_check`'s test, on any two fits' predictions (arguments as :func:`clear_row_moves`)."""
    gained, lost, silenced = clear_row_moves(counts, clear, majority, pred_u, pred_e)
    return mcnemar_favours(gained, lost, n_se) and not silenced.size


def balance_check(
    rows: RowSummary, selection: Selection, *, n_se: float = BALANCE_SE, crowd: bool = False
) -> BalanceCheck:
    """Fit the chosen family with an estimated prior and test it on the clear rows.

    Parameters
    ----------
    rows : RowSummary
        Distinct rows (R, m) and counts (R,) the selection was made on.
    selection : Selection
        The family choice under a uniform prior (its ``fit`` is the uniform-prior fit).
    n_se : float
        Standard errors of the test (default :data:`BALANCE_SE`).
    crowd : bool
        Also accept, where the test does not, on :func:`crowd_like` rows when the estimated prior
        silences no class, is at least :data:`CROWD_FLOOR` / k everywhere and (with
        :data:`CROWD_TOP_AGREES`) names as commonest a class with the most clear-row majorities
        (default False).

    Returns
    -------
    BalanceCheck
    """
    clear, majority = clear_rows(rows)
    w = rows.counts * clear
    if selection.fit is None or float(w.sum()) <= 0:
        return BalanceCheck(False, None, 0.0, 0.0, "no row has a clear majority")
    design = summary_design(rows, rows.cardinality, abstain=False)
    # a vote-only family (the default's candidates) is fitted on the same design
    vote_only = selection.chosen not in ABSTAIN_INFORMATIVE
    est = fit_annotator(rows, selection.chosen, class_balance=None, design=design if vote_only else None)
    pred_u = design.log_scores(selection.fit.params).argmax(axis=1)
    pred_e = design.log_scores(est.params).argmax(axis=1)
    gained, lost, silenced = clear_row_moves(rows.counts, clear, majority, pred_u, pred_e)
    if not mcnemar_favours(gained, lost, n_se):
        floor = float(np.min(est.params.class_balance)) * rows.cardinality
        crowd_rule = crowd and not silenced.size and floor >= CROWD_FLOOR and crowd_like(rows)
        worse = CROWD_TWO_SIDED and mcnemar_favours(lost, gained, n_se)
        swapped = False
        if crowd_rule and CROWD_TOP_AGREES:  # read at call time (a study option)
            swapped, commonest, shares = commonest_disagrees(rows, clear, majority, est.params.class_balance)
        if crowd_rule and not worse and not swapped:
            reason = (
                f"crowd-like rows: the estimated prior (smallest class {floor:.2f} / k) silences no class "
                f"(clear rows: {gained:g} gained, {lost:g} lost)"
            )
            return BalanceCheck(True, est, gained, lost, reason)
        reason = (
            f"the estimated prior keeps {gained:g} clear rows the uniform one does not and loses {lost:g}: "
            f"not {n_se:g} standard errors better"
        )
        if swapped:
            top = int(np.argmax(shares))
            reason += (
                f"; and it makes class {commonest} the commonest, where the clear rows' majority is class "
                f"{top} on {shares[top]:g} of them and class {commonest} on {shares[commonest]:g}, so the "
                "crowd rule does not take it"
            )
        return BalanceCheck(False, est, gained, lost, reason)
    if silenced.size:
        reason = f"the estimated prior never predicts class(es) {silenced.tolist()} on their clear rows"
        return BalanceCheck(False, est, gained, lost, reason)
    reason = (
        f"the estimated prior keeps {gained:g} clear rows the uniform one does not and loses {lost:g} "
        f"(over {n_se:g} standard errors better)"
    )
    return BalanceCheck(True, est, gained, lost, reason)
