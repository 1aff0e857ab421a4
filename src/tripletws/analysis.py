"""Per-LF summary of a label matrix (the table Snorkel users know as ``LFAnalysis``)."""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

from .kernels import sparse_class_counts
from .lf_names import check_fitted_names, column_labels
from .matrix import MAX_CARDINALITY, check_label_matrix, check_labels, check_same_rows
from .validate import check_int


def lf_summary_arrays(L: Any, Y: Any = None, cardinality: int | None = None) -> dict[str, Any]:
    """Per-LF statistics as plain arrays (no pandas needed).

    Returns
    -------
    dict with keys ``polarity`` (list of sorted class lists), ``coverage``,
    ``overlaps``, ``conflicts`` (fractions of all rows, shape (m,)) and, when ``Y``
    is given, ``correct``, ``incorrect`` (counts over rows with gold), ``emp_acc`` and
    ``has_gold`` (whether any row has a gold label).
    """
    lm = check_label_matrix(L, cardinality, allow_empty=True)  # no rows: NaN fractions, as LFAnalysis
    if Y is not None:
        check_same_rows(L, Y)  # a frame and a Series of the same rows in another order: misread by position
    y = None
    if Y is not None and cardinality is None:  # k inferred: gold may name classes that L never votes
        y = check_labels(Y, lm.n, MAX_CARDINALITY)
        if y.size and y.max() >= lm.cardinality:
            lm = check_label_matrix(lm, int(y.max()) + 1, allow_empty=True)
    k, m = lm.cardinality, lm.m
    if Y is not None and y is None:
        y = check_labels(Y, lm.n, k)
    votes_per_class = np.zeros((m, k))
    overlaps = np.zeros(m)
    conflicts = np.zeros(m)
    correct = np.zeros(m)
    incorrect = np.zeros(m)
    # An LF's vote conflicts with another LF's on a row exactly when the row holds votes for two or
    # more classes, so each row needs only its number of votes and of distinct classes.
    for start, block in lm.chunks():
        if lm.is_sparse:  # from the stored votes: no dense (rows, m) copy of a crowd's chunk
            rows, cols, cls, nv, n_classes = _sparse_votes(block, k)
            overlaps += np.bincount(cols[nv[rows] >= 2], minlength=m)
            conflicts += np.bincount(cols[n_classes[rows] >= 2], minlength=m)
            votes_per_class += np.bincount(cols * k + cls, minlength=m * k).reshape(m, k)
            if y is not None:
                yv = y[start : start + block.shape[0]][rows]
                gold = yv >= 0
                correct += np.bincount(cols[gold & (cls == yv)], minlength=m)
                incorrect += np.bincount(cols[gold & (cls != yv)], minlength=m)
            continue
        B = np.asarray(block)  # compared in its own (narrow) dtype, never widened
        V = B >= 0
        nv = V.sum(axis=1)
        n_classes = np.zeros(B.shape[0], dtype=np.int64)
        for c in range(k):
            is_c = B == c
            votes_per_class[:, c] += is_c.sum(axis=0)
            n_classes += is_c.any(axis=1)
        overlaps += V[nv >= 2].sum(axis=0)
        conflicts += V[n_classes >= 2].sum(axis=0)
        if y is not None:
            yc = y[start : start + B.shape[0]]
            gold = (yc >= 0)[:, None] & V
            correct += (gold & (B == yc[:, None])).sum(axis=0)
            incorrect += (gold & (B != yc[:, None])).sum(axis=0)
    n = np.full(m, float(lm.n))  # no rows: every fraction is undefined (NaN, without numpy's warning)
    out: dict[str, Any] = {
        "polarity": [np.flatnonzero(votes_per_class[i]).tolist() for i in range(m)],
        "coverage": _share(votes_per_class.sum(axis=1), n),
        "overlaps": _share(overlaps, n),
        "conflicts": _share(conflicts, n),
    }
    if y is not None:
        tot = correct + incorrect
        out.update(
            has_gold=bool((y >= 0).any()),
            correct=correct.astype(np.int64),
            incorrect=incorrect.astype(np.int64),
            emp_acc=_share(correct, tot),
        )
    return out


