"""examples/end_to_end.py runs start to finish (CI runs every example this way)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "end_to_end.py"


def test_end_to_end_example(tmp_path, capsys):
    for module in ("pandas", "sklearn", "matplotlib"):
        pytest.importorskip(module)
    spec = importlib.util.spec_from_file_location("end_to_end", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    figures = example.main(n=4_000, out_dir=tmp_path, seed=0)
    captured = capsys.readouterr()
    assert "applying 2 LF(s) row by row" in captured.err  # the progress bar
    assert "Learned Acc." in captured.out
    assert (tmp_path / "report.html").stat().st_size > 50_000
    # 1000 test rows: accuracy sd about 0.015; the majority class holds 55 % of the rows
    assert figures["end_model_test_accuracy"] > 0.65
    assert figures["label_model_train_accuracy"] > 0.65
    # a second run reads every LF column from the cache
    example.main(n=4_000, out_dir=tmp_path, seed=0, progress=False)
