"""PyTorch losses that train an end model on the probabilistic labels of an online label model.

Optional: needs ``pip install "tripletws[torch]"``.  ``import tripletws`` never
imports this module (nor torch); import it explicitly::

    from tripletws.torch_loss import WeakSupervisionLoss

    loss_fn = WeakSupervisionLoss(cardinality=2)
    for x, votes in stream:                 # votes: (batch, m) LF outputs, -1 = abstain
        loss = loss_fn(end_model(x), votes)  # updates the label model, then cross-entropy
        loss.backward()

Each training call adds the batch's votes to the label model (``partial_fit``:
running statistics, closed-form re-solve), computes the batch's soft labels
``P(Y | votes)`` with ``predict_proba`` and returns the cross-entropy of the end
model's outputs against them.  Everything is batched (no per-item Python loop).

State: the label model (its running statistics, window or forgetting state and
fitted parameters) and the loss's own counters are part of the module's
``state_dict`` (one ``_extra_state`` entry holding the label model's JSON record),
so ``torch.save(loss_fn.state_dict(), ...)`` / ``load_state_dict`` checkpoint and
resume the stream exactly; ``loss_fn.label_model.save(path)`` writes the label
model alone as a JSON model file.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .io import model_from_dict, model_to_dict
from .matrix import check_cardinality

REDUCTIONS = ("mean", "sum", "none")


def _to_numpy_votes(votes: Any, name: str = "votes") -> np.ndarray:
    """LF votes as a numpy integer array (torch tensors are detached and moved to the CPU)."""
    if isinstance(votes, torch.Tensor):
        if votes.is_floating_point() or votes.is_complex():
            votes = votes.detach()
            if not torch.equal(votes, torch.round(votes)):
                raise ValueError(f"{name} must hold integer votes (-1 = abstain, classes 0..k-1)")
            votes = votes.to(torch.int64)
        return votes.detach().cpu().numpy()
    return np.asarray(votes)


def _soft_cross_entropy(outputs: torch.Tensor, t: torch.Tensor, k: int) -> torch.Tensor:
    """Per-row cross-entropy of logits against soft labels ``t`` (n, k), shape (n,).

    ``outputs`` is (n, k) logits, or for k = 2 also (n,) / (n, 1) logits of class 1.
    """
    n = t.shape[0]
    if k == 2 and (outputs.shape == (n,) or outputs.shape == (n, 1)):
        return F.binary_cross_entropy_with_logits(outputs.reshape(n), t[:, 1], reduction="none")
    if outputs.shape != (n, k):
        binary = f", ({n},) or ({n}, 1)" if k == 2 else ""
        raise ValueError(
            f"outputs have shape {tuple(outputs.shape)}; expected logits of shape ({n}, {k}){binary} "
            "to match the votes"
        )
    return -(t * F.log_softmax(outputs, dim=1)).sum(dim=1)


class _OnlineLoss(nn.Module):
    """Shared machinery: update schedule, pending votes, reduction, state_dict."""

    def __init__(self, label_model: Any, update_every: int, reduction: str, drop_uncovered: bool) -> None:
        super().__init__()
        if isinstance(update_every, bool) or not isinstance(update_every, int) or update_every < 1:
            raise ValueError(f"update_every must be a positive integer, got {update_every!r}")
        if reduction not in REDUCTIONS:
            raise ValueError(f"unknown reduction {reduction!r}; choose one of {', '.join(REDUCTIONS)}")
        self.label_model = label_model
        self.update_every = update_every
        self.reduction = reduction
        self.drop_uncovered = bool(drop_uncovered)
        #: training batches seen
        self.n_batches = 0
        #: soft labels of the latest batch, shape (n, k) (a detached tensor on the outputs' device)
        self.last_targets: torch.Tensor | None = None

    @property
    def cardinality(self) -> int:
        return int(self.label_model.cardinality)

    def _reduce(self, per_row: torch.Tensor, covered: np.ndarray | None) -> torch.Tensor:
        if covered is not None:
            w = torch.as_tensor(covered, dtype=per_row.dtype, device=per_row.device)
            per_row = per_row * w
            if self.reduction == "mean":
                # mean over covered rows; 0 (still differentiable) when none is covered
                return per_row.sum() / w.sum().clamp_min(1.0)
        if self.reduction == "mean":
            return per_row.mean()
        if self.reduction == "sum":
            return per_row.sum()
        return per_row

    def _due(self) -> bool:
        """Whether this training batch re-solves the label model."""
        fitted = hasattr(self.label_model, "params_")
        return not fitted or self.n_batches % self.update_every == 0

    # -- state_dict ------------------------------------------------------------

    def _extra(self) -> dict[str, Any]:
        return {}

    def _set_extra(self, state: dict[str, Any]) -> None:
        pass

    def get_extra_state(self) -> dict[str, Any]:
        """Label model (JSON record) and counters; plain Python types only (``weights_only`` safe)."""
        return {
            "label_model": model_to_dict(self.label_model),
            "n_batches": int(self.n_batches),
            **self._extra(),
        }

    def set_extra_state(self, state: dict[str, Any]) -> None:
        model = model_from_dict(state["label_model"], source="loss state_dict")
        if type(model) is not type(self.label_model):
            have, want = type(model).__name__, type(self.label_model).__name__
            raise ValueError(f"state_dict holds a {have}; this loss uses a {want}")
        self.label_model = model
        self.n_batches = int(state["n_batches"])
        self._set_extra(state)


class WeakSupervisionLoss(_OnlineLoss):
    """Cross-entropy against the soft labels of an online :class:`~tripletws.LabelModel`.

    Parameters
    ----------
    cardinality : int, default 2
        Number of classes k.
    label_model : LabelModel, optional
        The online label model (e.g. ``LabelModel(k, forget=0.99)`` or
        ``LabelModel(k, window=100)``); default ``LabelModel(cardinality)``.
    update_every : int, default 1
        Re-solve the label model every ``update_every`` training batches.  Votes
        of the batches in between are kept and added with the next update, so
        every batch counts; the first batch always updates (the model must be fitted).
    reduction : {"mean", "sum", "none"}
        How per-row losses are combined.
    drop_uncovered : bool, default False
        Give rows on which every LF abstains zero weight (their soft label is
        just the prior); ``"mean"`` then averages over covered rows.

    Notes
    -----
    In training mode (``loss_fn.train()``, the default) each call updates the
    label model; in eval mode (``loss_fn.eval()``) it is frozen and only labels.
    """

    def __init__(
        self,
        cardinality: int = 2,
        label_model: Any = None,
        update_every: int = 1,
        reduction: str = "mean",
        drop_uncovered: bool = False,
    ) -> None:
        from .model import LabelModel

        k = check_cardinality(cardinality)
        if label_model is None:
            label_model = LabelModel(k)
        elif not isinstance(label_model, LabelModel):
            raise ValueError(f"label_model must be a tripletws LabelModel, got {type(label_model).__name__}")
        elif label_model.cardinality != k:
            raise ValueError(f"label_model has cardinality {label_model.cardinality}, the loss {k}")
        super().__init__(label_model, update_every, reduction, drop_uncovered)
        self._pending: list[np.ndarray] = []

    def forward(self, outputs: torch.Tensor, votes: Any) -> torch.Tensor:
        """Loss of ``outputs`` against the label model's soft labels for ``votes``.

        Parameters
        ----------
        outputs : Tensor, shape (n, k), or (n,) / (n, 1) for k = 2
            The end model's logits (class-1 logits in the binary 1-D form).
        votes : Tensor or array of int, shape (n, m)
            The batch's LF votes, -1 = abstain, classes 0..k-1.

        Returns
        -------
        Tensor
            Scalar for ``reduction="mean"``/``"sum"``, shape (n,) for ``"none"``.
        """
        L = _to_numpy_votes(votes)
        if L.ndim != 2:
            raise ValueError(f"votes must have shape (n, m), got {L.shape}")
        if self.training:
            if self._due():
                batch = np.concatenate([*self._pending, L]) if self._pending else L
                self.label_model.partial_fit(batch)
                self._pending = []
            else:
                self._pending.append(np.array(L))
            self.n_batches += 1
        if not isinstance(outputs, torch.Tensor):
            raise ValueError(f"outputs must be a torch.Tensor of logits, got {type(outputs).__name__}")
        probs = self.label_model.predict_proba(L)
        targets = torch.as_tensor(probs, dtype=outputs.dtype, device=outputs.device)
        per_row = _soft_cross_entropy(outputs, targets, self.cardinality)
        self.last_targets = targets
        covered = (L >= 0).any(axis=1) if self.drop_uncovered else None
        return self._reduce(per_row, covered)

    def _extra(self) -> dict[str, Any]:
        return {"pending": [p.tolist() for p in self._pending]}

    def _set_extra(self, state: dict[str, Any]) -> None:
        m = self.label_model.n_lfs_ if hasattr(self.label_model, "n_lfs_") else None
        pending = []
        for p in state.get("pending", []):
            arr = np.asarray(p, dtype=np.int64)
            if arr.ndim != 2 or (m is not None and arr.shape[1] != m):
                raise ValueError(f"pending votes in the state_dict have shape {arr.shape}; expected (n, {m})")
            pending.append(arr)
        self._pending = pending
