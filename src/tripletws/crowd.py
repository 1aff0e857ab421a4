"""Crowdsourced answers in long form (one row per task, worker and label) <-> a label matrix.

Crowdsourcing tools and crowd-kit keep answers as a table with the columns ``task``, ``worker``
and ``label`` (crowd-kit before 1.0 called the worker ``performer``).  :func:`from_answers` turns
such a table into the label matrix the label models read: one row per task, one column per worker
(the workers are the labeling functions), -1 where a worker did not answer the task, the labels
coded 0..k-1.  The matrix is a ``scipy.sparse`` one (class c stored as c + 1, the library's sparse
convention): a crowd of hundreds of workers who each see a few tasks stays small.  The result
keeps the task ids, the worker ids and the labels, so that predictions go back to them::

    from tripletws import LabelModel
    from tripletws.crowd import from_answers

    crowd = from_answers(df)                          # df: columns task, worker, label
    model = LabelModel(cardinality=crowd.cardinality).fit(crowd.votes)
    labels = crowd.series(model.predict(crowd.votes, tie_break_policy="random"))   # task -> label
    probs = crowd.frame(model.predict_proba(crowd.votes))                          # task x label

:func:`aggregate` and :func:`aggregate_proba` do those steps in one call, as crowd-kit's
``fit_predict`` and ``fit_predict_proba`` do.  Nothing is dropped on the way: a missing value, a
label outside ``classes`` or a worker answering a task twice is a ``ValueError`` that names its
row (``duplicates=`` keeps the first or last answer instead, when asked).

pandas is needed (``pip install tripletws[pandas]``); it is imported when a function is called.
"""

from __future__ import annotations

import numbers
import os
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .caller import outside_stacklevel
from .matrix import MAX_CARDINALITY

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .base import BaseLabeler

