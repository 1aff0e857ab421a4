"""Fitted label-model parameters: a small plain object, the estimators' output.

Every model (symmetric or class-conditional) is summarised by the class
balance ``p`` (k,) and the conditional vote table

    cond_probs[i, a, y] = P(lambda_i = a - 1 | Y = y),   a = 0 (abstain), 1..k (class a - 1)

of shape (m, k + 1, k), each ``[i, :, y]`` column summing to 1.  Inference only
needs this table, so every model shares one inference path.
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
    """

    class_balance: np.ndarray
    cond_probs: np.ndarray

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

    def log_odds_tables(self) -> tuple[np.ndarray, np.ndarray]:
        """Tables for inference.

        Returns
        -------
        base : ndarray, shape (k,)
            ``log p_y + sum_i log P(lambda_i abstains | y)``.
        D : ndarray, shape (m, k, k)
            ``D[i, c, y] = log P(lambda_i = c | y) - log P(lambda_i abstains | y)``,
            shifted per (i, c) by a constant (which leaves posteriors unchanged).
        """
        logp = np.log(np.maximum(self.cond_probs, _TINY))
        base = np.log(self.class_balance) + logp[:, 0, :].sum(axis=0)
        D = logp[:, 1:, :] - logp[:, :1, :]
        D -= D.max(axis=2, keepdims=True)
        return base, D

    def to_dict(self) -> dict[str, Any]:
        return {
            "class_balance": self.class_balance.tolist(),
            "cond_probs": self.cond_probs.tolist(),
        }

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
        for name, arr in (("class_balance", p), ("cond_probs", cp)):
            if not np.all(np.isfinite(arr)) or (arr < 0).any() or (arr > 1).any():
                raise ValueError(f"{name} has entries outside [0, 1]")
        if abs(p.sum() - 1) > 1e-6 or (p == 0).any():
            raise ValueError("class_balance must be positive and sum to 1")
        if np.abs(cp.sum(axis=1) - 1).max() > 1e-6:
            raise ValueError("cond_probs columns must sum to 1 over (abstain, classes)")
        return cls(p, cp)
