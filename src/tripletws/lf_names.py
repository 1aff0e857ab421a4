"""The LFs' column names: taken from named input at fit, checked against named input afterwards.

A pandas DataFrame (or a CSV with a header, a Parquet file, read by the command line) names its
columns.  A model fitted on named columns keeps the names (``LabelModel.lf_names_``, saved in its
file), and every later matrix that names its columns must name the same LFs in the same order:
columns reordered or swapped between files would otherwise be read as the wrong LFs without any
error (scikit-learn's ``feature_names_in_`` check is the model).  Column labels other than text
name the columns too, as text: whole numbers by their digits, a MultiIndex's tuples by their parts
joined with "/".  Unnamed input (a numpy array, a DataFrame with the default column labels 0..m-1
in order) is matched by position, as always.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .matrix import LabelMatrixError

#: Most mismatched positions named in an error.
SHOWN = 3


def names_of(L: Any) -> tuple[str, ...] | None:
    """The column names of ``L`` where it names every column with a distinct string (a pandas, polars or
    dask DataFrame, a pyarrow Table or RecordBatch)."""
    if type(L).__module__.startswith("pyarrow") and hasattr(L, "column_names") and hasattr(L, "num_rows"):
        columns: Any = [str(c) for c in L.column_names]  # as matrix.plain_input names its votes
    else:
        columns = _frame_columns(L)
        if columns is None:
            return None
    names = list(columns)
    if not names:
        return None
    if not all(isinstance(c, str) for c in names):
        if _default_positions(columns, names):
            return None  # pandas' default columns 0..m-1: unnamed, matched by position
        # other labels (numbers, a MultiIndex's tuples) name the columns too, as text
        names = [_label_text(c) for c in names]
        if any(n is None for n in names):
            return None
    if len(set(names)) != len(names):
        return None  # names that cannot tell the columns apart: matched by position
    return tuple(names)


def column_labels(L: Any) -> list[Any] | None:
    """The column labels of ``L`` as the frame has them, to index a summary: a pandas frame's numbers
    stay numbers and its MultiIndex tuples stay tuples (the model keeps them as text, ``"10"`` and
    ``"a/1"``), and labels that cannot name LFs (floats, repeated) are kept too, so that the summary
    is found by the frame's own labels; other input's names (:func:`names_of`) are
    text already.  None for unnamed input: a numpy array, a frame with the default labels 0..m-1."""
    columns = _frame_columns(L)
    if columns is not None and type(columns).__module__.startswith("pandas"):
        labels = list(columns)
        return None if not labels or _default_positions(columns, labels) else labels
    named = names_of(L)
    return None if named is None else list(named)


def _frame_columns(L: Any) -> Any:
    """The column labels of a frame: a pandas (or polars) DataFrame (``to_numpy``), a dask DataFrame
    (its columns are known without computing); None for other input."""
    columns = getattr(L, "columns", None)
    frame = hasattr(L, "to_numpy") or type(L).__module__.startswith("dask.dataframe")
    return columns if frame else None


def _reordered_positions(L: Any) -> bool:
    """Whether ``L`` is a frame whose column labels are the whole numbers 0..m-1 in another order."""
    columns = _frame_columns(L)
    if columns is None:
        return False
    labels = list(columns)
    if not all(isinstance(c, numbers.Integral) and not isinstance(c, bool) for c in labels):
        return False
    positions = sorted(int(c) for c in labels) == list(range(len(labels)))
    return positions and not _default_positions(columns, labels)


def _default_positions(columns: Any, names: list[Any]) -> bool:
    """Whether the columns are a frame's default labels: 0, 1, ..., m-1 in order (a pandas RangeIndex)."""
    if type(columns).__name__ == "RangeIndex":
        return columns.start == 0 and columns.step == 1
    whole = (isinstance(c, numbers.Integral) and not isinstance(c, bool) for c in names)
    return all(w and int(c) == i for i, (w, c) in enumerate(zip(whole, names, strict=True)))


