"""``tripletws report``: one self-contained HTML report of a fitted model."""

from __future__ import annotations

import argparse
from typing import Any

from ..estimators.em_jit import jit_default
from ..matrix import check_label_matrix
from ..model import LabelModel
from .options import (
    CLIError,
    about_matrix,
    add_matrix_args,
    check_not_data,
    check_not_input,
    check_output_folder,
    checked_gold,
    load_labeler,
    read_gold,
    read_votes,
)


def add_parser(sub: Any) -> None:
    """Register the command's parser on the subparsers ``sub``."""
    p = sub.add_parser(
        "report",
        help="write one self-contained HTML report (plots of accuracies, coverage, conflicts, calibration)",
        description="Write an offline HTML report of a fitted model: LF accuracies with bootstrap "
        "intervals, coverage, overlap/conflict heatmaps, class balance, posterior confidence, "
        "dependency candidates, and with gold labels scores, calibration and a confusion matrix. "
        'Needs matplotlib (pip install "tripletws[report]").',
        epilog="example:\n  tripletws report model.json L_train.npy --gold y.npy -o report.html",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("MODEL", help="model file written by 'tripletws fit'")
    add_matrix_args(p)
    p.add_argument("--gold", default=None, metavar="Y_FILE", help="gold labels (-1 = unknown)")
    p.add_argument(
        "--y-key", default=None, metavar="NAME", help="array/column name of the gold labels (default: y)"
    )
    p.add_argument("--lf-names", default=None, metavar="A,B,...", help="comma-separated LF names")
    p.add_argument(
        "--n-boot",
        type=int,
        default=None,
        metavar="N",
        help="bootstrap replicates where the model keeps no intervals (default: 200, or none where two "
        "replicates project them past two minutes: each refits the model)",
    )
    p.add_argument("--seed", type=int, default=0, metavar="S", help="bootstrap seed (default: %(default)s)")
    p.add_argument("-o", "--output", required=True, metavar="REPORT.html", help="HTML file to write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..report import write_report

    check_not_data(args.output, "the report is one HTML file; name it .html")
    if str(args.output) == "-" or str(args.output).lower().endswith(".json"):
        raise CLIError(f"-o {args.output}: the report is one HTML file; name it .html")
    check_not_input(args.output, args.MODEL, args.L_FILE, args.gold)
    check_output_folder(args.output)  # before the work, not after it
    model = load_labeler(args.MODEL)
    if not isinstance(model, LabelModel):
        raise CLIError(f"report needs a LabelModel file; {args.MODEL} holds a {type(model).__name__}")
    k = int(model.cardinality)
    L, names = read_votes(args.L_FILE, args.key, args.header, expected=getattr(model, "lf_names_", None))
    with about_matrix(args.L_FILE, names):
        lm = check_label_matrix(L, k, scan=True)
    y = None
    if args.gold is not None:
        y = checked_gold(args.gold, read_gold(args.gold, args.y_key), lm.n, k)
    # (without --lf-names: the names of the columns the model was fitted on, where it kept them)
    names = [s.strip() for s in args.lf_names.split(",")] if args.lf_names else None
    try:
        # the report's bootstrap refits the model (200 times by default): the compiled EM
        # (tripletws[fast]) pays for loading numba here, unlike the command line's single fits
        # (TRIPLETWS_JIT still wins)
        with jit_default(True):
            path = write_report(
                model, lm, args.output, y, lf_names=names, n_boot=args.n_boot, random_state=args.seed
            )
    except ImportError as exc:
        raise CLIError(str(exc)) from exc
    print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB; opens offline in any browser)")
    return 0
