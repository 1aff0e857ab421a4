"""``tripletws dependencies``: LF pairs that agree more than the model explains."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from ..baselines import MajorityLabelVoter
from .options import (
    CLIError,
    about_matrix,
    add_header_arg,
    fmt_value,
    json_safe,
    load_labeler,
    read_votes,
    table,
)


def add_parser(sub: Any) -> None:
    """Register the command's parser on the subparsers ``sub``."""
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser(
        "dependencies",
        help="list LF pairs that agree more than the symmetric model explains (likely dependencies)",
        description="Compare each LF pair's agreement with the symmetric model's prediction (solved from the "
        "statistics the model was fitted on); large z = "
        "likely undeclared dependency (declare it with 'fit --dependencies').",
        epilog="example:\n  tripletws dependencies model.json L_train.npy --top 10",
        formatter_class=fmt,
    )
    p.add_argument("MODEL", help="model file written by 'tripletws fit'")
    p.add_argument(
        "L_FILE", nargs="?", default=None, help="label matrix to test (default: the model's own statistics)"
    )
    p.add_argument("--key", default=None, metavar="NAME", help="array name in an .npz archive (default: L)")
    add_header_arg(p)
    p.add_argument("--top", type=int, default=None, metavar="N", help="show the first N pairs")
    p.add_argument("--alpha", type=float, default=0.05, help="family-wise level (default: %(default)s)")
    p.add_argument("--min-covotes", type=int, default=10, metavar="N", help="(default: %(default)s)")
    p.add_argument("--include-declared", action="store_true", help="also list declared pairs")
    p.add_argument(
        "--cofiring",
        action="store_true",
        help="test the pairs of LFs that each vote one class only, naming different classes, by how often "
        "they fire together (more than chance: a shared feature, or an LF firing on the other's class) "
        "instead of the agreement test",
    )
    p.add_argument(
        "--min-expected",
        type=float,
        default=5.0,
        metavar="N",
        help="--cofiring: pairs expected to fire together on fewer rows are not tested "
        "(default: %(default)s)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..diagnostics import dependency_candidates, untested_pairs
    from ..stats import compute_stats

    if args.top is not None and args.top < 1:
        raise CLIError(f"--top must be at least 1, got {args.top}")
    if args.min_covotes < 0:
        raise CLIError(f"--min-covotes must be 0 or more, got {args.min_covotes}")
    if not args.min_expected >= 0:  # (nan too)
        raise CLIError(f"--min-expected must be 0 or more, got {args.min_expected}")
    model = load_labeler(args.MODEL)
    if not hasattr(model, "accuracies_") or isinstance(model, MajorityLabelVoter):
        raise CLIError(f"{args.MODEL}: a fitted label model is needed (majority vote has no accuracies)")
    names = None
    stats = getattr(model, "stats_", None)
    if args.L_FILE is not None:
        expected = getattr(model, "lf_names_", None)
        data, names = read_votes(args.L_FILE, args.key, args.header, expected=expected)
        m = len(model.accuracies_)
        if data.shape[1] != m:  # (the library's message named neither file, and its argument 'data')
            raise CLIError(
                f"{args.L_FILE}: L has {data.shape[1]} LFs (columns) but {args.MODEL} was fitted with {m}"
            )
        with about_matrix(args.L_FILE, names):
            stats = compute_stats(data, int(model.cardinality))
    if args.cofiring:
        return _cofiring(args, stats, model, names)
    with about_matrix(args.L_FILE or args.MODEL, names):
        rows = dependency_candidates(
            stats,
            model,
            alpha=args.alpha,
            min_covotes=args.min_covotes,
            include_declared=args.include_declared,
            top=args.top,
            as_frame=False,
        )
    if _print_pairs(
        args,
        rows,
        f"LF pairs by excess agreement over the symmetric model's expectation ({_source(args)}); "
        f"suspect: Bonferroni p < {args.alpha}",
        ["co-votes", "agreement"],
        lambda r: [f"{r['n_covotes']:g}", fmt_value(r["agreement"])],
    ):
        return 0
    why = untested_pairs(stats, args.min_covotes) if stats is not None else None
    if not rows and why is not None:
        print(
            f"no pair tested: {why['few_covotes']} pair(s) share fewer than {args.min_covotes} co-votes "
            f"(--min-covotes), {why['one_class']} pair(s) of LFs that each vote one class only (their "
            "agreement says nothing about dependence)"
        )
    if why is not None and why["other_class"]:
        print(
            "pairs of one-class LFs naming different classes: --cofiring tests how often they fire together"
        )
    return 0


def _source(args: argparse.Namespace) -> str:
    return args.L_FILE or "the statistics stored in the model"


def _print_pairs(
    args: argparse.Namespace,
    rows: list[dict[str, Any]],
    title: str,
    columns: list[str],
    cells: Callable[[dict[str, Any]], list[str]],
) -> bool:
    """Print either test's rows: as JSON (``--json``; returns True), or under ``title`` as a table of the
    pair, the test's own ``columns`` (``cells`` of a row), expected, z, p adjusted and suspect."""
    if args.json:
        print(json.dumps(json_safe(rows), indent=2))
        return True
    print(title)
    header = ["pair", *columns, "expected", "z", "p adjusted", "suspect"]
    body = [
        [
            f"{r['lf_i']}-{r['lf_j']}" + (" (declared)" if r["declared"] else ""),
            *cells(r),
            fmt_value(r["expected"]),
            f"{r['z']:.2f}",
            f"{r['p_adjusted']:.2g}",
            "yes" if r["suspect"] else "",
        ]
        for r in rows
    ]
    print(table(header, body))
    return False


def _cofiring(args: argparse.Namespace, stats: Any, model: Any, names: Any) -> int:
    """The co-firing test of one-class LF pairs naming different classes (``--cofiring``)."""
    from ..diagnostics import cofiring_candidates

    with about_matrix(args.L_FILE or args.MODEL, names):
        rows = cofiring_candidates(
            stats,
            model,
            alpha=args.alpha,
            min_expected=args.min_expected,
            include_declared=args.include_declared,
            top=args.top,
            as_frame=False,
        )
    if _print_pairs(
        args,
        rows,
        "one-class LF pairs naming different classes, by excess co-firing over independent coins "
        f"({_source(args)}); under conditional independence such LFs fire together at most that often; "
        f"suspect: one-sided Bonferroni p < {args.alpha}",
        ["classes", "both fire"],
        lambda r: [f"{r['class_i']}-{r['class_j']}", fmt_value(r["cofiring"])],
    ):
        return 0
    if not rows:
        print(
            "no pair tested: no two LFs that each vote one class only, naming different classes, are "
            f"expected to fire together on {args.min_expected:g} rows or more (--min-expected)"
        )
    return 0
