"""``SequenceLabelModel``: a label chain over the frames of sequences (video).

Each row of L is a frame; rows of one sequence are contiguous and in frame order.
The frames' labels form a Markov chain (stay with probability ``rho``, else redraw
from the class balance) and each frame's LF votes depend on its own label only.

Fit, all in closed form and without gold labels:

1. per-frame LF accuracies by triplets within frames (the symmetric
   :class:`~tripletws.model.LabelModel`, declared dependencies included);
2. the persistence rho from cross-frame moments ``M^x_ij = b_i b_j tau``
   (:mod:`tripletws.estimators.transition`).

Inference: exact per-frame marginals by forward-backward (:mod:`tripletws.chain`).

Online: :meth:`SequenceLabelModel.partial_fit` adds a batch's statistics (per-frame
and cross-frame sums) and re-solves.  A sequence continues across batches when
the batch's first sequence id equals the previous batch's last one (with
``sequence_ids=None`` every batch continues one single stream).
"""

from __future__ import annotations

import logging
import numbers
import warnings
from dataclasses import replace
from typing import Any

import numpy as np

from .arrays import decode_array
from .base import BaseLabeler, NotFittedError
from .chain import chain_posteriors
from .crossframe import CrossFrameStats, Segments, cross_frame_stats, plain_id, segment_rows
from .estimators.symmetric import unipolar_pairs
from .estimators.transition import (
    TransitionEstimate,
    estimate_persistence,
    lowest_persistence,
    persistence_bounds,
    persistence_to_tau,
    transition_matrix,
)
from .hints import flyingsquid_argument_error
from .inference import log_scores
from .lf_names import check_names, columns_named, names_of
from .matrix import LabelMatrix, check_cardinality, check_label_matrix
from .metrics import METRICS
from .model import LabelModel, _lock, _publish
from .settings import check_dependency_graph
from .stats import LabelStats, compute_stats
from .validate import check_float, check_int, check_mapping

logger = logging.getLogger("tripletws")

#: Note of a fit without a usable pair of consecutive frames.
NO_PAIRS = "no consecutive frames with usable votes: persistence set to 0 (frames treated as independent)"
#: Largest window and saved frame position: frame positions are int64, with room for a batch's rows.
MAX_FRAMES = 2**62


