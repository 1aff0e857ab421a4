"""What a fit tells its user about individual LFs (each label model's notes draw on these)."""

from __future__ import annotations

import numpy as np

from ..estimators.symmetric import DEFAULT_ACCURACY, SymmetricEstimate
from ..stats import LabelStats

#: How the note on a uniform balance that decides many labels starts (written by the annotator model's
#: solve; a dev choice, which judges the fit with gold rows, drops it).
KEPT_BALANCE_NOTE = "the class balance was kept uniform"

#: How the note of the fallback to majority vote's family over an unsettled class balance starts, and
#: where its advice begins (a dev choice keeps the note, which describes the gold-free fit, without the
#: advice to give gold rows: models.annotator._settle_balance, dev_choice).
UNSETTLED_BALANCE_NOTE = "the rows do not settle the class balance"
UNSETTLED_ADVICE = "; give class_balance="

#: How the note of a fit with a guard of its votes starts (tripletws.voted_guard; written by the
#: annotator model's solve, dropped with the guard by a dev choice, which judged the fit without it).
VOTED_GUARD_START = "a row whose votes all name"


def lf_list(idx: np.ndarray, limit: int = 10) -> str:
    """``"0, 3, 7"``; past ``limit`` entries, ``"..., (n in all)"``."""
    items = [str(int(i)) for i in idx[:limit]]
    return ", ".join(items) + (f", ... ({len(idx)} in all)" if len(idx) > limit else "")


def dependency_note(pairs: np.ndarray, model: str) -> str:
    """The note of a model that hands declared dependencies to the symmetric model.

    Parameters
    ----------
    pairs : ndarray of int, shape (E, 2)
        The declared dependent LF pairs.
    model : str
        The model asked for (``"annotator"``, ``"class_conditional"``).
    """
    shown = ", ".join(f"({int(i)}, {int(j)})" for i, j in np.asarray(pairs)[:5])
    more = f", ... ({len(pairs)} in all)" if len(pairs) > 5 else ""
    return (
        f"declared dependencies (LF pairs {shown}{more}) are modelled by the symmetric model only; "
        f"it was used instead of the {model} model (pass model='symmetric' to fit it by name, or no "
        f"dependencies, dependencies=[], to fit the {model} model)"
    )


def silent_lfs(
    stats: LabelStats, fill: str = "a neutral weight", all_silent: str = "the predictions are the class prior"
) -> list[str]:
    """LFs that never vote, and what their votes elsewhere get (``fill``); where none votes, what
    the predictions are (``all_silent``: the model's own)."""
    silent = np.flatnonzero(stats.vote_counts == 0)
    if silent.size and silent.size == stats.n_lfs:
        # no other LF to take anything from
        return [
            f"LF(s) {lf_list(silent)} never vote: no LF votes on any fitted row, so nothing identifies an "
            f"accuracy and {all_silent}"
        ]
    return [f"LF(s) {lf_list(silent)} never vote; they get {fill}"] if silent.size else []


def symmetric_lfs(stats: LabelStats, est: SymmetricEstimate) -> list[str]:
    """LFs a symmetric solve could not estimate, and those at or below chance."""
    notes = silent_lfs(stats)
    lonely = np.flatnonzero((stats.vote_counts > 0) & ~est.estimated)
    if lonely.size:
        fill = (
            "the vote-weighted mean accuracy of the estimated LFs"
            if est.estimated.any()
            else f"the default accuracy {DEFAULT_ACCURACY} (no LF could be estimated)"
        )
        notes.append(
            f"LF(s) {lf_list(lonely)} share no usable triplet with other LFs "
            f"(too few co-votes, or pair moments indistinguishable from 0); they get {fill}"
        )
    own = est.own_share
    above = est.estimated & (est.b >= 0)
    if own is not None and above.sum() >= 3 and (own[above] == 0.0).all():  # tau^2 = 0 (_shrink)
        common = float(est.accuracies[np.flatnonzero(above)[0]])
        if (above == est.estimated).all():
            notes.append(
                "the LFs' estimated accuracies do not differ beyond their sampling error, so every "
                f"estimated LF gets their common accuracy ({common:.3f}): the model ranks the classes as "
                "majority vote does (it learned no LF weights from these votes)"
            )
        else:
            notes.append(
                "the accuracies of the LFs read above chance do not differ beyond their sampling error, so "
                f"they share one accuracy ({common:.3f}); only the LFs read below chance are weighed apart"
            )
    elif own is not None and (pooled := np.flatnonzero(est.estimated & (own < 0.5))).size:
        notes.append(
            f"LF(s) {lf_list(pooled)} co-vote too little to be estimated on their own: their accuracies "
            "are drawn mostly toward the LFs' common one (`estimate_.own_share` below 0.5)"
        )
    weak = np.flatnonzero(est.below_chance)
    if weak.size:
        notes.append(
            f"LF(s) {lf_list(weak)} are estimated at or below chance accuracy against the majority "
            "of the LFs: their votes count against the class they vote"
        )
    return notes