#: Column names read when the caller does not name them (crowd-kit's; ``performer`` before 1.0).
TASK, WORKER, LABEL, OLD_WORKER = "task", "worker", "label", "performer"
#: What ``duplicates=`` accepts: refuse a second answer of a worker to a task, or keep one.
DUPLICATES = ("error", "first", "last")
#: The name of the series :func:`aggregate` returns (crowd-kit's).
AGGREGATE_NAME = "agg_label"
#: The integer labels a series of pandas' nullable ``Int64`` holds (others are kept as objects).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class CrowdMatrix:
    """Answers as a label matrix, with the ids that map its rows, columns and classes back.

    Attributes
    ----------
    L : scipy.sparse.csr_array, shape (n_tasks, n_workers)
        Class c stored as c + 1; a worker's missing answer is an implicit zero (abstain).
    tasks : pandas.Index, shape (n_tasks,)
        The task of each row, in the order of first appearance in the answers.
    workers : pandas.Index, shape (n_workers,)
        The worker of each column, in the order of first appearance (or as ``workers=`` gave).
    classes : tuple, length k
        The label of each class code 0..k-1.
    """

    L: Any
    tasks: pd.Index
    workers: pd.Index
    classes: tuple

    @property
    def cardinality(self) -> int:
        """The number of classes k."""
        return len(self.classes)

    @property
    def worker_names(self) -> list[str]:
        """The workers' ids as text: the labeling functions' names a fit on :attr:`votes` keeps."""
        return [str(w) for w in self.workers]

    @property
    def votes(self) -> Any:
        """:attr:`L` with the workers' ids as its column names, for ``fit`` / ``predict_proba``.

        A model fitted on it keeps the workers' ids (``lf_names_``) and the labels (``class_names_``),
        both saved in its file, and refuses later votes whose workers are other ones or in another
        order, or whose codes stand for other labels.  The fit's hints about label
        matrices of other libraries (another abstain code, a column of gold labels, FlyingSquid's
        ``m``) are not given for it: its codes are the answers' labels, coded here.
        """
        from .lf_names import NamedVotes

        return NamedVotes(self.L, self.worker_names, library_codes=True, classes=self.classes)

    def task_keys(self) -> np.ndarray:
        """A fixed 64-bit key of each task id, shape (n_tasks,): what the ``"random"`` tie-break hashes
        (:func:`predict_tasks`), so that a tied task keeps its label however the answers are ordered
        (the row index, Snorkel's key, follows the order of the tasks' first answers).  The keys are
        pandas' hash of each id's ``repr``: the same on every run and machine."""
        import pandas as pd

        return pd.util.hash_array(np.array([repr(t) for t in self.tasks.tolist()], dtype=object))

    def dense(self) -> np.ndarray:
        """The label matrix as a dense int array, shape (n_tasks, n_workers), -1 = no answer.

        Written straight into the smallest integer type that holds the codes (int8 for k <= 127):
        no wider copy of the whole matrix on the way.
        """
        from .kernels import small_int_dtype

        out = np.full(self.L.shape, -1, dtype=small_int_dtype(self.cardinality))
        coo = self.L.tocoo()
        out[coo.row, coo.col] = coo.data - 1
        return out

    def series(self, preds: Any, name: str = AGGREGATE_NAME) -> pd.Series:
        """Class codes per row -> a Series of labels indexed by task (a missing value where -1).

        Parameters
        ----------
        preds : array-like of int, shape (n_tasks,)
            Codes 0..k-1, or -1 (a prediction that abstains, e.g. a tie under ``"abstain"``).
        name : str
            The series' name (crowd-kit's ``agg_label``).
        """
        import pandas as pd

        codes = np.asarray(preds)
        if codes.shape != (len(self.tasks),):
            raise ValueError(f"preds must have shape ({len(self.tasks)},) (one per task), got {codes.shape}")
        if codes.dtype.kind not in "iu":
            raise ValueError(f"preds must hold integer class codes, got dtype {codes.dtype}")
        bad = (codes < -1) | (codes >= self.cardinality)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"preds[{i}] = {int(codes[i])} is not a class code 0..{self.cardinality - 1} or -1"
            )
        values = [None if c < 0 else self.classes[c] for c in codes.tolist()]
        if all(
            isinstance(c, numbers.Integral) and not isinstance(c, bool) and INT64_MIN <= c <= INT64_MAX
            for c in self.classes
        ):
            data = pd.array(values, dtype="Int64")
        else:
            data = pd.array(values, dtype=object)
        return pd.Series(data, index=self.tasks.copy(), name=name)

    def frame(self, proba: Any) -> pd.DataFrame:
        """Probabilities per row -> a DataFrame indexed by task with one column per label.

        Parameters
        ----------
        proba : array-like of float, shape (n_tasks, k)
        """
        import pandas as pd

        p = np.asarray(proba, dtype=np.float64)
        shape = (len(self.tasks), self.cardinality)
        if p.shape != shape:
            raise ValueError(f"proba must have shape {shape} (tasks x classes), got {p.shape}")
        return pd.DataFrame(p, index=self.tasks.copy(), columns=pd.Index(list(self.classes), name=LABEL))

    def skills(self, model: Any, name: str = "skill") -> pd.Series:
        """Each worker's fitted accuracy, P(answer right | the worker answers), indexed by worker
        (crowd-kit's ``skills_``).

        Parameters
        ----------
        model : fitted label model
            Fitted on :attr:`votes` (or on votes with the same workers in the same order).
        name : str
            The series' name.

        Raises
        ------
        ValueError
            A model fitted on another number of workers, or on other workers (by name).
        """
        import pandas as pd

        try:
            fitted = model.accuracies_
        except AttributeError as exc:
            if isinstance(exc, ValueError):  # the library's NotFittedError: "call fit first"
                raise
            raise ValueError(
                f"{type(model).__name__} has no per-worker accuracies (accuracies_): skills come from a "
                "fitted LabelModel"
            ) from None
        accuracies = np.asarray(fitted, dtype=np.float64)
        if accuracies.shape != (len(self.workers),):
            raise ValueError(
                f"the model was fitted on {accuracies.shape[0]} LFs, not on these {len(self.workers)} workers"
            )
        names = getattr(model, "lf_names_", None)
        if names is not None and tuple(names) != tuple(self.worker_names):
            raise ValueError(
                "the model's LFs are other workers, or in another order: read the answers with "
                "from_answers(..., workers=model.lf_names_)"
            )
        return pd.Series(accuracies, index=self.workers.copy(), name=name)

    def gold(self, labels: Any) -> np.ndarray:
        """Known labels of some tasks -> gold codes aligned with the rows, shape (n_tasks,).

        Parameters
        ----------
        labels : pandas.Series indexed by task, or a mapping task -> label
            Tasks absent from it get -1 (unknown); a missing value is unknown too.

        Raises
        ------
        ValueError
            A task that has no answers (it has no row), a task given twice, or a label that is not
            one of :attr:`classes`.
        """
        import pandas as pd

        if isinstance(labels, pd.DataFrame):
            raise ValueError(
                "gold labels are a Series indexed by task (crowd-kit's ground truth) or a mapping task -> "
                f"label, got a DataFrame: pass df.set_index({self.tasks.name!r})[<label column>]"
            )
        if isinstance(labels, pd.Series):
            given = labels
        else:
            try:
                given = pd.Series(dict(labels), dtype=object)
            except (TypeError, ValueError):
                raise ValueError(
                    "gold labels are a Series indexed by task or a mapping task -> label, got "
                    f"{type(labels).__name__}"
                ) from None
        if given.index.has_duplicates:
            task = given.index[given.index.duplicated()][0]
            raise ValueError(f"gold labels give task {_py(task)!r} more than once")
        rows = self.tasks.get_indexer(given.index)
        if (rows < 0).any():
            unknown = given.index[rows < 0]
            raise ValueError(
                f"gold labels name {len(unknown)} task(s) without answers, e.g. {_py(unknown[0])!r}: "
                "they have no row to score"
            )
        codes = _label_codes(given.to_numpy(dtype=object), {c: i for i, c in enumerate(self.classes)})
        if (codes == NOT_A_CLASS).any():
            i = int(np.argmax(codes == NOT_A_CLASS))
            raise ValueError(
                f"gold label {_py(given.iloc[i])!r} of task {_py(given.index[i])!r} is not one of the "
                f"classes {list(self.classes)!r}"
            )
        y = np.full(len(self.tasks), -1, dtype=np.int64)
        known = codes >= 0
        y[rows[known]] = codes[known]
        return y


