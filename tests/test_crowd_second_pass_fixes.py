"""Defects found by a second fuzzing pass of tripletws.crowd and ``tripletws aggregate``, one test
each (every one failed before its fix)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from test_crowd import cli

pd = pytest.importorskip("pandas")
crowd_mod = pytest.importorskip("tripletws.crowd")
from_answers, aggregate = crowd_mod.from_answers, crowd_mod.aggregate


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


def test_integer_labels_beyond_int64():
    """Labels such as 10**20 (an object column) raised OverflowError in from_answers, and labels
    beyond int64 (a uint64 column's 2**63) raised it again where aggregate's series made them Int64."""
    import numpy as np

    big = pd.Series([10**20, 0, 10**20, 0, 0, 10**20, 10**20, 0], dtype=object)
    df = pd.DataFrame({"task": list("aaabbccc"), "worker": list("uvwuvuvw"), "label": big})
    assert from_answers(df).classes == (0, 10**20)
    assert aggregate(df).to_dict() == {"a": 10**20, "b": 0, "c": 10**20}
    df["label"] = np.array([2**63, 0, 2**63, 0, 0, 2**63, 2**63, 0], dtype=np.uint64)
    assert aggregate(df).to_dict() == {"a": 2**63, "b": 0, "c": 2**63}
    df["label"] = [2**63 - 1, 0, 2**63 - 1, 0, 0, 5, 5, 0]  # int64 still: nullable Int64 as before
    assert str(aggregate(df).dtype) == "Int64"


def test_a_path_given_as_answers_is_named():
    """from_answers("answers.csv") (a path, as crowd-kit users may pass) said only pandas'
    "DataFrame constructor not properly called!"."""
    from pathlib import Path as P

    for given in ("answers.csv", P("answers.csv")):
        with pytest.raises(ValueError, match=r"answers are a table .*got a \w+ 'answers.csv': read the file"):
            from_answers(given)
    with pytest.raises(ValueError, match=r"answers are a table .* got int"):
        aggregate(5)


def test_an_unhashable_label_names_its_answer():
    """A dict or list as a label said "the labels cannot be sorted into classes (unhashable type:
    'dict'); pass classes=", which cannot help, and named no answer."""
    df = pd.DataFrame({"task": list("aaab"), "worker": list("uvwu"), "label": ["x", "y", {"a": 1}, "x"]})
    with pytest.raises(
        ValueError, match=r"answer 2 \(index 2\) has 'label' \{'a': 1\}: a dict cannot be a label"
    ):
        from_answers(df)


def test_classes_given_as_a_set_a_text_or_with_a_missing_value():
    """classes= took a set (its order, hence the class codes and aggregate_proba's columns, changed
    with the interpreter's hash seed), a text ("cat" read as the classes c, a, t) and a missing
    value (None, NaN: a class no answer can have, unknown as a gold label)."""
    import numpy as np

    df = pd.DataFrame({"task": list("aaabbccc"), "worker": list("uvwuvuvw"), "label": list("xyxyyxxy")})
    for given, said in (
        ({"x", "y"}, "a set has no order"),
        (frozenset("xy"), "a set has no order"),
        ("xy", "one text is not a list of labels"),
        (5, "not a list of labels"),
        (["x", "y", None], "not missing values"),
        (["x", "y", np.nan], "not missing values"),
    ):
        with pytest.raises(ValueError, match=said):
            from_answers(df, classes=given)
    assert from_answers(df, classes=("y", "x")).classes == ("y", "x")


def test_cli_parquet_bool_labels_are_written_back_as_booleans(tmp_path):
    """A Parquet answers file with a boolean label column got its labels written back as the text
    "True" / "False" (every object column of the output was made text)."""
    pytest.importorskip("pyarrow")
    src, out = tmp_path / "answers.parquet", tmp_path / "labels.parquet"
    pd.DataFrame(
        {
            "task": list("aabbbccc"),
            "worker": list("uvuvwuvw"),
            "label": [True, False, True, True, False, True, True, True],
        }
    ).to_parquet(src, index=False)
    rc, _, err = cli("aggregate", str(src), "-o", str(out), "--tie-break", "abstain")
    assert rc == 0, err
    got = pd.read_parquet(out)
    assert str(got["label"].dtype) == "boolean"
    assert got["label"].isna().tolist() == [True, False, False]  # task a's tie, left empty
    assert got["label"].iloc[1:].tolist() == [True, True]


def test_ids_and_labels_that_differ_only_by_spaces_are_warned_about(tmp_path):
    """Labels "x" and " x" (a CSV written with a space after a comma) became two classes, and task
    ids "a" and "a " two tasks, silently: each split the answers of what was meant as one."""
    df = pd.DataFrame(
        {"task": ["a", "a ", "a", "b", "b"], "worker": list("uvwuv"), "label": ["x", " x", "x", "y", "y"]}
    )
    with pytest.warns(UserWarning) as caught:
        crowd = from_answers(df)
    said = [str(w.message) for w in caught]
    assert any("task ids 'a' and 'a ' (column 'task') differ only by spaces" in m for m in said), said
    assert any("labels ' x' and 'x' (column 'label') differ only by spaces" in m for m in said), said
    assert crowd.classes == (" x", "x", "y")  # kept as given
    src = answers_csv(tmp_path, "task,worker,label\na,u,x\na,v, x\na,w,x\nb,u,y\nb,v,y\n")
    rc, _, err = cli("aggregate", str(src), "-o", "-")
    assert rc == 0 and "labels ' x' and 'x' (column 'label') differ only by spaces" in err


def test_cli_csv_header_naming_a_read_column_twice(tmp_path):
    """A CSV header "task,worker,label,label": pandas renamed the second column label.1 and the
    first was read as the labels without a word (from_answers' own check never saw the twin)."""
    src = answers_csv(tmp_path, "\ufefftask,worker,label,label\na,u,x,y\na,v,y,y\na,w,x,y\n")
    rc, out, err = cli("aggregate", str(src), "-o", "-")
    assert rc == 2 and out == ""
    assert "the header names 2 columns 'label' (columns 3, 4 of 4)" in err
    extra = answers_csv(
        tmp_path, "task,worker,label,note,note\na,u,x,1,2\na,v,y,1,2\na,w,x,1,2\n", "extra.csv"
    )
    rc, _, err = cli("aggregate", str(extra), "-o", "-")  # twins among columns not read: no matter
    assert rc == 0, err


def test_cli_csv_with_another_separator_is_named(tmp_path):
    """A CSV separated by ';' or tabs (a spreadsheet's export) was said to lack the task column,
    its one column 'task;worker;label' listed, without saying the separator was the cause."""
    for sep, shown in ((";", "';'"), ("\t", "'\\t'")):
        src = answers_csv(tmp_path, sep.join(["task", "worker", "label"]) + "\n" + sep.join("aux") + "\n")
        rc, _, err = cli("aggregate", str(src), "-o", "-")
        assert rc == 2 and f"is one column: the fields are separated by {shown}" in err, err
