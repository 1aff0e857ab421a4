"""``tripletws explain``: why rows of a label matrix get their posterior (each LF's share)."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from ..model import LabelModel
from .options import CLIError, about_matrix, add_matrix_args, load_labeler, read_votes


def _rows(text: str) -> list[int]:
    """``--rows 3,17,-1`` -> [3, 17, -1] (checked against the matrix in :func:`run`)."""
    try:
        rows = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--rows must be comma-separated row numbers, got {text!r}"
        ) from None
    if not rows:
        raise argparse.ArgumentTypeError("--rows names no row")
    return rows


def add_parser(sub: Any) -> None:
    """Register the command's parser on the subparsers ``sub``."""
    p = sub.add_parser(
        "explain",
        help="show why rows get their label: each LF's term of the posterior's log-scores",
        description="For each row asked for, the class balance's and each LF's term of the model's "
        "log-scores (in nats, centred over the classes: what the LF's vote, or its abstention, adds to "
        "each class), their sum and the posterior. Abstentions add nothing where the model reads them as "
        "'not assigned'; where it reads them as evidence of the class, their terms show how much.",
        epilog="examples:\n  tripletws explain model.json L_test.npy --rows 0,17\n"
        "  tripletws explain model.json L_test.csv --rows 5 --top 0   # every LF with a term",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("MODEL", help="model file written by 'tripletws fit' or 'tripletws update'")
    add_matrix_args(p)
    p.add_argument(
        "--rows", type=_rows, required=True, metavar="R[,R...]", help="rows to explain (0-based; -1 = last)"
    )
    p.add_argument(
        "--top",
        type=int,
        default=10,
        metavar="N",
        help="LFs listed one by one per row, largest terms first; the rest summed (default 10; 0: all)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.top < 0:
        raise CLIError(f"--top must be 0 (every LF) or a positive count, got {args.top}")
    model = load_labeler(args.MODEL)
    if not isinstance(model, LabelModel):
        raise CLIError(
            f"{args.MODEL}: a {type(model).__name__} has no per-LF terms to show; explain reads label models"
        )
    L, names = read_votes(args.L_FILE, args.key, args.header, expected=getattr(model, "lf_names_", None))
    n = L.shape[0]
    bad = [r for r in args.rows if not -n <= r < n]
    if bad:
        raise CLIError(f"{args.L_FILE}: row {bad[0]} is out of range: the matrix has {n} rows (0..{n - 1})")
    picked = np.asarray([r % n for r in args.rows], dtype=np.int64)
    rows = L[picked]
    with about_matrix(args.L_FILE, names):
        explanation = model.explain(rows)
    for j, r in enumerate(picked):
        text = explanation.table(j, top=None if args.top == 0 else args.top)
        print(text.replace(f"row {j}:", f"row {int(r)}:", 1))
        print()
    return 0
