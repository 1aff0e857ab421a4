"""Whether to read every LF's abstentions as informative, without gold: the check and its record.

The default's candidates read an abstention as *not assigned* (coverage independent of the
class).  Where an LF's coverage depends on the class (it fires mostly on some classes), its
abstentions say something, and the families that read them as an outcome
(``"mace_abstain"``, ``"ds_abstain"``, :mod:`tripletws.estimators.annotator`) can gain a great
deal; chosen by held-out likelihood alone they also collapse on real LF sets (the latent class
becomes a pattern of abstentions).  :func:`abstain_check` uses them only behind five gold-free
tests, of the same kinds as the one-class coverage check's (:mod:`tripletws.estimators.coverage_check`):

(0) **a dependence to read** (since session 29, before any fit; on summaries of at least
    :data:`tripletws.estimators.coverage_screen.MIN_ROWS` distinct rows): chi-square tests of each
    LF's firing against the other LFs' votes (:mod:`tripletws.estimators.coverage_screen`) reject
    independence at :data:`~tripletws.estimators.coverage_screen.ALPHA`; where they do not, the
    vote-only reading stands without the fold fits below;
(a) **held-out lead**: the informative fit picked (:data:`PICK`: the simplest of the informative
    families and balances whose held-out score is within ``LEAD_SE`` standard errors of the best
    one, the rule of the family choice) predicts held-out rows better than the vote-only family
    chosen (:func:`tripletws.estimators.family_choice.select_family`) by more than ``LEAD_SE``
    standard errors of the paired per-row difference, on the same folds (not run where no LF
    abstains).  Fitted one fold first: where every reading trails on the first fold's held-out rows by more
    than :data:`FUTILITY_SE` standard errors, the check refuses without the other folds' fits
    (since session 32; the same decisions on the shared sets and nine stress draws);
(b) **no background group**: a ``k + 1``-th latent class of the same family gains no held-out
    likelihood beyond :data:`tripletws.estimators.coverage_check.BACKGROUND_Z` standard errors
    (the coverage check's test: a significant gain says the latent classes are not the LFs'
    classes alone).  Fitted one fold first: where the gain on the first fold's held-out rows is over
    :data:`tripletws.estimators.coverage_check.BACKGROUND_FUTILITY_Z` standard errors, the check
    refuses without the other folds' fits (since session 33; the same decisions on the shared sets and
    nine stress draws);
(b2) **no groups within the classes** (since session 59, :data:`BACKGROUND_TWINS`; tested last, after
    (a'), as it costs the most: three fold fits of ``"ds_abstain"`` with ``2 k`` latent classes):
    Dawid-Skene's tables reading abstentions with a twin of each latent class gain no held-out
    likelihood over the same tables with ``k`` classes beyond the background test's bar.  Test (b)'s
    one background class sees a group of rows where the LFs abstain; twins see hidden row types that
    change which LFs fire within each class (the stress generators ``subpop`` and ``shared_feature``:
    the reading's latent class then mixes class and row type).  It trades summed points for the tail:
    fresh, the stress draw 20850101 +2 and +1 problems at or above majority vote - 0.5 points (-24.7
    summed points over both variants) and the real-LF subsets of seed 29 61 -> 59 of 450 more than 2
    points below majority vote (-58.5 summed); it refuses wins of the reading on real LF subsets whose
    LFs fire dependently (tennis_flyingsquid's).  Adopted under a bar written before its fresh runs
    (docs/studies.md, session 59); not run where a held-out row gives an outcome no fitted row gives
    (Dawid-Skene's tables score it at the floor with or without twins);
(c) **no silenced class**: on the rows whose majority wins by at least two votes, the fit
    predicts every class that those rows name at least once (the balance check's collapse test,
    :mod:`tripletws.estimators.balance_check`);
(d) **majority kept**: on those rows (counted), the fit predicts the majority on more than a share
    :data:`KEPT_CLEAR` of them (0.5: most of them), and so on the rows whose majority wins by one
    vote or more (:data:`KEPT_MARGINS`).  A model of the LFs' votes that overrules their
    majority on most such rows has found another latent variable (the orientation rule of
    the coverage check, in this reading).
    Added after the stress suite's sparse-02, where the informative fit passed (a)-(c) and kept
    the majority on 549 of 1223 clear rows (-30 points against majority vote); with it the stress
    mean is 0.0007 lower and the worst problem against majority vote -11.3 points instead of -30.8.
    The rows won by one vote were added in session 12, after trec fitted on 80 % of its rows: a fit
    that kept every clear majority but only 1585 of the 3229 majorities won by one vote (it sent
    them to the rarest class) scored 0.378 against majority vote's 0.611.
(a') **the abstentions carry the lead** (since session 13, :data:`OWN_LEAD`): the fit also predicts
    held-out rows better than its family's reading of the votes alone (:data:`VOTE_ONLY`:
    ``"mace"`` for ``"mace_abstain"``, Dawid-Skene's ``"ds"`` for ``"ds_abstain"``) under the same
    balance, on the same folds, by more than ``LEAD_SE`` standard errors.  Test (a) compares the
    reading with the vote-only family chosen, which has fewer parameters than Dawid-Skene's full
    tables: a ``"ds_abstain"`` fit can lead it by its confusion tables while reading the
    abstentions worse than as "not assigned" (stress problem confusion-07: -0.16 +- 0.04 nats per
    row against ``"ds"``; 2.0 points below majority vote with the reading, 4.1 above without it).
    Tested last, after (b)-(d), as it costs the most: three fold fits of the vote-only family
    (Dawid-Skene's in numpy).  Adopted on eight stress draws, two of them untouched, under a rule
    written down before those two were run (docs/models.md, "The abstentions must carry the lead").
(e) **stable under half fits** (a study option, off by default: :data:`STABILITY_BAR` is None): fits
    of the reading on disjoint halves of the rows disagree on at most that share of the rows' labels
    (:func:`half_fit_disagreement`).  The worst losses of the reading on fresh stress draws are
    stable fits, so no bar refuses them (docs/studies.md, "What did not work (issue 7)").
(f) **no unnamed class for the rows without a vote** (a study switch, off by default:
    :data:`UNNAMED_EMPTY`): the final tables must not send the rows without a vote to a class no LF
    votes for on the fitted rows; the rows cannot say how many such rows there are.  Tested by the
    annotator model after the steps that follow the reading (``models.annotator._unnamed_empty``).
(g) **a row without a vote not sent apart by an unsettled balance** (a study switch, off by default:
    :data:`UNVOTED_FLIP`): where the uniform balance is picked, the reading's fit with an estimated balance
    sends a row without a vote to the same class (the coverage check's rule since session 60).
(h) **labels that do not rest on an unsettled balance** (a study switch, off by default:
    :data:`UNSETTLED_REFUSE`): where the uniform balance is picked, the reading and its fit with an
    estimated balance name different single classes on fewer than
    :data:`tripletws.estimators.coverage_check.BALANCE_NOTE_SHARE` of the rows (the vote-only families'
    rule since session 43).
(i) **the estimated balance where the clear rows support it** (a study switch, off by default:
    :data:`BALANCE_CHECK`): where the uniform balance is picked, the reading's fit with an estimated
    balance replaces it where it keeps significantly more clear majorities and silences no class (the
    balance check's test of the vote-only families) and trails it held out by at most ``LEAD_SE``
    standard errors.  Tests (g), (h) and (i) share that one extra fit on all rows; (i) runs before (h).

Cost.  Only the folds' fits are made for the informative candidates (two families, under two
balances with the prior ``"auto"``, one batch per family); the vote-only family's held-out scores
and the folds come from the family choice when the caller passes them (``ref``, ``folds``), and the
fit on all rows is made for the candidate kept, once it leads.  The ``"ds_abstain"`` fits are
skipped where they cannot score highest: a held-out row that gives an outcome (an LF's vote for a
class, or its abstention) that none of its fit's rows gives has probability at most ``1e-300``
under that fit (the outcome's table entries are 0, floored), so where such rows bound its mean
held-out score below ``"mace_abstain"``'s (crowd-like sets: many LFs, each seen on few rows) the
decision and the record are those of the full check, at half the fits.  Test (a') adds three fold
fits of the vote-only counterpart where (a)-(d) pass (stress problems, CPU medians of 3 fits:
confusion-07 93 -> 116 ms, class_abstain-14 759 -> 813 ms, imbalanced-04 17 -> 27 ms; none on the
shared sets, where (b) or, on trec, (d) refuses every reading that leads).  The informative fits
read the lean design of :class:`tripletws.estimators.annotator_design._Design` (the votes only: a row's
abstentions enter through one constant per class) in the compiled EM of
:mod:`tripletws.estimators._abstain_kernel` where numba is available.  CPU medians of the whole
check in the default fit (``python benchmarks/default_fit_stages.py --big``, one BLAS thread, a
shared machine): 4 ms on sms, 14-15 ms on trec, 5-6 ms on semeval, 10-11 ms on adult_content,
20-21 ms on weather_sentiment (745 LFs), 0.11 s on a 1e6 x 50 synthetic matrix (session 7's host;
session 13's host takes about three times as long for the same code: 8.5, 38.5, 13.3, 24.1 and 50.7
ms, docs/speed.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..rows import RowSummary
from ..top_classes import top_classes
from ..validate import check_float, check_mapping, check_str
from . import balance_check as _balance_check
from . import coverage_check as _coverage_check
from . import coverage_screen as _coverage_screen
from . import family_choice as _family_choice
from .annotator import EM_TOL, _em, fit_annotator
from .annotator_design import _Design, summary_design, summary_majority
from .balance_check import CLEAR_MARGIN, clear_rows
from .coverage_check import FOLD_SEED, N_FOLDS, _gain
from .coverage_screen import CoverageScreen, coverage_screen
from .em_jit import design_kernels
from .heldout import HeldOutScores, deal_counts, first_fold, heldout_row_scores
from .votes import summary_votes

#: EM steps of the informative families' fold fits (at most; they stop earlier at ``EM_TOL``); None:
#: the library's cap :data:`tripletws.estimators.annotator.EM_STEPS` (50), as every fit of the
#: annotator model.  A study switch with :data:`BACKGROUND_STEPS`: run to convergence (200 each),
#: test (b) refuses the big wins of the reading too (docs/studies.md, "Test (b) with its EMs run to
#: convergence").
FOLD_STEPS: int | None = None

#: EM steps of test (b)'s background fits (at most; they stop earlier at ``EM_TOL``; None:
#: ``EM_STEPS``).  Test (b) turns with the number of rows where this cap stops the background fit
#: (a study switch: see above).
BACKGROUND_STEPS: int | None = None

#: Test (a)'s futility bar (None: off, a study switch): the informative readings are fitted on the
#: first fold first, and where every one of them trails the vote-only family chosen on that fold's
#: held-out rows by more than this many standard errors, the check refuses without fitting the other
#: folds.  Test (a) accepts a lead of 2 standard errors on all the rows, about 1.2 of the first fold's
#: (a third of the rows), so a stop refuses a reading that test (a) would accept only where the first
#: fold's lead falls more than 6 of its standard errors below the reading's true lead (over 4 with the
#: fold fits' own noise: docs/studies.md, "The fold fits' noise in the standard error"): the
#: conventional 5, not tuned.  On the stress suite's development draw and the draws 20470101 and
#: 20540101, each of the 364 checks that pass test (a) has a reading at most 0.4 standard errors
#: behind (or ahead) on the first fold, and a quarter of the refusals by (a) stop there
#: (docs/models.md, "Test (a) stopped at the first fold"); on ten draws (``benchmarks/futility_probe.py``,
#: session 33) the 1 227 checks that pass are at most 0.37 behind, and 261 of 1 073 refusals stop.
FUTILITY_SE: float | None = 5.0

#: The informative families tried, fewest parameters first.
INFORMATIVE = ("mace_abstain", "ds_abstain")

#: How the candidate that test (a) compares is picked among the informative families and balances:
#: ``"simplest"``, the simplest candidate whose held-out score is within ``LEAD_SE`` standard errors
#: of the best one (the family choice's rule, :func:`tripletws.estimators.family_choice.choose_within_se`;
#: fewest parameters first: ``"mace_abstain"`` before ``"ds_abstain"``, and for each the uniform
#: balance before the estimated one), or ``"best"``, the highest score (the rule before; measured
#: against each other in docs/models.md, "Which informative fit test (a) compares").
PICK = "simplest"
PICKS = ("simplest", "best")

#: Test (d)'s bar: the share of the clear rows (counted) on which the informative fit must predict
#: the majority, strictly more than this.  0.5 ("most of them") is the default; 0.75 was studied
#: against the reading's catastrophic losses on fresh stress draws and rejected (docs/studies.md,
#: "What did not work (issue 7)", "A stricter majority test for the abstain reading").
KEPT_CLEAR = 0.5

#: Test (d)'s rows: for each margin here, the rows whose majority wins by at least that many votes,
#: each set tested on its own with the bar :data:`KEPT_CLEAR`: 2, the clear rows of test (c), and
#: (since session 12) 1, every row with a single top class.  ``(CLEAR_MARGIN,)`` is the rule before;
#: the margin-1 rows refused the reading on trec fitted on 80 % of its rows (-23 points against
#: majority vote otherwise) and on three fresh stress problems (+9 to +25 points), and changed
#: nothing else on the shared sets and 624 stress problems (benchmarks/kept_margin_study.py).
KEPT_MARGINS: tuple[int, ...] = (CLEAR_MARGIN, 1)

#: Test (e), a study option (None: off, the default): refuse the reading where fits of it on
#: disjoint halves of the rows disagree on the argmax label of more than this share of the rows
#: (count-weighted, ties broken alike; :func:`half_fit_disagreement`).  Studied against the
#: reading's losses on fresh stress draws (benchmarks/stability_study.py; docs/models.md, "What did
#: not work (issue 7)", "Stability of the reading under half fits").
STABILITY_BAR: float | None = None

#: Test (a'): the reading must also lead the picked family's reading of the votes alone
#: (:data:`VOTE_ONLY`) under the same balance, on the same folds: it gains from the abstentions, not
#: from its vote tables.  True since session 13; False is the rule before (a study switch).
OWN_LEAD = True

#: Test (f), a study switch (``"off"``): refuse a reading that sends the rows without a vote to a class
#: no LF votes for on the fitted rows, with more than two classes (``"multiclass"``) or any number
#: (``"all"``).  Such a class's rows are the rows without a vote under the reading; how many there are
#: rests on the assumed balance alone, which the rows do not identify (docs/models.md, "Rows without
#: a vote and a class no LF names").  Tested by the annotator model on its final tables
#: (``models.annotator._unnamed_empty``): the steps after the reading move the class of a row without
#: a vote.  Made the default in session 51 and reverted the same session: the untouched stress draw
#: 20730101 lost 68.3 summed points with it (no problem crossed majority vote - 0.5 points), past the
#: bar written down before it was run, while fresh real-LF subsets gained (docs/studies.md).
UNNAMED_EMPTY = "off"

#: Test (b2): the rows hold no groups within the classes.  Dawid-Skene's full tables reading abstentions
#: (``"ds_abstain"``) with ``2 k`` latent classes, each class and a twin (started from majority vote's
#: soft labels split between them at random per distinct row), must not gain held-out log-likelihood over
#: the same family with ``k`` classes by more than :data:`tripletws.estimators.coverage_check.BACKGROUND_Z`
#: standard errors on the same folds (the module docstring, (b2)).  True since session 59; False is the
#: rule before (a study switch).
BACKGROUND_TWINS = True

#: Test (b2)'s effect size (a study option, 0.0: the z-score alone): the twins must also gain more than
#: this many nats of held-out log-likelihood per row to refuse.  0.005 was measured in session 59 and not
#: adopted (fresh real-LF subsets of seed 28 -44.0 summed points, their tail unchanged).
TWIN_MIN_GAIN = 0.0

#: The seed of the twins' random split of the start (test (b2)).
TWIN_SEED = 0

#: Test (g) (a study switch, False: off): where the balance is chosen (the prior ``"auto"``) and the
#: uniform one is picked, refuse the reading where its fit with an estimated balance sends a row without
#: a vote to another class (:func:`tripletws.estimators.coverage_check.empty_row_class`): that row's class
#: then rests on a balance the rows do not settle.  The coverage check's rule since session 60
#: (``coverage_check.UNVOTED_FLIP``), for the reading that runs after it is refused.  Measured in session
#: 60 against a bar written before its run and not adopted: LF subsets of seed 35 37 -> 35 of 450 more
#: than 2 points below majority vote (-43.8 summed), the stress draw 20910101 284 -> 284 and 274 -> 275 of
#: 312 but -46.2 summed points against the bar's -40 (adversarial-20 -14.6, sparse-01 -9.7).
UNVOTED_FLIP = False

#: Test (h) (a study switch, False: off): where the balance is chosen and the uniform one is picked,
#: refuse the reading where it and its fit with an estimated balance name different single classes on at
#: least :data:`tripletws.estimators.coverage_check.BALANCE_NOTE_SHARE` of the rows (counted;
#: :func:`~tripletws.estimators.coverage_check.prediction_disagreement`, ties not counted): the reading's
#: labels then rest on a balance the rows do not settle.  The rule of the vote-only families since session
#: 43 (the annotator model's fallback to majority vote's family) and of the coverage reading's study switch
#: ``coverage_check.UNSETTLED_REFUSE``, for the abstain reading; the share is session 43's, not tuned here.
UNSETTLED_REFUSE = False

#: Test (i) (a study switch, False: off): where the balance is chosen and the uniform one is picked, the
#: reading's fit with an estimated balance replaces it where the clear rows support that balance (the
#: balance check's test on the vote-only families,
#: :func:`~tripletws.estimators.balance_check.clear_rows_favour`: significantly more clear majorities kept,
#: no class of the clear rows silenced) and its held-out score is within ``LEAD_SE`` standard errors of the
#: reading picked.  Tests (a') and (b2) stay those of the uniform reading.  Run before (h), which reads
#: what is left.
BALANCE_CHECK = False

#: The vote-only family that reads the votes as each informative family does.
VOTE_ONLY = {"mace_abstain": "mace", "ds_abstain": "ds"}

#: Deals of the rows into two disjoint halves for test (e) (each gives two half fits).
STABILITY_DEALS = 2


@dataclass(frozen=True)
class AbstainCheck:
    """Whether abstentions were read as informative for every LF, and why.

    Attributes
    ----------
    accepted : bool
    reason : str
        Empty when accepted; else why not, in words.
    family : str
        The informative family that test (a) compared (:data:`PICK`; "" when none was fitted).
    balance : str
        Its class balance: ``"given"``, ``"uniform"`` or ``"estimated"``.
    lead : float
        Held-out log-likelihood per row by which it leads the vote-only family chosen (nan: not tested).
    lead_se : float
        Standard error of ``lead``.
    z : float
        z-score of a background latent class's held-out gain (nan: not tested).
    fit : AnnotatorFit or None
        The informative fit, when accepted (not persisted).
    kept : tuple of (margin, kept, rows)
        Test (d)'s counts where it ran: for each margin of :data:`KEPT_MARGINS`, the counted rows
        whose majority wins by that many votes or more, and how many of them the fit keeps
        (not persisted).
    """

    accepted: bool
    reason: str
    family: str = ""
    balance: str = ""
    lead: float = float("nan")
    lead_se: float = float("nan")
    z: float = float("nan")
    fit: Any = field(default=None, repr=False, compare=False)
    kept: tuple[tuple[int, float, float], ...] = field(default=(), repr=False, compare=False)

    def weakest_majority(self) -> tuple[int, float, float, float] | None:
        """Test (d)'s margin whose kept share stands least above a coin: (margin, kept, rows, z), z the
        kept count's distance from half the rows in binomial standard errors (None: (d) did not run)."""
        scored = [(m, k, n, (k - n / 2.0) / (np.sqrt(n) / 2.0)) for m, k, n in self.kept if n > 0]
        return min(scored, key=lambda t: t[3]) if scored else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able record (non-finite numbers as None)."""

        def num(v: float) -> float | None:
            return float(v) if np.isfinite(v) else None

        return {
            "accepted": self.accepted,
            "reason": self.reason,
            "family": self.family,
            "balance": self.balance,
            "lead": num(self.lead),
            "lead_se": num(self.lead_se),
            "z": num(self.z),
        }

    @classmethod
    def from_dict(cls, d: Any, name: str = "estimate.abstain") -> AbstainCheck:
        """Read a :meth:`to_dict` record, every field checked (null numbers read as nan).

        ``name`` is the record's path in the model file: a ValueError names the field under it that
        is missing, unknown, of the wrong type or out of range.
        """
        d = check_mapping(d, name, ("accepted", "reason"), ("family", "balance", "lead", "lead_se", "z"))
        if not isinstance(d["accepted"], bool):
            raise ValueError(f"{name}.accepted must be true or false, got {d['accepted']!r}"[:200])
        return cls(
            d["accepted"],
            check_str(d["reason"], f"{name}.reason"),
            check_str(d.get("family", ""), f"{name}.family", ("", *INFORMATIVE)),
            check_str(d.get("balance", ""), f"{name}.balance", ("", "given", "uniform", "estimated")),
            check_float(d.get("lead"), f"{name}.lead", -1e300, 1e300, nullable=True),
            check_float(d.get("lead_se"), f"{name}.lead_se", 0.0, 1e300, nullable=True),
            check_float(d.get("z"), f"{name}.z", -1e300, 1e300, nullable=True),
        )


def screen_reason(screen: CoverageScreen, alpha: float) -> str:
    """Why the check refused the reading without fitting it (:mod:`tripletws.estimators.coverage_screen`)."""
    summed = f"; summed p = {screen.p_sum:.3g}" if _coverage_screen.SUMMED else ""
    return (
        "no LF's abstentions show a dependence on the other LFs' votes (chi-square tests of independence of "
        f"{screen.n_tested} LFs' firing: Bonferroni p = {screen.p_any:.3g} > {alpha:g}{summed}): no sign "
        "that coverage depends on the class, so no informative reading was fitted"
    )


def _heldout_latent(
    unique: RowSummary,
    family: str,
    n_latent: int,
    start: np.ndarray,
    folds: np.ndarray,
    only: np.ndarray | None,
) -> np.ndarray:
    """Held-out log-likelihood (n_folds, R) of ``family`` with ``n_latent`` latent classes and an
    estimated balance, each fold scored by a fit on the others from ``start`` (n_latent, 1, R); the
    folds not in ``only`` (None: all) and those without rows to fit on stay 0."""
    train = unique.counts[None, :] - folds
    usable = np.flatnonzero(train.sum(axis=1) > 0)
    if only is not None:
        usable = np.intersect1d(usable, only)
    out = np.zeros_like(folds)
    if usable.size:
        fit = _em(
            summary_design(unique, n_latent, abstain=True),
            [family] * len(usable),
            train[usable],
            start,
            max_steps=BACKGROUND_STEPS,
            tol=EM_TOL,
            class_balance=None,
            params=False,
        )
        out[usable] = fit.log_norm
    return out


def _background(
    unique: RowSummary, family: str, folds: np.ndarray, only: np.ndarray | None = None
) -> np.ndarray:
    """Held-out log-likelihood (n_folds, R) of ``family`` with ``k + 1`` latent classes and an
    estimated balance, each fold scored by a fit on the others started from majority vote.

    ``only``: the folds to fit and score (the others stay 0).  Each fold's fit is made as if alone, so
    the folds fitted in two calls score as in one (compiled: float for float; numpy's batch: to
    rounding)."""
    k = unique.cardinality
    start = summary_majority(unique, k + 1).T[:, None, :]
    return _heldout_latent(unique, family, k + 1, start, folds, only)


def _twins(unique: RowSummary, folds: np.ndarray) -> np.ndarray:
    """Held-out log-likelihood (n_folds, R) of ``"ds_abstain"`` with ``2 k`` latent classes (each class
    and a twin) and an estimated balance, each fold scored by a fit on the others (test (b2)).

    Each fold's fit starts from majority vote's soft labels, each distinct row's share of a class split
    between the class and its twin by a uniform draw on [0.25, 0.75] (:data:`TWIN_SEED`): the twins
    start apart, and EM keeps them apart only where the rows hold groups within the classes."""
    k = unique.cardinality
    mv = summary_majority(unique, k)  # (R, k)
    u = np.random.default_rng(TWIN_SEED).uniform(0.25, 0.75, size=(len(mv), 1))
    start = np.concatenate([mv * u, mv * (1.0 - u)], axis=1).T[:, None, :]
    return _heldout_latent(unique, "ds_abstain", 2 * k, start, folds, None)


#: An upper bound of log P(row) under a ``"ds_abstain"`` fit for a row with an outcome (a vote or an
#: abstention of some LF) that none of the fit's rows gives: that outcome's table entries are 0 (no
#: expected count, no observed share), floored at ``_TINY`` = 1e-300 (log -690.78), and every other
#: factor of the row's probability is at most 1 (to rounding).
UNSEEN_LOG_BOUND = -690.0


def _unseen_rows(
    unique: RowSummary, train: np.ndarray, votes: tuple[np.ndarray, ...], design: _Design | None = None
) -> np.ndarray:
    """(n, R) bool: whether row ``r`` gives an outcome that no row counted in ``train[f]`` gives.

    ``train`` (n, R) holds counts; an outcome is an LF's vote for a class, or its abstention.
    ``design``: a design of ``unique.rows`` whose entries are the votes (lean, or vote-only) with its
    matrix built (the EM's): the same counts as two of its products (:func:`_unseen_by_design`)."""
    if design is not None and (design.lean or not design.abstain) and "_csr" in vars(design):
        return _unseen_by_design(unique, train, design)
    k = unique.cardinality
    R, m = unique.rows.shape
    r, i, a = votes
    col = i * k + a
    n = len(train)
    kern = design_kernels()
    if kern is not None:
        return _unseen_compiled(kern, R, m, k, r, np.array(i, dtype=np.int64), col, train)
    # every fold at once (fold f's cells offset by f): the sums below are of 0/1 weights, whole
    # numbers, so each is exact in any order and equals the one-fold sums
    fold = np.arange(n)[:, None]
    counted = (train > 0).astype(np.float64)  # (n, R)
    # counted rows that give each vote (LF, class), and that abstain on each LF
    given = np.bincount((fold * (m * k) + col).ravel(), weights=counted[:, r].ravel(), minlength=n * m * k)
    given = given.reshape(n, m * k)
    abstain_given = counted.sum(axis=1)[:, None] - given.reshape(n, m, k).sum(axis=2)
    # a row's vote that no counted row gives, or its abstention on an LF every counted row votes on
    # (it votes on fewer of those LFs than there are)
    always = abstain_given < 0.5  # (n, m)
    cell = (fold * R + r).ravel()
    missing = (given[:, col] < 0.5).ravel()
    out = np.bincount(cell, weights=missing, minlength=n * R).reshape(n, R) > 0
    on_always = np.bincount(cell, weights=always[:, i].ravel(), minlength=n * R).reshape(n, R)
    out |= on_always < always.sum(axis=1)[:, None]  # never true for a fold without such LFs
    return out


def _unseen_compiled(
    kern: Any, R: int, m: int, k: int, r: np.ndarray, i: np.ndarray, col: np.ndarray, train: np.ndarray
) -> np.ndarray:
    """:func:`_unseen_rows`' bincounts as the compiled design sums (numba at hand,
    :func:`~tripletws.estimators.em_jit.design_kernels`): the same counts of 0/1 weights (whole
    numbers: exact in any order), without the (n, nnz) keys and gathers (0.6 -> 0.25 ms a fit on
    sentiment_popularity's 10 000 votes).  ``r``, ``i``, ``col``: row, LF and (LF, class) column of each
    vote, in row-major order."""
    n = len(train)
    indptr = np.zeros(R + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=R), out=indptr[1:])
    counted = (train > 0).astype(np.float64)  # (n, R)
    given = np.empty((m * k, n))  # counted rows that give each vote (LF, class)
    kern.scatter_counts(indptr, col, counted, given)
    abstain_given = counted.sum(axis=1)[:, None] - given.T.reshape(n, m, k).sum(axis=2)
    always = abstain_given < 0.5  # (n, m): every counted row votes on the LF
    missing = np.empty((n, R))  # a row's votes that no counted row gives
    kern.sums_t(indptr, col, (given < 0.5).astype(np.float64), missing)
    on_always = np.empty((n, R))  # a row's votes on such LFs
    kern.sums_t(indptr, i, np.ascontiguousarray(always.T, dtype=np.float64), on_always)
    return (missing > 0) | (on_always < always.sum(axis=1)[:, None])