def lf_summary(
    L: Any,
    Y: Any = None,
    model: Any = None,
    cardinality: int | None = None,
    lf_names: list[str] | None = None,
):
    """Per-LF summary as a pandas DataFrame.

    Columns: ``j``, ``Polarity``, ``Coverage``, ``Overlaps``, ``Conflicts``, and with
    gold ``Y``: ``Correct``, ``Incorrect``, ``Emp. Acc.``; with a fitted ``model``:
    ``Learned Weight`` (its ``get_weights()``, the estimated accuracy).

    Parameters
    ----------
    L : label matrix, shape (n, m)
    Y : array of shape (n,), optional
        Gold labels (-1 = unknown).
    model : fitted LabelModel, optional
    lf_names : list of m labels, optional
        Index of the table (default: the column labels of a DataFrame ``L`` as the frame has them,
        numbers as numbers and a MultiIndex as one, so that ``table.loc[label]`` finds an LF by its
        column's label; else the names the model was fitted with, text; else ``0..m-1``).
    """
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("lf_summary needs pandas: pip install 'tripletws[pandas]'") from exc
    if model is not None:
        check_fitted_names(model, L)  # the columns in the fit's order
        if not hasattr(model, "get_weights"):
            raise ValueError(
                f"model must be a fitted label model with learned weights, got {type(model).__name__} "
                "(a MajorityLabelVoter learns none)"
            )
    if cardinality is None and model is not None:
        cardinality = model.cardinality
    s = lf_summary_arrays(L, Y, cardinality)
    m = len(s["coverage"])
    cols: dict[str, Any] = {
        "j": np.arange(m),
        "Polarity": s["polarity"],
        "Coverage": s["coverage"],
        "Overlaps": s["overlaps"],
        "Conflicts": s["conflicts"],
    }
    if Y is not None and s["has_gold"]:  # all -1: no gold, no gold columns
        cols.update({"Correct": s["correct"], "Incorrect": s["incorrect"], "Emp. Acc.": s["emp_acc"]})
    if model is not None:
        w = np.asarray(model.get_weights())
        if w.shape != (m,):
            raise ValueError(f"model has {w.shape[0]} LFs but L has {m} columns")
        cols["Learned Weight"] = w
    if lf_names is None:  # as LFAnalysis names its rows: the input's column labels, or the fit's names
        lf_names = column_labels(L)
        if lf_names is None and getattr(model, "lf_names_", None) is not None:
            lf_names = list(model.lf_names_)
    if lf_names is not None and len(lf_names) != m:
        raise ValueError(f"lf_names has {len(lf_names)} names for {m} LFs")
    # pd.Index: a MultiIndex's tuples make a MultiIndex again (a DataFrame's index= keeps tuples flat)
    return pd.DataFrame(cols, index=None if lf_names is None else pd.Index(list(lf_names)))


