"""``tripletws update``: online learning, add a batch to a saved model and re-solve."""

from __future__ import annotations

import argparse
import time
import warnings
from typing import Any

from ..estimators.class_balance import STRATEGIES
from ..matrix import LabelMatrixError
from ..model import LabelModel
from ..sequence import SequenceLabelModel
from .options import (
    CLIError,
    about_matrix,
    add_jobs_arg,
    add_matrix_args,
    add_sequence_args,
    check_not_data,
    check_not_input,
    check_output_folder,
    checked_gold,
    load_labeler,
    named,
    parse_class_balance,
    read_gold,
    read_votes,
    sequence_kwargs,
    set_jobs,
    use_jobs,
)


def add_parser(sub: Any) -> None:
    """Register the command's parser on the subparsers ``sub``."""
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser(
        "update",
        help="online learning: add a batch of rows to a saved model and re-solve",
        description="Add L_FILE's rows to the running statistics of a model file (partial_fit), re-solve "
        "(the default annotator model: its EM over all the distinct rows so far; the symmetric model: in "
        "closed form; every update re-solves, whatever the model's refit_growth) and write the model "
        "back. Without --forget/--window, fit on a first batch "
        "followed by updates with the others equals one fit on all rows. Sequence models (fit with "
        "--sequence) take --sequence-ids; a batch whose first id equals the previous batch's last id "
        "continues that sequence.",
        epilog="example:\n  tripletws fit batch0.npy -o model.json\n"
        "  tripletws update model.json batch1.npy --forget 0.99",
        formatter_class=fmt,
    )
    p.add_argument("MODEL", help="model file written by 'tripletws fit' or 'tripletws update'")
    add_matrix_args(p)
    p.add_argument(
        "-o", "--output", default=None, metavar="MODEL.json", help="where to write (default: MODEL, in place)"
    )
    add_sequence_args(p)
    aging = p.add_mutually_exclusive_group()
    aging.add_argument(
        "--forget",
        type=float,
        default=None,
        metavar="F",
        help="exponential forgetting factor in (0, 1] (LabelModel files)",
    )
    aging.add_argument("--window", type=int, default=None, metavar="W", help="keep only the last W batches")
    prior = p.add_mutually_exclusive_group()
    prior.add_argument(
        "--class-balance", default=None, metavar="P0,P1,...", help="class prior for this and later batches"
    )
    prior.add_argument("--y-dev", default=None, metavar="FILE", help="dev gold labels; prior = frequencies")
    p.add_argument("--y-key", default=None, metavar="NAME", help="array/column name in --y-dev (default: y)")
    add_jobs_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Online learning: add a batch to a saved model's running statistics and re-solve."""
    if args.output is not None:
        check_not_data(args.output, "a model file is JSON; name it .json")
    # (the model file itself is the default output: an update in place)
    check_not_input(args.output, args.L_FILE, args.y_dev, getattr(args, "sequence_ids", None))
    check_output_folder(args.output)  # before the work, not after it
    model = load_labeler(args.MODEL)
    if not isinstance(model, (LabelModel, SequenceLabelModel)):
        raise CLIError(f"{args.MODEL}: a {type(model).__name__} does not learn; only label models update")
    chain = isinstance(model, SequenceLabelModel)
    if chain and (args.forget is not None or args.window is not None):
        raise CLIError("--forget/--window (batches) apply to LabelModel files, not to sequence models")
    # --forget and --window exclude each other (argparse); the one given replaces the other's stored value
    given = {"forget": args.forget, "window": args.window}
    aging = next((name for name, value in given.items() if value is not None), None)
    if aging is not None:
        other = "window" if aging == "forget" else "forget"
        stored = getattr(model, other, None)
        if stored is not None:
            what = (
                f"the window of {stored} batches"
                if other == "window"
                else f"the forgetting factor {stored:g}"
            )
            warnings.warn(
                f"--{aging} {given[aging]:g} replaces {what} stored in {args.MODEL}",
                UserWarning,
                stacklevel=2,
            )
        model.set_params(**{aging: given[aging], other: None})
    k = int(model.cardinality)
    L, names = read_votes(args.L_FILE, args.key, args.header, expected=getattr(model, "lf_names_", None))
    m = int(model.frame_model_.n_lfs_) if chain else L.shape[1]  # (a LabelModel's stream names the file)
    if L.shape[1] != m:  # (a sequence model's own message named neither file)
        raise CLIError(
            f"{args.L_FILE}: the batch has {L.shape[1]} LFs (columns) but {args.MODEL} was fitted with {m}"
        )
    if args.class_balance in STRATEGIES:
        raise CLIError("update takes --class-balance as k probabilities (the model keeps its own setting)")
    _, prior = parse_class_balance(args.class_balance)
    y_dev = (
        None
        if args.y_dev is None
        else checked_gold(args.y_dev, read_gold(args.y_dev, args.y_key), None, k, name="Y_dev")
    )
    extra = sequence_kwargs(model, args, L.shape[0])
    own_jobs = use_jobs(model, args.jobs)
    t0 = time.perf_counter()
    try:
        with about_matrix(args.L_FILE, names):
            model.partial_fit(named(L, names), Y_dev=y_dev, class_balance=prior, **extra)
        if not chain:  # a command is no stream of small batches: its model file is solved on every row
            model.refit()
    except LabelMatrixError as exc:
        if "outside 0.." not in str(exc):
            raise
        raise CLIError(
            f"{exc}; the model file was fitted with k={k} classes, fixed for its stream (a class that the "
            "first batch never voted needs 'fit --cardinality')"
        ) from exc
    elapsed = time.perf_counter() - t0
    output = args.output or args.MODEL
    set_jobs(model, own_jobs)
    model.save(output)
    where = "" if chain else f" as batch {model.n_batches_} of the stream"
    print(
        f"added {L.shape[0]} rows{where} (running statistics: {model.stats_.n_rows:g} rows) "
        f"in {elapsed * 1e3:.1f} ms; wrote {output}"
    )
    return 0