def _unseen_by_design(unique: RowSummary, train: np.ndarray, D: _Design) -> np.ndarray:
    """:func:`_unseen_rows` through the products of a design ``D`` whose entries are the rows' votes.

    The counted rows that give each vote column are ``X.T @ counted.T``; a row's votes on columns no
    counted row gives, and on LFs every counted row votes on, are ``X @`` those 0/1 columns.  Every sum
    is of 0/1 weights (whole numbers: exact in any order), so the result is the bincounts' (a few
    products instead of gathers over every vote of every fold: 50 -> 4 ms on the 1e6 x 50 fit's
    15 563 rows).
    """
    m = unique.rows.shape[1]
    n = len(train)
    counted = (train > 0).astype(np.float64)  # (n, R)
    given = D._xt(counted)  # (U, n): counted rows giving each used column (0 at abstain columns)
    is_vote = D.vote >= 0
    vote_cols = np.flatnonzero(is_vote)
    given_lf = np.zeros((m, n))  # counted rows voting on each LF
    np.add.at(given_lf, D.lf[vote_cols], given[vote_cols])
    always = (counted.sum(axis=1)[:, None] - given_lf.T) < 0.5  # (n, m): every counted row votes on it
    cols = np.zeros((D.U, 2 * n))
    cols[:, :n] = is_vote[:, None] & (given < 0.5)
    cols[:, n:] = always.T[D.lf]
    per_row = np.asarray(D.X @ cols)  # (R, 2n): missing votes, votes on such LFs
    out = per_row[:, :n].T > 0
    out |= per_row[:, n:].T < always.sum(axis=1)[:, None]
    return out


