"""A few gold labels, used well: a labelled dev set chooses among candidate fits and sets the prior.

The candidates are annotator families fitted on ``L_train`` without gold (both readings of
abstain: votes only, and abstain as an outcome), each predicting with a uniform prior or with
the dev set's class frequencies.  The dev set scores each by its accuracy expected under a
uniform tie-break (the figure the benchmarks report), ties going to the earlier, simpler
candidate; nothing is fitted to the dev rows except that choice, the class frequencies and,
where the dev rows name the latent classes otherwise, their labelling.

**The labelling of the latent classes.** A fit without gold names its latent classes by where its
EM starts (majority vote's soft labels); the likelihood does not name them (Dawid-Skene's full
tables, ``"ds_abstain"``, give every relabelling of the latent classes the same likelihood).  Where
majority vote is wrong on most rows of some classes, a fit can recover the LFs' structure and still
swap those classes.  Gold names them: each candidate whose dev rows are best matched by another
labelling (the assignment that maximises the dev accuracy, Kuhn's Hungarian method,
:func:`scipy.optimize.linear_sum_assignment`) is also tried relabelled (``"<candidate>+relabel"``),
scored by *cross-fitted* dev accuracy: each dev row is scored under the labelling chosen on the
other dev rows, so a relabelling that merely fits noise in a few rows scores no better than it
predicts.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .caller import outside_stacklevel
from .checks import overrule_rate, row_scores
from .estimators.annotator import fit_annotator
from .inference import posterior
from .matrix import LabelMatrix
from .models.notes import (
    KEPT_BALANCE_NOTE,
    UNSETTLED_ADVICE,
    UNSETTLED_BALANCE_NOTE,
    VOTED_GUARD_START,
    lf_list,
)
from .params import LabelModelParams
from .rows import RowSummary
from .ties import break_ties
from .top_classes import top_classes

#: Standard errors of the paired per-row dev accuracy by which a relabelled candidate must lead the best
#: candidate with its own labelling to replace it (the family choice's conventional 2, ``LEAD_SE``).
RELABEL_SE = 2.0

#: Families tried against the dev set, simplest first.
DEV_FAMILIES = ("mv", "one_coin", "mace", "mace_abstain", "ds_abstain")


@dataclass(frozen=True)
class DevChoice:
    """Outcome of :func:`choose_with_dev`.

    Attributes
    ----------
    chosen : str
        ``"<family>"`` (uniform prior), ``"<family>+dev_prior"``, ``"gold_free"``, or one of those
        with ``+relabel`` (its latent classes relabelled by the dev rows).
    dev_accuracy : dict
        candidate -> accuracy on the dev rows (expected under a uniform tie-break).
    params : LabelModelParams
        The chosen candidate's prior and table.
    n_dev : int
    """

    chosen: str
    dev_accuracy: dict[str, float]
    params: LabelModelParams
    n_dev: int


def expected_accuracy(P: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of argmax predictions expected under a uniform tie-break among equal top scores."""
    return float(np.mean(_row_accuracy(P, y)))


