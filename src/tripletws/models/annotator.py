"""The annotator label model (default): MACE's annotator model, chosen and fitted by EM over distinct rows.

An LF either knows the class (probability ``theta_i``) and votes it, or votes from its
own distribution ``xi_i``; abstentions are "not assigned" (independent of the class).
A gold-free choice among majority vote's model, the one-coin model and this one
(cross-fitted held-out log-likelihood, :func:`tripletws.estimators.family_choice.select_family`)
picks the family; EM over the distinct rows fits it (:mod:`tripletws.estimators.annotator`).
LFs that vote one class only say nothing through their votes; by default (``one_class="coverage"``),
with two classes, when they cast most of the votes and a gold-free check passes
(:func:`tripletws.estimators.coverage_check.coverage_check`), they are learned from when they vote
(class-dependent coverage) and the whole fit is the coverage reading's (``one_class`` in the
estimate).  Elsewhere, every LF's abstentions are read as an outcome (``"mace_abstain"`` or
``"ds_abstain"``: class-dependent coverage for LFs that vote several classes too) where four
gold-free tests pass (:func:`tripletws.estimators.abstain_check.abstain_check`; ``abstain`` in the
estimate).  LFs that copy another LF's outcomes more often than not (a gold-free test against
the fit, :func:`tripletws.estimators.copies.find_copies`) are counted once: the choice and the fit
are redone with one representative per group, the others get a table without class information
(``copies`` in the estimate).  What the rows do not identify is named in the notes
and in the estimate (``unidentified``).  With more than two classes, where fitted rows with votes
tie under the fit, a second fit that reads abstentions (``"ds_abstain"``) breaks such ties at
prediction (``tie_break`` in the estimate, :mod:`tripletws.ties`); docs/models.md has the
reasoning and the measurements.

Statistics alone (``fit_stats``) or declared dependencies are solved by the symmetric model,
with ``fallback`` saying so.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..arrays import decode_array
from ..checks import overrule_rate
from ..diagnostics import one_class_labels
from ..estimators import abstain_check as _abstain_check_module
from ..estimators import family_choice as _family_choice
from ..estimators import kinds as _kinds
from ..estimators import shrinkage as _shrink
from ..estimators.abstain_check import AbstainCheck, abstain_check
from ..estimators.annotator import FAMILIES, fit_annotator
from ..estimators.annotator_design import shared_designs, summary_majority, summary_posteriors
from ..estimators.balance_check import BalanceCheck, balance_check
from ..estimators.cofiring_screen import cofiring_screen
from ..estimators.copies import Copies, copies_note, copy_tables, count_tables, select_counting_once
from ..estimators.coverage_check import (
    BALANCE_NOTE_SHARE,
    N_FOLDS,
    CoverageCheck,
    balance_note,
    coverage_check,
    empty_row_class,
    empty_row_top,
    prediction_disagreement,
)
from ..estimators.coverage_check import FOLD_SEED as CHECK_FOLD_SEED
from ..estimators.family_choice import CANDIDATES, Selection, select_family
from ..estimators.family_weights import combine_weights
from ..estimators.heldout import deal_counts
from ..estimators.kinds import kinds_classes
from ..estimators.one_class import one_class_votes
from ..estimators.shrinkage import Shrinkage, shrink_toward_mv, shrinkage_note
from ..estimators.softdep import (
    SoftDependence,
    dependence_weights,
    tempered,
    weighted_em,
    weighted_em_coverage,
)
from ..estimators.specificity import specificity_params
from ..estimators.symmetric import DEFAULT_ACCURACY
from ..estimators.votes import lfs_without_overlap, summary_votes
from ..matrix import LabelMatrix
from ..params import LabelModelParams
from ..rows import RowSummary
from ..stats import LabelStats
from ..ties import tied_classes
from ..validate import check_float, check_int, check_mapping, check_str
from ..voted_guard import VotedGuard
from .base import SOURCES, Fit, Needs, Options, Prior, Solver, get_solver, register
from .notes import (
    KEPT_BALANCE_NOTE,
    UNSETTLED_ADVICE,
    UNSETTLED_BALANCE_NOTE,
    VOTED_GUARD_START,
    dependency_note,
    lf_list,
    silent_lfs,
)

#: A fit that names another class than the LFs' strict majority on more than this share of the fitted
#: rows that have one warns (:func:`_overrule_note`): the latent class no longer reads the LFs' votes
#: as the classes they name (``overrule_rate_``; a fit that re-weighs LFs overrules a few ties and weak
#: majorities, not most of them).
OVERRULE_NOTE = 0.5

#: Distinct rows the annotator model looks at (a hash sample of whole rows beyond it): EM and
#: the held-out choice cost O(votes in those rows) per step, and 20 000 rows pin an LF's
#: accuracy to about 1/sqrt(20 000 x coverage) (0.013 at 30 % coverage).
ANNOTATOR_MAX_ROWS = 20_000
#: The family that breaks ties of the fit's posterior (:mod:`tripletws.ties`): measured against the
#: vote mass rule and ``"mace_abstain"`` (docs/models.md, "Ties"; benchmarks/tie_second_fit_study.py).
TIE_FAMILY = "ds_abstain"
#: Whether two-class ties are broken too (off: there the second fit trades the rarer class's F1 for
#: accuracy, cdr_metal +0.9 accuracy but -3.1 F1 of class 1, and the development stress suite's
#: share at or above majority vote - 0.5 points falls 93.3 % -> 92.3 %; docs/models.md, "Ties").
TIE_BINARY = False
#: Where two-class ties are broken by the specificity of the one-class LFs voting each class
#: (:mod:`tripletws.estimators.specificity`: the class named by the LFs that fire on fewer rows):
#: ``"off"``, ``"shared"`` (with ``one_class="shared"`` only) or ``"always"``.
SPECIFICITY_TIES = "off"
#: The numbers of classes :data:`SPECIFICITY_TIES` acts on: ``"two"``, ``"more"`` or ``"any"``.  With
#: k > 2 it takes the place of the :data:`TIE_FAMILY` fit where every LF with a vote votes one class
#: only (keyword-like LF sets; a crowd's sparse annotators often cast one vote of one class).
SPECIFICITY_CLASSES = "two"
#: ``LabelModel(refit_growth="auto")`` for this model: a stream is solved again once the rows added
#: since its last solve are a fifth of its running summary (a quarter of those solved on, on a plain
#: stream; benchmarks/online.py; docs/online.md).
STREAM_GROWTH = 1.25
#: LFs that never vote on the fitted rows (their votes elsewhere, e.g. at prediction): ``"mean"``
#: (since session 12) gives them the vote-weighted mean accuracy of the other LFs, as LFs that never
#: vote where another LF votes get, so that their votes count as majority vote counts them;
#: ``"neutral"`` (before) a vote that weighs nothing (benchmarks/kept_margin_study.py --study silent).
SILENT_FILL = "mean"
#: The coverage their tables vote with under ``SILENT_FILL = "mean"`` (it cancels from posteriors).
SILENT_COVERAGE = 1e-9
#: Seed of the folds of the held-out choice (fixed: a fit is a function of the data alone).
FOLD_SEED = 0
#: Where the balance check keeps the uniform prior and the chosen family's fits under the uniform and the
#: estimated balance each name one class, and different ones, on at least ``BALANCE_NOTE_SHARE`` (0.1, the
#: readings' reporting bar) of the fitted rows, the vote-only fit falls back to majority vote's family
#: (:func:`_settle_balance`); False: the fit stands with a note (before session 43).  Share of the stress
#: problems at or above MV - 0.5 points, draws 20580101 / 20590101 / 20600101: 92.6 / 91.3 / 91.3 % ->
#: 93.3 / 92.0 / 92.6 %; every class imbalanced (``--imbalance-all``): 84.0 / 78.2 / 81.7 % -> 92.0 /
#: 88.8 / 87.8 %; the untouched draw 20610101: 93.3 -> 93.9 %, imbalanced 81.7 -> 90.4 %; the shared sets
#: unchanged (docs/studies.md, "A balance the rows do not settle").
UNSETTLED_FALLBACK = True
#: Where one-class LFs cast most of the votes, the readings of abstentions are tried only where the LFs
#: do not fire independently of each other (:func:`tripletws.estimators.cofiring_screen.cofiring_screen`:
#: some pair of LFs, or the pairs together, fire together more or less often than chance), since the
#: class-dependent rates they read are identified through that co-firing; False: always tried (before
#: session 44).
COFIRING_SCREEN = True
#: A one-class LF's vote is never read as evidence against the class it names (``one_class`` of
#: :class:`tripletws.params.LabelModelParams`; the fit's tables are kept, and its abstentions count as
#: fitted).  Where the readings of abstentions fit such an LF's firing as likelier under another class,
#: its vote counts as neutral between the two.  False: the vote counts as fitted (before session 45).
#: Real-LF subsets (``benchmarks/lf_subsets.py``): +34 to +87 summed points against majority vote on
#: each of seven seeds (four drawn after the rule was fixed); the stress suite -11.5 to +3.5 summed points
#: a draw (312 problems), the adversarial family's LFs below their class's base rate losing a point or
#: two; the shared sets 0.7901 -> 0.7903 (docs/studies.md, "A one-class LF's vote against its own class
#: (session 45)").
NAMED_VOTES = True
#: Where a reading of abstentions is used, a row with votes is kept among the classes voted on it where
#: only other LFs' silences send it elsewhere and those LFs fire together less often than the fit
#: expects (:mod:`tripletws.voted_guard`, :mod:`tripletws.estimators.kinds`).  Real-LF subsets given
#: their classes' frequencies, exact or rough: +17 to +97 summed points a balance (seeds 20-22, 450 LF
#: subsets each), the share more than 2 points below majority vote never higher; stress runs given the
#: true balance -3.8 summed over six spent ones, +1.4 and -4.6 on a fresh one, no problem lost.  Without
#: a balance (the uniform one): subsets +30.4 / +26.1 / +19.1 summed (seeds 20-22), the stress suite
#: +2.3 over six spent runs and +0.7 over a fresh draw's two, the shared sets 0.7903 -> 0.7921
#: (docs/studies.md, session 55).  With a balance the reading estimated, under the strict test
#: (:data:`tripletws.estimators.kinds.STRICT_SOURCES`): subsets +91.0 / +88.9 summed on spent seeds 20 /
#: 21 and +106.9 on a fresh one (25), the share more than 2 points below majority vote 59 -> 54 of 450
#: there; six spent stress runs -6.0 summed, a fresh draw's two unmoved; the shared sets unchanged
#: (docs/studies.md, session 57).  False: the fit's posterior as it is.
VOTED_GUARD = True
#: The sources of the fit's class balance (``Fit.class_balance_source``) under which the guard applies:
#: every source since session 57 (a balance fixed before the fit, or one the reading estimated, where the
#: pair test is strict); a study switch, narrowed to measure a source without the guard.
VOTED_GUARD_SOURCES: tuple[str, ...] = SOURCES
#: The note of a fit whose votes the guard keeps (the classes and the balance, then what the votes alone
#: decide).
VOTED_GUARD_NOTE = (
    VOTED_GUARD_START + " class(es) {classes} is not sent to a class no LF voted for on it by the other "
    "LFs' silences alone: under the {source} class balance the LFs of those classes fire together less "
    "often than the fit expects (LFs written for different kinds of row, whose silences are no evidence "
    "against the class); where the votes and the balance alone send such a row elsewhere, it goes"
)
#: The note naming the one-class LFs whose fitted vote is likelier under another class.
AGAINST_NAMED_NOTE = (
    "LF(s) {lfs} vote one class only, and the fit reads their firing as likelier under another class "
    "than the one they name (LFs written to cover what the others miss, or a feature shared with LFs "
    "of another class, read this way: tripletws.cofiring_candidates(L, model), or 'tripletws "
    "dependencies --cofiring', lists the pairs that fire together beyond chance); their vote counts "
    "at most as neutral between the class it names and another, never against it, and their "
    "abstentions count as fitted"
)
#: Added to the fallback's note where the reading of abstentions replaced it (the coverage reading does not
#: follow a balance check: one-class LFs casting most of the votes skip it).
UNSETTLED_READ = (
    "; the reading of every LF's abstentions, checked against that family, replaced it (its note)"
)
#: Balances the abstain reading may use under ``class_balance="auto"``: "auto" (uniform or estimated,
#: estimators.abstain_check), "uniform" (uniform only) or "no_estimated" (an estimated one rejects it);
#: the other two are benchmarks/abstain_balance_study.py's variants (they lose: docs/models.md).
ABSTAIN_BALANCES = "auto"
#: Partly dependent LFs down-weighted (a study option, :mod:`tripletws.estimators.softdep`): "off" (the
#: default), or the null fit of the excess agreement shares: "chosen" (the chosen family's fit) or "mv"
#: (majority vote's model, equal accuracies, which co-firing LFs cannot make look accurate).  Where a
#: pair is significant, the chosen vote-only family is refitted on the weighted likelihood and predicts
#: with the same weights; not where the abstain reading is accepted.  Stress 0.6916 -> 0.6921 ("chosen")
#: but 89.7 % -> 89.4 % at or above MV - 0.5; benchmarks/softdep_study.py, docs/models.md.
SOFTDEP = "off"
#: With ``SOFTDEP`` on: also where majority vote's model is chosen (a weighted majority vote).
SOFTDEP_ON_MV = True
#: With ``SOFTDEP`` on: also where the coverage reading is accepted (its family refitted weighted, the
#: null its fit or, with ``SOFTDEP = "mv"``, majority vote's model).
SOFTDEP_COVERAGE = True
#: With ``SOFTDEP_COVERAGE``: where the coverage reading estimated the class balance, the weighted refit
#: estimates it again (else it keeps the unweighted fit's, which co-firing LFs may have moved).
SOFTDEP_BALANCE = True
#: With ``SOFTDEP`` on: rounds of (shares against a null, weighted refit); after the first the null is
#: the last weighted fit (its weighted posterior), which the co-firing LFs fooled less.
SOFTDEP_ROUNDS = 1
#: ``one_class="coverage"`` (the default) reads the class-dependent coverage of one-class LFs where the
#: gold-free check passes (:func:`tripletws.estimators.coverage_check.coverage_check`); ``"shared"``
#: leaves it unread.  Against ``"shared"``: on the 15 real sets of docs/models.md the mean accuracy
#: 0.763 -> 0.784; on the stress suite the mean 0.651 -> 0.662 and the share of problems at or above
#: majority vote - 0.5 points 84.6 % -> 84.9 % (it still loses on some problems with LF copies); where
#: the check runs it adds 1-7 ms of CPU on the shared sets (docs/models.md).
OFF_REASON = (
    "reading their coverage without gold was switched off (one_class='shared'; the default, "
    "'coverage', reads it where a gold-free check passes)"
)
FEW_VOTES_REASON = (
    "they cast under half of the votes, and the reading is used where one-class LFs carry most of them"
)
NO_ROWS_NOTE = (
    "the annotator model is fitted on the rows of L; solved from statistics alone, "
    "the symmetric model was used"
)
ALONE_NOTE = (
    "no two LFs vote on the same row, so the rows identify no LF's accuracy; LF(s) {lfs} get the "
    f"default accuracy {DEFAULT_ACCURACY} (as the symmetric model's LFs without a usable triplet), and "
    "the predictions follow the votes, as majority vote's do"
)
UNNAMED_NOTE = (
    "the fit reads abstentions with Dawid-Skene's full tables (held-out lead {lead:.4f} +- {se:.4f} "
    "log-likelihood per row over the vote-only fit), whose likelihood does not name the classes: "
    "they are named where the fit agrees with the LFs' majority{kept}; a few gold rows "
    "(fit(L, L_dev=..., Y_dev=...)) check the names and relabel them"
)
#: The clause of :data:`UNNAMED_NOTE` that gives test (d)'s weakest count (the abstain check's majority
#: test), and the one added where that count stands within ``LEAD_SE`` binomial standard errors of a coin.
KEPT_CLAUSE = (
    " (it keeps the majority on {kept:.0f} of the {rows:.0f} fitted rows whose majority wins by {margin} "
    "{votes} or more, {z:.1f} standard errors above half{coin})"
)
COIN_CLAUSE = ", within noise of a coin: the names may be swapped"

#: Said where the default reads abstentions as evidence of the class (the coverage reading of one-class
#: LFs, or every LF's abstentions in ``"mace_abstain"``): the readings behind the default's largest gains
#: over majority vote and its largest losses to it (docs/models.md; docs/studies.md, "Where the losses
#: come from"), so the user hears what was read, on what evidence, and how to check it.
READING_NOTE = (
    "{what} are read as evidence of the class ({family!r}, {balance} class balance): {evidence}; "
    "{empty}. The reading gains where LFs fire more on some classes than on others and loses where "
    "which LFs fire follows something else (LFs that share a feature, a hidden kind of row): "
    "one_class='shared' reads abstentions as 'not assigned', and a few gold rows "
    "(fit(L, L_dev=..., Y_dev=...)) check it"
)


#: Pairs named in the reading's note where one-class LFs of different classes fire together beyond chance.
COFIRING_NAMED = 3


def _cofiring_clause(stats: LabelStats) -> str:
    """The pairs of one-class LFs naming different classes that fire together beyond chance (the
    co-firing test, :func:`tripletws.diagnostics.cofiring_pairs`, Bonferroni at 5 %), in words; ""
    where none does."""
    from ..diagnostics import cofiring_pairs

    pairs = cofiring_pairs(stats)
    flagged = np.flatnonzero(pairs.p_adjusted() < 0.05)
    if not flagged.size:
        return ""
    flagged = flagged[np.argsort(-pairs.z[flagged], kind="stable")]
    named = ", ".join(
        f"{pairs.lf_i[t]} and {pairs.lf_j[t]} (z = {pairs.z[t]:.1f})" for t in flagged[:COFIRING_NAMED]
    )
    more = f", ... ({flagged.size} pairs)" if flagged.size > COFIRING_NAMED else ""
    return (
        f"; LFs naming different classes fire together more often than chance, which a shared feature "
        f"does and which this reading may take for the class: {named}{more} "
        "(tripletws.cofiring_candidates lists them)"
    )


def _reading_note(
    reading: CoverageCheck | AbstainCheck, draft: _Draft, rows: RowSummary, stats: LabelStats
) -> str:
    """:data:`READING_NOTE` for an accepted reading, read from the final tables (copies counted once),
    with the one-class LF pairs that fire together beyond chance (``stats``: the fit's statistics)."""
    if isinstance(reading, CoverageCheck):
        what, family = "the abstentions of the LFs that vote one class only", reading.fit.family
        evidence = f"they show no group beyond the classes (background z = {reading.z:.1f})"
        untold = balance_note(reading)
        if untold:
            evidence += f"; {untold}"
    else:
        what, family = "every LF's abstentions", reading.family
        evidence = (
            f"it predicts held-out rows better than the vote-only fit by {reading.lead:.4f} +- "
            f"{reading.lead_se:.4f} log-likelihood per row and shows no group beyond the classes "
            f"(background z = {reading.z:.1f})"
        )
    empty = _unvoted_rows(draft.params, rows, stats, draft.source) + _cofiring_clause(stats)
    return READING_NOTE.format(what=what, family=family, balance=draft.source, evidence=evidence, empty=empty)


#: The clause :func:`_unvoted_rows` adds where the rows without a vote go to a class that no LF votes for
#: (with :data:`UNNAMED_TARGET_ADVICE` where the balance was not given).
UNNAMED_TARGET_CLAUSE = (
    "; no LF votes class {c}, so how many rows it has rests on the {balance} class balance, which no "
    "vote speaks for"
)
UNNAMED_TARGET_ADVICE = (
    ": where class {c} is rarer than that balance makes it, give class_balance= (the known frequencies) or "
    "a few gold rows"
)


#: The clause :func:`_unvoted_rows` adds where the rows without a vote go to a class that LFs vote for and
#: the balance the fit found (not one the user gave) makes that class commoner than the votes do: the
#: class of those rows then rests on that balance (on real LF subsets the bet on them is the default's
#: whole gain over majority vote and most of its losses to it; docs/studies.md, sessions 52 and 53).
BALANCE_BET_CLAUSE = (
    "; the {balance} class balance ({how}) makes class {c} {prior:.0%} of the rows, where the votes' "
    "majority names it on {voted:.0%} of the rows with a vote: the class these rows get rests on that "
    "balance, and where class {c} is rarer than that, give class_balance= (the known frequencies) or a few "
    "gold rows"
)
#: How each found balance came about, in :data:`BALANCE_BET_CLAUSE`.
BALANCE_HOW = {
    "uniform": "assumed: the rows do not settle one",
    "estimated": "read from how the LFs fire together, were they independent given the class",
}


#: Said where no reading of abstentions is used, the class balance was left to the fit (``"auto"``: not
#: given, not set to ``"uniform"`` or ``"estimate"``), and the rows without a vote stay tied (majority
#: vote's coin) on at least ``BALANCE_NOTE_SHARE`` of the fitted rows: the fit learned nothing about
#: them, and which class is commoner, which the user may know, decides them. On
#: real-LF subsets a balance with only the classes' order right, given as ``0.1 p + 0.9 u``, was worth
#: +13 points over majority vote and the exact one +16; the two frequencies swapped cost -17
#: (``benchmarks/rough_balance.py``; docs/workflow.md, section 5).
COIN_NOTE = (
    "{empty} (majority vote's coin: the fit learned nothing about these rows): which of these classes is "
    "the commonest decides them, and no vote speaks for it; if you know, give class_balance= (a rough "
    "balance in the right order is enough, a wrong order costs as much) or a few gold rows"
)


#: Said where the class balance was estimated as asked (``class_balance="estimate"``), LFs that vote one
#: class only cast most of the votes, and no reading of their abstentions is used: with abstentions read
#: as "not assigned" their votes identify neither their accuracies (they share majority vote's) nor the
#: balance, which then rests on that shared accuracy alone.  Found in session 57: tubespam_rdp's LFs 1 and
#: 3-9 with ``one_class="shared"`` gave class 1 0.4 % (51 % of the evaluation rows) and accuracy 0.487
#: against majority vote's 0.753, with no word on the balance.  On the shared LF sets with
#: ``class_balance="estimate"`` it is said on cdr_metal, semeval, sms, spouse_rdp and trec (trec's estimate
#: puts class 0 at 85 %, 28 % by gold; spouse_rdp's at 51 %, 93 % by gold; sms's at 91 %, 87 %).
ESTIMATE_UNIDENTIFIED_NOTE = (
    "the class balance was estimated as asked ({balance}), but LFs that vote one class only cast most of "
    "the votes and their abstentions are not read, so their votes do not identify it: it rests on the "
    "accuracy they are given, majority vote's shared one (the votes' majority gives {votes} of the rows "
    "with a vote); give class_balance= if you know it (a rough one in the right order helps) or a few "
    "gold rows"
)


def _estimate_unidentified_note(params: LabelModelParams, rows: RowSummary) -> str:
    """:data:`ESTIMATE_UNIDENTIFIED_NOTE` with the fit's balance and the votes' majority shares (the
    rows hold votes: one-class LFs cast most of them)."""
    _, voted, _, _ = _empty_rows(params, rows)
    balance = ", ".join(f"class {c} {float(p):.1%}" for c, p in enumerate(params.class_balance))
    votes = ", ".join(f"class {c} {float(v):.1%}" for c, v in enumerate(_voted_shares(rows, voted)))
    return ESTIMATE_UNIDENTIFIED_NOTE.format(balance=balance, votes=votes)


def _empty_rows(
    params: LabelModelParams, rows: RowSummary
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """The rows without a vote under ``params``: their share of the counted rows, which distinct rows
    have a vote (bool (R,)), the classes a row without a vote ties between at the top (one where it
    has a class), and its log-scores (k,), up to a constant."""
    w = np.asarray(rows.counts, dtype=np.float64)
    total = float(w.sum())
    r, _, _ = summary_votes(rows)  # the vote lists, not a pass over the (R, m) rows
    voted = np.bincount(r, minlength=len(w)) > 0
    share = float(w[~voted].sum()) / total if total > 0 else 0.0
    top, base = empty_row_top(params)
    return share, voted, top, base


def _tied_rows(share: float, top: np.ndarray) -> str:
    return f"the {share:.1%} of rows without a vote stay tied between classes {top.tolist()}"


def _coin_note(params: LabelModelParams, rows: RowSummary) -> str:
    """:data:`COIN_NOTE` where the rows without a vote tie between classes under ``params`` and are at
    least ``BALANCE_NOTE_SHARE`` of the counted rows, else ``""``."""
    share, _, top, _ = _empty_rows(params, rows)
    if not share >= BALANCE_NOTE_SHARE or top.size < 2:
        return ""
    return COIN_NOTE.format(empty=_tied_rows(share, top))


def _voted_shares(rows: RowSummary, voted: np.ndarray) -> np.ndarray:
    """Each class's share (k,) of the counted rows with a vote (``voted``, bool (R,)) under majority
    vote, ties shared evenly (the family choice's majority soft labels, kept with the summary)."""
    w = np.asarray(rows.counts, dtype=np.float64)[voted]
    return w @ summary_majority(rows, rows.cardinality)[voted] / w.sum()


def _unvoted_rows(params: LabelModelParams, rows: RowSummary, stats: LabelStats, balance: str) -> str:
    """What the fit does with the rows where no LF votes, in words (their share of the counted rows),
    with :data:`UNNAMED_TARGET_CLAUSE` where their class is one that no LF votes for on the fitted rows
    (``stats``' vote counts, as test (f) reads them; ``balance``: the source of the fit's class balance,
    as ``_Draft.source``), and :data:`BALANCE_BET_CLAUSE` where LFs vote for it but the fit's balance
    (uniform or estimated) makes it commoner than the votes' majority does on the rows with a vote."""
    share, voted, top, base = _empty_rows(params, rows)
    if share <= 0:
        return "every row has a vote"
    if top.size > 1:
        return _tied_rows(share, top)
    c = int(top[0])
    prob = float(np.exp(base[c] - base.max()) / np.exp(base - base.max()).sum())
    text = (
        f"the {share:.1%} of rows without a vote go to class {c} (posterior {prob:.3f}), where "
        "majority vote leaves them to a coin"
    )
    found = balance in ("uniform", "estimated")  # not one the user gave (class_balance=, Y_dev)
    if not stats.class_counts[:, c].sum() > 0:
        text += UNNAMED_TARGET_CLAUSE.format(c=c, balance=balance)
        if found:
            text += UNNAMED_TARGET_ADVICE.format(c=c)
    elif found:
        prior = float(params.class_balance[c])
        named = float(_voted_shares(rows, voted)[c])
        if prior > named:
            how = BALANCE_HOW[balance]
            text += BALANCE_BET_CLAUSE.format(balance=balance, how=how, c=c, prior=prior, voted=named)
    return text


@dataclass(frozen=True)
class AnnotatorEstimate:
    """What the annotator fit found.

    Attributes
    ----------
    family : str
        The family fitted (``"mv"``, ``"one_coin"`` or ``"mace"``).
    selection : Selection
        The held-out log-likelihood per row of every candidate.
    unidentified : ndarray of int
        LFs whose parameters the rows do not identify (all LFs when ``family == "mv"``).
    log_likelihood : float
        Mean log-likelihood per row of the fitted rows.
    n_steps : int
        EM steps of the final fit.
    dev_choice : dict, optional
        With a labelled dev set: ``{"chosen", "dev_accuracy", "n_dev"}`` (:mod:`tripletws.dev_choice`).
    one_class : CoverageCheck, optional
        With LFs that vote one class only: whether their class-dependent coverage was used
        (then the parameters are the ``"mace_coverage"`` fit's) and why
        (:func:`tripletws.estimators.coverage_check.coverage_check`).
    tie_break : LabelModelParams, optional
        Where some fitted rows with votes tie between classes: the fit that breaks such ties at
        prediction (``"ds_abstain"``, :mod:`tripletws.ties`).
    shrinkage : Shrinkage, optional
        Where the fit is not majority vote's: how much of its departure from majority vote's model
        it keeps (James-Stein against a bootstrap of the rows, :mod:`tripletws.estimators.shrinkage`).
    voted_guard : VotedGuard, optional
        With a reading of abstentions under a class balance fixed before the fit (or estimated by the
        reading, under a stricter test), where some class's LFs fire together less often than the fit
        expects: what keeps rows among their voted classes at prediction (:mod:`tripletws.voted_guard`).
    """

    family: str
    selection: Selection
    unidentified: np.ndarray
    log_likelihood: float
    n_steps: int
    dev_choice: dict[str, Any] | None = None
    one_class: CoverageCheck | None = None
    copies: Copies | None = None
    abstain: AbstainCheck | None = None
    mixture: Mixture | None = None
    tie_break: LabelModelParams | None = None
    shrinkage: Shrinkage | None = None
    voted_guard: VotedGuard | None = None


@dataclass(frozen=True)
class Mixture:
    """The vote-only families combined (``LabelModel(combine=...)``): prediction uses their mixture.

    Attributes
    ----------
    families : tuple of str
    weights : ndarray, shape (F,)
        Non-negative, summing to 1 (:func:`tripletws.estimators.family_weights.combine_weights`).
    components : tuple of LabelModelParams
        Each family's fit on all rows, with the same tables for one-class, lonely and copied LFs
        as the chosen family's (``P(Y | votes)`` proportional to ``sum_f w_f P_f(votes, Y)``,
        :func:`tripletws.inference.mixture_posterior`).
    """

    families: tuple[str, ...]
    weights: np.ndarray
    components: tuple[LabelModelParams, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "families": list(self.families),
            "weights": [float(w) for w in self.weights],
            "class_balance": [p.class_balance.tolist() for p in self.components],
            "cond_probs": [p.cond_probs.tolist() for p in self.components],
        }

    @classmethod
    def from_dict(cls, d: Any, m: int, k: int) -> Mixture:
        """Inverse of :meth:`to_dict`, every field checked against m LFs and k classes: the families
        by name, the weights, and each component's tables as probabilities
        (:meth:`LabelModelParams.from_dict`)."""
        name = "estimate.mixture"
        d = check_mapping(d, name, ("families", "weights", "class_balance", "cond_probs"))
        lists = [d[key] for key in ("families", "class_balance", "cond_probs")]
        if not all(isinstance(v, list) for v in lists) or len({len(v) for v in lists}) != 1 or not lists[0]:
            raise ValueError(f"{name}: families, weights and tables must be lists of one length (>= 1)")
        families = tuple(check_str(f, f"{name}.families entry", FAMILIES) for f in d["families"])
        weights = decode_array(d["weights"], f"{name}.weights", shape=(len(families),))
        if np.any(weights < 0) or not np.isclose(weights.sum(), 1.0):
            raise ValueError(f"{name}.weights must be non-negative and sum to 1")
        comps = []
        for i, (p, t) in enumerate(zip(d["class_balance"], d["cond_probs"], strict=True)):
            try:
                params = LabelModelParams.from_dict({"class_balance": p, "cond_probs": t})
            except ValueError as exc:
                raise ValueError(f"{name} component {i} ({families[i]}): {exc}") from exc
            if params.n_lfs != m or params.cardinality != k:
                raise ValueError(f"{name}: tables must have shape ({m}, {k + 1}, {k})")
            comps.append(params)
        return cls(families, weights, tuple(comps))


def one_class_note(
    unipolar: np.ndarray, classes: np.ndarray, shared: float, reason: str, limit: int = 10
) -> str:
    """The warning for LFs that vote one class only: which LFs, the class each votes, why, and what helps."""
    named = ", ".join(
        f"{int(i)} (class {int(c)})" for i, c in zip(unipolar[:limit], classes[:limit], strict=True)
    )
    if len(unipolar) > limit:
        named += f", ... ({len(unipolar)} in all)"
    return (
        f"LF(s) {named} vote one class only: with abstentions read as 'not assigned' their votes do "
        "not identify their accuracy, so they get the accuracy majority vote's model shares among all "
        f"LFs ({shared:.3f}). Their only other signal, when they vote (class-dependent coverage), is "
        f"not used: {reason} (docs/models.md). A few gold rows can judge it: fit(L, L_dev=..., Y_dev=...)"
    )


def lf_votes(rows: RowSummary) -> np.ndarray:
    """Votes each LF casts in the rows, counts weighted, shape (m,)."""
    r, i, _ = summary_votes(rows)  # from the votes' cells: no (R, m) float temporary
    return np.bincount(i, weights=rows.counts[r].astype(np.float64), minlength=rows.n_lfs)


def one_class_share(rows: RowSummary, lfs: np.ndarray) -> float:
    """Share of all votes in the rows cast by ``lfs``."""
    votes = lf_votes(rows)
    return float(votes[lfs].sum() / votes.sum()) if votes.sum() > 0 else 0.0


def with_symmetric_tables(
    params: LabelModelParams, lfs: np.ndarray, coverage: np.ndarray
) -> LabelModelParams:
    """Give ``lfs`` the symmetric table at the vote-weighted mean accuracy of the other LFs (with no
    other LF that votes, :data:`~tripletws.estimators.symmetric.DEFAULT_ACCURACY`).

    An LF among them that never voted on the fitted rows gets it too (``SILENT_FILL = "mean"``):
    its table votes with the coverage :data:`SILENT_COVERAGE`, so that a vote it casts on other
    rows weighs as a vote at that accuracy (the coverage cancels from the posterior) and its
    abstentions say nothing; ``"neutral"`` leaves it the coverage 0, where a vote weighs nothing.
    """
    m = params.n_lfs
    rest = np.setdiff1d(np.arange(m), lfs)
    w = coverage[rest]
    # with no other LF: the symmetric model's accuracy for LFs it cannot estimate when none can be
    mean = DEFAULT_ACCURACY
    if rest.size and w.sum() > 0:
        mean = float(np.average(params.accuracies[rest], weights=w))
    coverage = np.asarray(coverage, dtype=np.float64)
    if SILENT_FILL == "mean":  # read at call time (a study option)
        coverage = np.where(coverage > 0, coverage, SILENT_COVERAGE)
    elif SILENT_FILL != "neutral":
        raise ValueError(f"SILENT_FILL must be 'mean' or 'neutral', not {SILENT_FILL!r}")
    sym = LabelModelParams.symmetric(np.full(m, mean), coverage, params.class_balance)
    cp = params.cond_probs.copy()
    cp[lfs] = sym.cond_probs[lfs]
    return LabelModelParams(params.class_balance, cp)


def _scores(scores: dict[str, float]) -> str:
    if not any(np.isfinite(v) for v in scores.values()):
        return "none: no row could be held out"
    return ", ".join(f"{f} {v:.4f}" for f, v in scores.items())


@register
class Annotator(Solver):
    name = "annotator"
    summary = "an LF knows the class or votes from its own distribution (MACE), chosen by held-out likelihood"
    auto_prior = "uniform"
    estimate_attributes = {  # noqa: RUF012 (read only)
        "selection": None,
        "unidentified": np.zeros(0, dtype=np.int64),
        "dev_choice": None,
        "one_class": None,
        "copies": None,
        "abstain": None,
        "tie_break": None,
        "shrinkage": None,
    }

    def needs(self, options: Options, n_lfs: int) -> Needs:
        return Needs(rows=ANNOTATOR_MAX_ROWS if options.em_max_rows is None else int(options.em_max_rows))

    # Over 60 lines: which step runs, in order (each a function below, amending one _Draft), and the
    # assembly of the Fit; the steps themselves are the module-level functions after the class.
    def solve(self, stats: LabelStats, prior: Prior, rows: RowSummary | None, options: Options) -> Fit:
        """One solve, its steps in order (module docstring; docs/models.md): the family choice,
        the class balance, the readings of one-class coverage and of abstentions, what the rows do
        not identify, the mixture (a study option), and copies counted once.  The steps share the
        designs of large summaries (:func:`~tripletws.estimators.annotator_design.shared_designs`), and
        the solves of one call (again after test (f), and the voted guard's of the votes alone) share
        the family choice (:func:`_choose_family_once`)."""
        choices: _Choices = {}
        with shared_designs():
            fit = self._solve(stats, prior, rows, options, choices=choices)
            refused = _unnamed_empty(fit, stats)
            if refused is not None:
                fit = self._solve(stats, prior, rows, options, refused, choices=choices)
            return self._guard_votes(fit, stats, prior, rows, options, choices)

    def _guard_votes(
        self,
        fit: Fit,
        stats: LabelStats,
        prior: Prior,
        rows: RowSummary | None,
        options: Options,
        choices: _Choices | None = None,
    ) -> Fit:
        """``fit`` with its :class:`~tripletws.voted_guard.VotedGuard` where one applies: a class
        balance source in :data:`VOTED_GUARD_SOURCES`, a reading of abstentions, and a class whose
        one-class LFs fire together less often than the fit expects (the strict test where the balance
        was estimated: :data:`tripletws.estimators.kinds.STRICT_SOURCES`); the model of the votes and
        the balance alone is the solve with ``one_class="shared"`` under the same prior."""
        estimate = fit.estimate
        known = fit.class_balance_source in VOTED_GUARD_SOURCES  # read at call time (a study switch)
        if not (VOTED_GUARD and known and rows is not None and options.one_class == "coverage"):
            return fit
        if not isinstance(estimate, AnnotatorEstimate) or estimate.mixture is not None:
            return fit
        if not any(check is not None and check.accepted for check in (estimate.one_class, estimate.abstain)):
            return fit
        strict = fit.class_balance_source in _kinds.STRICT_SOURCES  # read at call time (a study option)
        classes = kinds_classes(rows, fit.params, one_class_labels(stats), strict=strict)
        if not classes.any():
            return fit
        shared = replace(options, one_class="shared")
        votes_only = self._solve(stats, prior, rows, shared, choices=choices).params
        if votes_only.has_dependencies:
            return fit
        named = np.flatnonzero(classes).tolist()
        note = VOTED_GUARD_NOTE.format(classes=named, source=fit.class_balance_source)
        guard = VotedGuard(classes, votes_only)
        return replace(fit, estimate=replace(estimate, voted_guard=guard), notes=(*fit.notes, note))

    def _solve(
        self,
        stats: LabelStats,
        prior: Prior,
        rows: RowSummary | None,
        options: Options,
        refused: AbstainCheck | None = None,
        choices: _Choices | None = None,
    ) -> Fit:
        if len(options.dependencies) > 0 or rows is None or float(rows.counts.sum()) <= 0:
            return _symmetric_fallback(self.name, stats, prior, rows, options)
        given, source = _given_balance(prior, stats.cardinality)
        unvoted = np.flatnonzero(stats.class_counts.sum(axis=0) == 0)
        selection, copies, plain, folds = _choose_family_once(rows, given, options, choices)
        unipolar, classes = one_class_votes(rows)
        # one-class LFs carrying most of the votes (read by the balance and coverage checks; once)
        one_class_most = bool(unipolar.size) and one_class_share(rows, unipolar) >= 0.5
        balance = None
        unsettled = ""  # the note of a fallback to majority vote's family (_settle_balance)
        if prior.source == "auto" and selection.chosen != "mv" and not one_class_most:
            # the uniform prior stands unless the clear rows say otherwise (estimators.balance_check)
            selection, balance = _balance_step(plain, rows, selection, copies, options)
            if balance.accepted:
                source = "estimated"
            else:  # a balance the rows do not settle, deciding many labels: majority vote's family
                selection, unsettled = _settle_balance(plain, selection, balance)
        assert selection.fit is not None
        silent_fill = "the vote-weighted mean accuracy of the others"
        if SILENT_FILL == "neutral":
            silent_fill = "a neutral weight"
        all_silent = (
            "every LF gets the same accuracy: the predictions rank the classes as majority vote's counts "
            "do (rows without votes: the class prior)"
        )
        draft = _Draft(selection.fit.params, source, silent_lfs(stats, silent_fill, all_silent), unipolar)
        # (k = 2 with LFs of one class: the other class is what their abstentions mark, the one-class
        # reading's own case, not a class to leave out)
        if unvoted.size and unvoted.size < stats.cardinality and stats.cardinality > 2:
            draft.notes.append(_unvoted_note(unvoted, given is not None and not prior.fixed))
        if SOFTDEP != "off" and (selection.chosen != "mv" or SOFTDEP_ON_MV):
            draft.params, draft.softdep = _softdep_refit(plain, selection, draft.params, given)
        check = None
        shown = True  # whether the LFs' firing depends on anything (read where one-class LFs cast most votes)
        if one_class_most and options.one_class == "coverage":
            if COFIRING_SCREEN:
                screen = cofiring_screen(plain)
                shown = screen.supported
                if not shown:  # neither reading has anything to read: the check's record says why
                    check = CoverageCheck(False, screen.reason())
            if shown:
                check = _read_coverage(draft, plain, selection, folds, prior, given)
        coverage_read = check is not None and check.accepted
        informative = None
        if refused is not None:  # the reading's final fit failed test (f): solved again without it
            informative = refused
            draft.notes.append(UNNAMED_CLASS_NOTE.format(reason=refused.reason))
        elif options.one_class == "coverage" and not coverage_read and shown:
            informative = _read_abstentions(draft, plain, selection, folds, prior, given)
        informative_read = informative is not None and informative.accepted
        if balance is not None and balance.accepted and not informative_read:
            draft.notes.append(f"the class balance was estimated with the LFs' tables: {balance.reason}")
        read = coverage_read or informative_read
        if unsettled:
            advice = unsettled.index(UNSETTLED_ADVICE)  # the reading's clause before the advice
            draft.notes.append(unsettled[:advice] + (UNSETTLED_READ if read else "") + unsettled[advice:])
        elif balance is not None and not balance.accepted and not read and not UNSETTLED_FALLBACK:
            kept = _kept_balance_note(plain, selection, balance)
            if kept:
                draft.notes.append(kept)
        lonely = lfs_without_overlap(rows)  # LFs without a co-voting LF (read by the fallbacks and the pool)
        unidentified = _name_unidentified(
            draft,
            stats,
            rows,
            selection,
            read,
            check,
            classes,
            options,
            given,
            copies,
            lonely,
            unsettled != "",
        )
        mixture = None
        if options.combine != "none" and not read and selection.scores is not None:
            selection, mixture = _mixture(draft, stats, rows, selection, options, given, copies)
        if coverage_read:
            family = check.fit.family
        elif informative_read:
            family = informative.family
        else:
            family = selection.chosen
        shrinkage = None
        fit_prior = draft.params.class_balance  # the pool moves the tables' normalisers into the prior
        if (
            mixture is None
            and draft.softdep is None
            and family != "mv"
            and unidentified.size < stats.n_lfs
            and _shrink.SHRINK != "off"
        ):
            shrinkage = _shrink_toward_mv(draft, plain, selection, family, stats, unidentified, lonely, prior)
        named = one_class_labels(stats)  # the class each LF votes where it votes one class only, else -1
        if unidentified.size < stats.n_lfs:
            _worse_than_chance_note(draft, stats, unidentified, copies, named)
        if copies is not None:  # each group counted once (tripletws.estimators.copies)
            draft.params, copies, unidentified = count_tables(rows, draft.params, copies, unidentified)
            draft.notes.append(copies_note(copies))
        if draft.softdep is not None and mixture is None:
            _temper(draft)
        if NAMED_VOTES and (named >= 0).any():  # a one-class LF's vote never counts against its class
            draft.params = replace(draft.params, one_class=named)
        tie_break = (
            None if mixture is not None else _tie_break(draft, rows, prior, named, stats, options.one_class)
        )
        estimate = AnnotatorEstimate(
            selection.chosen,
            selection,
            unidentified,
            selection.fit.log_likelihood,
            selection.fit.n_steps,
            one_class=check,
            copies=copies,
            abstain=informative,
            mixture=mixture,
            tie_break=tie_break,
            shrinkage=shrinkage,
        )
        diagnostics = {"fallback": "", "family": family, "em_steps_run": selection.fit.n_steps}
        if coverage_read or (informative_read and family != "ds_abstain"):  # ("ds_abstain": its own note)
            draft.notes.append(_reading_note(check if coverage_read else informative, draft, rows, stats))
        if not read and prior.source == "auto":  # the balance left to the fit (not given, not set)
            coin = _coin_note(draft.params, rows)
            if coin:
                draft.notes.append(coin)
        if not read and prior.source == "estimate" and one_class_most:
            draft.notes.append(_estimate_unidentified_note(draft.params, rows))
        sample = _sample_note(rows, stats)
        if sample:
            draft.notes.append(sample)
        params = draft.params
        # how far the fit strays from the LFs' majority (the class-conditional model's diagnostic too)
        diagnostics["overrule_rate"] = overrule_rate(rows, params, options.chunk_size)
        if diagnostics["overrule_rate"] > OVERRULE_NOTE:
            draft.notes.append(_overrule_note(diagnostics["overrule_rate"], draft.source, given, stats))
        shrunk = shrinkage is not None and shrinkage.lam < 1.0
        return Fit(
            self.name,
            params,
            fit_prior.copy() if shrunk else params.class_balance,
            draft.source,
            estimate,
            diagnostics=diagnostics,
            notes=tuple(draft.notes),
        )

    accepts_dev_set = True
    #: A stream re-solves at geometrically spaced sizes (tripletws.online): a solve's EM and gold-free
    #: choices over up to 20 000 distinct rows cost 100-500 ms against a 1000-row batch's 1-4 ms
    stream_growth = STREAM_GROWTH

    def choose_with_dev(
        self,
        solution: Fit,
        rows: RowSummary | None,
        dev: Any,
        y_dev: Any,
        chunk_size: int | None = None,
        options: Options | None = None,
    ) -> Fit:
        from ..dev_choice import with_dev_choice

        rule = (options or Options()).dev_rule
        return with_dev_choice(
            solution, rows, dev, y_dev, chunk_size, lead_se=None if rule == "any" else rule
        )

    def estimate_to_dict(self, estimate: Any) -> dict[str, Any]:
        if not isinstance(estimate, AnnotatorEstimate):  # the symmetric fallback's estimate
            return {"symmetric": get_solver("symmetric").estimate_to_dict(estimate)}
        return {
            "family": estimate.family,
            "selection": estimate.selection.to_dict(),
            "unidentified": estimate.unidentified.tolist(),
            "log_likelihood": float(estimate.log_likelihood),
            "n_steps": int(estimate.n_steps),
            "dev_choice": estimate.dev_choice,
            "one_class": None if estimate.one_class is None else estimate.one_class.to_dict(),
            "copies": None if estimate.copies is None else estimate.copies.to_dict(),
            "abstain": None if estimate.abstain is None else estimate.abstain.to_dict(),
            **({} if estimate.mixture is None else {"mixture": estimate.mixture.to_dict()}),
            **({} if estimate.tie_break is None else {"tie_break": estimate.tie_break.to_dict()}),
            **({} if estimate.shrinkage is None else {"shrinkage": estimate.shrinkage.to_dict()}),
            **({} if estimate.voted_guard is None else {"voted_guard": estimate.voted_guard.to_dict()}),
        }

    def estimate_from_dict(self, d: Any, params: LabelModelParams) -> Any:
        if isinstance(d, dict) and "symmetric" in d:  # the symmetric fallback's estimate
            d = check_mapping(d, "estimate", ("symmetric",))
            return get_solver("symmetric").estimate_from_dict(d["symmetric"], params)
        d = check_mapping(
            d,
            "estimate",
            ("family", "selection", "unidentified", "log_likelihood", "n_steps"),
            _OPTIONAL_ESTIMATE,
        )
        selection = Selection.from_dict(d["selection"])
        m, k = params.n_lfs, params.cardinality
        unidentified = decode_array(d["unidentified"], "estimate.unidentified", kind="i", ndim=1)
        ll = check_float(d["log_likelihood"], "estimate.log_likelihood", -1e300, 1e300)
        n_steps = check_int(d["n_steps"], "estimate.n_steps", 0, 10**9)
        if unidentified.size and (unidentified.min() < 0 or unidentified.max() >= m):
            raise ValueError(f"estimate.unidentified must hold LF indices in 0..{m - 1}")
        if str(d["family"]) != selection.chosen:
            raise ValueError("estimate.family disagrees with estimate.selection.chosen")
        one_class = d.get("one_class")
        copies = d.get("copies")
        return AnnotatorEstimate(
            selection.chosen,
            selection,
            unidentified,
            ll,
            n_steps,
            dev_choice_from_dict(d.get("dev_choice")),
            None if one_class is None else CoverageCheck.from_dict(one_class),
            None if copies is None else Copies.from_dict(copies, m),
            None if d.get("abstain") is None else AbstainCheck.from_dict(d["abstain"]),
            None if d.get("mixture") is None else Mixture.from_dict(d["mixture"], m, k),
            None if d.get("tie_break") is None else _tables_from_dict(d["tie_break"], m, k),
            None if d.get("shrinkage") is None else Shrinkage.from_dict(d["shrinkage"]),
            None if d.get("voted_guard") is None else VotedGuard.from_dict(d["voted_guard"], m, k),
        )


#: The optional records of an annotator estimate in a model file.
_OPTIONAL_ESTIMATE = (
    "dev_choice",
    "one_class",
    "copies",
    "abstain",
    "mixture",
    "tie_break",
    "shrinkage",
    "voted_guard",
)


@dataclass
class _Draft:
    """The fit one solve builds: each step after the family choice reads it and may amend it.

    Attributes
    ----------
    params : LabelModelParams
        The tables so far (the chosen family's, then a reading's).
    source : str
        Where the class balance came from (``Fit.prior_source``).
    notes : list of str
        The solve's notes so far.
    unipolar : ndarray of int
        LFs that vote one class only and whose coverage no reading has used (emptied by a reading).
    softdep : SoftDependence, optional
        Weights of partly dependent LFs (the ``SOFTDEP`` study option).
    """

    params: LabelModelParams
    source: str
    notes: list[str]
    unipolar: np.ndarray
    softdep: SoftDependence | None = None


#: Votes the median voting LF casts in a hash sample of the rows below which a note says so.
SAMPLE_NOTE_VOTES = 100


def _sample_note(rows: RowSummary, stats: LabelStats) -> str:
    """A note where the row cap left the median voting LF fewer than ``SAMPLE_NOTE_VOTES`` of its votes
    (a large crowd: nearly every row distinct, each annotator on few of them), else ""."""
    if rows.sample_rate >= 1.0:
        return ""
    kept = lf_votes(rows)
    total = stats.class_counts.sum(axis=1)
    voting = total > 0
    if not voting.any() or float(np.median(kept[voting])) >= SAMPLE_NOTE_VOTES:
        return ""
    return (
        f"L has more than {rows.max_rows} distinct rows: the model was fitted on a hash sample of "
        f"{rows.sample_rate:.3g} of them ({rows.n_unique} distinct rows), in which the median LF casts "
        f"{np.median(kept[voting]):.0f} of its {np.median(total[voting]):.0f} votes. "
        "em_max_rows= (tripletws aggregate --max-rows) raises the cap (time and memory grow with it; "
        "docs/crowd.md)"
    )


def _symmetric_fallback(
    name: str, stats: LabelStats, prior: Prior, rows: RowSummary | None, options: Options
) -> Fit:
    """Declared dependencies, or no rows (``fit_stats``): the symmetric model's solve, saying so."""
    deps = len(options.dependencies) > 0
    fit = get_solver("symmetric").solve(stats, prior, rows, options)
    note = dependency_note(options.dependencies, name) if deps else NO_ROWS_NOTE
    diagnostics = {"fallback": note, "family": "", "em_steps_run": 0}
    notes = fit.notes + ((note,) if deps else ())
    return replace(fit, model=name, diagnostics=diagnostics, notes=notes)


def _overrule_note(rate: float, source: str, given: np.ndarray | None, stats: LabelStats) -> str:
    """The warning for a fit that goes against most strict majorities of the LFs (:data:`OVERRULE_NOTE`).

    Where the class balance was given (``class_balance=`` or ``Y_dev``'s frequencies), it names that
    balance beside the class shares of the votes: a balance in another class order, or one the votes
    contradict, turns the latent class against the LFs (every LF then fits worse than chance).
    """
    text = (
        f"the fit names another class than the LFs' strict majority on {rate:.0%} of the fitted rows that "
        "have one: its classes read most votes against the class they name"
    )
    votes = stats.class_counts.sum(axis=0)
    if source in ("given", "Y_dev") and given is not None and votes.sum() > 0:
        shares = ", ".join(f"{v:.3f}" for v in votes / votes.sum())
        balance = ", ".join(f"{v:.3f}" for v in given)
        named = "class_balance given to fit" if source == "given" else "class balance of Y_dev's labels"
        return (
            f"{text}. It was fitted with the {named}, [{balance}], against the votes' class shares "
            f"[{shares}]: a balance listed in another class order, or one the votes contradict, does this. "
            "Check the order of the classes, or let the model estimate the balance (class_balance='auto', "
            "the default)"
        )
    return (
        f"{text}. That is right where most votes are wrong (LFs that fire on the other classes' rows more "
        "than on their own, as under a strong class imbalance) and wrong where the latent class has "
        "become something else (LFs that copy each other or share a feature: "
        "tripletws.dependency_candidates, tripletws.cofiring_candidates); a few gold rows tell the two "
        "apart: fit(L, L_dev=..., Y_dev=...)"
    )


def _given_balance(prior: Prior, k: int) -> tuple[np.ndarray | None, str]:
    """The prior the families are fitted with (None: estimated) and its source's name."""
    if prior.fixed:
        return prior.value, prior.source
    if prior.source == "estimate":
        return None, "estimated"
    return np.full(k, 1.0 / k), "uniform"


def _unvoted_note(unvoted: np.ndarray, uniform: bool) -> str:
    """What the fit says about classes no LF votes (under the default uniform balance, or another).

    Under the uniform balance such a class keeps its share of the rows, and the likeliest vote-only
    fit may explain that share by LFs that seldom know the class (accuracies near 1 / k, posteriors
    near uniform where the class does not occur).  Spreading the balance over the voted classes
    instead lost 1 to 2 points against majority vote on the 4 development stress problems with a
    class no LF votes (docs/studies.md, "What did not work"), where the class occurs: so the fit is
    kept and the note says what to do where it does not.
    """
    if not uniform:
        return (
            f"no LF votes class(es) {unvoted.tolist()} on the fitted rows: only the class balance and the "
            "LFs' abstentions speak for them"
        )
    return (
        f"no LF votes class(es) {unvoted.tolist()} on the fitted rows: under the uniform class balance they "
        "keep their share of the rows, which no vote supports (the fitted accuracies and probabilities "
        "then rest on that share); if these classes do not occur, fit without them (a smaller "
        "cardinality, classes renumbered), else give class_balance="
    )


def _choose_family(
    rows: RowSummary, given: np.ndarray | None, options: Options
) -> tuple[Selection, Copies | None, RowSummary, np.ndarray]:
    """The held-out family choice: the selection, the copies found, the rows it was made on (each
    copy group counted once: ``plain``) and their one deal into folds (shared by the checks)."""
    if options.copies == "once":  # LFs that copy each other's outcomes, counted once
        return select_counting_once(rows, CANDIDATES, given, FOLD_SEED, N_FOLDS)
    k = rows.cardinality
    folds = deal_counts(rows.rows, rows.counts, k, N_FOLDS, FOLD_SEED, summary_votes(rows))
    selection = select_family(
        rows, CANDIDATES, n_folds=N_FOLDS, class_balance=given, random_state=FOLD_SEED, folds=folds
    )
    return selection, None, rows, folds


#: The family choices of one solve (:func:`_choose_family_once`), by class balance and copies setting.
_Choices = dict[tuple[bytes | None, str], tuple[Selection, Copies | None, RowSummary, np.ndarray]]


def _choose_family_once(
    rows: RowSummary, given: np.ndarray | None, options: Options, choices: _Choices | None
) -> tuple[Selection, Copies | None, RowSummary, np.ndarray]:
    """:func:`_choose_family`, made once per solve where ``choices`` keeps it.

    The voted guard's solve of the votes alone and the solve again after test (f) choose on the same rows
    with the same balance and copies setting as the first solve: the choice depends on nothing else, so
    they reuse the first one (youtube's and tubespam_rdp's fits 1.8 ms each).  Each solve gets its own
    copy of the selection and of the copies found, so that no step of one solve can change another's
    (the rows counted once and the folds are only read).
    """
    if choices is None:
        return _choose_family(rows, given, options)
    key = (None if given is None else np.asarray(given, dtype=np.float64).tobytes(), options.copies)
    if key not in choices:
        choices[key] = _choose_family(rows, given, options)
    selection, copies, plain, folds = choices[key]
    return copy.deepcopy(selection), copy.deepcopy(copies), plain, folds


def _balance_step(
    plain: RowSummary, rows: RowSummary, selection: Selection, copies: Copies | None, options: Options
) -> tuple[Selection, BalanceCheck]:
    """The balance check on the chosen family; where it passes, its fit replaces the chosen one."""
    balance = balance_check(plain, selection, crowd=options.balance_rule == "crowd")
    if balance.accepted:
        assert balance.fit is not None
        est = balance.fit
        if copies is not None:
            est = replace(est, params=copy_tables(est.params, rows, copies.members))
        selection = replace(selection, fit=est, fits={**selection.fits, selection.chosen: est})
    return selection, balance


def _settle_balance(plain: RowSummary, selection: Selection, balance: BalanceCheck) -> tuple[Selection, str]:
    """Majority vote's family where the uniform balance, kept without support, decides many labels.

    Where the balance check keeps the uniform prior (the estimated one is not shown better on the
    clear rows) and the chosen family's fits under the two balances (the uniform one before the
    shrinkage toward majority vote's model and the fallback tables; the estimated one the check
    made) each name one class, and different ones, on at least
    :data:`~tripletws.estimators.coverage_check.BALANCE_NOTE_SHARE` of the fitted rows (a row tied
    under either fit is not counted), neither balance is settled by the rows and either would decide
    those labels: the vote-only fit is majority vote's family (``"mv"``, every LF alike under the
    uniform prior, already fitted by the choice), and the returned note says why.  The reading of
    every LF's abstentions is then checked against that family (the coverage reading never follows a
    balance check: where one-class LFs cast most of the votes the check does not run); with more than
    two classes, the rows majority vote's family leaves tied go to the tie-break's second fit
    (:func:`_tie_break`), as after any fit.  With :data:`UNSETTLED_FALLBACK` off, the fit stands and
    only :func:`_kept_balance_note` speaks (where no reading is used).

    Found with the stress suite's variant whose classes are all imbalanced
    (``benchmarks/stress.py --imbalance-all``; docs/studies.md, "A balance the rows do not settle"):
    six conditionally independent LFs of accuracy 0.60-0.69 on classes 80 / 20 scored 0.632 with
    the uniform-prior MACE fit, 0.701 by majority vote.

    Returns
    -------
    (Selection, str)
        The selection (``chosen`` "mv" where it falls back) and the note ("" where it does not).
    """
    if not UNSETTLED_FALLBACK or balance.accepted or balance.fit is None or selection.fit is None:
        return selection, ""
    if selection.chosen == "mv" or "mv" not in selection.fits:
        return selection, ""
    share = prediction_disagreement(plain, selection.fit.params, balance.fit.params, strict=True)
    if not share >= BALANCE_NOTE_SHARE:
        return selection, ""
    estimated = " / ".join(f"{p:.2f}" for p in balance.fit.params.class_balance)
    note = (
        f"{UNSETTLED_BALANCE_NOTE}, which would decide many labels: the balance check kept the uniform one "
        f"({balance.reason}), and the chosen family ({selection.chosen!r}) with an estimated balance "
        f"({estimated}) names another class on {share:.0%} of the fitted rows; so the votes are weighed as "
        f"majority vote weighs them (family 'mv', every LF alike){UNSETTLED_ADVICE}(the known frequencies, "
        "'estimate', or 'uniform' for the uniform-balance fit), or a few gold rows "
        "(fit(L, L_dev=..., Y_dev=...))"
    )
    return replace(selection, chosen="mv", fit=selection.fits["mv"]), note


def _kept_balance_note(plain: RowSummary, selection: Selection, balance: BalanceCheck) -> str:
    """Words on a uniform balance that decides many labels ("" where it decides few).

    Where the balance check keeps the uniform prior, its estimated-prior fit of the chosen family
    (already made) is compared with the same family's uniform-prior fit (before the shrinkage toward
    majority vote's model and the fallback tables of LFs the rows do not identify), on the fitted
    rows: where the two name different classes on at least
    :data:`~tripletws.estimators.coverage_check.BALANCE_NOTE_SHARE` of them, the uniform balance, an
    assumption, decides those labels, and the user is told so with the estimated balance and how to
    give one (the coverage reading's note says the same of its own balance).  The fit does not
    change; a dev choice (gold rows) drops the note.  Found with the stress suite's variant whose classes are
    all imbalanced (``benchmarks/stress.py --imbalance-all``): six conditionally independent LFs of
    accuracy 0.60-0.69 on classes 80 / 20 scored 0.632 under the uniform balance, 0.819 with
    ``class_balance="estimate"`` and 0.701 by majority vote, with no word on the balance.
    """
    if balance.fit is None or selection.fit is None:
        return ""
    share = prediction_disagreement(plain, selection.fit.params, balance.fit.params)
    if not share >= BALANCE_NOTE_SHARE:
        return ""
    estimated = " / ".join(f"{p:.2f}" for p in balance.fit.params.class_balance)
    return (
        f"{KEPT_BALANCE_NOTE} ({balance.reason}); the same family with an estimated balance "
        f"({estimated}) names another class on {share:.0%} of the fitted rows, which the uniform balance "
        "decides: where the classes are not balanced, give class_balance= (the known frequencies, or "
        "'estimate'), or a few gold rows (fit(L, L_dev=..., Y_dev=...))"
    )


def _same_folds(selection: Selection, folds: np.ndarray) -> dict[str, Any]:
    """The choice's folds and held-out scores for a check, where it deals the rows as the choice did."""
    same = CHECK_FOLD_SEED == FOLD_SEED
    return {"folds": folds if same else None, "ref": selection.scores if same else None}


def _read_coverage(
    draft: _Draft,
    plain: RowSummary,
    selection: Selection,
    folds: np.ndarray,
    prior: Prior,
    given: np.ndarray | None,
) -> CoverageCheck:
    """The coverage reading of one-class LFs (they carry most of the votes): where the gold-free
    check passes, its fit replaces the draft's tables (else the choice above stands for the rest:
    crowd annotators seen once are "one-class" by chance)."""
    cov_prior = given if prior.fixed or prior.source == "uniform" else None
    # "auto": the balance is estimated where the held-out likelihood supports it, else uniform;
    # copies found by the choice are counted once here too (blanked but for their representative)
    check = coverage_check(
        plain,
        cov_prior,
        choose_balance=prior.source == "auto",
        chosen=selection.chosen,
        **_same_folds(selection, folds),
    )
    if check.accepted:
        draft.params, draft.softdep = check.fit.params, None
        if SOFTDEP != "off" and SOFTDEP_COVERAGE:
            draft.params, draft.softdep = _softdep_coverage(plain, check, given)
        if cov_prior is None:
            draft.source = "uniform" if check.balance == "uniform" else "estimated"
        draft.unipolar = draft.unipolar[:0]
    return check


def _read_abstentions(
    draft: _Draft,
    plain: RowSummary,
    selection: Selection,
    folds: np.ndarray,
    prior: Prior,
    given: np.ndarray | None,
) -> AbstainCheck:
    """Every LF's abstentions read as informative where five gold-free tests pass
    (:func:`tripletws.estimators.abstain_check.abstain_check`; ``one_class="shared"`` reads them as
    "not assigned" throughout).  The check reads the rows the choice was made on (copies counted
    once, like the balance and coverage checks), on that choice's folds and held-out scores."""
    informative = abstain_check(
        plain,
        selection.chosen,
        given,
        choose_balance=prior.source == "auto" and ABSTAIN_BALANCES != "uniform",
        **_same_folds(selection, folds),
    )
    if informative.accepted and informative.balance == "estimated" and ABSTAIN_BALANCES == "no_estimated":
        informative = replace(informative, accepted=False, reason="estimated balance")
    if informative.accepted:
        draft.params, draft.softdep = informative.fit.params, None
        if informative.balance != "given":
            draft.source = informative.balance
        draft.unipolar = draft.unipolar[:0]
        if informative.family == "ds_abstain":
            kept = _kept_clause(informative)
            draft.notes.append(UNNAMED_NOTE.format(lead=informative.lead, se=informative.lead_se, kept=kept))
    return informative


#: The note of a reading refused by test (f) (:func:`_unnamed_empty`).
UNNAMED_CLASS_NOTE = (
    "the LFs' abstentions were not read as informative, though the abstain check's other tests "
    "accepted the reading: {reason}; the rows without a vote keep the class balance (docs/models.md, "
    '"Rows without a vote and a class no LF names")'
)


def _unnamed_empty(fit: Fit, stats: LabelStats) -> AbstainCheck | None:
    """Test (f) of the abstain check, on the solve's final tables (:data:`tripletws.estimators.
    abstain_check.UNNAMED_EMPTY`): where an accepted reading of abstentions sends the rows without a
    vote to a class no LF votes for on the fitted rows (under the fit's balance or a uniform one), the
    reading's record refused with the reason; else None.  Read on the final tables because the steps
    after the reading (the fallback tables of LFs the rows do not identify, the shrinkage) move the
    class of that row."""
    mode = _abstain_check_module.UNNAMED_EMPTY  # read at call time (a study switch)
    k = stats.cardinality
    check = getattr(fit.estimate, "abstain", None)
    if mode == "off" or (k <= 2 and mode != "all") or check is None or not check.accepted:
        return None
    named = np.flatnonzero(stats.class_counts.sum(axis=0) > 0)
    params = fit.params
    uniform = replace(params, class_balance=np.full(k, 1.0 / k))
    for empty in (empty_row_class(params), empty_row_class(uniform)):
        if empty >= 0 and empty not in named:  # (-1: the row ties)
            reason = (
                f"the fit sends the rows without a vote to class {empty}, for which no LF votes on the "
                "fitted rows (under its balance or a uniform one): how many rows that class has rests on "
                "the balance alone"
            )
            return replace(check, accepted=False, reason=reason, fit=None, kept=())
    return None


def _kept_clause(check: AbstainCheck) -> str:
    """Test (d)'s weakest count for :data:`UNNAMED_NOTE` ("" where the test did not run), with
    :data:`COIN_CLAUSE` where it stands within ``LEAD_SE`` binomial standard errors of half the rows:
    there the classes' names rest on a majority that a coin would give as often."""
    weakest = check.weakest_majority()
    if weakest is None:
        return ""
    margin, kept, rows, z = weakest
    votes = "votes" if margin > 1 else "vote"
    coin = COIN_CLAUSE if z <= _family_choice.LEAD_SE else ""
    return KEPT_CLAUSE.format(kept=kept, rows=rows, margin=margin, votes=votes, z=z, coin=coin)


def _name_unidentified(
    draft: _Draft,
    stats: LabelStats,
    rows: RowSummary,
    selection: Selection,
    read: bool,
    check: CoverageCheck | None,
    classes: np.ndarray,
    options: Options,
    given: np.ndarray | None,
    copies: Copies | None,
    lonely: np.ndarray,
    unsettled: bool = False,
) -> np.ndarray:
    """The LFs whose parameters the rows do not identify, each given its documented fallback table
    and named in a note; returns them (every LF where majority vote's model is chosen and no
    reading was used).  ``lonely``: :func:`~tripletws.estimators.votes.lfs_without_overlap` of ``rows``;
    ``unsettled``: majority vote's family came from :func:`_settle_balance` (whose note says why)."""
    m = stats.n_lfs
    if lonely.size == m and (stats.vote_counts > 0).any():
        # no two LFs vote on one counted row: every model gives each vote the same likelihood
        # whatever its accuracy (one vote per row, cov / k under a uniform prior), so none is
        # identified; the symmetric model's fallback keeps the votes' ranking at a stated confidence
        # (before: EM's drift, 0.99 for majority vote's model, or chance, which dropped every vote)
        draft.params = with_symmetric_tables(draft.params, lonely, stats.coverage)
        draft.notes.append(ALONE_NOTE.format(lfs=lf_list(lonely[stats.vote_counts[lonely] > 0])))
        return np.arange(m)
    if selection.chosen == "mv" and not read:
        if unsettled:  # majority vote's family by _settle_balance: its note says why; one-class LFs named
            if draft.unipolar.size:  # (no coverage check ran: one-class LFs cast under half the votes)
                shared = float(selection.fit.params.accuracies[draft.unipolar[0]])
                reason = FEW_VOTES_REASON if options.one_class == "coverage" else OFF_REASON
                draft.notes.append(one_class_note(draft.unipolar, classes, shared, reason))
            return np.arange(m)
        # (an LF that never votes keeps majority vote's model's table: the shared accuracy, at the
        # coverage of its prior's pseudo-row, so its votes on other rows count as majority vote's)
        draft.notes.append(
            "the data do not identify the LFs' accuracies: no model with per-LF accuracies predicts "
            "held-out rows better than majority vote's model (one accuracy for all LFs) by more "
            f"than {selection.n_se:g} standard errors (held-out log-likelihood per row "
            f"{_scores(selection.heldout_loglik)}), so every LF gets the same accuracy and the "
            "predictions rank the classes as majority vote's counts do"
        )
        return np.arange(m)
    unipolar = draft.unipolar
    if unipolar.size:
        # given that it votes, such an LF's vote is constant: the vote-only likelihood of its
        # theta peaks at 0 whatever its real accuracy, so it gets majority vote's shared accuracy
        mv_fit = selection.fits.get("mv") or fit_annotator(rows, "mv", class_balance=given)
        shared = mv_fit.params
        cp = draft.params.cond_probs.copy()
        cp[unipolar] = shared.cond_probs[unipolar]
        draft.params = LabelModelParams(draft.params.class_balance, cp)
        reason = (
            check.reason
            if check is not None
            else (FEW_VOTES_REASON if options.one_class == "coverage" else OFF_REASON)
        )
        draft.notes.append(one_class_note(unipolar, classes, float(shared.accuracies[unipolar[0]]), reason))
    if lonely.size:
        draft.params = with_symmetric_tables(draft.params, lonely, stats.coverage)
    voting = lonely[stats.vote_counts[lonely] > 0]  # silent LFs have their own note
    if voting.size:
        draft.notes.append(
            f"LF(s) {lf_list(voting)} never vote on a row where another LF votes, so the "
            "rows do not identify their accuracy; they get the vote-weighted mean accuracy of "
            "the other LFs"
        )
    return np.union1d(unipolar, lonely).astype(np.int64)


def _worse_than_chance_note(
    draft: _Draft, stats: LabelStats, unidentified: np.ndarray, copies: Copies | None, named: np.ndarray
) -> None:
    """Notes naming the (identified, not copied) LFs whose fitted accuracy is below chance, and, with
    :data:`NAMED_VOTES`, the one-class LFs whose fitted vote is likelier under another class
    (``named``: the class each LF votes where it votes one class only, else -1)."""
    params = draft.params
    skip = unidentified if copies is None else np.union1d(unidentified, copies.members)
    read = named if NAMED_VOTES else None
    tables = LabelModelParams(params.class_balance, params.cond_probs, one_class=read)
    worse = np.setdiff1d(np.flatnonzero(tables.accuracies < 1.0 / stats.cardinality), skip)
    against = np.setdiff1d(tables.against_named(), skip)
    if NAMED_VOTES:  # a one-class LF's vote never counts against its class: the note below names them
        worse = np.setdiff1d(worse, np.flatnonzero(named >= 0))
    if worse.size:
        one_class = bool((named[worse] >= 0).any())
        draft.notes.append(
            f"LF(s) {lf_list(worse)} are estimated worse than chance: their votes count against "
            "the class they name"
            + (
                " (for an LF that votes one class only, a feature it shares with LFs of another class "
                "reads the same way: tripletws.cofiring_candidates(L, model), or 'tripletws dependencies "
                "--cofiring', lists the pairs that fire together beyond chance)"
                if one_class
                else ""
            )
        )
    if against.size:
        draft.notes.append(AGAINST_NAMED_NOTE.format(lfs=lf_list(against)))


def _mixture(
    draft: _Draft,
    stats: LabelStats,
    rows: RowSummary,
    selection: Selection,
    options: Options,
    given: np.ndarray | None,
    copies: Copies | None,
) -> tuple[Selection, Mixture]:
    """The vote-only families' mixture instead of the chosen one (``combine``, a study option); every
    component gets the chosen fit's treatment of one-class, lonely and copied LFs."""
    weights = combine_weights(selection.scores, CANDIDATES, options.combine)
    selection = replace(selection, weights=dict(zip(CANDIDATES, map(float, weights), strict=True)))
    shared_tables = (selection.fits.get("mv") or fit_annotator(rows, "mv", class_balance=given)).params
    lonely = lfs_without_overlap(rows)
    unipolar = draft.unipolar
    comps = []
    for fam in CANDIDATES:
        p = draft.params if fam == selection.chosen else selection.fits[fam].params
        if fam != selection.chosen:
            if unipolar.size:
                cp = p.cond_probs.copy()
                cp[unipolar] = shared_tables.cond_probs[unipolar]
                p = LabelModelParams(p.class_balance, cp)
            if lonely.size:
                p = with_symmetric_tables(p, lonely, stats.coverage)
        if copies is not None:
            p = copy_tables(p, rows, copies.members)
        comps.append(p)
    return selection, Mixture(CANDIDATES, weights, tuple(comps))


def _shrink_toward_mv(
    draft: _Draft,
    plain: RowSummary,
    selection: Selection,
    family: str,
    stats: LabelStats,
    unidentified: np.ndarray,
    lonely: np.ndarray,
    prior: Prior,
) -> Shrinkage:
    """The draft's departure from majority vote's model kept by James-Stein's share
    (:mod:`tripletws.estimators.shrinkage`), on the rows the fit was made on (copies counted once).

    The LFs the rows do not identify keep their fallback tables in the bootstrap's refits (as in the
    fit), and those without a co-voting LF get the vote-weighted mean accuracy of the others again
    after the pool; a note says so where the shrinkage is material.  A class balance the call gives
    (``class_balance=``, ``Y_dev``) stays the prediction prior exactly: the pool interpolates the
    tables alone there (:func:`tripletws.estimators.shrinkage.pool`)."""
    mv = selection.fits.get("mv")
    mv_params = mv.params if mv is not None else fit_annotator(plain, "mv").params
    draft.params, shrinkage = shrink_toward_mv(
        plain,
        draft.params,
        mv_params,
        family,
        fixed=unidentified,
        keep_prior=prior.fixed,
    )
    if shrinkage.lam < 1.0 and lonely.size:
        draft.params = with_symmetric_tables(draft.params, lonely, stats.coverage)
    note = shrinkage_note(shrinkage)
    if note:
        draft.notes.append(note)
    return shrinkage


def _tie_break(
    draft: _Draft, rows: RowSummary, prior: Prior, named: np.ndarray, stats: LabelStats, one_class: str
) -> LabelModelParams | None:
    """The fit that breaks the draft's ties at prediction, where some fitted row with votes ties.

    Dawid-Skene's full tables with abstentions read as informative (``"ds_abstain"``), with the
    user's class balance where one is given, else a uniform one: it tells apart classes that the
    draft's tables cannot (e.g. majority vote's model on rows with equal votes), through which
    LFs abstain as well as which vote.  With two classes, only where :data:`SPECIFICITY_TIES` asks
    for it (``one_class``: the model's setting): the specificity of the one-class LFs
    (:mod:`tripletws.estimators.specificity`; with more than two classes where
    :data:`SPECIFICITY_CLASSES` asks for it and every LF with a vote votes one class only).  ``named``:
    the class each LF votes where it votes one class only, else -1.  A note says how many fitted rows
    it decides.  (:mod:`tripletws.ties`; docs/models.md, "Ties".)
    """
    k = rows.cardinality
    sizes = {"two": k == 2, "more": k > 2, "any": True}[SPECIFICITY_CLASSES]
    specificity = sizes and SPECIFICITY_TIES in ("always", one_class)
    if specificity:  # the order needs a one-class LF; with k > 2, every LF with a vote one-class
        lacking = not (named >= 0).any() or (k > 2 and bool(np.any((named < 0) & (stats.coverage > 0))))
        if lacking and k == 2:
            return None
        specificity = not lacking  # else the TIE_FAMILY fit, as without the switch
    if k == 2 and not TIE_BINARY and not specificity:
        return None
    lm = LabelMatrix(rows.rows, k)
    P = summary_posteriors(rows, [draft.params])[:, 0].T  # the design's product (votes, not cells)
    tied, _ = tied_classes(P, lm, draft.params)
    if tied.size == 0:
        return None
    share = float(rows.counts[tied].sum() / rows.counts.sum())
    if specificity:
        draft.notes.append(
            f"{share:.1%} of the fitted rows have votes but tie between classes under the fit; such "
            "ties go to the class named by the one-class LFs that vote on fewer rows (their specificity: "
            "a prior about how LFs are written, which the rows do not identify)"
        )
        return specificity_params(stats.coverage, named, k)
    balance = prior.value if prior.fixed else np.full(k, 1.0 / k)
    second = fit_annotator(rows, TIE_FAMILY, class_balance=balance).params
    draft.notes.append(
        f"{share:.1%} of the fitted rows have votes but tie between classes under the fit; such ties are "
        f"broken by a {TIE_FAMILY!r} fit (Dawid-Skene's tables, abstentions read as informative), "
        "which shares the tied classes' probability"
    )
    return second


def _tables_from_dict(d: Any, m: int, k: int) -> LabelModelParams:
    if not isinstance(d, dict) or set(d) != {"class_balance", "cond_probs"}:
        raise ValueError("estimate.tie_break must be a record of class_balance and cond_probs")
    params = LabelModelParams.from_dict(d)
    if params.n_lfs != m or params.cardinality != k:
        raise ValueError(f"estimate.tie_break: tables must have shape ({m}, {k + 1}, {k})")
    return params


def _temper(draft: _Draft) -> None:
    """Partly dependent LFs' tables tempered by their weights (the ``SOFTDEP`` study option)."""
    softdep = draft.softdep
    assert softdep is not None
    draft.params = tempered(draft.params, softdep.weights)
    low = np.flatnonzero(softdep.weights < 1.0)
    draft.notes.append(
        f"LF(s) {lf_list(low)} agree with others beyond conditional independence ("
        f"{len(softdep.pairs)} significant pairs): fitted and predicted with weights "
        f"1 / (1 + summed excess share), min {softdep.weights.min():.2f} (SOFTDEP study option)"
    )


def _softdep_refit(
    plain: RowSummary, selection: Selection, params: LabelModelParams, given: np.ndarray | None
) -> tuple[LabelModelParams, SoftDependence | None]:
    """The chosen family refitted on the weighted likelihood where some pair depends (``SOFTDEP``)."""
    assert selection.fit is not None
    if SOFTDEP == "chosen":
        null = selection.fit.params
    elif SOFTDEP == "mv":
        mv = selection.fits.get("mv") or fit_annotator(plain, "mv", class_balance=given)
        null = mv.params
    else:
        raise ValueError(f"SOFTDEP must be 'off', 'chosen' or 'mv', not {SOFTDEP!r}")
    dep = dependence_weights(plain, null)
    if not np.any(dep.weights < 1.0):
        return params, None
    fit = weighted_em(plain, selection.chosen, dep.weights, params.class_balance)
    for _ in range(SOFTDEP_ROUNDS - 1):  # the null again: the weighted fit's (weighted) posterior
        dep = dependence_weights(plain, tempered(fit, dep.weights))
        if not np.any(dep.weights < 1.0):
            return params, None
        fit = weighted_em(plain, selection.chosen, dep.weights, params.class_balance)
    return fit, dep


def _softdep_coverage(
    plain: RowSummary, check: CoverageCheck, given: np.ndarray | None
) -> tuple[LabelModelParams, SoftDependence | None]:
    """The accepted coverage reading refitted on the weighted likelihood where some pair depends."""
    params = check.fit.params
    null = params if SOFTDEP == "chosen" else fit_annotator(plain, "mv", class_balance=given).params
    dep = dependence_weights(plain, null)
    if not np.any(dep.weights < 1.0):
        return params, None
    estimate = check.balance == "estimated" and SOFTDEP_BALANCE
    fit = weighted_em_coverage(
        plain, check.fit.family, dep.weights, params.class_balance, estimate_balance=estimate
    )
    for _ in range(SOFTDEP_ROUNDS - 1):  # the null again: the weighted fit's (weighted) posterior
        dep = dependence_weights(plain, tempered(fit, dep.weights))
        if not np.any(dep.weights < 1.0):
            return params, None
        fit = weighted_em_coverage(
            plain, check.fit.family, dep.weights, params.class_balance, estimate_balance=estimate
        )
    return fit, dep


def dev_choice_from_dict(d: Any) -> dict[str, Any] | None:
    """Validate a saved dev choice record (None stays None): the candidates' accuracies on the dev rows,
    the chosen one among them, and the number of dev rows (ValueError naming the field)."""
    if d is None:
        return None
    name = "estimate.dev_choice"
    d = check_mapping(d, name, ("chosen", "dev_accuracy", "n_dev"))
    scores = d["dev_accuracy"]
    if not isinstance(scores, dict) or not 1 <= len(scores) <= 1000:
        raise ValueError(f"{name}.dev_accuracy must be an object of 1 to 1000 candidates' accuracies")
    scores = {
        _candidate_name(c, f"{name}.dev_accuracy key"): check_float(
            v, f"{name}.dev_accuracy[{c!r}]", 0.0, 1.0
        )
        for c, v in scores.items()
    }
    chosen = _candidate_name(d["chosen"], f"{name}.chosen")
    if chosen not in scores:
        raise ValueError(f"{name}.chosen names {chosen!r}, which dev_accuracy does not score")
    # a dev choice is made on at least one gold row (check_dev_set)
    return {"chosen": chosen, "dev_accuracy": scores, "n_dev": check_int(d["n_dev"], f"{name}.n_dev", 1)}


def _candidate_name(value: Any, name: str) -> str:
    """A dev choice candidate's name, checked: ``"gold_free"`` or a family of
    :data:`tripletws.dev_choice.DEV_FAMILIES`, then optionally ``"+relabel"``, then (a family only)
    optionally ``"+dev_prior"``."""
    from ..dev_choice import DEV_FAMILIES

    text = check_str(value, name, max_len=200)
    base, *rest = text.split("+")
    if rest[:1] == ["relabel"]:
        rest = rest[1:]
    if rest[:1] == ["dev_prior"] and base != "gold_free":
        rest = rest[1:]
    if base not in ("gold_free", *DEV_FAMILIES) or rest:
        raise ValueError(
            f"{name} must name a dev choice candidate ('gold_free' or one of {list(DEV_FAMILIES)}, then "
            f"optionally '+relabel', then for a family optionally '+dev_prior'), got {text!r}"
        )
    return text
