"""Warnings at fit about input that is valid but most likely not what was meant.

Three mistakes of users coming from other libraries pass every check of the label matrix and fit
without error, to a wrong model:

- **another abstain convention**: MeTaL's (0 = abstain, classes 1..k) fitted with one class too
  many, whose "class 0" is every abstention; Snorkel 0.7's and FlyingSquid's (0 = abstain, votes
  -1 / +1), whose abstentions become class-0 votes and whose -1 votes abstentions;
- **the gold labels left among the votes** (a DataFrame or a CSV with its ``label`` column): the
  gold is then fitted as one more, perfect, LF;
- **FlyingSquid's ``LabelModel(m)``**, whose first argument is the number of LFs: here it is the
  number of classes, so binary votes are fitted with m classes.

A boolean matrix is warned about too (:func:`warn_boolean_votes`): its cells are read as votes for
classes 0 and 1 on every row, where the user most likely meant "the LF fired".

All are told from the fit's statistics (votes per LF and class, no pass over the rows) and the
input's column names, and warned about once per fit; the fit itself is unchanged.  FlyingSquid's
argument and method names that tripletws does not take (``v``, ``lambda_edges``, ``solve_method``,
``predict_proba_marginalized``, ...) are refused with what to use instead (:data:`FLYINGSQUID_NAMES`), and
so are Snorkel's older names (``get_accuracies``, ``mu``, ``train_model``: :data:`SNORKEL_NAMES`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from .caller import outside_stacklevel
from .kernels import is_sparse

#: Column names (compared in lower case) that name gold labels, not an LF.
GOLD_NAMES = frozenset(
    {
        "y",
        "y_true",
        "label",
        "labels",
        "gold",
        "gold_label",
        "gold_labels",
        "true_label",
        "ground_truth",
        "target",
    }
)

#: Share of a binary matrix's entries above which 0 reads as abstain rather than class 0.
ZERO_SHARE = 0.5


def gold_like_columns(names: Sequence[str] | None) -> list[str]:
    """The column names among ``names`` that name gold labels (:data:`GOLD_NAMES`).

    Parameters
    ----------
    names : sequence of str, optional
        The input's column names (None: unnamed input).

    Returns
    -------
    list of str
    """
    return [c for c in names or () if c.strip().lower() in GOLD_NAMES]


def convention_hint(class_counts: np.ndarray, n_rows: float, name: str = "L") -> str | None:
    """A message where the votes look like another abstain convention than -1, else None.

    Parameters
    ----------
    class_counts : ndarray, shape (m, k)
        Rows on which each LF votes each class (:class:`tripletws.stats.LabelStats`).
    n_rows : float
        Rows of the matrix.
    name : str
        How the message calls the matrix.

    Returns
    -------
    str or None
        MeTaL's convention where no LF ever abstains, there are 3 or more classes and class 0 fills
        more than :data:`ZERO_SHARE` of the entries (a dense matrix of k >= 3 classes, every LF voting
        on every row, is not told: its class 0 holds about 1/k of the entries); Snorkel 0.7's
        and FlyingSquid's where, with 2 classes and some -1, class 0 fills more than
        :data:`ZERO_SHARE` of the entries (abstaining is the common case for LFs).  Dense -1 / +1
        votes (no 0) are not told: they read as LFs that vote class 1 only, a case of its own.
    """
    counts = np.asarray(class_counts, dtype=np.float64)
    m, k = counts.shape
    entries = float(n_rows) * m
    if entries <= 0:
        return None
    abstains = entries - float(counts.sum())
    zeros = float(counts[:, 0].sum())
    here = "here -1 = abstain and the classes are 0..k-1"
    if abstains < 0.5 and k >= 3 and zeros > ZERO_SHARE * entries:
        return (
            f"{name} holds no -1 (no LF ever abstains) and {k} classes 0..{k - 1}: if its 0 means abstain "
            f"and its classes are 1..{k - 1} (MeTaL, Snorkel 0.7), convert it with tripletws.from_metal(L) "
            f"and fit with cardinality={k - 1}; {here}"
        )
    if k == 2 and abstains >= 0.5 and zeros > ZERO_SHARE * entries:
        return (
            f"0 fills {zeros / entries:.0%} of {name}'s entries (votes for class 0 here) and -1 "
            f"{abstains / entries:.0%} (abstentions here): if its 0 means abstain and its votes are -1 / +1 "
            f"(Snorkel 0.7, FlyingSquid), convert it with tripletws.from_flyingsquid(L); {here}"
        )
    return None


def cardinality_hint(class_counts: np.ndarray, n_rows: float, name: str = "L") -> str | None:
    """A message where the cardinality looks like FlyingSquid's number of LFs, else None.

    FlyingSquid's ``LabelModel(m)`` takes the number of LFs first; here the first argument is the
    number of classes, so ``LabelModel(m)`` fits m classes to binary votes.  The parameters are
    :func:`convention_hint`'s.

    Returns
    -------
    str or None
        Where k >= 3 equals the number of LFs m and no LF votes a class above 1 (but some vote);
        with the FlyingSquid abstain convention's message too where the votes look like it.
    """
    counts = np.asarray(class_counts, dtype=np.float64)
    m, k = counts.shape
    if k < 3 or k != m or counts[:, 2:].sum() > 0 or counts[:, :2].sum() <= 0:
        return None
    message = (
        f"cardinality={k} equals the number of LFs and no LF votes a class above 1: the first argument is "
        f"the number of classes k, not FlyingSquid's m (the number of LFs, read from {name} here); for "
        "two classes use cardinality=2 (the default)"
    )
    convention = convention_hint(counts[:, :2], n_rows, name)
    return message if convention is None else f"{message}. Also: {convention}"


#: FlyingSquid's argument and method names that tripletws does not take, with what it takes instead
#: (its ``LabelModel``, ``fit`` and ``FSLoss``; names tripletws shares, such as ``class_balance``, are
#: left out).
FLYINGSQUID_NAMES = {
    "m": "the number of LFs is read from the label matrix (the first argument is cardinality, the number "
    "of classes)",
    "v": "frames per window are SequenceLabelModel(window=v) (or whole sequences, fit(L, sequence_ids=...)), "
    "on L with one row per frame, not reshaped to (n / v, m * v); the loss over sequences is "
    "SequenceWeakSupervisionLoss",
    "y_edges": "SequenceLabelModel's labels always form a chain over the frames (persistence estimated, or "
    "persistence=)",
    "task_deps": "SequenceLabelModel's labels always form a chain over the frames (persistence estimated, or "
    "persistence=)",
    "lambda_y_edges": "no LF-to-frame edges are needed: each row of L is one frame with the same m LFs",
    "lf_task_deps": "no LF-to-frame edges are needed: each row of L is one frame with the same m LFs",
    "lambda_edges": "dependent LF pairs are dependencies=[(i, j), ...]",
    "lf_deps": "dependent LF pairs are label_model=LabelModel(model='symmetric', dependencies=[(i, j), ...])",
    "allow_abstentions": "abstentions (-1) are always allowed",
    "triplets": "the triplet solvers use every usable triplet: LabelModel(model='symmetric', "
    "solver='triplet' | 'triplet_mean' | 'triplet_median')",
    "triplet_seed": "the solves are deterministic; nothing to seed",
    "solve_method": "the solver is a constructor setting: LabelModel(model='symmetric', solver='triplet' | "
    "'triplet_mean' | 'triplet_median') (SequenceLabelModel(solver=...))",
    "sign_recovery": "the constructor's signs= ('all_positive', the default, or 'eigen')",
    "flip_negative": "probabilities are always valid; nothing to flip",
    "clamp": "probabilities are always valid; nothing to clamp",
    "verbose": "logging is the constructor's verbose=",
    "cb": "the class balance is label_model=LabelModel(class_balance=[p0, p1])",
    "buffer_capacity": "the label model keeps all rows of the stream, or the last w batches with "
    "label_model=LabelModel(window=w) (or forget=)",
    "update_frequency": "update_every= counts training batches (the label model solves when its "
    "refit_growth says)",
    "clamp_vals": "no clamping: the loss trains on the soft labels",
    "pos_weight": "no class weights: the loss is the cross-entropy with the soft labels",
    "Y_dev": "a dev set's class frequencies are fit(L, Y_dev=...) (the loss: "
    "label_model=LabelModel(class_balance=...))",
    "predict_proba_marginalized": "predict_proba(L) gives (n, k) per row (per frame for "
    "SequenceLabelModel); its column 1 is FlyingSquid's P(Y = +1)",
    "estimated_accuracies": "the accuracies_ attribute (P(LF right | LF votes), shape (m,))",
    "enumerate_ys": "no joint label vectors: predict_proba(L) gives per-frame marginals",
}

#: The names above that are FlyingSquid's methods, not arguments.
FLYINGSQUID_METHODS = frozenset({"predict_proba_marginalized", "estimated_accuracies", "enumerate_ys"})


#: Snorkel's LabelModel methods and attributes that tripletws names otherwise, with what to use.
SNORKEL_NAMES = {
    "get_accuracies": "get_weights() (or the accuracies_ attribute): P(LF right | LF votes), shape (m,)",
    "mu": "get_conditional_probs() gives P(LF votes a | Y), shape (m, k + 1, k), abstain first (Snorkel's mu "
    "is its vote rows, [:, 1:, :], stacked)",
    "train_model": "fit(L_train) (Snorkel's SGD options are accepted there and ignored)",
}


def flyingsquid_argument_error(
    where: str, names: Sequence[str], skip: Sequence[str] = ()
) -> TypeError | None:
    """A TypeError for FlyingSquid arguments among ``names``, saying what tripletws takes instead.

    Parameters
    ----------
    where : str
        The call, as the message names it (``"LabelModel()"``, ``"fit()"``).
    names : sequence of str
        Keyword arguments of the call.
    skip : sequence of str
        Names the call does take (never reported).

    Returns
    -------
    TypeError or None
        None where no name is FlyingSquid's (the call's own TypeError then says what is wrong).
    """
    found = [n for n in names if n in FLYINGSQUID_NAMES and n not in FLYINGSQUID_METHODS and n not in skip]
    if not found:
        return None
    if len(found) == 1:
        return TypeError(
            f"{where} got an unexpected keyword argument {found[0]!r} (FlyingSquid's): "
            f"{FLYINGSQUID_NAMES[found[0]]}"
        )
    said = "; ".join(f"{n!r}: {FLYINGSQUID_NAMES[n]}" for n in found)
    return TypeError(f"{where} got unexpected keyword arguments (FlyingSquid's): {said}")


def flyingsquid_attribute_message(owner: str, name: str) -> str:
    """The message of a missing attribute ``name`` of ``owner``, with the equivalent of FlyingSquid's
    (:data:`FLYINGSQUID_METHODS`) or Snorkel's (:data:`SNORKEL_NAMES`).

    Parameters
    ----------
    owner : str
        The class name.
    name : str
        The attribute looked up.

    Returns
    -------
    str
    """
    message = f"{owner!r} object has no attribute {name!r}"
    if name in FLYINGSQUID_METHODS:
        message += f" (FlyingSquid's): {FLYINGSQUID_NAMES[name]}"
    elif name in SNORKEL_NAMES:
        message += f" (Snorkel's): {SNORKEL_NAMES[name]}"
    return message


def boolean_votes(L: object) -> bool:
    """Whether ``L`` holds booleans (a numpy or torch bool array, or a DataFrame whose columns are all
    bool): valid votes 0 and 1, but most likely a mask of where LFs fired.  A scipy.sparse matrix is
    not one: its shifted encoding reads a stored True as a vote for class 0, an absent entry as an
    abstention."""
    if is_sparse(L):
        return False
    dtype = getattr(L, "dtype", None)
    if dtype is not None:
        return str(dtype) in ("bool", "torch.bool")
    dtypes = getattr(L, "dtypes", None)
    if dtypes is None or not hasattr(L, "columns"):
        return False
    kinds = [str(d).lower() for d in list(dtypes)]  # pandas: bool / boolean; polars: Boolean
    return bool(kinds) and all(d in ("bool", "boolean") for d in kinds)


def warn_boolean_votes(L: object, name: str = "L") -> None:
    """Warn where the votes given to a fit are booleans (:func:`boolean_votes`): each cell is then a
    vote, False for class 0 and True for class 1, and no LF abstains anywhere."""
    if boolean_votes(L):
        warnings.warn(
            f"{name} holds booleans: they are read as votes, False for class 0 and True for class 1, on "
            "every row (no LF abstains). If True marks the rows where an LF fired, give its votes with "
            "abstentions instead, e.g. np.where(fired, label, -1), or cast to int to silence this",
            UserWarning,
            stacklevel=outside_stacklevel(),
        )


def warn_unlikely_input(
    class_counts: np.ndarray, n_rows: float, names: Sequence[str] | None, name: str = "L"
) -> None:
    """Warn (pointing at the caller outside the package) about the mistakes in the module's docstring.

    Parameters
    ----------
    class_counts : ndarray, shape (m, k)
        Rows on which each LF votes each class.
    n_rows : float
        Rows of the matrix.
    names : sequence of str, optional
        The matrix's column names (None: unnamed).
    name : str
        How the messages call the matrix.
    """
    for column in gold_like_columns(names):
        warnings.warn(
            f"column {column!r} of {name} looks like gold labels, not a labeling function: fitted, the gold "
            "enters the model as one more (perfect) LF; drop it from the votes and give it to score / "
            "evaluate instead",
            UserWarning,
            stacklevel=outside_stacklevel(),
        )
    hint = cardinality_hint(class_counts, n_rows, name) or convention_hint(class_counts, n_rows, name)
    if hint is not None:
        warnings.warn(hint, UserWarning, stacklevel=outside_stacklevel())
