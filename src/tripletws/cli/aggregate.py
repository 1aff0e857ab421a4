"""``tripletws aggregate``: crowdsourced answers in long form (task, worker, label) -> one label per task.

The command line's crowd-kit ``fit_predict``: read the answers (.csv or .parquet), fit the default
label model with the workers as its labeling functions (:mod:`tripletws.crowd`), and write each
task's label, and with ``--proba`` its class probabilities, under the task ids and labels of the
input.  ``--model-out`` also saves the fitted model (its LFs named by the worker ids).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_all
from ..crowd import DUPLICATES, predict_tasks
from ..models import registered
from ..predictions import TIE_BREAK_POLICIES, proba_columns
from .options import (
    CLIError,
    add_jobs_arg,
    check_not_data,
    check_not_input,
    check_output_folder,
    check_output_path,
    use_jobs,
)

#: What the command reads and writes.
SUFFIXES = (".csv", ".parquet")


def add_parser(sub: Any) -> None:
    """Register the command's parser on the subparsers ``sub``."""
    p = sub.add_parser(
        "aggregate",
        help="crowd answers (task, worker, label rows) -> one label per task",
        description="Read crowdsourced answers in long form (one row per task, worker and label; "
        "crowd-kit's layout), fit a label model (--model; by default the annotator model) with the "
        "workers as its labeling functions, "
        "and write each task's label (and with --proba its class probabilities).",
        epilog="examples:\n  tripletws aggregate answers.csv -o labels.csv\n"
        "  tripletws aggregate answers.parquet --proba --model-out crowd.json -o labels.parquet\n"
        "  tripletws aggregate votes.csv --task item --worker annotator --label answer -o - | head",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("ANSWERS", help="answers: .csv (with a header row) or .parquet, one row per answer")
    p.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="output .csv or .parquet; '-' = CSV on stdout"
    )
    p.add_argument("--task", default="task", metavar="COL", help="the task column (default: task)")
    p.add_argument(
        "--worker",
        default=None,
        metavar="COL",
        help="the worker column (default: worker, or performer where there is no worker column)",
    )
    p.add_argument("--label", default="label", metavar="COL", help="the label column (default: label)")
    p.add_argument(
        "--classes",
        default=None,
        metavar="A,B,...",
        help="the labels in class order, comma-separated (default: 0..max for whole numbers that use at "
        "least half of it, else the labels sorted); a label of the answers not named is an error",
    )
    p.add_argument(
        "--duplicates",
        choices=DUPLICATES,
        default="error",
        help="a worker's second answer to a task: an error (default), or keep the first / last",
    )
    p.add_argument("--proba", action="store_true", help="also write one probability column per class")
    p.add_argument(
        "--tie-break",
        choices=TIE_BREAK_POLICIES,
        default="random",
        help="tasks whose top classes tie (default: random, a fixed hash of the row; abstain: empty)",
    )
    p.add_argument("--seed", type=int, default=None, metavar="S", help="seed for --tie-break true-random")
    p.add_argument("--model-out", default=None, metavar="FILE", help="also save the fitted model (.json)")
    p.add_argument(
        "--model",
        choices=[*registered(), "mv"],
        default="annotator",
        help="label model (default: annotator); mv: majority vote, which also aggregates fewer than "
        "three workers",
    )
    p.add_argument(
        "--max-rows",
        type=int,
        default=None,
        metavar="N",
        help="distinct tasks the model fits on (default 20 000; past it a hash sample): more gives each "
        "worker more of its answers on large crowds, at a cost in time and memory (LabelModel's em_max_rows)",
    )
    p.add_argument(
        "--gold",
        default=None,
        metavar="FILE",
        help="known labels of some tasks (.csv or .parquet with the task and label columns): prints the "
        "accuracy on them, and majority vote's",
    )
    add_jobs_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas is in the dev extra
        raise CLIError("aggregate reads tables with pandas: pip install 'tripletws[pandas]'") from exc
    from ..baselines import MajorityLabelVoter
    from ..crowd import _fit_votes, from_answers
    from ..io import model_text
    from ..model import LabelModel

    if args.max_rows is not None and args.max_rows < 1:
        raise CLIError(f"--max-rows must be a positive number of tasks, got {args.max_rows}")
    if args.max_rows is not None and args.model != "annotator":
        raise CLIError(
            f"--max-rows caps the rows the default (annotator) model fits, not --model {args.model}"
        )
    if args.seed is not None and args.tie_break != "true-random":
        raise CLIError("--seed draws the ties of --tie-break true-random only")
    check_output_path(args.output, SUFFIXES)
    if args.output != "-" and Path(args.output).suffix.lower() == ".parquet":
        _check_parquet_writer(args.output)
    check_not_input(args.output, args.ANSWERS, args.model_out)
    if args.model_out is not None:
        check_not_data(args.model_out, "--model-out writes a model file (.json), not a data file")
        check_output_folder(args.model_out, "--model-out")
        check_not_input(args.model_out, args.ANSWERS)
        if str(args.model_out) == "-":
            raise CLIError("--model-out -: name a file")
    if args.gold is not None:
        check_not_input(args.output, args.gold)
        if args.model_out is not None:
            check_not_input(args.model_out, args.gold)
    answers = _read_answers(args.ANSWERS, args, pd)
    gold_table = None if args.gold is None else _read_answers(args.gold, args, pd, what="gold labels")
    if args.classes is None:
        classes = None
    else:  # a missing label column is from_answers' error, which names the columns
        classes = _parse_classes(args.classes, answers.get(args.label))
    crowd = from_answers(
        answers,
        task=args.task,
        worker=args.worker,
        label=args.label,
        classes=classes,
        duplicates=args.duplicates,
    )
    y = None if gold_table is None else _gold_codes(crowd, gold_table, args)
    _check_output_columns([args.task, args.label, *(_proba_names(crowd) if args.proba else [])])
    model: Any
    if args.model == "mv":
        model = MajorityLabelVoter(cardinality=crowd.cardinality, random_state=args.seed)
    else:
        model = LabelModel(
            cardinality=crowd.cardinality, model=args.model, random_state=args.seed, em_max_rows=args.max_rows
        )
    use_jobs(model, args.jobs)
    t0 = time.perf_counter()
    _fit_votes(crowd, model, hint="; --model mv aggregates fewer workers")
    preds, probs = predict_tasks(crowd, model, args.tie_break)
    elapsed = time.perf_counter() - t0
    out = crowd.series(preds, name=args.label).to_frame()
    if args.proba:
        frame = crowd.frame(probs)
        frame.columns = _proba_names(crowd)
        out = out.join(frame)
    out = out.reset_index()
    # the model's file is checked to load back before anything is written, and both files are
    # replaced together: a failure leaves neither the labels nor the model behind
    model_json = None if args.model_out is None else model_text(model)
    _write(out, args.output, pd, model_json, args.model_out)
    n, m = crowd.L.shape
    where = "standard output" if args.output == "-" else args.output
    saved = "" if args.model_out is None else f"; model in {args.model_out}"
    print(
        f"aggregated {crowd.L.nnz} answers of {m} workers into labels of {n} tasks (k={crowd.cardinality}) "
        f"in {elapsed:.3f} s; wrote {where}{saved}",
        file=sys.stderr,
    )
    if y is not None:
        _print_gold(crowd, preds, y, args.tie_break)
    return 0