@dataclass
class _FoldFits:
    """What :func:`_fold_scores` keeps between calls on the same rows and folds: each fold's held-out
    scores per ``(family, balance, fold)``, and the rows giving an outcome unseen in each fold's
    fitted rows (every fold's at once, None until made)."""

    scores: dict[tuple[str, str, int], np.ndarray] = field(default_factory=dict)
    unseen: dict[int, np.ndarray] | None = None


def _fold_scores(
    unique: RowSummary,
    balances: dict[str, np.ndarray | None],
    folds: np.ndarray,
    only: np.ndarray | None = None,
    fits: _FoldFits | None = None,
) -> dict[str, np.ndarray]:
    """Held-out log-likelihood (n_folds, R) of each informative family under each balance, keyed
    ``"family/balance"``: every fold scored by a fit on the others started from majority vote.

    The values of :func:`tripletws.estimators.heldout.heldout_row_scores` (cold, no fits on all
    rows) called once per balance: one batch per family, one design and one start for all, a
    uniform and an estimated prior side by side (each member fitted as if alone).  The
    ``"ds_abstain"`` fits are skipped where they cannot score highest: where the held-out rows
    that give an outcome its fit's rows never give (:data:`UNSEEN_LOG_BOUND` each, the others at
    most 0) bound its mean held-out score below a ``"mace_abstain"`` fit's; its scores are then
    those bounds (not the fits' values: only the highest score is read).

    ``only``: the folds to score (None: every fold with rows to fit on); the other folds' rows stay 0,
    and the skip above is decided on the folds scored.  ``fits``: what is kept for a later call on the
    same rows and folds, which then fits only the folds missing (each member is fitted as if alone:
    the values of one batch)."""
    k = unique.cardinality
    c = unique.counts.astype(np.float64)
    train = c[None, :] - folds
    fittable = np.flatnonzero(train.sum(axis=1) > 0)
    usable = fittable if only is None else fittable[np.isin(fittable, only)]
    U = len(usable)
    out = {f"{fam}/{name}": np.zeros(folds.shape) for name in balances for fam in INFORMATIVE}
    if U == 0:
        return out
    fits = _FoldFits() if fits is None else fits
    votes = summary_votes(unique)
    D = summary_design(unique, k, abstain=True)
    start = summary_majority(unique, k).T[:, None, :]
    names = list(balances)
    given = [balances[name] for name in names]
    if len(names) == 1:
        class_balance, uniform_too = given[0], False
    else:  # the prior "auto": uniform and estimated, in one batch
        if any(b is not None and not np.array_equal(b, np.full(k, 1.0 / k)) for b in given):
            raise ValueError("a batch of balances holds the uniform and the estimated one only")
        class_balance, uniform_too = None, True
    scored = np.zeros_like(folds)
    scored[usable] = folds[usable]
    n = float(scored.sum())
    for fam in INFORMATIVE:
        if fam == "ds_abstain" and n > 0:
            if fits.unseen is None:  # every fold's at once, kept for a later call
                rows = _unseen_rows(unique, train[fittable], votes, D)
                fits.unseen = {int(f): rows[t] for t, f in enumerate(fittable)}
            unseen = np.stack([fits.unseen[int(f)] for f in usable])
            bound = np.where(unseen, UNSEEN_LOG_BOUND, 0.0)
            top = max(float((scored * out[f"mace_abstain/{name}"]).sum()) / n for name in names)
            if float((scored[usable] * bound).sum()) / n + 1e-9 < top:
                for name in names:
                    out[f"{fam}/{name}"][usable] = bound
                continue
        todo = [int(f) for f in usable if (fam, names[0], int(f)) not in fits.scores]
        if todo:
            fit = _em(
                D,
                [fam] * (len(names) * len(todo)),
                np.tile(train[todo], (len(names), 1)),
                start,
                max_steps=FOLD_STEPS,
                tol=EM_TOL,
                class_balance=class_balance,
                params=False,
                estimate_prior=np.repeat([b is None for b in given], len(todo)) if uniform_too else None,
            )
            for j, name in enumerate(names):
                for t, f in enumerate(todo):
                    fits.scores[(fam, name, f)] = fit.log_norm[j * len(todo) + t]
        for name in names:
            for f in usable:
                out[f"{fam}/{name}"][f] = fits.scores[(fam, name, int(f))]
    return out


