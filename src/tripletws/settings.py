"""Validation of a ``LabelModel``'s constructor settings, once per call, into what the solvers see."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .dependencies import check_dependencies, lfs_without_triplet
from .estimators.family_weights import COMBINE_RULES
from .estimators.symmetric import SIGNS, SOLVERS
from .matrix import check_cardinality
from .models import Options, Solver, get_solver
from .models.notes import lf_list
from .online import check_stream_options
from .parallel import resolve_n_jobs
from .priors import check_prior_setting

#: Readings of LFs that vote one class only (``LabelModel(one_class=...)``), the default first.
ONE_CLASS_READINGS = ("coverage", "shared")
#: Treatments of LFs that copy each other (``LabelModel(copies=...)``), the default first.
COPIES_READINGS = ("once", "keep")
#: When an estimated class balance is accepted (``LabelModel(balance_rule=...)``), the default first.
BALANCE_RULES = ("crowd", "check")
#: When gold rows replace the gold-free fit (``LabelModel(dev_rule=...)``; or a number of standard
#: errors), the default first.
DEV_RULES = ("loo", "any")


@dataclass(frozen=True)
class Settings:
    """Checked settings: the number of classes, the solver, and the options passed to it."""

    cardinality: int
    solver: Solver
    options: Options
    refit_growth: float = 1.0


def _non_negative_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def _annotator_option(
    p: dict[str, Any], name: str, allowed: tuple[str, ...], model: str, stacklevel: int
) -> str:
    """Setting ``name`` of the annotator model (default: ``allowed[0]``): ValueError when unknown, a
    warning when set otherwise than its default for another model (which ignores it)."""
    value = p.get(name, allowed[0])
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(allowed)}")
    if value != allowed[0] and model != "annotator":
        warnings.warn(
            f"{name}={value!r} ignored: only the annotator model (the default) reads it, not model={model!r}",
            UserWarning,
            stacklevel=stacklevel + 1,
        )
    return str(value)


#: Built-in models that read each setting of the other models (the annotator reads the first three
#: only where it falls back to the symmetric model: statistics alone, declared dependencies).
READ_BY = {
    "solver": ("symmetric", "class_conditional"),
    "signs": ("symmetric",),
    "eps": ("symmetric", "class_conditional"),
    "em_steps": ("class_conditional",),
    "em_max_rows": ("annotator", "class_conditional"),
    "max_overrule": ("class_conditional",),
}
#: Of those, the settings the annotator's fallback to the symmetric model reads.
READ_BY_FALLBACK = ("solver", "signs", "eps")


def _warn_unread(p: dict[str, Any], model: str, stacklevel: int, fallback: bool = False) -> None:
    """Warnings naming the settings set otherwise than their defaults for a built-in model that does
    not read them (a plugin model's reading is unknown: nothing is said); ``fallback``: the annotator
    solves the symmetric model this time, so the settings that one reads are read."""
    if model not in ("annotator", "symmetric", "class_conditional"):
        return
    default = Options()
    unread = [
        name
        for name, readers in READ_BY.items()
        if model not in readers and name in p and p[name] != getattr(default, name)
    ]
    # the annotator reads these where it falls back to the symmetric model: read this time, or not
    # read this time but on another fit (said so)
    by_fallback = [name for name in unread if model == "annotator" and name in READ_BY_FALLBACK]
    never = [name for name in unread if name not in by_fallback]
    where = " except where it falls back to the symmetric model (fit_stats, declared dependencies)"
    for group, said in (([] if fallback else by_fallback, where), (never, "")):
        if not group:
            continue
        listed = ", ".join(f"{name}={p[name]!r}" for name in group)
        readers = sorted({r for name in group for r in READ_BY[name]})
        warnings.warn(
            f"{listed} ignored: model={model!r} does not read {'it' if len(group) == 1 else 'them'}"
            f"{said} (read by {', '.join(repr(r) for r in readers)})",
            UserWarning,
            stacklevel=stacklevel + 1,
        )


#: The annotator's own settings, with their defaults: not read where it falls back to the symmetric model.
ANNOTATOR_ONLY = {
    "one_class": ONE_CLASS_READINGS[0],
    "copies": COPIES_READINGS[0],
    "combine": COMBINE_RULES[0],
    "balance_rule": BALANCE_RULES[0],
}


def _warn_fallback_unread(p: dict[str, Any], stacklevel: int) -> None:
    """A warning naming the annotator's own settings set otherwise than their defaults where this fit
    falls back to the symmetric model (statistics alone, declared dependencies), which reads none."""
    unread = [name for name, default in ANNOTATOR_ONLY.items() if p.get(name, default) != default]
    if not unread:
        return
    listed = ", ".join(f"{name}={p[name]!r}" for name in unread)
    warnings.warn(
        f"{listed} ignored: model='annotator' falls back to the symmetric model on this fit (statistics "
        "alone or declared dependencies), which does not read "
        f"{'it' if len(unread) == 1 else 'them'}",
        UserWarning,
        stacklevel=stacklevel + 1,
    )


def check_dev_rule(value: Any, model: str, stacklevel: int) -> str | float:
    """``LabelModel(dev_rule=...)``: ``"loo"``, ``"any"`` or a positive number of standard errors."""
    if isinstance(value, str):
        if value not in DEV_RULES:
            raise ValueError(
                f"unknown dev_rule {value!r}; choose one of {', '.join(DEV_RULES)} or a positive number "
                "of standard errors"
            )
        rule: str | float = value
    elif isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 < float(value) < np.inf:
        rule = float(value)
    else:
        raise ValueError(
            f"dev_rule must be one of {', '.join(DEV_RULES)} or a positive number of standard errors, "
            f"got {value!r}"
        )
    if rule != DEV_RULES[0] and model != "annotator":
        warnings.warn(
            f"dev_rule={value!r} ignored: only the annotator model (the default) reads it, "
            f"not model={model!r}",
            UserWarning,
            stacklevel=stacklevel + 1,
        )
    return rule


def check_settings(p: dict[str, Any], stacklevel: int = 4, unread: str | None = None) -> Settings:
    """Validate the constructor parameters ``p`` of a ``LabelModel`` (ValueError naming the setting).

    ``unread``: where a fit is about to solve, ``"rows"`` (the annotator reads its own settings) or
    ``"fallback"`` (statistics alone or declared dependencies: the annotator solves the symmetric
    model, which reads ``solver``, ``signs`` and ``eps``); settings the model will not read are then
    named in a warning.  None (checks at save, load, intervals): no such warning.
    """
    k = check_cardinality(p["cardinality"])
    solver = get_solver(p["model"])
    if p["solver"] not in SOLVERS:
        raise ValueError(f"unknown solver {p['solver']!r}; choose one of {', '.join(SOLVERS)}")
    if p["signs"] not in SIGNS:
        raise ValueError(f"unknown signs {p['signs']!r}; choose one of {', '.join(SIGNS)}")
    eps = p["eps"]
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not (0 < eps < 0.5):
        raise ValueError(f"eps must lie in (0, 0.5), got {eps!r}")
    if solver.name == "class_conditional" and eps * (k + 1) >= 1.0:
        # its tables floor the k + 1 outcomes of each column at eps: they must sum to 1
        raise ValueError(
            f"eps must be below 1 / (k + 1) = {1.0 / (k + 1):.4g} for the class-conditional model with "
            f"k = {k} (each column's k + 1 outcomes are floored at eps), got {eps!r}"
        )
    em_steps = _non_negative_int(p["em_steps"], "em_steps")
    em_max_rows = p["em_max_rows"]
    if em_max_rows is not None:
        em_max_rows = _non_negative_int(em_max_rows, "em_max_rows")
        if em_max_rows < 1:
            raise ValueError(f"em_max_rows must be None or at least 1, got {em_max_rows}")
    overrule = p["max_overrule"]
    if isinstance(overrule, bool) or not (isinstance(overrule, numbers.Real) and 0.0 <= overrule <= 1.0):
        raise ValueError(f"max_overrule must be a number in [0, 1], got {overrule!r}")
    one_class = _annotator_option(p, "one_class", ONE_CLASS_READINGS, solver.name, stacklevel)
    copies = _annotator_option(p, "copies", COPIES_READINGS, solver.name, stacklevel)
    combine = _annotator_option(p, "combine", COMBINE_RULES, solver.name, stacklevel)
    balance_rule = _annotator_option(p, "balance_rule", BALANCE_RULES, solver.name, stacklevel)
    dev_rule = check_dev_rule(p.get("dev_rule", DEV_RULES[0]), solver.name, stacklevel)
    if unread is not None:
        _warn_unread(p, solver.name, stacklevel, fallback=unread == "fallback")
    if unread == "fallback" and solver.name == "annotator":
        _warn_fallback_unread(p, stacklevel)
    chunk = p["chunk_size"]
    if chunk is not None and (
        isinstance(chunk, bool) or not isinstance(chunk, numbers.Integral) or chunk < 1
    ):
        raise ValueError(f"chunk_size must be None or a positive integer, got {chunk!r}")
    check_prior_setting(p["class_balance"], k)
    check_random_state(p.get("random_state"))
    check_stream_options(p["forget"], p["window"])
    growth = check_refit_growth(p.get("refit_growth", "auto"), solver)
    resolve_n_jobs(p.get("n_jobs"))
    if not isinstance(p.get("verbose", False), (bool, np.bool_)):
        raise ValueError(f"verbose must be True or False, got {p['verbose']!r}")
    if not isinstance(p["device"], str):
        raise ValueError(f"device must be a string (tripletws computes on the CPU), got {p['device']!r}")
    if p["device"] != "cpu":
        warnings.warn(
            f"device={p['device']!r} ignored: tripletws computes on the CPU",
            UserWarning,
            stacklevel=stacklevel,
        )
    options = Options(
        solver=p["solver"],
        signs=p["signs"],
        eps=float(eps),
        em_steps=em_steps,
        em_max_rows=em_max_rows,
        max_overrule=float(overrule),
        one_class=str(one_class),
        copies=str(copies),
        combine=str(combine),
        balance_rule=str(balance_rule),
        dev_rule=dev_rule,
        chunk_size=None if chunk is None else int(chunk),
    )
    return Settings(k, solver, options, growth)


def check_refit_growth(value: Any, solver: Solver) -> float:
    """``LabelModel(refit_growth=...)``: ``"auto"`` (the model's :attr:`Solver.stream_growth`), ``"always"``
    (1: a solve after every batch) or a finite number >= 1."""
    if isinstance(value, str):
        if value == "auto":
            return float(solver.stream_growth)
        if value == "always":
            return 1.0
        raise ValueError(f"unknown refit_growth {value!r}; choose 'auto', 'always' or a number >= 1")
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (1.0 <= float(value) < np.inf):
        raise ValueError(f"refit_growth must be 'auto', 'always' or a finite number >= 1, got {value!r}")
    return float(value)


def check_dependency_graph(dependencies: Any, m: int, names: Sequence[str] | None = None) -> np.ndarray:
    """Declared edges (see :func:`check_dependencies`; LFs by index, or by name among ``names``) that
    leave every LF a triplet of independent LFs."""
    edges = check_dependencies(dependencies, m, names)
    if len(edges):
        stranded = lfs_without_triplet(edges, m)
        if stranded.size:
            raise ValueError(
                f"the declared dependencies leave LF(s) {lf_list(stranded)} without a triplet "
                "of mutually independent LFs, so their accuracy cannot be estimated; "
                "declare fewer dependencies or add LFs"
            )
    return edges


def check_random_state(seed: Any, *, saved: bool = False) -> None:
    """``random_state``: None, an integer in [0, 2**63), or a numpy Generator (in memory, not in a file).

    Raises
    ------
    ValueError
        Naming ``random_state`` and the value (a seed numpy would refuse only at the first random
        tie-break, or a model file that could be written but not read back).
    """
    if seed is None:
        return
    if not saved and isinstance(seed, np.random.Generator):
        return
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= int(seed) < 2**63:
        kinds = "null or a non-negative integer" if saved else "None, an integer >= 0 or a numpy Generator"
        raise ValueError(f"random_state must be {kinds}, got {seed!r}")
