"""Defects found by a second fuzzing pass of tripletws.crowd and ``tripletws aggregate``, one test
each (every one failed before its fix)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from test_cli import run_main

pd = pytest.importorskip("pandas")
crowd_mod = pytest.importorskip("tripletws.crowd")
from_answers, aggregate = crowd_mod.from_answers, crowd_mod.aggregate


def cli(*args: str) -> tuple[int, str, str]:
    """The command line in this process: (exit status, stdout, stderr)."""
    res = run_main(*args)
    return res.returncode, res.stdout, res.stderr


def answers_csv(tmp_path: Path, text: str | None = None, name: str = "answers.csv") -> Path:
    """A CSV of answers (by default: tasks t0..t5, workers u, v, w, x, labels cat / dog)."""
    if text is None:
        rows = ["task,worker,label"]
        for t in range(6):
            for w in "uvwx":
                rows.append(f"t{t},{w},{'cat' if (t + ord(w)) % 3 else 'dog'}")
        text = "\n".join(rows) + "\n"
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_cli_model_out_failure_leaves_no_labels_file(tmp_path, monkeypatch):
    """--model-out: the labels file was written before the model, so a model that could not be
    saved (here its temporary file cannot be created) left a new labels file behind."""
    import tripletws.atomic as atomic

    src = answers_csv(tmp_path)
    out, model = tmp_path / "labels.csv", tmp_path / "crowd.json"
    out.write_text("old labels\n", encoding="utf-8")
    real = atomic._open_temp

    def refuse_json(folder, name):
        if name.endswith(".json"):
            raise OSError(28, "No space left on device", str(folder / name))
        return real(folder, name)

    monkeypatch.setattr(atomic, "_open_temp", refuse_json)
    rc, _, err = cli("aggregate", str(src), "-o", str(out), "--model-out", str(model))
    assert rc == 2 and "No space left on device" in err
    assert out.read_text(encoding="utf-8") == "old labels\n"  # untouched
    assert not model.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.csv", "labels.csv"]  # no temp files
    monkeypatch.setattr(atomic, "_open_temp", real)
    rc, _, err = cli("aggregate", str(src), "-o", str(out), "--model-out", str(model))
    assert rc == 0, err
    assert out.read_text(encoding="utf-8").startswith("task,label\n") and model.exists()


def test_cli_parquet_output_without_pyarrow_fails_before_the_fit(tmp_path, monkeypatch):
    """-o x.parquet without pyarrow: the fit ran and only the write said pyarrow was missing."""
    src = answers_csv(tmp_path)
    for name in ("pyarrow", "pyarrow.parquet", "fastparquet"):
        monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError, as when not installed

    def no_fit(*args, **kwargs):
        raise AssertionError("the fit ran")

    monkeypatch.setattr(crowd_mod, "_fit_votes", no_fit)
    rc, _, err = cli("aggregate", str(src), "-o", str(tmp_path / "out.parquet"))
    assert rc == 2, err
    assert "-o " in err and "pip install 'tripletws[parquet]'" in err
    assert not (tmp_path / "out.parquet").exists()


def test_crowd_votes_get_no_hints_about_other_libraries_conventions():
    """The fit's hints for label matrices of other libraries fired on crowd answers, whose codes
    from_answers assigns: a worker named "y" read as a gold column, labels "ok" / "spam" (mostly
    "ok") told to convert with from_flyingsquid, and classes= naming as many labels as workers read
    as FlyingSquid's m."""
    import warnings

    import numpy as np

    rng = np.random.default_rng(0)
    letters = [(t, w, int(rng.random() < 0.3)) for t in range(60) for w in "wxyz"]
    mostly_ok = [(t, w, "ok" if rng.random() < 0.9 else "spam") for t in range(200) for w in range(5)]
    three = [(t, w, "x" if rng.random() < 0.5 else "y") for t in range(60) for w in "abc"]
    cases = [(letters, {}), (mostly_ok[::2] + mostly_ok[1::4], {}), (three, {"classes": ["x", "y", "z"]})]
    for rows, kwargs in cases:
        df = pd.DataFrame(rows, columns=["task", "worker", "label"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            aggregate(df, **kwargs)
        said = " | ".join(str(w.message) for w in caught)
        assert "looks like gold labels" not in said
        assert "from_flyingsquid" not in said and "FlyingSquid's m" not in said