def from_answers(
    answers: Any,
    *,
    task: str = TASK,
    worker: str | None = None,
    label: str = LABEL,
    classes: Any = None,
    workers: Any = None,
    duplicates: str = "error",
) -> CrowdMatrix:
    """Long-form answers (task, worker, label) -> a :class:`CrowdMatrix`.

    Parameters
    ----------
    answers : pandas.DataFrame (or anything ``pandas.DataFrame`` accepts), shape (n_answers, >= 3)
        One row per answer.
    task, label : str
        The columns of the task ids and of the labels.
    worker : str, optional
        The column of the worker ids; by default ``worker``, or ``performer`` (crowd-kit < 1.0)
        when there is no ``worker`` column.
    classes : sequence, optional
        The labels, in class-code order (k = its length; a list or tuple, not a set, which has no
        order, nor one text; no missing value).  By default: 0..max when every label is
        a whole number >= 0 and they use at least half of 0..max (so integer labels keep their value
        as their code, a class nobody chose included), else the distinct labels sorted (text,
        negative numbers, ids such as 200 and 404).
    workers : sequence, optional
        The columns' workers, in order (e.g. a fitted model's ``lf_names_``, to predict with it on
        new answers).  An answer by a worker not in it is a ValueError; a worker in it without
        answers gets an empty column.  Compared as text.  By default the workers in the order of
        their first answer.
    duplicates : {"error", "first", "last"}
        A second answer of a worker to the same task: refused (naming both rows), or the first or
        the last one kept.

    Returns
    -------
    CrowdMatrix

    Raises
    ------
    ValueError
        A missing column, a missing task / worker / label (naming the row), a label not in
        ``classes``, fewer than two classes, a duplicate answer under ``duplicates="error"``.
    """
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError("tripletws.crowd needs pandas: pip install 'tripletws[pandas]'") from exc
    import scipy.sparse as sp

    if duplicates not in DUPLICATES:
        raise ValueError(f"duplicates must be one of {DUPLICATES}, got {duplicates!r}")
    if isinstance(answers, (str, bytes, os.PathLike)):
        raise ValueError(
            f"answers are a table (a pandas DataFrame), got a {type(answers).__name__} "
            f"{os.fsdecode(answers)!r}: read the file first (pandas.read_csv / read_parquet), or use the "
            "command line's tripletws aggregate FILE"
        )
    try:
        frame = answers if isinstance(answers, pd.DataFrame) else pd.DataFrame(answers)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"answers are a table (a pandas DataFrame, or what it accepts), got {type(answers).__name__}: "
            f"{exc}"
        ) from exc
    if worker is None:
        worker = OLD_WORKER if WORKER not in frame.columns and OLD_WORKER in frame.columns else WORKER
    for role, column in (("task", task), ("worker", worker), ("label", label)):
        if column not in frame.columns:
            raise ValueError(
                f"the answers have no {role} column {column!r} (columns: {list(map(str, frame.columns))}); "
                f"name it with {role}= (the command line's --{role})"
            )
    if len({task, worker, label}) < 3:
        raise ValueError(
            f"task, worker and label must be three different columns, got {task!r}, {worker!r}, {label!r}"
        )
    for column in (task, worker, label):
        if int((frame.columns == column).sum()) > 1:
            raise ValueError(
                f"the answers have {int((frame.columns == column).sum())} columns named {column!r}"
            )
    for column in (task, worker, label):
        missing = frame[column].isna().to_numpy()
        if missing.any():
            i = int(np.argmax(missing))
            raise ValueError(f"answer {i} (index {_py(frame.index[i])!r}) has no {column!r}")
    task_codes, tasks = _factorize_ids(frame[task])
    worker_codes, worker_index = _factorize_ids(frame[worker])
    _warn_same_but_spaces(tasks, "task ids", task)
    _warn_same_but_spaces(worker_index, "worker ids", worker)
    _check_worker_names(worker_index)
    if workers is not None:
        worker_codes, worker_index = _fixed_workers(worker_codes, worker_index, workers)
    class_codes, class_labels = _class_codes(frame[label], classes)
    keep = _resolve_duplicates(task_codes, worker_codes, frame.index, duplicates, tasks, worker_index)
    n, m = len(tasks), len(worker_index)
    L = sp.csr_array(
        (
            (class_codes[keep] + 1).astype(np.int16),
            (task_codes[keep].astype(np.int64), worker_codes[keep].astype(np.int64)),
        ),
        shape=(n, m),
    )
    L.sort_indices()
    return CrowdMatrix(L, pd.Index(tasks, name=task), pd.Index(worker_index, name=worker), class_labels)


