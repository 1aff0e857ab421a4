"""What a fresh install without an optional extra gets: a message naming the extra to install.

The CI environment has every extra, so each test runs in a subprocess whose import system
refuses the extra's modules (a meta-path finder raising ``ModuleNotFoundError``, as a real
missing package does).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

SRC = Path(__file__).resolve().parents[1] / "src"

BLOCK = """\
import importlib.abc, sys

class _Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _Missing())
"""


def _run_without(blocked: tuple[str, ...], code: str) -> str:
    """Run ``code`` with the top-level packages ``blocked`` missing; return its stdout."""
    script = f"BLOCKED = {set(blocked)!r}\n" + BLOCK + textwrap.dedent(code)
    env = {**os.environ, "PYTHONPATH": str(SRC), "TRIPLETWS_JIT": "0"}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_crowd_without_pandas_names_the_extra() -> None:
    out = _run_without(
        ("pandas",),
        """
        from tripletws.crowd import aggregate, aggregate_proba, from_answers
        answers = [("q1", "ann", "cat"), ("q1", "bob", "cat"), ("q1", "cy", "dog")]
        for f in (aggregate, aggregate_proba, from_answers):
            try:
                f(answers)
            except ImportError as exc:
                print(f.__name__, str(exc))
        """,
    )
    lines = out.strip().splitlines()
    assert len(lines) == 3, out
    for line in lines:
        assert "pip install 'tripletws[pandas]'" in line, line


def test_dask_applier_without_dask_names_the_extra() -> None:
    out = _run_without(
        ("dask", "distributed"),
        """
        from tripletws.labeling import DaskLFApplier, labeling_function

        @labeling_function()
        def lf(x):
            return 1

        try:
            DaskLFApplier([lf]).apply([{"text": "a"}], progress=False)
        except ImportError as exc:
            print(str(exc))
        """,
    )
    assert "pip install 'tripletws[dask]'" in out, out


def test_torch_loss_without_torch_names_the_extra() -> None:
    out = _run_without(
        ("torch",),
        """
        try:
            import tripletws.torch_loss
        except ModuleNotFoundError as exc:  # still a ModuleNotFoundError (pytest.importorskip)
            print(exc.name, str(exc))
        """,
    )
    assert out.startswith("torch "), out
    assert 'pip install "tripletws[torch]"' in out, out


def test_dependency_candidates_as_frame_without_pandas_names_the_extra() -> None:
    out = _run_without(
        ("pandas",),
        """
        from tripletws import LabelModel, dependency_candidates
        from tripletws.datasets import make_synthetic

        d = make_synthetic(300, 4, 2, random_state=0)
        model = LabelModel(cardinality=2).fit(d.L)
        print(type(dependency_candidates(d.L, model)).__name__)  # the default: a list without pandas
        try:
            dependency_candidates(d.L, model, as_frame=True)
        except ImportError as exc:
            print(str(exc))
        """,
    )
    first, second = out.strip().splitlines()
    assert first == "list"
    assert "pip install 'tripletws[pandas]'" in second, out


def _small_files(tmp_path: Path) -> None:
    from tripletws import LabelModel
    from tripletws.datasets import make_synthetic

    d = make_synthetic(300, 4, 2, random_state=0)
    np.save(tmp_path / "L.npy", d.L)
    LabelModel(cardinality=2).fit(d.L).save(tmp_path / "m.json")


def test_fit_intervals_uses_the_compiled_em_when_installed(monkeypatch, tmp_path: Path) -> None:
    # `fit --intervals N` refits N times: with tripletws[fast] installed the command line still ran
    # them on the numpy EM (its default for one fit per process): 9.7 s against 5.9 s at 3000 x 6
    from tripletws.analysis_mixin import AnalysisMixin
    from tripletws.cli import main
    from tripletws.estimators import em_jit
    from tripletws.estimators.em_jit import jit_enabled

    monkeypatch.setenv("TRIPLETWS_JIT", "0")
    _small_files(tmp_path)
    monkeypatch.delenv("TRIPLETWS_JIT")
    monkeypatch.setattr(em_jit, "_kernel", [object()])  # a stand-in kernel: no numba load or compile
    seen: list[bool] = []

    def record(self: Any, *args: Any, **kwargs: Any) -> None:  # no refits: no compile on a cold cache
        seen.append(jit_enabled())

    monkeypatch.setattr(AnalysisMixin, "confidence_intervals", record)
    monkeypatch.chdir(tmp_path)
    assert main(["fit", "L.npy", "--intervals", "2", "-o", "out.json"]) == 0
    assert seen == [True]


def test_report_uses_the_compiled_em_when_installed(monkeypatch, tmp_path: Path) -> None:
    # the report's 200 bootstrap refits ran on the numpy EM: 41 s against 8 s at 3000 x 6, k=3
    import tripletws.report
    from tripletws.cli import main
    from tripletws.estimators import em_jit
    from tripletws.estimators.em_jit import jit_enabled

    monkeypatch.setenv("TRIPLETWS_JIT", "0")
    _small_files(tmp_path)
    monkeypatch.delenv("TRIPLETWS_JIT")
    monkeypatch.setattr(em_jit, "_kernel", [object()])  # a stand-in kernel: no numba load or compile
    seen: list[bool] = []

    def record(model: Any, L: Any, path: Any, *args: Any, **kwargs: Any) -> Path:
        seen.append(jit_enabled())
        Path(path).write_text("<html></html>", encoding="utf-8")
        return Path(path)

    monkeypatch.setattr(tripletws.report, "write_report", record)
    monkeypatch.chdir(tmp_path)
    assert main(["report", "m.json", "L.npy", "-o", "r.html"]) == 0
    assert seen == [True]
