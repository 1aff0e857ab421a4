"""The interface every label model implements, its result record, and the registry of models by name.

A label model is one :class:`Solver` subclass in one module, registered with
:func:`register`.  :class:`~tripletws.model.LabelModel` resolves its settings and the
prior once, summarises the data (statistics, plus distinct rows when the solver asks
for them), then calls::

    fit = solver.solve(stats, prior, rows, options)      # -> Fit

A solver never reads the label matrix and never warns: what a user should hear
about goes into ``Fit.notes`` (``LabelModel.fit`` turns them into warnings,
``partial_fit`` logs them while a stream warms up).  ``estimate_to_dict`` /
``estimate_from_dict`` save and load the solver's own per-LF diagnostics; the rest
of a :class:`Fit` is saved the same way for every model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..params import LabelModelParams
from ..rows import RowSummary
from ..stats import LabelStats

#: Sources of a fixed prior (the caller's array or the class frequencies of Y_dev).
GIVEN_SOURCES = ("given", "Y_dev")
#: Strategies when no prior is fixed (``"auto"``: each model's own default).
STRATEGIES = ("auto", "estimate", "uniform")
#: ``Fit.class_balance_source`` values.
SOURCES = ("given", "Y_dev", "uniform", "estimated")


@dataclass(frozen=True)
class Prior:
    """The class balance a fit is asked to use, resolved once on entry (see :mod:`tripletws.priors`).

    Attributes
    ----------
    value : ndarray of shape (k,), optional
        A fixed P(Y); ``None`` when the model should choose.
    source : str
        ``"given"`` or ``"Y_dev"`` with a value; otherwise the strategy
        ``"auto"``, ``"estimate"`` or ``"uniform"``.
    """

    value: np.ndarray | None
    source: str

    @property
    def fixed(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class Options:
    """Settings of a ``LabelModel``, validated, as every solver sees them.

    Attributes
    ----------
    solver, signs : str
        Symmetric-model solver and sign rule.
    eps : float
        Probability floor / accuracy clip.
    em_steps : int
        EM steps over the distinct rows (0 = closed form only).
    em_max_rows : int, optional
        Cap on the distinct rows kept for EM (None: the model's own).
    max_overrule : float
        Largest tolerated share of majority rows overruled.
    one_class : str
        How the annotator model reads LFs that vote one class only (``"coverage"``, the default, or
        ``"shared"``).
    copies : str
        How the annotator model counts LFs that copy each other (``"once"``, the default, or
        ``"keep"``).
    combine : str
        How the annotator model uses its vote-only families: ``"none"`` (the default: one is
        chosen), ``"stack"`` or ``"pseudo_bma"`` (their mixture).
    balance_rule : str
        When the annotator model accepts an estimated class balance: ``"crowd"`` (the default: the
        clear-rows test, or the crowd rule of :func:`tripletws.estimators.balance_check.crowd_like`)
        or ``"check"`` (the clear-rows test alone).
    dev_rule : str or float
        When the annotator model's dev choice (``fit(L, L_dev=, Y_dev=)``) replaces the gold-free fit:
        ``"loo"`` (the default: where the choice holds up with each dev row left out), ``"any"`` (any
        lead) or a number of standard errors (:func:`tripletws.dev_choice.choose_with_dev`).
    dependencies : ndarray of int, shape (E, 2)
        Declared dependency edges (checked against the LFs).
    chunk_size : int, optional
        Rows per chunk for any pass over rows.
    """

    solver: str = "triplet_mean"
    signs: str = "all_positive"
    eps: float = 1e-4
    em_steps: int = 0
    em_max_rows: int | None = None
    max_overrule: float = 0.25
    one_class: str = "coverage"
    copies: str = "once"
    combine: str = "none"
    balance_rule: str = "crowd"
    dev_rule: str | float = "loo"
    dependencies: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    chunk_size: int | None = None


@dataclass(frozen=True)
class Needs:
    """What a solver needs from the data: statistics options and a cap on distinct rows (0 = none)."""

    joint: bool = False
    triple: bool = False
    rows: int = 0


@dataclass(frozen=True)
class Fit:
    """A solved label model: parameters and diagnostics, the same record for every model.

    Attributes
    ----------
    model : str
        Registered name of the solver that produced it.
    params : LabelModelParams
        Prior used for prediction and the conditional vote tables (with the
        dependency tables, if any).
    fit_class_balance : ndarray, shape (k,)
        Class balance the tables were fitted with.
    class_balance_source : str
        ``"given"``, ``"Y_dev"``, ``"uniform"`` or ``"estimated"`` (the prediction prior).
    estimate : object
        The solver's own closed-form result (per-LF diagnostics).
    dependencies : ndarray of int, shape (E, 2)
        Declared dependency edges used.
    coupling : ndarray, shape (E,)
        Estimated coupling of each declared pair.
    diagnostics : mapping of str to int, float or str
        Scalar diagnostics (``LabelModel`` shows each as an attribute ``<name>_``).
    notes : tuple of str
        What a user should be told (warnings of ``fit``).
    """

    model: str
    params: LabelModelParams
    fit_class_balance: np.ndarray
    class_balance_source: str
    estimate: Any = None
    dependencies: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    coupling: np.ndarray = field(default_factory=lambda: np.zeros(0))
    diagnostics: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def accuracies(self) -> np.ndarray:
        """``P(LF right | LF votes)`` under ``fit_class_balance``, shape (m,)."""
        return LabelModelParams(self.fit_class_balance, self.params.cond_probs).accuracies

    def choices(self) -> dict[str, Any]:
        """What the solve chose and had to say, as ``tripletws inspect`` and the report show it:
        ``notes`` (list of str), and where the solver records them ``family`` (the family fitted),
        ``dev_choice`` (the dev rows' choice, :mod:`tripletws.dev_choice`) and ``shrinkage`` (how much
        of its departure from majority vote the fit keeps, :mod:`tripletws.estimators.shrinkage`)."""
        out: dict[str, Any] = {"notes": list(self.notes)}
        if self.diagnostics.get("family"):
            out["family"] = self.diagnostics["family"]
        rate = self.diagnostics.get("overrule_rate")
        if isinstance(rate, float) and np.isfinite(rate):
            out["overrule_rate"] = rate
        dev = getattr(self.estimate, "dev_choice", None)
        if dev:
            out["dev_choice"] = dev
        shrinkage = getattr(self.estimate, "shrinkage", None)
        if shrinkage is not None:
            out["shrinkage"] = shrinkage.to_dict()
        selection = getattr(self.estimate, "selection", None)
        if selection is not None and getattr(selection, "heldout_loglik", None):
            out["selection"] = selection.to_dict()
        return out


def family_row(choices: Mapping[str, Any]) -> tuple[str, str] | None:
    """The label and value of the fitted family's line in ``inspect`` and the report, or None.

    Where a dev choice replaced the gold-free fit (``choices["dev_choice"]["chosen"]`` is not
    ``"gold_free"``), the family is the gold-free fit's, not the one that predicts: the label says so.
    """
    if "family" not in choices:
        return None
    dev = choices.get("dev_choice")
    if dev is not None and str(dev.get("chosen", "")).split("+")[0] != "gold_free":
        return "gold-free family", f"{choices['family']} (replaced by the dev choice)"
    return "fitted family", str(choices["family"])


def selection_line(selection: Mapping[str, Any]) -> str:
    """The ``inspect`` and report line of the gold-free family choice (``choices()["selection"]``):
    each vote-only family's cross-fitted held-out log-likelihood per row and the family chosen."""
    scores = ", ".join(
        f"{family} {'n/a' if value is None else format(float(value), '.4f')}"
        for family, value in selection["heldout_loglik"].items()
    )
    n_se = float(selection["n_se"])
    rule = _rule_choice(selection)
    if rule is not None and rule != selection["chosen"]:
        return (
            f"{selection['chosen']} (held-out log-likelihood per row over {selection['n_folds']} folds: "
            f"{scores}; the simplest family within {n_se:g} standard errors of the best, "
            f"{selection['best']}, is {rule}, replaced by {selection['chosen']} as the notes say)"
        )
    return (
        f"{selection['chosen']} (held-out log-likelihood per row over {selection['n_folds']} folds: "
        f"{scores}; the simplest family within {n_se:g} standard errors of the best, "
        f"{selection['best']})"
    )


def _rule_choice(selection: Mapping[str, Any]) -> str | None:
    """The family the held-out rule chose from the record's leads (the simplest within ``n_se`` standard
    errors of the best; None where a lead is missing): a later step may replace it (the annotator
    model's fallback to majority vote's family where the class balance is not settled)."""
    from ..estimators.family_choice import TIE_TOL  # (the rule's own tie tolerance)

    leads = selection.get("leads") or {}
    n_se = float(selection["n_se"])
    for family in selection["heldout_loglik"]:
        if family == selection["best"]:
            return family
        if family not in leads:
            return None
        lead, se = leads[family]
        if lead is not None and float(lead) <= max(TIE_TOL, n_se * (0.0 if se is None else float(se))):
            return family
    return None


def shrinkage_line(shrinkage: Mapping[str, Any]) -> str:
    """The ``inspect`` and report line of a fit's shrinkage toward majority vote (``choices()``)."""
    lam, departure, noise = (float(shrinkage[key]) for key in ("lam", "departure", "noise"))
    share = noise / departure if departure > 0 else 0.0
    return (
        f"{lam:.2f} of its departure from majority vote kept (James-Stein: 1 - bootstrap noise / mean "
        f"square departure, {noise:.3g} / {departure:.3g} = {share:.2f})"
    )


def balance_text(balance: Any, digits: int = 4, eq: str = "=") -> str:
    """``"P(Y=0)=0.5000, P(Y=1)=0.5000"``: a class balance in ``inspect`` (and, with ``eq=" = "``, the
    report)."""
    values = np.asarray(balance, dtype=np.float64)
    return ", ".join(f"P(Y={c}){eq}{p:.{digits}f}" for c, p in enumerate(values))


def prediction_prior_text(fitted: Any, prior: Any, digits: int = 4) -> str:
    """``"; prediction prior 0.5202, 0.4798 (...)"`` where the prior a model predicts with
    (``class_balance_``) differs from its fitted or given balance (``fit_class_balance_``) in the digits
    shown: the shrinkage's exact pool puts its tables' normalisers into it
    (:mod:`tripletws.estimators.shrinkage`); "" where it does not."""
    fitted = np.asarray(fitted, dtype=np.float64)
    prior = np.asarray(prior, dtype=np.float64)
    if np.allclose(prior, fitted, rtol=0.0, atol=0.5 * 10.0**-digits):
        return ""
    predicting = ", ".join(f"{p:.{digits}f}" for p in prior)
    return f"; prediction prior {predicting} (the pooled tables', see shrinkage)"


def overrule_line(rate: float) -> str:
    """The ``inspect`` and report line of an overrule rate (:func:`tripletws.checks.overrule_rate`)."""
    return (
        f"{rate:.1%} of the fitted rows whose votes have one most-voted class get another class "
        "(majority vote keeps them all)"
    )


def dev_choice_line(dev: Mapping[str, Any], digits: int = 4) -> str:
    """One line for a dev choice record: ``"<chosen> (dev accuracy A on N gold rows)"``.

    Where another candidate scored higher on the dev rows (the dev choice keeps a candidate unless a
    higher score holds up, :mod:`tripletws.dev_choice`), the line names the highest and its score.
    """
    scores = dev["dev_accuracy"]
    score = scores[dev["chosen"]]
    line = f"{dev['chosen']} (dev accuracy {score:.{digits}f} on {dev['n_dev']} gold rows)"
    top = max(scores, key=scores.__getitem__)
    if scores[top] > score:
        line += f"; {top} scored {scores[top]:.{digits}f} there, not by enough to be chosen"
    return line


class Solver:
    """Base class of a label model.  Subclasses set ``name`` and implement :meth:`solve`.

    Override :meth:`needs` when the model needs more than the pairwise statistics,
    and :meth:`estimate_to_dict` / :meth:`estimate_from_dict` when ``Fit.estimate``
    holds something to save.
    """

    name: ClassVar[str] = ""
    #: One line for ``--help`` and error messages.
    summary: ClassVar[str] = ""
    #: The prior strategy ``"auto"`` stands for.
    auto_prior: ClassVar[str] = "uniform"
    #: Attributes of ``Fit.estimate`` that ``LabelModel`` shows as ``<name>_``, with the value
    #: used when the estimate lacks one (e.g. after a fallback to another model's solution).
    estimate_attributes: ClassVar[dict[str, Any]] = {}
    #: Whether :meth:`choose_with_dev` has candidate fits for a labelled dev set to choose from.
    accepts_dev_set: ClassVar[bool] = False
    #: ``LabelModel(refit_growth="auto")``: a stream re-solves once the rows added since the last
    #: solve reach ``stream_growth - 1`` times the weight solved on (1: after every batch, for models
    #: whose solve costs no more than a batch's statistics; :mod:`tripletws.online`).
    stream_growth: ClassVar[float] = 1.0

    def needs(self, options: Options, n_lfs: int) -> Needs:
        """Statistics and rows this model is solved from."""
        return Needs()

    def solve(self, stats: LabelStats, prior: Prior, rows: RowSummary | None, options: Options) -> Fit:
        """Parameters and diagnostics from the statistics (and rows, when :meth:`needs` asked)."""
        raise NotImplementedError

    def choose_with_dev(
        self,
        solution: Fit,
        rows: RowSummary | None,
        dev: Any,
        y_dev: Any,
        chunk_size: int | None = None,
        options: Options | None = None,
    ) -> Fit:
        """``solution`` after a labelled dev set (``fit(L, L_dev=, Y_dev=)``) chose among this model's
        candidate fits.  ``dev``: the dev rows' LabelMatrix; ``y_dev``: their gold, shape (n_dev,);
        ``chunk_size``: rows per chunk when scoring the dev rows; ``options``: the model's settings
        (None: the defaults).

        Models with candidates set ``accepts_dev_set`` and override this.
        """
        raise NotImplementedError(f"model={self.name!r} does not choose with a dev set")

    def estimate_to_dict(self, estimate: Any) -> dict[str, Any]:
        """JSON-ready record of ``Fit.estimate``."""
        return {}

    def estimate_from_dict(self, d: Any, params: LabelModelParams) -> Any:
        """Inverse of :meth:`estimate_to_dict`; validates every field."""
        return None


_REGISTRY: dict[str, Solver] = {}


def register(cls: type[Solver]) -> type[Solver]:
    """Class decorator: make a :class:`Solver` available as ``LabelModel(model=cls.name)``."""
    if not (isinstance(cls, type) and issubclass(cls, Solver)):
        raise TypeError(f"register expects a Solver subclass, got {cls!r}")
    if not cls.name or not cls.name.isidentifier():
        raise ValueError(f"a label model needs an identifier as its name, got {cls.name!r}")
    if cls.solve is Solver.solve:
        raise TypeError(f"{cls.__qualname__} (model {cls.name!r}) does not define solve()")
    growth = cls.stream_growth
    if isinstance(growth, bool) or not isinstance(growth, (int, float)) or not 1.0 <= growth < float("inf"):
        raise ValueError(
            f"{cls.__qualname__} (model {cls.name!r}): stream_growth must be a finite number >= 1, "
            f"got {growth!r}"
        )
    held = _REGISTRY.get(cls.name)
    if held is not None:
        other = type(held)
        same = (other.__module__, other.__qualname__) == (cls.__module__, cls.__qualname__)
        if not same:  # the same class again (its module reloaded) replaces itself; another class may not
            raise ValueError(
                f"model {cls.name!r} is already registered by {other.__module__}.{other.__qualname__}; "
                "give the new model another name"
            )
    _REGISTRY[cls.name] = cls()
    return cls


def registered() -> tuple[str, ...]:
    """Names of the registered label models, in registration order."""
    return tuple(_REGISTRY)


def get_solver(name: Any) -> Solver:
    """The registered solver called ``name`` (ValueError listing the names otherwise)."""
    solver = _REGISTRY.get(name) if isinstance(name, str) else None
    if solver is None:
        raise ValueError(
            f"unknown model {name!r}; choose one of {', '.join(_REGISTRY)} (a model defined elsewhere "
            "must be imported first; on the command line: tripletws --plugin MODULE ...)"
        )
    return solver
