"""Warnings at fit about input that is valid but most likely not what was meant.

Two mistakes of users coming from other libraries pass every check of the label matrix and fit
without error, to a wrong model:

- **another abstain convention**: MeTaL's (0 = abstain, classes 1..k) fitted with one class too
  many, whose "class 0" is every abstention; Snorkel 0.7's and FlyingSquid's (0 = abstain, votes
  -1 / +1), whose abstentions become class-0 votes and whose -1 votes abstentions;
- **the gold labels left among the votes** (a DataFrame or a CSV with its ``label`` column): the
  gold is then fitted as one more, perfect, LF.

Both are told from the fit's statistics (votes per LF and class, no pass over the rows) and the
input's column names, and warned about once per fit; the fit itself is unchanged.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from .caller import outside_stacklevel

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
    hint = convention_hint(class_counts, n_rows, name)
    if hint is not None:
        warnings.warn(hint, UserWarning, stacklevel=outside_stacklevel())
