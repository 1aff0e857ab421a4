"""One naming rule for probability columns: ``tripletws predict`` and ``tripletws aggregate --proba``
both write ``p_<label>`` where the model knows its classes' labels, ``p_<code>`` otherwise."""

from __future__ import annotations

import csv
import importlib.util

import numpy as np
import pytest
from test_cli import run_main

from tripletws.datasets import make_synthetic
from tripletws.files import write_array
from tripletws.predictions import proba_columns


def _header(path) -> list[str]:
    with open(path, newline="") as fh:
        return next(csv.reader(fh))


def test_proba_columns_rule():
    assert proba_columns(3) == ["p_0", "p_1", "p_2"]
    assert proba_columns(2, ("neg", "pos")) == ["p_neg", "p_pos"]
    assert proba_columns(2, (True, False)) == ["p_True", "p_False"]
    with pytest.raises(ValueError, match="3 labels for cardinality=2"):
        proba_columns(2, ("a", "b", "c"))
    with pytest.raises(ValueError, match="'p_1'"):
        proba_columns(2, (1, "1"))


def test_predict_csv_names_columns_by_class_code(tmp_path):
    data = make_synthetic(400, 5, 3, coverage=0.6, random_state=3)
    np.save(tmp_path / "L.npy", data.L)
    assert run_main("fit", tmp_path / "L.npy", "-o", tmp_path / "m.json").returncode == 0
    res = run_main("predict", tmp_path / "m.json", tmp_path / "L.npy", "-o", tmp_path / "P.csv")
    assert res.returncode == 0, res.stderr
    assert _header(tmp_path / "P.csv") == ["p_0", "p_1", "p_2"]
    res = run_main("predict", tmp_path / "m.json", tmp_path / "L.npy", "-o", "-")
    assert res.stdout.splitlines()[0] == "p_0,p_1,p_2"


def test_predict_with_a_crowd_model_matches_aggregate_proba(tmp_path):
    pd = pytest.importorskip("pandas")
    from tripletws.crowd import from_answers

    data = make_synthetic(600, 6, 3, coverage=0.5, random_state=5)
    r, c = np.nonzero(data.L >= 0)
    labels = np.array(["neg", "neu", "pos"], dtype=object)
    answers = pd.DataFrame(
        {"task": [f"t{i}" for i in r], "worker": [f"w{j}" for j in c], "label": labels[data.L[r, c]]}
    )
    answers.to_csv(tmp_path / "answers.csv", index=False)
    res = run_main(
        "aggregate",
        tmp_path / "answers.csv",
        "--proba",
        "--model-out",
        tmp_path / "crowd.json",
        "-o",
        tmp_path / "agg.csv",
    )
    assert res.returncode == 0, res.stderr
    agg = pd.read_csv(tmp_path / "agg.csv")
    proba = ["p_neg", "p_neu", "p_pos"]
    assert list(agg.columns) == ["task", "label", *proba]

    crowd = from_answers(answers)
    write_array(tmp_path / "L.csv", crowd.dense(), columns=crowd.worker_names)
    res = run_main("predict", tmp_path / "crowd.json", tmp_path / "L.csv", "-o", tmp_path / "P.csv")
    assert res.returncode == 0, res.stderr
    got = pd.read_csv(tmp_path / "P.csv")
    assert list(got.columns) == proba  # the same names as aggregate --proba's
    np.testing.assert_allclose(got.to_numpy(), agg[proba].to_numpy(), atol=1e-9)
    if importlib.util.find_spec("pyarrow") is not None:
        res = run_main("predict", tmp_path / "crowd.json", tmp_path / "L.csv", "-o", tmp_path / "P.parquet")
        assert res.returncode == 0, res.stderr
        assert list(pd.read_parquet(tmp_path / "P.parquet").columns) == proba
