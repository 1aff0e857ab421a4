"""Claims of README.md and docs/ checked against the code a second time: statements fixed in this
pass, and statements that were right but untested, pinned here (one test per claim)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import pytest

from tripletws.atomic import atomic_write, atomic_write_all
from tripletws.cli import build_parser
from tripletws.matrix import LabelMatrixError, check_label_matrix

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def _layout() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return text[text.index("\nsrc/tripletws/\n") : text.index("\nbenchmarks/ ")]


def test_readme_layout_names_every_module() -> None:
    """README "Layout": every module and subpackage of src/tripletws is named in the listing."""
    layout = _layout()
    src = REPO / "src" / "tripletws"
    names = [p.name for p in src.glob("*.py") if not p.name.startswith("__")]
    names += [p.name + "/" for p in src.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    missing = [n for n in sorted(names) if not re.search(rf"(?<![\w/]){re.escape(n)}", layout)]
    assert missing == []


def test_files_md_atomic_write_all_replaces_all_or_none(tmp_path) -> None:
    """docs/files.md "Safe writes": atomic_write_all stages every file and replaces them only once
    all were written; a failure writing one leaves every target as it was, and no temporary file."""
    a, b = tmp_path / "labels.csv", tmp_path / "model.json"
    a.write_text("old labels")
    b.write_text("old model")
    with pytest.raises(RuntimeError), atomic_write_all([(a, "w"), (b, "w")]) as (fa, fb):
        fa.write("new labels")
        raise RuntimeError("writing the model failed")
    assert (a.read_text(), b.read_text()) == ("old labels", "old model")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.csv", "model.json"]
    with atomic_write_all([(a, "w"), (b, "wb")]) as (fa, fb):
        fa.write("new labels")
        fb.write(b"new model")
    assert (a.read_text(), b.read_text()) == ("new labels", "new model")
    with atomic_write(a, "w") as fh:  # atomic_write: atomic_write_all of one file
        fh.write("one file")
    assert a.read_text() == "one file"


def _flags(parser: argparse.ArgumentParser) -> dict[str, set[str]]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    top = {o for a in parser._actions for o in a.option_strings}
    return {name: top | {o for a in p._actions for o in a.option_strings} for name, p in sub.choices.items()}


def test_docs_command_lines_use_existing_options() -> None:
    """Every ``tripletws COMMAND --option`` line in README.md and docs/ names a command and options
    that the command line has (the parser's own option strings)."""
    flags = _flags(build_parser())
    command_line = re.compile(r"(?:^|[`$]\s?)tripletws ((?:--plugin \S+ )?)([a-z]+)\b([^`#]*)")
    bad = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8").replace("\\\n", " ")
        for line in text.splitlines():
            for m in command_line.finditer(line.strip()):
                command, rest = m.group(2), m.group(3)
                if command not in flags:
                    if rest.strip().startswith(("-", "model", "L_", "answers", "batch")):
                        bad.append((path.name, command))
                    continue
                for opt in re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", rest):
                    if opt not in flags[command]:
                        bad.append((path.name, command, opt))
    assert bad == []


def test_aggregate_max_rows_help_states_the_annotator_cap() -> None:
    """``tripletws aggregate --help``: --max-rows defaults to 20 000, the annotator model's own cap
    (``em_max_rows=None``), and is refused with another --model (docs/crowd.md, "Large crowds")."""
    from tripletws import LabelModel
    from tripletws.models.annotator import ANNOTATOR_MAX_ROWS

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    help_text = sub.choices["aggregate"].format_help()
    assert "default 20 000" in re.sub(r"\s+", " ", help_text)
    assert ANNOTATOR_MAX_ROWS == 20_000 and LabelModel().em_max_rows is None
    args = parser.parse_args(["aggregate", "a.csv", "-o", "o.csv"])
    assert args.max_rows is None and args.model == "annotator"


def test_architecture_md_check_label_matrix_reads_through_plain_input() -> None:
    """docs/architecture.md "A new input format": check_label_matrix calls plain_input, so a masked
    array's hidden vote and what is no array (a polars LazyFrame, None) are refused there too."""
    L = np.ma.masked_array(np.array([[0, 1, -1], [1, 1, 0]]), mask=[[True, False, False], [False] * 3])
    with pytest.raises(LabelMatrixError, match="masked"):
        check_label_matrix(L)
    ok = np.ma.masked_array(np.array([[-1, 1, 0], [1, 1, 0]]), mask=[[True, False, False], [False] * 3])
    assert check_label_matrix(ok).m == 3
    with pytest.raises(LabelMatrixError, match="None"):
        check_label_matrix(None)
    pl = pytest.importorskip("polars")
    with pytest.raises(LabelMatrixError, match=r"collect\(\)"):
        check_label_matrix(pl.DataFrame({"a": [0, 1], "b": [1, 1], "c": [0, -1]}).lazy())


def test_threads_md_and_files_md_constants() -> None:
    """docs/threads.md: the EM's row blocks from 1e5 design entries (PARALLEL_NNZ) and member
    splits from 5e5 entries x members (SPLIT_ENTRIES); docs/files.md: Parquet read 16,384 rows at a
    time (PARQUET_BATCH_ROWS) and k at most 32768 (MAX_CARDINALITY)."""
    from tripletws.estimators.annotator import SPLIT_ENTRIES
    from tripletws.estimators.annotator_design import PARALLEL_NNZ
    from tripletws.files import PARQUET_BATCH_ROWS
    from tripletws.matrix import MAX_CARDINALITY

    assert (PARALLEL_NNZ, SPLIT_ENTRIES) == (100_000, 500_000)
    assert (PARQUET_BATCH_ROWS, MAX_CARDINALITY) == (16_384, 32_768)
