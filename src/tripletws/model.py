"""``LabelModel``: the public estimator (a drop-in for Snorkel's on the common calls).

A thin front: it checks its settings and resolves the prior once per call, summarises
the data (:func:`tripletws.summary.summarize`), hands statistics and rows to the label
model registered under ``model`` (:mod:`tripletws.models`) and keeps the result.
``fit``, ``fit_stats``, dask input and ``partial_fit`` are one path: a fit is the
first batch of a new stream.
"""

from __future__ import annotations

import logging
import numbers
import threading
import warnings
import weakref
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np

from .analysis_mixin import AnalysisMixin, read_intervals, split_intervals, with_intervals
from .base import BaseLabeler, NotFittedError
from .caller import outside_stacklevel
from .dependencies import check_dependencies
from .dev_choice import check_dev_set, check_dev_width
from .distributed import is_dask_input, predict_proba_dask
from .explain import Explanation
from .hints import (
    flyingsquid_argument_error,
    flyingsquid_attribute_message,
    warn_boolean_votes,
    warn_unlikely_input,
)
from .inference import mixture_posterior, posterior
from .lf_names import (
    check_names,
    classes_of,
    columns_named,
    name_lfs,
    names_of,
    read_class_names,
    read_names,
)
from .matrix import check_label_matrix
from .memory import check_tables_fit
from .models import Fit, Prior, get_solver, registered
from .models.record import state_from_dict, state_to_dict
from .online import StreamState
from .parallel import single_threaded_blas, solve_threads
from .priors import explicit_prior, setting_prior
from .rows import for_solve
from .settings import check_dependency_graph, check_settings
from .stats import LabelStats
from .summary import DataSummary, summarize
from .ties import break_ties
from .voted_guard import guard_votes

logger = logging.getLogger("tripletws")

#: Snorkel's SGD-only training options: accepted by ``fit`` and ignored with a warning.
SGD_OPTIONS = frozenset(
    {"n_epochs", "lr", "l2", "optimizer", "optimizer_config", "lr_scheduler", "lr_scheduler_config"}
    | {"prec_init", "seed", "log_freq", "mu_eps"}
)
_LOCKS: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def _lock(model: Any) -> threading.Lock:
    """One lock per model object (kept outside it, so models still pickle and clone)."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(model, threading.Lock())


def _take_sgd_options(kwargs: dict[str, Any]) -> None:
    error = flyingsquid_argument_error("fit()", list(kwargs), skip=SGD_OPTIONS)
    if error is not None:  # solve_method=, sign_recovery=, ...: named with what to use instead
        raise error
    unknown = set(kwargs) - SGD_OPTIONS
    if unknown:
        raise TypeError(f"fit() got unexpected keyword argument(s): {sorted(unknown)}")
    if kwargs:
        warnings.warn(
            f"ignored SGD option(s) {sorted(kwargs)}: tripletws fits in closed form",
            UserWarning,
            stacklevel=3,
        )


def _stream_prior(
    class_balance: Any, Y_dev: Any, setting: Any, k: int, stream: StreamState
) -> tuple[Prior, StreamState]:
    """The prior of a call: its own arguments (kept by the stream), the stream's, or the setting's."""
    prior = explicit_prior(class_balance, Y_dev, k)
    if prior is not None:
        return prior, stream.with_prior(prior.value, prior.source)
    if stream.prior is not None:
        return Prior(stream.prior, stream.prior_source), stream
    return setting_prior(setting, k), stream


def _tell(
    solution: Fit, warn: bool, verbose: bool, n_rows: int, names: tuple[str, ...] | None = None
) -> None:
    """Notes become warnings after a fit and log lines during a stream (they are expected while it
    warms up, and kept in ``notes_``); their lists of LFs give the LFs' ``names`` too, when known."""
    for note in solution.notes:
        note = name_lfs(note, names)
        if warn:
            warnings.warn(note, UserWarning, stacklevel=outside_stacklevel())
        else:
            logger.info("partial_fit: %s", note)
    if verbose:
        balance = np.round(solution.params.class_balance, 4).tolist()
        m, source = solution.params.n_lfs, solution.class_balance_source
        logger.info(
            "fitted %s model on %d rows, %d LFs; prior %s (%s)", solution.model, n_rows, m, balance, source
        )


def _fit_with_dev(model: Any, L_train: Any, L_dev: Any, Y_dev: Any, class_balance: Any, dependencies: Any):
    """``fit(L_train, L_dev=, Y_dev=)``: a gold-free fit, then the solver's dev-set choice."""
    solver = get_solver(model.model)
    if not solver.accepts_dev_set:
        able = [name for name in registered() if get_solver(name).accepts_dev_set]
        raise ValueError(f"L_dev: model={model.model!r} has no candidate fits to choose from ({able})")
    check_names(names_of(L_train), L_dev, name="L_dev")
    dev, y_dev = check_dev_set(model.cardinality, L_dev, Y_dev)
    shape = getattr(L_train, "shape", None)  # known without reading L_train (an array, frame, file map)
    if shape is not None and len(shape) == 2 and isinstance(shape[1], numbers.Integral):
        # before the gold-free fit (dev_choice.with_dev_choice checks it after, for an L_train without shape)
        check_dev_width(dev, int(shape[1]))
    model._absorb(L_train, None, class_balance, dependencies, restart=True, name="L_train", dev=(dev, y_dev))
    return model