class SequenceLabelModel(BaseLabeler):
    """Closed-form label model for frames of sequences (an HMM over the labels).

    Parameters
    ----------
    cardinality : int, default 2
        Number of classes k.
    window : int, optional
        Cut every sequence into windows of ``window`` frames and treat each window
        as a sequence (FlyingSquid's ``v``: with one long sequence and ``window=v``
        the windows are ``frame // v``).  ``None``: whole sequences.
    persistence : float, optional
        Fix rho (probability that a label stays, else it is redrawn from the class
        balance) instead of estimating it: in ``[-1/(k - 1), 1)`` (negative values alternate the
        labels; below ``-p_min / (1 - p_min)`` for the fitted class balance p some transition would
        be impossible, and rho is raised to that bound with a warning).
    solver, signs, dependencies, class_balance, eps
        As in :class:`~tripletws.model.LabelModel`, for the per-frame model.
    same_lf_pairs : bool
        Also use each LF's agreement with itself on the next frame to estimate rho
        (off by default: real LFs tend to repeat their own errors on neighbouring
        frames, which would inflate rho).
    chunk_size : int, optional
        Rows per chunk when reading L.
    random_state : int or numpy Generator, optional
        For the ``"true-random"`` tie-break policy.
    verbose : bool
        Log the fitted transition at INFO level.

    Attributes
    ----------
    frame_model_ : LabelModel
        The per-frame model (accuracies, class balance, dependencies).
    accuracies_ : ndarray, shape (m,)
    coverage_ : ndarray, shape (m,)
    class_balance_ : ndarray, shape (k,)
    dependencies_ : ndarray of int, shape (E, 2)
    persistence_ : float
        rho (clipped into its valid range, with a warning where the raw estimate lies outside it:
        see :func:`~tripletws.estimators.transition.estimate_persistence`).
    notes_ : tuple of str
        What the last solve had to say: the frame model's notes, then the persistence's (``fit``
        warns them, ``partial_fit`` logs them).
    tau_ : float
        ``(k P(Y_{t+1} = Y_t) - 1) / (k - 1)``; ``E[Y_t Y_{t+1}]`` in the +-1 coding for k = 2.
    transition_ : ndarray, shape (k, k)
        ``P(Y_{t+1} = b | Y_t = a)``.
    stats_ : LabelStats
        Per-frame statistics.
    cross_stats_ : CrossFrameStats
        Consecutive-frame statistics.
    """

    _fitted_attr = "frame_model_"

    def __init__(
        self,
        cardinality: int = 2,
        *,
        window: int | None = None,
        persistence: float | None = None,
        solver: str = "triplet_mean",
        signs: str = "all_positive",
        dependencies: Any = None,
        class_balance: Any = "uniform",
        same_lf_pairs: bool = False,
        eps: float = 1e-4,
        chunk_size: int | None = None,
        random_state: Any = None,
        verbose: bool = False,
    ) -> None:
        self.cardinality = cardinality
        self.window = window
        self.persistence = persistence
        self.solver = solver
        self.signs = signs
        self.dependencies = dependencies
        self.class_balance = class_balance
        self.same_lf_pairs = same_lf_pairs
        self.eps = eps
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.verbose = verbose

    # -- validation ----------------------------------------------------------

    def _check_settings(self) -> int:
        """Check the sequence settings and the flags (ValueError naming the parameter); the number of
        classes."""
        k = check_cardinality(self.cardinality)
        for name in ("same_lf_pairs", "verbose"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}"[:200])
        w = self.window
        if w is not None and (
            isinstance(w, bool) or not isinstance(w, (int, np.integer)) or not 1 <= w <= MAX_FRAMES
        ):
            raise ValueError(
                f"window must be a positive integer number of frames (at most 2**62) or None, got {w!r}"
            )
        chunk = self.chunk_size
        if chunk is not None and (
            isinstance(chunk, bool) or not isinstance(chunk, numbers.Integral) or chunk < 1
        ):
            raise ValueError(f"chunk_size must be None or a positive integer, got {chunk!r}"[:200])
        rho_setting = self.persistence
        if rho_setting is not None:
            if isinstance(rho_setting, (bool, np.bool_)) or not isinstance(rho_setting, numbers.Real):
                raise ValueError(f"persistence must be a number or None, got {rho_setting!r}"[:200])
            rho = float(rho_setting)
            least = -1.0 / (k - 1)  # the lowest rho of any class balance (the uniform one)
            if not np.isfinite(rho) or rho >= 1.0 or rho < least:
                raise ValueError(
                    f"persistence must lie in [{least:.4g}, 1) for k={k} (rho of the transition; "
                    f"at -1/(k - 1) the label never stays), got {self.persistence!r}"
                )
        return k

    def _check_params(self) -> None:
        """Validate the constructor parameters (run when a model file is loaded): the sequence settings,
        the flags and those of the per-frame model (ValueError naming the parameter)."""
        super()._check_params()
        self._check_settings()
        self._frame_model()._check_params()

    def _frame_model(self) -> LabelModel:
        return LabelModel(
            self.cardinality,
            model="symmetric",
            solver=self.solver,
            signs=self.signs,
            dependencies=self.dependencies,
            class_balance=self.class_balance,
            eps=self.eps,
            chunk_size=self.chunk_size,
            random_state=self.random_state,
        )

    def _segments(self, n: int, sequence_ids: Any, continues: bool = False, offset: int = 0) -> Segments:
        return segment_rows(n, sequence_ids, window=self.window, continues=continues, offset=offset)

    # -- fitting -------------------------------------------------------------

    def fit(
        self,
        L_train: Any,
        sequence_ids: Any = None,
        Y_dev: Any = None,
        class_balance: Any = None,
        dependencies: Any = None,
        **kwargs: Any,
    ) -> SequenceLabelModel:
        """Estimate per-frame LF accuracies and the label persistence from ``L_train``.

        Parameters
        ----------
        L_train : label matrix, shape (n, m), m >= 3
            One row per frame; rows of a sequence contiguous and in frame order.
        sequence_ids : array of shape (n,), optional
            Sequence of each row (ints or strings); ``None``: one sequence.
        Y_dev : array, optional
            Dev gold labels; only their class frequencies are used (the prior).
        class_balance : array of shape (k,), optional
            Prior P(Y); overrides ``Y_dev`` and the constructor's ``class_balance``.
        dependencies : list of pairs (i, j), optional
            Dependent LF pairs within a frame (overrides the constructor's).
        **kwargs
            None taken: FlyingSquid's ``fit`` options (``solve_method``, ...) are a TypeError saying
            what to use instead.

        Returns
        -------
        self
        """
        if kwargs:
            error = flyingsquid_argument_error("fit()", list(kwargs))
            name = next(iter(kwargs))
            raise error or TypeError(f"fit() got an unexpected keyword argument {name!r}")
        k = self._check_settings()
        names = names_of(L_train)
        with columns_named(names):
            lm = check_label_matrix(L_train, k, min_lfs=3, name="L_train")
            seg = self._segments(lm.n, sequence_ids)
            stats = compute_stats(lm, chunk_size=self.chunk_size)
            cross = cross_frame_stats(lm, seg.linked, chunk_size=self.chunk_size)
        with _lock(self):  # one fit at a time, kept all at once (see partial_fit)
            state = self._solve(stats, cross, Y_dev, class_balance, dependencies, stream=False, names=names)
            state["frame_model_"].lf_names_ = names  # kept, saved and checked by the frame model's record
            state["_tail"] = _tail_of(lm, seg)
            _publish(self, state)
        return self

    @property
    def lf_names_(self) -> tuple[str, ...] | None:
        """The LFs' column names of a fit on named columns (a DataFrame; the CLI's CSV header or
        Parquet), else None: later named input must name the same LFs in the same order."""
        self._check_fitted()
        return self.frame_model_.__dict__.get("lf_names_")

    def fit_stats(
        self,
        stats: LabelStats,
        cross: CrossFrameStats,
        Y_dev: Any = None,
        class_balance: Any = None,
        dependencies: Any = None,
    ) -> SequenceLabelModel:
        """Solve from precomputed (e.g. merged) per-frame and cross-frame statistics; starts a new stream
        (a following :meth:`partial_fit` continues no sequence of an earlier fit)."""
        with _lock(self):
            state = self._solve(stats, cross, Y_dev, class_balance, dependencies, stream=False)
            state["_tail"] = None
            _publish(self, state)
        return self

    def _solve(
        self,
        stats: LabelStats,
        cross: CrossFrameStats,
        Y_dev: Any,
        class_balance: Any,
        dependencies: Any,
        *,
        stream: bool,
        names: tuple[str, ...] | None = None,
    ) -> dict[str, Any]:
        """Solve the frame model and the persistence: the fitted attributes, for the caller to keep at
        once (with its ``_tail``; a fit that raises keeps none, and no other thread sees half a fit).

        ``stream`` (``partial_fit``): a prior given to an earlier call of the stream is used where
        this call gives none (as :class:`~tripletws.model.LabelModel`'s stream keeps it), and the
        notes are logged; otherwise (``fit``, ``fit_stats``) they are warned.  Warnings other than
        notes are warned in both cases.  Every warning names the line that called the public method
        (the one that called this one).  ``names``: the LFs' column names, which dependencies given by
        name (the call's, else the constructor's) are read against, as ``LabelModel.fit`` reads them.
        """
        k = self._check_settings()
        if cross.cardinality != k or cross.n_lfs != stats.n_lfs:
            raise ValueError(
                f"cross-frame statistics have m={cross.n_lfs}, k={cross.cardinality}; "
                f"per-frame statistics have m={stats.n_lfs}, k={stats.cardinality}"
            )
        kept = self._stream_prior() if stream and Y_dev is None and class_balance is None else None
        declared = self.dependencies if dependencies is None else dependencies
        if names is not None and declared is not None:  # LFs named by their columns: read as indices here
            with columns_named(names):
                dependencies = check_dependency_graph(declared, stats.n_lfs, names).tolist()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame = self._frame_model().fit_stats(
                stats,
                Y_dev=Y_dev,
                class_balance=class_balance if kept is None else kept[0],
                dependencies=dependencies,
            )
        if kept is not None and kept[1] != "given":  # the prior's own source, as LabelModel's stream says
            frame.solution_ = replace(frame.solution_, class_balance_source=kept[1])
            frame._stream = frame._stream.with_prior(kept[0], kept[1])
        p = frame.class_balance_
        chain_notes: list[str] = []
        if self.persistence is not None:
            lo, hi = persistence_bounds(p)
            rho = float(np.clip(float(self.persistence), lo, hi))
            # (not just the MIN_STAY margin; and not a rounding of the bound itself: -1 / (k - 1) under
            # a uniform balance computes as -0.49999999999999994 for k = 3)
            if float(self.persistence) < lowest_persistence(p) - 1e-12:
                chain_notes.append(
                    f"persistence={self.persistence!r} is below the lowest value the class balance "
                    f"{np.round(p, 4).tolist()} allows ({lowest_persistence(p):.6g}: staying in the rarest "
                    f"class would be impossible): raised to {rho:.6g}"
                )
            est = TransitionEstimate(rho, persistence_to_tau(rho, p), float("nan"), cross.n_pairs)
        else:
            b = np.where(frame.estimate_.estimated, frame.estimate_.b, 0.0)
            est = estimate_persistence(cross, b, p, usable=~unipolar_pairs(stats), same_lf=self.same_lf_pairs)
            if not np.isfinite(est.tau_raw):
                chain_notes.append(NO_PAIRS)
            elif est.note:
                chain_notes.append(est.note)
        notes = set(frame.notes_)
        for w in caught:  # the frame model's, re-issued at the line that called fit / partial_fit
            if stream and str(w.message) in notes:
                logger.info("partial_fit: %s", w.message)
            else:
                warnings.warn(w.message, stacklevel=3)
        for note in chain_notes:
            if stream:
                logger.info("partial_fit: %s", note)
            else:
                warnings.warn(note, UserWarning, stacklevel=3)
        if self.verbose:
            logger.info(
                "sequence model: %d frames, %d consecutive pairs, persistence %.4f (tau %.4f)",
                int(stats.n_rows),
                int(cross.n_pairs),
                est.persistence,
                est.tau,
            )
        return {
            "frame_model_": frame,
            "stats_": stats,
            "cross_stats_": cross,
            "transition_estimate_": est,
            "_chain_notes": tuple(chain_notes),
            "n_lfs_": stats.n_lfs,
        }

    def _stream_prior(self) -> tuple[np.ndarray, str] | None:
        """The prior (and its source) that an earlier call of the stream gave, if any."""
        frame = self.__dict__.get("frame_model_")
        kept = None if frame is None else frame.__dict__.get("_stream")
        if kept is None or kept.prior is None:
            return None
        return np.asarray(kept.prior, dtype=np.float64), kept.prior_source

    def _end_sequence(self) -> None:
        """Forget the last frame seen: the next :meth:`partial_fit` batch starts a new sequence."""
        self._tail = None

    def partial_fit(
        self,
        L_batch: Any,
        sequence_ids: Any = None,
        Y_dev: Any = None,
        class_balance: Any = None,
    ) -> SequenceLabelModel:
        """Add a batch of frames to the running statistics and re-solve.

        A batch may continue the last sequence of the previous batch: it does when
        its first sequence id equals the previous batch's last id (``None`` ids:
        every batch continues one stream).  The link between the two frames is then
        counted, so a stream fed batch by batch ends with the same statistics and
        parameters as one :meth:`fit` on all its rows.  Only the previous batch's
        last id is kept: an id that comes back in a later batch after other
        sequences starts a new sequence (where :meth:`fit` on all the rows would
        refuse it), so feed each sequence's frames contiguously.

        Parameters
        ----------
        L_batch : label matrix, shape (n_batch, m)
        sequence_ids : array of shape (n_batch,), optional
        Y_dev, class_balance
            As in :meth:`fit`; a prior given (here or to :meth:`fit`) is kept for later batches
            until another one is given, and saved in the model file.

        Notes
        -----
        Raises none of :meth:`fit`'s warnings (LFs without a triplet, a persistence estimate outside
        its range: expected while a stream warms up): they are logged (logger ``tripletws``,
        level INFO) and kept in ``notes_``.

        Calls from several threads are serialised (each batch joins the statistics once).

        Returns
        -------
        self
        """
        k = self._check_settings()
        # (inline, not in a helper: the warnings of _solve name the line that called this method)
        with _lock(self):  # the statistics read, added to and kept by one call at a time
            if "frame_model_" in self.__dict__:
                fitted_k = self._fitted_cardinality()
                if fitted_k != k:
                    raise ValueError(
                        f"the stream was fitted with cardinality={fitted_k} and set_params has since set "
                        f"cardinality={k}: its statistics count the classes it was started with; fit again "
                        "(fit starts a new stream), or set the cardinality back"
                    )
                check_names(self.frame_model_.__dict__.get("lf_names_"), L_batch, name="L_batch")
            lm = check_label_matrix(L_batch, k, min_lfs=3, name="L_batch")
            tail = getattr(self, "_tail", None)
            if hasattr(self, "stats_") and lm.m != self.stats_.n_lfs:
                raise ValueError(f"L_batch has {lm.m} LFs but the model has seen {self.stats_.n_lfs}")
            ids = None if sequence_ids is None else np.asarray(sequence_ids)
            first_id = None if ids is None or ids.ndim != 1 or len(ids) == 0 else plain_id(ids[0])
            continues = tail is not None and first_id == tail["id"]
            offset = tail["position"] + 1 if continues else 0
            seg = self._segments(lm.n, ids, continues=continues, offset=offset)
            linked_to_tail = continues and (self.window is None or offset % self.window != 0)
            stats = compute_stats(lm, chunk_size=self.chunk_size)
            cross = cross_frame_stats(
                lm,
                seg.linked,
                previous_row=tail["row"] if linked_to_tail else None,
                chunk_size=self.chunk_size,
            )
            if hasattr(self, "stats_"):
                stats = self.stats_ + stats
                cross = self.cross_stats_ + cross
            # keep the dependencies of the previous solve (a fit argument may have overridden the
            # constructor's)
            deps = self.frame_model_.dependencies_ if hasattr(self, "frame_model_") else None
            known = self.frame_model_.__dict__.get("lf_names_") if hasattr(self, "frame_model_") else None
            # a stream keeps the first names it is given (an unnamed start takes a later batch's)
            first_names = known if known is not None else names_of(L_batch)
            state = self._solve(stats, cross, Y_dev, class_balance, deps, stream=True, names=first_names)
            state["frame_model_"].lf_names_ = first_names
            state["_tail"] = _tail_of(lm, seg)
            _publish(self, state)
        return self

    def _fitted_cardinality(self) -> int:
        """The classes the fit has (``set_params`` may have changed the setting since)."""
        if "frame_model_" in self.__dict__:
            return int(self.frame_model_.params_.cardinality)
        return super()._fitted_cardinality()

    # -- learned quantities ----------------------------------------------------

    @property
    def accuracies_(self) -> np.ndarray:
        self._check_fitted()
        return self.frame_model_.accuracies_

    @property
    def class_balance_(self) -> np.ndarray:
        self._check_fitted()
        return self.frame_model_.class_balance_

    @property
    def coverage_(self) -> np.ndarray:
        self._check_fitted()
        return self.frame_model_.coverage_

    def get_conditional_probs(self) -> np.ndarray:
        """Per-frame ``P(lambda_i = a - 1 | Y = y)`` with a = 0 abstain, shape (m, k + 1, k)."""
        self._check_fitted()
        return self.frame_model_.get_conditional_probs()

    @property
    def dependencies_(self) -> np.ndarray:
        self._check_fitted()
        return self.frame_model_.dependencies_

    @property
    def notes_(self) -> tuple[str, ...]:
        """What the last solve had to say: the frame model's notes, then the persistence's."""
        self._check_fitted()
        return (*self.frame_model_.notes_, *self.__dict__.get("_chain_notes", ()))

    @property
    def persistence_(self) -> float:
        self._check_fitted()
        return self.transition_estimate_.persistence

    @property
    def tau_(self) -> float:
        self._check_fitted()
        return self.transition_estimate_.tau

    @property
    def transition_(self) -> np.ndarray:
        self._check_fitted()
        return transition_matrix(self.persistence_, self.class_balance_)

    def get_weights(self) -> np.ndarray:
        """Per-LF accuracy ``P(LF right | LF votes)`` within a frame, shape (m,)."""
        return self.accuracies_.copy()

    # -- inference -------------------------------------------------------------

    def predict_proba(self, L: Any, sequence_ids: Any = None) -> np.ndarray:
        """Per-frame marginals ``P(Y_t | votes of t's sequence)``, shape (n, k).

        Parameters
        ----------
        L : label matrix, shape (n, m)
            Rows of a sequence contiguous and in frame order.
        sequence_ids : array of shape (n,), optional
            ``None``: all rows form one sequence (cut into windows in window mode).
            Each call treats its rows as complete sequences: no messages are carried
            between calls.

        Returns
        -------
        ndarray, shape (n, k), rows in the given order, summing to 1
        """
        # one fit read once (a copy of the attributes, taken at once): a fit in another thread since
        # makes this call predict with the previous fit, never with parts of both
        fitted = self.__dict__.copy()
        frame, est = fitted.get("frame_model_"), fitted.get("transition_estimate_")
        if frame is None or est is None:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit first")
        k = int(
            frame.params_.cardinality
        )  # the fit's classes (set_params may have changed the setting since)
        check_names(frame.__dict__.get("lf_names_"), L)
        lm = check_label_matrix(L, k, allow_empty=True)
        if lm.n == 0:
            return np.zeros((0, k))
        seg = self._segments(lm.n, sequence_ids)
        logE = log_scores(lm, frame.params_, self.chunk_size) - np.log(frame.class_balance_)
        return chain_posteriors(logE, seg.starts, est.persistence, frame.class_balance_)

    def predict(
        self,
        L: Any,
        sequence_ids: Any = None,
        return_probs: bool = False,
        tie_break_policy: str = "abstain",
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Most likely class per frame, shape (n,); -1 for ties under ``"abstain"``.

        Parameters
        ----------
        L : label matrix, shape (n, m)
        sequence_ids : array of shape (n,), optional
            As in :meth:`predict_proba` (the second positional argument, as in ``fit``).
        return_probs : bool
            Also return the marginals.
        tie_break_policy : {"abstain", "random", "true-random"}
        """
        _check_ids_argument(sequence_ids)
        return super().predict(
            L, return_probs=return_probs, tie_break_policy=tie_break_policy, sequence_ids=sequence_ids
        )

    _score_frames = 1  # this score calls BaseLabeler.score: its warnings name the caller of this one

    def score(
        self,
        L: Any,
        Y: Any,
        sequence_ids: Any = None,
        metrics: Any = ("accuracy",),
        tie_break_policy: str = "abstain",
        voted_only: bool = False,
    ) -> dict[str, float]:
        """:meth:`BaseLabeler.score <tripletws.base.BaseLabeler.score>` of the sequence model's
        predictions, ``sequence_ids`` the third positional argument (as in ``fit``)."""
        _check_ids_argument(sequence_ids)
        return super().score(
            L,
            Y,
            metrics=metrics,
            tie_break_policy=tie_break_policy,
            voted_only=voted_only,
            sequence_ids=sequence_ids,
        )

    # -- persistence -----------------------------------------------------------

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "frame_model_"):
            return None
        est = self.transition_estimate_
        tail = getattr(self, "_tail", None)
        return {
            "frame_model": self.frame_model_._get_state(),
            "cross_stats": self.cross_stats_.to_dict(),
            "persistence": est.persistence,
            "tau_raw": None if not np.isfinite(est.tau_raw) else est.tau_raw,
            "tau_se": None if not np.isfinite(est.tau_se) else est.tau_se,
            "notes": list(self.__dict__.get("_chain_notes", ())),
            "tail": None
            if tail is None
            else {"row": tail["row"].tolist(), "id": tail["id"], "position": int(tail["position"])},
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        state = check_mapping(
            state,
            "state",
            ("frame_model", "cross_stats", "persistence"),
            ("tau_raw", "tau_se", "notes", "tail"),
        )
        frame = self._frame_model()
        frame._set_state(state["frame_model"])
        cross = CrossFrameStats.from_dict(state["cross_stats"])
        m, k = frame.n_lfs_, frame.params_.cardinality
        if (cross.n_lfs, cross.cardinality) != (m, k):
            raise ValueError("cross-frame statistics and the frame model disagree in shape")
        p = frame.class_balance_
        lo, hi = persistence_bounds(p)
        rho = check_float(state["persistence"], "state.persistence", -1.0, 1.0)
        if not lowest_persistence(p) <= rho <= hi:
            raise ValueError(f"persistence {rho} outside its valid range [{lo:.6g}, {hi:.6g}]")
        rho = max(rho, lo)  # files saved before the bound kept every transition possible
        tau_raw = check_float(state.get("tau_raw"), "state.tau_raw", -1e300, 1e300, nullable=True)
        tau_se = check_float(state.get("tau_se"), "state.tau_se", 0.0, 1e300, nullable=True)
        notes = state.get("notes")
        notes = [] if notes is None else notes  # files from before the notes: none
        if not isinstance(notes, list) or not all(isinstance(x, str) for x in notes):
            raise ValueError(f"state.notes must be a list of strings, got {notes!r}"[:200])
        tail = None if state.get("tail") is None else _read_tail(state["tail"], m, k)
        self.frame_model_ = frame
        self.stats_ = frame.stats_
        self.cross_stats_ = cross
        self.transition_estimate_ = TransitionEstimate(
            rho,
            persistence_to_tau(rho, p),
            tau_raw,
            cross.n_pairs,
            tau_se,
            next((x for x in notes if "tau_raw" in x), ""),
        )
        self._chain_notes = tuple(notes)
        self.n_lfs_ = m
        self._tail = tail


def _tail_of(lm: LabelMatrix, seg: Segments) -> dict[str, Any]:
    """The last frame of a batch, kept so that the next ``partial_fit`` batch can continue its sequence:
    ``{"row": ndarray of int64, shape (m,), "id": its sequence id, "position": its frame position}``."""
    last = lm.data[lm.n - 1 : lm.n]
    last = np.asarray(last.toarray(), dtype=np.int64) - 1 if lm.is_sparse else np.asarray(last)
    return {"row": last.reshape(-1).astype(np.int64), "id": seg.last_id, "position": seg.last_position}


def _read_tail(tail: Any, m: int, k: int) -> dict[str, Any]:
    """The saved last frame of a stream (its votes, sequence id and position), every field checked.

    Parameters
    ----------
    tail : object
        The ``state.tail`` record of a model file.
    m, k : int
        LFs and classes of the model.

    Returns
    -------
    dict
        ``{"row": ndarray of int64, shape (m,), "id": int, str or None, "position": int}``.
    """
    tail = check_mapping(tail, "state.tail", ("row", "id", "position"))
    row = decode_array(tail["row"], "state.tail.row", kind="i", shape=(m,))
    if (row < -1).any() or (row >= k).any():
        raise ValueError(f"state.tail.row must hold m votes in -1..{k - 1}")
    tid = tail["id"]
    if tid is not None and (isinstance(tid, bool) or not isinstance(tid, (int, str))):
        raise ValueError(f"state.tail.id (a sequence id) must be an int, a string or null, got {tid!r}"[:200])
    position = check_int(tail["position"], "state.tail.position", 0, MAX_FRAMES)
    return {"row": row, "id": tid, "position": position}


#: Names a metric list holds (what a caller of the base class's order would pass third).
_METRIC_NAMES = frozenset((*METRICS, "no_vote"))


def _check_ids_argument(sequence_ids: Any) -> None:
    """Refuse a flag or a metric list where the sequence ids go (the base class's positional order)."""
    if isinstance(sequence_ids, (bool, np.bool_)):
        raise TypeError(
            "SequenceLabelModel.predict(L, sequence_ids, return_probs, ...): the second argument is the "
            "sequence ids; pass return_probs= by keyword"
        )
    names = isinstance(sequence_ids, (list, tuple)) and all(isinstance(v, str) for v in sequence_ids)
    if isinstance(sequence_ids, str) or (names and sequence_ids and set(sequence_ids) <= _METRIC_NAMES):
        raise TypeError(
            "SequenceLabelModel.score(L, Y, sequence_ids, metrics, ...): the third argument is the sequence "
            "ids; pass metrics= by keyword"
        )
