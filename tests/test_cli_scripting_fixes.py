"""Fixes from a round of scripting the command line (predict, evaluate, update, inspect, dependencies).

Each test failed before its fix; the old behaviour is in a comment beside it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from test_cli import run_main

from tripletws import LabelModel
from tripletws.datasets import make_synthetic


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A binary matrix, its gold labels, a fitted LabelModel and a fitted sequence model."""
    d = tmp_path_factory.mktemp("scripting")
    data = make_synthetic(600, 5, 2, coverage=0.5, random_state=8)
    np.save(d / "L.npy", data.L)
    np.save(d / "y.npy", data.y)
    np.save(d / "L4.npy", data.L[:, :4])  # one LF fewer than the models were fitted with
    for name, extra in (("m.json", ()), ("seq.json", ("--sequence",))):
        out = run_main("fit", d / "L.npy", "-o", d / name, *extra)
        assert out.returncode == 0, out.stderr
    return d


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_ctrl_c_is_one_line_exit_130_and_leaves_the_model_file(files, tmp_path, monkeypatch):
    # before: KeyboardInterrupt escaped main (a Python traceback on Ctrl-C)
    model = tmp_path / "m.json"
    model.write_bytes((files / "m.json").read_bytes())
    before = digest(model)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(LabelModel, "partial_fit", interrupted)
    out = run_main("update", model, files / "L.npy")
    assert out.returncode == 130
    assert out.stderr == "tripletws: interrupted\n" and out.stdout == ""
    assert digest(model) == before


def test_ctrl_c_during_the_write_leaves_the_old_file_and_no_temporary(files, tmp_path, monkeypatch):
    # before: a traceback (the atomic write itself already kept the old file)
    import tripletws.atomic

    model = tmp_path / "m.json"
    model.write_bytes((files / "m.json").read_bytes())
    before = digest(model)

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(tripletws.atomic.os, "fsync", interrupted)
    out = run_main("update", model, files / "L.npy")
    assert out.returncode == 130 and "Traceback" not in out.stderr
    assert digest(model) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_evaluate_names_the_file_of_a_matrix_of_another_width(files):
    # before: "L has 4 columns but the model was fitted with 5 LFs" (no file; predict names it)
    out = run_main("evaluate", files / "m.json", files / "L4.npy", files / "y.npy")
    assert out.returncode == 2
    assert f"{files / 'L4.npy'}: L has 4 columns" in out.stderr


def test_dependencies_names_the_file_of_a_matrix_of_another_width(files):
    # before: "data has m=4, k=2 but the model has m=5, k=2" (a Python argument, no file)
    for model in ("m.json", "seq.json"):
        out = run_main("dependencies", files / model, files / "L4.npy")
        assert out.returncode == 2
        assert (
            f"{files / 'L4.npy'}: L has 4 LFs (columns) but {files / model} was fitted with 5" in out.stderr
        )
        assert "data has" not in out.stderr


def test_update_of_a_sequence_model_names_the_batch_of_another_width(files, tmp_path):
    # before: "L_batch has 4 LFs but the model has seen 5" (no file named)
    model = tmp_path / "seq.json"
    model.write_bytes((files / "seq.json").read_bytes())
    before = digest(model)
    out = run_main("update", model, files / "L4.npy")
    assert out.returncode == 2
    assert f"{files / 'L4.npy'}: the batch has 4 LFs (columns) but {model} was fitted with 5" in out.stderr
    assert digest(model) == before


@pytest.mark.parametrize(
    ("args", "said"),
    [
        # before: "n_jobs must not be 0: ..." and "n_jobs=-100 leaves no thread ..."
        (
            ("predict", "{d}/m.json", "{d}/L.npy", "-o", "{t}/p.npy", "--jobs", "0"),
            "error: --jobs must not be 0",
        ),
        (
            ("predict", "{d}/m.json", "{d}/L.npy", "-o", "{t}/p.npy", "--jobs", "-100"),
            "error: --jobs -100 leaves",
        ),
        (
            ("update", "{d}/m.json", "{d}/L.npy", "-o", "{t}/u.json", "--jobs", "0"),
            "error: --jobs must not be 0",
        ),
        # before: "alpha must be a number in (0, 1), got 2.0"
        (("dependencies", "{d}/m.json", "--alpha", "2"), "error: --alpha must be a number in (0, 1)"),
    ],
)
def test_errors_name_the_option_not_the_python_argument(files, tmp_path, args, said):
    out = run_main(*(a.format(d=files, t=tmp_path) for a in args))
    assert out.returncode == 2 and said in out.stderr, out.stderr
    assert not (tmp_path / "u.json").exists()


@pytest.mark.parametrize("command", ["update", "fit"])
def test_a_missing_output_folder_is_named_as_given_before_the_work(files, tmp_path, command, monkeypatch):
    # before: the re-solve (or fit) ran first, then "/abs/path/no: no such folder" (not the -o given)
    def no_work(*args, **kwargs):
        raise AssertionError("the work ran before the output was checked")

    monkeypatch.setattr(LabelModel, "partial_fit", no_work)
    monkeypatch.setattr(LabelModel, "fit", no_work)
    target = tmp_path / "no" / "u.json"
    model = ("update", files / "m.json") if command == "update" else ("fit",)
    out = run_main(*model, files / "L.npy", "-o", target)
    assert out.returncode == 2
    assert f"-o {target}: the folder {target.parent} does not exist" in out.stderr


def test_an_output_that_is_a_folder_is_refused_before_the_work(files, tmp_path):
    # before: predict ran, then "/abs/path: is a directory, not a file"; update the same
    (tmp_path / "p.npy").mkdir()
    (tmp_path / "u.json").mkdir()
    out = run_main("predict", files / "m.json", files / "L.npy", "-o", tmp_path / "p.npy")
    assert out.returncode == 2 and "p.npy: that is a folder; name a file" in out.stderr
    out = run_main("update", files / "m.json", files / "L.npy", "-o", tmp_path / "u.json")
    assert out.returncode == 2 and "u.json: that is a folder; name a file" in out.stderr


def test_sequence_ids_for_a_label_model_are_refused_before_they_are_read(files, tmp_path):
    # before: the ids were read and checked first: "y.npy: --sequence-ids: sequence id 0 appears again
    # at row ...", blaming their order instead of the model, which takes no ids
    for command in (("update", files / "m.json", files / "L.npy", "-o", tmp_path / "u.json"),):
        out = run_main(*command, "--sequence-ids", files / "y.npy")
        assert out.returncode == 2
        assert "--sequence-ids applies to sequence models only" in out.stderr, out.stderr
    out = run_main("predict", files / "m.json", files / "L.npy", "-o", "-", "--sequence-ids", files / "y.npy")
    assert out.returncode == 2 and "--sequence-ids applies to sequence models only" in out.stderr