def _check_solution(solver: Any, solution: Any) -> None:
    """A model's solve must return a :class:`Fit` of its own name (a plugin's mistake, named here
    rather than as an AttributeError later or a model file that cannot be written)."""
    if not isinstance(solution, Fit):
        raise TypeError(f"model {solver.name!r}: solve returned a {type(solution).__name__}, not a Fit")
    if solution.model != solver.name:  # its record is read back by this model's estimate_from_dict
        raise ValueError(
            f"model {solver.name!r}: solve returned a Fit of model {solution.model!r} (set Fit.model to "
            f"{solver.name!r}, as a fallback to another model's solution does)"
        )


def _choose_with_dev(
    solver: Any, solution: Fit, rows: Any, dev_set: tuple[Any, np.ndarray], chunk_size: Any, options: Any
) -> Fit:
    """Let the dev rows choose among the solver's candidate fits (the caller keeps the dev rows, in
    memory, not in the model file, so that ``partial_fit`` repeats the choice on the grown stream)."""
    dev, y_dev = dev_set
    return solver.choose_with_dev(solution, rows, dev, y_dev, chunk_size, options=options)


def _publish(model: Any, state: dict[str, Any]) -> None:
    """Set the attributes of a fit at once: another thread reading the model (``predict_proba`` takes a
    copy of ``__dict__``) sees either the previous fit or this one, never a mix of the two.  The values
    replaced are kept alive until after the update, so that none is freed (and no finaliser runs) midway."""
    replaced = [model.__dict__.get(key) for key in state]
    model.__dict__.update(state)
    del replaced


#: Warned by ``partial_fit`` on a model whose dev choice cannot be repeated (loaded from a file: the
#: dev rows are not stored in it).
DEV_NOT_REPEATED = (
    "the stream was solved again without the dev rows that chose the previous fit ({chosen}): a model file "
    "does not keep them; fit(L, L_dev=..., Y_dev=...) again to repeat the choice"
)


