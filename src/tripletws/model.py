"""``LabelModel``: the public estimator (a drop-in for Snorkel's on the common calls)."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .base import BaseLabeler
from .dependencies import check_dependencies, dependency_mask, lfs_without_triplet, spanning_forest
from .estimators import (
    SIGNS,
    SOLVERS,
    SymmetricEstimate,
    check_class_balance,
    class_balance_from_labels,
    class_balance_from_symmetric,
    estimate_symmetric,
)
from .estimators.class_balance import STRATEGIES
from .estimators.pair_tables import estimate_pair_tables
from .inference import posterior
from .matrix import LabelMatrix, check_cardinality, check_label_matrix, check_labels
from .online import StreamState, check_stream_options
from .params import LabelModelParams
from .stats import LabelStats, compute_stats

logger = logging.getLogger("tripletws")

MODELS = ("symmetric",)

#: Snorkel's SGD-only training options: accepted by ``fit`` and ignored with a warning.
SGD_OPTIONS = frozenset(
    {
        "n_epochs",
        "lr",
        "l2",
        "optimizer",
        "optimizer_config",
        "lr_scheduler",
        "lr_scheduler_config",
        "prec_init",
        "seed",
        "log_freq",
        "mu_eps",
    }
)


def _lf_list(idx: np.ndarray, limit: int = 10) -> str:
    items = [str(int(i)) for i in idx[:limit]]
    return ", ".join(items) + (f", ... ({len(idx)} in all)" if len(idx) > limit else "")


class LabelModel(BaseLabeler):
    """Closed-form label model for weak supervision.

    Parameters
    ----------
    cardinality : int, default 2
        Number of classes k.
    model : {"symmetric"}
        ``"symmetric"``: each LF votes independently of the class and, when it
        votes, is right with probability ``alpha_i`` (the triplet method of
        Fu et al., 2020).
    solver : {"triplet", "triplet_mean", "triplet_median", "rank_one"}
        Closed-form solver of the symmetric model.
    signs : {"all_positive", "eigen"}
        How LF signs are chosen: every LF better than chance (default, as
        FlyingSquid), or from the leading eigenvector of the pairwise moments.
    dependencies : list of pairs (i, j), optional
        Declared dependent LF pairs (see :meth:`fit`, whose argument overrides this).
    class_balance : {"uniform", "estimate"} or array of shape (k,)
        Prior P(Y) used when ``fit`` gets neither ``class_balance`` nor ``Y_dev``.
        ``"estimate"`` solves for it from the LFs' vote rates (exact when the
        model's assumptions hold; misled by unipolar LFs, hence not the default).
    eps : float
        Accuracies are clipped into ``(eps, 1 - eps)``.
    chunk_size : int, optional
        Rows per chunk when reading L (memory is O(chunk_size * m)).
    random_state : int or numpy Generator, optional
        Used by the ``"true-random"`` tie-break policy; the global RNG is never touched.
    verbose : bool
        Log at INFO level on the ``"tripletws"`` logger (no handler is configured).
    device : str
        Accepted for Snorkel compatibility; computation runs on the CPU with numpy.
    forget : float in (0, 1], optional
        Online learning (:meth:`partial_fit`): factor applied to the running
        statistics before each batch is added (exponential forgetting).
    window : int, optional
        Online learning: keep only the statistics of the last ``window`` batches.
        Cannot be combined with ``forget``.

    Attributes
    ----------
    params_ : LabelModelParams
        Fitted class balance and conditional vote table.
    accuracies_ : ndarray, shape (m,)
        ``P(LF right | LF votes)``.
    class_balance_ : ndarray, shape (k,)
    coverage_ : ndarray, shape (m,)
        Fraction of training rows on which each LF votes.
    stats_ : LabelStats
        The sufficient statistics the model was solved from (the running
        statistics of the stream after :meth:`partial_fit`).
    n_batches_ : int
        Batches in the current stream (a ``fit`` counts as one).
    dependencies_ : ndarray of int, shape (E, 2)
        The declared dependency edges used by the last fit (``i < j``).
    coupling_ : ndarray, shape (E,)
        Estimated coupling of each declared pair: 0 = conditionally independent
        given Y, 1 = maximally coupled (a copy); see :mod:`tripletws.estimators.pair_tables`.
    """

    def __init__(
        self,
        cardinality: int = 2,
        *,
        model: str = "symmetric",
        solver: str = "triplet_mean",
        signs: str = "all_positive",
        dependencies: Any = None,
        class_balance: Any = "uniform",
        eps: float = 1e-4,
        chunk_size: int | None = None,
        random_state: Any = None,
        verbose: bool = False,
        device: str = "cpu",
        forget: float | None = None,
        window: int | None = None,
    ) -> None:
        self.cardinality = cardinality
        self.model = model
        self.solver = solver
        self.signs = signs
        self.dependencies = dependencies
        self.class_balance = class_balance
        self.eps = eps
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.verbose = verbose
        self.device = device
        self.forget = forget
        self.window = window

    # -- validation ----------------------------------------------------------

    def _check_settings(self) -> int:
        k = check_cardinality(self.cardinality)
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; choose one of {', '.join(MODELS)}")
        if self.solver not in SOLVERS:
            raise ValueError(f"unknown solver {self.solver!r}; choose one of {', '.join(SOLVERS)}")
        if self.signs not in SIGNS:
            raise ValueError(f"unknown signs {self.signs!r}; choose one of {', '.join(SIGNS)}")
        if not (0 < self.eps < 0.5):
            raise ValueError(f"eps must lie in (0, 0.5), got {self.eps}")
        if isinstance(self.class_balance, str) and self.class_balance not in STRATEGIES:
            raise ValueError(
                f"unknown class_balance {self.class_balance!r}; give "
                f"{' or '.join(repr(s) for s in STRATEGIES)} or an array of {k} probabilities"
            )
        check_stream_options(self.forget, self.window)
        if self.device != "cpu":
            warnings.warn(
                f"device={self.device!r} ignored: tripletws computes on the CPU",
                UserWarning,
                stacklevel=3,
            )
        return k

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise RuntimeError(f"this {type(self).__name__} is not fitted yet; call fit first")

    # -- fitting -------------------------------------------------------------

    def fit(
        self,
        L_train: Any,
        Y_dev: Any = None,
        class_balance: Any = None,
        progress_bar: bool = True,
        dependencies: Any = None,
        **kwargs: Any,
    ) -> LabelModel:
        """Estimate LF accuracies (and the class balance) from ``L_train``.

        Parameters
        ----------
        L_train : label matrix, shape (n, m), m >= 3
            -1 = abstain, classes 0..k-1; dense, sparse (class c stored as c + 1),
            DataFrame or memmap.
        Y_dev : array of shape (n_dev,), optional
            Gold labels of a dev set; only their class frequencies are used.
        class_balance : array of shape (k,), optional
            Prior P(Y); overrides ``Y_dev`` and the constructor's ``class_balance``.
        progress_bar : bool
            Accepted for Snorkel compatibility (the fit is one pass; no bar is shown).
        dependencies : list of pairs (i, j), optional
            Dependent LF pairs (overrides the constructor's ``dependencies``; ``[]``
            declares none).  Their agreement is left out of the triplets, and each
            connected group of dependent LFs is modelled jointly at inference.
            Raises ValueError for an index out of range, a self-loop, an edge given
            twice, or a graph that leaves an LF without a triplet of mutually
            independent LFs.
        **kwargs
            Snorkel's SGD options (``n_epochs``, ``lr``, ...) are ignored with a warning.

        Returns
        -------
        self
        """
        self._take_kwargs(kwargs)
        k = self._check_settings()
        lm = check_label_matrix(L_train, k, min_lfs=3, name="L_train")
        stats = self._collect_stats(lm)
        return self.fit_stats(stats, Y_dev=Y_dev, class_balance=class_balance, dependencies=dependencies)

    def _collect_stats(self, lm: LabelMatrix) -> LabelStats:
        """The statistics this model is solved from (shared by ``fit`` and ``partial_fit``)."""
        return compute_stats(lm, chunk_size=self.chunk_size)

    def partial_fit(self, L_batch: Any, Y_dev: Any = None, class_balance: Any = None) -> LabelModel:
        """Online learning: add a batch to the running statistics and re-solve in closed form.

        Without ``forget`` or ``window``, a stream of batches ends with exactly the
        statistics (and so the parameters) of one ``fit`` on all its rows.  ``fit``
        starts a new stream (its rows count as the first batch).

        While too few rows have arrived for any LF to have a usable triplet, the
        voting LFs get a default accuracy (0.7), so ``predict_proba`` is a
        majority vote softened by the prior; the per-LF warnings of ``fit`` about
        LFs without triplets are not raised here (``estimate_.estimated`` tells
        which LFs are estimated yet).

        Parameters
        ----------
        L_batch : label matrix, shape (n_batch, m), m >= 3
            The new rows; m must match earlier batches.
        Y_dev : array of shape (n_dev,), optional
            Gold labels whose class frequencies set the prior.
        class_balance : array of shape (k,), optional
            Prior P(Y); overrides ``Y_dev``.  A prior given here or through
            ``Y_dev`` (here or to ``fit``) is kept for later batches that give none.

        Returns
        -------
        self
        """
        k = self._check_settings()
        lm = check_label_matrix(L_batch, k, min_lfs=3, name="L_batch")
        total = getattr(self, "stats_", None)
        if total is not None and lm.m != total.n_lfs:
            raise ValueError(f"L_batch has {lm.m} LFs (columns) but the stream has {total.n_lfs}")
        stream = getattr(self, "_stream", None) or StreamState()
        new_total, stream = stream.push(total, self._collect_stats(lm), self.forget, self.window)
        if class_balance is not None or Y_dev is not None:
            stream = stream.with_prior(*self._resolve_prior(class_balance, Y_dev, None, new_total))
        # keep the dependencies of the previous solve (a fit argument may have overridden the constructor's)
        deps = getattr(self, "dependencies_", None)
        self._solve(new_total, class_balance=stream.prior, dependencies=deps, online=True)
        if stream.prior is not None:
            self.class_balance_source_ = stream.prior_source
        self._stream = stream
        return self

    def _take_kwargs(self, kwargs: dict[str, Any]) -> None:
        unknown = set(kwargs) - SGD_OPTIONS
        if unknown:
            raise TypeError(f"fit() got unexpected keyword argument(s): {sorted(unknown)}")
        if kwargs:
            warnings.warn(
                f"ignored SGD option(s) {sorted(kwargs)}: tripletws fits in closed form",
                UserWarning,
                stacklevel=3,
            )

    def _resolve_prior(self, class_balance: Any, Y_dev: Any, b: np.ndarray, stats: LabelStats):
        k = stats.cardinality
        if class_balance is not None:
            return check_class_balance(class_balance, k), "given"
        if Y_dev is not None:
            y = check_labels(Y_dev, None, k, name="Y_dev")
            return class_balance_from_labels(y, k), "Y_dev"
        if isinstance(self.class_balance, str):
            if self.class_balance == "uniform":
                return np.full(k, 1.0 / k), "uniform"
            return class_balance_from_symmetric(stats, b), "estimated"
        return check_class_balance(self.class_balance, k), "given"

    def fit_stats(
        self,
        stats: LabelStats,
        Y_dev: Any = None,
        class_balance: Any = None,
        dependencies: Any = None,
    ) -> LabelModel:
        """Solve from precomputed (e.g. merged) statistics; see :func:`compute_stats`.

        Starts a new stream for :meth:`partial_fit` with ``stats`` as its first batch.
        """
        self._solve(stats, Y_dev, class_balance, dependencies)
        stream = StreamState(n_batches=1)
        if class_balance is not None or Y_dev is not None:
            stream = stream.with_prior(self.params_.class_balance, self.class_balance_source_)
        self._stream = stream
        return self

    def _solve(
        self,
        stats: LabelStats,
        Y_dev: Any = None,
        class_balance: Any = None,
        dependencies: Any = None,
        online: bool = False,
    ) -> None:
        k = self._check_settings()
        if stats.cardinality != k:
            raise ValueError(f"statistics have k={stats.cardinality} but cardinality is {k}")
        if stats.n_lfs < 3:
            raise ValueError(f"the triplet method needs at least 3 labeling functions, got {stats.n_lfs}")
        edges = self._check_dependencies(self.dependencies if dependencies is None else dependencies, stats)
        exclude = dependency_mask(edges, stats.n_lfs) if len(edges) else None
        est = estimate_symmetric(stats, self.solver, exclude=exclude, eps=self.eps, signs=self.signs)
        self._warn_about_lfs(stats, est, online)
        prior, source = self._resolve_prior(class_balance, Y_dev, est.b, stats)
        params = LabelModelParams.symmetric(est.accuracies, stats.coverage, prior)
        coupling = np.zeros(0)
        if len(edges):
            params, coupling = self._with_pair_tables(params, stats, est.accuracies, edges)
        self.params_ = params
        self.dependencies_ = edges
        self.coupling_ = coupling
        self.stats_ = stats
        self.estimate_ = est
        self.class_balance_source_ = source
        self.n_lfs_ = stats.n_lfs
        if self.verbose:
            logger.info(
                "fitted %s model (%s) on %d rows, %d LFs; class balance %s (%s)",
                self.model,
                self.solver,
                int(stats.n_rows),
                stats.n_lfs,
                np.round(prior, 4).tolist(),
                source,
            )

    @staticmethod
    def _check_dependencies(dependencies: Any, stats: LabelStats) -> np.ndarray:
        m = stats.n_lfs
        edges = check_dependencies(dependencies, m)
        if len(edges):
            stranded = lfs_without_triplet(edges, m)
            if stranded.size:
                raise ValueError(
                    f"the declared dependencies leave LF(s) {_lf_list(stranded)} without a triplet "
                    "of mutually independent LFs, so their accuracy cannot be estimated; "
                    "declare fewer dependencies or add LFs"
                )
        return edges

    @staticmethod
    def _with_pair_tables(
        params: LabelModelParams, stats: LabelStats, accuracies: np.ndarray, edges: np.ndarray
    ) -> tuple[LabelModelParams, np.ndarray]:
        """Attach the dependency tables (a spanning forest of the declared graph)."""
        pt = estimate_pair_tables(stats, accuracies, edges)
        keep = spanning_forest(edges, stats.n_lfs, np.abs(pt.coupling))
        if not keep.all():
            dropped = ", ".join(f"({i}, {j})" for i, j in edges[~keep].tolist())
            warnings.warn(
                f"dependencies {dropped} close cycles in the dependency graph; inference models each "
                "group of dependent LFs by a spanning tree of its strongest couplings and leaves "
                "these edges out (they are still excluded from the triplets)",
                UserWarning,
                stacklevel=4,
            )
        joint = LabelModelParams(params.class_balance, params.cond_probs, edges[keep], pt.tables[keep])
        return joint, pt.coupling

    @staticmethod
    def _warn_about_lfs(stats: LabelStats, est, online: bool = False) -> None:
        silent = np.flatnonzero(stats.vote_counts == 0)
        if online:
            # expected while a stream warms up; the LFs show in estimate_.estimated
            logger.debug("online: %d of %d LFs estimated so far", int(est.estimated.sum()), stats.n_lfs)
        elif silent.size:
            warnings.warn(
                f"LF(s) {_lf_list(silent)} never vote; they get a neutral weight",
                UserWarning,
                stacklevel=5,
            )
        lonely = np.flatnonzero((stats.vote_counts > 0) & ~est.estimated)
        if lonely.size and not online:
            warnings.warn(
                f"LF(s) {_lf_list(lonely)} share no usable triplet with other LFs "
                "(too few co-votes); they get the mean accuracy of the others",
                UserWarning,
                stacklevel=5,
            )
        weak = np.flatnonzero(est.below_chance)
        if weak.size:
            warnings.warn(
                f"LF(s) {_lf_list(weak)} are estimated at or below chance accuracy",
                UserWarning,
                stacklevel=5,
            )

    # -- learned quantities ----------------------------------------------------

    @property
    def accuracies_(self) -> np.ndarray:
        self._check_fitted()
        return self.params_.accuracies

    @property
    def class_balance_(self) -> np.ndarray:
        self._check_fitted()
        return self.params_.class_balance

    @property
    def coverage_(self) -> np.ndarray:
        self._check_fitted()
        return self.stats_.coverage if hasattr(self, "stats_") else self.params_.coverage

    @property
    def n_batches_(self) -> int:
        self._check_fitted()
        return self._stream.n_batches

    def get_weights(self) -> np.ndarray:
        """Per-LF accuracy ``P(LF right | LF votes)``, shape (m,) (as Snorkel)."""
        return self.accuracies_.copy()

    def get_conditional_probs(self) -> np.ndarray:
        """``P(lambda_i = a - 1 | Y = y)`` with a = 0 abstain, shape (m, k + 1, k)."""
        self._check_fitted()
        return self.params_.cond_probs.copy()

    # -- inference -------------------------------------------------------------

    def predict_proba(self, L: Any) -> np.ndarray:
        """Posterior ``P(Y | votes)``, shape (n, k), rows summing to 1."""
        self._check_fitted()
        lm = check_label_matrix(L, check_cardinality(self.cardinality))
        return posterior(lm, self.params_, self.chunk_size)

    # -- persistence -----------------------------------------------------------

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "params_"):
            return None
        return {
            "params": self.params_.to_dict(),
            "stats": self.stats_.to_dict(),
            "class_balance_source": self.class_balance_source_,
            "b": self.estimate_.b.tolist(),
            "estimated": self.estimate_.estimated.tolist(),
            "n_candidates": self.estimate_.n_candidates.tolist(),
            "below_chance": self.estimate_.below_chance.tolist(),
            "dependencies": self.dependencies_.tolist(),
            "coupling": self.coupling_.tolist(),
            "stream": self._stream.to_dict(),
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        params = LabelModelParams.from_dict(state["params"])
        stats = LabelStats.from_dict(state["stats"])
        m, k = params.n_lfs, params.cardinality
        if (stats.n_lfs, stats.cardinality) != (m, k) or k != self.cardinality:
            raise ValueError("statistics, parameters and cardinality disagree in shape")
        b = np.asarray(state["b"], dtype=np.float64)
        estimated = np.asarray(state["estimated"], dtype=bool)
        n_cand = np.asarray(state["n_candidates"], dtype=np.int64)
        if b.shape != (m,) or estimated.shape != (m,) or n_cand.shape != (m,):
            raise ValueError("per-LF estimate arrays must have one entry per LF")
        self.params_ = params
        self.stats_ = stats
        self.class_balance_source_ = str(state["class_balance_source"])
        below = np.asarray(state.get("below_chance", np.zeros(m, bool)), dtype=bool)
        if below.shape != (m,):
            raise ValueError("below_chance must have one entry per LF")
        self.estimate_ = SymmetricEstimate(b, params.accuracies, estimated, n_cand, below)
        self.n_lfs_ = m
        self.dependencies_ = check_dependencies(state.get("dependencies", []), m)
        self.coupling_ = np.asarray(state.get("coupling", []), dtype=np.float64).reshape(-1)
        if self.coupling_.shape != (len(self.dependencies_),):
            raise ValueError("coupling must have one entry per declared dependency")
        # files written before online learning existed have no stream: start one
        stream = state.get("stream")
        self._stream = StreamState(n_batches=1) if stream is None else StreamState.from_dict(stream, m, k)

    def save(self, path: str | Path) -> None:
        """Write a versioned JSON model file (no pickle)."""
        from .io import save_model

        save_model(self, path)

    @classmethod
    def load(cls, path: str | Path) -> LabelModel:
        """Read a model written by :meth:`save`; the file is validated, never executed."""
        from .io import load_model

        model = load_model(path)
        if not isinstance(model, cls):
            raise ValueError(f"{path} holds a {type(model).__name__}, not a {cls.__name__}")
        return model
