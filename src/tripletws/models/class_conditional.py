"""The class-conditional (Dawid-Skene) label model: a full vote table per LF and class.

Closed form from second and third moments
(:func:`tripletws.estimators.class_conditional.estimate_class_conditional`),
optionally polished by EM over the distinct rows (:func:`tripletws.estimators.em.em_refine`),
then checked against the LFs' majority on those rows: when the fit overrules a
strict majority on more than ``max_overrule`` of them, it has latched onto something
other than the class and the symmetric model's solution is used instead.
Declared dependencies are modelled by the symmetric model only.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import numpy as np

from ..checks import overrule_rate
from ..estimators.class_conditional import (
    ClassConditionalEstimate,
    estimate_class_conditional,
    symmetric_fallback,
)
from ..estimators.em import em_refine
from ..params import LabelModelParams
from ..rows import DEFAULT_MAX_UNIQUE_ROWS, RowSummary, check_rows_cap
from ..stats import LabelStats
from ..validate import check_float, check_int, check_mapping, check_str
from .base import Fit, Needs, Options, Prior, Solver, get_solver, register
from .notes import dependency_note, silent_lfs

_FLOATS = ("view_condition", "eigen_gap", "signal_to_noise", "misoriented")


def _diagnostics(fallback: str) -> dict[str, Any]:
    nan = float("nan")
    return {
        "fallback": fallback,
        "overrule_rate": nan,
        "em_steps_run": 0,
        "em_log_likelihood": nan,
        "em_sample_rate": 1.0,
    }


def _closed_form(stats: LabelStats, given: np.ndarray | None, options: Options):
    """The moment estimate, with whatever the estimator warned about as notes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = estimate_class_conditional(stats, given, eps=options.eps, solver=options.solver)
    return est, [str(w.message) for w in caught]


@register
class ClassConditional(Solver):
    name = "class_conditional"
    summary = "a full vote table per LF and class, abstain included (Dawid-Skene), in closed form"
    auto_prior = "estimate"

    def needs(self, options: Options, n_lfs: int) -> Needs:
        cap = DEFAULT_MAX_UNIQUE_ROWS if options.em_max_rows is None else int(options.em_max_rows)
        rows = cap if options.em_steps > 0 else check_rows_cap(n_lfs)
        return Needs(joint=True, triple=True, rows=rows)

    def solve(self, stats: LabelStats, prior: Prior, rows: RowSummary | None, options: Options) -> Fit:
        if stats.joint is None:
            raise ValueError(
                "the class-conditional model needs the joint vote table: "
                "compute_stats(L, k, joint=True, triple=True)"
            )
        if len(options.dependencies):
            fit = get_solver("symmetric").solve(stats, prior, rows, options)
            note = dependency_note(options.dependencies, self.name)
            return replace(fit, model=self.name, diagnostics=_diagnostics(note), notes=(note, *fit.notes))
        return self._solve_independent(stats, prior, rows, options)

    def _solve_independent(
        self, stats: LabelStats, prior: Prior, rows: RowSummary | None, options: Options
    ) -> Fit:
        k = stats.cardinality
        given = prior.value
        notes = silent_lfs(stats)
        never = np.flatnonzero(stats.class_counts.sum(axis=0) == 0)
        if never.size:
            notes.append(
                f"no LF ever votes for class(es) {never.tolist()}; their vote tables rest on abstentions only"
            )
        est, more = _closed_form(stats, given, options)
        notes += more
        params = est.params
        diag = _diagnostics(est.note)
        if rows is not None and options.em_steps > 0:
            em = em_refine(rows, params, int(options.em_steps), fix_class_balance=given is not None)
            params = em.params
            diag.update(em_steps_run=em.n_steps, em_log_likelihood=em.log_likelihood)
            diag["em_sample_rate"] = rows.sample_rate
            if rows.sample_rate < 1.0:
                notes.append(
                    f"L has more than {rows.max_rows} distinct rows; EM runs on a sample of "
                    f"{rows.sample_rate:.3g} of the rows ({rows.n_unique} distinct rows). "
                    "Raise em_max_rows to use them all."
                )
        fell_back = est.method == "symmetric fallback" and diag["em_steps_run"] == 0

        def prediction_prior(fitted: LabelModelParams) -> tuple[np.ndarray, str]:
            if given is not None:
                return given, prior.source
            if prior.source == "uniform" or fell_back:
                return np.full(k, 1.0 / k), "uniform"
            return fitted.class_balance, "estimated"

        p, source = prediction_prior(params)
        if rows is not None and not fell_back:
            rate = overrule_rate(rows, LabelModelParams(p, params.cond_probs), options.chunk_size)
            diag["overrule_rate"] = rate
            if rate > options.max_overrule:
                diag["fallback"] = (
                    f"the class-conditional fit overrules a strict LF majority on {rate:.1%} of the "
                    f"training rows that have one (max_overrule={options.max_overrule})"
                )
                notes.append(f"{diag['fallback']}; using the symmetric model's solution instead")
                params = symmetric_fallback(stats, given, options.eps, options.solver)
                fell_back = True
                p, source = prediction_prior(params)
        elif rows is None and not fell_back and options.max_overrule < 1.0:
            # statistics without rows (fit_stats, blocks reduced by tripletws.distributed): the check
            # cannot count overruled majorities, and a fit it would refuse goes unchecked
            notes.append(
                "the majority check (max_overrule) was not run: it counts the rows whose strict LF majority "
                "the fit overrules, and these statistics hold no rows (fit_stats, statistics reduced from "
                "blocks); fit(L) or fit(dask_array) runs it, or the default annotator model"
            )
        return Fit(
            self.name,
            LabelModelParams(p, params.cond_probs),
            params.class_balance,
            source,
            est,
            diagnostics=diag,
            notes=tuple(notes),
        )

    def estimate_to_dict(self, estimate: Any) -> dict[str, Any]:
        if not isinstance(estimate, ClassConditionalEstimate):  # after dependencies: the symmetric one
            return {"symmetric": get_solver("symmetric").estimate_to_dict(estimate)}
        from .record import finite_or_none, params_to_dict

        out: dict[str, Any] = {
            "params": params_to_dict(estimate.params),
            "method": estimate.method,
            "n_iter": int(estimate.n_iter),
            "note": estimate.note,
        }
        out.update({name: finite_or_none(getattr(estimate, name)) for name in _FLOATS})
        return out

    def estimate_from_dict(self, d: Any, params: LabelModelParams) -> Any:
        if isinstance(d, dict) and "symmetric" in d:
            d = check_mapping(d, "estimate", ("symmetric",))
            return get_solver("symmetric").estimate_from_dict(d["symmetric"], params)
        from .record import params_from_dict

        d = check_mapping(d, "estimate", ("params", "method"), ("n_iter", "note", *_FLOATS))
        closed = params_from_dict(d["params"], "estimate.params")
        if closed.cond_probs.shape != params.cond_probs.shape:
            raise ValueError("estimate.params: closed-form and fitted tables disagree in shape")
        floats = {n: check_float(d.get(n), f"estimate.{n}", -1e300, 1e300, nullable=True) for n in _FLOATS}
        return ClassConditionalEstimate(
            closed,
            check_str(d["method"], "estimate.method", max_len=200),
            n_iter=check_int(d.get("n_iter", 0), "estimate.n_iter", 0, 10**9),
            note=check_str(d.get("note", ""), "estimate.note"),
            **floats,
        )