def _futile(
    held: HeldOutScores, chosen: str, keys: list[tuple[str, str]], n_se: float
) -> tuple[str, str, float, float] | None:
    """Test (a)'s futility on the first scored fold's rows: where every informative candidate trails
    ``chosen`` there by more than ``n_se`` standard errors, its best one (family, balance, lead, standard
    error), else None."""
    best = None
    for fam, name in keys:
        lead, se = held.lead(f"{fam}/{name}", chosen)
        if not (np.isfinite(lead) and np.isfinite(se) and lead < -n_se * se):
            return None
        if best is None or lead > best[2]:
            best = (fam, name, lead, se)
    return best


def abstain_check(
    unique: RowSummary,
    chosen: str,
    class_balance: np.ndarray | None,
    choose_balance: bool = False,
    *,
    ref: HeldOutScores | None = None,
    folds: np.ndarray | None = None,
) -> AbstainCheck:
    """Fit the informative families and decide, without gold, whether one replaces the vote-only fit.

    Parameters
    ----------
    unique : RowSummary
        Distinct rows (R, m) and counts (R,).
    chosen : str
        The vote-only family chosen on these rows (``"mv"``, ``"one_coin"`` or ``"mace"``).
    class_balance : ndarray of shape (k,), optional
        The prior the vote-only family was scored with (None: estimated).
    choose_balance : bool
        Try the informative families with a uniform and with an estimated balance (the prior
        ``"auto"``); else with ``class_balance`` only.
    ref : HeldOutScores, optional
        The held-out scores of ``chosen`` under ``class_balance`` on these rows, when the family
        choice made them (:attr:`tripletws.estimators.family_choice.Selection.scores`) on ``folds``.
    folds : ndarray, shape (N_FOLDS, R), optional
        The deal of the rows into folds (``deal_counts(unique.rows, unique.counts, k, N_FOLDS,
        FOLD_SEED)``) when already made.

    Returns
    -------
    AbstainCheck
    """
    k = unique.cardinality
    if not (unique.rows < 0).any():
        # every LF votes on every row: the informative families' abstention columns are empty, so
        # they read nothing the vote-only reading does not ("mace_abstain" is MACE again, to the
        # EMs' rounding: bluebird 3e-5 nats per row ahead of "mace", standard error 5e-7;
        # "ds_abstain" is Dawid-Skene's full tables, a vote-only family the choice does not offer)
        return AbstainCheck(False, "no LF abstains on any row: there are no abstentions to read")
    if not (unique.rows[unique.counts > 0] >= 0).any():
        # no LF votes on any row: every row is the same pattern of abstentions, so the held-out
        # rows differ from the fold fits by rounding only (an all-abstain matrix read the
        # abstentions with a "lead" of 5e-6 nats per row and a standard error of exactly 0)
        return AbstainCheck(False, "no LF votes on any row: there are no votes for abstentions to explain")
    alpha = _coverage_screen.ALPHA  # read at call time (study switches)
    if alpha is not None and len(unique.rows) >= _coverage_screen.MIN_ROWS:
        screen = coverage_screen(unique)
        if not screen.rejects(alpha):
            return AbstainCheck(False, screen_reason(screen, alpha))
    if choose_balance:
        balances: dict[str, np.ndarray | None] = {"uniform": np.full(k, 1.0 / k), "estimated": None}
    elif class_balance is None:
        balances = {"estimated": None}
    else:
        balances = {"given": np.asarray(class_balance, dtype=np.float64)}
    if folds is None:
        folds = deal_counts(unique.rows, unique.counts, k, N_FOLDS, FOLD_SEED)
    kw = {"n_folds": N_FOLDS, "random_state": FOLD_SEED, "folds": folds}
    if ref is None or chosen not in ref.row_loglik:
        ref = heldout_row_scores(unique, (chosen,), class_balance=class_balance, **kw)
    ll = {chosen: ref.row_loglik[chosen]}
    keys = [(fam, name) for name in balances for fam in INFORMATIVE]
    n_se = _family_choice.LEAD_SE  # read at call time, as select_family does
    # the folds' fits only: the fit on all rows is made for the family kept, if it passes (a)
    fits = _FoldFits()
    futility = FUTILITY_SE  # read at call time (a study switch)
    first, one = first_fold(ref.folds)  # the first fold alone, for both tests' stops
    if futility is not None and first.size:
        # the first fold alone: where every reading trails far behind there, the others are not fitted
        scores = _fold_scores(unique, balances, folds, only=first, fits=fits)
        futile = _futile(HeldOutScores(one, {**ll, **scores}), chosen, keys, float(futility))
        if futile is not None:
            fam, name, lead, se = futile
            reason = (
                f"no reading of abstentions as informative comes within {float(futility):g} standard errors "
                f"of {chosen!r} on the first fold's held-out rows (best: {fam}, {name} balance, lead "
                f"{lead:.4f} +- {se:.4f} per row); the other folds were not fitted"
            )
            return AbstainCheck(False, reason, family=fam, balance=name, lead=lead, lead_se=se)
    ll.update(_fold_scores(unique, balances, folds, fits=fits))
    held = HeldOutScores(ref.folds, ll)
    if PICK == "best":
        # the highest held-out score, ties to the simpler family and to the first balance
        fam, name = max(keys, key=lambda key: held.mean(f"{key[0]}/{key[1]}"))
    elif PICK == "simplest":
        # fewest parameters first: the family, then the balance (an estimated one adds k - 1)
        order = sorted(keys, key=lambda key: (INFORMATIVE.index(key[0]), list(balances).index(key[1])))
        pick, _, _ = _family_choice.choose_within_se(held, tuple(f"{f}/{b}" for f, b in order), n_se)
        fam, name = pick.split("/", 1)
    else:
        raise ValueError(f"unknown PICK {PICK!r}; choose one of {', '.join(PICKS)}")
    lead, se = held.lead(f"{fam}/{name}", chosen)
    record = {"family": fam, "balance": name, "lead": lead, "lead_se": se}
    if not (np.isfinite(lead) and np.isfinite(se) and lead > n_se * se):
        reason = (
            f"no reading of abstentions as informative predicts held-out rows better than {chosen!r} by "
            f"over {n_se:g} standard errors (picked: {fam}, {name} balance, lead {lead:.4f} +- {se:.4f} "
            "per row)"
        )
        return AbstainCheck(False, reason, **record)
    # (b): a background class of the same family, both with an estimated balance, on the same folds
    if "estimated" in balances:
        with_k = ll[f"{fam}/estimated"]
    else:
        with_k = heldout_row_scores(unique, (fam,), class_balance=None, **kw).row_loglik[fam]
    bar = _coverage_check.background_stop_bar()
    if bar is not None and first.size:
        # the first fold alone: where the background class gains far beyond test (b)'s bar there, the
        # other folds are not fitted
        background = _background(unique, fam, ref.folds, only=first)
        gain, z = _gain(one, with_k, background)
        if z > float(bar):
            reason = (
                f"the rows hold a group the classes do not explain (a background latent class of {fam} gains "
                f"{gain:.4f} held-out log-likelihood per row on the first fold's held-out rows, z = {z:.1f}, "
                f"over {float(bar):g}; the other folds were not fitted)"
            )
            return AbstainCheck(False, reason, z=z, **record)
        rest = np.setdiff1d(np.arange(len(ref.folds)), first)
        background += _background(unique, fam, ref.folds, only=rest)
    else:
        background = _background(unique, fam, ref.folds)
    gain, z = _gain(ref.folds, with_k, background)
    if _coverage_check.background_refuses(z, gain, lead):
        reason = (
            f"the rows hold a group the classes do not explain (a background latent class of {fam} gains "
            f"{gain:.4f} held-out log-likelihood per row, z = {z:.1f})"
        )
        return AbstainCheck(False, reason, z=z, **record)
    # (c): no class that clear rows name is silenced
    fit = fit_annotator(unique, fam, class_balance=balances[name])
    clear, majority = clear_rows(unique)
    seen = clear & (unique.counts > 0)
    design = summary_design(unique, k, abstain=True)
    pred = design.log_scores(fit.params).argmax(axis=1)
    silenced = np.setdiff1d(np.unique(majority[seen]), np.unique(pred[seen]))
    if silenced.size:
        reason = (
            f"the fit never predicts class(es) {silenced.tolist()} on the rows whose majority names "
            "them clearly"
        )
        return AbstainCheck(False, reason, z=z, **record)
    # (d): it sides with most clear majorities (a model of the LFs' votes that overrules the LFs'
    # clear majority on most of those rows has found another latent variable)
    bar = float(KEPT_CLEAR)  # read at call time (study options), as the margins
    counted = _majority_kept(unique, clear, majority, pred)
    for margin, kept, clear_count in counted:
        if clear_count > 0 and not kept > bar * clear_count:
            votes = "votes" if margin > 1 else "vote"
            reason = (
                f"the fit keeps the majority on {kept:.0f} of the {clear_count:.0f} rows whose majority wins "
                f"by {margin} {votes} or more, not on more than {bar:g} of them"
            )
            return AbstainCheck(False, reason, z=z, **record)
    if OWN_LEAD:
        # (a'): the abstentions, not the vote tables, carry the lead (tested after (b)-(d), which cost
        # fewer fits: the outcome is the same in any order)
        own, bal = VOTE_ONLY[fam], balances[name]
        if own in ref.row_loglik and (
            bal is None if class_balance is None else bal is not None and np.array_equal(bal, class_balance)
        ):
            own_ll = ref.row_loglik[own]  # the family choice scored it under this balance, on these folds
        else:
            own_ll = heldout_row_scores(unique, (own,), class_balance=bal, **kw).row_loglik[own]
        own_lead, own_se = HeldOutScores(ref.folds, {**ll, own: own_ll}).lead(f"{fam}/{name}", own)
        if not (np.isfinite(own_lead) and np.isfinite(own_se) and own_lead > n_se * own_se):
            reason = (
                f"the reading of abstentions ({fam}, {name} balance) does not predict held-out rows better "
                f"than {own!r}, its reading of the votes alone, by over {n_se:g} standard errors (lead "
                f"{own_lead:.4f} +- {own_se:.4f} per row)"
            )
            return AbstainCheck(False, reason, z=z, **record)
    # (b2), read at call time (a study switch): no groups within the classes; not where a held-out row
    # gives an outcome no fitted row gives (Dawid-Skene's tables score it at the floor, with or without
    # twins).  The k-class tables under an estimated balance, as the twins', come from test (a)'s folds
    # where it fitted them.
    if BACKGROUND_TWINS and not (fits.unseen and any(bool(v.any()) for v in fits.unseen.values())):
        with_ds = ll.get("ds_abstain/estimated")
        if with_ds is None:
            scores = heldout_row_scores(unique, ("ds_abstain",), class_balance=None, **kw)
            with_ds = scores.row_loglik["ds_abstain"]
        twin_gain, twin_z = _gain(ref.folds, with_ds, _twins(unique, ref.folds))
        if not (twin_z <= _coverage_check.BACKGROUND_Z or twin_gain <= float(TWIN_MIN_GAIN)):
            reason = (
                f"the rows hold groups within the classes (Dawid-Skene's tables with a twin of each latent "
                f"class gain {twin_gain:.4f} held-out log-likelihood per row, z = {twin_z:.1f})"
            )
            return AbstainCheck(False, reason, z=z, **record)
    # (g), (h) and (i), read at call time (study switches): where the uniform balance is kept, its twin
    # with an estimated balance, fitted once for the three
    other = None
    if (UNVOTED_FLIP or UNSETTLED_REFUSE or BALANCE_CHECK) and name == "uniform" and "estimated" in balances:
        other = fit_annotator(unique, fam, class_balance=None)
    if UNVOTED_FLIP and other is not None:
        estimate = "an estimated one, which does not predict held-out rows better"
        reason = _coverage_check.unvoted_flip(fit.params, other.params, estimate)
        if reason:
            return AbstainCheck(False, reason, z=z, **record)
    if BALANCE_CHECK and other is not None:
        # (i): the estimated twin replaces the reading where the clear rows support it (the balance check's
        # McNemar test and silenced-class guard) and held out it is within LEAD_SE of the reading picked
        pred_e = design.log_scores(other.params).argmax(axis=1)
        if _balance_check.clear_rows_favour(unique.counts, clear, majority, pred, pred_e):
            behind, behind_se = held.lead(f"{fam}/{name}", f"{fam}/estimated")
            if not (np.isfinite(behind) and np.isfinite(behind_se) and behind > n_se * behind_se):
                lead, se = held.lead(f"{fam}/estimated", chosen)
                record = {**record, "balance": "estimated", "lead": lead, "lead_se": se}
                fit, name, other = other, "estimated", None
                counted = _majority_kept(unique, clear, majority, pred_e)  # test (d)'s counts, of this fit
    if UNSETTLED_REFUSE and other is not None:
        share = _coverage_check.prediction_disagreement(unique, fit.params, other.params, strict=True)
        bar = _coverage_check.BALANCE_NOTE_SHARE
        if share >= bar:
            reason = (
                f"under the uniform balance and under an estimated one, which does not predict held-out rows "
                f"better, the reading names different classes on {share:.3f} of the rows (at least {bar:g}): "
                "its labels rest on a balance the rows do not settle"
            )
            return AbstainCheck(False, reason, z=z, **record)
    stability = STABILITY_BAR  # read at call time (a study option)
    if stability is not None:
        # (e): the reading is a property of the rows, not of one half of them
        share = half_fit_disagreement(unique, fam, balances[name])
        if share > float(stability):
            reason = (
                f"fits of the reading on disjoint halves of the rows disagree on {share:.3f} of the rows' "
                f"labels, over {float(stability):g}"
            )
            return AbstainCheck(False, reason, z=z, **record)
    return AbstainCheck(True, "", z=z, fit=fit, kept=tuple(counted), **record)


