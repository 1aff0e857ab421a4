"""``tripletws predict``: probabilities or hard labels for a label matrix."""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any

from ..files import write_array, write_csv
from ..predictions import TIE_BREAK_POLICIES, proba_columns
from .options import (
    CLIError,
    about_matrix,
    add_jobs_arg,
    add_matrix_args,
    add_sequence_args,
    check_not_input,
    check_output_path,
    load_labeler,
    read_votes,
    sequence_kwargs,
    use_jobs,
)


def add_parser(sub: Any) -> None:
    """Register the command's parser on the subparsers ``sub``."""
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser(
        "predict",
        help="write probabilities (n x k) or hard labels for a label matrix",
        description="Apply a fitted model to L and write P(Y | votes) or hard labels.\n\n"
        "The probability columns of a .csv or .parquet output are named p_<label> where the model\n"
        "keeps its classes' labels (a crowd model saved by 'tripletws aggregate --model-out'),\n"
        "else p_0, p_1, ... (the class codes), as 'aggregate --proba' names them; --hard writes\n"
        "the column 'label'. A .npz output holds the array 'probs' (--hard: 'labels').",
        epilog="examples:\n  tripletws predict model.json L.npy -o probs.npy\n"
        "  tripletws predict model.json L.csv --hard -o - | head",
        formatter_class=fmt,
    )
    p.add_argument("MODEL", help="model file written by 'tripletws fit'")
    add_matrix_args(p)
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="output .npy, .npz, .csv or .parquet; '-' = CSV on stdout",
    )
    p.add_argument("--hard", action="store_true", help="write hard labels (n,) instead of probabilities")
    p.add_argument(
        "--tie-break",
        choices=TIE_BREAK_POLICIES,
        default=None,
        help="for --hard (default: abstain -> -1)",
    )
    p.add_argument("--seed", type=int, default=None, metavar="S", help="seed for --tie-break true-random")
    add_sequence_args(p)
    add_jobs_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.tie_break is not None and not args.hard:
        raise CLIError("--tie-break applies to hard labels: add --hard (probabilities have no ties to break)")
    tie_break = args.tie_break or "abstain"
    if args.seed is not None and tie_break != "true-random":  # (a warning: scripts that always pass it)
        warnings.warn(
            "--seed ignored: it draws the ties of --hard --tie-break true-random only", stacklevel=2
        )
    check_output_path(args.output, (".npy", ".npz", ".csv", ".parquet"))
    check_not_input(args.output, args.MODEL, args.L_FILE, getattr(args, "sequence_ids", None))
    model = load_labeler(args.MODEL)
    if args.seed is not None:
        model.random_state = args.seed
    if args.hard:
        columns = ["label"]
    else:  # p_<label> where the model keeps its classes' labels (a crowd fit), else p_0, p_1, ...
        try:
            columns = proba_columns(int(model.cardinality), getattr(model, "class_names_", None))
        except ValueError as exc:
            raise CLIError(f"{args.MODEL}: {exc}") from exc
    L, names = read_votes(args.L_FILE, args.key, args.header, expected=getattr(model, "lf_names_", None))
    use_jobs(model, args.jobs)
    seq_kw = sequence_kwargs(model, args, L.shape[0])
    with about_matrix(args.L_FILE, names):
        if args.hard:
            out = model.predict(L, tie_break_policy=tie_break, **seq_kw)
        else:
            out = model.predict_proba(L, **seq_kw)
    if args.output == "-":
        try:
            write_csv(sys.stdout, out, columns)
        except BrokenPipeError:  # `... -o - | head`: main's own handling
            raise
        except (OSError, ValueError) as exc:  # closed or full standard output
            raise CLIError(f"-o -: cannot write the CSV to standard output ({exc})") from exc
    else:
        write_array(args.output, out, columns=columns, key="labels" if args.hard else "probs")
        what = "hard labels" if args.hard else "probabilities"
        print(f"wrote {what} of {out.shape[0]} rows to {args.output}", file=sys.stderr)
    return 0