def _label_text(label: Any) -> str | None:
    """A column label other than text as a name: a whole number as its digits, a tuple's parts
    joined by "/" (a pandas MultiIndex), None for anything else (missing values, floats, objects).
    Text beside them is itself (labels ``["kw", 1]`` name the columns "kw" and "1")."""
    if isinstance(label, str):
        return label
    if isinstance(label, tuple):
        parts = [_label_text(p) for p in label]
        return None if any(p is None for p in parts) else "/".join(parts)  # type: ignore[arg-type]
    if isinstance(label, numbers.Integral) and not isinstance(label, bool):
        return str(int(label))
    return None


def check_names(
    expected: tuple[str, ...] | None,
    L: Any,
    name: str = "L",
    classes: tuple[Any, ...] | None = None,
    fitted: bool = True,
) -> None:
    """Raise ValueError where ``L`` names its columns otherwise than ``expected`` (both named), or
    codes its classes otherwise than ``classes`` (both known).

    Parameters
    ----------
    expected : tuple of str, optional
        The names the model was fitted with (None: nothing to check).
    L : label matrix
        Input whose names, if it has any (:func:`names_of`), are compared position by position.
    name : str
        How the error calls ``L``.
    classes : tuple, optional
        The labels the model's class codes stand for (``LabelModel.class_names_``; None: unknown).
    fitted : bool
        Whether ``expected`` is a fit's (False: the first batch of a fit, whose labels name its LFs
        whatever they are, ``df[[2, 0, 1]]`` included).
    """
    given = names_of(L)
    if expected is not None and given is None:
        _check_unnamed_frame(expected, L, name)
    if fitted and expected is None and given is not None and _reordered_positions(L):
        # a model fitted on unnamed columns matches them by position; a DataFrame whose integer
        # labels are those positions in another order is most likely a default frame reordered
        moved = [j for j, c in enumerate(given) if c != str(j)]
        shown = ", ".join(f"column {j} is labelled {given[j]}" for j in moved[:SHOWN])
        raise ValueError(
            f"{name}'s columns are labelled 0..{len(given) - 1} in another order ({shown}), and the "
            "model was fitted on unnamed columns, which are matched by position: reorder them "
            f"({name}[sorted({name}.columns)]), or pass {name}.to_numpy() if they are in the fit's order"
        )
    compare_names(expected, given, name)
    compare_classes(classes, classes_of(L), name)


def _check_unnamed_frame(expected: tuple[str, ...], L: Any, name: str) -> None:
    """ValueError where ``L`` is a frame without names (:func:`names_of`) given to a model fitted on named
    columns, unless its labels are the default 0..m-1 in order and the model's LFs are not named by those
    numbers in another order: labels that cannot name the columns (repeated, floats, missing values) or
    default labels whose numbers name the model's LFs at other positions would be matched by position."""
    columns = _frame_columns(L)
    labels = [] if columns is None else list(columns)
    if not labels:
        return  # not a frame (matched by position), or no columns (the shape check says so)
    shown = ", ".join(repr(c) for c in expected[: SHOWN * 2]) + (", ..." if len(expected) > SHOWN * 2 else "")
    if _default_positions(columns, labels):
        numbers_ = [str(j) for j in range(len(labels))]
        if sorted(expected) != sorted(numbers_) or tuple(expected) == tuple(numbers_):
            return  # default labels, matched by position
        raise ValueError(
            f"{name}'s columns have the default labels 0..{len(labels) - 1}, and the model's LFs are named "
            f"by those numbers in another order ([{shown}]): column j of {name} would be read as the "
            f"fit's LF at position j, not the LF named j; reorder them ({name}[[{', '.join(expected)}]]), "
            f"or pass {name}.to_numpy() if they are in the fit's order"
        )
    raise ValueError(
        f"{name}'s column labels {labels[: SHOWN * 2]} cannot name the model's LFs ([{shown}]): they repeat, "
        "or are not text or whole numbers; label the columns as at fit, or pass "
        f"{name}.to_numpy() (matched by position) if they are in the fit's order"
    )