def _row_accuracy(P: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(n,): each row's share of its gold label under a uniform tie-break among its top scores."""
    return _tie_weights(P)[np.arange(len(y)), y]


def _tie_weights(P: np.ndarray) -> np.ndarray:
    """(n, k): each row's share of a uniform tie-break among its top scores (within 1e-9)."""
    top = top_classes(P, 1e-9)
    return top / top.sum(axis=1, keepdims=True)


#: Added to the identity's entries of the dev confusion before an assignment, so that a relabelling
#: replaces the fit's own labelling only where it matches strictly more dev rows (the confusion's
#: entries are whole multiples of 1 / lcm(1..k) >= 1 / 2520 for k <= 10: far above it).
_KEEP_OWN = 1e-7


def best_labelling(W: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The labelling of the latent classes that the dev rows support best.

    Parameters
    ----------
    W : ndarray, shape (n_dev, k)
        Each dev row's tie-break shares over the latent classes (:func:`_tie_weights`).
    y : ndarray of int, shape (n_dev,)
        Gold labels.

    Returns
    -------
    ndarray of int, shape (k,)
        ``g[a]``: the label given to latent class ``a`` (a permutation; the identity on ties).
    """
    return _assign(_confusion(W, y))


def _confusion(W: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(k, k): ``C[label, latent]``, the expected dev rows of each gold label predicted as each latent
    class under the tie-break shares ``W``."""
    C = np.zeros((W.shape[1], W.shape[1]))
    np.add.at(C, y, W)
    return C


def _assign(C: np.ndarray) -> np.ndarray:
    """The labelling ``g`` (latent class -> label) that maximises ``sum_a C[g[a], a]``."""
    from scipy.optimize import linear_sum_assignment  # imported on first use (a dev set)

    k = C.shape[0]
    labels, latents = linear_sum_assignment(C + _KEEP_OWN * np.eye(k), maximize=True)
    g = np.empty(k, dtype=np.int64)
    g[latents] = labels
    return g


def crossfit_labelling(W: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The labelling chosen on all dev rows and the dev accuracy it earns cross-fitted, row by row.

    Each dev row is scored under the labelling that the *other* dev rows support best (leave one
    out: its own contribution to the confusion taken away), so the score does not reward a labelling
    fitted to the rows it scores.

    Returns
    -------
    g : ndarray of int, shape (k,)
        As :func:`best_labelling` on all rows.
    accuracy : ndarray, shape (n_dev,)
        The share each dev row gives its gold label under its left-out labelling.
    """
    C = _confusion(W, y)
    g = _assign(C)
    # rows with the same gold label and tie-break shares leave out the same confusion: one
    # assignment per distinct (label, shares)
    keys, inverse = np.unique(np.column_stack([y, W]), axis=0, return_inverse=True)
    score = np.empty(len(keys))
    for j, key in enumerate(keys):
        label, w = int(key[0]), key[1:]
        left = C.copy()
        left[label] -= w
        g_j = _assign(left)
        score[j] = float(w[g_j == label].sum())
    return g, score[inverse.ravel()]


def relabel(params: LabelModelParams, g: np.ndarray) -> LabelModelParams:
    """``params`` with latent class ``a`` named ``g[a]`` (prior and tables permuted alike)."""
    order = np.argsort(g)  # order[label] = the latent class given that label
    return LabelModelParams(params.class_balance[order].copy(), params.cond_probs[:, :, order].copy())


def choose_with_dev(
    unique: RowSummary,
    dev: LabelMatrix,
    y_dev: np.ndarray,
    dev_prior: np.ndarray,
    families: tuple[str, ...] = DEV_FAMILIES,
    chunk_size: int | None = None,
    extra: dict[str, LabelModelParams] | None = None,
    relabelling: bool = True,
    lead_se: float | str | None = "loo",
    second: LabelModelParams | None = None,
    given: np.ndarray | None = None,
) -> DevChoice:
    """Score every candidate on the dev rows and keep the best.

    Parameters
    ----------
    unique : RowSummary
        Distinct rows of ``L_train`` with counts.
    dev : LabelMatrix
        Dev rows (n_dev, m).
    y_dev : ndarray of int, shape (n_dev,)
    dev_prior : ndarray, shape (k,)
        Class frequencies of ``y_dev`` (every class kept above 0).
    families : tuple of str
    chunk_size : int, optional
    extra : dict, optional
        Further named candidates (e.g. the gold-free choice), tried first.
    relabelling : bool
        Also try each candidate under the labelling of its latent classes that the dev rows support
        best, where that is not its own (``"<candidate>+relabel"``; families fitted with the uniform
        prior also as ``"<family>+relabel+dev_prior"``), scored cross-fitted (:func:`crossfit_labelling`);
        the best of them is kept only where it leads the best other candidate by more than
        :data:`RELABEL_SE` standard errors of the paired per-row difference.
    lead_se : "loo", float or None
        When the best candidate replaces the first (the gold-free choice, where ``extra`` gives it):
        ``"loo"`` (the default, ``LabelModel(dev_rule="loo")``) where the choice, made again on the
        other dev rows for each left-out row, scores the left-out rows better than the first candidate
        (:func:`_selection_leads`: the best of many candidates on few rows looks better than it
        predicts); a number: where it leads by more than that many standard errors of the paired
        per-row difference; None: by any margin (``dev_rule="any"``, the rule until session 10).
    second : LabelModelParams, optional
        The fit that breaks ties at prediction (the annotator's ``tie_break``, :mod:`tripletws.ties`):
        each candidate is scored with its ties broken by it, as it will predict.
    given : ndarray of shape (k,), optional
        A class balance given to the fit (``class_balance=``, which overrides ``Y_dev``): the families
        are fitted and scored under it, and no candidate takes the dev rows' frequencies instead.

    Returns
    -------
    DevChoice
    """
    k = unique.cardinality
    base = np.full(k, 1.0 / k) if given is None else np.asarray(given, dtype=np.float64)
    candidates: dict[str, LabelModelParams] = dict(extra or {})
    for fam in families:
        table = fit_annotator(unique, fam, class_balance=base).params.cond_probs
        candidates[fam] = LabelModelParams(base, table)
        if given is None:
            candidates[f"{fam}+dev_prior"] = LabelModelParams(dev_prior, table)

    def predicted(params: LabelModelParams) -> np.ndarray:
        P = posterior(dev, params, chunk_size)
        return P if second is None else break_ties(P, dev, params, second)

    P = {name: predicted(params) for name, params in candidates.items()}
    rows = {name: _row_accuracy(p, y_dev) for name, p in P.items()}  # each candidate's per-row accuracy
    relabelled: dict[str, LabelModelParams] = {}
    own = np.arange(k)
    for name, params in candidates.items() if relabelling else ():
        if name.endswith("+dev_prior"):
            continue
        g, crossfit = crossfit_labelling(_tie_weights(P[name]), y_dev)
        if (g != own).any():
            swapped = relabel(params, g)
            if given is not None:  # a given prior names classes, not latent ones: it stays as given
                swapped = LabelModelParams(base.copy(), swapped.cond_probs)
            relabelled[f"{name}+relabel"] = swapped
            rows[f"{name}+relabel"] = crossfit
        if name in families and given is None:
            # the same tables under the dev rows' class frequencies (latent class a gets the frequency
            # of its label g[a]: the "+dev_prior" candidate where g is the fit's own labelling), the
            # labelling again chosen and scored cross-fitted
            with_prior = (
                P[f"{name}+dev_prior"]
                if (g == own).all()
                else predicted(LabelModelParams(dev_prior[g], params.cond_probs))
            )
            g2, crossfit2 = crossfit_labelling(_tie_weights(with_prior), y_dev)
            if (g2 != own).any():
                tables = relabel(params, g2).cond_probs
                relabelled[f"{name}+relabel+dev_prior"] = LabelModelParams(dev_prior.copy(), tables)
                rows[f"{name}+relabel+dev_prior"] = crossfit2
    best = _best(rows, candidates)
    first = next(iter(candidates))
    if best != first:
        # the left-out check re-makes a "+dev_prior" candidate's prior without the left-out row
        held = (
            {
                f"{fam}+dev_prior": _left_out_prior_rows(dev, y_dev, candidates[fam].cond_probs, chunk_size)
                for fam in families
            }
            if lead_se == "loo" and given is None
            else None
        )
        if not _replaces(rows, candidates, best, first, lead_se, y_dev=y_dev, held=held):
            best = first
    if relabelled:
        # a relabelling replaces the best candidate only where it leads it by more than RELABEL_SE
        # standard errors of the paired per-row difference (the family choice's rule, on gold rows),
        # and the gold-free fit, where lead_se kept it, by that bar too
        other = _best(rows, relabelled)
        numeric = lead_se is not None and lead_se != "loo"
        bar = max(RELABEL_SE, float(lead_se)) if best == first and numeric else RELABEL_SE
        if _leads(rows[other], rows[best], bar):
            best = other
        candidates.update(relabelled)
    scores = {name: float(v.mean()) for name, v in rows.items()}
    return DevChoice(best, scores, candidates[best], len(y_dev))


def _leads(a: np.ndarray, b: np.ndarray, n_se: float) -> bool:
    """Whether per-row scores ``a`` lead ``b`` by more than ``n_se`` standard errors of their paired
    difference (a positive mean lead, the standard error of the mean of the differences).

    Where the differences do not vary (a few dev rows, each differing by the same amount) their
    standard error is 0, or a rounding residue of the mean (1 - 1/3 three times), and any lead passed:
    2 gold rows that the LFs' majority gets wrong swapped the class names of a fit right on 93 % of
    the rows (an audit, session 41).  There a one-sided sign test at the same level, ``P(Z > n_se)``,
    decides: at 2 standard errors it needs 6 such rows (p = 0.016).  (Applied to every lead instead,
    it changed 42 of the 624 choices of the option ``lead_se=2`` on the stress draw 20580101, -0.28
    points at 50 dev rows: not kept.)

    Parameters
    ----------
    a, b : ndarray, shape (n_dev,)
        Per-row scores of two candidates on the same dev rows (expected accuracy under ties).
    n_se : float
        The bar, in standard errors.

    Returns
    -------
    bool
    """
    d = a - b
    if len(d) < 2:
        return False
    if np.ptp(d) > 0.0 or not float(d.mean()) > 0.0:
        se = float(np.std(d, ddof=1) / np.sqrt(len(d)))
        return float(d.mean()) > n_se * se
    from scipy.stats import binomtest, norm

    wins, losses = int(np.count_nonzero(d > 0)), int(np.count_nonzero(d < 0))
    return bool(binomtest(wins, wins + losses, 0.5, alternative="greater").pvalue < norm.sf(n_se))


def _replaces(
    rows: dict[str, np.ndarray],
    among: dict[str, LabelModelParams],
    best: str,
    first: str,
    lead_se: float | str | None,
    *,
    y_dev: np.ndarray | None = None,
    held: dict[str, np.ndarray] | None = None,
) -> bool:
    """Whether ``best`` replaces ``first`` under the rule ``lead_se`` (see :func:`choose_with_dev`;
    ``y_dev`` and ``held`` as in :func:`_selection_leads`)."""
    if lead_se is None:
        return True
    if lead_se == "loo":
        return _selection_leads(rows, among, first, y_dev=y_dev, held=held)
    return _leads(rows[best], rows[first], float(lead_se))


def _selection_leads(
    rows: dict[str, np.ndarray],
    among: dict[str, LabelModelParams] | dict[str, None],
    first: str,
    *,
    y_dev: np.ndarray | None = None,
    held: dict[str, np.ndarray] | None = None,
) -> bool:
    """Whether choosing the best of ``among`` on the dev rows beats keeping ``first``, left-one-out.

    Each dev row is scored by the candidate that the *other* dev rows rank highest (ties to the
    earliest, as :func:`_best`), so the choice's own noise (the best of many candidates on few rows
    looks better than it predicts) counts against it; the mean of those scores
    (:func:`_left_out_choice`) must exceed ``first``'s mean dev accuracy on the same rows.
    """
    scores = _left_out_choice(rows, among, y_dev=y_dev, held=held)
    return float(scores.mean()) > float(rows[first].mean())


def _left_out_choice(
    rows: dict[str, np.ndarray],
    among: dict[str, LabelModelParams] | dict[str, None],
    *,
    y_dev: np.ndarray | None = None,
    held: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """(n_dev,): each dev row's accuracy under the candidate that the other dev rows rank highest.

    Parameters
    ----------
    rows : dict
        candidate -> (n_dev,) per-row dev accuracy.
    among : dict
        The candidates, in the order of the choice (its keys are read).
    y_dev : ndarray of int, shape (n_dev,), optional
        Gold labels; needed with ``held``.
    held : dict, optional
        candidate -> (k, n_dev): per-row dev accuracy under a prior made *without* one dev row of
        class ``c`` (row ``c``; :func:`_left_out_prior_rows`), for the candidates whose prior is made
        from the dev labels (``"+dev_prior"``).  The left-out row ``i`` (class ``y_i``) then ranks
        and is scored by those candidates under the prior made without it, so no part of the choice
        has seen the row it scores.

    Returns
    -------
    ndarray, shape (n_dev,)
    """
    names = list(among)
    cols = np.arange(len(rows[names[0]]))
    R = np.stack([rows[name] for name in names])  # (C, n_dev) per-row dev accuracy
    others = R.sum(axis=1, keepdims=True) - R  # each candidate's summed accuracy without that row
    scored = R.copy()  # the left-out row's accuracy under each candidate
    for j, name in enumerate(names):
        if held is not None and name in held:
            if y_dev is None:
                raise ValueError("the left-out priors need the dev labels (y_dev)")
            H = held[name][y_dev]  # (n_dev, n_dev): row i's prior made without it, every dev row scored
            others[j] = H.sum(axis=1) - H[cols, cols]
            scored[j] = H[cols, cols]
    picked = np.argmax(others, axis=0)  # the first of equal totals: the earlier candidate
    return scored[picked, cols]


def _left_out_prior_rows(
    dev: LabelMatrix, y_dev: np.ndarray, table: np.ndarray, chunk_size: int | None
) -> np.ndarray:
    """(k, n_dev): per-row dev accuracy of ``table`` under the dev prior made without one row of class ``c``.

    Row ``c`` uses the class frequencies of ``y_dev`` with one count of class ``c`` taken away (and
    the one pseudo-count per class of :func:`check_dev_prior`); a class no dev row has gives a row
    of nan (never read).
    """
    k = table.shape[2]
    counts = np.bincount(y_dev, minlength=k).astype(np.float64)
    out = np.full((k, len(y_dev)), np.nan)
    for c in np.flatnonzero(counts > 0):
        prior = counts + 1.0
        prior[c] -= 1.0
        prior /= prior.sum()
        out[c] = _row_accuracy(posterior(dev, LabelModelParams(prior, table), chunk_size), y_dev)
    return out


def _best(rows: dict[str, np.ndarray], among: dict[str, LabelModelParams]) -> str:
    """The candidate of ``among`` with the highest mean dev accuracy (ties to the earliest)."""
    best = ""
    for name in among:
        if not best or rows[name].mean() > rows[best].mean():
            best = name
    return best


def check_dev_prior(y_dev: np.ndarray, k: int) -> np.ndarray:
    """Class frequencies of the dev labels with one pseudo-count per class (no class gets 0)."""
    counts = np.bincount(y_dev, minlength=k).astype(np.float64) + 1.0
    return counts / counts.sum()


def with_dev_choice(
    solution: Any,
    rows: RowSummary | None,
    dev: LabelMatrix,
    y_dev: np.ndarray,
    chunk_size: int | None,
    lead_se: float | str | None = "loo",
):
    """The annotator model's gold-free ``Fit`` with its parameters replaced by the dev set's choice.

    Parameters
    ----------
    solution : tripletws.models.Fit
        The gold-free fit (the annotator model's; a symmetric fallback is returned
        unchanged with a note, since it saw no rows).
    rows : RowSummary or None
        The distinct rows the fit looked at.
    dev : LabelMatrix
    y_dev : ndarray of int, shape (n_dev,)
    chunk_size : int, optional
    lead_se : "loo", float or None
        When the best candidate replaces the gold-free fit (:func:`choose_with_dev`).

    Returns
    -------
    tripletws.models.Fit
    """
    from dataclasses import replace

    check_dev_width(dev, solution.params.n_lfs)
    estimate = solution.estimate
    if rows is None or not hasattr(estimate, "dev_choice"):
        # a note, told (warned after a fit) with the solve's others: it was also warned here, twice in all
        note = (
            "L_dev was not used (nor Y_dev): the symmetric model was solved instead of the annotator model "
            "(declared dependencies), and it has no candidate fits for dev rows to choose among; declare "
            "no dependencies to let them choose, or pass Y_dev without L_dev to use its class frequencies "
            "as the prior"
        )
        return replace(solution, notes=(*solution.notes, note))
    k = rows.cardinality
    prior = check_dev_prior(y_dev, k)
    given = solution.params.class_balance if solution.class_balance_source == "given" else None
    choice = choose_with_dev(
        rows,
        dev,
        y_dev,
        prior,
        chunk_size=chunk_size,
        extra={"gold_free": solution.params},
        lead_se=lead_se,
        second=getattr(estimate, "tie_break", None),
        given=given,
    )
    record = {"chosen": choice.chosen, "dev_accuracy": choice.dev_accuracy, "n_dev": choice.n_dev}
    family = choice.chosen.split("+")[0]
    source = dev_choice_source(choice.chosen, solution.class_balance_source)
    diagnostics = {**solution.diagnostics, "dev_choice": choice.chosen}
    # the fit that predicts now (another candidate, or the gold-free one relabelled): its own rate, and
    # whether it names one class nearly everywhere, from one pass of its scores over the distinct rows
    scores = row_scores(rows, choice.params, chunk_size) if choice.chosen != "gold_free" else None
    if scores is not None and "overrule_rate" in diagnostics:
        diagnostics["overrule_rate"] = overrule_rate(rows, choice.params, chunk_size, scores=scores)
    unidentified = estimate.unidentified
    # the gold rows have judged the fit, the uniform balance included: its note asking for them goes
    # (the fallback's note over an unsettled balance describes the gold-free fit: kept, without its advice)
    notes = tuple(
        n.split(UNSETTLED_ADVICE)[0] if n.startswith(UNSETTLED_BALANCE_NOTE) else n
        for n in solution.notes
        if not n.startswith((KEPT_BALANCE_NOTE, VOTED_GUARD_START))
    )
    if family != "gold_free":  # the gold-free fit's notes and unidentified LFs describe another fit
        unidentified = _unidentified_under(family, rows)
        said = f"; LF(s) {lf_list(unidentified)} are not identified by its tables" * bool(unidentified.size)
        notes = (
            *notes,
            f"the dev rows replaced the gold-free fit ({estimate.family!r}) by {choice.chosen!r}: the "
            f"notes before this one describe the gold-free fit{said}",
        )
    constant = _constant_note(rows, choice, y_dev, scores) if scores is not None else None
    if constant is not None:
        notes = (*notes, constant)
    return replace(
        solution,
        params=choice.params,
        fit_class_balance=choice.params.class_balance,
        class_balance_source=source,
        # (the guard of the votes, tripletws.voted_guard, is not among what the dev rows judged: dropped)
        estimate=replace(estimate, dev_choice=record, unidentified=unidentified, voted_guard=None),
        diagnostics=diagnostics,
        notes=notes,
    )


#: Share of the fitted rows above which a dev choice that names one class there is said to be (nearly)
#: a constant (:func:`_constant_note`).
CONSTANT_SHARE = 0.99


def _constant_note(rows: RowSummary, choice: Any, y_dev: np.ndarray, scores: np.ndarray) -> str | None:
    """A note where the dev rows chose a fit that names one class on (nearly) every fitted row.

    On an imbalanced set a constant scores the majority class's share of the dev rows, and a fit
    whose prior outweighs the votes can win the choice that way: on sms (50 dev rows), a choice
    that named ham on every row, its dev accuracy the dev rows' share of ham, F1 of spam 0.200 ->
    0.039 (an audit).  Said, not refused: where the classes are that imbalanced the constant may
    be the best label there is."""
    named = np.bincount(scores.argmax(axis=1), weights=rows.counts, minlength=rows.cardinality)
    share = named / max(float(named.sum()), 1e-300)
    c = int(share.argmax())
    if share[c] < CONSTANT_SHARE:
        return None
    gold = y_dev[y_dev >= 0]
    dev_share = float(np.mean(gold == c)) if gold.size else float("nan")
    return (
        f"the dev rows chose a fit that names class {c} on {share[c]:.1%} of the fitted rows: a constant "
        f"would score that class's share of the dev rows, {dev_share:.3f}, against the choice's "
        f"{choice.dev_accuracy[choice.chosen]:.3f}, so the choice may rest on the class balance alone (the "
        "other classes' recall and F1 fall with it); dev_rule=2 keeps the gold-free fit unless the dev "
        "rows prefer another by 2 standard errors, and more dev rows tell the two apart"
    )


def dev_choice_source(chosen: str, gold_free_source: str) -> str:
    """Where the prior of the dev choice ``chosen`` came from (``class_balance_source_``).

    Parameters
    ----------
    chosen : str
        The chosen candidate (:class:`DevChoice`).
    gold_free_source : str
        The gold-free fit's source: ``"given"`` (a prior given to the fit, under which every family is
        fitted and scored), ``"uniform"`` or ``"estimated"``.

    Returns
    -------
    str
        ``"Y_dev"`` for a ``"+dev_prior"`` candidate; the gold-free fit's source for the gold-free fit
        (relabelled or not) and under a given prior; else ``"uniform"``: the families are fitted and
        predict under the uniform prior, whatever the gold-free fit estimated.
    """
    if chosen.endswith("+dev_prior"):
        return "Y_dev"
    if chosen.split("+")[0] == "gold_free" or gold_free_source == "given":
        return gold_free_source
    return "uniform"


def _unidentified_under(family: str, rows: RowSummary) -> np.ndarray:
    """LFs whose parameters a candidate family's fit of ``rows`` does not identify: every LF under
    majority vote's model (one shared accuracy), else the LFs that never vote beside another one, and
    under a vote-only family also those that vote one class only (their votes are constant)."""
    from .estimators.one_class import one_class_votes
    from .estimators.votes import lfs_without_overlap

    if family == "mv":
        return np.arange(rows.n_lfs)
    lonely = lfs_without_overlap(rows)
    if family in ("one_coin", "mace"):
        lonely = np.union1d(lonely, one_class_votes(rows)[0])
    return np.asarray(lonely, dtype=np.int64)


def check_dev_width(dev: LabelMatrix, m: int) -> None:
    """A ValueError where the dev rows hold another number of LFs than the ``m`` of ``L_train``."""
    if dev.m != m:
        raise ValueError(f"L_dev has {dev.m} LFs (columns) but L_train has {m}")


def check_dev_set(cardinality: int, L_dev: Any, Y_dev: Any) -> tuple[LabelMatrix, np.ndarray]:
    """``fit(L_dev=, Y_dev=)``'s dev set, checked; rows whose gold label is -1 (unknown) are left out.

    Raises
    ------
    ValueError
        Without ``Y_dev``, for a bad value or length of it or of ``L_dev``, when no dev row has a
        gold label, or for a pandas ``L_dev`` and ``Y_dev`` holding the same rows in another order.
    """
    from .matrix import (
        LabelMatrixError,
        check_cardinality,
        check_label_matrix,
        check_labels,
        check_same_rows,
        hint_flyingsquid_labels,
    )

    if Y_dev is None:
        raise ValueError("L_dev needs its gold labels: pass Y_dev as well")
    k = check_cardinality(cardinality)
    try:  # every value now (a dev set is small), so that an error names L_dev, not "label matrix"
        dev = check_label_matrix(L_dev, k, name="L_dev", scan=True)
    except LabelMatrixError as exc:
        text = str(exc)
        raise LabelMatrixError(text if text.startswith("L_dev") else f"L_dev: {text}") from exc
    y = check_labels(Y_dev, dev.n, k, name="Y_dev")
    check_same_rows(L_dev, Y_dev, "L_dev", "Y_dev", "the dev set")
    hint_flyingsquid_labels(y, k, "Y_dev", stacklevel=4)
    known = y >= 0
    if not known.any():
        raise ValueError("Y_dev is -1 (unknown) on every dev row: the dev set needs gold labels")
    if not known.all():  # the rows without gold say nothing about the candidates: left out, as in score
        rows = np.flatnonzero(known)
        data = dev.data[rows] if dev.is_sparse else np.asarray(dev.data)[rows]
        dev, y = LabelMatrix(data, k), y[rows]
    missing = np.flatnonzero(np.bincount(y, minlength=k) == 0)
    if missing.size:  # as Y_dev alone warns (its class balance smooths the class in)
        warnings.warn(
            f"Y_dev has no example of class(es) {missing.tolist()}: the dev rows cannot reward a "
            "candidate for predicting it, and the dev prior ('+dev_prior' candidates) gives it one "
            "pseudo-count; add dev rows of every class",
            UserWarning,
            stacklevel=outside_stacklevel(),
        )
    return dev, y
