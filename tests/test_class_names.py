"""A model fitted on crowd answers keeps the labels its class codes stand for (``class_names_``), saves
them, and refuses votes whose codes stand for other labels (new answers without one of the labels
were coded otherwise, and the same code meant another label without a word)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from conftest import signed_record

from tripletws import LabelModel

pd = pytest.importorskip("pandas")
from tripletws.crowd import from_answers  # noqa: E402


def answers(n_tasks: int, labels: list, seed: int, workers: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(labels), n_tasks)
    rows = []
    for t in range(n_tasks):
        for w in range(workers):
            code = y[t] if rng.random() < 0.75 else rng.integers(0, len(labels))
            rows.append((f"t{t}", f"w{w}", labels[code]))
    return pd.DataFrame(rows, columns=["task", "worker", "label"])


def fitted(df: pd.DataFrame) -> tuple[LabelModel, object]:
    crowd = from_answers(df)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(crowd.cardinality).fit(crowd.votes)
    return model, crowd


def test_a_crowd_fit_keeps_and_saves_its_labels(tmp_path):
    model, crowd = fitted(answers(200, ["ant", "bee", "cat"], seed=1))
    assert model.class_names_ == ("ant", "bee", "cat") == tuple(crowd.classes)
    model.save(tmp_path / "m.json")
    loaded = LabelModel.load(tmp_path / "m.json")
    assert loaded.class_names_ == model.class_names_
    np.testing.assert_allclose(
        loaded.predict_proba(crowd.votes), model.predict_proba(crowd.votes), atol=1e-12
    )


def test_new_answers_coded_otherwise_are_refused_and_coded_as_the_model_they_work(tmp_path):
    model, _ = fitted(answers(200, ["ant", "bee", "cat"], seed=2))
    model.save(tmp_path / "m.json")
    loaded = LabelModel.load(tmp_path / "m.json")
    new = answers(30, ["bee", "cat"], seed=3)  # no "ant": read alone, "bee" would be code 0
    alone = from_answers(new, workers=loaded.lf_names_)
    with pytest.raises(ValueError, match="class_names_") as info:
        loaded.predict_proba(alone.votes)
    assert "'bee', 'cat'" in str(info.value) and "'ant'" in str(info.value)
    coded = from_answers(new, workers=loaded.lf_names_, classes=loaded.class_names_)
    P = loaded.predict_proba(coded.votes)
    assert P.shape == (30, 3)
    labels = coded.series(P.argmax(axis=1))
    assert set(labels) <= {"bee", "cat", "ant"}


def test_a_stream_refuses_a_batch_coded_otherwise():
    model, _ = fitted(answers(200, ["ant", "bee", "cat"], seed=4))
    other = from_answers(answers(50, ["cat", "dog", "eel"], seed=5), workers=model.lf_names_)
    with pytest.raises(ValueError, match="codes the labels"):
        model.partial_fit(other.votes)


def test_numbers_and_text_stay_apart_through_a_file(tmp_path):
    df = answers(120, [1, "1", 2.5], seed=6)
    model, crowd = fitted(df)
    model.save(tmp_path / "m.json")
    loaded = LabelModel.load(tmp_path / "m.json")
    assert [type(v) for v in loaded.class_names_] == [type(v) for v in model.class_names_]
    assert len(set(map(repr, loaded.class_names_))) == 3
    np.testing.assert_allclose(
        loaded.predict_proba(crowd.votes), model.predict_proba(crowd.votes), atol=1e-12
    )


def test_a_plain_matrix_fit_has_no_labels(tmp_path):
    L = np.array([[0, 1, 0, -1], [1, 1, 0, 1], [0, 0, 1, 0], [1, -1, 1, 1]] * 10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2).fit(L)
    assert model.class_names_ is None
    model.save(tmp_path / "m.json")
    assert "class_names" not in json.loads((tmp_path / "m.json").read_text())["state"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["ant", "bee"], "2 labels for 3 classes"),
        (["ant", "ant", "bee"], "repeats a label"),
        ([{"a": 1}, "b", "c"], "list of labels"),
        ("ant", "list of labels"),
    ],
)
def test_a_damaged_class_names_field_is_named(tmp_path, value, message):
    model, _ = fitted(answers(100, ["ant", "bee", "cat"], seed=7))
    path = tmp_path / "m.json"
    model.save(path)
    record = json.loads(path.read_text())
    record["state"]["class_names"] = value
    path.write_text(json.dumps(signed_record(record)))
    with pytest.raises(ValueError, match=message):
        LabelModel.load(path)


@pytest.mark.parametrize(
    ("workers", "said"), [("w0w1", "one text"), ({"w0", "w1"}, "a set has no order"), (3, "not a list")]
)
def test_workers_given_as_one_text_or_a_set_are_refused(workers, said):
    """workers= as one text was read as its characters, and a set put the columns in hash order."""
    with pytest.raises(ValueError, match=f"workers must list the workers in order.*{said}"):
        from_answers(answers(5, ["a", "b"], seed=8, workers=2), workers=workers)


def test_inspect_shows_the_labels_of_a_crowd_model(tmp_path):
    """``tripletws inspect`` printed P(Y=0), P(Y=1), ... of a crowd model without the labels they are."""
    from test_crowd import cli

    answers(60, ["ant", "bee", "cat"], seed=9).to_csv(tmp_path / "a.csv", index=False)
    code, _, err = cli(
        "aggregate",
        str(tmp_path / "a.csv"),
        "-o",
        str(tmp_path / "o.csv"),
        "--model-out",
        str(tmp_path / "m.json"),
    )
    assert code == 0, err
    code, out, err = cli("inspect", str(tmp_path / "m.json"))
    assert code == 0, err
    assert "classes: 0 = 'ant', 1 = 'bee', 2 = 'cat'" in out


def test_lf_summary_names_its_rows_by_the_lfs():
    """lf_summary indexed its table 0..m-1 even for a DataFrame or a model fitted on named columns
    (LFAnalysis names its rows)."""
    from tripletws.analysis import lf_summary

    model, crowd = fitted(answers(80, ["ant", "bee"], seed=10))
    table = lf_summary(crowd.votes, model=model)
    assert list(table.index) == list(model.lf_names_)
    frame = pd.DataFrame(crowd.dense(), columns=[f"lf_{j}" for j in range(crowd.L.shape[1])])
    assert list(lf_summary(frame).index) == list(frame.columns)
    assert list(lf_summary(frame.to_numpy()).index) == list(range(frame.shape[1]))