def _majority_kept(
    unique: RowSummary, clear: np.ndarray, majority: np.ndarray, pred: np.ndarray
) -> list[tuple[int, float, float]]:
    """Test (d)'s counts: for each margin of :data:`KEPT_MARGINS`, (margin, the counted rows whose majority
    wins by that many votes or more on which ``pred`` (R,) is the majority, those rows).  ``clear`` and
    ``majority`` are :func:`~tripletws.estimators.balance_check.clear_rows`'s at its margin."""
    out = []
    for margin in KEPT_MARGINS:
        rows_m, top = (clear, majority) if margin == CLEAR_MARGIN else clear_rows(unique, margin)
        rows_m = rows_m & (unique.counts > 0)
        out.append(
            (
                int(margin),
                float(unique.counts[rows_m & (pred == top)].sum()),
                float(unique.counts[rows_m].sum()),
            )
        )
    return out


def half_fit_disagreement(
    unique: RowSummary, family: str, class_balance: np.ndarray | None, deals: int | None = None
) -> float:
    """Mean share of the rows on which two fits of ``family`` on halves of the rows disagree.

    The counts are dealt into two disjoint halves ``deals`` times
    (:func:`~tripletws.estimators.heldout.deal_counts`, seeds 1, 2, ...: independent of the order of
    rows and columns); each half is fitted (:func:`~tripletws.estimators.annotator.fit_annotator`,
    started from majority vote) and every pair of half fits compared on all the rows: the
    count-weighted share of rows whose top classes differ, a tie (scores within 1e-9) broken by one
    random order of the classes shared by the two fits (``1 - |A & B| / |A | B|`` for top sets ``A``
    and ``B``).

    Parameters
    ----------
    unique : RowSummary
        Distinct rows (R, m) and counts (R,).
    family : str
        An informative family (:data:`INFORMATIVE`).
    class_balance : ndarray of shape (k,), optional
        Fixed prior (None: estimated).
    deals : int, optional
        Deals into halves (None: :data:`STABILITY_DEALS`).

    Returns
    -------
    float
        In [0, 1] (nan without rows).
    """
    k = unique.cardinality
    w = unique.counts.astype(np.float64)
    total = float(w.sum())
    if total <= 0:
        return float("nan")
    design = summary_design(unique, k, abstain=True)
    tops = []
    for seed in range(1, 1 + (STABILITY_DEALS if deals is None else int(deals))):
        for half in deal_counts(unique.rows, unique.counts, k, 2, seed):
            if float(half.sum()) <= 0:
                continue
            part = fit_annotator(replace(unique, counts=half), family, class_balance=class_balance)
            scores = design.log_scores(part.params)
            tops.append(top_classes(scores, 1e-9))
    shares = []
    for i in range(len(tops)):
        for j in range(i + 1, len(tops)):
            a, b = tops[i], tops[j]
            union = np.maximum((a | b).sum(axis=1), 1)
            shares.append(float(w @ (1.0 - (a & b).sum(axis=1) / union)) / total)
    return float(np.mean(shares)) if shares else 0.0
