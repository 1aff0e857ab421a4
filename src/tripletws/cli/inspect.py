"""``tripletws inspect``: the learned parameters and settings of a model file."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..model import LabelModel
from ..models.base import (
    balance_text,
    dev_choice_line,
    family_row,
    overrule_line,
    prediction_prior_text,
    selection_line,
    shrinkage_line,
)
from ..sequence import SequenceLabelModel
from .options import (
    annotator_defaults,
    fmt_value,
    json_safe,
    load_labeler,
    table,
)


def add_parser(sub: Any) -> None:
    """Register the command's parser on the subparsers ``sub``."""
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser(
        "inspect",
        help="show a model's parameters (per-LF accuracy and coverage, class balance)",
        description="Print the learned parameters and settings of a model file.",
        formatter_class=fmt,
    )
    p.add_argument("MODEL", help="model file written by 'tripletws fit'")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    model = load_labeler(args.MODEL)
    params = model.get_params()
    chain: SequenceLabelModel | None = None
    if isinstance(model, SequenceLabelModel):
        chain, model = model, model.frame_model_
    if not isinstance(model, LabelModel):
        if args.json:
            print(json.dumps(json_safe({"class": type(model).__name__, "settings": params}), indent=2))
        else:
            print(f"{type(model).__name__} (no learned parameters)")
            print("settings: " + ", ".join(f"{k}={v!r}" for k, v in params.items()))
        return 0
    if args.json:
        print(json.dumps(json_safe(_record(model, params, chain)), indent=2))
    else:
        _print_text(model, chain)
    return 0


def _estimates(model: LabelModel) -> tuple[Any, Any]:
    """The closed-form estimate if it has a ``method``, and the per-LF triplet estimate if any.

    Read by duck typing, so a new label model needs no code here.
    """
    est = getattr(model, "estimate_", None)
    closed_form = est if hasattr(est, "method") else None
    per_lf = est if all(hasattr(est, a) for a in ("estimated", "n_candidates", "below_chance")) else None
    return closed_form, per_lf


def _whole(x: float) -> int | float:
    """A row count as an int where whole (forgetting streams weight their rows)."""
    return int(x) if float(x).is_integer() else float(x)


def _record(model: LabelModel, params: dict[str, Any], chain: SequenceLabelModel | None) -> dict[str, Any]:
    closed_form, est = _estimates(model)
    record = {
        "class": type(model).__name__,
        "settings": params,
        "n_rows": _whole(model.stats_.n_rows),  # whole, unless a forgetting stream weighted its rows
        "pending_rows": _whole(model.pending_rows_),
        "solved_rows": _whole(model.solved_rows_),
        "n_lfs": model.n_lfs_,
        "lf_names": None if getattr(model, "lf_names_", None) is None else list(model.lf_names_),
        "class_names": None if getattr(model, "class_names_", None) is None else list(model.class_names_),
        "class_balance": model.class_balance_,
        "class_balance_source": model.class_balance_source_,
        "accuracies": model.accuracies_,
        "coverage": model.coverage_,
    }
    if est is not None:
        record["estimated"] = est.estimated
        record["n_triplets"] = est.n_candidates
        record["below_chance"] = est.below_chance
    if closed_form is not None:
        record.update(_class_conditional_record(model, closed_form))
    record.update(model.solution_.choices())
    record["dependencies"] = model.dependencies_
    record["coupling"] = model.coupling_
    if getattr(model, "intervals_", None) is not None:
        record["intervals"] = model.intervals_.to_dict()
    if chain is not None:
        record.update(
            {
                "class": type(chain).__name__,
                "settings": chain.get_params(),
                "persistence": chain.persistence_,
                "tau": chain.tau_,
                "transition": chain.transition_,
                "n_frame_pairs": chain.cross_stats_.n_pairs,
            }
        )
    return record


