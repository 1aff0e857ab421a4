"""Shared pieces of the command line: the parser class, error reporting, option parsing, output helpers."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from ..base import BaseLabeler
from ..estimators.class_balance import STRATEGIES
from ..files import read_labels
from ..matrix import LabelMatrixError
from ..model import LabelModel
from ..sequence import SequenceLabelModel

PROG = "tripletws"


EXIT_USAGE = 2


class CLIError(Exception):
    """Bad input detected by the command line itself."""


#: Output names that say "data", not "model file" or "report" (a model is JSON, a report HTML).
DATA_SUFFIXES = (".npy", ".npz", ".csv", ".parquet")


def check_not_data(output: Any, what: str) -> None:
    """Refuse ``-o`` named like a data file for a command that writes ``what`` (a model file, a
    report): such a name is most likely an input given by mistake, which the write would replace."""
    if str(output).lower().endswith(DATA_SUFFIXES):
        raise CLIError(f"-o {output}: {what}")


def check_not_input(output: Any, *inputs: Any) -> None:
    """Refuse an output that would replace one of the command's inputs.

    Parameters
    ----------
    output : path or "-"
        The ``-o`` value ("-" and None: nothing to check).
    *inputs : paths or None
        The command's input files or Parquet folders (None: not given).

    Raises
    ------
    CLIError
        Where ``output`` is an input (or another name of it), or a ``.parquet`` file inside an input
        folder (the folder's reader would read it as part of the input).
    """
    if output is None or str(output) == "-":
        return
    target = Path(output).resolve()
    for given in inputs:
        if given is None:
            continue
        source = Path(given).resolve()
        same = target == source
        if not same and target.exists() and source.exists():
            try:
                same = os.path.samefile(target, source)  # another name of the same file (a link)
            except OSError:
                same = False
        if same:
            raise CLIError(f"-o {output}: that is the input {given}; the write would replace it")
        if source.is_dir() and source in target.parents and target.suffix.lower() == ".parquet":
            raise CLIError(
                f"-o {output}: a Parquet file inside the input folder {given} would become part of it"
            )


def check_output_path(output: Any, suffixes: tuple[str, ...]) -> None:
    """Refuse, before any work, an output whose kind is not written or whose folder does not exist.

    Parameters
    ----------
    output : path or "-"
        The ``-o`` value ("-": stdout, nothing to check).
    suffixes : tuple of str
        The kinds the command writes (lower case, with the dot).

    Raises
    ------
    CLIError
    """
    if str(output) == "-":
        return
    path = Path(output)
    if path.suffix.lower() not in suffixes:
        raise CLIError(f"-o {output}: the output must end in {', '.join(suffixes)} (or be '-' for stdout)")
    check_output_folder(output)


def check_output_folder(output: Any, option: str = "-o") -> None:
    """Refuse, before any work, an output whose folder does not exist or that is itself a folder.

    Parameters
    ----------
    output : path or None
        The ``-o`` value (None: nothing to check).
    option : str
        The option that gave it, for the message (``--model-out``).

    Raises
    ------
    CLIError
        Naming ``-o`` and the value given (the write itself, after the work, would name only an
        absolute folder).
    """
    if output is None or str(output) == "-":
        return
    path = Path(output)
    if not path.parent.is_dir():
        raise CLIError(f"{option} {output}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise CLIError(f"{option} {output}: that is a folder; name a file")


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``tripletws: error: ...``) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        hint = f" (see '{self.prog} --help')"
        fail(message + hint)


def report_error(message: str) -> int:
    one_line = " ".join(str(message).split())
    sys.stderr.write(f"{PROG}: error: {one_line}\n")
    return EXIT_USAGE


def fail(message: str) -> NoReturn:
    raise SystemExit(report_error(message))


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(f"{PROG}: warning: {' '.join(str(message).split())}\n")


@contextmanager
def about_matrix(path: str, names: list[str] | None = None) -> Iterator[None]:
    """Prefix the file name to label-matrix errors found while the matrix is read lazily, and name
    the columns where the file names them (``names``: a CSV header, Parquet columns)."""
    from ..lf_names import name_columns

    try:
        yield
    except LabelMatrixError as exc:
        raise LabelMatrixError(f"{path}: {name_columns(exc, names)}") from exc


def load_labeler(path: str) -> BaseLabeler:
    from ..io import load_model

    model = load_model(path)
    unfitted_chain = isinstance(model, SequenceLabelModel) and not hasattr(model, "frame_model_")
    if unfitted_chain or (isinstance(model, LabelModel) and not hasattr(model, "params_")):
        raise CLIError(f"{path}: the model in this file was saved before fitting; fit it first")
    return model


def parse_class_balance(text: str | None) -> tuple[Any, Any]:
    """``--class-balance`` -> (constructor value, fit value)."""
    if text is None:
        return "auto", None
    if text in STRATEGIES:
        return text, None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise CLIError(
            f"--class-balance must be {' or '.join(STRATEGIES)} or comma-separated probabilities "
            f"such as 0.3,0.7; got {text!r}"
        ) from None
    from ..estimators.class_balance import check_class_balance

    try:  # named as the option, not as the Python argument
        check_class_balance(np.asarray(values), len(values))
    except ValueError as exc:
        raise CLIError(f"--class-balance {text}: {exc}") from None
    return "auto", np.asarray(values)


def parse_dependencies(text: str | None) -> list[tuple[int, int]] | None:
    """``--dependencies 0-6,3-4`` -> [(0, 6), (3, 4)] (range checks happen in fit).

    An empty text declares none; a trailing comma is allowed, an empty item between two pairs is not
    (a pair deleted by mistake, most likely).
    """
    if text is None:
        return None
    items = text.split(",")
    if not items[-1].strip():
        items.pop()
    edges = []
    for number, item in enumerate(items, start=1):
        item = item.strip()
        if not item:
            raise CLIError(
                f"--dependencies: item {number} of {text!r} is empty (two commas in a row); give pairs of "
                "LF indices such as 0-6,3-4"
            )
        parts = item.replace(":", "-").split("-")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise CLIError(f"--dependencies takes pairs of LF indices such as 0-6,3-4; got {item!r}")
        edges.append((int(parts[0]), int(parts[1])))
    return edges


#: Name of the sequence ids' array (.npz) or column (Parquet) when --sequence-key is not given.
SEQUENCE_KEY = "seq"


def read_sequence_ids(args: argparse.Namespace, n: int) -> np.ndarray | None:
    """``--sequence-ids FILE`` (array ``--sequence-key`` of an .npz, default ``seq``) or None."""
    path = getattr(args, "sequence_ids", None)
    if path is None:
        if getattr(args, "sequence_key", None) is not None:
            raise CLIError("--sequence-key names the ids' array in --sequence-ids: give --sequence-ids too")
        return None
    key = args.sequence_key
    if key is None and Path(path).suffix.lower() in (".npz", ".parquet", ""):  # arrays or columns by name
        key = SEQUENCE_KEY
    ids = read_gold(path, key, "--sequence-key")
    if ids.shape[0] != n:
        raise CLIError(f"{path}: {ids.shape[0]} sequence ids for a label matrix of {n} rows")
    from ..crossframe import segment_rows

    try:  # their kind and order, checked here where the file can be named (the model names neither)
        segment_rows(n, ids)
    except ValueError as exc:
        raise CLIError(f"{path}: --sequence-ids: {str(exc).removeprefix('sequence_ids ')}") from exc
    return ids


def sequence_kwargs(model: BaseLabeler, args: argparse.Namespace, n: int) -> dict[str, Any]:
    """``sequence_ids`` for a sequence model; an error if ids are given to another model (before
    they are read: their order or length would otherwise be blamed, not the model)."""
    if not isinstance(model, SequenceLabelModel):
        if getattr(args, "sequence_ids", None) is not None:
            raise CLIError("--sequence-ids applies to sequence models only (fit with --sequence)")
        read_sequence_ids(args, n)  # (--sequence-key alone: its own error)
        return {}
    return {"sequence_ids": read_sequence_ids(args, n)}


def fmt_value(value: float, digits: int = 4) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Aligned text table: first column left-aligned, the others right-aligned."""
    cells = [list(header), *[list(r) for r in rows]]
    widths = [max(len(row[j]) for row in cells) for j in range(len(header))]
    lines = []
    for row in cells:
        parts = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def json_safe(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        return None if math.isnan(obj) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def add_sequence_args(p: Any) -> None:
    p.add_argument(
        "--sequence-ids",
        default=None,
        metavar="FILE",
        help="sequence id of every row (rows of a sequence contiguous, in frame order)",
    )
    p.add_argument(
        "--sequence-key",
        default=None,
        metavar="NAME",
        help=f"array/column name of the ids in an .npz or Parquet --sequence-ids (default: {SEQUENCE_KEY})",
    )


def add_matrix_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "L_FILE", help="label matrix (n rows x m LFs): .npy, .npz, .csv, .parquet or a folder of .parquet"
    )
    p.add_argument("--key", default=None, metavar="NAME", help="array name in an .npz archive (default: L)")
    add_header_arg(p)


def add_header_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--header",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="CSV: the first row is (--header) or is not (--no-header) a header (default: detected; "
        "a first row 0,1,...,m-1, or other numbered column labels, is refused as ambiguous)",
    )


#: Python argument names that start the library's messages, as the command line's options name them.
OPTION_NAMES = {
    "forget": "--forget",
    "window": "--window",
    "lf_names": "--lf-names",
    "random_state": "--seed",
    "class_balance": "--class-balance",
    "persistence": "--persistence",
    "n_jobs": "--jobs",
    "alpha": "--alpha",
}


def describe(exc: BaseException) -> str:
    """One line for an error: the file of an OSError, a message that starts with a Python argument's
    name given as the command line's option (``forget must lie in ...`` -> ``--forget must ...``,
    ``n_jobs=-100 leaves ...`` -> ``--jobs -100 leaves ...``)."""
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    text = str(exc) or type(exc).__name__
    first, _, rest = text.partition(" ")
    if first in OPTION_NAMES and rest:
        return f"{OPTION_NAMES[first]} {rest}"
    name, equals, value = first.partition("=")  # "n_jobs=-100 leaves ..." -> "--jobs -100 leaves ..."
    if equals and name in OPTION_NAMES and rest:
        return f"{OPTION_NAMES[name]} {value} {rest}"
    return text


def add_jobs_arg(p: Any) -> None:
    """``--jobs N``: threads over the row chunks of fit / update / predict (LabelModel.n_jobs)."""
    p.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="threads over row chunks: N, -1 = every CPU, -2 = all but one "
        "(default: min(CPUs, 4); small inputs run on one thread)",
    )


