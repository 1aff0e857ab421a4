"""Fixes from a fuzz round over the commands that write results and the writers they use (session 20).

Each test failed before its fix: ``predict -o`` could name its own input and ``report -o`` the
model file (both replaced without a word); ``write_array`` dropped Parquet columns with repeated
or missing names and wrote CSV headers that read back as data or not at all; CSV integers beyond
int16 came back as floats (sequence ids refused); the report broke ties by argmax (every tied row
to class 0), so its accuracy differed from ``evaluate``'s.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from test_cli import run_main

from tripletws import LabelModel
from tripletws.datasets import make_synthetic
from tripletws.files import read_labels, read_matrix_named, write_array


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("outputs")
    data = make_synthetic(1_500, 6, 3, coverage=0.3, random_state=4)
    np.save(d / "L.npy", data.L)
    np.save(d / "y.npy", data.y)
    assert run_main("fit", d / "L.npy", "-o", d / "m.json").returncode == 0
    return d, data


def test_predict_refuses_to_write_over_its_input(files):
    d, data = files
    out = run_main("predict", d / "m.json", d / "L.npy", "-o", d / "L.npy")
    assert out.returncode != 0 and "that is the input" in out.stderr
    np.testing.assert_array_equal(np.load(d / "L.npy"), data.L)  # untouched


def test_predict_checks_its_output_name_before_the_work(files):
    d, _ = files
    for bad, said in (("out.txt", "must end in"), ("missing/out.npy", "does not exist")):
        out = run_main("predict", d / "m.json", d / "L.npy", "-o", d / bad)
        assert out.returncode != 0 and said in out.stderr


def test_report_refuses_the_model_file_and_stdout(files):
    d, _ = files
    before = (d / "m.json").read_bytes()
    for target in (d / "m.json", "-"):
        out = run_main("report", d / "m.json", d / "L.npy", "-o", target)
        assert out.returncode != 0 and "HTML" in out.stderr
    assert (d / "m.json").read_bytes() == before


def test_report_scores_ties_as_evaluate_does(files):
    """Rows without a vote tie under the uniform prior; argmax gave them all class 0."""
    d, _ = files
    data = make_synthetic(1_500, 6, 3, coverage=0.15, random_state=4)  # 38 % of the rows without a vote
    np.save(d / "L_sparse.npy", data.L)
    np.save(d / "y_sparse.npy", data.y)
    assert run_main("fit", d / "L_sparse.npy", "-o", d / "sparse.json").returncode == 0
    report = (
        "report",
        d / "sparse.json",
        d / "L_sparse.npy",
        "--gold",
        d / "y_sparse.npy",
        "-o",
        d / "r.html",
    )
    assert run_main(*report).returncode == 0
    text = (d / "r.html").read_text()
    shown = float(re.search(r"all gold rows</td><td[^>]*>\d+</td><td[^>]*>([0-9.]+)<", text).group(1))
    model = LabelModel.load(d / "sparse.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = model.score(data.L, data.y, tie_break_policy="random")["accuracy"]
    by_argmax = float(np.mean(model.predict_proba(data.L).argmax(axis=1) == data.y))
    assert abs(by_argmax - expected) > 2e-3  # the data tell the two rules apart
    assert shown == pytest.approx(expected, abs=5e-4)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_column_names_must_name_each_column_once(tmp_path, suffix):
    pytest.importorskip("pyarrow")
    arr = np.arange(12).reshape(4, 3)
    for names, said in ((["a", "a", "b"], "more than once"), (["a", "b"], "2 column names for 3")):
        with pytest.raises(ValueError, match=said):
            write_array(tmp_path / f"w{suffix}", arr, columns=names)
    assert not (tmp_path / f"w{suffix}").exists()


def test_csv_headers_read_back_as_written(tmp_path):
    arr = np.arange(6).reshape(3, 2)
    with pytest.raises(ValueError, match="row of data"):
        write_array(tmp_path / "n.csv", arr, columns=["1", "0"])
    with pytest.raises(ValueError, match="spaces around"):
        write_array(tmp_path / "s.csv", arr, columns=[" a", "b"])
    write_array(tmp_path / "q.csv", arr, columns=["a,b", 'say "x"'])
    back, names = read_matrix_named(tmp_path / "q.csv")
    assert names == ["a,b", 'say "x"']
    np.testing.assert_array_equal(back, arr)


def test_csv_integers_beyond_int16_are_integers(tmp_path):
    ids = np.array([0, 0, 40_000, 40_000, 70_000])
    write_array(tmp_path / "ids.csv", ids, columns=["seq"])
    back = read_labels(tmp_path / "ids.csv")
    assert back.dtype.kind == "i"
    np.testing.assert_array_equal(back, ids)


def test_messages_name_the_file_and_the_option(files):
    d, data = files
    np.save(d / "L5.npy", data.L[:, :5])
    out = run_main("predict", d / "m.json", d / "L5.npy", "-o", d / "p.npy")
    assert out.returncode != 0 and "L5.npy" in out.stderr and "5 columns" in out.stderr
    out = run_main("fit", d / "L.npy", "-o", d / "b.json", "--class-balance", "0.5,0.6,0.1")
    assert out.returncode != 0 and "--class-balance 0.5,0.6,0.1" in out.stderr


def test_inspect_shows_the_lfs_names(tmp_path):
    data = make_synthetic(600, 4, 2, coverage=0.5, random_state=2)
    header = "kw_a,kw_b,kw_c,kw_d"
    np.savetxt(tmp_path / "L.csv", data.L, fmt="%d", delimiter=",", header=header, comments="")
    assert run_main("fit", tmp_path / "L.csv", "-o", tmp_path / "m.json").returncode == 0
    shown = run_main("inspect", tmp_path / "m.json").stdout
    assert all(name in shown for name in header.split(","))


def test_options_a_command_would_ignore_are_refused(files):
    """predict --seed without a true-random tie-break, --header for a .npy file, and --sequence-key
    without --sequence-ids had no effect and no message."""
    d, _ = files
    for extra, said in (
        (["--header"], "--header applies to CSV"),
        (["--sequence-key", "seq"], "--sequence-ids"),
    ):
        out = run_main("predict", d / "m.json", d / "L.npy", "-o", d / "p.npy", *extra)
        assert out.returncode != 0 and said in out.stderr, out.stderr
    # (--seed only warns: scripts may pass it to every command)
    out = run_main("predict", d / "m.json", d / "L.npy", "-o", d / "p.npy", "--seed", "5")
    assert out.returncode == 0 and "--seed ignored" in out.stderr, out.stderr


def test_key_and_header_given_for_l_apply_to_the_dev_rows_only_where_they_can(files, tmp_path):
    """--key/--header are shared by L and --L-dev: an .npz L with --key and a CSV --L-dev still fit."""
    _, data = files
    np.savez(tmp_path / "L.npz", L=data.L)
    np.savetxt(tmp_path / "dev.csv", data.L[:60], fmt="%d", delimiter=",")
    np.save(tmp_path / "ydev.npy", data.y[:60])
    out = run_main(
        "fit", tmp_path / "L.npz", "--key", "L", "--L-dev", tmp_path / "dev.csv", "--y-dev",
        tmp_path / "ydev.npy", "-o", tmp_path / "m.json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr


def test_an_output_beside_the_parquet_files_of_an_input_folder(files, tmp_path):
    """A model file may go into an input Parquet folder; a .parquet file there would join the input."""
    pytest.importorskip("pyarrow")
    _, data = files
    folder = tmp_path / "Ldir"
    folder.mkdir()
    write_array(folder / "part0.parquet", data.L, columns=[f"lf{j}" for j in range(data.L.shape[1])])
    assert run_main("fit", folder, "-o", folder / "m.json").returncode == 0
    out = run_main("predict", folder / "m.json", folder, "-o", folder / "p.parquet")
    assert out.returncode != 0 and "would become part of it" in out.stderr


@pytest.mark.parametrize("names", [["a\nb", "c"], ["#lf", "c"], ["my label"], ["a;b"], ["a\tb"]])
def test_csv_names_the_reader_would_split_or_drop_are_refused(tmp_path, names):
    with pytest.raises(ValueError, match="would not read back"):
        write_array(tmp_path / "w.csv", np.zeros((2, len(names)), dtype=int), columns=names)


def test_evaluate_scores_a_metric_named_twice_once(files):
    d, _ = files
    out = run_main("evaluate", d / "m.json", d / "L.npy", d / "y.npy", "--metrics", "accuracy,accuracy")
    rows = [line for line in out.stdout.splitlines() if re.match(r"accuracy\s+\d", line)]
    assert out.returncode == 0 and len(rows) == 1, out.stdout  # the metrics table's row, once


def test_errors_name_the_options_and_files_not_python_arguments(files):
    d, data = files
    np.save(d / "y_bad.npy", np.full(len(data.y), 7))
    cases = (
        (("update", d / "m.json", d / "L.npy", "--forget", "0", "-o", d / "u.json"), "--forget must"),
        (("update", d / "m.json", d / "L.npy", "--window", "0", "-o", d / "u.json"), "--window must"),
        (("report", d / "m.json", d / "L.npy", "--lf-names", "a,b", "-o", d / "r2.html"), "--lf-names has"),
        (("evaluate", d / "m.json", d / "L.npy", d / "y_bad.npy"), "y_bad.npy: Y has value 7"),
    )
    for args, said in cases:
        out = run_main(*args)
        assert out.returncode != 0 and said in out.stderr, (args, out.stderr)


def test_evaluate_reads_one_posterior_and_one_draw_per_labeler(files, monkeypatch):
    """Both scores and the margin table read one prediction per labeler (session 46): before, each
    of the three computed the posterior again and, under ``true-random``, drew its own tie-breaks,
    so the table's rows did not add up to the accuracy printed beside it."""
    import json

    from tripletws.baselines import MajorityLabelVoter

    d, _ = files
    calls = {"model": 0, "mv": 0}
    model_proba, mv_proba = LabelModel.predict_proba, MajorityLabelVoter.predict_proba

    def counted(key, method):
        def wrapper(self, *a, **kw):
            calls[key] += 1
            return method(self, *a, **kw)

        return wrapper

    monkeypatch.setattr(LabelModel, "predict_proba", counted("model", model_proba))
    monkeypatch.setattr(MajorityLabelVoter, "predict_proba", counted("mv", mv_proba))
    out = run_main("evaluate", d / "m.json", d / "L.npy", d / "y.npy", "--tie-break", "true-random", "--json")
    assert out.returncode == 0, out.stderr
    # majority vote's posterior once (three times before); the model's once for the scores, and once
    # more for the overrule table's terms (tripletws.overrules)
    assert calls == {"model": 2, "mv": 1}
    rec = json.loads(out.stdout)
    for name in ("label_model", "majority_vote"):
        parts = [(kind["rows"], kind[name]) for kind in rec["by_margin"].values() if kind["rows"]]
        assert sum(n for n, _ in parts) == rec["n_gold"]
        # the table's accuracies are shares of whole rows: their weighted sum is the overall accuracy (to
        # rounding: a few sums of terms below 1)
        overall = sum(n * acc for n, acc in parts) / rec["n_gold"]
        assert abs(overall - rec[name]["accuracy"]) < 1e-12
