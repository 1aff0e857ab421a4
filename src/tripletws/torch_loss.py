"""PyTorch losses that train an end model on the probabilistic labels of an online label model.

Optional: needs ``pip install "tripletws[torch]"``.  ``import tripletws`` never
imports this module (nor torch); import it explicitly::

    from tripletws.torch_loss import WeakSupervisionLoss

    loss_fn = WeakSupervisionLoss(cardinality=2)
    for x, votes in stream:                 # votes: (batch, m) LF outputs, -1 = abstain
        loss = loss_fn(end_model(x), votes)  # updates the label model, then cross-entropy
        loss.backward()

Each training call adds the batch's votes to the label model (``partial_fit``:
running statistics, a re-solve when its ``refit_growth`` says one is due), computes the batch's soft labels
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

import inspect
from typing import Any

import numpy as np

try:
    import torch
    from torch import nn
    from torch.nn import functional as F
except ModuleNotFoundError as exc:  # the extra is not installed: say which one
    if (exc.name or "").split(".")[0] != "torch":
        raise
    raise ModuleNotFoundError(
        'tripletws.torch_loss needs PyTorch: pip install "tripletws[torch]"', name=exc.name
    ) from exc

from .base import NotFittedError
from .crossframe import check_sequence_ids
from .hints import flyingsquid_argument_error
from .io import model_from_dict, model_to_dict
from .kernels import is_sparse
from .lf_names import NamedVotes, check_names, columns_named, compare_names, names_of
from .matrix import check_cardinality, check_label_matrix, from_sparse

REDUCTIONS = ("mean", "sum", "none")


#: FlyingSquid's loss classes, with what to use instead (named by the module's AttributeError).
_FLYINGSQUID_LOSSES = {
    "FSLoss": "WeakSupervisionLoss(cardinality=2) for one label per row; for FlyingSquid's v > 1 frames per "
    "sequence, SequenceWeakSupervisionLoss(cardinality=2) with votes (B, T, m) and a mask, or flat votes and "
    "sequence_ids (docs/online.md)",
    "MajorityVoteLoss": "no majority-vote loss here: tripletws.MajorityLabelVoter().predict_proba(votes) "
    "gives majority vote's soft labels, the targets of a cross-entropy of your own",
}


def __getattr__(name: str) -> Any:
    """FlyingSquid's loss names say what to use instead (a plain AttributeError otherwise)."""
    if name in _FLYINGSQUID_LOSSES:
        raise AttributeError(
            f"module {__name__!r} has no attribute {name!r} (FlyingSquid's): {_FLYINGSQUID_LOSSES[name]}"
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _to_numpy_votes(votes: Any, cardinality: int, name: str = "votes") -> np.ndarray:
    """LF votes as a numpy array, shape as given (torch tensors are detached and moved to the CPU).

    Floating-point tensors become float64 arrays, checked with the label matrix's checks (NaN, a
    fraction or a value outside -1..k-1 named by its row and column), as numpy float votes are; a
    scipy.sparse matrix (class c stored as c + 1, as ``partial_fit`` reads it) becomes dense votes.

    Parameters
    ----------
    votes : Tensor, ndarray, DataFrame, scipy.sparse matrix or nested lists
    cardinality : int
        Number of classes k (checks a sparse matrix's stored values).
    name : str
        What the votes are called in errors.

    Returns
    -------
    ndarray, shape of ``votes``
    """
    if isinstance(votes, torch.Tensor):
        if votes.layout != torch.strided:
            raise ValueError(
                f"{name} is a torch tensor of layout {votes.layout}: give dense votes (.to_dense())"
            )
        if votes.is_complex():
            raise ValueError(
                f"{name} must hold integer votes (-1 = abstain, classes 0..k-1), got {votes.dtype}"
            )
        votes = votes.detach().cpu()
        if votes.is_floating_point():
            # float64 holds every float of float16/32 exactly; the matrix checks name a bad cell (before:
            # NaN or 0.5 gave a message naming none, and inf was cast to int64 -9223372036854775808)
            votes = votes.to(torch.float64)
        return votes.numpy()
    if is_sparse(votes):  # before: np.asarray wrapped it in a 0-d object array ("got shape ()")
        return from_sparse(votes, cardinality)
    if hasattr(votes, "to_numpy") and not isinstance(votes, np.ndarray):
        # a DataFrame read as the label model reads it (nullable integers, a bad cell named by its column);
        # its column names are checked by the loss (before: np.asarray dropped them)
        with columns_named(names_of(votes)):
            lm = check_label_matrix(votes, cardinality, name=name, scan=True, allow_empty=True)
        return np.asarray(lm.data)
    return np.asarray(votes)


def _soft_cross_entropy(outputs: torch.Tensor, t: torch.Tensor, k: int) -> torch.Tensor:
    """Per-row cross-entropy of logits against soft labels ``t`` (n, k), shape (n,).

    ``outputs`` is (n, k) logits, or for k = 2 also (n,) / (n, 1) logits of class 1.
    """
    n = t.shape[0]
    if _check_logit_shape(outputs, n, k):
        return F.binary_cross_entropy_with_logits(outputs.reshape(n), t[:, 1], reduction="none")
    return -(t * F.log_softmax(outputs, dim=1)).sum(dim=1)


def _check_logit_shape(outputs: torch.Tensor, n: int, k: int) -> bool:
    """Raise ValueError unless ``outputs`` are logits for ``n`` rows; True for the binary 1-D form."""
    if k == 2 and (outputs.shape == (n,) or outputs.shape == (n, 1)):
        return True
    if outputs.shape != (n, k):
        binary = f", ({n},) or ({n}, 1)" if k == 2 else ""
        raise ValueError(
            f"outputs have shape {tuple(outputs.shape)}; expected logits of shape ({n}, {k}){binary} "
            "to match the votes"
        )
    return False


def _check_model_cardinality(label_model: Any, k: int) -> None:
    """The label model's setting and, once fitted, its fit score ``k`` classes (ValueError otherwise)."""
    if label_model.cardinality != k:
        raise ValueError(f"label_model has cardinality {label_model.cardinality}, the loss {k}")
    fitted = label_model._fitted_cardinality()
    if fitted != k:
        raise ValueError(
            f"label_model was fitted with cardinality {fitted} (set_params has since set {k}), the loss "
            f"has {k}: fit it again with {k} classes"
        )


def _check_outputs(outputs: Any) -> None:
    if not isinstance(outputs, torch.Tensor):
        raise ValueError(f"outputs must be a torch.Tensor of logits, got {type(outputs).__name__}")
    if not outputs.is_floating_point():
        raise ValueError(f"outputs must be floating-point logits, got dtype {outputs.dtype}")


class _OnlineLoss(nn.Module):
    """Shared machinery: label model check, update schedule, pending votes, reduction, state_dict."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        """Refuse FlyingSquid's ``FSLoss`` arguments (``v``, ``cb``, ``buffer_capacity``, ...) with what
        to use instead, before ``__init__`` raises Python's bare TypeError for them."""
        own = inspect.signature(cls.__init__).parameters
        error = flyingsquid_argument_error(f"{cls.__name__}()", list(kwargs), skip=tuple(own))
        if error is not None:
            raise error
        return super().__new__(cls)

    def __init__(
        self,
        cardinality: int,
        label_model: Any,
        model_class: type,
        update_every: int,
        reduction: str,
        drop_uncovered: bool,
    ) -> None:
        super().__init__()
        k = check_cardinality(cardinality)
        if label_model is None:
            label_model = model_class(k)
        elif not isinstance(label_model, model_class):
            raise ValueError(
                f"label_model must be a tripletws {model_class.__name__}, got {type(label_model).__name__}"
            )
        _check_model_cardinality(label_model, k)
        if isinstance(update_every, (bool, np.bool_)) or not isinstance(update_every, (int, np.integer)):
            raise ValueError(f"update_every must be a positive integer, got {update_every!r}")
        if update_every < 1:
            raise ValueError(f"update_every must be a positive integer, got {update_every!r}")
        update_every = int(update_every)
        if reduction not in REDUCTIONS:
            raise ValueError(f"unknown reduction {reduction!r}; choose one of {', '.join(REDUCTIONS)}")
        self.label_model = label_model
        self._k = k
        self.update_every = update_every
        self.reduction = reduction
        if not isinstance(drop_uncovered, (bool, np.bool_)):  # before: bool("False") was True
            raise ValueError(f"drop_uncovered must be True or False, got {drop_uncovered!r}"[:200])
        self.drop_uncovered = bool(drop_uncovered)
        #: training batches seen
        self.n_batches = 0
        #: soft labels of the latest batch, shape (n, k) (a detached tensor on the outputs' device)
        self.last_targets: torch.Tensor | None = None
        # votes (and sequence ids) of training batches not yet given to the label model
        self._pending: list[tuple[np.ndarray, np.ndarray | None]] = []

    @property
    def cardinality(self) -> int:
        """Number of classes k of the loss (its label model must score k classes)."""
        return self._k

    def _fitted(self) -> bool:
        try:
            self.label_model._check_fitted()
        except RuntimeError:
            return False
        return True

    def _partial_fit(self, L: Any, ids: np.ndarray | None) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _n_lfs(self) -> int | None:
        """LFs of the votes seen so far (pending or in the fitted label model); None before any."""
        if self._pending:
            return int(self._pending[0][0].shape[1])
        return int(self.label_model.n_lfs_) if self._fitted() else None

    def _check_names(self, names: tuple[str, ...] | None, votes: Any = None) -> None:
        """Votes that name their columns (a DataFrame) name the label model's LFs in its order (ValueError
        otherwise, as ``partial_fit`` and ``predict_proba`` say; before: the loss dropped the names, and
        reordered columns were read as other LFs).  ``votes``: the frame itself, whose labels are
        checked as the label model checks them (default labels 0..m-1 reordered, labels naming no LF)."""
        if votes is not None and self._fitted():
            check_names(getattr(self.label_model, "lf_names_", None), votes, "votes")
            return
        known = getattr(self.label_model, "lf_names_", None) if self._fitted() else None
        compare_names(known, names, "votes")

    def _update(
        self,
        L: np.ndarray,
        ids: np.ndarray | None = None,
        names: tuple[str, ...] | None = None,
        votes: Any = None,
    ) -> None:
        """Training step of the label model: solve now (first batch, every ``update_every``) or keep.

        The votes are checked first (values, and columns against the votes seen so far), so a bad
        batch raises before it reaches the label model or the pending queue.  ``names``: the votes'
        column names (a DataFrame's), checked against the label model's and given to it."""
        self._check_names(names, votes)
        if not self.training:
            if not self._fitted():  # before: the label model's "call fit first", no word of the loss's mode
                raise NotFittedError(
                    f"{type(self).__name__} is in eval mode and its label model is not fitted yet: train on "
                    "a batch first (loss_fn.train() makes each call update the label model), or give a "
                    "fitted label_model="
                )
            return
        # the checked votes as integers (float votes converted), as the pending queue and state_dict keep them
        L = np.asarray(
            check_label_matrix(L, self.cardinality, name="votes", scan=True, allow_empty=True).data
        )
        m = self._n_lfs()
        if m is not None and L.shape[1] != m:
            raise ValueError(f"votes have {L.shape[1]} columns (LFs); the earlier batches had {m}")
        if not self._fitted() or self.n_batches % self.update_every == 0:
            if self._pending:
                L = np.concatenate([p[0] for p in self._pending] + [L])
                if ids is not None:
                    ids = np.concatenate([p[1] for p in self._pending] + [ids])
            self._partial_fit(L if names is None else NamedVotes(L, names), ids)
            self._pending = []
        else:
            self._pending.append((np.array(L), None if ids is None else np.array(ids)))
        self.n_batches += 1

    def flush(self) -> _OnlineLoss:
        """Hand the label model the votes of the training batches still queued (``update_every > 1``).

        The votes of the batches since the last update wait in the loss until the next scheduled one; at
        the end of training call ``loss_fn.flush()`` (then ``loss_fn.label_model.refit()`` to solve every
        row) so that they count too (before: the last ``update_every - 1`` batches' votes never reached
        the label model).  The label model solves them when its ``refit_growth`` says so; the update
        schedule of later batches is unchanged.  Nothing happens when no votes wait.

        Returns
        -------
        self
        """
        if self._pending:
            L = np.concatenate([p[0] for p in self._pending])
            ids = np.concatenate([p[1] for p in self._pending]) if self._sequences else None
            self._partial_fit(L, ids)
            self._pending = []
        return self

    def _loss(self, outputs: Any, L: np.ndarray, probs: np.ndarray) -> torch.Tensor:
        """Per-row cross-entropy against ``probs`` (n, k), reduced; also sets ``last_targets``."""
        if probs.shape[1] != self.cardinality:
            # before: a label model fitted with another k (set_params(cardinality=) since) gave the
            # binary 1-D loss column 1 of its k-class probabilities, silently, or a broadcast RuntimeError
            raise ValueError(
                f"the label model gives probabilities of {probs.shape[1]} classes, the loss has "
                f"cardinality {self.cardinality}: the label model was fitted with another number of classes"
            )
        targets = torch.as_tensor(probs, dtype=outputs.dtype, device=outputs.device)
        per_row = _soft_cross_entropy(outputs, targets, self.cardinality)
        self.last_targets = targets
        covered = (L >= 0).any(axis=1) if self.drop_uncovered else None
        return self._reduce(per_row, covered)

    def _reduce(self, per_row: torch.Tensor, covered: np.ndarray | None) -> torch.Tensor:
        if covered is not None:
            w = torch.as_tensor(covered, dtype=per_row.dtype, device=per_row.device)
            per_row = per_row * w
            if self.reduction == "mean":
                # mean over covered rows; 0 (still differentiable) when none is covered.  Sum and count in
                # float32 at least, as torch's mean accumulates (before: in float16 a batch of 65,520
                # covered rows counted inf, and the loss was 0)
                acc = torch.promote_types(per_row.dtype, torch.float32)
                total = per_row.sum(dtype=acc) / w.sum(dtype=acc).clamp_min(1.0)
                return total.to(per_row.dtype)
        if self.reduction == "mean":
            return per_row.mean()
        if self.reduction == "sum":
            return per_row.sum()
        return per_row

    # -- state_dict ------------------------------------------------------------

    def _extra(self) -> dict[str, Any]:
        return {}

    def get_extra_state(self) -> dict[str, Any]:
        """Label model (JSON record), counters, pending votes; plain Python types (``weights_only`` safe)."""
        return {
            "label_model": model_to_dict(self.label_model),
            "n_batches": int(self.n_batches),
            "pending": [
                {"votes": L.tolist(), "ids": None if ids is None else ids.tolist()}
                for L, ids in self._pending
            ],
            **self._extra(),
        }

    def set_extra_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_extra_state`'s record, every field checked (a ValueError naming it)."""
        from .validate import check_int, check_mapping

        # before: n_batches -1 was kept and 2.7 truncated, pending votes 0.5 were truncated to class 0 and
        # 7 (k = 2) queued for a later update; a missing or mistyped field was a KeyError or TypeError
        where = "the loss state_dict's _extra_state"
        state = check_mapping(state, where, ("label_model", "n_batches"), ("pending", "n_sequences"))
        model = model_from_dict(state["label_model"], source="loss state_dict")
        if type(model) is not type(self.label_model):
            have, want = type(model).__name__, type(self.label_model).__name__
            raise ValueError(f"state_dict holds a {have}; this loss uses a {want}")
        extra = ("n_sequences",) if self._sequences else ()
        check_mapping(state, where, ("label_model", "n_batches", *extra), ("pending", *extra))
        try:  # as the constructor refuses it
            _check_model_cardinality(model, self.cardinality)
        except ValueError as exc:
            raise ValueError(f"{exc} (the state_dict is of a loss with another number of classes)") from None
        n_batches = check_int(state["n_batches"], f"{where}.n_batches", 0, 10**15)
        n_sequences = check_int(state["n_sequences"], f"{where}.n_sequences", 0, 10**15) if extra else 0
        fitted = "solution_" in model.__dict__ or "frame_model_" in model.__dict__
        m = model.n_lfs_ if fitted else None
        records = state.get("pending", [])
        if not isinstance(records, list):
            raise ValueError(f"{where}.pending must be a list, got {type(records).__name__}")
        if records and (m is None or n_batches < 1):
            raise ValueError(f"{where}.pending holds votes, but the loss has not updated its label model yet")
        pending = []
        for i, record in enumerate(records):
            field = f"{where}.pending[{i}]"
            record = check_mapping(record, field, ("votes", "ids"))
            L = self._read_votes(record["votes"], f"{field}.votes", m)
            ids = record["ids"]
            if self._sequences:
                ids = self._read_ids(ids, f"{field}.ids", L.shape[0], n_sequences)
            elif ids is not None:
                raise ValueError(f"{field}.ids must be null for a {type(self).__name__}")
            pending.append((L, ids))
        self.label_model = model
        self.n_batches = n_batches
        self._pending = pending
        if extra:
            self.n_sequences = n_sequences

    #: Whether the loss's batches carry sequence ids (``n_sequences`` and pending ids in its state).
    _sequences = False

    def _read_votes(self, votes: Any, field: str, m: int | None) -> np.ndarray:
        """Pending votes of a state_dict: a list of ``n >= 1`` rows of ``m`` votes in -1..k-1, as int64."""
        try:
            arr = np.asarray(votes)
            lm = check_label_matrix(arr, self.cardinality, name=field, scan=True)
        except ValueError as exc:
            text = str(exc)
            raise ValueError(text if text.startswith(field) else f"{field}: {text}"[:500]) from None
        if lm.m != m:
            raise ValueError(f"{field} has shape {arr.shape}; expected (n, {m})")
        return np.asarray(lm.data, dtype=np.int64)

    @staticmethod
    def _read_ids(ids: Any, field: str, n: int, n_sequences: int) -> np.ndarray:
        """Pending sequence ids of a state_dict: ``n`` integers in ``[0, n_sequences)``."""
        arr = np.asarray(ids) if isinstance(ids, list) else None
        if arr is None or arr.shape != (n,) or (n and arr.dtype.kind not in "iu"):
            raise ValueError(f"{field} must be a list of {n} integer sequence ids (one per row of its votes)")
        if n and (arr.min() < 0 or arr.max() >= n_sequences):
            raise ValueError(
                f"{field} holds ids outside 0..{n_sequences - 1} (the sequences numbered so far)"
            )
        return arr.astype(np.int64)


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
        Hand the label model the votes every ``update_every`` training batches (it re-solves
        when its ``refit_growth`` says so: the default annotator model at growing stream sizes,
        ``refit_growth="always"`` at each hand-over).  Votes
        of the batches in between are kept and added with the next update, so
        every batch counts (:meth:`flush` hands over those still queued at the end of
        training); the first batch always updates (the model must be fitted).
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

        super().__init__(cardinality, label_model, LabelModel, update_every, reduction, drop_uncovered)

    def _partial_fit(self, L: Any, ids: np.ndarray | None) -> None:
        self.label_model.partial_fit(L)

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
        _check_outputs(outputs)
        L = _to_numpy_votes(votes, self.cardinality)
        if L.ndim != 2:
            raise ValueError(f"votes must have shape (n, m), got {L.shape}")
        if L.shape[0] == 0:
            raise ValueError(f"votes have no rows (shape {L.shape}): the batch is empty")
        _check_logit_shape(outputs, L.shape[0], self.cardinality)  # before the label model sees the votes
        self._update(L, names=names_of(votes), votes=votes)
        return self._loss(outputs, L, self.label_model.predict_proba(L))


def sequence_runs(ids: np.ndarray) -> tuple[np.ndarray, int]:
    """Number the sequences of a batch 0, 1, ... in row order, checking that each is contiguous.

    Returns
    -------
    runs : ndarray of int64, shape (n,)
    n_runs : int
    """
    ids = np.asarray(ids)
    n = ids.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64), 0
    new = np.concatenate([[True], ids[1:] != ids[:-1]])
    starts = np.flatnonzero(new)
    heads = ids[starts]
    uniq, counts = np.unique(heads, return_counts=True)
    if (counts > 1).any():
        again = uniq[np.flatnonzero(counts > 1)[0]]
        row = int(starts[np.flatnonzero(heads == again)[1]])
        raise ValueError(
            f"sequence id {again.item()!r} appears again at row {row} after other sequences: "
            "rows of one sequence must be contiguous and in frame order"
        )
    return np.cumsum(new) - 1, len(starts)


class SequenceWeakSupervisionLoss(_OnlineLoss):
    """Cross-entropy against the per-frame marginals of an online sequence label model.

    Backed by :class:`~tripletws.sequence.SequenceLabelModel` (a label chain over
    the frames: per-frame LF accuracies by triplets, label persistence from
    cross-frame moments, exact marginals by forward-backward).

    Parameters
    ----------
    cardinality : int, default 2
    label_model : SequenceLabelModel, optional
        Default ``SequenceLabelModel(cardinality)``.
    update_every, reduction, drop_uncovered
        As in :class:`WeakSupervisionLoss` (per frame).

    Notes
    -----
    Every batch holds complete sequences: the loss numbers the batch's sequences
    with ids that never repeat in the stream, so a sequence never continues
    across batches (and ``predict_proba`` passes no messages between calls).
    """

    _sequences = True

    def __init__(
        self,
        cardinality: int = 2,
        label_model: Any = None,
        update_every: int = 1,
        reduction: str = "mean",
        drop_uncovered: bool = False,
    ) -> None:
        from .sequence import SequenceLabelModel

        super().__init__(
            cardinality, label_model, SequenceLabelModel, update_every, reduction, drop_uncovered
        )
        #: sequences seen in training batches (the next one gets this id)
        self.n_sequences = 0

    def _partial_fit(self, L: Any, ids: np.ndarray | None) -> None:
        self.label_model._end_sequence()  # no sequence continues across batches (nor a pretrained model's)
        self.label_model.partial_fit(L, ids)

    def forward(
        self,
        outputs: torch.Tensor,
        votes: Any,
        sequence_ids: Any = None,
        mask: Any = None,
    ) -> torch.Tensor:
        """Loss of per-frame ``outputs`` against the chain's marginals for ``votes``.

        Two layouts:

        * padded: ``outputs`` (B, T, k) (or (B, T) class-1 logits for k = 2), ``votes``
          (B, T, m), one sequence per row of the batch; ``mask`` (B, T) bool marks the
          real frames (padding at the end of each row);
        * flat: ``outputs`` (n, k) (or (n,)), ``votes`` (n, m) and ``sequence_ids`` (n,),
          rows of a sequence contiguous and in frame order.

        Returns
        -------
        Tensor
            Scalar for ``"mean"`` (over frames) / ``"sum"``; for ``"none"`` the per-frame
            losses in the layout of ``outputs`` without the class axis (0 at padding).
        """
        _check_outputs(outputs)
        V = _to_numpy_votes(votes, self.cardinality)
        if sequence_ids is not None:
            if mask is not None:
                raise ValueError("give sequence_ids (flat layout) or mask (padded layout), not both")
            if V.ndim != 2:
                raise ValueError(f"with sequence_ids, votes must have shape (n, m), got {V.shape}")
            runs, n_runs = sequence_runs(_sequence_ids(sequence_ids, V.shape[0]))
            return self._step(outputs, V, runs, n_runs, None, names_of(votes), votes)
        if V.ndim != 3:
            raise ValueError(
                f"votes must have shape (batch, T, m) (or (n, m) with sequence_ids), got {V.shape}"
            )
        B, T, _ = V.shape
        valid = np.ones((B, T), dtype=bool) if mask is None else _frame_mask(mask, B, T)
        k = self.cardinality
        shapes = [(B, T, k)] + ([(B, T), (B, T, 1)] if k == 2 else [])
        if tuple(outputs.shape) not in shapes:
            expected = " or ".join(str(x) for x in shapes)
            raise ValueError(
                f"outputs have shape {tuple(outputs.shape)}; expected {expected} to match the votes of "
                f"shape {V.shape}"
            )
        flat_outputs = outputs[torch.as_tensor(valid, device=outputs.device)]
        runs = np.nonzero(valid)[0]
        # sequences without a real frame drop out; renumber the others 0..
        runs, n_runs = sequence_runs(runs)
        return self._step(flat_outputs, V[valid], runs, n_runs, valid)

    def _step(
        self,
        outputs: torch.Tensor,
        L: np.ndarray,
        runs: np.ndarray,
        n_runs: int,
        valid: np.ndarray | None,
        names: tuple[str, ...] | None = None,
        votes: Any = None,
    ) -> torch.Tensor:
        if L.shape[0] == 0:
            raise ValueError("the batch has no frames")
        ids = runs + self.n_sequences
        training = self.training
        _check_logit_shape(outputs, L.shape[0], self.cardinality)  # before the label model sees the votes
        self._update(L, ids, names, votes)
        if training:
            self.n_sequences += n_runs
        loss = self._loss(outputs, L, self.label_model.predict_proba(L, ids))
        if self.reduction != "none" or valid is None:
            return loss
        full = loss.new_zeros(valid.shape)
        full[torch.as_tensor(valid, device=loss.device)] = loss
        return full

    def _extra(self) -> dict[str, Any]:
        return {"n_sequences": int(self.n_sequences)}


def _sequence_ids(sequence_ids: Any, n: int) -> np.ndarray:
    if isinstance(sequence_ids, torch.Tensor):
        sequence_ids = sequence_ids.detach().cpu().numpy()
    return check_sequence_ids(sequence_ids, n)


def _frame_mask(mask: Any, B: int, T: int) -> np.ndarray:
    if isinstance(mask, torch.Tensor):
        mask = mask.detach().cpu().numpy()
    valid = np.asarray(mask)
    if valid.shape != (B, T):
        raise ValueError(f"mask must have shape ({B}, {T}), got {valid.shape}")
    if valid.dtype.kind != "b":
        # 0/1 (a float or int padding mask); before: any other value (0.5, 2, -1, NaN) was a real frame
        bad = ~np.isin(valid, (0, 1))
        if bad.any():
            b, t = (int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"mask must hold booleans or 0/1 (1 = a real frame); mask[{b}, {t}] is {valid[b, t].item()!r}"
            )
    valid = valid.astype(bool)
    if (valid[:, 1:] & ~valid[:, :-1]).any():
        b = int(np.flatnonzero((valid[:, 1:] & ~valid[:, :-1]).any(axis=1))[0])
        raise ValueError(f"mask row {b} has a real frame after padding: pad at the end of each sequence")
    return valid
