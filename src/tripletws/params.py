"""Fitted label-model parameters: a small plain object, the estimators' output.

Every model (symmetric or class-conditional) is summarised by the class
balance ``p`` (k,) and the conditional vote table

    cond_probs[i, a, y] = P(lambda_i = a - 1 | Y = y),   a = 0 (abstain), 1..k (class a - 1)

of shape (m, k + 1, k), each ``[i, :, y]`` column summing to 1.  Inference only
needs this table, so every model shares one inference path.

Declared LF dependencies add, per dependency edge ``(i, j)`` of a spanning forest
of the dependency graph, the joint table

    pair_tables[e, a, b, y] = P(lambda_i = a - 1, lambda_j = b - 1 | Y = y)

of shape (E, k + 1, k + 1, k), whose margins equal the single-LF tables.  The
votes of a connected group of dependent LFs are then modelled jointly by the
tree factorisation ``prod_edges P(i, j | y) / prod_nodes P(i | y)^(deg - 1)``.

An LF that votes one class only names that class (``one_class[i] = c``, -1 for the
others).  Inference never reads its vote as evidence for another class over ``c``:
:meth:`LabelModelParams.log_tables` lowers ``log P(lambda_i = c | y)`` to
``log P(lambda_i = c | Y = c)`` where it is higher, so the vote is at worst neutral
between ``c`` and that class.  Its abstentions count as fitted.  The tables themselves
(and the likelihood of the LFs' votes) are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

_TINY = 1e-300


@dataclass(frozen=True)
class LabelModelParams:
    """Class balance and conditional vote probabilities.

    Attributes
    ----------
    class_balance : ndarray, shape (k,)
    cond_probs : ndarray, shape (m, k + 1, k)
    edges : ndarray of int, shape (E, 2), optional
        Dependency edges ``(i, j)``, ``i < j``, forming a forest.
    pair_tables : ndarray, shape (E, k + 1, k + 1, k), optional
        Joint conditional vote tables of the edges (see the module docstring).
    one_class : ndarray of int, shape (m,), optional
        The class each LF votes where it votes one class only, -1 for the others; None: no LF
        is read so (see the module docstring).
    """

    class_balance: np.ndarray
    cond_probs: np.ndarray
    edges: np.ndarray | None = None
    pair_tables: np.ndarray | None = None
    one_class: np.ndarray | None = None

    @property
    def has_dependencies(self) -> bool:
        return self.edges is not None and len(self.edges) > 0

    @property
    def cardinality(self) -> int:
        return int(self.class_balance.shape[0])

    @property
    def n_lfs(self) -> int:
        return int(self.cond_probs.shape[0])

    @property
    def coverage(self) -> np.ndarray:
        """P(LF votes), shape (m,)."""
        return (1.0 - self.cond_probs[:, 0, :]) @ self.class_balance

    @property
    def accuracies(self) -> np.ndarray:
        """P(LF right | LF votes), shape (m,); 1/k for an LF that never votes."""
        k = self.cardinality
        right = np.einsum("iyy,y->i", self.cond_probs[:, 1:, :], self.class_balance)
        cov = self.coverage
        return np.divide(right, cov, out=np.full_like(cov, 1.0 / k), where=cov > 0)

    @classmethod
    def symmetric(
        cls, accuracies: np.ndarray, coverage: np.ndarray, class_balance: np.ndarray
    ) -> LabelModelParams:
        """Table of the symmetric model: votes right w.p. alpha, errors spread uniformly."""
        k = len(class_balance)
        a = np.asarray(accuracies, dtype=np.float64)
        cov = np.asarray(coverage, dtype=np.float64)
        m = len(a)
        cp = np.empty((m, k + 1, k))
        cp[:, 0, :] = (1.0 - cov)[:, None]
        wrong = (cov * (1.0 - a) / (k - 1))[:, None, None]
        cp[:, 1:, :] = np.broadcast_to(wrong, (m, k, k))
        idx = np.arange(k)
        cp[:, idx + 1, idx] = (cov * a)[:, None]
        return cls(np.asarray(class_balance, dtype=np.float64), cp)

    def against_named(self) -> np.ndarray:
        """The one-class LFs whose fitted vote is likelier under another class than under the class
        it names (``P(lambda_i = c | Y = y) > P(lambda_i = c | Y = c)`` for some ``y``), shape (r,)."""
        if self.one_class is None:
            return np.zeros(0, dtype=np.int64)
        lfs = np.flatnonzero(self.one_class >= 0)
        named = self.one_class[lfs]
        vote = self.cond_probs[lfs, named + 1, :]  # (r, k): P(vote c | y)
        return lfs[(vote > vote[np.arange(lfs.size), named][:, None]).any(axis=1)]

    def log_tables(self) -> np.ndarray:
        """``log P(lambda_i = a - 1 | Y = y)`` as inference reads it, shape (m, k + 1, k): a one-class
        LF's vote for its class ``c`` lowered to ``log P(lambda_i = c | Y = c)`` under every class
        where it is higher (the module docstring)."""
        logp = np.log(np.maximum(self.cond_probs, _TINY))
        lfs = self.against_named()
        if lfs.size:
            c = self.one_class[lfs]
            rows = logp[lfs, c + 1, :]  # (r, k)
            logp[lfs, c + 1, :] = np.minimum(rows, rows[np.arange(lfs.size), c][:, None])
        return logp

    def log_odds_tables(self) -> tuple[np.ndarray, np.ndarray]:
        """Tables for inference.

        Returns
        -------
        base : ndarray, shape (k,)
            ``log p_y + sum_i log P(lambda_i abstains | y)``.
        D : ndarray, shape (m, k, k)
            ``D[i, c, y] = log P(lambda_i = c | y) - log P(lambda_i abstains | y)``,
            shifted per (i, c) by a constant (which leaves posteriors unchanged).  From
            :meth:`log_tables` (a one-class LF's vote never counts against the class it names).
        """
        logp = self.log_tables()
        base = np.log(self.class_balance) + logp[:, 0, :].sum(axis=0)
        D = logp[:, 1:, :] - logp[:, :1, :]
        D -= D.max(axis=2, keepdims=True)
        return base, D

    def pair_log_tables(self) -> np.ndarray:
        """Log-score corrections of the dependency edges.

        Returns
        -------
        ndarray, shape (E, (k + 1) ** 2, k)
            ``C[e, (a + 1) * (k + 1) + (b + 1), y] = log P(a, b | y) - log P(a | y) - log P(b | y)``
            for votes a of LF i and b of LF j (-1 = abstain), shifted per pattern by a
            constant; adding it to the independent log-scores gives the tree model.
        """
        k = self.cardinality
        if not self.has_dependencies:
            return np.zeros((0, (k + 1) ** 2, k))
        assert self.edges is not None and self.pair_tables is not None
        logp = np.log(np.maximum(self.cond_probs, _TINY))
        li, lj = logp[self.edges[:, 0]], logp[self.edges[:, 1]]  # (E, k + 1, k)
        C = np.log(np.maximum(self.pair_tables, _TINY)) - li[:, :, None, :] - lj[:, None, :, :]
        C -= C.max(axis=3, keepdims=True)
        return C.reshape(len(self.edges), (k + 1) ** 2, k)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "class_balance": self.class_balance.tolist(),
            "cond_probs": self.cond_probs.tolist(),
        }
        if self.has_dependencies:
            assert self.edges is not None and self.pair_tables is not None
            out["edges"] = self.edges.tolist()
            out["pair_tables"] = self.pair_tables.tolist()
        if self.one_class is not None:
            out["one_class"] = self.one_class.tolist()
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LabelModelParams:
        """Rebuild and validate (shapes, finiteness, probabilities summing to 1)."""
        try:
            p = np.asarray(d["class_balance"], dtype=np.float64)
            cp = np.asarray(d["cond_probs"], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"invalid parameter record: {exc}") from exc
        if p.ndim != 1 or p.shape[0] < 2:
            raise ValueError(f"class_balance must be a vector of k >= 2 entries, got shape {p.shape}")
        k = p.shape[0]
        if cp.ndim != 3 or cp.shape[1:] != (k + 1, k):
            raise ValueError(f"cond_probs must have shape (m, {k + 1}, {k}), got {cp.shape}")
        p, cp = _probabilities(p, "class_balance"), _probabilities(cp, "cond_probs")
        if abs(p.sum() - 1) > 1e-6 or (p == 0).any():
            raise ValueError("class_balance must be positive and sum to 1")
        if np.abs(cp.sum(axis=1) - 1).max() > 1e-6:
            raise ValueError("cond_probs columns must sum to 1 over (abstain, classes)")
        one_class = None if d.get("one_class") is None else check_one_class(d["one_class"], cp.shape[0], k)
        if d.get("edges") is None and d.get("pair_tables") is None:
            return cls(p, cp, one_class=one_class)
        edges, tables = _check_pair_tables(d.get("edges"), d.get("pair_tables"), cp)
        return cls(p, cp, edges, tables, one_class)


def check_one_class(value: Any, m: int, k: int) -> np.ndarray:
    """``one_class`` as :class:`LabelModelParams` holds it: integers in -1..k-1, shape (m,)."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"one_class: {exc}") from exc
    if arr.shape != (m,):
        raise ValueError(f"one_class must have shape ({m},), got {arr.shape}")
    if arr.size and (arr.dtype.kind not in "iu" or arr.min() < -1 or arr.max() >= k):
        raise ValueError(f"one_class must hold integers in -1..{k - 1}")
    return arr.astype(np.int64)


#: How far a saved probability may lie outside [0, 1] by rounding: a table entry is a ratio of sums over
#: up to millions of rows (relative error about n * 2.2e-16, 1e-10 at two million), and files written
#: before session 16 hold P(abstain | y) = 1 + 2e-16 for LFs silent on a class.  Nothing a
#: probability could mean lies in the margin.
PROB_ROUNDING = 1e-9


def _probabilities(arr: np.ndarray, name: str) -> np.ndarray:
    """``arr`` validated as probabilities, entries within :data:`PROB_ROUNDING` of [0, 1] set into it."""
    if not np.all(np.isfinite(arr)) or (arr < -PROB_ROUNDING).any() or (arr > 1 + PROB_ROUNDING).any():
        raise ValueError(f"{name} has entries outside [0, 1]")
    return np.clip(arr, 0.0, 1.0)


def _check_pair_tables(edges: Any, tables: Any, cp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate dependency edges (a forest over 0..m-1) and their tables against ``cp``."""
    from .dependencies import check_dependencies, spanning_forest

    m, k1, k = cp.shape
    try:
        e = check_dependencies(np.asarray(edges, dtype=np.int64).reshape(-1, 2), m)
        t = np.asarray(tables, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"invalid dependency record: {exc}") from exc
    if t.shape != (len(e), k1, k1, k):
        raise ValueError(f"pair_tables must have shape ({len(e)}, {k1}, {k1}, {k}), got {t.shape}")
    t = _probabilities(t, "pair_tables")
    if len(e) and np.abs(t.sum(axis=(1, 2)) - 1).max() > 1e-6:
        raise ValueError("pair_tables must sum to 1 over (a, b) for every class")
    if len(e) and not spanning_forest(e, m, np.zeros(len(e))).all():
        raise ValueError("dependency edges of a parameter record must form a forest (no cycle)")
    for name, margin, lf in (("first", t.sum(axis=2), e[:, 0]), ("second", t.sum(axis=1), e[:, 1])):
        if len(e) and np.abs(margin - cp[lf]).max() > 1e-6:
            raise ValueError(f"pair_tables disagree with cond_probs on the {name} LF of an edge")
    return e, t
