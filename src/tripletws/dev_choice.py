"""A few gold labels, used well: a labelled dev set chooses among candidate fits and sets the prior.

The candidates are annotator families fitted on ``L_train`` without gold (both readings of
abstain: votes only, and abstain as an outcome), each predicting with a uniform prior or with
the dev set's class frequencies.  The dev set scores each by its accuracy expected under a
uniform tie-break (the figure the benchmarks report), ties going to the earlier, simpler
candidate; nothing is fitted to the dev rows except that choice and the class frequencies.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .estimators.annotator import fit_annotator
from .inference import posterior
from .matrix import LabelMatrix
from .params import LabelModelParams
from .rows import RowSummary

#: Families tried against the dev set, simplest first.
DEV_FAMILIES = ("mv", "one_coin", "mace", "mace_abstain", "ds_abstain")


@dataclass(frozen=True)
class DevChoice:
    """Outcome of :func:`choose_with_dev`.

    Attributes
    ----------
    chosen : str
        ``"<family>"`` (uniform prior) or ``"<family>+dev_prior"``.
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
    top = P >= P.max(axis=1, keepdims=True) - 1e-9
    return float(np.mean(top[np.arange(len(y)), y] / top.sum(axis=1)))


def choose_with_dev(
    unique: RowSummary,
    dev: LabelMatrix,
    y_dev: np.ndarray,
    dev_prior: np.ndarray,
    families: tuple[str, ...] = DEV_FAMILIES,
    chunk_size: int | None = None,
    extra: dict[str, LabelModelParams] | None = None,
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

    Returns
    -------
    DevChoice
    """
    k = unique.cardinality
    uniform = np.full(k, 1.0 / k)
    candidates: dict[str, LabelModelParams] = dict(extra or {})
    for fam in families:
        table = fit_annotator(unique, fam, class_balance=uniform).params.cond_probs
        candidates[fam] = LabelModelParams(uniform, table)
        candidates[f"{fam}+dev_prior"] = LabelModelParams(dev_prior, table)
    scores: dict[str, float] = {}
    best = ""
    for name, params in candidates.items():
        scores[name] = expected_accuracy(posterior(dev, params, chunk_size), y_dev)
        if not best or scores[name] > scores[best]:
            best = name
    return DevChoice(best, scores, candidates[best], len(y_dev))


def check_dev_prior(y_dev: np.ndarray, k: int) -> np.ndarray:
    """Class frequencies of the dev labels with one pseudo-count per class (no class gets 0)."""
    counts = np.bincount(y_dev, minlength=k).astype(np.float64) + 1.0
    return counts / counts.sum()


def with_dev_choice(
    solution: Any, rows: RowSummary | None, dev: LabelMatrix, y_dev: np.ndarray, chunk_size: int | None
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

    Returns
    -------
    tripletws.models.Fit
    """
    from dataclasses import replace

    if dev.m != solution.params.n_lfs:
        raise ValueError(f"L_dev has {dev.m} LFs (columns) but L_train has {solution.params.n_lfs}")
    estimate = solution.estimate
    if rows is None or not hasattr(estimate, "dev_choice"):
        note = "L_dev was not used: the symmetric model was solved instead of the annotator model"
        warnings.warn(note, UserWarning, stacklevel=3)
        return replace(solution, notes=(*solution.notes, note))
    k = rows.cardinality
    prior = check_dev_prior(y_dev, k)
    choice = choose_with_dev(
        rows, dev, y_dev, prior, chunk_size=chunk_size, extra={"gold_free": solution.params}
    )
    record = {"chosen": choice.chosen, "dev_accuracy": choice.dev_accuracy, "n_dev": choice.n_dev}
    source = "Y_dev" if choice.chosen.endswith("+dev_prior") else solution.class_balance_source
    diagnostics = {**solution.diagnostics, "dev_choice": choice.chosen}
    return replace(
        solution,
        params=choice.params,
        fit_class_balance=choice.params.class_balance,
        class_balance_source=source,
        estimate=replace(estimate, dev_choice=record),
        diagnostics=diagnostics,
    )


def check_dev_set(cardinality: int, L_dev: Any, Y_dev: Any) -> tuple[LabelMatrix, np.ndarray]:
    """``fit(L_dev=, Y_dev=)``'s dev set, checked: gold labels for every row."""
    from .matrix import check_cardinality, check_label_matrix, check_labels

    if Y_dev is None:
        raise ValueError("L_dev needs its gold labels: pass Y_dev as well")
    k = check_cardinality(cardinality)
    dev = check_label_matrix(L_dev, k, name="L_dev")
    return dev, check_labels(Y_dev, dev.n, k, name="Y_dev")