def _sparse_votes(block: Any, k: int, per_row: bool = True) -> tuple[np.ndarray, ...]:
    """The stored votes of a validated CSR chunk (class c stored as c + 1) and its per-row counts.

    Parameters
    ----------
    block : scipy.sparse CSR matrix or array, shape (nc, m)
        Canonical (no duplicate entries, no stored zeros), values 1..k.
    k : int
        Number of classes.
    per_row : bool
        Whether to count the distinct classes voted on each row (a pass over the votes' class counts);
        False leaves ``n_classes`` empty, for callers that read the votes only.

    Returns
    -------
    rows, cols, cls : ndarray of intp, shape (nnz,)
        Row, LF and class (0..k-1) of each vote.
    n_votes, n_classes : ndarray of int64, shape (nc,)
        Votes on each row, and distinct classes voted on it (shape (0,) where ``per_row`` is False).
    """
    n_votes = np.diff(block.indptr).astype(np.int64)
    rows = np.repeat(np.arange(block.shape[0], dtype=np.intp), n_votes)
    cols = block.indices.astype(np.intp)
    cls = block.data.astype(np.intp) - 1
    if not per_row:
        return rows, cols, cls, n_votes, np.zeros(0, dtype=np.int64)
    counts = sparse_class_counts(block, k, rows=rows, classes=cls)  # the same row index and classes
    n_classes = np.count_nonzero(counts, axis=1).astype(np.int64)
    return rows, cols, cls, n_votes, n_classes


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``part / whole`` elementwise, NaN where ``whole`` is 0."""
    return np.divide(part, whole, out=np.full(part.shape, np.nan), where=whole > 0)


def matrix_summary_arrays(
    L: Any, cardinality: int | None = None, lfs: np.ndarray | None = None
) -> dict[str, Any]:
    """Whole-matrix figures: coverage, overlap and conflict rates and their pairwise tables.

    Returns
    -------
    dict with ``coverage`` (fraction of rows with at least one vote), ``overlap``
    (at least two votes), ``conflict`` (votes for at least two different classes),
    ``n_rows``, and the (m, m) tables ``pair_overlap`` (fraction of rows where LFs
    i and j both vote) and ``pair_conflict`` (both vote, for different classes).

    Parameters
    ----------
    L : label matrix, shape (n, m)
    cardinality : int, optional
    lfs : ndarray of int, optional
        The LFs of the pair tables (then of shape (len(lfs), len(lfs)), in this order); default all.
        The pair counts of a few LFs of a wide matrix are taken from their columns alone, without
        the (m, m) tables of all the LFs.
    """
    from .stats import compute_stats

    lm = check_label_matrix(L, cardinality, allow_empty=True)
    k = lm.cardinality
    n_votes = np.zeros(3)  # rows with >= 1 vote, >= 2 votes, >= 2 distinct classes
    for _, block in lm.chunks():
        if lm.is_sparse:  # from the stored votes: no dense (rows, m) copy of a crowd's chunk
            _, _, _, nv, classes = _sparse_votes(block, k)
        else:
            B = np.asarray(block)
            nv = (B >= 0).sum(axis=1)
            classes = np.zeros(B.shape[0], dtype=np.int64)
            for c in range(k):
                classes += (B == c).any(axis=1)
        n_votes += [(nv >= 1).sum(), (nv >= 2).sum(), (classes >= 2).sum()]
    paired = lm
    if lfs is not None:
        lfs = np.asarray(lfs, dtype=np.intp)
        if not np.array_equal(lfs, np.arange(lm.m)) and (isinstance(lm.data, np.ndarray) or lm.is_sparse):
            paired = check_label_matrix(lm.data[:, lfs], k, allow_empty=True)
    n_paired = lm.m if lfs is None else len(lfs)
    stats = compute_stats(paired, k) if lm.n else None
    if stats is None:  # no rows: every fraction is undefined (it was 0.0 here and NaN per LF)
        nan = float("nan")
        return {
            "n_rows": 0,
            "coverage": nan,
            "overlap": nan,
            "conflict": nan,
            "pair_overlap": np.full((n_paired, n_paired), nan),
            "pair_conflict": np.full((n_paired, n_paired), nan),
        }
    covote, agree = stats.covote, stats.agree
    if paired is lm and lfs is not None:  # another kind of matrix: all the pairs, then the LFs asked for
        covote, agree = covote[np.ix_(lfs, lfs)], agree[np.ix_(lfs, lfs)]
    n = lm.n
    return {
        "n_rows": lm.n,
        "coverage": n_votes[0] / n,
        "overlap": n_votes[1] / n,
        "conflict": n_votes[2] / n,
        "pair_overlap": covote / n,
        "pair_conflict": (covote - agree) / n,
    }


def _lf_label(lf: Any) -> Any:
    """How a summary's row names ``lf``: an LF's ``name`` (Snorkel's and ours), a function's
    ``__name__``, a number or text as given (``lfs=[10, 20]`` is indexed by 10 and 20, as a frame's
    number labels are), anything else as text."""
    name = getattr(lf, "name", None)
    if isinstance(name, str):
        return name
    if callable(lf) and isinstance(getattr(lf, "__name__", None), str):
        return lf.__name__
    if isinstance(lf, (str, numbers.Number, tuple)):
        return lf
    return str(lf)


class LFAnalysis:
    """Coverage, overlaps, conflicts and accuracies of the LFs behind a label matrix.

    Snorkel's ``LFAnalysis`` interface, plus the learned accuracies with their
    bootstrap intervals.

    Parameters
    ----------
    L : label matrix, shape (n, m)
    lfs : sequence of m labeling functions (or names), optional
        Names the rows of the summary: an LF's ``name``, a plain function's ``__name__``, numbers
        and text as given (default: a DataFrame's column labels as the frame has them, numbers
        and MultiIndex tuples included, else ``0..m-1``).
    cardinality : int, optional
        Number of classes (inferred from ``L`` when omitted).

    Examples
    --------
    >>> LFAnalysis(L, lfs).lf_summary(Y=y_dev, model=label_model)  # doctest: +SKIP
    """

    def __init__(self, L: Any, lfs: Any = None, cardinality: int | None = None) -> None:
        self._lm = check_label_matrix(L, cardinality, allow_empty=True)
        self._cardinality = cardinality  # the user's (None: inferred from L, and from Y where given)
        self.L = L
        m = self._lm.m
        if lfs is None:  # a DataFrame's column labels, where they name every column
            self.names = column_labels(L)
        else:
            names = [_lf_label(lf) for lf in lfs]
            if len(names) != m:
                raise ValueError(f"got {len(names)} labeling functions for a label matrix with {m} columns")
            self.names = names
        self._matrix: dict[str, Any] | None = None

    def _summary(self) -> dict[str, Any]:
        if self._matrix is None:
            self._matrix = matrix_summary_arrays(self._lm, self._lm.cardinality)
        return self._matrix

    def label_coverage(self) -> float:
        """Fraction of rows with at least one vote."""
        return float(self._summary()["coverage"])

    def label_overlap(self) -> float:
        """Fraction of rows with at least two votes."""
        return float(self._summary()["overlap"])

    def label_conflict(self) -> float:
        """Fraction of rows with votes for at least two different classes."""
        return float(self._summary()["conflict"])

    def lf_coverages(self) -> np.ndarray:
        """Fraction of rows each LF votes on, shape (m,)."""
        return lf_summary_arrays(self._lm, None, self._lm.cardinality)["coverage"]

    def lf_overlaps(self, normalize_by_coverage: bool = False) -> np.ndarray:
        """Fraction of rows where each LF votes together with another, shape (m,).

        ``normalize_by_coverage``: of the rows the LF votes on instead (NaN for an LF that never votes).
        """
        s = lf_summary_arrays(self._lm, None, self._lm.cardinality)
        return _share(s["overlaps"], s["coverage"]) if normalize_by_coverage else s["overlaps"]

    def lf_conflicts(self, normalize_by_overlaps: bool = False) -> np.ndarray:
        """Fraction of rows where another LF votes a different class, shape (m,).

        ``normalize_by_overlaps``: of the rows where the LF votes together with another instead
        (NaN for an LF that never does).
        """
        s = lf_summary_arrays(self._lm, None, self._lm.cardinality)
        return _share(s["conflicts"], s["overlaps"]) if normalize_by_overlaps else s["conflicts"]

    def lf_empirical_accuracies(self, Y: Any) -> np.ndarray:
        """Each LF's accuracy on the gold rows it votes on, shape (m,) (NaN where it votes on none).

        ``Y`` : gold labels, shape (n,), -1 = unknown.
        """
        check_same_rows(self.L, Y)
        return lf_summary_arrays(self._lm, Y, self._cardinality)["emp_acc"]

    def lf_empirical_probs(self, Y: Any, k: int) -> np.ndarray:
        """Each LF's outcome frequencies per gold class, shape (m, k + 1, k).

        ``P[i, a, y]`` is the share of the gold rows of class ``y`` on which LF ``i`` abstains
        (``a = 0``) or votes class ``a - 1`` (Snorkel's layout); a class without gold rows gets
        NaN.  ``Y`` : gold labels, shape (n,), -1 = unknown; ``k`` : the number of classes.
        """
        lm = check_label_matrix(self._lm, check_int(k, "k", 2, MAX_CARDINALITY), allow_empty=True)
        y = check_labels(Y, lm.n, lm.cardinality, name="Y")
        check_same_rows(self.L, Y)
        m = lm.m
        counts = np.zeros(m * (k + 1) * k)
        for start, block in lm.chunks():  # one bincount per chunk over (LF, outcome, gold class) cells
            yc = y[start : start + block.shape[0]]
            gold = yc >= 0
            if lm.is_sparse:  # the stored votes, then the abstentions as the gold rows left over
                rows, cols, cls, _, _ = _sparse_votes(block, k, per_row=False)
                yv = yc[rows]
                g = yv >= 0
                voted = np.bincount((cols[g] * (k + 1) + cls[g] + 1) * k + yv[g], minlength=counts.size)
                counts += voted
                abstained = np.bincount(yc[gold], minlength=k) - voted.reshape(m, k + 1, k).sum(axis=1)
                counts.reshape(m, k + 1, k)[:, 0, :] += abstained
                continue
            B = np.asarray(block)
            cells = (np.arange(m) * (k + 1) + (B[gold].astype(np.int64) + 1)) * k + yc[gold, None]
            counts += np.bincount(cells.ravel(), minlength=counts.size)
        counts = counts.reshape(m, k + 1, k)
        per_class = np.bincount(y[y >= 0], minlength=k).astype(np.float64)
        return np.divide(counts, per_class, out=np.full(counts.shape, np.nan), where=per_class > 0)

    def lf_polarities(self) -> list[list[int]]:
        """Classes each LF ever votes for."""
        return lf_summary_arrays(self._lm, None, self._lm.cardinality)["polarity"]

    def pair_overlap(self) -> np.ndarray:
        """(m, m) fraction of rows where LFs i and j both vote."""
        return self._summary()["pair_overlap"]

    def pair_conflict(self) -> np.ndarray:
        """(m, m) fraction of rows where LFs i and j both vote, for different classes."""
        return self._summary()["pair_conflict"]

    def matrix_summary(self) -> dict[str, float]:
        """``{"rows", "coverage", "overlap", "conflict"}`` of the whole matrix."""
        s = self._summary()
        return {
            "rows": int(s["n_rows"]),
            **{key: float(s[key]) for key in ("coverage", "overlap", "conflict")},
        }

    def lf_summary(
        self,
        Y: Any = None,
        est_weights: Any = None,
        model: Any = None,
        intervals: bool = True,
        random_state: Any = 0,
    ):
        """Per-LF table (pandas DataFrame), indexed by LF name.

        Columns: ``j``, ``Polarity``, ``Coverage``, ``Overlaps``, ``Conflicts``; with
        gold ``Y``: ``Correct``, ``Incorrect``, ``Emp. Acc.``; with a fitted ``model``:
        ``Learned Acc.`` (for an LF counted once as a copy of another, ``model.copies_``: its
        accuracy against the fitted labels, and a ``Copy of`` column names the LF it copies) and,
        when ``intervals``, ``Acc. low`` / ``Acc. high`` (NaN for a copy; the
        model's ``intervals_``, else a bootstrap over ``L`` with its defaults, seeded by
        ``random_state``, where ``L`` is the matrix the model was fitted on; for other rows,
        e.g. a dev matrix, or a model the bootstrap cannot resample as it stands, the bounds are
        NaN and a warning says how to get them); with
        ``est_weights`` (Snorkel's argument, second as in Snorkel): ``Learned Weight``.

        Parameters
        ----------
        Y : array of shape (n,), optional
            Gold labels (-1 = unknown; all -1: no gold columns).
        est_weights : array of shape (m,), optional
        model : fitted LabelModel, optional
        intervals : bool
        random_state : int or numpy Generator, optional

        Raises
        ------
        ValueError
            A bad ``intervals`` or ``random_state`` (also where unused), a model without learned
            accuracies or fitted on another number of LFs, ``est_weights`` of the wrong shape.
        """
        from .settings import check_random_state

        # checked also where unused (no model, or a model holding intervals_): they were ignored there
        if not isinstance(intervals, (bool, np.bool_)):
            raise ValueError(f"intervals must be True or False, got {intervals!r}")
        check_random_state(random_state)
        # the label space: the one given, else a fitted model's classes, else L's and Y's (L alone may
        # never vote the highest ones)
        k = self._cardinality
        if model is not None:
            check_fitted_names(model, self.L)  # the columns in the fit's order
            k = max(self._lm.cardinality, int(model.cardinality))
        if Y is not None:
            check_same_rows(self.L, Y)
        table = lf_summary(self._lm, Y, cardinality=k, lf_names=self.names)
        m = self._lm.m
        if model is not None and not hasattr(model, "accuracies_"):
            raise ValueError(
                f"model must be a fitted label model with learned accuracies, got {type(model).__name__} "
                "(a MajorityLabelVoter learns none)"
            )
        if est_weights is not None:
            if hasattr(est_weights, "predict_proba"):  # lf_summary(Y, model): this method's order until now
                raise ValueError(
                    "est_weights got a label model: pass it as model=... (the second argument is Snorkel's "
                    "est_weights, an array of m weights)"
                )
            try:
                w = np.asarray(est_weights, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"est_weights must hold numbers, one per LF ({exc})") from exc
            if w.shape != (m,):
                raise ValueError(f"est_weights has shape {w.shape}; expected ({m},)")
            table["Learned Weight"] = w
        if model is not None:
            acc = np.asarray(model.accuracies_)
            if acc.shape != (m,):
                raise ValueError(f"model has {acc.shape[0]} LFs but L has {m} columns")
            copies = getattr(model, "copies_", None)
            if copies is not None and copies.members.size:
                # a copy's own table is class-blind (it is counted through its group's representative):
                # its accuracy against the fitted labels is the estimate to show, and the column beside
                # it says which LF it copies
                acc = acc.astype(np.float64)
                acc[copies.members] = copies.accuracy[copies.members]
                names = list(table.index)
                table["Copy of"] = [names[r] if r >= 0 else "" for r in copies.copy_of]
            table["Learned Acc."] = acc
            if intervals:
                ci = getattr(model, "intervals_", None)
                if ci is None:
                    from .intervals import NoIntervalsError, bootstrap_intervals, point_estimates

                    try:
                        ci = bootstrap_intervals(model, self._lm, random_state=random_state)
                    except NoIntervalsError as none:  # e.g. intervals from these rows would be of another fit
                        warnings.warn(
                            f"lf_summary: no accuracy intervals (NaN): {none.why} and the model holds none; "
                            f"{none.remedy} adds them",
                            UserWarning,
                            stacklevel=2,
                        )
                        ci = point_estimates(model)
                table["Acc. low"] = ci.accuracy_low
                table["Acc. high"] = ci.accuracy_high
        return table
