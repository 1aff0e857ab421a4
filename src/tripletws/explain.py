"""Why a row got its posterior: the share of each LF (and of the class balance) in its log-scores.

For LFs independent given the class the posterior's log-scores are a sum, one term per LF:

    log P(Y = y | lambda) = log p_y + sum_i log P(lambda_i | y) - log Z(lambda)

(Dawid and Skene 1979; the naive-Bayes form of every model here).  Each term is centred over the
classes (its mean over ``y`` subtracted, which moves no posterior), so it reads as what that LF's
vote, or its abstention, adds to each class in nats: ``+1.5`` for a class and ``-1.5`` for the
other is a likelihood ratio of ``e**3`` between them.  An abstention adds nothing where the model
reads abstentions as "not assigned" (its abstain probability is the same for every class); where
it reads them as evidence (the coverage and abstain readings, docs/models.md), the abstention's
term says how much.  Declared dependencies add one term per edge, the pair's correction
(:meth:`tripletws.params.LabelModelParams.pair_log_tables`).

Three parts of a prediction are not in the sum, and :class:`Explanation` says where they act: rows
whose top classes tie, whose tied mass a second fit shares (:mod:`tripletws.ties`;
``tie_broken``), rows with votes that only other LFs' silences would send to a class no LF voted for
on them, conditioned on their voted classes (:mod:`tripletws.voted_guard`; ``guarded``), and the
mixture of ``combine="stack"`` (refused: no single set of tables).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .inference import softmax
from .matrix import LabelMatrix, dense_votes
from .params import LabelModelParams

#: The most cells (rows x LFs x classes) an explanation holds: it is meant for a few rows.
MAX_CELLS = 50_000_000

#: Floor of the probabilities before their logs, as the posterior's (``params._TINY``).
_TINY = 1e-300

#: Terms smaller than this (in nats) print as 0 in :meth:`Explanation.table`, which counts their LFs
#: among those that add nothing shown (three decimals are printed).
SHOWN = 5e-4


@dataclass(frozen=True)
class Explanation:
    """Each LF's share of the posterior's log-scores, row by row (module docstring).

    Attributes
    ----------
    votes : ndarray of int, shape (n, m)
        The rows' votes (-1 = abstain).
    prior : ndarray, shape (k,)
        The class balance's term, ``log p_y`` centred over the classes.
    lfs : ndarray, shape (n, m, k)
        Each LF's term on each row, ``log P(lambda_i | y)`` centred over the classes (abstentions
        included).
    edges : ndarray of int, shape (E, 2)
        Declared dependencies (none: shape (0, 2)).
    pairs : ndarray, shape (n, E, k)
        Each edge's correction on each row, centred over the classes.
    posterior : ndarray, shape (n, k)
        The model's ``predict_proba`` on the rows.
    tie_broken : ndarray of bool, shape (n,)
        Rows whose top classes tie under the tables, their tied mass shared by a second fit
        (:mod:`tripletws.ties`): there the posterior is not the softmax of :attr:`scores`.
    lf_names, class_names : tuple of str
        Names to print (``"LF i"`` and ``"class c"`` where the model has none).
    guarded : ndarray of bool, shape (n,), optional
        Rows conditioned on the classes voted on them (:mod:`tripletws.voted_guard`): there too the
        posterior is not the softmax of :attr:`scores`.  None: no such row.
    """

    votes: np.ndarray
    prior: np.ndarray
    lfs: np.ndarray
    edges: np.ndarray
    pairs: np.ndarray
    posterior: np.ndarray
    tie_broken: np.ndarray
    lf_names: tuple[str, ...]
    class_names: tuple[str, ...]
    guarded: np.ndarray | None = None

    @property
    def labelled(self) -> bool:
        """Whether the classes carry the model's labels (``class_names_``), not ``"class c"``."""
        return self.class_names != _default_classes(len(self.class_names))

    @property
    def vote_labels(self) -> tuple[str, ...]:
        """How a vote for class c prints: the class's label where the model keeps labels, else ``"c"``."""
        return self.class_names if self.labelled else tuple(map(str, range(len(self.class_names))))

    def _row(self, row: Any) -> int:
        """``row`` checked against the explained rows (negative counts from the end), as an index."""
        n = len(self.votes)
        if not isinstance(row, (int, np.integer)) or isinstance(row, bool) or not -n <= row < n:
            raise ValueError(f"row must be an integer in [{-n}, {n}), got {row!r}")
        return int(row) % n

    @property
    def scores(self) -> np.ndarray:
        """Summed terms, shape (n, k): the log-scores up to a constant per row (their softmax is the
        posterior, except on :attr:`tie_broken` rows)."""
        return self.prior[None, :] + self.lfs.sum(axis=1) + self.pairs.sum(axis=1)

    def table(self, row: int = 0, top: int | None = 10) -> str:
        """One row's terms as text: the class balance, then the LFs by the size of their term
        (``top`` of them, the rest summed in one line; None: all), the sum and the posterior.

        Parameters
        ----------
        row : int
            Index into the explained rows.
        top : int or None
            LFs listed one by one (those whose term is not 0, largest first).

        Returns
        -------
        str
        """
        m = self.lfs.shape[1]
        row = self._row(row)
        if top is not None and (not isinstance(top, (int, np.integer)) or isinstance(top, bool) or top < 0):
            raise ValueError(f"top must be a non-negative integer or None, got {top!r}")
        terms = self.lfs[row]
        size = np.abs(terms).max(axis=1)
        order = [int(i) for i in np.argsort(-size, kind="stable") if size[i] >= SHOWN]
        shown = order if top is None else order[:top]
        rest = order[len(shown) :]
        width = max([10, *(len(c) for c in self.class_names)])
        label_width = max(
            [
                24,
                *(len(self.lf_names[i]) + 2 for i in shown),
                *(len(f"edge {a}-{b}") + 2 for a, b in self.edges),
            ]
        )

        def line(label: str, vote: str, values: np.ndarray, fmt: str = "+.3f") -> str:
            values = np.where(np.abs(values) < SHOWN, 0.0, values)  # no "-0.000"
            cells = "".join(f"{format(float(v), fmt):>{width + 2}}" for v in values)
            return f"{label:<{label_width}}{vote:>6}{cells}"

        P = self.posterior[row]
        best = int(np.argmax(P))
        out = [
            f"row {row}: {self.class_names[best]} (P = {P[best]:.3f})"
            + (
                "; its top classes tie under the tables, a second fit shared their mass"
                if self.tie_broken[row]
                else ""
            )
            + (
                "; the other LFs' silences alone send it to a class no LF voted for on it: kept among its "
                "voted classes"
                if self.guarded is not None and self.guarded[row]
                else ""
            ),
            line("", "vote", np.zeros(0)) + "".join(f"{c:>{width + 2}}" for c in self.class_names),
            line("class balance", "", self.prior),
        ]
        for i in shown:
            vote = int(self.votes[row, i])
            out.append(line(self.lf_names[i], "-" if vote < 0 else self.vote_labels[vote], terms[i]))
        if rest:
            voted = sum(int(self.votes[row, i] >= 0) for i in rest)
            out.append(line(f"{len(rest)} other LF(s), {voted} voting", "", terms[rest].sum(axis=0)))
        for e, (a, b) in enumerate(self.edges):
            if np.abs(self.pairs[row, e]).max() >= SHOWN:
                out.append(line(f"edge {a}-{b}", "", self.pairs[row, e]))
        nothing = np.setdiff1d(np.arange(m), order)
        quiet = int((self.votes[row, nothing] < 0).sum())
        if quiet:
            out.append(
                f"({quiet} abstaining LF(s) add nothing shown on this row: abstentions read as 'not "
                "assigned')"
            )
        if len(nothing) - quiet:
            out.append(
                f"({len(nothing) - quiet} voting LF(s) add nothing shown on this row: their vote is about "
                "as likely under every class)"
            )
        out.append(line("sum (nats)", "", self.scores[row]))
        out.append(line("posterior", "", P, ".3f"))
        return "\n".join(out)

    def to_frame(self, row: int = 0) -> Any:
        """One row's terms as a pandas DataFrame indexed by ``"class balance"`` and the LF names:
        a ``vote`` column (``"LF vote"`` where a class is named ``"vote"``; the classes' labels where
        the model keeps them, missing for an abstention; else the codes, -1 for an abstention as in
        ``L``), then one column per class (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is in every extra that reads frames
            raise ImportError("Explanation.to_frame needs pandas; Explanation.table gives text") from exc
        row = self._row(row)
        values = np.vstack([self.prior[None, :], self.lfs[row], self.pairs[row]])
        index = ["class balance", *self.lf_names, *(f"edge {a}-{b}" for a, b in self.edges)]
        frame = pd.DataFrame(values, index=index, columns=list(self.class_names))
        column = "LF vote" if "vote" in self.class_names else "vote"
        votes = [None, *(int(v) for v in self.votes[row]), *([None] * len(self.edges))]
        if self.labelled:
            frame.insert(0, column, [None if v is None or v < 0 else self.vote_labels[v] for v in votes])
        else:
            frame.insert(0, column, pd.array(votes, dtype="Int64"))
        return frame


def _centred(x: np.ndarray) -> np.ndarray:
    return x - x.mean(axis=-1, keepdims=True)


def explain_rows(
    lm: LabelMatrix,
    params: LabelModelParams,
    posterior: np.ndarray,
    tie_broken: np.ndarray,
    lf_names: tuple[str, ...] | None = None,
    class_names: tuple[str, ...] | None = None,
    guarded: np.ndarray | None = None,
) -> Explanation:
    """The terms of ``params``'s log-scores on the rows of ``lm`` (module docstring).

    Parameters
    ----------
    lm : LabelMatrix
        The rows, shape (n, m).
    params : LabelModelParams
        The tables that give the posterior.
    posterior : ndarray, shape (n, k)
        The model's posterior on the rows (kept as it is).
    tie_broken : ndarray of bool, shape (n,)
        Rows whose posterior a second fit changed.
    lf_names, class_names : tuple of str, optional
    guarded : ndarray of bool, shape (n,), optional
        Rows the guard of votes conditioned (:mod:`tripletws.voted_guard`).

    Returns
    -------
    Explanation
    """
    n, m = lm.shape
    k = int(params.cardinality)
    if n * m * k > MAX_CELLS:
        raise ValueError(
            f"explain holds {n} rows x {m} LFs x {k} classes = {n * m * k} terms (at most {MAX_CELLS}): "
            "it is meant for a few rows; pass the rows to explain, e.g. L[rows]"
        )
    votes = dense_votes(lm)
    logp = params.log_tables()  # (m, k + 1, k), abstain first; as inference reads it (tripletws.params)
    terms = _centred(logp[np.arange(m)[None, :], votes + 1])  # (n, m, k)
    if params.has_dependencies:
        assert params.edges is not None
        edges = np.asarray(params.edges, dtype=np.int64).reshape(-1, 2)
        C = params.pair_log_tables()  # (E, (k + 1) ** 2, k)
        codes = (votes[:, edges[:, 0]] + 1) * (k + 1) + (votes[:, edges[:, 1]] + 1)  # (n, E)
        pairs = _centred(C[np.arange(len(edges))[None, :], codes])
    else:
        edges = np.zeros((0, 2), dtype=np.int64)
        pairs = np.zeros((n, 0, k))
    return Explanation(
        votes=votes,
        prior=_centred(np.log(np.maximum(params.class_balance, _TINY))),
        lfs=terms,
        edges=edges,
        pairs=pairs,
        posterior=np.asarray(posterior, dtype=np.float64),
        tie_broken=np.asarray(tie_broken, dtype=bool),
        lf_names=tuple(lf_names) if lf_names is not None else tuple(f"LF {i}" for i in range(m)),
        class_names=tuple(str(c) for c in class_names) if class_names is not None else _default_classes(k),
        guarded=None if guarded is None or not np.any(guarded) else np.asarray(guarded, dtype=bool),
    )


def _default_classes(k: int) -> tuple[str, ...]:
    """How the classes print where the model keeps no labels."""
    return tuple(f"class {c}" for c in range(k))


def scores_posterior(explanation: Explanation) -> np.ndarray:
    """The softmax of :attr:`Explanation.scores`, shape (n, k): the posterior the tables give."""
    return softmax(explanation.scores.copy())