def use_jobs(model: BaseLabeler, jobs: int | None) -> int | None:
    """Apply ``--jobs`` to a label model for this run (other models run serially).

    Returns the model's own setting, which :func:`set_jobs` puts back before the model
    is saved: ``--jobs`` describes this run's machine, not the model.
    """
    from ..parallel import resolve_n_jobs

    previous = getattr(model, "n_jobs", None)
    if jobs is not None:
        resolve_n_jobs(jobs)  # ValueError for 0 or too negative
        set_jobs(model, jobs)
    return previous


def set_jobs(model: BaseLabeler, jobs: int | None) -> None:
    if isinstance(model, LabelModel):
        model.n_jobs = jobs


def check_key(path: str, key: str | None, option: str, kinds: tuple[str, ...]) -> None:
    """Refuse an array or column name for a file that has none to choose (it would be ignored: a typo
    in the file's name or kind would pass unseen).

    Parameters
    ----------
    path : str
        The file (or Parquet folder).
    key : str or None
        The name given (None: nothing to check).
    option : str
        The option that gave it, for the message.
    kinds : tuple of str
        The kinds that take a name (".npz", ".parquet").

    Raises
    ------
    CLIError
    """
    if key is None:
        return
    suffix = Path(path).suffix.lower()
    if suffix in kinds or (".parquet" in kinds and (suffix == "" or Path(path).is_dir())):
        return
    what = "an array of an .npz archive" + (" or a column of a Parquet file" if ".parquet" in kinds else "")
    if ".csv" in kinds:
        what += " or a column of a CSV file with a header"
    raise CLIError(f"{path}: {option} {key!r} names {what}; a {suffix or 'plain'} file has none to choose")


