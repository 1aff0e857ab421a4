"""Saving and loading a :class:`~tripletws.models.base.Fit`: the same record for every label model.

The solver's own ``Fit.estimate`` is written by its ``estimate_to_dict``; everything
else (parameters, class balances, dependencies, scalar diagnostics) is common.
Arrays are stored compactly (:mod:`tripletws.arrays`); every field is validated on load.
"""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any

import numpy as np

from ..arrays import decode_array, encode_array
from ..dependencies import check_dependencies
from ..estimators.class_balance import check_class_balance
from ..params import LabelModelParams
from ..validate import check_mapping, check_str
from .base import SOURCES, Fit, Options, get_solver

_FIT_KEYS = ("model", "params", "fit_class_balance", "class_balance_source", "estimate")
_FIT_OPTIONAL = ("dependencies", "coupling", "diagnostics", "notes")


def finite_or_none(x: float) -> float | None:
    """JSON-safe float: None for nan/inf."""
    return float(x) if math.isfinite(x) else None


def params_to_dict(params: LabelModelParams) -> dict[str, Any]:
    out: dict[str, Any] = {
        "class_balance": encode_array(params.class_balance),
        "cond_probs": encode_array(params.cond_probs),
    }
    if params.has_dependencies:
        out["edges"] = encode_array(np.asarray(params.edges, dtype=np.int64))
        out["pair_tables"] = encode_array(np.asarray(params.pair_tables))
    if params.one_class is not None:
        out["one_class"] = encode_array(np.asarray(params.one_class, dtype=np.int64))
    return out


def params_from_dict(d: Any, name: str = "params") -> LabelModelParams:
    """Decode the arrays, then let :meth:`LabelModelParams.from_dict` check the probabilities."""
    d = check_mapping(d, name, ("class_balance", "cond_probs"), ("edges", "pair_tables", "one_class"))
    arrays = {
        "class_balance": decode_array(d["class_balance"], f"{name}.class_balance", ndim=1),
        "cond_probs": decode_array(d["cond_probs"], f"{name}.cond_probs", ndim=3),
    }
    if d.get("edges") is not None or d.get("pair_tables") is not None:
        arrays["edges"] = decode_array(d.get("edges", []), f"{name}.edges", kind="i")
        arrays["pair_tables"] = decode_array(d.get("pair_tables", []), f"{name}.pair_tables")
    if d.get("one_class") is not None:
        arrays["one_class"] = decode_array(d["one_class"], f"{name}.one_class", kind="i", ndim=1)
    try:
        return LabelModelParams.from_dict(arrays)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from exc


def _diagnostic(value: Any, name: str) -> Any:
    if value is None:
        return float("nan")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{name} must be a number, a string or null, got {type(value).__name__}")
    if isinstance(value, str):
        return check_str(value, name)
    if isinstance(value, int):
        if abs(value) > 10**15:
            raise ValueError(f"{name} is out of range")
        return value
    return float(value)


def _saved_diagnostic(value: Any, name: str) -> Any:
    """A diagnostic as the model file holds it: a number (numpy scalars converted), a string or null;
    anything else is refused here, by the rule the reader applies (:func:`_diagnostic`)."""
    if isinstance(value, (np.floating, float)) and not isinstance(value, bool):
        return finite_or_none(float(value))
    if isinstance(value, np.integer):
        value = int(value)
    if value is not None and (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, str))):
        raise ValueError(
            f"{name} is a {type(value).__name__}; a model file keeps numbers, strings or None as diagnostics"
        )
    return value if value is None else _diagnostic(value, name)


def fit_to_dict(fit: Fit) -> dict[str, Any]:
    """JSON-ready record of ``fit``."""
    diagnostics = {
        key: _saved_diagnostic(v, f"solution.diagnostics.{key}") for key, v in fit.diagnostics.items()
    }
    return {
        "model": fit.model,
        "params": params_to_dict(fit.params),
        "fit_class_balance": encode_array(fit.fit_class_balance),
        "class_balance_source": fit.class_balance_source,
        "estimate": get_solver(fit.model).estimate_to_dict(fit.estimate),
        "dependencies": encode_array(np.asarray(fit.dependencies, dtype=np.int64).reshape(-1, 2)),
        "coupling": encode_array(np.asarray(fit.coupling, dtype=np.float64)),
        "diagnostics": diagnostics,
        "notes": list(fit.notes),
    }