def _proba_names(crowd: Any) -> list[str]:
    """The ``--proba`` columns' names, one per class: ``p_<label>``, as ``tripletws predict`` names
    them (:func:`~tripletws.predictions.proba_columns`)."""
    try:
        return proba_columns(crowd.cardinality, crowd.classes)
    except ValueError as exc:
        raise CLIError(f"--proba: {exc}") from exc


def _check_output_columns(names: list[str]) -> None:
    """Refuse an output whose columns would share a name (a label column called ``p_x`` beside the
    probability of the label ``x``), before the fit."""
    seen: set[str] = set()
    for name in map(str, names):
        if name in seen:
            raise CLIError(
                f"the output would have two columns named {name!r} (the task column, the label column and "
                "with --proba one p_<label> column per class): rename the input's column"
            )
        seen.add(name)


def _gold_codes(crowd: Any, table: Any, args: argparse.Namespace) -> Any:
    """The gold table's labels as codes aligned with the crowd matrix's rows (-1: unknown)."""
    from ..crowd import _missing

    for option, column in (("--task", args.task), ("--label", args.label)):
        if column not in table.columns:
            raise CLIError(
                f"{args.gold}: no column {column!r} (columns: {list(map(str, table.columns))}); the gold "
                f"labels use the answers' task and label columns ({option})"
            )
    tasks = table[args.task]
    if tasks.isna().any():
        i = int(tasks.isna().to_numpy().argmax())
        raise CLIError(f"{args.gold}: row {i} has no task")
    series = table.set_index(args.task)[args.label]
    # the two files' labels may be read as other types (answers 1, x: text; gold 1: a number):
    # a gold label that reads as a class's text is that class
    by_text = {str(c): c for c in crowd.classes}
    series = series.map(lambda v: v if _missing(v) else by_text.get(str(v), v))
    # and so may the task ids (a Parquet file's 1, a CSV's "1"): a gold task that is no task of the
    # answers but reads as one's text is that task
    task_by_text = {str(t): t for t in crowd.tasks}
    series.index = [t if t in crowd.tasks else task_by_text.get(str(t), t) for t in series.index]
    try:
        return crowd.gold(series)
    except ValueError as exc:
        raise CLIError(f"{args.gold}: {exc}") from exc