def _print_text(model: LabelModel, chain: SequenceLabelModel | None) -> None:
    closed_form, est = _estimates(model)
    if chain is not None:
        stay = ", ".join(
            f"P({c}->{c})={chain.transition_[c, c]:.4f}" for c in range(chain.transition_.shape[0])
        )
        source = (
            "fixed (--persistence)"
            if chain.persistence is not None
            else f"from {chain.cross_stats_.n_pairs:g} consecutive frame pairs"
        )
        print(
            f"SequenceLabelModel: window={chain.window}, persistence rho={chain.persistence_:.4f} "
            f"({stay}), {source}; per frame:"
        )
    # the closed-form solver's settings where a closed form was solved; the annotator's combination
    solved = model.model != "annotator" or getattr(model, "fallback_", None)
    setting = f"solver={model.solver}, signs={model.signs}, " if solved else ""
    for name, default in annotator_defaults().items():  # the annotator's settings where not the default
        value = getattr(model, name, None)
        if model.model == "annotator" and value not in (None, default):
            setting += f"{name}={value}, "
    pending = model.pending_rows_
    waiting = (
        f" ({pending:g} of them added since the last solve, made on {model.solved_rows_:g} rows, wait "
        "for the next one, see refit_growth; model.refit() solves them)"
        if pending
        else ""
    )
    print(
        f"{type(model).__name__}: model={model.model}, {setting}"
        f"k={model.cardinality}, fitted on {model.stats_.n_rows:g} rows x {model.n_lfs_} LFs{waiting}"
    )
    if closed_form is not None:
        info = _class_conditional_record(model, closed_form)
        line = f"class-conditional fit: {info['method']}"
        if info["fallback"]:
            line += f"; fell back to the symmetric solution: {info['fallback']}"
        print(line)
    edges, coupling = model.dependencies_, model.coupling_
    if len(edges):
        pairs = ", ".join(f"{i}-{j} (coupling {c:.3f})" for (i, j), c in zip(edges, coupling, strict=True))
        print(f"declared dependencies: {pairs}")
    prior = model.class_balance_
    labels = getattr(model, "class_names_", None)  # the labels a crowd fit's codes stand for
    if labels is not None and list(labels) != list(range(len(labels))):  # not when they are the codes
        print("classes: " + ", ".join(f"{c} = {label!r}" for c, label in enumerate(labels)))
    print(
        f"class balance ({model.class_balance_source_}): "
        + balance_text(model.fit_class_balance_)
        + prediction_prior_text(model.fit_class_balance_, prior)
    )
    ci = getattr(model, "intervals_", None)
    if ci is not None:
        from ..intervals import level_text

        bands = ", ".join(
            f"P(Y={c}) in [{lo:.4f}, {hi:.4f}]"
            for c, (lo, hi) in enumerate(zip(ci.class_balance_low, ci.class_balance_high, strict=True))
        )
        print(
            f"{level_text(ci.level)} bootstrap intervals ({ci.n_boot} replicates over "
            f"{ci.n_chunks} row chunks): " + bands
        )
    choices = model.solution_.choices()
    family = family_row(choices)
    if family is not None:
        print(f"{family[0]}: {family[1]}")
    if "selection" in choices:
        print(f"family choice: {selection_line(choices['selection'])}")
    if "overrule_rate" in choices:
        print(f"majority overruled: {overrule_line(choices['overrule_rate'])}")
    if "shrinkage" in choices:
        print(f"shrinkage: {shrinkage_line(choices['shrinkage'])}")
    if "dev_choice" in choices:
        print(f"dev choice: {dev_choice_line(choices['dev_choice'])}")
    for note in choices["notes"]:
        print(f"note: {note}")
    print(table(*_lf_table(model, est)))


def _lf_table(model: LabelModel, est: Any) -> tuple[list[str], list[list[str]]]:
    acc, cov = model.accuracies_, model.coverage_
    ci = getattr(model, "intervals_", None)
    names = getattr(model, "lf_names_", None)  # the fit's column names, where its input had them
    header = ["LF"] + (["name"] if names is not None else []) + ["coverage", "accuracy"]
    header += ["acc. low", "acc. high"] if ci is not None else []
    header += ["triplets", "note"] if est is not None else []
    rows = []
    for i in range(len(acc)):
        row = [str(i)] + ([str(names[i])] if names is not None else [])
        row += [fmt_value(cov[i]), fmt_value(acc[i])]
        if ci is not None:
            row += [fmt_value(ci.accuracy_low[i]), fmt_value(ci.accuracy_high[i])]
        if est is not None:
            note = ""
            if cov[i] == 0:
                note = "never votes (neutral)"
            elif not est.estimated[i]:
                note = "no usable triplet (mean accuracy)"
            elif est.below_chance[i]:
                note = "at or below chance"
            row += [str(int(est.n_candidates[i])), note]
        rows.append(row)
    return header, rows


def _class_conditional_record(model: LabelModel, closed_form: Any) -> dict[str, Any]:
    """Diagnostics of a fit with a closed-form ``method`` (the model's scalar diagnostics included)."""
    return {
        "method": closed_form.method,
        "fallback": "",
        **model.solution_.diagnostics,
        "fit_class_balance": model.fit_class_balance_,
        "signal_to_noise": getattr(closed_form, "signal_to_noise", float("nan")),
        "conditional_probs": model.params_.cond_probs,
    }
