"""``tripletws fit``: fit a label model on a label matrix and save it."""

from __future__ import annotations

import argparse
import time
import warnings
from typing import Any

import numpy as np

from ..estimators import SIGNS, SOLVERS
from ..estimators.em_jit import jit_default
from ..intervals import MAX_BOOT
from ..matrix import check_label_matrix
from ..model import LabelModel
from ..models import registered
from ..models.base import dev_choice_line
from ..sequence import SequenceLabelModel
from ..settings import check_dev_rule
from .options import (
    CLIError,
    about_matrix,
    add_jobs_arg,
    add_matrix_args,
    add_sequence_args,
    annotator_defaults,
    check_not_data,
    check_not_input,
    check_output_folder,
    checked_gold,
    named,
    parse_class_balance,
    parse_dependencies,
    read_gold,
    read_sequence_ids,
    read_votes,
    set_jobs,
)


# Over 60 lines: argparse declarations, one per option of `fit`; splitting them would hide the
# command's surface.
def _dev_rule(text: str) -> str | float:
    """``--dev-rule``: a number where the text is one, checked by the library's own rule."""
    try:
        value: str | float = float(text)
    except ValueError:
        value = text
    try:
        return check_dev_rule(value, "annotator", stacklevel=1)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parser(sub: Any) -> None:
    """Register the command's parser on the subparsers ``sub``."""
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser(
        "fit",
        help="fit a label model on a label matrix and save it as JSON",
        description="Fit a label model on L (no gold labels needed) and write the model file.",
        epilog="example:\n  tripletws fit L_train.npy -o model.json --class-balance 0.8,0.2",
        formatter_class=fmt,
    )
    add_matrix_args(p)
    p.add_argument("-o", "--output", required=True, metavar="MODEL.json", help="model file to write (JSON)")
    p.add_argument(
        "--cardinality", "-k", type=int, default=None, metavar="K", help="number of classes (default: from L)"
    )
    p.add_argument(
        "--model",
        choices=registered(),
        default=None,
        help="label model (default: annotator; sequences: symmetric)",
    )
    p.add_argument("--solver", choices=SOLVERS, default="triplet_mean", help="solver (default: %(default)s)")
    p.add_argument("--signs", choices=SIGNS, default="all_positive", help="LF signs (default: %(default)s)")
    p.add_argument(
        "--class-balance",
        default=None,
        metavar="auto|uniform|estimate|P0,P1,...",
        help="class prior: auto (default: for annotator, uniform unless the balance check accepts an "
        "estimated one; estimate for class_conditional; uniform for symmetric), uniform, estimate (from L), "
        "or k probabilities",
    )
    p.add_argument(
        "--y-dev",
        default=None,
        metavar="FILE",
        help="dev gold labels: alone, the prior is their frequencies; with --L-dev, the gold of those rows",
    )
    p.add_argument(
        "--L-dev",
        dest="L_dev",
        default=None,
        metavar="FILE",
        help="default model: a few labelled dev rows (votes; gold in --y-dev, same --key/--header) choose "
        "among the candidate fits, the prior and the classes' names (fit(L, L_dev=, Y_dev=))",
    )
    p.add_argument(
        "--y-key",
        default=None,
        metavar="NAME",
        help="array/column name of the labels in --y-dev (default: y)",
    )
    p.add_argument(
        "--one-class",
        choices=("coverage", "shared"),
        default="coverage",
        help="default model, LFs that vote one class only: learned from how often they vote on each "
        "class where a gold-free check passes (default), or always majority vote's shared accuracy",
    )
    p.add_argument(
        "--copies",
        choices=("once", "keep"),
        default="once",
        help="default model, LFs whose outcomes agree far more often than independent LFs' would: "
        "each group counted once through one representative (default), or every LF counted",
    )
    p.add_argument(
        "--combine",
        choices=("none", "stack", "pseudo_bma"),
        default="none",
        help="default model: keep the one vote-only family chosen by held-out likelihood (default), "
        "or predict with their mixture weighted by stacking / pseudo-BMA+ weights (a study option)",
    )
    p.add_argument(
        "--balance-rule",
        choices=("crowd", "check"),
        default="crowd",
        help="default model: accept an estimated class balance where it keeps significantly more clear "
        "majorities and, with 'crowd' (the default), also on crowd-like rows where too few rows are clear",
    )
    p.add_argument(
        "--dev-rule",
        type=_dev_rule,
        default=None,
        metavar="RULE",
        help="with --L-dev: when the candidate with the best dev accuracy replaces the gold-free fit: "
        "'loo' (default: where that choice holds up with each dev row left out), 'any' (any lead), or a "
        "number of standard errors (e.g. 2: gold rows almost never cost against the gold-free fit)",
    )
    p.add_argument(
        "--chunk-size", type=int, default=None, metavar="ROWS", help="rows per chunk (bounds memory)"
    )
    add_jobs_arg(p)
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="S",
        help="random state stored with the model (true-random ties)",
    )
    p.add_argument(
        "--dependencies",
        default=None,
        metavar="I-J,...",
        help="dependent LF pairs, e.g. 0-6,3-4 (left out of the triplets, modelled jointly)",
    )
    p.add_argument(
        "--intervals",
        type=int,
        default=0,
        metavar="N_BOOT",
        help="also compute 95%% bootstrap intervals of the accuracies and class balance with N_BOOT "
        "replicates over 100 row chunks (shown by inspect and report; not for sequence models)",
    )
    seq = p.add_argument_group("sequences (rows are frames in order; any of these fits a sequence model)")
    seq.add_argument("--sequence", action="store_true", help="fit the chain model (one sequence unless ids)")
    add_sequence_args(seq)
    seq.add_argument(
        "--window", type=int, default=None, metavar="V", help="cut sequences into windows of V frames"
    )
    seq.add_argument(
        "--persistence",
        type=float,
        default=None,
        metavar="RHO",
        help="fix the label persistence instead of estimating it",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    L, names = read_votes(args.L_FILE, args.key, args.header)
    y_dev = None if args.y_dev is None else read_gold(args.y_dev, args.y_key)
    k = args.cardinality if args.cardinality is not None else _infer_cardinality(args.L_FILE, L, y_dev, names)
    prior_setting, prior = parse_class_balance(args.class_balance)
    dependencies = parse_dependencies(args.dependencies)
    sequence = args.sequence or args.sequence_ids is not None or args.window is not None
    sequence = sequence or args.persistence is not None
    _check_combinations(args, sequence)
    model: LabelModel | SequenceLabelModel
    if sequence:
        if args.model not in (None, "symmetric"):
            raise CLIError(f"--model {args.model} has no sequence version; sequences use the symmetric model")
        model = SequenceLabelModel(
            cardinality=k,
            window=args.window,
            persistence=args.persistence,
            solver=args.solver,
            signs=args.signs,
            dependencies=dependencies,
            class_balance=prior_setting,
            chunk_size=args.chunk_size,
            random_state=args.seed,
        )
    else:
        model = LabelModel(
            cardinality=k,
            model=args.model or "annotator",
            solver=args.solver,
            one_class=args.one_class,
            copies=args.copies,
            combine=args.combine,
            balance_rule=args.balance_rule,
            dev_rule="loo" if args.dev_rule is None else args.dev_rule,
            signs=args.signs,
            dependencies=dependencies,
            class_balance=prior_setting,
            chunk_size=args.chunk_size,
            n_jobs=args.jobs,
            random_state=args.seed,
        )
    if y_dev is not None:
        y_dev = checked_gold(args.y_dev, y_dev, None, k, name="Y_dev")
    L_dev = None
    if args.L_dev is not None:
        if y_dev is None:
            raise CLIError("--L-dev needs the gold labels of its rows: pass --y-dev as well")
        if sequence:
            raise CLIError("--L-dev chooses among the default model's fits; sequences take --y-dev only")
        with about_matrix(args.L_dev):  # (its names are those of L, checked by read_votes)
            L_dev, dev_names = read_votes(args.L_dev, args.key, args.header, expected=names, shared=True)
            if y_dev.shape[0] != L_dev.shape[0]:
                raise CLIError(
                    f"{args.y_dev}: {y_dev.shape[0]} gold labels for the {L_dev.shape[0]} rows of "
                    f"--L-dev {args.L_dev}"
                )
            check_label_matrix(L_dev, k, name="L_dev", scan=True)
            L_dev = named(L_dev, dev_names)
    t0 = time.perf_counter()
    with about_matrix(args.L_FILE, names):
        if sequence:
            ids = read_sequence_ids(args, L.shape[0])
            model.fit(named(L, names), ids, Y_dev=y_dev, class_balance=prior)
        else:
            model.fit(named(L, names), L_dev=L_dev, Y_dev=y_dev, class_balance=prior)
            if args.intervals:  # N_BOOT refits: the compiled EM pays off here (TRIPLETWS_JIT still wins)
                with jit_default(True):
                    model.confidence_intervals(L, n_boot=args.intervals, random_state=args.seed)
    elapsed = time.perf_counter() - t0
    set_jobs(model, None)  # the file keeps the automatic choice (see use_jobs)
    model.save(args.output)
    n, m = L.shape
    inferred = (
        "" if args.cardinality is not None else " (inferred; set --cardinality if a class never appears)"
    )
    if isinstance(model, SequenceLabelModel):
        what = f"sequence label model (persistence {model.persistence_:.4f})"
    elif model.model == "annotator" and getattr(model, "fallback_", ""):  # e.g. declared dependencies
        what = f"annotator label model, solved by the symmetric model ({args.solver}) instead"
    else:
        what = f"{model.model} label model" + (f" ({args.solver})" if model.model == "symmetric" else "")
    print(f"fitted {what} on {n} rows x {m} LFs, k={k}{inferred}, in {elapsed:.3f} s; wrote {args.output}")
    choice = getattr(model, "dev_choice_", None)
    if choice:
        print(f"dev choice: {dev_choice_line(choice)}")
    return 0


def _check_combinations(args: argparse.Namespace, sequence: bool) -> None:
    """Refuse options that the rest of the command line would leave unused."""
    if sequence and args.intervals:
        raise CLIError("--intervals is not available for sequence models (their fit is not bootstrapped)")
    if args.intervals < 0 or args.intervals == 1 or args.intervals > MAX_BOOT:  # before the fit, not after it
        raise CLIError(
            f"--intervals takes 0 (none) or 2 to at most {MAX_BOOT} bootstrap replicates, "
            f"got {args.intervals}"
        )
    if args.class_balance is not None and args.y_dev is not None and args.L_dev is None:
        raise CLIError(
            "--class-balance and --y-dev both set the prior: give one (with --L-dev, --y-dev is the gold of "
            "its rows and --class-balance the prior)"
        )
    changed = [name for name, default in annotator_defaults().items() if getattr(args, name) != default]
    if sequence and changed:
        options = ", ".join("--" + name.replace("_", "-") for name in changed)
        raise CLIError(f"{options}: settings of the default (annotator) model; sequences are symmetric")
    if changed and args.model not in (None, "annotator"):  # saved with the model, ignored at every load
        options = ", ".join("--" + name.replace("_", "-") for name in changed)
        raise CLIError(f"{options}: settings of the default (annotator) model, not of --model {args.model}")
    if getattr(args, "sequence_key", None) is not None and getattr(args, "sequence_ids", None) is None:
        raise CLIError("--sequence-key names the ids' array in --sequence-ids: give --sequence-ids as well")
    if args.dev_rule is not None and args.L_dev is None:
        raise CLIError("--dev-rule says how gold rows choose the fit: it needs --L-dev and --y-dev")
    check_not_data(args.output, "a model file is JSON; name it .json (predictions: 'predict')")
    check_not_input(args.output, args.L_FILE, args.L_dev, args.y_dev, getattr(args, "sequence_ids", None))
    check_output_folder(args.output)  # before the work, not after it


def _infer_cardinality(path: str, L: np.ndarray, y: np.ndarray | None, names: list[str] | None = None) -> int:
    """k from the largest vote in L; a class that no LF votes below it is reported (a stray value?).

    The dev labels do not enlarge k: a gold label above L's largest vote is an error naming it (a
    class no LF ever votes is declared with --cardinality)."""
    with about_matrix(path, names):
        lm = check_label_matrix(L, None, name="L")
    k = lm.cardinality
    # the votes per class, block by block, a memmap's pages handed back behind each block (read
    # whole, they stayed resident: a 1 GB .npy peaked at 1 GB); values are valid here
    counts = np.zeros(k + 1, dtype=np.int64)
    step = max(1, (1 << 20) // max(1, L.shape[1]))
    first = None
    for start, raw in lm.chunks(step):
        block = (raw.toarray() - 1 if lm.is_sparse else np.asarray(raw)).astype(np.int64, copy=False)
        counts += np.bincount(block.ravel() + 1, minlength=k + 1)
        if first is None and (block == k - 1).any():
            r, c = np.argwhere(block == k - 1)[0]
            first = (start + int(r), int(c))
    missing = np.flatnonzero(counts[1:] == 0)
    if missing.size and first is not None:
        # class 0 alone unvoted, among three or more: the classes are most likely numbered from 1
        one_based = (
            f"; if the classes are numbered 1..{k - 1}, renumber them 0..{k - 2} (every vote but -1 minus 1)"
            if missing.tolist() == [0] and k >= 3
            else ""
        )
        warnings.warn(
            f"{path}: k={k} inferred from the largest vote {k - 1} (first at row {first[0]}, column "
            f"{first[1]}), but no LF votes class(es) {missing.tolist()}: if {k - 1} is a stray value, "
            f"fix it; else set --cardinality{one_based}",
            UserWarning,
            stacklevel=2,
        )
    if y is not None and y.size:
        labels = np.asarray(y)
        numeric = labels.dtype.kind in "iuf"
        above = np.flatnonzero(labels >= k) if numeric else np.array([], dtype=np.int64)
        if above.size:
            i = int(above[0])
            raise CLIError(
                f"--y-dev has value {labels[i].item()!r} at position {i}, but L's largest vote is {k - 1} "
                f"(k={k} inferred from L): set --cardinality if the class exists"
            )
    return k