def _print_gold(crowd: Any, preds: Any, y: Any, tie_break: str) -> None:
    """The accuracy on the tasks with a gold label, the model's and majority vote's (same tie-break)."""
    import numpy as np

    from ..baselines import MajorityLabelVoter

    known = y >= 0
    if not known.any():
        print("gold: no task of the answers has a gold label", file=sys.stderr)
        return
    mv = predict_tasks(crowd, MajorityLabelVoter(cardinality=crowd.cardinality), tie_break, L=crowd.L)[0]
    acc, acc_mv = float(np.mean(preds[known] == y[known])), float(np.mean(mv[known] == y[known]))
    print(
        f"gold labels of {int(known.sum())} tasks: accuracy {acc:.4f} (majority vote {acc_mv:.4f}); "
        "ties count as wrong where --tie-break abstain leaves them empty",
        file=sys.stderr,
    )


def _read_answers(path: str, args: argparse.Namespace, pd: Any, what: str = "answers") -> Any:
    """The answers as a DataFrame.  From a CSV: task and worker ids read as text (ids such as 007
    keep their zeros); labels are numbers only where every one is written as its number is
    (:func:`_csv_labels`), else text, so that each label is written back as it was read; only an
    empty cell is a missing value (a label such as ``NA`` or ``None`` is text)."""
    source = Path(path)
    if not source.exists():
        raise CLIError(f"{path}: no such file")
    suffix = source.suffix.lower()
    if suffix not in SUFFIXES and not source.is_dir():
        raise CLIError(f"{path}: {what} are read from .csv or .parquet files")
    if suffix == ".csv":
        text = {args.task: str, args.worker or "worker": str, "performer": str, args.label: str}
        try:
            table = pd.read_csv(source, dtype=text, keep_default_na=False, na_values=[""])
        except pd.errors.EmptyDataError as exc:
            raise CLIError(f"{path}: the file is empty") from exc
        except UnicodeDecodeError as exc:  # as the label-matrix reader says it (files.py)
            bad = exc.object[exc.start : exc.start + 1]
            raise CLIError(
                f"{path}: not UTF-8 text (byte 0x{bad.hex()} cannot be decoded); save the CSV as UTF-8"
            ) from exc
        except pd.errors.ParserError as exc:
            raise CLIError(f"{path}: not a readable CSV ({' '.join(str(exc).split())})") from exc
        if not isinstance(table.index, pd.RangeIndex):  # pandas took the first field(s) for an index
            raise CLIError(
                f"{path}: the rows have more fields than the header's {len(table.columns)} names (line 2 "
                "on): a column without a name, or a value with an unquoted comma"
            )
        _check_header(source, path, [args.task, args.worker or "worker", "performer", args.label])
        if len(table.columns) == 1:
            only = str(table.columns[0])
            sep = next((d for d in (";", "\t", "|") if d in only), None)
            if sep is not None:
                raise CLIError(
                    f"{path}: the header {only!r} is one column: the fields are separated by {sep!r}, and "
                    f"{what} are read from comma-separated values; save the file with commas"
                )
        if args.label in table.columns:
            table[args.label] = _csv_labels(table[args.label], pd)
        return table
    try:
        return pd.read_parquet(source)
    except ImportError as exc:
        raise CLIError(f"{path}: reading Parquet needs pyarrow: pip install 'tripletws[parquet]'") from exc
    except Exception as exc:  # pyarrow's own errors for a damaged file
        raise CLIError(f"{path}: not a readable Parquet file ({' '.join(str(exc).split())})") from exc


def _check_header(source: Path, path: str, used: list[str]) -> None:
    """Refuse a CSV whose header names a column the command reads twice: pandas renames the second
    (``label.1``) and the first would be read without a word."""
    import csv

    with open(source, encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh), [])
    for name in dict.fromkeys(used):
        where = [i + 1 for i, h in enumerate(header) if h == name]
        if len(where) > 1:
            raise CLIError(
                f"{path}: the header names {len(where)} columns {name!r} (columns "
                f"{', '.join(map(str, where))} of {len(header)}): rename all but the one to read"
            )