def fit_from_dict(d: Any, m: int, k: int, model: str | None = None) -> Fit:
    """Inverse of :func:`fit_to_dict`; every field is checked against m LFs, k classes (and ``model``)."""
    d = check_mapping(d, "solution", _FIT_KEYS, _FIT_OPTIONAL)
    name = check_str(d["model"], "solution.model", max_len=100)
    if model is not None and name != model:
        raise ValueError(f"solution.model is {name!r} but the model setting is {model!r}")
    solver = get_solver(name)
    params = params_from_dict(d["params"], "solution.params")
    if (params.n_lfs, params.cardinality) != (m, k):
        raise ValueError(
            f"solution.params has m={params.n_lfs}, k={params.cardinality}; expected m={m}, k={k}"
        )
    fcb = decode_array(d["fit_class_balance"], "solution.fit_class_balance", shape=(k,))
    try:
        check_class_balance(fcb, k)  # checked; kept as saved (renormalising moved it by an ulp or so)
    except ValueError as exc:
        raise ValueError(f"solution.fit_class_balance: {exc}") from exc
    source = check_str(d["class_balance_source"], "solution.class_balance_source", SOURCES)
    edges_raw = decode_array(d.get("dependencies", []), "solution.dependencies", kind="i")
    try:
        edges = check_dependencies(edges_raw.reshape(-1, 2), m)
    except ValueError as exc:
        raise ValueError(f"solution.dependencies: {exc}") from exc
    if params.has_dependencies:  # the tables predicted with: a forest of the declared edges
        undeclared = {tuple(e) for e in params.edges.tolist()} - {tuple(e) for e in edges.tolist()}
        if undeclared:
            raise ValueError(
                f"solution.dependencies lacks the edge(s) {sorted(undeclared)[:5]} of "
                "solution.params.pair_tables"
            )
    coupling = decode_array(d.get("coupling", []), "solution.coupling", shape=(len(edges),))
    diag_in = d.get("diagnostics", {})
    if not isinstance(diag_in, dict) or len(diag_in) > 100:
        raise ValueError("solution.diagnostics must be an object of at most 100 fields")
    diagnostics = {
        check_str(key, "solution.diagnostics key", max_len=100): _diagnostic(v, f"solution.diagnostics.{key}")
        for key, v in diag_in.items()
    }
    notes = d.get("notes", [])
    if not isinstance(notes, list) or len(notes) > 1000:
        raise ValueError("solution.notes must be a list of at most 1000 strings")
    notes = tuple(check_str(n, "solution.notes entry") for n in notes)
    estimate = solver.estimate_from_dict(d["estimate"], params)
    _check_dev_choice(getattr(estimate, "dev_choice", None), diagnostics, source)
    return Fit(solver.name, params, fcb, source, estimate, edges, coupling, diagnostics, notes)


def _check_dev_choice(record: dict[str, Any] | None, diagnostics: dict[str, Any], source: str) -> None:
    """A dev choice record (``estimate.dev_choice``, checked by the solver) against the rest of the fit:
    the ``dev_choice`` diagnostic names the same candidate, and the prior came from ``Y_dev`` exactly
    where the chosen candidate predicts with the dev rows' class frequencies (``"+dev_prior"``)."""
    said = diagnostics.get("dev_choice")
    chosen = None if record is None else record["chosen"]
    if said is not None and said != chosen:
        raise ValueError(
            f"solution.diagnostics.dev_choice is {str(said)[:200]!r} but estimate.dev_choice.chosen is "
            f"{chosen!r}"
        )
    if chosen is not None and chosen.endswith("+dev_prior") != (source == "Y_dev"):
        frequencies = chosen.endswith("+dev_prior")
        prior = "the dev rows' class frequencies ('Y_dev')" if frequencies else "another prior"
        raise ValueError(
            f"solution.class_balance_source is {source!r} but the dev choice {chosen!r} predicts with {prior}"
        )


_V1_KEYS = ("params", "stats", "class_balance_source")
_V1_OPTIONAL = (
    "dependencies",
    "coupling",
    "stream",
    "fit_class_balance",
    "fallback",
    "overrule_rate",
    "em_steps_run",
    "em_log_likelihood",
    "em_sample_rate",
    "closed_form",
    "b",
    "estimated",
    "n_candidates",
    "below_chance",
)
_V1_DIAGNOSTICS = {
    "fallback": "",
    "overrule_rate": None,
    "em_steps_run": 0,
    "em_log_likelihood": None,
    "em_sample_rate": 1.0,
}


def state_from_v1(state: Any, model: str) -> dict[str, Any]:
    """A schema-version-1 ``LabelModel`` state rearranged into the current layout (then read as usual).

    Version 1 stored the fields of both built-in models side by side: the
    class-conditional diagnostics and ``closed_form``, or the symmetric ``b`` /
    ``estimated`` / ``n_candidates`` / ``below_chance``.
    """
    state = check_mapping(state, "state", _V1_KEYS, _V1_OPTIONAL)
    if "closed_form" in state:
        estimate: Any = state["closed_form"]
    else:
        estimate = {key: state.get(key) for key in ("b", "estimated", "n_candidates", "below_chance")}
        estimate = {key: value for key, value in estimate.items() if value is not None}
        if model == "class_conditional":
            estimate = {"symmetric": estimate}
    diagnostics = {}
    if model == "class_conditional":
        diagnostics = {key: state.get(key, default) for key, default in _V1_DIAGNOSTICS.items()}
    params = state["params"]
    solution = {
        "model": model,
        "params": params,
        "fit_class_balance": state.get(
            "fit_class_balance", params.get("class_balance") if isinstance(params, dict) else None
        ),
        "class_balance_source": state["class_balance_source"],
        "estimate": estimate,
        "dependencies": state.get("dependencies", []),
        "coupling": state.get("coupling", []),
        "diagnostics": diagnostics,
    }
    stream = state.get("stream")
    if stream is None:  # files from before online learning
        stream = {"n_batches": 1}
    if isinstance(stream, dict) and isinstance(stream.get("batches"), list):
        stream = {**stream, "batches": [{"stats": b} for b in stream["batches"]]}
    return {"solution": solution, "summary": {"stats": state["stats"]}, "stream": stream}