class LabelModel(AnalysisMixin, BaseLabeler):
    """Closed-form label model for weak supervision.

    Parameters
    ----------
    cardinality : int, default 2
        Number of classes k.
    model : str, default "annotator"
        A registered label model (:func:`tripletws.models.registered`; docs/models.md): ``"annotator"``
        (MACE, Hovy et al. 2013: EM over distinct rows after a gold-free held-out choice of family),
        ``"class_conditional"`` (Dawid-Skene tables from moments), ``"symmetric"`` (Fu et al., 2020).
    solver : {"triplet", "triplet_mean", "triplet_median", "rank_one"}
        Closed-form solver of the symmetric model.
    signs : {"all_positive", "eigen"}
        Symmetric model: every LF better than chance (default, as FlyingSquid), or signs from the
        leading eigenvector.
    dependencies : list of pairs (i, j), optional
        Declared dependent LF pairs (see :meth:`fit`, whose argument overrides this).
    class_balance : {"auto", "estimate", "uniform"} or array of shape (k,)
        Prior P(Y) when ``fit`` gets neither ``class_balance`` nor ``Y_dev``; ``"auto"``: the model's
        own (``Solver.auto_prior``).  A given prior is used for fitting and predicting.  Give it where
        you know which class is commoner, even roughly: the rows where no LF votes take their class
        from it, and the votes cannot tell it (docs/workflow.md, section 5: a rough balance in the
        right order keeps most of the gain, the wrong order costs as much).  The default model keeps the
        lone votes of LFs written for different kinds of row of a class from being overruled by the other
        LFs' silences alone, with a stricter test of those LFs where the balance was estimated from
        the same rows (:mod:`tripletws.voted_guard`).
    em_steps : int
        Class-conditional model: EM steps over the distinct rows after the closed form (0 = none).
    em_max_rows : int, optional
        Cap on the distinct rows a model fits on by EM (beyond it a hash sample of whole rows,
        :mod:`tripletws.rows`). None (the default): each model's own, 20 000 for the annotator
        model (the default) and 2 000 000 for the class-conditional one. On large crowds, where
        nearly every row is distinct and each annotator votes on few of them, a larger cap gives each
        annotator more of its votes, at a cost in time and memory (about cap x m bytes): docs/crowd.md.
    max_overrule : float
        Class-conditional model: past this share of majority rows overruled, the symmetric fit is used.
    one_class : {"coverage", "shared"}
        Default model, LFs that vote one class only (their votes alone say nothing about their
        accuracy): ``"coverage"`` (the default) learns them from how often they vote on each class
        where a gold-free check passes (two classes, those LFs casting most of the votes; else as
        ``"shared"``); ``"shared"`` always gives them majority vote's shared accuracy.  See
        docs/models.md, "LFs that vote one class only": the reading gains on most one-class LF
        sets, can lose where LFs copy each other, and costs several times the fit time.  Where that
        reading is not used, ``"coverage"`` also reads every LF's abstentions as informative behind
        gold-free tests (:func:`tripletws.estimators.abstain_check.abstain_check`); ``"shared"`` reads
        abstentions as "not assigned" throughout.  Other models do not read it (a warning when
        ``"shared"`` is given to them).
    copies : {"once", "keep"}
        Default model, LFs whose outcomes (votes and abstentions) agree far more often than
        conditional independence given the class allows (copies, near-copies): ``"once"`` (the
        default) counts each such group once, through one representative, and names the others in
        ``copies_`` and a warning; ``"keep"`` counts every LF as independent evidence.  See
        docs/models.md, "LFs that copy each other".  Other models do not read it (a warning when
        ``"keep"`` is given to them).
    combine : {"none", "stack", "pseudo_bma"}
        Default model, its vote-only families (majority vote's model, one-coin, MACE): ``"none"``
        (the default) keeps one, chosen by held-out likelihood; ``"stack"`` and ``"pseudo_bma"``
        predict with the mixture of all three, weighted by stacking or pseudo-BMA+ weights learned
        from the same held-out scores (Yao et al., 2018), where no later check replaces the
        chosen family's posterior.  A study option (docs/studies.md, "What did not work"); the
        weights are in ``selection_.weights``.  ``class_balance_`` and ``accuracies_`` are then the
        chosen family's; each component predicts under its own prior (majority vote's keeps the
        uniform one), so a row without votes gets the mixture of those priors.
    balance_rule : {"crowd", "check"}
        Default model, ``class_balance="auto"``: when an estimated class balance replaces the
        uniform one.  ``"check"``: where the estimated fit keeps significantly more clear
        majorities (:func:`tripletws.estimators.balance_check.balance_check`); ``"crowd"`` (the
        default): also on crowd-like data where that test has too few clear rows to decide
        (:func:`tripletws.estimators.balance_check.crowd_like`; docs/models.md, "The class
        balance on imbalanced crowds").  Other models do not read it.
    dev_rule : {"loo", "any"} or float
        Default model, ``fit(L, L_dev=, Y_dev=)``: when the candidate with the best accuracy on the
        dev rows replaces the gold-free fit.  ``"loo"`` (the default): where that choice, made again
        with each dev row left out, predicts the left-out rows better than the gold-free fit (the best
        of many candidates on few rows looks better than it predicts); ``"any"``: by any lead (the
        rule until session 10); a number ``s``: where it leads by more than ``s`` standard errors of
        the paired per-row dev accuracy (2: gold rows almost never cost against the gold-free fit, at
        some of their gain).  docs/models.md, "A few gold labels".
    eps : float
        Symmetric and class-conditional models (and the annotator's fallback to the symmetric model):
        accuracies are clipped into ``(eps, 1 - eps)``; the class-conditional tables' entries are
        at least ``eps``.  Settings a model does not read are named in a warning.
    chunk_size : int, optional
        Rows per chunk when reading L (memory is O(chunk_size * m) per thread).
    n_jobs : int, optional
        Threads over row chunks in fit and predict (scikit-learn's meaning; None = min(CPUs, 4),
        fewer for small L); results do not depend on it; BLAS runs on one thread inside (docs/threads.md).
    random_state : int or numpy Generator, optional
        Used by the ``"true-random"`` tie-break policy; the global RNG is never touched.
    verbose : bool
        Log at INFO level on the ``"tripletws"`` logger.
    device : str
        Accepted for Snorkel compatibility; computation runs on the CPU.
    forget : float in (0, 1], optional
        :meth:`partial_fit`: factor applied to the running statistics before each batch.
    window : int, optional
        :meth:`partial_fit`: keep only the last ``window`` batches (not with ``forget``).
    refit_growth : {"auto", "always"} or float >= 1
        :meth:`partial_fit`: when a batch is followed by a solve.  Every batch joins the running
        summary; the model is solved again once the summary's rows added since its last solve
        reach ``refit_growth - 1`` times those in it that it was solved on (on a plain stream: at
        sizes growing by that factor; with ``forget``/``window``: each time a share
        ``1 - 1 / refit_growth`` of the remembered rows is new).  ``"always"`` (1): after every
        batch, so any batching ends as one ``fit``.  ``"auto"``: the model's own
        (:attr:`tripletws.models.Solver.stream_growth`): after every batch for the closed-form
        models, 1.25 for the annotator model, whose solve (EM and gold-free choices over up to
        20 000 distinct rows) costs 100-500 ms against a batch's 1-4 ms.  :meth:`refit` solves
        now; ``pending_rows_`` says how many rows wait (docs/online.md).

    Attributes
    ----------
    solution_ : tripletws.models.Fit
        The solved model: parameters, diagnostics and notes, the same record for every model.
    params_, accuracies_, class_balance_, fit_class_balance_, class_balance_source_ :
        Prediction prior and vote tables (LabelModelParams); ``P(LF right | LF votes)`` (m,);
        the prediction prior (k,); the balance the tables were fitted with (k,); where the
        prior came from (``"given"``, ``"Y_dev"``, ``"uniform"``, ``"estimated"``).  For the
        annotator model these are the tables it predicts with: where its shrinkage toward majority
        vote keeps less than the whole departure (``shrinkage_``), the pooled ones, so the
        accuracies are pulled toward majority vote's shared one.
    estimate_, fallback_, overrule_rate_, selection_, ... :
        The model's estimate; each scalar of ``solution_.diagnostics`` and each of its
        solver's ``estimate_attributes`` (annotator: ``selection_``, ``unidentified_``,
        ``dev_choice_``, ``one_class_``, ``copies_``, ``abstain_``, ``shrinkage_``; see
        :mod:`tripletws.models.annotator`).
        ``overrule_rate_`` (annotator and class-conditional models): the share of the fitted rows
        whose votes have one most-voted class where the fit's most likely class is another
        (:func:`tripletws.checks.overrule_rate`; majority vote's is 0), for the fit that predicts
        (after a dev choice, the chosen one); ``tripletws inspect`` and the report show it.
    coverage_, stats_, rows_, n_batches_, dependencies_, coupling_ :
        Share of rows each LF votes on (m,); the (running) statistics; the distinct rows looked
        at (or None); batches in the stream (a fit is one); declared edges (E, 2), coupling (E,).
    notes_ : tuple of str
        What the last fit had to say (``fit`` warns them, ``partial_fit`` logs them).
    lf_names_, class_names_ : tuple or None
        The LFs' names where the fit's input named its columns (a DataFrame, crowd answers' workers),
        and the labels its class codes 0..k-1 stood for where it said (crowd answers,
        :mod:`tripletws.crowd`); both saved in the model file, and later input that names other
        ones is a ValueError.
    pending_rows_, solved_rows_ : float
        Weight (rows; decayed under ``forget``) of the running summary's rows added since the last
        solve (0: the parameters are solved on every row it holds; see ``refit_growth``), and of
        the summary the last solve was made on (some of its rows may have left a window since).
    """

    _fitted_attr = "solution_"

    def __init__(
        self,
        cardinality: int = 2,
        *,
        model: str = "annotator",
        solver: str = "triplet_mean",
        signs: str = "all_positive",
        dependencies: Any = None,
        class_balance: Any = "auto",
        em_steps: int = 0,
        em_max_rows: int | None = None,
        max_overrule: float = 0.25,
        one_class: str = "coverage",
        copies: str = "once",
        combine: str = "none",
        balance_rule: str = "crowd",
        dev_rule: str | float = "loo",
        eps: float = 1e-4,
        chunk_size: int | None = None,
        n_jobs: int | None = None,
        random_state: Any = None,
        verbose: bool = False,
        device: str = "cpu",
        forget: float | None = None,
        window: int | None = None,
        refit_growth: float | str = "auto",
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
        self.one_class = one_class
        self.copies = copies
        self.combine = combine
        self.balance_rule = balance_rule
        self.dev_rule = dev_rule
        self.eps = eps
        self.chunk_size = chunk_size
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.device = device
        self.forget = forget
        self.window = window
        self.refit_growth = refit_growth

    def fit(
        self,
        L_train: Any,
        Y_dev: Any = None,
        class_balance: Any = None,
        progress_bar: bool = True,
        dependencies: Any = None,
        L_dev: Any = None,
        **kwargs: Any,
    ) -> LabelModel:
        """Estimate LF accuracies (and the class balance) from ``L_train``; starts a new stream.

        Parameters
        ----------
        L_train : label matrix, shape (n, m), m >= 3
            -1 = abstain, classes 0..k-1; dense, sparse (class c stored as c + 1),
            DataFrame, memmap or ``dask.array`` (a map over its blocks).
        Y_dev : array of shape (n_dev,), optional
            Gold labels of a dev set.  Alone, only their class frequencies are used (the
            prior, as Snorkel).  With ``L_dev``, see ``L_dev``.
        class_balance : array of shape (k,), optional
            Prior P(Y); overrides ``Y_dev`` and the constructor's ``class_balance``.
        progress_bar : bool
            Accepted for Snorkel compatibility (the fit is one pass; no bar is shown).
        dependencies : list of pairs (i, j), optional
            Dependent LF pairs (overrides the constructor's; ``[]``: none), left out of the
            triplets and modelled jointly at inference (ValueError for a bad graph).  LFs by index,
            or by name where ``L_train`` is a DataFrame with distinct string column names.
        L_dev : label matrix, shape (n_dev, m), optional
            Votes on dev rows with gold ``Y_dev`` (annotator model): after the gold-free fit,
            the candidates are scored on them and the best kept (:mod:`tripletws.dev_choice`); rows
            whose ``Y_dev`` is -1 (unknown) are left out of that choice.
        **kwargs
            Snorkel's SGD options (``n_epochs``, ``lr``, ...) are ignored with a warning.
        """
        _take_sgd_options(kwargs)
        if L_train is None:  # (None reached the refit path: "'NoneType' object has no attribute 'stats'")
            raise ValueError("L_train is None: fit needs a label matrix (n rows x m LFs, -1 = abstain)")
        if L_dev is not None:  # fit without gold, then let the dev rows choose among the candidates
            return _fit_with_dev(self, L_train, L_dev, Y_dev, class_balance, dependencies)
        return self._absorb(L_train, Y_dev, class_balance, dependencies, restart=True, name="L_train")

    def fit_stats(
        self,
        stats: LabelStats,
        Y_dev: Any = None,
        class_balance: Any = None,
        dependencies: Any = None,
        lf_names: Any = None,
    ) -> LabelModel:
        """Solve from precomputed statistics (:func:`compute_stats`; no rows: models that need rows
        fall back or skip those steps); starts a new stream.  Statistics carry no LF names:
        ``lf_names`` (one distinct string per LF, e.g. the blocks' DataFrame columns) names them, as a
        fit on a DataFrame does (dependencies by name, warnings, ``predict`` checks the columns)."""
        if not isinstance(stats, LabelStats):
            raise TypeError(f"expected LabelStats, got {type(stats).__name__}")
        names = None
        if lf_names is not None:
            if isinstance(lf_names, str) or not hasattr(lf_names, "__iter__"):
                raise ValueError(f"lf_names must be a sequence of strings, got {type(lf_names).__name__}")
            names = read_names(list(lf_names), stats.n_lfs)
        return self._absorb(
            stats, Y_dev, class_balance, dependencies, restart=True, name="stats", lf_names=names
        )

    def partial_fit(self, L_batch: Any, Y_dev: Any = None, class_balance: Any = None) -> LabelModel:
        """Add a batch to the running summary and, when due (``refit_growth``), re-solve: any batching
        ends as one ``fit`` (without ``forget``/``window``; after :meth:`refit` where solves were
        spaced).  A prior given (``Y_dev``, ``class_balance``) is kept for later batches and makes
        this call solve.  Notes are logged, not warned (``notes_``); calls from several threads are
        serialised.  After ``fit(L, L_dev=, Y_dev=)`` the same dev rows choose again at each solve; a
        model loaded from a file does not keep them, and a warning says that its dev choice was not
        repeated."""
        if L_batch is None:  # (None reached the refit path: a refit, or an AttributeError when unfitted)
            raise ValueError("L_batch is None: partial_fit needs a label matrix (refit() solves with none)")
        self._absorb(L_batch, Y_dev, class_balance, None, restart=False, name="L_batch")
        return self

    def refit(self) -> LabelModel:
        """Solve now on the running summary, with the current settings: after a stream whose solves
        were spaced (``refit_growth``), the parameters of all its rows (``pending_rows_`` is 0 after
        it); after a fit's dev choice, the dev rows choose again."""
        self._check_fitted()
        self._absorb(None, None, None, None, restart=False, name="L_batch")
        return self

    def _absorb(
        self,
        data: Any,
        Y_dev: Any,
        class_balance: Any,
        dependencies: Any,
        *,
        restart: bool,
        name: str,
        dev: tuple[Any, np.ndarray] | None = None,
        lf_names: tuple[str, ...] | None = None,
    ) -> LabelModel:
        """The one fitting path: summarise, merge into the stream, resolve the prior, solve (when due),
        let dev rows choose, keep.  ``data=None`` (``refit``): no batch, a solve of the running
        summary.  ``dev``: a fit's dev set (a stream's own is reused at each solve)."""
        # (its warnings point at the caller's line, whichever public method led here; the settings
        # the model will not read are named once per fit, not at save or load)
        edges = dependencies if dependencies is not None else self.dependencies
        fallback = isinstance(data, LabelStats) or (hasattr(edges, "__len__") and len(edges) > 0)
        # a fit, or the first batch of a stream (partial_fit on an unfitted model, a fit too)
        starts = restart or (data is not None and "solution_" not in self.__dict__)
        settings = check_settings(
            self.get_params(),
            stacklevel=outside_stacklevel() + 1,
            unread=None if not starts else ("fallback" if fallback else "rows"),
        )
        k, solver, options = settings.cardinality, settings.solver, settings.options
        # BLAS on one thread for the summary and the solve (one limit for both: setting and restoring
        # it costs tens of microseconds): their small products gain nothing from threads, and
        # threaded BLAS stalls whenever another process holds a core
        with _lock(self), single_threaded_blas():
            dev_set = dev if restart else getattr(self, "_dev_set", None)
            previous = None if restart else self.__dict__.get("solution_")
            fitted_as = None if previous is None else previous.model
            if fitted_as is not None and fitted_as != solver.name:
                raise ValueError(
                    f"the stream was fitted with model={fitted_as!r} and set_params has since set "
                    f"model={self.model!r}: a running summary serves the model it was started for; "
                    "fit again (fit starts a new stream), or set the model back"
                )
            fitted_k = None if previous is None else previous.params.cardinality
            if fitted_k is not None and fitted_k != k:
                raise ValueError(
                    f"the stream was fitted with cardinality={fitted_k} and set_params has since set "
                    f"cardinality={k}: a running summary counts the classes it was started with; fit again "
                    "(fit starts a new stream), or set the cardinality back"
                )
            running = None if restart else getattr(self, "summary_", None)
            stream = StreamState() if restart else getattr(self, "_stream", None) or StreamState()
            known = None if running is None else self.__dict__.get("lf_names_")
            known_classes = None if running is None else self.__dict__.get("class_names_")
            classes = known_classes
            if data is None:  # refit: the running summary as it stands
                names, total = known, running
            else:
                expect = None if running is None else running.n_lfs
                names = names_of(data) if lf_names is None else lf_names
                # (a fit's first batch names its LFs by its labels, whatever they are)
                check_names(known, data, name=name, classes=known_classes, fitted=running is not None)
                warn_boolean_votes(data, name)
                if classes is None:
                    classes = classes_of(data)
                    if classes is not None and len(classes) != k:
                        raise ValueError(
                            f"{name} codes {len(classes)} labels as classes, the model has cardinality={k}"
                        )
                needs = partial(solver.needs, options)
                chunking = {"chunk_size": options.chunk_size, "n_jobs": self.n_jobs}
                with columns_named(names):
                    batch = summarize(data, k, needs, name=name, expect_lfs=expect, **chunking)
                total, stream = stream.push(running, batch, self.forget, None if restart else self.window)
            given = Y_dev is not None or class_balance is not None
            prior, stream = _stream_prior(class_balance, Y_dev, self.class_balance, k, stream)
            due = stream.due(settings.refit_growth, total.stats.n_rows)
            if not (data is None or previous is None or given or due):
                # not due: the batch waits in the running summary, the parameters stay the last solve's
                _publish(self, {"summary_": total, "_stream": stream})
                return self
            if dependencies is None:  # a stream keeps the edges of its solves, unless set_params changed them
                keep = running is not None and not self.__dict__.get("_edges_set", False)
                dependencies = self.dependencies_ if keep else self.dependencies
            lf_names = names if known is None else known  # LFs may be declared by name (a DataFrame's)
            solve_options = replace(
                options, dependencies=check_dependency_graph(dependencies, total.n_lfs, lf_names)
            )
            check_tables_fit(total.n_lfs, k, solver.name)  # a clear error, not an out-of-memory kill
            rows = for_solve(total.rows)  # the rows as the solvers read them (weighted back)
            with solve_threads(self.n_jobs):
                solution = solver.solve(total.stats, prior, rows, solve_options)
            _check_solution(solver, solution)
            state: dict[str, Any] = {
                "_edges_set": False,  # set_params(dependencies=) since: read by the next solve
                "_stream": stream.solved(total.stats.n_rows),
                # a stream keeps the first names it is given (an unnamed start takes a later batch's)
                "lf_names_": lf_names,
                "class_names_": classes,  # and the labels its codes stand for
                "intervals_": None,  # intervals of an earlier solve no longer apply
            }
            if restart:  # a new stream: the dev rows of an earlier fit no longer apply
                state["_dev_set"] = None
            if dev_set is not None:  # the dev rows of the fit choose (again, on the grown stream)
                solution = _choose_with_dev(solver, solution, rows, dev_set, self.chunk_size, options)
                state["_dev_set"] = dev_set
            # kept only now, all at once: a fit that raised above (bad dev rows, a solver's error) leaves
            # the previous fit whole, and no other thread sees a half-made one
            state["solution_"], state["summary_"] = solution, total
            _publish(self, state)
        if previous is None and data is not None and not getattr(data, "library_codes", False):
            # valid votes that most likely mean something else (a fit, or the first batch of a stream:
            # the PyTorch loss starts with partial_fit); not votes the library coded (crowd answers)
            warn_unlikely_input(total.stats.class_counts, total.stats.n_rows, names, name)
        # the notes of this solve (after a dev choice, the chosen fit's: they say what it replaced); not
        # self.solution_, which another thread's fit may have replaced since
        _tell(solution, restart, self.verbose, int(total.stats.n_rows), lf_names)
        if dev_set is None and previous is not None and previous.choices().get("dev_choice"):
            before = previous.choices()["dev_choice"]["chosen"]
            warnings.warn(
                DEV_NOT_REPEATED.format(chosen=before), UserWarning, stacklevel=outside_stacklevel()
            )
        return self

    params_ = property(lambda self: self._solved().params, doc="Prediction prior and vote tables.")
    estimate_ = property(lambda self: self._solved().estimate, doc="The model's closed-form result.")
    accuracies_ = property(lambda self: self._solved().accuracies, doc="P(LF right | votes), shape (m,).")
    class_balance_ = property(lambda self: self._solved().params.class_balance, doc="Prediction prior.")
    fit_class_balance_ = property(lambda self: self._solved().fit_class_balance, doc="Fitted balance.")
    class_balance_source_ = property(lambda self: self._solved().class_balance_source)
    dependencies_ = property(lambda self: self._solved().dependencies, doc="Edges, shape (E, 2).")
    coupling_ = property(lambda self: self._solved().coupling, doc="Coupling per edge, shape (E,).")
    notes_ = property(lambda self: self._solved().notes, doc="What the last solve had to say.")
    stats_ = property(
        lambda self: self._summary().stats,
        doc="Running statistics (with rows not yet solved on: pending_rows_).",
    )
    rows_ = property(lambda self: self._summary().rows, doc="Distinct rows of the running summary, or None.")
    coverage_ = property(lambda self: self.stats_.coverage, doc="Share of rows each LF votes on, (m,).")
    n_lfs_ = property(lambda self: self._solved().params.n_lfs)
    n_batches_ = property(lambda self: self._summary() and self._stream.n_batches, doc="Stream batches.")
    pending_rows_ = property(
        lambda self: self._summary() and float(self._stream.pending_rows),
        doc="Weight of the running summary's rows added since the last solve (refit_growth).",
    )
    solved_rows_ = property(
        lambda self: self._summary() and float(self._stream.solved_rows),
        doc="Weight of the running summary at the last solve (the rows the parameters were solved on).",
    )

    def _solved(self) -> Fit:
        self._check_fitted()
        return self.solution_

    def _summary(self) -> DataSummary:
        self._check_fitted()
        return self.summary_

    def __getattr__(self, name: str) -> Any:
        """A fitted model's scalar diagnostics, e.g. ``fallback_``, as attributes."""
        if name.endswith("_") and not name.startswith("_") and name not in ("solution_", "summary_"):
            solution = self.__dict__.get("solution_")
            if solution is None:
                raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit first")
            shown = get_solver(solution.model).estimate_attributes
            if name[:-1] in shown:  # e.g. the annotator's selection_, with its default after a fallback
                return getattr(solution.estimate, name[:-1], shown[name[:-1]])
            if name[:-1] in solution.diagnostics:
                return solution.diagnostics[name[:-1]]
        raise AttributeError(flyingsquid_attribute_message(type(self).__name__, name))

    def get_weights(self) -> np.ndarray:
        """Per-LF accuracy ``P(LF right | LF votes)``, shape (m,) (as Snorkel)."""
        return self.accuracies_.copy()

    def get_conditional_probs(self) -> np.ndarray:
        """``P(lambda_i = a - 1 | Y = y)`` with a = 0 abstain, shape (m, k + 1, k)."""
        return self.params_.cond_probs.copy()

    def predict_proba(self, L: Any) -> np.ndarray:
        """Posterior ``P(Y | votes)``, shape (n, k), rows summing to 1 (a lazy dask array for dask input)."""
        # one fit read once (a copy of the attributes, taken at once): a fit in another thread since
        # makes this call predict with the previous fit, never with parts of both
        fitted = self.__dict__.copy()
        solution = fitted.get("solution_")
        if solution is None:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit first")
        params = solution.params
        if is_dask_input(L):  # a dask array or DataFrame: a lazy dask array
            return predict_proba_dask(self, L)
        check_names(fitted.get("lf_names_"), L, classes=fitted.get("class_names_"))
        with columns_named(names_of(L)):
            # the fitted classes (set_params may have changed the setting since fit)
            lm = check_label_matrix(L, int(params.cardinality), allow_empty=True)
            mixture = getattr(solution.estimate, "mixture", None)
            if mixture is not None:  # the annotator's families combined (combine="stack" / "pseudo_bma")
                return mixture_posterior(
                    lm, list(mixture.components), mixture.weights, self.chunk_size, self.n_jobs
                )
            P = posterior(lm, params, self.chunk_size, self.n_jobs)
            second = getattr(solution.estimate, "tie_break", None)
            # rows whose top classes tie: their mass shared by the annotator's second fit (tripletws.ties)
            P = P if second is None else break_ties(P, lm, params, second)
            # rows kept among their voted classes where only silences say otherwise (tripletws.voted_guard)
            return guard_votes(P, lm, getattr(solution.estimate, "voted_guard", None))

    def explain(self, L: Any) -> Explanation:
        """Why each row of ``L`` gets its posterior: the class balance's and each LF's term of the
        log-scores, in nats, centred over the classes (:mod:`tripletws.explain`; meant for a few rows).

        Parameters
        ----------
        L : label matrix, shape (n, m)
            The rows to explain (any input ``predict_proba`` takes but dask: compute the rows first).

        Returns
        -------
        Explanation
            ``lfs`` (n, m, k), ``prior`` (k,), ``posterior`` (n, k), ``tie_broken`` (n,) and ``guarded``;
            ``table(row)`` prints one row, ``to_frame(row)`` gives it as a DataFrame.

        Raises
        ------
        ValueError
            A model whose prediction is a mixture of families (``combine="stack"`` or
            ``"pseudo_bma"``: no single set of terms), dask input, or more than
            :data:`tripletws.explain.MAX_CELLS` terms.
        """
        from .explain import explain_rows
        from .ties import break_ties, tied_classes

        fitted = self.__dict__.copy()  # one fit read once, as predict_proba reads it
        solution = fitted.get("solution_")
        if solution is None:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit first")
        if is_dask_input(L):
            raise ValueError("explain reads its rows in memory: compute the rows to explain first")
        if getattr(solution.estimate, "mixture", None) is not None:
            raise ValueError(
                f"this model predicts with a mixture of families (combine={self.combine!r}), which has no "
                "single set of terms to show; explain a model fitted with combine='none' (the default)"
            )
        params = solution.params
        check_names(fitted.get("lf_names_"), L, classes=fitted.get("class_names_"))
        with columns_named(names_of(L)):
            lm = check_label_matrix(L, int(params.cardinality), allow_empty=True)
        P = posterior(lm, params, self.chunk_size, 1)
        tied = np.zeros(lm.n, dtype=bool)
        second = getattr(solution.estimate, "tie_break", None)
        if second is not None:
            tied[tied_classes(P, lm, params)[0]] = True
            P = break_ties(P, lm, params, second)
        guarded = np.zeros(lm.n, dtype=bool)
        P = guard_votes(P, lm, getattr(solution.estimate, "voted_guard", None), moved=guarded)
        names = (fitted.get("lf_names_"), fitted.get("class_names_"))
        return explain_rows(lm, params, P, tied, *names, guarded=guarded)

    def set_params(self, **params: Any) -> LabelModel:
        """scikit-learn's ``set_params``; ``dependencies`` set here are read by the stream's next solve
        (``refit``, a due ``partial_fit``), which otherwise keeps the edges of its fit."""
        super().set_params(**params)
        if "dependencies" in params:
            self._edges_set = True
        return self

    def _fitted_cardinality(self) -> int:
        """The classes the fit has (``set_params`` may have changed the setting since)."""
        if "solution_" in self.__dict__:
            return int(self.params_.cardinality)
        return super()._fitted_cardinality()

    def _check_params(self) -> None:
        super()._check_params()
        check_settings(self.get_params())

    def _get_state(self) -> dict[str, Any] | None:
        if "solution_" not in self.__dict__:
            return None
        state = with_intervals(self, state_to_dict(self.solution_, self.summary_, self._stream))
        names = self.__dict__.get("lf_names_")
        if names is not None:
            state["lf_names"] = list(names)
        classes = self.__dict__.get("class_names_")
        if classes is not None:
            state["class_names"] = list(classes)
        if self.__dict__.get("_edges_set", False):  # set_params(dependencies=) since the last solve
            state["dependencies_set"] = True
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        state, intervals = split_intervals(state)
        names = state.get("lf_names") if isinstance(state, dict) else None
        classes = state.get("class_names") if isinstance(state, dict) else None
        edges_set = state.get("dependencies_set", False) if isinstance(state, dict) else False
        if not isinstance(edges_set, bool):
            raise ValueError(f"state.dependencies_set must be true or false, got {edges_set!r}"[:200])
        if isinstance(state, dict):
            extra = ("lf_names", "class_names", "dependencies_set")
            state = {key: value for key, value in state.items() if key not in extra}
        self.solution_, self.summary_, self._stream = state_from_dict(state, self.model, self.cardinality)
        # the next solve reads the dependencies setting where set_params changed it since the last one
        self._edges_set = edges_set
        self.intervals_ = read_intervals(intervals, self.n_lfs_, int(self.cardinality))
        self.lf_names_ = read_names(names, self.n_lfs_)
        self.class_names_ = read_class_names(classes, int(self.params_.cardinality))
        # the constructor's edges, as pairs (a fit's own edges, dependencies_, are checked with the state;
        # a refit checks these against its LFs, and fit(dependencies=) may override them)
        check_dependencies(self.dependencies, np.iinfo(np.int32).max, self.lf_names_)
