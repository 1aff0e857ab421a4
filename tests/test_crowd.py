"""Crowdsourced answers in long form (task, worker, label) <-> label matrices (tripletws.crowd, and the
command line's ``aggregate``)."""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from test_cli import run_main

from tripletws import LabelModel, MajorityLabelVoter
from tripletws.datasets import make_synthetic
from tripletws.lf_names import NamedVotes

pd = pytest.importorskip("pandas")
crowd_mod = pytest.importorskip("tripletws.crowd")
from_answers, aggregate, aggregate_proba = (
    crowd_mod.from_answers,
    crowd_mod.aggregate,
    crowd_mod.aggregate_proba,
)

DATA = Path(os.environ.get("TRIPLETWS_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def cli(*args: str) -> tuple[int, str, str]:
    """The command line in this process: (exit status, stdout, stderr)."""
    res = run_main(*args)
    return res.returncode, res.stdout, res.stderr


def long_form(L: np.ndarray, labels: list | None = None, seed: int = 0) -> pd.DataFrame:
    """Every vote of ``L`` as one answer row (shuffled), tasks ``t<row>`` and workers ``w<column>``."""
    r, c = np.nonzero(L >= 0)
    values = L[r, c] if labels is None else np.asarray(labels, dtype=object)[L[r, c]]
    df = pd.DataFrame({"task": [f"t{i}" for i in r], "worker": [f"w{j}" for j in c], "label": values})
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def reorder(L: np.ndarray, crowd) -> np.ndarray:
    """``L`` with its rows and columns in the order of the crowd matrix's tasks and workers."""
    rows = [int(t[1:]) for t in crowd.tasks]
    cols = [int(w[1:]) for w in crowd.workers]
    return L[np.ix_(rows, cols)]


@pytest.fixture(scope="module")
def synth():
    d = make_synthetic(1500, 9, 3, coverage=0.35, random_state=11)
    keep = (d.L >= 0).any(axis=1)  # a task without answers has no row in long form
    return d.L[keep], d.y[keep]


def test_matrix_round_trip(synth):
    """The long form read back is the same matrix, rows and columns in first-appearance order."""
    L, _ = synth
    crowd = from_answers(long_form(L))
    assert crowd.L.shape == L.shape and crowd.cardinality == 3 and crowd.classes == (0, 1, 2)
    np.testing.assert_array_equal(crowd.dense(), reorder(L, crowd))
    assert crowd.L.nnz == int((L >= 0).sum())


def test_text_labels_sorted_and_given_order(synth):
    L, _ = synth
    df = long_form(L, ["neg", "neu", "pos"])
    crowd = from_answers(df)
    assert crowd.classes == ("neg", "neu", "pos")
    np.testing.assert_array_equal(crowd.dense(), reorder(L, crowd))
    flipped = from_answers(df, classes=["pos", "neu", "neg"])
    dense = reorder(L, flipped)
    np.testing.assert_array_equal(flipped.dense(), np.where(dense >= 0, 2 - dense, -1))


def test_integer_labels_keep_their_codes():
    """Whole-number labels are class codes: a class nobody answers still has its code."""
    df = pd.DataFrame(
        {"task": [1, 1, 2, 2, 3], "worker": ["a", "b", "a", "c", "b"], "label": [0, 2, 2, 2, 0.0]}
    )
    crowd = from_answers(df)
    assert crowd.classes == (0, 1, 2)
    np.testing.assert_array_equal(crowd.dense(), [[0, 2, -1], [2, -1, 2], [-1, 0, -1]])


@pytest.mark.parametrize(
    "labels, classes, codes",
    [
        # numpy and Python ints in an object column: class codes, as an integer column's
        ([np.int64(0), 2, np.int32(2), 2, 0], (0, 1, 2), [[0, 2, -1], [2, -1, 2], [-1, 0, -1]]),
        # a bool among them: labels, not codes (True is the second of three labels)
        ([0, True, 2, 2, 0], (0, True, 2), [[0, 1, -1], [2, -1, 2], [-1, 0, -1]]),
        # beyond int64: labels, not codes, in sorted order
        ([0, 10**20, 2, 2, 0], (0, 2, 10**20), [[0, 2, -1], [1, -1, 1], [-1, 0, -1]]),
    ],
)
def test_object_integer_labels(labels, classes, codes):
    """An object column of whole numbers codes as an integer one (read in C, not answer by answer);
    a bool or a number beyond int64 among them makes them labels."""
    df = pd.DataFrame(
        {
            "task": [1, 1, 2, 2, 3],
            "worker": ["a", "b", "a", "c", "b"],
            "label": pd.Series(labels, dtype=object),
        }
    )
    crowd = from_answers(df)
    assert crowd.classes == classes
    assert [type(c) for c in crowd.classes] == [type(c) for c in classes]
    np.testing.assert_array_equal(crowd.dense(), codes)


def test_performer_column_of_old_crowd_kit():
    df = pd.DataFrame({"task": ["x", "y"], "performer": ["p", "q"], "label": ["a", "b"]})
    crowd = from_answers(df)
    assert list(crowd.workers) == ["p", "q"] and crowd.workers.name == "performer"


@pytest.mark.parametrize(
    "column, message",
    [("task", "answer 2 (index 12) has no 'task'"), ("label", "answer 2 (index 12) has no 'label'")],
)
def test_missing_value_names_its_row(column, message):
    df = pd.DataFrame(
        {"task": ["a", "b", "c"], "worker": ["u", "v", "w"], "label": ["x", "y", "x"]}, index=[10, 11, 12]
    )
    df.loc[12, column] = None
    with pytest.raises(ValueError, match=re.escape(message)):
        from_answers(df)


def test_missing_column_and_bad_options():
    df = pd.DataFrame({"item": [1], "worker": [1], "label": [1]})
    with pytest.raises(ValueError, match=r"no task column 'task' .*task= \(the command line's --task\)"):
        from_answers(df)
    with pytest.raises(ValueError, match="three different columns"):
        from_answers(df, task="item", label="item")
    with pytest.raises(ValueError, match="duplicates must be one of"):
        from_answers(df, task="item", duplicates="keep")


def test_label_outside_classes_is_named():
    df = pd.DataFrame({"task": [1, 2], "worker": [1, 2], "label": ["cat", "cow"]}, index=[5, 6])
    with pytest.raises(ValueError, match=r"answer 1 \(index 6\) has label 'cow', which is not one of"):
        from_answers(df, classes=["cat", "dog"])
    with pytest.raises(ValueError, match="repeats a label"):
        from_answers(df, classes=["cat", "cat", "cow"])


def test_one_label_only_needs_classes():
    df = pd.DataFrame({"task": [1, 2], "worker": [1, 2], "label": ["cat", "cat"]})
    with pytest.raises(ValueError, match=r"one label only .*pass classes="):
        from_answers(df)
    assert from_answers(df, classes=["cat", "dog"]).cardinality == 2


def test_duplicates_refused_or_resolved():
    df = pd.DataFrame(
        {"task": ["a", "a", "b", "a"], "worker": ["u", "v", "u", "u"], "label": ["x", "y", "x", "y"]}
    )
    with pytest.raises(ValueError, match=r"worker 'u' answers task 'a' twice \(answers 0 and 3"):
        from_answers(df)
    first = from_answers(df, duplicates="first")
    last = from_answers(df, duplicates="last")
    assert first.dense()[0, 0] == 0 and last.dense()[0, 0] == 1  # x = 0, y = 1
    assert first.L.nnz == last.L.nnz == 3


def test_fixed_workers_for_a_fitted_model(synth):
    """``workers=`` puts the columns in a model's order; an unknown worker is refused."""
    L, _ = synth
    df = long_form(L)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        crowd = from_answers(df)
        model = LabelModel(cardinality=3).fit(crowd.votes)
    assert model.lf_names_ == tuple(crowd.worker_names)
    part = df[df["task"].isin(crowd.tasks[:50])].sample(frac=1.0, random_state=3)
    again = from_answers(part, workers=model.lf_names_)
    rows = again.tasks.map(dict(zip(crowd.tasks, range(len(crowd.tasks)), strict=True))).to_numpy()
    np.testing.assert_allclose(
        model.predict_proba(again.votes), model.predict_proba(crowd.votes)[rows], atol=1e-12
    )
    with pytest.raises(ValueError, match="another order"):
        model.predict_proba(from_answers(part).votes)  # other column order: named, not misread
    with pytest.raises(ValueError, match=r"not among workers= .*'w0'"):
        from_answers(df, workers=[w for w in model.lf_names_ if w != "w0"])
    wider = from_answers(part, workers=[*model.lf_names_, "newcomer"])
    assert wider.L.shape[1] == L.shape[1] + 1 and wider.L[:, [L.shape[1]]].nnz == 0


def test_series_frame_and_gold(synth):
    L, y = synth
    crowd = from_answers(long_form(L, ["a", "b", "c"]))
    preds = np.zeros(crowd.L.shape[0], dtype=np.int64)
    preds[0] = -1
    s = crowd.series(preds)
    assert s.name == "agg_label" and s.index.equals(crowd.tasks) and pd.isna(s.iloc[0]) and s.iloc[1] == "a"
    probs = np.full((crowd.L.shape[0], 3), 1 / 3)
    f = crowd.frame(probs)
    assert list(f.columns) == ["a", "b", "c"] and f.index.equals(crowd.tasks)
    with pytest.raises(ValueError, match="one per task"):
        crowd.series(preds[:-1])
    with pytest.raises(ValueError, match="not a class code"):
        crowd.series(np.full_like(preds, 3))
    gold = pd.Series(np.array(["a", "b", "c"], dtype=object)[y], index=[f"t{i}" for i in range(len(y))])
    codes = crowd.gold(gold.sample(frac=1.0, random_state=1))
    np.testing.assert_array_equal(codes, y[[int(t[1:]) for t in crowd.tasks]])
    assert (crowd.gold({"t0": "b"}) >= 0).sum() == 1
    with pytest.raises(ValueError, match="without answers"):
        crowd.gold({"nobody": "a"})
    with pytest.raises(ValueError, match="gold label 'z' of task 't0'"):
        crowd.gold({"t0": "z"})
    ints = from_answers(long_form(L)).series(preds)
    assert str(ints.dtype) == "Int64" and ints.isna().iloc[0]


def test_named_sparse_votes_fit_as_dense(synth):
    """A fit on the crowd matrix (named sparse votes) is the fit on the same dense matrix."""
    L, _ = synth
    crowd = from_answers(long_form(L))
    dense = crowd.dense()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = LabelModel(cardinality=3).fit(crowd.votes).predict_proba(crowd.votes)
        b = LabelModel(cardinality=3).fit(dense).predict_proba(dense)
    np.testing.assert_allclose(a, b, atol=1e-9)
    with pytest.raises(ValueError, match=r"3 names for 9 columns"):
        NamedVotes(crowd.L, ["a", "b", "c"])


def test_aggregate_is_fit_predict(synth):
    L, y = synth
    df = long_form(L)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = aggregate(df)
        p = aggregate_proba(df)
        crowd = from_answers(df)
        model = LabelModel(cardinality=3).fit(crowd.dense())
    np.testing.assert_allclose(p.to_numpy(), model.predict_proba(crowd.dense()), atol=1e-9)
    assert s.index.equals(p.index) and np.allclose(p.sum(axis=1), 1.0)
    mv = aggregate(df, MajorityLabelVoter())
    truth = pd.Series(y, index=[f"t{i}" for i in range(len(y))])
    acc = (s == truth.loc[s.index]).mean()
    acc_mv = (mv == truth.loc[mv.index]).mean()
    # synthetic data from the model's own family: the fit is at least majority vote, within the
    # noise of a 1 500-row sample (one binomial standard error of the difference)
    assert acc >= acc_mv - np.sqrt(0.25 / len(y))
    with pytest.raises(TypeError, match="unexpected keyword"):
        aggregate(df, n_iter=10)


@pytest.mark.skipif(not (DATA / "weather_sentiment" / "all.npz").exists(), reason="shared data not found")
def test_real_crowd_set_through_long_form():
    """weather_sentiment's answers in long form, text labels: the same labels as the matrix's fit,
    and not below majority vote computed in the same test."""
    z = np.load(DATA / "weather_sentiment" / "all.npz")
    L, y = z["L"], z["y"]
    names = ["negative", "neutral", "positive"]
    df = long_form(L, names, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = aggregate(df)
        mv = aggregate(df, MajorityLabelVoter())
        direct = LabelModel(cardinality=3).fit(L).predict(L, tie_break_policy="random")
    truth = pd.Series(np.array(names, dtype=object)[y], index=[f"t{i}" for i in range(len(y))])
    acc = float((labels == truth.loc[labels.index]).mean())
    # against majority vote's expected accuracy under a uniform tie-break (one draw of its many ties
    # moves its accuracy by a point either way)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        P = aggregate_proba(df, MajorityLabelVoter())
    P = P.loc[mv.index, names].to_numpy()
    top = P >= P.max(axis=1, keepdims=True) - 1e-9
    gold = np.asarray([names.index(v) for v in truth.loc[mv.index.rename(None)].tolist()])
    mv_expected = float(np.mean(top[np.arange(len(gold)), gold] / top.sum(axis=1)))
    assert acc >= mv_expected - 0.005
    assert abs(acc - float((direct == y).mean())) <= 2 / len(y)  # ties hashed by task id here, by row there


# -- the command line ---------------------------------------------------------------------------


@pytest.fixture()
def answers_csv(tmp_path, synth):
    L, _ = synth
    df = long_form(L, ["neg", "neu", "pos"])
    df["task"] = df["task"].str.replace("t", "00", regex=False)  # ids with leading zeros
    path = tmp_path / "answers.csv"
    df.to_csv(path, index=False)
    return path, df


def test_cli_aggregate_csv(answers_csv, tmp_path):
    path, df = answers_csv
    out, model = tmp_path / "labels.csv", tmp_path / "crowd.json"
    rc, stdout, stderr = cli("aggregate", str(path), "-o", str(out), "--proba", "--model-out", str(model))
    assert rc == 0, stderr
    assert "aggregated" in stderr and "k=3" in stderr
    got = pd.read_csv(out, dtype={"task": str})
    assert list(got.columns) == ["task", "label", "p_neg", "p_neu", "p_pos"]
    assert got["task"].tolist() == list(pd.unique(df["task"]))  # zeros kept, first-appearance order
    assert set(got["label"]) <= {"neg", "neu", "pos"}
    np.testing.assert_allclose(got[["p_neg", "p_neu", "p_pos"]].sum(axis=1), 1.0, atol=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = aggregate(df.astype({"task": str}))
    assert got["label"].tolist() == expected.tolist()
    saved = json.loads(model.read_text())
    assert saved  # a model file
    rc, stdout, _ = cli("inspect", str(model))
    assert rc == 0 and "w0" in stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.csv", "crowd.json", "labels.csv"]


def test_cli_aggregate_parquet_and_stdout(answers_csv, tmp_path):
    pytest.importorskip("pyarrow")
    path, df = answers_csv
    pq = tmp_path / "answers.parquet"
    df.to_parquet(pq, index=False)
    out = tmp_path / "labels.parquet"
    rc, _, stderr = cli("aggregate", str(pq), "-o", str(out))
    assert rc == 0, stderr
    got = pd.read_parquet(out)
    assert list(got.columns) == ["task", "label"] and len(got) == df["task"].nunique()
    rc, stdout, _ = cli("aggregate", str(path), "-o", "-", "--tie-break", "abstain")
    assert rc == 0 and stdout.splitlines()[0] == "task,label"


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--task", "item"], "no task column 'item'"),
        (["--classes", "neg,pos"], "has label 'neu', which is not one of"),
        (["--classes", "neg,,pos"], "empty label"),
        (["--seed", "3"], "--seed draws the ties"),
        (["--model-out", "m.csv"], "--model-out writes a model file"),
    ],
)
def test_cli_aggregate_errors(answers_csv, tmp_path, extra, message):
    path, _ = answers_csv
    rc, _, stderr = cli("aggregate", str(path), "-o", str(tmp_path / "x.csv"), *extra)
    assert rc == 2 and message in stderr
    assert not (tmp_path / "x.csv").exists()


def test_cli_aggregate_duplicates(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("task,worker,label\n1,a,x\n1,b,y\n2,a,x\n2,c,y\n1,a,y\n3,b,x\n3,c,x\n")
    rc, _, stderr = cli("aggregate", str(path), "-o", str(tmp_path / "o.csv"))
    assert rc == 2 and "answers task '1' twice" in stderr
    rc, _, stderr = cli("aggregate", str(path), "-o", str(tmp_path / "o.csv"), "--duplicates", "last")
    assert rc == 0, stderr


def test_skills_are_the_workers_accuracies(synth):
    L, _ = synth
    crowd = from_answers(long_form(L))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(cardinality=3).fit(crowd.votes)
    skills = crowd.skills(model)
    assert skills.index.equals(crowd.workers) and skills.name == "skill"
    np.testing.assert_array_equal(skills.to_numpy(), model.accuracies_)
    other = from_answers(long_form(L), workers=crowd.worker_names[::-1])  # the same workers, reversed
    with pytest.raises(ValueError, match=re.escape("workers=model.lf_names_")):
        other.skills(model)
    with pytest.raises(ValueError, match="not on these 8 workers"):
        from_answers(long_form(L[:, :8])).skills(model)


def test_cli_aggregate_gold(answers_csv, tmp_path, synth):
    path, _ = answers_csv
    _, y = synth
    gold = tmp_path / "gold.csv"
    names = np.array(["neg", "neu", "pos"], dtype=object)
    pd.DataFrame({"task": [f"00{i}" for i in range(len(y))], "label": names[y]}).to_csv(gold, index=False)
    rc, _, stderr = cli("aggregate", str(path), "-o", str(tmp_path / "o.csv"), "--gold", str(gold))
    assert rc == 0, stderr
    line = next(x for x in stderr.splitlines() if x.startswith("gold labels of"))
    assert f"gold labels of {len(y)} tasks" in line and "majority vote" in line
    acc = float(line.split("accuracy ")[1].split()[0])
    got = pd.read_csv(tmp_path / "o.csv", dtype={"task": str}).set_index("task")["label"]
    truth = pd.Series(names[y], index=[f"00{i}" for i in range(len(y))])
    assert acc == pytest.approx(float((got == truth.loc[got.index]).mean()), abs=1e-4)
    bad = tmp_path / "bad.csv"
    bad.write_text("task,answer\n001,neg\n")
    rc, _, stderr = cli("aggregate", str(path), "-o", str(tmp_path / "p.csv"), "--gold", str(bad))
    assert rc == 2 and "no column 'label'" in stderr and not (tmp_path / "p.csv").exists()
    bad.write_text("task,label\nnobody,neg\n")
    rc, _, stderr = cli("aggregate", str(path), "-o", str(tmp_path / "p.csv"), "--gold", str(bad))
    assert rc == 2 and "without answers" in stderr


def test_aggregate_model_option_majority_vote_takes_two_workers(tmp_path):
    """``--model mv`` aggregates fewer than three workers (the default says so and names it) and its
    model file loads back; ``--max-rows`` is refused with a model that fits no rows."""
    answers = pd.DataFrame(
        {
            "task": ["a", "a", "b", "b", "c"],
            "worker": ["u", "v", "u", "v", "u"],
            "label": ["x", "y", "y", "y", "x"],
        }
    )
    answers.to_csv(tmp_path / "a.csv", index=False)
    out, model = str(tmp_path / "o.csv"), str(tmp_path / "m.json")
    code, _, err = cli("aggregate", str(tmp_path / "a.csv"), "-o", out)
    assert code != 0 and "--model mv" in err
    code, _, err = cli("aggregate", str(tmp_path / "a.csv"), "-o", out, "--model", "mv", "--model-out", model)
    assert code == 0, err
    labels = pd.read_csv(out)
    assert dict(zip(labels["task"], labels["label"], strict=True))["b"] == "y"
    assert type(MajorityLabelVoter.load(model)) is MajorityLabelVoter
    code, _, err = cli(
        "aggregate", str(tmp_path / "a.csv"), "-o", out, "--model", "symmetric", "--max-rows", "9"
    )
    assert code != 0 and "--max-rows" in err


def test_aggregate_names_a_csv_that_is_not_utf8(tmp_path):
    """A Latin-1 CSV said "not a readable CSV" with the codec's message; it says to save it as UTF-8."""
    (tmp_path / "a.csv").write_bytes("task,worker,label\nt1,ann,caf\xe9\nt1,bob,th\xe9\n".encode("latin-1"))
    code, _, err = cli("aggregate", str(tmp_path / "a.csv"), "-o", str(tmp_path / "o.csv"), "--model", "mv")
    assert code != 0 and "not UTF-8" in err and "0xe9" in err and "save the CSV as UTF-8" in err