def state_to_dict(solution: Fit, summary: Any, stream: Any) -> dict[str, Any]:
    """The fitted state of a ``LabelModel``: its solution, the running summary and the stream."""
    return {"solution": fit_to_dict(solution), "summary": summary.to_dict(), "stream": stream.to_dict()}


def state_from_dict(state: Any, model: str, cardinality: int) -> tuple[Fit, Any, Any]:
    """Inverse of :func:`state_to_dict` (or a schema-version-1 state), every field checked."""
    from ..online import StreamState
    from ..summary import DataSummary

    if isinstance(state, dict) and "params" in state:  # schema version 1
        state = state_from_v1(state, model)
    state = check_mapping(state, "state", ("solution", "summary"), ("stream",))
    summary = DataSummary.from_dict(state["summary"])
    m, k = summary.n_lfs, summary.cardinality
    if k != cardinality:
        raise ValueError(f"the saved statistics have k={k} but cardinality is {cardinality}")
    solution = fit_from_dict(state["solution"], m, k, model)
    if get_solver(solution.model).needs(Options(), m).joint and summary.stats.joint is None:
        # a model solved from the joint vote table had it: the next solve of the stream reads it again
        raise ValueError(
            f"summary.stats lacks the joint vote table that model {solution.model!r} is solved from"
        )
    record = state.get("stream")
    if record is None:  # written before online learning: one batch
        record = {"n_batches": 1}
    stream = StreamState.from_dict(record, lambda b: DataSummary.from_dict(b, m, k), k)
    stream.check_against(float(summary.stats.n_rows))
    if stream.batches is not None:
        _check_window(summary, stream.batches)
    return solution, summary, stream


def _check_window(summary: Any, batches: Any) -> None:
    """A window's batches (``stream.batches``) add up to the running summary: the window subtracts the
    statistics of the batch it drops, and merges the distinct rows of those it keeps.

    Parameters
    ----------
    summary : DataSummary
        The running summary read from the file.
    batches : sequence of DataSummary
        The window's batches read from the file.

    Raises
    ------
    ValueError
        Naming ``stream.batches`` and the statistic that does not add up.
    """
    if summary.rows is not None and any(b.rows is None for b in batches):
        # a batch without rows leaves the running summary without them
        raise ValueError("stream.batches: every batch keeps distinct rows where summary.rows does")
    slack = 1e-9 * max(1.0, float(summary.stats.n_rows))  # sums of whole counts, to rounding
    for f in fields(summary.stats):
        held = getattr(summary.stats, f.name)
        parts = [getattr(b.stats, f.name) for b in batches]
        if not all(isinstance(x, np.ndarray) or x is None for x in (held, *parts)):
            continue  # cardinality and n_rows: checked with the stream
        total = None if any(x is None for x in parts) else sum(parts)
        if (held is None) != (total is None) or (
            held is not None and not np.allclose(held, total, rtol=1e-9, atol=slack)
        ):
            raise ValueError(f"stream.batches: the batches' {f.name} do not add up to summary.stats.{f.name}")
    if summary.rows is not None:
        _check_window_rows(summary.rows, [b.rows for b in batches])


def _check_window_rows(held: Any, parts: list[Any]) -> None:
    """The window's batches' distinct rows (``stream.batches[i].rows``) merge into ``summary.rows``:
    the window subtracts a departing batch's rows from the summary's, which fails (or leaves the summary
    with rows no batch holds) where they do not.

    Every batch's rows are subtracted from the summary's in one merge, at the highest of their sampling
    levels, as the stream's own merges and subtractions compare them (one batch at a time, each merge
    re-sorted the growing total: 4.9 s to load a window of 100 batches of 3 000 distinct rows).

    Parameters
    ----------
    held : RowSummary
        ``summary.rows`` read from the file.
    parts : list of RowSummary
        ``stream.batches[i].rows``, oldest first.

    Raises
    ------
    ValueError
        Naming ``stream.batches`` and what does not add up.
    """
    left = held.signed_difference(parts).counts
    # whole counts cancel exactly; decayed ones (rows seen before a switch from forgetting) to rounding
    tol = 1e-9 * max(1.0, float(np.abs(held.counts).max(initial=0.0)))
    if (left < -tol).any():
        raise ValueError(
            "stream.batches: the batches' rows hold a row, or a count of it, that summary.rows does not"
        )
    if (left > tol).any():
        extra = left > tol
        raise ValueError(
            f"stream.batches: the batches' rows do not add up to summary.rows ({int(extra.sum())} distinct "
            f"row(s) of summary.rows, {float(left[extra].sum()):g} rows in all, are in no batch)"
        )