def read_gold(path: str, key: str | None, option: str = "--y-key") -> np.ndarray:
    """Gold labels (or sequence ids) from a file.

    Parameters
    ----------
    path : str
    key : str or None
        The array (.npz) or column (Parquet, CSV with a header) name, checked against the file's kind.
    option : str
        The option that gave ``key``, for the message.

    Returns
    -------
    ndarray, shape (n,)
    """
    check_key(path, key, option, (".npz", ".parquet", ".csv"))
    return read_labels(path, key)


def checked_gold(path: str, y: Any, n: int | None, k: int, name: str = "Y") -> np.ndarray:
    """Gold labels checked against ``n`` rows and ``k`` classes, an error naming ``path``.

    Parameters
    ----------
    path : str
        The labels' file, named in the error.
    y : array-like
        The labels read from it.
    n : int or None
        The rows they label (None: any number, as for --y-dev without --L-dev).
    k : int
        The number of classes.
    name : str
        How the error calls the labels.

    Returns
    -------
    ndarray of int, shape (n,)
    """
    from ..matrix import check_labels

    try:
        return check_labels(y, n, k, name=name)
    except ValueError as exc:  # the file named, as for L
        hint = ""
        if n is not None and path.lower().endswith(".csv") and np.ndim(y) == 1 and len(y) == n + 1:
            hint = (
                f"; if the first row, {np.asarray(y)[0]!r}, is a header (pandas' to_csv writes a Series' "
                "name, 0 for an unnamed one), name the column (e.g. y.rename('y').to_csv(...): a header "
                "that is not a number is read as one) or write it with header=False"
            )
        raise CLIError(f"{path}: {exc}{hint}") from exc


