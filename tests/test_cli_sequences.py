"""Command line: dependencies (fit --dependencies, the dependencies command) and sequence models."""

from __future__ import annotations

import json
import warnings

import numpy as np
from test_cli import run_main

from tripletws import LabelModel, SequenceLabelModel
from tripletws.datasets import add_dependent_lf, make_synthetic, make_synthetic_sequences


def _frames(tmp_path):
    d = make_synthetic_sequences(20, (10, 80), m=5, persistence=0.9, accuracies=0.72, random_state=11)
    path = tmp_path / "frames.npz"
    np.savez(path, L=d.L, y=d.y, seq=d.sequence_ids)
    return d, path


def test_fit_predict_evaluate_inspect_a_sequence_model(tmp_path):
    d, path = _frames(tmp_path)
    model_path = tmp_path / "chain.json"
    res = run_main("fit", path, "--sequence-ids", path, "-o", model_path)
    assert res.returncode == 0, res.stderr
    assert "sequence label model (persistence" in res.stdout
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = SequenceLabelModel().fit(d.L, d.sequence_ids)
    loaded = SequenceLabelModel.load(model_path)
    assert loaded.persistence_ == expected.persistence_

    out = tmp_path / "probs.npy"
    res = run_main("predict", model_path, path, "--sequence-ids", path, "-o", out)
    assert res.returncode == 0, res.stderr
    np.testing.assert_allclose(np.load(out), expected.predict_proba(d.L, d.sequence_ids), atol=1e-12)

    res = run_main("evaluate", model_path, path, "--sequence-ids", path, "--tie-break", "random", "--json")
    assert res.returncode == 0, res.stderr
    record = json.loads(res.stdout)
    score = expected.score(d.L, d.y, sequence_ids=d.sequence_ids, tie_break_policy="random")
    assert record["label_model"]["accuracy"] == score["accuracy"]

    res = run_main("inspect", model_path)
    assert res.returncode == 0, res.stderr
    assert "persistence rho=" in res.stdout and "LF" in res.stdout
    res = run_main("inspect", model_path, "--json")
    assert json.loads(res.stdout)["persistence"] == expected.persistence_


def test_window_and_fixed_persistence_from_the_command_line(tmp_path):
    _, path = _frames(tmp_path)
    model_path = tmp_path / "w.json"
    res = run_main("fit", path, "--window", "3", "--persistence", "0.7", "-o", model_path)
    assert res.returncode == 0, res.stderr
    model = SequenceLabelModel.load(model_path)
    assert model.window == 3 and model.persistence_ == 0.7


def test_fit_with_dependencies_and_the_dependencies_command(tmp_path):
    data = add_dependent_lf(
        make_synthetic(n=20_000, m=6, accuracies=0.72, coverage=0.6, random_state=12),
        2,
        share=0.8,
        random_state=13,
    )
    L_path = tmp_path / "L.npy"
    np.save(L_path, data.L)
    plain, declared = tmp_path / "plain.json", tmp_path / "dep.json"
    assert run_main("fit", L_path, "-o", plain).returncode == 0
    res = run_main("dependencies", plain, L_path, "--json")
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert (rows[0]["lf_i"], rows[0]["lf_j"], rows[0]["suspect"]) == (2, 6, True)
    res = run_main("fit", L_path, "--dependencies", "2-6", "-o", declared)
    assert res.returncode == 0, res.stderr
    model = LabelModel.load(declared)
    assert model.dependencies_.tolist() == [[2, 6]]
    res = run_main("inspect", declared)
    assert "declared dependencies: 2-6 (coupling" in res.stdout
    res = run_main("dependencies", declared, "--top", "3")
    assert res.returncode == 0, res.stderr
    assert "2-6" not in res.stdout and len(res.stdout.strip().splitlines()) == 5


def test_command_line_errors(tmp_path):
    _, path = _frames(tmp_path)
    plain = tmp_path / "plain.json"
    assert run_main("fit", path, "-o", plain).returncode == 0
    for args, message in (
        (("fit", path, "--dependencies", "0_1", "-o", plain), "pairs of LF indices"),
        (("fit", path, "--dependencies", "0-9", "-o", plain), "out of range"),
        (("predict", plain, path, "--sequence-ids", path, "-o", "-"), "sequence models only"),
        (("fit", path, "--sequence-ids", tmp_path / "ids.npy", "-o", plain), "ids.npy"),
    ):
        if "ids.npy" in str(args):
            np.save(tmp_path / "ids.npy", np.arange(3))
        res = run_main(*args)
        assert res.returncode == 2
        assert message in res.stderr, res.stderr
