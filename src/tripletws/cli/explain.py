"""``tripletws explain``: why rows of a label matrix get their posterior (each LF's share)."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from ..model import LabelModel
from .options import CLIError, about_matrix, add_matrix_args, load_labeler, read_votes


def _top(text: str) -> int | None:
    """``--top N`` -> N (0: no LF one by one), ``--top all`` -> None (every LF with a term)."""
    if text == "all":
        return None
    try:
        top = int(text)
    except ValueError:
        top = -1
    if top < 0:
        raise argparse.ArgumentTypeError(f"--top must be a count (0 or more) or 'all', got {text!r}")
    return top


def _rows(text: str) -> list[int]:
    """``--rows 3,17`` -> [3, 17] (checked against the matrix in :func:`run`)."""
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
        "  tripletws explain model.json L_test.csv --rows 5 --top all   # every LF with a term",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("MODEL", help="model file written by 'tripletws fit' or 'tripletws update'")
    add_matrix_args(p)
    p.add_argument(
        "--rows",
        type=_rows,
        nargs="+",
        required=True,
        metavar="R",
        help="rows to explain, 0-based, separated by spaces or commas (-1 = the last: --rows -1 0, or "
        "--rows=-1,0)",
    )
    p.add_argument(
        "--top",
        type=_top,
        default=10,
        metavar="N",
        help="LFs listed one by one per row, largest terms first, the rest summed in one line (default "
        "10; 'all': every LF with a term)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    asked = [r for part in args.rows for r in part]
    model = load_labeler(args.MODEL)
    if not isinstance(model, LabelModel):
        raise CLIError(
            f"{args.MODEL}: a {type(model).__name__} has no per-LF terms to show; explain reads label models"
        )
    L, names = read_votes(args.L_FILE, args.key, args.header, expected=getattr(model, "lf_names_", None))
    n = L.shape[0]
    bad = [r for r in asked if not -n <= r < n]
    if bad:
        raise CLIError(f"{args.L_FILE}: row {bad[0]} is out of range: the matrix has {n} rows (0..{n - 1})")
    picked = np.asarray([r % n for r in asked], dtype=np.int64)
    rows = L[picked]
    with about_matrix(args.L_FILE, names):
        explanation = model.explain(rows)
    for j, r in enumerate(picked):
        text = explanation.table(j, top=args.top)
        print(text.replace(f"row {j}:", f"row {int(r)}:", 1))
        print()
    return 0
