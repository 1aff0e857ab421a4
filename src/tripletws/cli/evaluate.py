"""``tripletws evaluate``: metrics of a model and of majority vote against gold labels."""

from __future__ import annotations

import argparse
import json
import warnings
from typing import Any

import numpy as np

from ..base import score_votes
from ..baselines import MajorityLabelVoter, accuracy_by_margin
from ..files import read_labels
from ..matrix import check_label_matrix, hint_flyingsquid_labels, voted_rows
from ..metrics import ALIASES, METRICS
from ..predictions import TIE_BREAK_POLICIES
from .options import (
    CLIError,
    about_matrix,
    add_matrix_args,
    add_sequence_args,
    checked_gold,
    fmt_value,
    json_safe,
    load_labeler,
    read_gold,
    read_votes,
    sequence_kwargs,
    table,
)


def add_parser(sub: Any) -> None:
    """Register the command's parser on the subparsers ``sub``."""
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser(
        "evaluate",
        help="score a model and majority vote against gold labels",
        description="Metrics of the label model and of majority vote, side by side.",
        epilog="examples:\n  tripletws evaluate model.json test.npz\n"
        "  tripletws evaluate model.json L_test.npy y_test.npy --metrics accuracy,f1,log_loss --json",
        formatter_class=fmt,
    )
    p.add_argument("MODEL", help="model file written by 'tripletws fit'")
    add_matrix_args(p)
    p.add_argument(
        "Y_FILE", nargs="?", default=None, help="gold labels (-1 = unknown); default: 'y' in an .npz L_FILE"
    )
    p.add_argument(
        "--gold", default=None, metavar="Y_FILE", help="the gold labels as an option (as 'report' takes them)"
    )
    p.add_argument(
        "--y-key", default=None, metavar="NAME", help="array/column name of the labels (default: y)"
    )
    p.add_argument(
        "--metrics",
        default=None,
        metavar="LIST",
        help=f"comma-separated, from {', '.join((*METRICS, *ALIASES))}, no_vote (the share of gold rows "
        "without a vote) "
        "(default: accuracy, f1 or f1_macro, coverage, brier)",
    )
    p.add_argument(
        "--tie-break",
        choices=TIE_BREAK_POLICIES,
        default="random",
        help="how a row whose top classes tie is labelled (default: %(default)s, one of them by a fixed "
        "hash of the row, so that "
        "both labelers are scored on every gold row; 'abstain' scores each on the rows it labels, "
        "as Snorkel's score does)",
    )
    p.add_argument("--seed", type=int, default=None, metavar="S", help="seed for --tie-break true-random")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_sequence_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    model = load_labeler(args.MODEL)
    k = int(model.cardinality)
    if args.gold is not None:
        if args.Y_FILE is not None:
            raise CLIError(f"gold labels given twice: Y_FILE {args.Y_FILE} and --gold {args.gold}; give one")
        args.Y_FILE = args.gold
    L, names = read_votes(args.L_FILE, args.key, args.header, expected=getattr(model, "lf_names_", None))
    if args.Y_FILE is not None:
        y = read_gold(args.Y_FILE, args.y_key)
    elif args.L_FILE.lower().endswith(".npz"):
        y = read_labels(args.L_FILE, args.y_key)
    else:
        raise CLIError(
            "no gold labels: give Y_FILE (or --gold Y_FILE), or an .npz L_FILE that holds an array 'y'"
        )
    with about_matrix(args.L_FILE, names):
        lm = check_label_matrix(L, k, scan=True)
    y = checked_gold(args.Y_FILE if args.Y_FILE is not None else args.L_FILE, y, lm.n, k)
    hint_flyingsquid_labels(y, k, "Y")  # the scores below run with UserWarnings off
    n_gold = int((y >= 0).sum())
    if n_gold == 0:
        raise CLIError("the gold labels are all -1 (unknown); nothing to evaluate")
    metrics = args.metrics.split(",") if args.metrics else _default_metrics(k)
    metrics = list(dict.fromkeys(s.strip() for s in metrics if s.strip()))  # each once, in order
    if not metrics:
        raise CLIError(f"--metrics {args.metrics!r} names no metric")
    # majority vote's tie-break drawn as the model's (--seed, else the seed saved with the model)
    seed = args.seed if args.seed is not None else getattr(model, "random_state", None)
    labelers = {"label model": model, "majority vote": MajorityLabelVoter(k, random_state=seed)}
    if args.seed is not None:
        model.random_state = args.seed
    seq_kw = sequence_kwargs(model, args, lm.n)
    n_silent = int(((y >= 0) & ~voted_rows(lm)).sum())
    results, voted, preds = {}, {}, {}
    # (about_matrix: an L of another width than the model's is named by its file, as predict names it)
    with warnings.catch_warnings(), about_matrix(args.L_FILE, names):
        warnings.simplefilter("ignore", UserWarning)  # the no-vote count is printed below
        for name, lab in labelers.items():
            kw = seq_kw if lab is model else {}
            # one posterior pass and one tie-break draw per labeler: both scores read the same predictions
            preds[name], probs = lab.predict(lm, return_probs=True, tie_break_policy=args.tie_break, **kw)
            results[name] = score_votes(lm, y, preds[name], probs, k, metrics, voted_only=False)
            voted[name] = score_votes(lm, y, preds[name], probs, k, metrics, voted_only=True)
    by_margin = accuracy_by_margin(lm, y, preds, k)
    overruled = None if seq_kw else _overruled(model, lm, y, preds)
    if args.json:
        record = {
            "n_rows": lm.n,
            "n_gold": n_gold,
            "n_gold_no_vote": n_silent,
            "cardinality": k,
            "tie_break": args.tie_break,
            "label_model": results["label model"],
            "majority_vote": results["majority vote"],
            "label_model_voted_rows": voted["label model"],
            "majority_vote_voted_rows": voted["majority vote"],
            "by_margin": {
                kind: {
                    "rows": rec["rows"],
                    "label_model": rec["label model"],
                    "majority_vote": rec["majority vote"],
                }
                for kind, rec in by_margin.items()
            },
        }
        if overruled is not None:
            record["overruled"] = overruled
        print(json.dumps(json_safe(record), indent=2))
        return 0
    print(f"{n_gold} gold rows (of {lm.n}), k={k}, tie-break: {args.tie_break}")
    print(
        f"{n_silent} gold rows ({n_silent / n_gold:.1%}) had no LF vote: 'all rows' predicts them from "
        "the class balance (and, for a model that reads abstentions, from which LFs abstained), "
        "'voted rows' leaves them out (as Snorkel does)"
    )
    header = ["metric"] + [f"{lab} ({which})" for lab in labelers for which in ("all rows", "voted rows")]
    rows = [
        [name] + [fmt_value(res[lab][name]) for lab in labelers for res in (results, voted)]
        for name in metrics
    ]
    print(table(header, rows))
    print(
        "accuracy by majority vote's margin (votes for its top class minus the next): a label model departs "
        "from majority vote on rows without a vote, on ties, and where it overrules a majority"
    )
    print(
        table(
            ["rows", "gold rows", *labelers],
            [
                [kind, str(rec["rows"]), *(fmt_value(rec[lab]) for lab in labelers)]
                for kind, rec in by_margin.items()
            ],
        )
    )
    if overruled is not None and "not_shown" in overruled:
        print(f"overruled majorities: not shown ({overruled['not_shown']})")
    elif overruled is not None and overruled["rows"]:
        drivers = ", ".join(
            f"{d['lf']} {d['rows']}" if d["by"] == "class balance" else f"{d['lf']} ({d['by']}) {d['rows']}"
            for d in overruled["drivers"][:_DRIVERS_SHOWN]
        )
        o = overruled
        print(
            "overruled majorities: the label model names another class than the LFs' strict majority on "
            f"{o['rows']} of {o['majority_rows']} rows; on their {o['gold_rows']} gold rows it is right on "
            f"{fmt_value(o['label model'])}, majority vote on {fmt_value(o['majority vote'])}; driven most "
            f"by {drivers}"
            + (
                f" (drivers counted on the first {o['drivers_of_rows']} of them)"
                if o["drivers_of_rows"] < o["rows"]
                else ""
            )
            + " (tripletws explain shows a row)"
        )
    if args.tie_break == "abstain":
        print(
            "label metrics use the rows where each labeler did not abstain (see coverage): the two "
            "labelers are scored on different rows"
        )
    return 0


