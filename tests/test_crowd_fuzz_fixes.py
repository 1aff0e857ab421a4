"""Defects found by fuzzing tripletws.crowd and ``tripletws aggregate``, one test each (every one
failed before its fix)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from test_crowd import cli

pd = pytest.importorskip("pandas")
crowd_mod = pytest.importorskip("tripletws.crowd")
from_answers, aggregate = crowd_mod.from_answers, crowd_mod.aggregate


def small(**columns) -> pd.DataFrame:
    """Six answers: tasks a, b, c; workers u, v, w; columns replaced by ``columns``."""
    base = {
        "task": ["a", "a", "a", "b", "b", "c"],
        "worker": ["u", "v", "w", "u", "v", "w"],
        "label": ["x", "y", "x", "y", "y", "x"],
    }
    base.update(columns)
    return pd.DataFrame(base)


def test_worker_ids_equal_as_text_are_refused():
    """Workers 1 and "1" are two columns whose LF names would both be "1": the fit silently kept no
    names (lf_names_ None) and workers= merged the two into one column."""
    df = small(worker=[1, "1", 3, 1, "1", 3])
    with pytest.raises(ValueError, match=r"workers 1 and '1' are distinct ids with the same text '1'"):
        from_answers(df)
    with pytest.raises(ValueError, match="same text"):
        from_answers(df, workers=["1", "3"])
    assert from_answers(small(worker=[1, 2, 3, 1, 2, 3])).worker_names == ["1", "2", "3"]


def test_unhashable_ids_and_classes_are_value_errors():
    """A list as a task id, or as a class, was a bare TypeError (unhashable type: 'list')."""
    with pytest.raises(ValueError, match=r"answer 2 \(index 2\) has 'task' \[1\]: a list cannot be an id"):
        from_answers(small(task=["a", "a", [1], "b", "b", "c"]))
    with pytest.raises(ValueError, match="classes must hold hashable labels"):
        from_answers(small(), classes=[["x"], ["y"]])


def test_duplicate_column_name_is_named():
    """Two columns named label: an AttributeError ('DataFrame' object has no attribute 'dtype')."""
    df = pd.concat([small(), small()[["label"]]], axis=1)
    with pytest.raises(ValueError, match="the answers have 2 columns named 'label'"):
        from_answers(df)


def test_dense_writes_the_small_dtype_directly():
    """dense() went through an int64 copy of the whole matrix (16 s and 3.6 GB for 200 000 tasks x
    2 000 workers): now it writes int8 straight away, and equals the library's from_sparse."""
    from tripletws.matrix import from_sparse

    rng = np.random.default_rng(0)
    n = 5000
    df = pd.DataFrame(
        {"task": rng.integers(0, 800, n), "worker": rng.integers(0, 40, n), "label": rng.integers(0, 3, n)}
    )
    crowd = from_answers(df, duplicates="last")
    dense = crowd.dense()
    expected = from_sparse(crowd.L, crowd.cardinality)
    assert dense.dtype == expected.dtype == np.int8
    np.testing.assert_array_equal(dense, expected)
    last = df.drop_duplicates(["task", "worker"], keep="last")
    rows = crowd.tasks.get_indexer(last["task"])
    cols = crowd.workers.get_indexer(last["worker"])
    np.testing.assert_array_equal(dense[rows, cols], last["label"].to_numpy())
    assert (dense >= 0).sum() == len(last)

    import tracemalloc

    big = from_answers(
        pd.DataFrame(
            {"task": np.arange(20000) // 2, "worker": np.arange(20000) % 400, "label": np.arange(20000) % 2}
        )
    )
    tracemalloc.start()
    big.dense()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2 * big.L.shape[0] * big.L.shape[1]  # the int8 result, not an int64 detour (8x)


def test_empty_answers_and_too_few_workers_are_said_in_crowd_terms(tmp_path):
    """No answers read 'L_train has 0 labeling function(s) (columns)'; two workers said nothing of
    workers. Both in Python and on the command line (exit 2, one line)."""
    empty = small().iloc[:0]
    with pytest.raises(ValueError, match=r"the answers are empty \(no rows\)"):
        aggregate(empty)
    two = small(worker=["u", "v", "u", "u", "v", "v"], task=["a", "a", "b", "c", "b", "c"])
    with pytest.raises(
        ValueError, match=r"the answers have 2 worker\(s\) \(u, v\) .*at least 3 .*MajorityLabelVoter"
    ):
        aggregate(two)
    from tripletws import MajorityLabelVoter

    assert aggregate(two, MajorityLabelVoter()).index.tolist() == ["a", "b", "c"]
    header = tmp_path / "header.csv"
    header.write_text("task,worker,label\n")
    rc, _, stderr = cli("aggregate", str(header), "-o", str(tmp_path / "o.csv"))
    assert rc == 2 and stderr.strip().splitlines() == [
        "tripletws: error: the answers are empty (no rows): there is nothing to aggregate"
    ]
    few = tmp_path / "few.csv"
    two.to_csv(few, index=False)
    rc, _, stderr = cli("aggregate", str(few), "-o", str(tmp_path / "o.csv"))
    assert rc == 2 and len(stderr.strip().splitlines()) == 1 and "the answers have 2 worker(s)" in stderr
    assert not (tmp_path / "o.csv").exists()


def test_gold_and_skills_and_model_arguments_of_the_wrong_kind():
    """gold(DataFrame) read its columns as tasks ('2 task(s) without answers, e.g. 'task''), gold(None)
    was a TypeError; skills(MajorityLabelVoter()) an AttributeError; aggregate(df, LabelModel) (the
    class) a TypeError about set_params' self."""
    from tripletws import LabelModel, MajorityLabelVoter

    crowd = from_answers(small())
    with pytest.raises(
        ValueError, match=re.escape("got a DataFrame: pass df.set_index('task')[<label column>]")
    ):
        crowd.gold(pd.DataFrame({"task": ["a"], "label": ["x"]}))
    for bad in (None, "a", 3):
        with pytest.raises(ValueError, match="gold labels are a Series indexed by task or a mapping"):
            crowd.gold(bad)
    np.testing.assert_array_equal(crowd.gold([("b", "y")]), [-1, 1, -1])  # pairs still read
    with pytest.raises(ValueError, match="MajorityLabelVoter has no per-worker accuracies"):
        crowd.skills(MajorityLabelVoter())
    with pytest.raises(ValueError, match="not fitted yet"):
        crowd.skills(LabelModel())
    with pytest.raises(TypeError, match=re.escape("e.g. LabelModel(), not the class")):
        aggregate(small(), LabelModel)
    with pytest.raises(TypeError, match="got str"):
        aggregate(small(), "mv")


def test_cli_rows_with_more_fields_than_the_header_are_refused(tmp_path):
    """Every row one field longer than the header: pandas took the first field for an index, so the
    workers were read as tasks and the labels as workers, and the command wrote nonsense (exit 0)."""
    path = tmp_path / "a.csv"
    rows = [f"{t},{w},{lab},extra" for t, w, lab in zip("aaabbc", "uvwuvw", "xyxyyx", strict=True)]
    path.write_text("task,worker,label\n" + "\n".join(rows) + "\n")
    rc, _, stderr = cli("aggregate", str(path), "-o", str(tmp_path / "o.csv"))
    assert rc == 2 and len(stderr.strip().splitlines()) == 1
    assert "more fields than the header's 3 names" in stderr and not (tmp_path / "o.csv").exists()


def test_cli_labels_are_written_back_as_read(tmp_path):
    """Labels 01, 02 came back as 1, 2 and 1.0 as 1 (pandas read them as numbers); True/False were
    booleans that --classes True,False could not name. Plain numbers are still numbers (0..max)."""
    cases = {
        "01,02": (["01", "02", "01"], None),
        "1.0,2.0": (["1.0", "2.0", "1.0"], None),
        "True,False": (["True", "False", "True"], "False,True"),
        "0,1": (["0", "1", "0"], "1,0"),
        "0.5,1.5": (["0.5", "1.5", "0.5"], "1.5,0.5"),
    }
    for name, (expected, classes) in cases.items():
        first, second = name.split(",")
        path = tmp_path / "a.csv"
        labels = [first, second, first, second, second, first]
        small(label=labels).to_csv(path, index=False)
        extra = () if classes is None else ("--classes", classes)
        rc, stdout, stderr = cli("aggregate", str(path), "-o", "-", "--tie-break", "abstain", *extra)
        assert rc == 0, (name, stderr)
        got = pd.read_csv(__import__("io").StringIO(stdout), dtype=str, keep_default_na=False)
        assert got["label"].tolist() == expected, name


def test_cli_bool_labels_of_parquet_take_classes(tmp_path):
    """A Parquet boolean label column: --classes true,false was compared as text (True is not 'True')."""
    pytest.importorskip("pyarrow")
    path = tmp_path / "a.parquet"
    small(label=[True, False, True, False, False, True]).to_parquet(path, index=False)
    out = tmp_path / "o.parquet"
    rc, _, stderr = cli("aggregate", str(path), "-o", str(out), "--classes", "false,TRUE", "--proba")
    assert rc == 0, stderr
    got = pd.read_parquet(out)
    assert list(got.columns) == ["task", "label", "p_False", "p_True"]
    rc, _, stderr = cli("aggregate", str(path), "-o", str(out), "--classes", "yes,no")
    assert rc == 2 and "holds booleans" in stderr


def test_cli_gold_labels_read_as_another_type(tmp_path):
    """Answers' labels 1 and x are text, the gold file's 1 a number: 'gold label 1 of task '1' is not
    one of the classes ['1', 'x']' (exit 2) for a right gold label."""
    answers, gold = tmp_path / "a.csv", tmp_path / "g.csv"
    small(label=["1", "x", "1", "x", "x", "1"]).to_csv(answers, index=False)
    gold.write_text("task,label\na,1\nc,1\n")
    rc, _, stderr = cli("aggregate", str(answers), "-o", str(tmp_path / "o.csv"), "--gold", str(gold))
    assert rc == 0, stderr
    assert "gold labels of 2 tasks" in stderr


def test_cli_classes_with_a_missing_label_column(tmp_path):
    """--label nope --classes a,b: 'tripletws: error: nope' (a KeyError's text)."""
    path = tmp_path / "a.csv"
    small().to_csv(path, index=False)
    rc, _, stderr = cli("aggregate", str(path), "-o", "-", "--label", "nope", "--classes", "x,y")
    assert rc == 2 and "no label column 'nope'" in stderr


def test_cli_output_column_names_that_collide(tmp_path):
    """A label column named p_x with --proba and a label x (or a task column p_y): pandas' 'columns
    overlap but no suffix specified' / 'cannot insert p_y, already exists', after the fit."""
    path = tmp_path / "a.csv"
    small().rename(columns={"label": "p_x"}).to_csv(path, index=False)
    rc, _, stderr = cli("aggregate", str(path), "-o", str(tmp_path / "o.csv"), "--label", "p_x", "--proba")
    assert rc == 2 and "the output would have two columns named 'p_x'" in stderr
    assert "aggregated" not in stderr and not (tmp_path / "o.csv").exists()  # refused before the fit
    rc, _, stderr = cli("aggregate", str(path), "-o", str(tmp_path / "o.csv"), "--label", "p_x")
    assert rc == 0, stderr  # no --proba: no p_ columns


def test_integer_ids_as_labels_do_not_invent_classes():
    """Labels 200 and 404 were codes 0..404: 403 invented classes took up to 38 % of a task's
    probability (and 100x the time). Labels that use under half of 0..max are now sorted, as text
    labels are; a scale from 0 with a gap keeps its codes."""
    df = small(label=[200, 404, 200, 404, 404, 200])
    crowd = from_answers(df)
    assert crowd.classes == (200, 404) and crowd.cardinality == 2
    np.testing.assert_array_equal(crowd.dense(), [[0, 1, 0], [1, 1, -1], [-1, -1, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = crowd_mod.aggregate_proba(df)
        s = aggregate(df)
    assert list(p.columns) == [200, 404] and str(s.dtype) == "Int64" and set(s) <= {200, 404}
    assert from_answers(small(label=[0, 2, 0, 2, 2, 0])).classes == (0, 1, 2)  # documented gap kept
    assert from_answers(small(label=[1, 2, 3, 4, 5, 1])).classes == (0, 1, 2, 3, 4, 5)


def test_cli_gold_task_ids_read_as_another_type(tmp_path):
    """Parquet answers with integer task ids and a CSV gold file (ids read as text): 'gold labels
    name 2 task(s) without answers, e.g. '1'' (exit 2) for tasks that have answers."""
    pytest.importorskip("pyarrow")
    answers, gold = tmp_path / "a.parquet", tmp_path / "g.csv"
    small(task=[1, 1, 1, 2, 2, 3]).to_parquet(answers, index=False)
    gold.write_text("task,label\n1,x\n3,x\n")
    rc, _, stderr = cli("aggregate", str(answers), "-o", str(tmp_path / "o.csv"), "--gold", str(gold))
    assert rc == 0, stderr
    assert "gold labels of 2 tasks" in stderr
    gold.write_text("task,label\n1,x\n9,x\n")
    rc, _, stderr = cli("aggregate", str(answers), "-o", str(tmp_path / "o.csv"), "--gold", str(gold))
    assert rc == 2 and "without answers, e.g. '9'" in stderr