def check_fitted_names(model: Any, L: Any, name: str = "L") -> None:
    """:func:`check_names` against a fitted model's ``lf_names_`` and ``class_names_`` (where it has them)."""
    check_names(getattr(model, "lf_names_", None), L, name, classes=getattr(model, "class_names_", None))


def classes_of(L: Any) -> tuple[Any, ...] | None:
    """The labels that the class codes of ``L`` stand for, where it says (crowd answers' votes)."""
    return getattr(L, "classes", None) if isinstance(L, NamedVotes) else None


def compare_classes(expected: tuple[Any, ...] | None, given: tuple[Any, ...] | None, name: str) -> None:
    """ValueError where ``L``'s codes stand for other labels than the model's (both known)."""
    if expected is None or given is None or _typed(given) == _typed(expected):
        return
    raise ValueError(
        f"{name} codes the labels {list(given)[: SHOWN * 3]} as classes 0..{len(given) - 1}, the model "
        f"{list(expected)[: SHOWN * 3]}: the same code would mean another label. Read the answers with "
        "from_answers(..., classes=model.class_names_, workers=model.lf_names_)"
    )


def _typed(labels: tuple[Any, ...]) -> tuple[tuple[str, Any], ...]:
    """Labels with their JSON type, so that 1 and "1" (two classes of one answers table) differ."""
    return tuple((type(v).__name__, v) for v in labels)


def label_value(label: Any) -> Any:
    """A label as a JSON value: a bool, int, float or str (another type as its text)."""
    if isinstance(label, (bool, np.bool_)):
        return bool(label)
    if isinstance(label, (int, np.integer)):
        return int(label)
    if isinstance(label, (float, np.floating)):
        return float(label)
    return label if isinstance(label, str) else str(label)


def read_class_names(record: Any, k: int) -> tuple[Any, ...] | None:
    """The ``class_names`` field of a model file, validated (k distinct JSON scalars, or None)."""
    if record is None:
        return None
    if not isinstance(record, list) or not all(isinstance(v, (bool, int, float, str)) for v in record):
        raise ValueError("class_names must be a list of labels (numbers, text, true/false) or null")
    if len(record) != k:
        raise ValueError(f"class_names has {len(record)} labels for {k} classes")
    if len(set(_typed(tuple(record)))) != len(record):
        raise ValueError("class_names repeats a label")
    return tuple(record)


def compare_names(
    expected: tuple[str, ...] | None, given: tuple[str, ...] | list[str] | None, name: str
) -> None:
    """:func:`check_names` on the names themselves (``given``: the input's, None when unnamed)."""
    if expected is None or given is None or tuple(given) == tuple(expected):
        return
    expected, given = tuple(expected), tuple(given)
    if sorted(given) == sorted(expected):
        moved = [j for j, (a, b) in enumerate(zip(given, expected, strict=True)) if a != b]
        shown = ", ".join(f"column {j} is {given[j]!r}, expected {expected[j]!r}" for j in moved[:SHOWN])
        more = f" (and {len(moved) - SHOWN} more)" if len(moved) > SHOWN else ""
        raise ValueError(
            f"{name} names the model's LFs in another order: {shown}{more}; reorder its columns as at fit"
        )
    unknown = [c for c in given if c not in set(expected)]
    missing = [c for c in expected if c not in set(given)]
    if not unknown:  # columns left out
        raise ValueError(
            f"{name} has {len(given)} named columns for the model's {len(expected)} LFs: missing "
            f"{missing[:SHOWN]}; give the columns the model was fitted with, in that order"
        )
    lost = f" (the fit's LFs {missing[:SHOWN]} are missing)" if missing else ""
    raise ValueError(
        f"{name} names columns the model was not fitted with: {unknown[:SHOWN]}{lost}; give the columns "
        "the model was fitted with, in that order"
    )