#: Drivers of the overrules named on evaluate's line (all of them in --json).
_DRIVERS_SHOWN = 3


def _overruled(model: Any, lm: Any, y: np.ndarray, preds: dict[str, np.ndarray]) -> dict[str, Any] | None:
    """The rows where the label model overrules the LFs' strict majority: how many, each labeler's
    accuracy on their gold rows, and the LFs that drive them (:mod:`tripletws.overrules`); None for a
    model that is not a LabelModel; ``{"not_shown": why}`` for one without a single set of terms (a
    mixture of families)."""
    from ..model import LabelModel
    from ..overrules import overrule_drivers

    if not isinstance(model, LabelModel):
        return None
    try:
        d = overrule_drivers(model, lm.data)
    except ValueError as exc:  # a mixture of families: no single set of terms
        return {"not_shown": str(exc)}
    names = getattr(model, "lf_names_", None)
    gold = d.rows[y[d.rows] >= 0]
    return {
        "rows": len(d.rows),
        "majority_rows": int(d.n_majority),
        "gold_rows": len(gold),
        **{
            lab: float(np.mean(preds[lab][gold] == y[gold])) if len(gold) else float("nan")
            for lab in ("label model", "majority vote")
        },
        "drivers": [
            {
                "lf": "class balance" if lf < 0 else f"LF {lf}" if names is None else str(names[lf]),
                "by": by,
                "rows": n,
                "mean_push": push,
            }
            for lf, by, n, push in d.counts()
        ],
        "drivers_of_rows": len(d.examined),
    }


def _default_metrics(k: int) -> list[str]:
    return ["accuracy", "f1" if k == 2 else "f1_macro", "coverage", "brier"]