def read_votes(
    path: str, key: str | None, header: bool | None, expected: Any = None, shared: bool = False
) -> tuple[np.ndarray, list[str] | None]:
    """A label matrix file and its column names (CSV header, Parquet), the names checked against
    ``expected`` (a model's ``lf_names_``) where both exist: LFs reordered between files are an error."""
    from ..files import read_matrix_named
    from ..lf_names import compare_names

    if shared:  # --key/--header were given for L: they apply here only where this file takes them
        kind = Path(path).suffix.lower()
        key = key if kind == ".npz" else None
        header = header if kind == ".csv" else None
    check_key(path, key, "--key", (".npz",))
    if header is not None and Path(path).suffix.lower() != ".csv":
        flag = "--header" if header else "--no-header"
        raise CLIError(f"{path}: {flag} applies to CSV files (a first row that may name the LFs)")
    L, names = read_matrix_named(path, key, header)
    try:
        compare_names(None if expected is None else tuple(expected), names, name=path)
    except ValueError as exc:
        raise CLIError(str(exc)) from exc
    return L, names


def named(L: Any, names: list[str] | None) -> Any:
    """``L`` with its column names (no copy of the votes; no pandas needed), so that a fit keeps them."""
    if names is None:
        return L
    from ..lf_names import NamedVotes

    return NamedVotes(L, names)


#: Settings that only the default (annotator) model reads.
ANNOTATOR_SETTINGS = ("one_class", "copies", "combine", "balance_rule")


def annotator_defaults() -> dict[str, Any]:
    """The annotator-only settings' defaults, read from ``LabelModel`` itself (one place for them)."""
    params = LabelModel().get_params()
    return {name: params[name] for name in ANNOTATOR_SETTINGS}
