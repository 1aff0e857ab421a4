"""``LabelModel(em_max_rows=...)``: None is each model's own cap of distinct rows (20 000 for the
annotator model, 2 000 000 for the class-conditional one); a number caps the annotator's rows too,
and files written before schema 3 (when the annotator ignored it) load as the same models."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from conftest import signed_record

from tripletws import LabelModel
from tripletws.models import Options, get_solver
from tripletws.models.annotator import ANNOTATOR_MAX_ROWS
from tripletws.rows import DEFAULT_MAX_UNIQUE_ROWS


def crowd(n_tasks: int, n_workers: int, per_task: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A one-coin crowd: each task seen by ``per_task`` of the workers (nearly every row distinct)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n_tasks)
    skill = rng.uniform(0.4, 0.9, n_workers)
    L = -np.ones((n_tasks, n_workers), dtype=np.int8)
    for t in range(n_tasks):
        w = rng.choice(n_workers, per_task, replace=False)
        right = rng.random(per_task) < skill[w]
        L[t, w] = np.where(right, y[t], (y[t] + rng.integers(1, k, per_task)) % k)
    return L, y


def fit_notes(L: np.ndarray, k: int, **kw) -> tuple[LabelModel, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LabelModel(k, **kw).fit(L)
    return model, [str(w.message) for w in caught]


def test_none_is_each_models_own_cap():
    assert LabelModel().em_max_rows is None
    assert get_solver("annotator").needs(Options(), 10).rows == ANNOTATOR_MAX_ROWS
    assert get_solver("annotator").needs(Options(em_max_rows=500), 10).rows == 500
    cc = get_solver("class_conditional")
    assert cc.needs(Options(em_steps=3), 10).rows == DEFAULT_MAX_UNIQUE_ROWS
    assert cc.needs(Options(em_steps=3, em_max_rows=700), 10).rows == 700


def test_a_small_cap_on_a_crowd_is_said_and_a_large_one_fits_every_row():
    L, _ = crowd(3_000, 300, 3, 3, seed=1)
    _, notes = fit_notes(L, 3, em_max_rows=1_000)
    said = [n for n in notes if "hash sample" in n]
    assert len(said) == 1 and "em_max_rows=" in said[0] and "1000 distinct rows" in said[0]
    _, notes = fit_notes(L, 3)  # 3 000 distinct rows, under the annotator's own cap
    assert not [n for n in notes if "hash sample" in n]
    assert not [n for n in notes if "does not read" in n]  # the annotator reads it now


def test_an_lf_set_under_its_cap_says_nothing():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 40_000)
    votes = np.where(rng.random((40_000, 12)) < 0.75, y[:, None], 1 - y[:, None])
    L = np.where(rng.random((40_000, 12)) < 0.6, votes, -1)  # more than 20 000 distinct rows
    _, notes = fit_notes(L, 2)
    assert not [n for n in notes if "hash sample" in n]  # each LF keeps thousands of votes


@pytest.mark.parametrize("value", [0, -1, 1.5, "all", True])
def test_bad_caps_are_named(value):
    with pytest.raises(ValueError, match="em_max_rows"):
        LabelModel(em_max_rows=value).fit(np.array([[0, 1, 0], [1, 1, 0], [0, 0, 1]]))


def test_the_symmetric_model_names_a_cap_it_does_not_read():
    L, _ = crowd(300, 10, 5, 2, seed=3)
    _, notes = fit_notes(L, 2, model="symmetric", em_max_rows=1_000)
    assert any("em_max_rows=1000 ignored" in n for n in notes)


def _as_schema_2(path, em_max_rows) -> None:
    record = json.loads(path.read_text())
    record["schema_version"] = 2
    record["params"]["em_max_rows"] = em_max_rows
    path.write_text(json.dumps(signed_record(record)))


@pytest.mark.parametrize(
    ("model", "written", "read"),
    [
        ("annotator", 2_000_000, None),  # the old default, which the annotator ignored
        ("annotator", 5_000, None),  # a value the annotator ignored: the same model
        ("class_conditional", 2_000_000, None),  # the old default: the same cap
        ("class_conditional", 1_000, 1_000),  # a value it read
        ("symmetric", 2_000_000, None),  # the old default: no warning on a refit
    ],
)
def test_files_before_schema_3_load_as_the_same_models(tmp_path, model, written, read):
    L, _ = crowd(400, 12, 4, 2, seed=4)
    path = tmp_path / "m.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = LabelModel(2, model=model).fit(L)
    fitted.save(path)
    assert json.loads(path.read_text())["schema_version"] == 3
    _as_schema_2(path, written)
    loaded = LabelModel.load(path)
    assert loaded.em_max_rows == read
    np.testing.assert_allclose(loaded.predict_proba(L), fitted.predict_proba(L), rtol=0, atol=1e-12)


def test_aggregate_max_rows_reaches_the_model(tmp_path):
    """``tripletws aggregate --max-rows N`` fits with ``em_max_rows=N`` (saved with the model)."""
    pd = pytest.importorskip("pandas")
    from test_crowd import cli

    L, _ = crowd(600, 40, 3, 2, seed=5)
    r, c = np.nonzero(L >= 0)
    pd.DataFrame({"task": r, "worker": c, "label": L[r, c]}).to_csv(tmp_path / "a.csv", index=False)
    code, _, err = cli(
        "aggregate",
        str(tmp_path / "a.csv"),
        "-o",
        str(tmp_path / "o.csv"),
        "--max-rows",
        "100",
        "--model-out",
        str(tmp_path / "m.json"),
    )
    assert code == 0, err
    assert LabelModel.load(tmp_path / "m.json").em_max_rows == 100
    assert "hash sample" in err  # 600 distinct tasks, 100 kept: each worker keeps few answers
    code, _, err = cli("aggregate", str(tmp_path / "a.csv"), "-o", str(tmp_path / "o.csv"), "--max-rows", "0")
    assert code != 0 and "--max-rows" in err
