"""Command line: ``tripletws fit | update | predict | evaluate | explain | inspect | dependencies |
report | aggregate | demo``.

One module per command, each with ``add_parser(sub)`` (its options) and ``run(args)``
(exit status); :mod:`.options` holds what they share.  Every command reads label
matrices with :mod:`tripletws.files` and works through the public Python API.  Bad
input (a missing file, a bad value, a damaged model file) ends with one line
``tripletws: error: <message>`` on stderr and exit status 2, never a traceback; Ctrl-C ends
with ``tripletws: interrupted`` and exit status 130.

``--plugin MODULE`` (before the command, repeatable) imports a module first, e.g. one
that registers a label model (:func:`tripletws.models.register`), so that
``--model`` and model files can name it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Sequence

from .. import __version__
from ..estimators.em_jit import jit_default
from . import aggregate, demo, dependencies, evaluate, explain, fit, inspect, predict, report, update
from .options import PROG, CLIError, Parser, describe, report_error, show_warning

COMMANDS = (fit, update, predict, evaluate, explain, inspect, dependencies, report, aggregate, demo)

#: Exit status after Ctrl-C (128 + SIGINT, as a shell reports a command ended by it).
EXIT_INTERRUPTED = 130

EPILOG = """\
examples:
  tripletws demo                                       # synthetic data with known LF accuracies
  tripletws fit L_train.npy -o model.json              # -1 = abstain, classes 0..k-1
  tripletws fit train.npz --key L --y-dev dev_y.npy -o model.json
  tripletws update model.json L_batch.npy --window 100   # online: add a batch, re-solve
  tripletws predict model.json L_test.csv -o probs.npy
  tripletws predict model.json L_test.npy --hard --tie-break random -o labels.csv
  tripletws evaluate model.json test.npz               # gold from the archive's 'y' array
  tripletws explain model.json L_test.npy --rows 0,17  # each LF's share of a row's label
  tripletws inspect model.json
  tripletws dependencies model.json L_train.npy       # likely undeclared LF dependencies
  tripletws report model.json L_train.npy --gold y.npy -o report.html   # offline HTML report
  tripletws fit frames.npz --sequence --window 3 -o chain.json   # video frames in order
  tripletws aggregate answers.csv -o labels.csv        # crowd answers (task, worker, label) -> labels

label matrices: .npy, .npz (array 'L', or --key), .csv (integers; a header row is detected,
or say --header / --no-header), .parquet (with pyarrow; a folder of .parquet files is one matrix).
Votes are -1 (abstain) or a class 0..k-1.
"""


def build_parser() -> argparse.ArgumentParser:
    """The ``tripletws`` parser: global options, then one subparser per command module."""
    parser = Parser(
        prog=PROG,
        description="Fast label models for weak supervision: closed-form statistics in one pass over "
        "the votes, then the annotator model's EM over the distinct rows (default) or the triplet method.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first (e.g. one that registers a label model); repeatable",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def load_plugins(argv: Sequence[str]) -> None:
    """Import the ``--plugin`` modules named before the command (so their models are registered)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--plugin", action="append", default=[])
    known, _ = pre.parse_known_args(list(argv))
    for name in known.plugin:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            raise CLIError(
                f"--plugin {name}: cannot import it ({exc}); the module must be importable: install it, or "
                "put its folder on PYTHONPATH (the command does not look in the current directory)"
            ) from exc
        except Exception as exc:  # any failure of foreign code: one line, no traceback
            raise CLIError(f"--plugin {name}: cannot import it ({type(exc).__name__}: {exc})") from exc


def _plugin_after_command(argv: Sequence[str]) -> bool:
    """Whether ``--plugin`` follows the command name (the pre-parser imported it; the command's
    parser would then read the module's name as a file)."""
    names = {command.__name__.rsplit(".", 1)[-1] for command in COMMANDS}
    skip = False
    for a in argv:
        if skip:  # the value of a global option
            skip = False
            continue
        if a == "--plugin":
            skip = True
            continue
        if a in names:  # the command: any --plugin after it is misplaced
            rest = argv[argv.index(a) + 1 :]
            return any(x == "--plugin" or x.startswith("--plugin=") for x in rest)
        if not a.startswith("-"):
            return False
    return False


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tripletws`` console script; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if _plugin_after_command(argv):
        return report_error("--plugin goes before the command (tripletws --plugin MODULE fit ...)")
    try:
        load_plugins(argv)
    except CLIError as exc:
        return report_error(str(exc))
    args = build_parser().parse_args(argv)
    # one fit per process: numba's load (~0.3 s) would cost more than the compiled EM saves
    with warnings.catch_warnings(), jit_default(False):
        warnings.showwarning = show_warning
        try:
            return int(args.func(args))
        except KeyboardInterrupt:  # Ctrl-C: one line and the shell's status for SIGINT, no traceback
            # (every file is written atomically: an interrupted write leaves the old file as it was)
            sys.stderr.write(f"{PROG}: interrupted\n")
            return EXIT_INTERRUPTED
        except BrokenPipeError:  # e.g. `tripletws predict ... -o - | head`
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 1
        except (CLIError, ValueError, OSError, KeyError, OverflowError) as exc:  # OverflowError: --n 1e20
            return report_error(describe(exc))
        except Exception as exc:  # a bug or an exotic input: still one line, never a traceback
            if os.environ.get("TRIPLETWS_DEBUG"):
                raise
            return report_error(f"unexpected {type(exc).__name__}: {describe(exc)}")


__all__ = ["CLIError", "build_parser", "main"]
