"""A label model is one module plus one registration: fit, save, load and predict it (API and CLI)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import toy_label_model  # noqa: F401  (the one registration: importing the module registers the model)

from tripletws import LabelModel, MajorityLabelVoter
from tripletws.datasets import make_synthetic
from tripletws.models import get_solver, registered

TESTS = Path(__file__).resolve().parent
SRC = TESTS.parent / "src"


@pytest.fixture(scope="module")
def data():
    return make_synthetic(4000, 7, 2, accuracies=0.8, coverage=0.6, random_state=3)


def test_registered_next_to_the_built_in_models():
    assert {"class_conditional", "symmetric", "toy_agreement"} <= set(registered())
    with pytest.raises(ValueError, match=r"unknown model 'nope'; choose one of .*toy_agreement"):
        get_solver("nope")


def test_fit_save_load_predict_through_the_public_api(data, tmp_path):
    model = LabelModel(model="toy_agreement").fit(data.L)
    # two LFs of accuracy a and b agree with probability ab + (1-a)(1-b) = 0.68 at a = b = 0.8
    np.testing.assert_allclose(model.accuracies_, 0.68, atol=0.03)
    assert model.mean_accuracy_ == pytest.approx(model.accuracies_.mean())
    probs = model.predict_proba(data.L)
    # equal accuracies: the posterior decides like majority vote wherever the vote is not tied
    mv = MajorityLabelVoter().predict_proba(data.L)
    decided = np.abs(mv[:, 1] - 0.5) > 0
    np.testing.assert_array_equal(probs[decided].argmax(1), mv[decided].argmax(1))
    model.save(tmp_path / "toy.json")
    loaded = LabelModel.load(tmp_path / "toy.json")
    assert loaded.model == "toy_agreement" and loaded.mean_accuracy_ == model.mean_accuracy_
    np.testing.assert_array_equal(loaded.predict_proba(data.L), probs)
    np.testing.assert_array_equal(loaded.predict(data.L), model.predict(data.L))
    # a stream of batches reaches the same statistics and so the same solution
    stream = LabelModel(model="toy_agreement")
    for part in np.array_split(data.L, 5):
        stream.partial_fit(part)
    np.testing.assert_allclose(stream.accuracies_, model.accuracies_, rtol=1e-12, atol=0)


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(TESTS)])}
    cmd = [sys.executable, "-m", "tripletws", "--plugin", "toy_label_model", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def test_fit_save_load_predict_through_the_cli(data, tmp_path):
    np.save(tmp_path / "L.npy", data.L)
    res = _cli("fit", str(tmp_path / "L.npy"), "--model", "toy_agreement", "-o", str(tmp_path / "m.json"))
    assert res.returncode == 0, res.stderr
    assert "fitted toy_agreement label model" in res.stdout
    res = _cli("predict", str(tmp_path / "m.json"), str(tmp_path / "L.npy"), "-o", str(tmp_path / "p.npy"))
    assert res.returncode == 0, res.stderr
    want = LabelModel(model="toy_agreement").fit(data.L).predict_proba(data.L)
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), want, rtol=0, atol=1e-12)
    res = _cli("inspect", str(tmp_path / "m.json"))
    assert res.returncode == 0 and "model=toy_agreement" in res.stdout


def test_a_file_naming_an_unregistered_model_is_one_clear_error(data, tmp_path):
    LabelModel(model="toy_agreement").fit(data.L).save(tmp_path / "m.json")
    env = {**os.environ, "PYTHONPATH": str(SRC)}  # no plugin: the model is unknown in this process
    cmd = [sys.executable, "-m", "tripletws", "predict", str(tmp_path / "m.json"), "-", "-o", "-"]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert "unknown model 'toy_agreement'" in res.stderr
    res = _cli("--plugin", "no_such_module_here", "demo")
    assert res.returncode == 2 and "--plugin no_such_module_here" in res.stderr


def test_registration_refuses_a_taken_name_and_a_model_without_solve():
    from tripletws.models import Solver, register

    class Impostor(Solver):
        name = "symmetric"

        def solve(self, stats, prior, rows, options):  # pragma: no cover - never registered
            raise AssertionError

    with pytest.raises(ValueError, match=r"model 'symmetric' is already registered by tripletws"):
        register(Impostor)
    assert type(get_solver("symmetric")).__module__ == "tripletws.models.symmetric"

    class NoSolve(Solver):
        name = "no_solve_model"

    with pytest.raises(TypeError, match=r"NoSolve .* does not define solve"):
        register(NoSolve)
    assert "no_solve_model" not in registered()

    for bad in (0.5, "often", True, float("inf")):

        class Eager(Solver):
            name = "eager_model"
            stream_growth = bad

            def solve(self, stats, prior, rows, options):  # pragma: no cover - never registered
                raise AssertionError

        with pytest.raises(ValueError, match=r"stream_growth must be a finite number >= 1"):
            register(Eager)
    assert "eager_model" not in registered()


def test_a_solve_returning_the_wrong_thing_is_named(data, monkeypatch):
    from tripletws.models import register

    toy = type(get_solver("toy_agreement"))

    class Wrong(toy):
        name = "toy_wrong_return"

        def solve(self, stats, prior, rows, options):
            return {"not": "a Fit"}

    register(Wrong)
    with pytest.raises(TypeError, match=r"model 'toy_wrong_return': solve returned a dict, not a Fit"):
        LabelModel(model="toy_wrong_return").fit(data.L)


def test_diagnostics_are_saved_by_the_rule_they_are_read_by(data, tmp_path):
    from dataclasses import replace

    model = LabelModel(model="toy_agreement").fit(data.L)
    model.solution_ = replace(model.solution_, diagnostics={"score": np.float32(0.5), "n": np.int64(3)})
    model.save(tmp_path / "ok.json")
    loaded = LabelModel.load(tmp_path / "ok.json")
    assert loaded.score_ == 0.5 and loaded.n_ == 3
    model.solution_ = replace(model.solution_, diagnostics={"flag": True})
    with pytest.raises(ValueError, match=r"solution.diagnostics.flag is a bool"):
        model.save(tmp_path / "bad.json")
    assert not (tmp_path / "bad.json").exists()