#: A whole number written as Python writes it (no sign but -, no leading zero, at most 18 digits).
_PLAIN_INT = r"-?(?:0|[1-9][0-9]{0,17})"


def _csv_labels(column: Any, pd: Any) -> Any:
    """A CSV's label column (text) as int64 where every label is a plain whole number (``12``,
    ``-3``), as float64 where every one is a float written as Python writes it (``0.5``, not all
    whole), else unchanged: ``01``, ``1.0`` alone or ``True`` stay text and are written back so."""
    if column.isna().any():  # from_answers names the row
        return column
    text = column.astype(str)
    if text.str.fullmatch(_PLAIN_INT).all():
        return text.astype("int64")
    try:
        values = text.astype("float64")
    except (TypeError, ValueError):
        return column
    plain = all(repr(v) == t for v, t in zip(values.tolist(), text.tolist(), strict=True))
    finite = bool(values.map(math.isfinite).all())
    if plain and finite and not bool(values.map(float.is_integer).all()):
        return values
    return column


def _parse_classes(text: str, column: Any) -> list[Any]:
    """``--classes a,b,c`` as the label column's values: numbers where the column holds numbers,
    True / False where it holds booleans (``column`` None: text)."""
    items = [t.strip() for t in text.split(",")]
    if any(not t for t in items):
        raise CLIError(f"--classes {text!r}: an empty label between commas")
    if column is None:
        return items
    if column.dtype.kind == "b" or str(column.dtype) == "boolean":
        truth = {"true": True, "false": False}
        if any(t.lower() not in truth for t in items):
            raise CLIError(f"--classes {text!r}: the label column holds booleans (true, false)")
        return [truth[t.lower()] for t in items]
    if column.dtype.kind in "iuf":
        try:
            numbers = [float(t) for t in items]
        except ValueError as exc:
            raise CLIError(f"--classes {text!r}: the label column holds numbers") from exc
        return [int(v) if v.is_integer() else v for v in numbers]
    return items


def _check_parquet_writer(path: str) -> None:
    """Refuse, before any work, a Parquet output that could not be written: pandas writes Parquet
    with pyarrow (or fastparquet), an optional extra."""
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        try:
            import fastparquet  # noqa: F401
        except ImportError:
            raise CLIError(
                f"-o {path}: writing Parquet needs pyarrow: pip install 'tripletws[parquet]' (or write .csv)"
            ) from None


def _write(
    out: Any, path: str, pd: Any, model_json: str | None = None, model_path: str | None = None
) -> None:
    """The table as CSV (a file or standard output) or Parquet, and with ``model_path`` the model's
    JSON: the files are replaced together (:func:`~tripletws.atomic.atomic_write_all`), so a failure
    writing either one leaves both targets as they were."""
    files: list[tuple[str, str]] = []
    parquet = path != "-" and Path(path).suffix.lower() == ".parquet"
    if path != "-":
        files.append((path, "wb" if parquet else "w"))
    if model_path is not None:
        files.append((model_path, "w"))
    if parquet:
        frame = out.copy()
        frame.columns = [str(c) for c in frame.columns]
        for column in frame.columns:  # Parquet columns hold one type: mixed labels are written as text
            if frame[column].dtype == object:
                frame[column] = _parquet_column(frame[column], pd)
    try:
        with atomic_write_all(files) as handles:
            if path == "-":
                _write_stdout(out)
            elif parquet:
                frame.to_parquet(handles[0], index=False)
            else:
                out.to_csv(handles[0], index=False)
            if model_path is not None:
                handles[-1].write(model_json)
    except ImportError as exc:
        raise CLIError(f"-o {path}: writing Parquet needs pyarrow: pip install 'tripletws[parquet]'") from exc


def _parquet_column(column: Any, pd: Any) -> Any:
    """An object column as Parquet holds it: booleans (the labels of a boolean column, a tie left
    empty) as booleans, anything else as text."""
    given = [v for v in column.tolist() if v is not None]
    if given and all(isinstance(v, bool) for v in given):
        return column.astype("boolean")
    return column.map(lambda v: None if v is None else str(v))


def _write_stdout(out: Any) -> None:
    """The table as CSV on standard output."""
    try:
        out.to_csv(sys.stdout, index=False)
    except BrokenPipeError:  # `... -o - | head`: main's own handling
        raise
    except (OSError, ValueError) as exc:
        raise CLIError(f"-o -: cannot write the CSV to standard output ({exc})") from exc