def aggregate(
    answers: Any,
    model: BaseLabeler | None = None,
    *,
    tie_break_policy: str = "random",
    **columns: Any,
) -> pd.Series:
    """Fit a label model on the answers and return each task's label (crowd-kit's ``fit_predict``).

    Parameters
    ----------
    answers : pandas.DataFrame
        Long-form answers, as :func:`from_answers` reads them.
    model : label model, optional
        An unfitted model to fit (its ``cardinality`` is set to the answers' class count); by default
        ``LabelModel()``.  It is fitted in place, so it can be inspected or saved afterwards.
    tie_break_policy : {"random", "abstain", "true-random"}
        For tasks whose top classes tie (``"random"``: a fixed hash of the task id, deterministic and
        the same however the answers are ordered; ``"abstain"``: a missing value).
    **columns
        ``task=``, ``worker=``, ``label=``, ``classes=``, ``duplicates=`` of :func:`from_answers`.

    Returns
    -------
    pandas.Series, shape (n_tasks,)
        Indexed by task, named ``agg_label``.
    """
    crowd, fitted = _fit(answers, model, columns)
    return crowd.series(predict_tasks(crowd, fitted, tie_break_policy)[0])


def predict_tasks(
    crowd: CrowdMatrix, model: BaseLabeler, tie_break_policy: str = "random", L: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each task's label code and class probabilities under a fitted ``model``: ``(preds, probs)``.

    As ``model.predict(..., return_probs=True)``, except that the ``"random"`` tie-break hashes the
    task ids (:meth:`CrowdMatrix.task_keys`), not the row index: the same answers in another order
    give the same labels.  ``L``: the votes to read (default ``crowd.votes``; ``crowd.L`` for a model
    that takes no names).
    """
    from .predictions import probs_to_preds

    votes = crowd.votes if L is None else L
    if tie_break_policy != "random":
        preds, probs = model.predict(votes, return_probs=True, tie_break_policy=tie_break_policy)
        return preds, probs
    probs = model.predict_proba(votes)
    return probs_to_preds(probs, "random", keys=crowd.task_keys()), probs


def aggregate_proba(answers: Any, model: BaseLabeler | None = None, **columns: Any) -> pd.DataFrame:
    """Fit a label model on the answers and return each task's class probabilities
    (crowd-kit's ``fit_predict_proba``).

    Parameters
    ----------
    answers, model, **columns
        As for :func:`aggregate`.

    Returns
    -------
    pandas.DataFrame, shape (n_tasks, k)
        Indexed by task, one column per label; rows sum to 1.
    """
    crowd, fitted = _fit(answers, model, columns)
    return crowd.frame(fitted.predict_proba(crowd.votes))


def _fit(answers: Any, model: BaseLabeler | None, columns: dict[str, Any]) -> tuple[CrowdMatrix, BaseLabeler]:
    """The answers read, and the model (a new ``LabelModel`` by default) fitted on them."""
    allowed = {"task", "worker", "label", "classes", "duplicates"}
    unknown = sorted(set(columns) - allowed)
    if unknown:
        raise TypeError(f"unexpected keyword argument(s) {unknown}; from_answers takes {sorted(allowed)}")
    if isinstance(model, type):
        raise TypeError(f"model must be a label model instance, e.g. {model.__name__}(), not the class")
    if model is not None and not (hasattr(model, "fit") and hasattr(model, "set_params")):
        raise TypeError(f"model must be a label model (with fit and set_params), got {type(model).__name__}")
    crowd = from_answers(answers, **columns)
    if model is None:
        from .model import LabelModel

        model = LabelModel()
    model.set_params(cardinality=crowd.cardinality)
    return crowd, _fit_votes(crowd, model)


def _fit_votes(
    crowd: CrowdMatrix, model: BaseLabeler, hint: str = "; MajorityLabelVoter() aggregates fewer workers"
) -> BaseLabeler:
    """``model`` fitted on ``crowd.votes``; no answers, or too few workers for the model, is a
    ValueError in the crowd's terms (the workers are the model's LFs), ``hint`` appended to the latter."""
    if crowd.L.nnz == 0:
        raise ValueError("the answers are empty (no rows): there is nothing to aggregate")
    try:
        return model.fit(crowd.votes)
    except ValueError as exc:
        m = crowd.L.shape[1]
        if "labeling function(s) (columns); at least" not in str(exc):
            raise
        raise type(exc)(
            f"the answers have {m} worker(s) ({', '.join(crowd.worker_names[:3])}) and each worker is one "
            f"labeling function of the model: {exc}{hint}"
        ) from exc


def _py(value: Any) -> Any:
    """A numpy scalar as the Python value (an id in a message reads 12, not np.int64(12))."""
    return value.item() if isinstance(value, np.generic) else value


def _missing(value: Any) -> bool:
    """Whether a cell is a missing value (None, NaN, pandas.NA, NaT)."""
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a container cell: not a missing value
        return False


def _code(value: Any, code_of: dict[Any, int]) -> int | None:
    """The class code of a label (a whole float reads as its integer), None if it is no class."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    try:
        return code_of.get(value)
    except TypeError:  # unhashable
        return None


#: :func:`_label_codes`'s code of a value that is no class (-1 is a missing value).
NOT_A_CLASS = -2


def _label_codes(values: np.ndarray, code_of: dict[Any, int]) -> np.ndarray:
    """Each value's class code (:func:`_code`), -1 where it is missing, ``NOT_A_CLASS`` where it is no
    class; int64, shape (n,).  The distinct values are looked up once each, not every answer."""
    import pandas as pd

    try:
        inverse, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    except TypeError:  # unhashable values (a list, a dict): each one on its own
        inverse, uniques = np.arange(len(values)), list(values)
    mapped = [-1 if _missing(u) else _code(u, code_of) for u in uniques]
    table = np.array([NOT_A_CLASS if c is None else c for c in mapped] + [-1], dtype=np.int64)
    return table[inverse]  # factorize's missing values (-1) read the table's last entry, -1


def _whole_labels(values: np.ndarray) -> np.ndarray | None:
    """The labels as int64 when every one is a whole number >= 0 (bools excluded), else None."""
    if values.dtype.kind in "iu":
        out = values.astype(np.int64)
    elif values.dtype.kind == "f":
        if not np.all(np.isfinite(values)) or not np.all(values == np.round(values)):
            return None
        out = values.astype(np.int64)
    elif values.dtype.kind == "O":
        from pandas.api.types import infer_dtype

        try:
            if infer_dtype(values, skipna=False) == "integer":  # Python and numpy ints only, in C
                out = np.array(values.tolist(), dtype=np.int64)
            elif all(isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in values):
                out = np.array([int(v) for v in values], dtype=np.int64)  # other integral types
            else:
                return None
        except OverflowError:  # beyond int64 (an id such as 10**20): a label, sorted as others are
            return None
    else:
        return None
    return out if out.size == 0 or out.min() >= 0 else None


def _class_codes(column: Any, classes: Any) -> tuple[np.ndarray, tuple]:
    """Each answer's class code (int64, shape (n_answers,)) and the labels of the codes."""
    import pandas as pd

    if isinstance(column.dtype, pd.CategoricalDtype):
        _refuse_merged_categories(column)
    values = (
        column.to_numpy(dtype=object)
        if isinstance(column.dtype, pd.api.extensions.ExtensionDtype)
        else column.to_numpy()
    )
    if values.dtype.kind == "O":
        _refuse_bools_with_numbers(values, column)
    if classes is not None:
        labels = tuple(
            c.item() if isinstance(c, np.generic) else c for c in _in_order(classes, "classes", "labels")
        )
        if any(_missing(c) for c in labels):
            raise ValueError(
                f"classes must name labels, not missing values (a missing label is refused, and unknown "
                f"in gold labels), got {list(labels)!r}"
            )
        try:
            distinct = len(set(labels))
        except TypeError as exc:
            raise ValueError(f"classes must hold hashable labels ({exc}), got {list(labels)!r}") from None
        if distinct != len(labels):
            raise ValueError(f"classes repeats a label: {list(labels)!r}")
        _refuse_bools_for_numbers(values, labels, column)
        codes = _label_codes(values, {c: i for i, c in enumerate(labels)})
        if (codes < 0).any():  # (missing labels were refused before: every one here is no class)
            i = int(np.argmax(codes < 0))
            raise ValueError(
                f"answer {i} (index {_py(column.index[i])!r}) has label {_py(values[i])!r}, which is not "
                f"one of classes={list(labels)!r}"
            )
    else:
        whole = _whole_labels(values)
        used = np.unique(whole) if whole is not None else None
        if whole is not None and whole.size and int(whole.max()) + 1 > 2 * len(used):
            # ids such as 200 and 404, not a scale from 0: codes 0..404 would invent 403 classes
            # that take probability mass (and time); the labels sorted, as other labels are
            codes, labels = np.searchsorted(used, whole).astype(np.int64), tuple(int(u) for u in used)
        elif whole is not None:
            top = int(whole.max()) if whole.size else 1
            if top + 1 > MAX_CARDINALITY:
                i = int(np.argmax(whole))
                raise ValueError(
                    f"answer {i} (index {_py(column.index[i])!r}) has label {top}: integer labels are read "
                    f"as class codes 0..k-1 and at most {MAX_CARDINALITY} classes are supported; pass "
                    "classes= to name the labels"
                )
            codes, labels = whole, tuple(range(max(top + 1, 2)))
            if used.size and int(used[0]) > 0:
                # crowd-kit reads labels 1..5 as five classes; here they are codes, 0 a class nobody chose
                warnings.warn(
                    f"no answer has label 0: the integer labels are read as class codes 0..{top}, so class 0 "
                    f"is a class nobody chose and takes probability mass; if the labels are numbered from "
                    f"{int(used[0])}, pass classes={[int(u) for u in used] if len(used) <= 10 else '[...]'}",
                    UserWarning,
                    stacklevel=outside_stacklevel(),
                )
        else:
            try:
                codes, uniques = pd.factorize(pd.Series(values, dtype=object), sort=True)
            except TypeError as exc:  # labels of types that do not sort together (e.g. 1 and "a")
                _refuse_unhashable(column, "label")
                raise ValueError(
                    f"the labels cannot be sorted into classes ({exc}); pass classes= to give their order"
                ) from exc
            labels = tuple(u.item() if isinstance(u, np.generic) else u for u in uniques)
            _warn_same_but_spaces(labels, "labels", column.name)
            codes = codes.astype(np.int64)
    if len(labels) < 2:
        raise ValueError(
            f"the answers hold one label only ({labels[0]!r} if any): a label model needs at least two "
            "classes; pass classes= to name the others"
            if labels
            else "classes must name at least two labels"
        )
    if len(labels) > MAX_CARDINALITY:
        raise ValueError(f"{len(labels)} distinct labels: at most {MAX_CARDINALITY} classes are supported")
    return codes, labels


def _is_bool(value: Any) -> bool:
    """Whether a label is a boolean (Python's or numpy's)."""
    return isinstance(value, (bool, np.bool_))


def _is_number(value: Any) -> bool:
    """Whether a label is a number other than a boolean (which Python counts as 0 or 1)."""
    return isinstance(value, numbers.Number) and not _is_bool(value)


def _refuse_merged_categories(column: Any) -> None:
    """A ValueError where a categorical column's categories mix booleans with numbers.

    pandas builds a categorical's categories with Python's equality, where ``True == 1`` and
    ``False == 0``: ``pd.Series([True, 1], dtype="category")`` has the one category ``True`` and reads
    both answers as it.  The merge is made before the labels reach this module, so the answers cannot be
    told apart any more; the categories' mix of types is the trace it leaves, and refused."""
    categories = list(column.cat.categories)
    bools = [c for c in categories if _is_bool(c)]
    numbers_ = [c for c in categories if _is_number(c)]
    if bools and numbers_:
        raise ValueError(
            f"the label column {_py(column.name)!r} is categorical with categories that mix booleans "
            f"({', '.join(map(repr, bools))}) and numbers ({', '.join(repr(_py(c)) for c in numbers_[:5])}): "
            "pandas counts True as 1 and False as 0 when it builds the categories, so answers labelled "
            "True and 1 (or False and 0) may already be one label; give the labels one type (all text, or "
            "all integers) before making the column categorical"
        )


def _refuse_bools_with_numbers(values: np.ndarray, column: Any) -> None:
    """A ValueError where the labels mix booleans with numbers: ``True == 1`` and ``False == 0`` in
    Python (and hash alike), so two labels would silently become one class.  Only labels of mixed types
    are scanned (pandas' ``infer_dtype``, in C, tells them)."""
    from pandas.api.types import infer_dtype

    if not infer_dtype(values, skipna=True).startswith("mixed"):
        return
    bools = [i for i, v in enumerate(values) if _is_bool(v)]
    if not bools:
        return
    said = {bool(values[i]) for i in bools}
    for i, v in enumerate(values):
        if (
            _is_number(v)
            and v in said  # (before the missing-value test: a dict lookup in C, rarely true)
            and not _missing(v)
        ):
            b = next(j for j in bools if bool(values[j]) == v)
            raise ValueError(
                f"answer {i} (index {_py(column.index[i])!r}) has label {_py(v)!r} and answer {b} (index "
                f"{_py(column.index[b])!r}) has label {_py(values[b])!r}: Python counts them as one label, "
                "so they would merge into one class; give the labels one type (all text, or all integers)"
            )


def _refuse_bools_for_numbers(values: np.ndarray, labels: tuple, column: Any) -> None:
    """A ValueError where ``classes`` names numbers and no boolean but an answer is a boolean, which
    Python would read as the class 1 or 0 (``True == 1``)."""
    named_bool = any(_is_bool(c) for c in labels)
    named_number = any(_is_number(c) for c in labels)
    if named_bool or not named_number or values.dtype.kind not in "bO":
        return
    if values.dtype.kind == "O":
        from pandas.api.types import infer_dtype

        kind = infer_dtype(values, skipna=True)  # (in C: only booleans or mixed types are scanned)
        if kind != "boolean" and not kind.startswith("mixed"):
            return
    found = np.flatnonzero([_is_bool(v) for v in values])
    if found.size:
        i = int(found[0])
        raise ValueError(
            f"answer {i} (index {_py(column.index[i])!r}) has the boolean label {_py(values[i])!r} but "
            f"classes={list(labels)!r} names numbers: Python would read it as {int(values[i])}; give the "
            "answers the classes' type, or name the booleans in classes"
        )


def _factorize_ids(column: Any) -> tuple[np.ndarray, Any]:
    """Each answer's id code (shape (n_answers,)) and the distinct ids in order of first appearance.

    Raises
    ------
    ValueError
        An id that cannot be one (unhashable: a list, a dict), naming its answer.
    """
    import pandas as pd

    try:
        return pd.factorize(column, sort=False)
    except TypeError:
        _refuse_unhashable(column, "id")
        raise


def _warn_same_but_spaces(values: Any, what: str, column: Any) -> None:
    """Warn where two distinct texts among ``values`` (the distinct ids or labels of ``column``)
    differ only by spaces around them (``"cat"`` and ``"cat "``): they are kept apart, as given, but
    most likely were meant as one."""
    first: dict[str, str] = {}
    for value in values:
        if not isinstance(value, str):
            continue
        key = value.strip()
        if key in first:
            import warnings

            from .caller import outside_stacklevel

            warnings.warn(
                f"{what} {first[key]!r} and {value!r} (column {column!r}) differ only by spaces around "
                f"them: they are kept as two; strip the column (df[{column!r}].str.strip()) if they are one",
                UserWarning,
                stacklevel=outside_stacklevel(),
            )
            return
        first[key] = value


def _refuse_unhashable(column: Any, what: str) -> None:
    """Name the first answer whose value in ``column`` is unhashable (a list, a dict), if any: such
    a value cannot be ``what`` (an id, a label), which is compared and hashed."""
    for i, value in enumerate(column.tolist()):
        try:
            hash(value)
        except TypeError:
            raise ValueError(
                f"answer {i} (index {_py(column.index[i])!r}) has {column.name!r} {value!r}: a "
                f"{type(value).__name__} cannot be {'an' if what[0] in 'aeiou' else 'a'} {what} ({what}s are "
                "compared and hashed)"
            ) from None


def _check_worker_names(worker_index: Any) -> None:
    """Refuse distinct worker ids that read the same as text (``1`` and ``"1"``): the workers'
    text is the model's LF names, which must tell the columns apart."""
    seen: dict[str, Any] = {}
    for w in worker_index:
        text = str(w)
        if text in seen:
            raise ValueError(
                f"workers {_py(seen[text])!r} and {_py(w)!r} are distinct ids with the same text {text!r}: "
                "the workers' ids as text name the model's LFs and must differ; give the worker column "
                "one type (e.g. df[worker].astype(str) if they are the same worker)"
            )
        seen[text] = w


def _in_order(value: Any, name: str, what: str) -> Any:
    """``value`` where it lists ``what`` in an order (a list, tuple, array, Index), else a ValueError
    (a set has no order, and one text would be read as its characters)."""
    if isinstance(value, (str, bytes, set, frozenset)) or not hasattr(value, "__iter__"):
        if isinstance(value, (set, frozenset)):
            said = "a set has no order"
        elif isinstance(value, (str, bytes)):
            said = f"one text is not a list of {what}"
        else:
            said = f"not a list of {what}"
        raise ValueError(
            f"{name} must list the {what} in order (a list or tuple), got {type(value).__name__} {value!r}"[
                :300
            ]
            + f": {said}"
        )
    return value


def _fixed_workers(codes: np.ndarray, found: Any, workers: Any) -> tuple[np.ndarray, Any]:
    """Worker codes re-numbered to the columns ``workers`` gives (matched as text)."""
    import pandas as pd

    order = [str(w) for w in _in_order(workers, "workers", "workers")]
    if len(set(order)) != len(order):
        raise ValueError("workers= names a worker twice")
    column_of = {w: j for j, w in enumerate(order)}
    remap = np.array([column_of.get(str(w), -1) for w in found], dtype=np.int64)
    if (remap < 0).any():
        unknown = [str(w) for w, j in zip(found, remap, strict=True) if j < 0]
        raise ValueError(
            f"{len(unknown)} worker(s) of the answers are not among workers= ({len(order)} given), "
            f"e.g. {_py(unknown[0])!r}: a model has no column for them"
        )
    return remap[codes], pd.Index(list(workers))


def _resolve_duplicates(
    task_codes: np.ndarray,
    worker_codes: np.ndarray,
    index: Any,
    duplicates: str,
    tasks: Any,
    worker_index: Any,
) -> np.ndarray:
    """The answers to keep (a bool mask): one per (task, worker) pair, or a ValueError."""
    n_workers = max(len(worker_index), 1)
    pair = task_codes.astype(np.int64) * n_workers + worker_codes.astype(np.int64)
    order = np.argsort(pair, kind="stable")
    same = pair[order][1:] == pair[order][:-1]
    keep = np.ones(len(pair), dtype=bool)
    if not same.any():
        return keep
    if duplicates == "error":
        j = int(np.argmax(same))
        first, second = int(order[j]), int(order[j + 1])
        n_dup = int(same.sum())
        raise ValueError(
            f"worker {_py(worker_index[worker_codes[first]])!r} answers task "
            f"{_py(tasks[task_codes[first]])!r} twice "
            f"(answers {first} and {second}, index {_py(index[first])!r} and {_py(index[second])!r}; "
            f"{n_dup} repeated answer(s) in all): pass duplicates='first' or 'last' to keep one"
        )
    if duplicates == "first":
        keep[order[1:][same]] = False  # every answer after the first of its pair
    else:
        keep[order[:-1][same]] = False  # every answer before the last of its pair
    return keep