def read_names(record: Any, n_lfs: int) -> tuple[str, ...] | None:
    """The ``lf_names`` field of a model file, validated (a list of ``n_lfs`` distinct strings, or None)."""
    if record is None:
        return None
    if not isinstance(record, list) or not all(isinstance(c, str) for c in record):
        raise ValueError("lf_names must be a list of strings or null")
    if len(record) != n_lfs:
        raise ValueError(f"lf_names has {len(record)} names for {n_lfs} LFs")
    if len(set(record)) != len(record):
        raise ValueError("lf_names repeats a name")
    return tuple(record)


_COLUMN_IN_MESSAGE = re.compile(r"in column (\d+)(?! \(')")  # not one already named


def name_columns(exc: LabelMatrixError, names: tuple[str, ...] | list[str] | None) -> LabelMatrixError:
    """``exc`` with each column it names followed by its name (``in column 3 ('caps')``)."""
    if names is None:
        return exc

    def named(m: re.Match[str]) -> str:
        j = int(m.group(1))
        return f"in column {j} ({names[j]!r})" if j < len(names) else m.group(0)

    return LabelMatrixError(_COLUMN_IN_MESSAGE.sub(named, str(exc)))


#: A note's list of LFs: ``LF(s) 0, 3 (class 1), 7 (of 2: share 0.80, accuracy 0.712)``.
_LF_LIST = re.compile(r"LF\(s\) (\d+(?: \([^()]*\))?(?:, \d+(?: \([^()]*\))?)*)")
#: An LF's index in such a list: at its start or after ", ", before its parenthesis, a comma or the end.
_LF_ITEM = re.compile(r"(?:^|(?<=, ))(\d+)(?= \(|,|$)")


def name_lfs(note: str, names: tuple[str, ...] | list[str] | None) -> str:
    """A note whose lists of LFs (``LF(s) 2, 9 ...``) also give each LF's name, when the input named its
    columns (``"LF(s) 2 'kw_spam', 9 'caps' are ..."``); unchanged without names.

    Parameters
    ----------
    note : str
    names : sequence of str, optional
        The LFs' names, by index.

    Returns
    -------
    str
    """
    if not names:
        return note

    def item(m: re.Match[str]) -> str:
        j = int(m.group(1))
        return f"{j} {names[j]!r}" if j < len(names) else m.group(0)

    return _LF_LIST.sub(lambda m: "LF(s) " + _LF_ITEM.sub(item, m.group(1)), note)


@contextmanager
def columns_named(names: tuple[str, ...] | list[str] | None) -> Iterator[None]:
    """Label-matrix errors raised inside name the column too, when the input named its columns."""
    try:
        yield
    except LabelMatrixError as exc:
        if names is None:
            raise
        raise name_columns(exc, names) from exc


class NamedVotes:
    """A 2-D array with column names, read like a DataFrame by the fit (``to_numpy``, ``columns``):
    the command line's named files (a CSV header, Parquet) without needing pandas.

    Parameters
    ----------
    values : ndarray, shape (n, m)
    columns : sequence of m str
    library_codes : bool
        The class codes were assigned by tripletws itself (:func:`tripletws.crowd.from_answers` codes
        the crowd's labels 0..k-1): the fit's hints about other libraries' conventions
        (:mod:`tripletws.hints`: another abstain code, a gold column, FlyingSquid's ``m``) do not apply.
    classes : sequence, optional
        The labels the class codes 0..k-1 stand for (JSON values, :func:`label_value`): a model
        fitted on these votes keeps them (``class_names_``) and refuses votes that code other labels.
    """

    def __init__(
        self, values: Any, columns: Any, *, library_codes: bool = False, classes: Any = None
    ) -> None:
        self.values = values
        self.columns = list(columns)
        self.library_codes = library_codes
        self.classes = None if classes is None else tuple(label_value(c) for c in classes)
        if len(self.columns) != values.shape[1]:
            raise ValueError(f"{len(self.columns)} names for {values.shape[1]} columns")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def to_numpy(self, dtype: Any = None, na_value: Any = None) -> Any:
        """The values (no copy unless ``dtype`` asks for another type)."""
        return self.values if dtype is None else np.asarray(self.values, dtype=dtype)
