"""``LabelModel``: the public estimator (a drop-in for Snorkel's on the common calls)."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np

from .base import BaseLabeler
from .checks import MAX_CHECK_ROWS, majority_overrule_rate
from .dependencies import check_dependencies, dependency_mask, lfs_without_triplet, spanning_forest
from .distributed import is_dask_array, predict_proba_dask
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
from .estimators.class_conditional import (
    ClassConditionalEstimate,
    estimate_class_conditional,
    symmetric_fallback,
)
from .estimators.em import DEFAULT_MAX_UNIQUE_ROWS, UniqueRows, collect_unique_rows, em_refine
from .estimators.pair_tables import estimate_pair_tables
from .estimators.symmetric import DEFAULT_ACCURACY
from .inference import posterior
from .matrix import LabelMatrix, check_cardinality, check_label_matrix, check_labels
from .online import StreamState, check_stream_options
from .params import LabelModelParams
from .stats import LabelStats, compute_stats

logger = logging.getLogger("tripletws")

MODELS = ("class_conditional", "symmetric")

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


def _finite_or_none(x: float) -> float | None:
    """JSON-safe float: None for nan/inf."""
    return float(x) if np.isfinite(x) else None


def _float_or_nan(x: Any) -> float:
    return float("nan") if x is None else float(x)


def _lf_list(idx: np.ndarray, limit: int = 10) -> str:
    items = [str(int(i)) for i in idx[:limit]]
    return ", ".join(items) + (f", ... ({len(idx)} in all)" if len(idx) > limit else "")


class LabelModel(BaseLabeler):
    """Closed-form label model for weak supervision.

    Parameters
    ----------
    cardinality : int, default 2
        Number of classes k.
    model : {"class_conditional", "symmetric"}
        ``"class_conditional"`` (default): each LF has a full table
        ``P(lambda_i = a | Y = y)`` with abstain as an outcome (Dawid-Skene), so
        unipolar LFs and class-dependent abstention are modelled; fitted in
        closed form from second and third moments (see
        :mod:`tripletws.estimators.class_conditional`), optionally polished by EM
        over the distinct rows of L, and checked against the LFs' majority
        (``max_overrule``).  ``"symmetric"``: each LF votes independently of the
        class and, when it votes, is right with probability ``alpha_i`` (the
        triplet method of Fu et al., 2020).  The default was chosen on the
        shared benchmark data (docs/models.md).
    solver : {"triplet", "triplet_mean", "triplet_median", "rank_one"}
        Closed-form solver of the symmetric model.
    signs : {"all_positive", "eigen"}
        How LF signs are chosen: every LF better than chance (default, as
        FlyingSquid), or from the leading eigenvector of the pairwise moments.
    dependencies : list of pairs (i, j), optional
        Declared dependent LF pairs (see :meth:`fit`, whose argument overrides this).
    class_balance : {"auto", "estimate", "uniform"} or array of shape (k,)
        Prior P(Y) used when ``fit`` gets neither ``class_balance`` nor ``Y_dev``.
        ``"auto"`` (default) is ``"estimate"`` for the class-conditional model
        and ``"uniform"`` for the symmetric one.  Symmetric model:
        ``"estimate"`` solves for it from the LFs' vote rates (exact when the
        model's assumptions hold; misled by unipolar LFs).  Class-conditional
        model: the class balance is always estimated (third moments, then EM)
        because the vote tables are fitted jointly with it; ``"estimate"``
        predicts with that estimate, ``"uniform"`` with a uniform prior (balanced
        decisions).  A given prior (array, ``Y_dev`` or ``fit(class_balance=...)``)
        is used for fitting and predicting.
    em_steps : int
        Class-conditional model only: at most this many EM steps from the
        closed-form estimate, over the distinct rows of ``L_train`` (one extra
        pass over L in ``fit``; ``fit_stats`` has no rows and stays closed-form).
        0 (default) = closed form only: on the benchmark data EM moved the
        misspecified sets further from the truth (docs/models.md).
    em_max_rows : int
        Cap on the distinct rows kept for EM; beyond it EM runs on a uniform
        subsample of the rows (with a warning).
    max_overrule : float
        Class-conditional model only, checked in ``fit``: when the fitted model's
        most likely class contradicts a strict majority of the LFs on more than
        this share of the training rows that have one, the fit is taken to
        have latched onto something other than the class (strongly dependent
        LFs break its assumptions) and the symmetric model's solution is used
        instead, with a warning.  1.0 disables the check.
    eps : float
        Accuracies are clipped into ``(eps, 1 - eps)``; class-conditional
        closed-form table entries are kept at least ``eps``.
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
        Prior used for prediction and the conditional vote table.
    accuracies_ : ndarray, shape (m,)
        ``P(LF right | LF votes)`` under ``fit_class_balance_``.
    class_balance_ : ndarray, shape (k,)
        Prior used for prediction.
    fit_class_balance_ : ndarray, shape (k,)
        Class balance the tables were fitted with (the estimate, the given
        prior, or uniform after a fallback).
    class_balance_source_ : str
        ``"given"``, ``"Y_dev"``, ``"uniform"`` or ``"estimated"``.
    estimate_ : SymmetricEstimate or ClassConditionalEstimate
        The closed-form solve (per-LF diagnostics).
    fallback_ : str
        Class-conditional model: why the symmetric solution was used instead
        ("" when it was not).
    overrule_rate_ : float
        Class-conditional model: share of the training rows with a strict LF
        majority that the fitted model contradicts (nan when not checked).
    em_steps_run_ : int
        Class-conditional model: EM steps taken.
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

    _fitted_attr = "params_"

    def __init__(
        self,
        cardinality: int = 2,
        *,
        model: str = "class_conditional",
        solver: str = "triplet_mean",
        signs: str = "all_positive",
        dependencies: Any = None,
        class_balance: Any = "auto",
        em_steps: int = 0,
        em_max_rows: int = DEFAULT_MAX_UNIQUE_ROWS,
        max_overrule: float = 0.25,
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
        self.em_steps = em_steps
        self.em_max_rows = em_max_rows
        self.max_overrule = max_overrule
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
        for name in ("em_steps", "em_max_rows"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        if self.em_max_rows < 1:
            raise ValueError(f"em_max_rows must be at least 1, got {self.em_max_rows}")
        if isinstance(self.max_overrule, bool) or not (
            isinstance(self.max_overrule, (int, float, np.floating)) and 0.0 <= self.max_overrule <= 1.0
        ):
            raise ValueError(f"max_overrule must be a number in [0, 1], got {self.max_overrule!r}")
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
        if is_dask_array(L_train):
            return self._fit_dask(L_train, k, Y_dev, class_balance, dependencies)
        lm = check_label_matrix(L_train, k, min_lfs=3, name="L_train")
        stats = self._collect_stats(lm)
        rows = None
        if self.model == "class_conditional":
            unique = None
            if self.em_steps > 0:
                unique = collect_unique_rows(lm, self.chunk_size, int(self.em_max_rows), self.random_state)
            rows = (unique, lm)
        return self._fit_stats(stats, Y_dev, class_balance, dependencies, rows)

    def _fit_dask(self, L: Any, k: int, Y_dev: Any, class_balance: Any, dependencies: Any) -> LabelModel:
        """Statistics by a map over the dask blocks and a tree sum; the majority
        check reads the first ``MAX_CHECK_ROWS`` rows; EM (which needs every row) is skipped."""
        from .distributed import compute_stats_dask

        cc = self.model == "class_conditional"
        stats = compute_stats_dask(L, k, joint=cc, triple=cc)
        if stats.n_lfs < 3:
            raise ValueError(
                f"L_train has {stats.n_lfs} labeling function(s) (columns); at least 3 are needed"
            )
        rows = None
        if cc:
            if self.em_steps > 0:
                warnings.warn(
                    "em_steps is ignored for dask input (EM needs every row)", UserWarning, stacklevel=3
                )
            rows = (None, check_label_matrix(np.asarray(L[:MAX_CHECK_ROWS].compute()), k))
        return self._fit_stats(stats, Y_dev, class_balance, dependencies, rows)

    def _collect_stats(self, lm: LabelMatrix) -> LabelStats:
        """The statistics this model is solved from (shared by ``fit`` and ``partial_fit``)."""
        cc = self.model == "class_conditional"
        return compute_stats(lm, chunk_size=self.chunk_size, joint=cc, triple=cc)

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
        rows = (None, lm) if self.model == "class_conditional" else None
        self._solve(new_total, class_balance=stream.prior, dependencies=deps, online=True, rows=rows)
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
            if self.class_balance in ("uniform", "auto"):  # "auto" = uniform for the symmetric model
                return np.full(k, 1.0 / k), "uniform"
            return class_balance_from_symmetric(stats, b), "estimated"
        return check_class_balance(self.class_balance, k), "given"

    def _given_prior(self, class_balance: Any, Y_dev: Any, k: int) -> tuple[np.ndarray | None, str]:
        """Class-conditional model: a prior fixed by the caller, or ``(None, strategy)``."""
        if class_balance is not None:
            return check_class_balance(class_balance, k), "given"
        if Y_dev is not None:
            y = check_labels(Y_dev, None, k, name="Y_dev")
            return class_balance_from_labels(y, k), "Y_dev"
        if isinstance(self.class_balance, str):
            return None, "estimate" if self.class_balance == "auto" else self.class_balance
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
        The class-conditional model needs ``compute_stats(L, k, joint=True, triple=True)``
        (``triple`` may be left out for k = 2 with a given class balance); solving from
        statistics is closed-form only (EM and the majority check need the rows).
        """
        return self._fit_stats(stats, Y_dev, class_balance, dependencies, None)

    def _fit_stats(
        self,
        stats: LabelStats,
        Y_dev: Any,
        class_balance: Any,
        dependencies: Any,
        rows: tuple[UniqueRows | None, LabelMatrix] | None,
    ) -> LabelModel:
        self._solve(stats, Y_dev, class_balance, dependencies, rows=rows)
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
        rows: tuple[UniqueRows | None, LabelMatrix] | None = None,
    ) -> None:
        k = self._check_settings()
        if not isinstance(stats, LabelStats):
            raise TypeError(f"expected LabelStats, got {type(stats).__name__}")
        if stats.cardinality != k:
            raise ValueError(f"statistics have k={stats.cardinality} but cardinality is {k}")
        if stats.n_lfs < 3:
            raise ValueError(f"the label model needs at least 3 labeling functions, got {stats.n_lfs}")
        edges = self._check_dependencies(self.dependencies if dependencies is None else dependencies, stats)
        if self.model == "class_conditional":
            if not len(edges):
                given, strategy = self._given_prior(class_balance, Y_dev, k)
                prior, source = self._fit_class_conditional(stats, given, strategy, rows, online)
                self.dependencies_ = edges
                self.coupling_ = np.zeros(0)
                self._finish_solve(stats, prior, source)
                return
            self._reset_class_conditional(
                "declared dependencies are modelled by the symmetric model only; it was used instead"
            )
            if not online:
                warnings.warn(self.fallback_, UserWarning, stacklevel=4)
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
        self.estimate_ = est
        self.fit_class_balance_ = prior
        self._finish_solve(stats, prior, source)

    def _finish_solve(self, stats: LabelStats, prior: np.ndarray, source: str) -> None:
        self.stats_ = stats
        self.intervals_ = None  # intervals of an earlier solve no longer apply
        self.class_balance_source_ = source
        self.n_lfs_ = stats.n_lfs
        if self.verbose:
            est = self.estimate_
            logger.info(
                "fitted %s model (%s) on %d rows, %d LFs; class balance %s (%s)",
                self.model,
                est.method if isinstance(est, ClassConditionalEstimate) else self.solver,
                int(stats.n_rows),
                stats.n_lfs,
                np.round(prior, 4).tolist(),
                source,
            )

    def _reset_class_conditional(self, fallback: str) -> None:
        """Diagnostics of the class-conditional path when it does not run."""
        self.fallback_ = fallback
        self.overrule_rate_ = float("nan")
        self.em_steps_run_, self.em_log_likelihood_, self.em_sample_rate_ = 0, float("nan"), 1.0

    def _fit_class_conditional(
        self,
        stats: LabelStats,
        given: np.ndarray | None,
        strategy: str,
        rows: tuple[UniqueRows | None, LabelMatrix] | None,
        online: bool,
    ) -> tuple[np.ndarray, str]:
        """Closed form, optional EM, majority check; sets the fitted attributes."""
        if stats.joint is None:
            raise ValueError(
                "the class-conditional model needs the joint vote table: "
                "compute_stats(L, k, joint=True, triple=True)"
            )
        k = stats.cardinality
        unique, lm = rows if rows is not None else (None, None)
        if not online:
            self._warn_silent(stats)
            never = np.flatnonzero(stats.class_counts.sum(axis=0) == 0)
            if never.size:
                warnings.warn(
                    f"no LF ever votes for class(es) {never.tolist()}; "
                    "their vote tables rest on abstentions only",
                    UserWarning,
                    stacklevel=5,
                )
        with warnings.catch_warnings():
            if online:  # expected while a stream warms up; the reason is in fallback_
                warnings.simplefilter("ignore")
            est = estimate_class_conditional(stats, given, eps=self.eps, solver=self.solver)
        params = est.params
        self.estimate_ = est
        self._reset_class_conditional(est.note)
        if unique is not None and self.em_steps > 0:
            em = em_refine(unique, params, int(self.em_steps), fix_class_balance=given is not None)
            params = em.params
            self.em_steps_run_ = em.n_steps
            self.em_log_likelihood_ = em.log_likelihood
            self.em_sample_rate_ = unique.sample_rate
        fell_back = est.method == "symmetric fallback" and self.em_steps_run_ == 0

        def prediction_prior(fitted: LabelModelParams) -> tuple[np.ndarray, str]:
            if given is not None:
                return given, strategy
            if strategy == "uniform" or fell_back:
                return np.full(k, 1.0 / k), "uniform"
            return fitted.class_balance, "estimated"

        prior, source = prediction_prior(params)
        if lm is not None and not fell_back:
            rate, _ = majority_overrule_rate(lm, LabelModelParams(prior, params.cond_probs), self.chunk_size)
            self.overrule_rate_ = rate
            if rate > self.max_overrule:
                self.fallback_ = (
                    f"the class-conditional fit overrules a strict LF majority on {rate:.1%} of the "
                    f"training rows that have one (max_overrule={self.max_overrule})"
                )
                if not online:
                    warnings.warn(
                        f"{self.fallback_}; using the symmetric model's solution instead",
                        UserWarning,
                        stacklevel=5,
                    )
                params = symmetric_fallback(stats, given, self.eps, self.solver)
                fell_back = True
                prior, source = prediction_prior(params)
        self.fit_class_balance_ = params.class_balance
        self.params_ = LabelModelParams(prior, params.cond_probs)
        return prior, source

    @staticmethod
    def _warn_silent(stats: LabelStats) -> None:
        silent = np.flatnonzero(stats.vote_counts == 0)
        if silent.size:
            warnings.warn(
                f"LF(s) {_lf_list(silent)} never vote; they get a neutral weight",
                UserWarning,
                stacklevel=6,
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
            fill = (
                "the vote-weighted mean accuracy of the estimated LFs"
                if est.estimated.any()
                else f"the default accuracy {DEFAULT_ACCURACY} (no LF could be estimated)"
            )
            warnings.warn(
                f"LF(s) {_lf_list(lonely)} share no usable triplet with other LFs "
                f"(too few co-votes, or pair moments indistinguishable from 0); they get {fill}",
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
        """``P(LF right | LF votes)`` under the fitted class balance, shape (m,)."""
        self._check_fitted()
        if isinstance(self.estimate_, ClassConditionalEstimate):
            return LabelModelParams(self.fit_class_balance_, self.params_.cond_probs).accuracies
        return self.params_.accuracies

    @property
    def class_balance_(self) -> np.ndarray:
        """The prior P(Y) used for prediction, shape (k,) (see ``fit_class_balance_``)."""
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
        """Posterior ``P(Y | votes)``, shape (n, k), rows summing to 1.

        A ``dask.array`` input gives a lazy dask array, computed block by block.
        """
        self._check_fitted()
        if is_dask_array(L):
            return predict_proba_dask(self, L)
        lm = check_label_matrix(L, check_cardinality(self.cardinality), allow_empty=True)
        return posterior(lm, self.params_, self.chunk_size)

    def confidence_intervals(
        self,
        L: Any,
        level: float = 0.95,
        n_boot: int = 200,
        n_chunks: int = 100,
        random_state: Any = None,
    ):
        """Bootstrap intervals of the learned accuracies and class balance (see :mod:`tripletws.intervals`).

        ``L`` is the training matrix; it is read once, in ``n_chunks`` row chunks.
        The result is also kept as ``intervals_`` (and saved with the model).

        Returns
        -------
        ConfidenceIntervals
        """
        from .intervals import bootstrap_intervals

        self.intervals_ = bootstrap_intervals(
            self, L, level=level, n_boot=n_boot, n_chunks=n_chunks, random_state=random_state
        )
        return self.intervals_

    def report(self, L: Any, Y: Any = None, path: Any = None, **kwargs: Any) -> str:
        """Self-contained HTML report (see :mod:`tripletws.report`); written to ``path`` when given.

        Returns
        -------
        str
            The HTML.
        """
        from .report import build_report, write_report

        if path is None:
            return build_report(self, L, Y, **kwargs)
        return write_report(self, L, path, Y, **kwargs).read_text(encoding="utf-8")

    # -- persistence -----------------------------------------------------------

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "params_"):
            return None
        state: dict[str, Any] = {
            "params": self.params_.to_dict(),
            "stats": self.stats_.to_dict(),
            "class_balance_source": self.class_balance_source_,
            "dependencies": self.dependencies_.tolist(),
            "coupling": self.coupling_.tolist(),
            "stream": self._stream.to_dict(),
        }
        if getattr(self, "intervals_", None) is not None:
            state["intervals"] = self.intervals_.to_dict()
        if self.model == "class_conditional":
            state.update(
                {
                    "fit_class_balance": self.fit_class_balance_.tolist(),
                    "fallback": self.fallback_,
                    "overrule_rate": _finite_or_none(self.overrule_rate_),
                    "em_steps_run": self.em_steps_run_,
                    "em_log_likelihood": _finite_or_none(self.em_log_likelihood_),
                    "em_sample_rate": self.em_sample_rate_,
                }
            )
        est = self.estimate_
        if isinstance(est, ClassConditionalEstimate):
            state["closed_form"] = {
                "params": est.params.to_dict(),
                "method": est.method,
                "view_condition": _finite_or_none(est.view_condition),
                "eigen_gap": _finite_or_none(est.eigen_gap),
                "n_iter": est.n_iter,
                "signal_to_noise": _finite_or_none(est.signal_to_noise),
                "misoriented": _finite_or_none(est.misoriented),
                "note": est.note,
            }
            return state
        state.update(
            {
                "b": est.b.tolist(),
                "estimated": est.estimated.tolist(),
                "n_candidates": est.n_candidates.tolist(),
                "below_chance": est.below_chance.tolist(),
            }
        )
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        params = LabelModelParams.from_dict(state["params"])
        stats = LabelStats.from_dict(state["stats"])
        m, k = params.n_lfs, params.cardinality
        if (stats.n_lfs, stats.cardinality) != (m, k) or k != self.cardinality:
            raise ValueError("statistics, parameters and cardinality disagree in shape")
        if "closed_form" in state:
            self.estimate_ = self._closed_form_from_state(state["closed_form"], params)
        else:
            b = np.asarray(state["b"], dtype=np.float64)
            estimated = np.asarray(state["estimated"], dtype=bool)
            n_cand = np.asarray(state["n_candidates"], dtype=np.int64)
            if b.shape != (m,) or estimated.shape != (m,) or n_cand.shape != (m,):
                raise ValueError("per-LF estimate arrays must have one entry per LF")
            below = np.asarray(state.get("below_chance", np.zeros(m, bool)), dtype=bool)
            if below.shape != (m,):
                raise ValueError("below_chance must have one entry per LF")
            self.estimate_ = SymmetricEstimate(b, params.accuracies, estimated, n_cand, below)
        if self.model == "class_conditional":
            self.fit_class_balance_ = check_class_balance(state["fit_class_balance"], k)
            self.fallback_ = str(state.get("fallback", ""))
            self.overrule_rate_ = _float_or_nan(state.get("overrule_rate"))
            self.em_steps_run_ = int(state.get("em_steps_run", 0))
            self.em_log_likelihood_ = _float_or_nan(state.get("em_log_likelihood"))
            self.em_sample_rate_ = _float_or_nan(state.get("em_sample_rate", 1.0))
        else:
            self.fit_class_balance_ = params.class_balance
        self.params_ = params
        self.stats_ = stats
        self.class_balance_source_ = str(state["class_balance_source"])
        self.n_lfs_ = m
        self.dependencies_ = check_dependencies(state.get("dependencies", []), m)
        self.coupling_ = np.asarray(state.get("coupling", []), dtype=np.float64).reshape(-1)
        if self.coupling_.shape != (len(self.dependencies_),):
            raise ValueError("coupling must have one entry per declared dependency")
        # files written before online learning existed have no stream: start one
        stream = state.get("stream")
        self._stream = StreamState(n_batches=1) if stream is None else StreamState.from_dict(stream, m, k)
        if state.get("intervals") is not None:
            from .intervals import ConfidenceIntervals

            self.intervals_ = ConfidenceIntervals.from_dict(state["intervals"], m, k)

    @staticmethod
    def _closed_form_from_state(d: dict[str, Any], params: LabelModelParams) -> ClassConditionalEstimate:
        closed = LabelModelParams.from_dict(d["params"])
        if closed.cond_probs.shape != params.cond_probs.shape:
            raise ValueError("closed-form and fitted tables disagree in shape")
        return ClassConditionalEstimate(
            closed,
            str(d["method"]),
            view_condition=_float_or_nan(d.get("view_condition")),
            eigen_gap=_float_or_nan(d.get("eigen_gap")),
            n_iter=int(d.get("n_iter", 0)),
            signal_to_noise=_float_or_nan(d.get("signal_to_noise")),
            note=str(d.get("note", "")),
            misoriented=_float_or_nan(d.get("misoriented")),
        )
