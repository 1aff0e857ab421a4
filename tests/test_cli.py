"""The command line end to end.

Representative runs go through `python -m tripletws` in a subprocess (the real entry
point, exit status and stderr); the many variations call ``tripletws.cli.main`` in
process, which runs the same code minus the interpreter start-up.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import EPS32, assert_close_sums, run_cli

from tripletws import LabelModel, MajorityLabelVoter, __version__
from tripletws.datasets import make_synthetic


def run_main(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``tripletws.cli.main`` in this process, with the result shaped like ``run_cli``'s."""
    import contextlib
    import io

    from tripletws.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = main([str(a) for a in args])
            except SystemExit as exc:  # argparse: --help, --version, usage errors
                rc = exc.code
    finally:
        os.chdir(old)
    return subprocess.CompletedProcess(args, rc, out.getvalue(), err.getvalue())


def ok(*args: str, cwd: Path | None = None, subprocess: bool = False) -> str:
    out = (run_cli if subprocess else run_main)(*args, cwd=cwd)
    assert out.returncode == 0, f"{args}: rc={out.returncode}\n{out.stderr}"
    assert "Traceback" not in out.stderr
    return out.stdout


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The same binary data as .npy (+ y.npy), .csv (with header), .npz (L and y) and .parquet."""
    d = tmp_path_factory.mktemp("cli")
    data = make_synthetic(3000, 6, 2, coverage=0.5, random_state=21)
    np.save(d / "L.npy", data.L)
    np.save(d / "y.npy", data.y)
    np.savez(d / "data.npz", L=data.L, y=data.y)
    header = ",".join(f"lf{i}" for i in range(6))
    np.savetxt(d / "L.csv", data.L, fmt="%d", delimiter=",", header=header, comments="")
    np.savetxt(d / "y.csv", data.y, fmt="%d", header="y", comments="")
    return d, data


def test_demo_default() -> None:
    out = ok("demo", subprocess=True)
    assert "estimated" in out and "true acc" in out
    mae = float(re.search(r"mean absolute error of the estimated accuracies: ([0-9.]+)", out).group(1))
    accs = re.search(r"label model ([0-9.]+), majority vote ([0-9.]+)", out)
    # default demo: n = 100000 rows, coverage >= 0.1: scale sqrt(0.25 / (n 0.1^2)) = 0.016; C = 3
    assert mae <= 3 * np.sqrt(0.25 / (100_000 * 0.1**2))
    assert float(accs.group(1)) >= float(accs.group(2))
    assert re.search(r"time: fit [0-9.]+ ms, predict_proba [0-9.]+ ms", out)
    # a fit of under a second is timed again, without the first call's one-time costs
    first = float(re.search(r"time: fit ([0-9.]+) ms", out).group(1))
    again = re.search(r"\(first calls in this process\); a second fit: ([0-9.]+) ms", out)
    assert (again is not None) == (first < 1000.0), out


def test_demo_multiclass() -> None:
    out = ok("demo", "--n", "5000", "--m", "6", "--k", "3", "--seed", "4")
    assert "k=3 classes" in out and len(re.findall(r"^\d+ ", out, flags=re.M)) == 6


@pytest.mark.parametrize("fmt", ["npy", "csv", "npz", "parquet"])
def test_fit_predict_evaluate_inspect(files, fmt, tmp_path) -> None:
    d, data = files
    sub = fmt == "npy"  # one format through the real entry point, the others in process
    run = functools.partial(ok, subprocess=sub)

    if fmt == "parquet":
        pa = pytest.importorskip("pyarrow")
        import pyarrow.parquet as pq

        pq.write_table(pa.table({f"lf{i}": data.L[:, i] for i in range(6)}), tmp_path / "L.parquet")
        L_file, y_args = tmp_path / "L.parquet", [d / "y.npy"]
    else:
        L_file = d / ("data.npz" if fmt == "npz" else f"L.{fmt}")
        y_args = [] if fmt == "npz" else [d / f"y.{fmt}"]
    model_file = tmp_path / "model.json"
    out = run("fit", L_file, "-o", model_file, "--solver", "triplet_median")
    assert "3000 rows x 6 LFs" in out
    reference = LabelModel(solver="triplet_median").fit(data.L)
    model = LabelModel.load(model_file)
    assert_close_sums(model.accuracies_, reference.accuracies_, n_terms=6, scale=1.0)

    run("predict", model_file, L_file, "-o", tmp_path / "probs.npy")
    # another process reads another container: same arithmetic up to rounding (float32 binary path)
    assert_close_sums(np.load(tmp_path / "probs.npy"), reference.predict_proba(data.L), 6, eps=EPS32)
    run("predict", model_file, L_file, "-o", tmp_path / "probs.csv")
    probs_csv = np.loadtxt(tmp_path / "probs.csv", delimiter=",", skiprows=1)
    np.testing.assert_allclose(probs_csv, reference.predict_proba(data.L), rtol=1e-9)
    run("predict", model_file, L_file, "--hard", "--tie-break", "random", "-o", tmp_path / "hard.npy")
    np.testing.assert_array_equal(
        np.load(tmp_path / "hard.npy"), reference.predict(data.L, tie_break_policy="random")
    )

    metrics = json.loads(
        run(
            "evaluate",
            model_file,
            L_file,
            *y_args,
            "--json",
            "--tie-break",
            "random",
            "--metrics",
            "accuracy,f1,log_loss",
        )
    )
    names = ["accuracy", "f1", "log_loss"]
    silent = int((data.L < 0).all(axis=1).sum())
    assert silent > 0 and metrics["n_gold_no_vote"] == silent
    with pytest.warns(UserWarning, match=f"{silent} of {len(data.y)} gold rows"):
        expected = reference.score(data.L, data.y, names, tie_break_policy="random")
    assert metrics["label_model"] == pytest.approx(expected)
    voted = reference.score(data.L, data.y, names, tie_break_policy="random", voted_only=True)
    assert metrics["label_model_voted_rows"] == pytest.approx(voted)
    with pytest.warns(UserWarning, match="no LF vote"):
        mv = MajorityLabelVoter().score(data.L, data.y, names, tie_break_policy="random")
    assert metrics["majority_vote"] == pytest.approx(mv)
    table = run("evaluate", model_file, L_file, *y_args)
    assert f"{silent} gold rows" in table
    assert re.search(
        r"^metric\s+label model \(all rows\)\s+label model \(voted rows\)\s+majority vote \(all rows\)",
        table,
        flags=re.M,
    )
    assert re.search(r"^coverage(\s+[0-9.]+){4}$", table, flags=re.M)
    # by default both labelers are scored on every gold row (majority vote's ties broken, not abstained)
    default = json.loads(run("evaluate", model_file, L_file, *y_args, "--json"))
    assert default["tie_break"] == "random"
    assert default["majority_vote"]["coverage"] == 1.0 == default["label_model"]["coverage"]

    info = run("inspect", model_file)
    # the closed-form solver's setting is shown where a closed form was solved (here: the annotator's EM)
    assert "model=annotator, k=2" in info and "solver=" not in info
    assert f"class balance ({reference.class_balance_source_})" in info
    # (a named input's LF names are shown beside the indices)
    rows = re.findall(r"^(\d+)\s+(?:\S*[^\s0-9.]\S*\s+)?([0-9.]+)\s+([0-9.]+)", info, flags=re.M)
    assert len(rows) == 6
    np.testing.assert_allclose([float(r[2]) for r in rows], reference.accuracies_, atol=5e-5)
    record = json.loads(run("inspect", model_file, "--json"))
    np.testing.assert_allclose(record["accuracies"], reference.accuracies_)


def test_fit_options(files, tmp_path) -> None:
    d, data = files
    m = tmp_path / "m.json"
    ok("fit", d / "L.npy", "-o", m, "--class-balance", "0.3,0.7", "-k", "2", "--seed", "3")
    model = LabelModel.load(m)
    np.testing.assert_allclose(model.class_balance_, [0.3, 0.7])
    assert model.random_state == 3
    ok("fit", d / "L.npy", "-o", m, "--y-dev", d / "y.csv")
    np.testing.assert_allclose(LabelModel.load(m).class_balance_, np.bincount(data.y) / len(data.y))
    # a few gold rows choose the fit (the default model's dev choice), as fit(L, L_dev=, Y_dev=)
    np.save(tmp_path / "L_dev.npy", data.L[:200])
    np.save(tmp_path / "y_dev.npy", data.y[:200])
    out = ok(
        "fit", d / "L.npy", "-o", m, "--L-dev", tmp_path / "L_dev.npy", "--y-dev", tmp_path / "y_dev.npy"
    )
    reference = LabelModel(2).fit(data.L, L_dev=data.L[:200], Y_dev=data.y[:200])
    assert LabelModel.load(m).dev_choice_ == reference.dev_choice_
    assert f"dev choice: {reference.dev_choice_['chosen']}" in out
    info = ok("inspect", m)  # what the fit chose, and its notes, are shown with the tables
    assert f"dev choice: {reference.dev_choice_['chosen']}" in info
    family = reference.solution_.diagnostics["family"]
    replaced = reference.dev_choice_["chosen"] != "gold_free"  # the family line says which fit it is
    assert (f"gold-free family: {family} (replaced" if replaced else f"fitted family: {family}") in info
    assert all(f"note: {note}" in info for note in reference.notes_)
    record = json.loads(ok("inspect", m, "--json"))
    assert record["dev_choice"]["chosen"] == reference.dev_choice_["chosen"]
    assert record["notes"] == list(reference.notes_)
    np.testing.assert_allclose(
        LabelModel.load(m).params_.cond_probs, reference.params_.cond_probs, atol=1e-12
    )
    bad = run_main("fit", d / "L.npy", "-o", m, "--L-dev", tmp_path / "L_dev.npy")
    assert bad.returncode != 0 and "--y-dev" in bad.stderr
    np.save(tmp_path / "L_bad.npy", np.full((200, 6), 3))
    bad = run_main(
        "fit", d / "L.npy", "-o", m, "--L-dev", tmp_path / "L_bad.npy", "--y-dev", tmp_path / "y_dev.npy"
    )
    assert bad.returncode != 0 and "L_bad.npy" in bad.stderr and "Traceback" not in bad.stderr
    # the rule by which gold rows replace the gold-free fit travels into the model (and its file)
    dev_args = ("--L-dev", tmp_path / "L_dev.npy", "--y-dev", tmp_path / "y_dev.npy")
    ok("fit", d / "L.npy", "-o", m, *dev_args, "--dev-rule", "2")
    assert LabelModel.load(m).dev_rule == 2.0
    ok("fit", d / "L.npy", "-o", m, *dev_args, "--dev-rule", "any")
    assert LabelModel.load(m).dev_rule == "any"
    bad = run_main("fit", d / "L.npy", "-o", m, *dev_args, "--dev-rule", "best")
    assert bad.returncode == 2 and "--dev-rule" in bad.stderr and "Traceback" not in bad.stderr
    ok("fit", d / "data.npz", "--key", "L", "-o", m, "--class-balance", "estimate")
    assert LabelModel.load(m).class_balance_source_ == "estimated"
    # three classes inferred from the data
    data3 = make_synthetic(1000, 5, 3, random_state=0)
    np.save(tmp_path / "L3.npy", data3.L)
    assert "k=3 (inferred" in ok("fit", tmp_path / "L3.npy", "-o", m)
    ok("predict", m, tmp_path / "L3.npy", "-o", tmp_path / "p3.npy")
    assert np.load(tmp_path / "p3.npy").shape == (1000, 3)


def test_jobs_option(files, tmp_path) -> None:
    """--jobs changes the threads, not the results, and is not stored in the model file."""
    d, _ = files
    ok("fit", d / "L.npy", "-o", tmp_path / "m1.json", "--jobs", "1", "--chunk-size", "50")
    ok("fit", d / "L.npy", "-o", tmp_path / "m2.json", "--jobs", "2", "--chunk-size", "50")
    one, two = LabelModel.load(tmp_path / "m1.json"), LabelModel.load(tmp_path / "m2.json")
    assert one.n_jobs is None and two.n_jobs is None
    np.testing.assert_allclose(two.params_.cond_probs, one.params_.cond_probs, rtol=0, atol=1e-10)
    for jobs in ("1", "-1"):
        ok("predict", tmp_path / "m2.json", d / "L.npy", "-o", tmp_path / f"p{jobs}.npy", "--jobs", jobs)
    np.testing.assert_allclose(
        np.load(tmp_path / "p-1.npy"), np.load(tmp_path / "p1.npy"), rtol=0, atol=1e-10
    )
    ok("update", tmp_path / "m2.json", d / "L.npy", "--jobs", "2")
    assert LabelModel.load(tmp_path / "m2.json").n_jobs is None
    out = run_main("predict", tmp_path / "m2.json", d / "L.npy", "-o", tmp_path / "p.npy", "--jobs", "0")
    assert out.returncode == 2 and "--jobs must not be 0" in out.stderr


def test_predict_to_stdout(files, tmp_path) -> None:
    d, _ = files
    ok("fit", d / "L.npy", "-o", tmp_path / "m.json")
    out = ok("predict", tmp_path / "m.json", d / "L.npy", "--hard", "-o", "-")
    lines = out.splitlines()
    assert lines[0] == "label" and len(lines) == 3001


def test_help_and_version() -> None:
    top = ok("--help", subprocess=True)
    for cmd in ("fit", "predict", "evaluate", "inspect", "demo", "examples:"):
        assert cmd in top
    for cmd in ("fit", "predict", "evaluate", "inspect", "demo"):
        assert "usage: tripletws " + cmd in ok(cmd, "--help")
    assert ok("--version", subprocess=True).strip() == f"tripletws {__version__}"


@pytest.fixture(scope="module")
def bad_files(files):
    d, _ = files
    (d / "bad_value.csv").write_text("a,b,c\n0,1,-1\n1,7,0\n")
    (d / "nan.csv").write_text("0,1,-1\n1,nan,0\n")
    (d / "na_first.csv").write_text("NA,1,0\n1,1,0\n0,0,1\n")  # was read as a header: a row lost
    (d / "nan_first.csv").write_text("nan,1,0\n1,1,0\n0,0,1\n")
    (d / "names_twice.csv").write_text("a,a,b\n1,1,0\n0,0,1\n")
    (d / "names_short.csv").write_text("a,b\n1,1,0\n0,0,1\n")
    (d / "two.csv").write_text("1,0\n0,1\n")
    (d / "garbage.npy").write_bytes(b"garbage")
    (d / "corrupt.json").write_text('{"format": "tripletws-model", ')
    ok("fit", d / "L.npy", "-o", d / "good.json")
    text = (d / "good.json").read_text()
    (d / "tampered.json").write_text(text.replace('"n_rows":3000.0', '"n_rows":3001.0', 1))
    assert (d / "tampered.json").read_text() != text
    np.save(d / "y_bad.npy", np.full(3000, 5))
    np.savez(d / "L_only.npz", L=np.load(d / "L.npy"))
    y2 = np.load(d / "y.npy")[:100].copy()
    y2[3] = 2  # a class no LF of the binary L votes
    np.save(d / "y_dev_k3.npy", y2)
    np.save(d / "L_dev.npy", np.load(d / "L.npy")[:100])
    return d


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (["fit", "missing.npy", "-o", "m.json"], "missing.npy"),
        (["fit", "bad_value.csv", "-o", "m.json", "-k", "2"], r"bad_value.csv: .*value 7 in column 1"),
        (["fit", "nan.csv", "-o", "m.json"], "NaN in column 1"),
        (["fit", "two.csv", "-o", "m.json"], "at least 3"),
        (["fit", "garbage.npy", "-o", "m.json"], "garbage.npy: not a readable"),
        (["fit", "L.npy", "-o", "m.json", "--class-balance", "0.5,0.6"], "must sum to 1"),
        (["fit", "L.npy", "-o", "m.json", "--solver", "sgd"], "invalid choice: 'sgd'"),
        (["fit", "L.txt", "-o", "m.json"], "unsupported file type"),
        (["fit", "data.npz", "--key", "Q", "-o", "m.json"], "no array 'Q'"),
        (["predict", "corrupt.json", "L.npy", "-o", "p.npy"], "corrupt or truncated"),
        (["predict", "tampered.json", "L.npy", "-o", "p.npy"], "checksum mismatch"),
        (["predict", "good.json", "two.csv", "-o", "p.npy"], "2 columns but the model was fitted with 6"),
        (["evaluate", "good.json", "L.npy"], "no gold labels"),
        (["evaluate", "good.json", "L.npy", "y_bad.npy"], "Y has value 5"),
        (["evaluate", "good.json", "L.npy", "y.npy", "--metrics", "auc"], "unknown metric 'auc'"),
        # options that would be left unused are refused
        (["fit", "L.npy", "-o", "m.json", "--sequence", "--intervals", "10"], "--intervals is not available"),
        (["fit", "L.npy", "-o", "m.json", "--dev-rule", "2"], "--dev-rule .* needs --L-dev"),
        (["fit", "L.npy", "-o", "m.npy"], "a model file is JSON"),
        # update and report replaced a data file given as -o (read, then overwritten)
        (["update", "good.json", "L.npy", "-o", "L.npy"], "-o L.npy: a model file is JSON"),
        (["report", "good.json", "L.npy", "-o", "L.npy"], "-o L.npy: the report is one HTML file"),
        (["fit", "na_first.csv", "-o", "m.json"], r"could not convert string 'NA' .* row 0, column 0"),
        (["fit", "nan_first.csv", "-o", "m.json"], r"NaN in column 0 \(row 0\)"),
        (["fit", "names_twice.csv", "-o", "m.json"], r"names \['a'\] more than once"),
        (["fit", "names_short.csv", "-o", "m.json"], "the header names 2 columns, the rows have 3"),
        (["demo", "--k", "40000"], "keep n \\* m \\+ m \\* \\(k \\+ 1\\) \\* k within"),
        (["demo", "--seed", "-1"], "--seed must be >= 0"),
        (["fit", "L.npy", "-o", "m.json", "--model", "symmetric", "--combine", "stack"], "not of --model"),
        (["evaluate", "good.json", "L.npy", "y.npy", "--metrics", ","], "--metrics ',' names no metric"),
        (["predict", "good.json", "L.npy", "-o", "p.npy", "--tie-break", "random"], "add --hard"),
        (["dependencies", "good.json", "L.npy", "--top", "-1"], "--top must be at least 1"),
        (["dependencies", "good.json", "L.npy", "--min-covotes", "-5"], "--min-covotes must be 0 or more"),
        # an archive of L alone has no labels: not read as them
        (["evaluate", "good.json", "L_only.npz"], r"no array 'y' for the labels \(arrays: L\)"),
        # k is inferred from L; a gold label above its largest vote is named, not a new class
        (
            ["fit", "L.npy", "--L-dev", "L_dev.npy", "--y-dev", "y_dev_k3.npy", "-o", "m.json"],
            r"--y-dev has value 2 at position 3, but L's largest vote is 1",
        ),
        (["inspect", "nowhere.json"], "nowhere.json"),
        (["demo", "--n", "10"], "--n >= 100"),
        (["fit"], "required"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
    ],
)
def test_errors_are_one_line_exit_2(bad_files, args, pattern) -> None:
    # the real entry point for a few (interpreter, exit status, no traceback), in process for the rest
    sub = args[:2] in (["fit", "missing.npy"], ["predict", "tampered.json"]) or args[:1] == ["frobnicate"]
    out = (run_cli if sub else run_main)(*args, cwd=bad_files)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("tripletws: error: ")
    assert re.search(pattern, lines[0]), lines[0]


def test_inferred_cardinality_names_a_stray_value(tmp_path) -> None:
    """One vote of 5 in a 3-class matrix: k=6 is inferred, and a warning names the value and classes 3, 4."""
    L = make_synthetic(500, 5, 3, random_state=0).L
    L[7, 2] = 5
    np.save(tmp_path / "L.npy", L)
    out = run_main("fit", tmp_path / "L.npy", "-o", tmp_path / "m.json")
    assert out.returncode == 0, out.stderr
    assert "k=6 (inferred" in out.stdout
    named = r"largest vote 5 \(first at row 7, column 2\), but no LF votes class\(es\) \[3, 4\]"
    assert re.search(named, out.stderr)
    # declared, the same matrix is refused with the cell named; without the stray value, no warning
    bad = run_main("fit", tmp_path / "L.npy", "-o", tmp_path / "m.json", "-k", "3")
    assert bad.returncode == 2 and "value 5" in bad.stderr
    L[7, 2] = 1
    np.save(tmp_path / "L.npy", L)
    clean = run_main("fit", tmp_path / "L.npy", "-o", tmp_path / "m.json")
    assert clean.returncode == 0 and "k=3 (inferred" in clean.stdout and "largest vote" not in clean.stderr


def test_library_warnings_are_one_line(tmp_path) -> None:
    L = make_synthetic(500, 4, 2, random_state=0).L
    L[:, 1] = -1
    np.save(tmp_path / "L.npy", L)
    out = run_cli("fit", tmp_path / "L.npy", "-o", tmp_path / "m.json")
    assert out.returncode == 0, out.stderr
    assert "tripletws: warning: LF(s) 1 never vote" in out.stderr
    assert "warnings.warn" not in out.stderr


def test_update_and_dependencies_name_the_file_and_the_reason(tmp_path) -> None:
    d = make_synthetic(3000, 6, 3, random_state=0)
    first = d.L[:1000].copy()
    first[first == 2] = -1  # the first batch never votes class 2: k=2 is inferred
    np.save(tmp_path / "b1.npy", first)
    np.save(tmp_path / "b2.npy", d.L[1000:2000])
    np.save(tmp_path / "b3.npy", d.L[2000:, :5])
    model = tmp_path / "s.json"
    ok("fit", tmp_path / "b1.npy", "-o", model)
    out = run_main("update", model, tmp_path / "b2.npy")
    assert out.returncode == 2 and "b2.npy: label matrix has value 2" in out.stderr
    assert "fitted with k=2 classes" in out.stderr and "fit --cardinality" in out.stderr
    out = run_main("update", model, tmp_path / "b3.npy")
    assert out.returncode == 2 and "b3.npy: L_batch has 5 LFs (columns) but the stream has 6" in out.stderr
    # every LF votes one class: no pair is tested, and the output says why
    one_class = np.where(d.L >= 0, np.arange(6) % 2, -1)
    np.save(tmp_path / "one.npy", one_class)
    ok("fit", tmp_path / "one.npy", "-o", tmp_path / "one.json")
    text = ok("dependencies", tmp_path / "one.json", tmp_path / "one.npy")
    assert re.search(
        r"no pair tested: \d+ pair\(s\) share fewer .* 15 pair\(s\) of LFs that each vote one class", text
    )


def test_misplaced_or_missing_plugins_and_annotator_options_on_sequences(files) -> None:
    d, _ = files
    out = run_main("fit", "--plugin", "toy_label_model", d / "L.npy", "-o", d / "x.json")
    assert out.returncode == 2 and "--plugin goes before the command" in out.stderr
    out = run_main("--plugin", "no_such_module_here", "fit", d / "L.npy", "-o", d / "x.json")
    assert out.returncode == 2 and "put its folder on PYTHONPATH" in out.stderr
    out = run_main("fit", d / "L.npy", "-o", d / "x.json", "--sequence", "--copies", "keep")
    assert out.returncode == 2 and "--copies: settings of the default (annotator) model" in out.stderr
    out = run_main("fit", d / "L.npy", "-o", d / "x.json", "--sequence", "--sequence-key", "ids")
    assert out.returncode == 2 and "give --sequence-ids as well" in out.stderr


def test_inspect_shows_the_settings_that_are_not_defaults(files, tmp_path) -> None:
    d, _ = files
    ok("fit", d / "L.npy", "-o", tmp_path / "a.json", "--copies", "keep", "--one-class", "shared")
    head = ok("inspect", tmp_path / "a.json").splitlines()[0]
    assert "one_class=shared, copies=keep" in head and "combine=" not in head
    ok("fit", d / "L.npy", "-o", tmp_path / "s.json", "--sequence", "--persistence", "0.5")
    assert "persistence rho=0.5000" in ok("inspect", tmp_path / "s.json")
    assert "fixed (--persistence)" in ok("inspect", tmp_path / "s.json")


def test_evaluate_warns_about_flyingsquid_gold(files, tmp_path) -> None:
    """evaluate scores with UserWarnings off (it prints its own no-vote count), which also hid the
    warning that gold of -1 and 1 only loses every class-0 row."""
    d = files[0]
    ok("fit", d / "L.npy", "-o", tmp_path / "m.json")
    y = np.load(d / "y.npy")
    np.save(tmp_path / "y_fs.npy", np.where(y == 1, 1, -1))
    out = run_main("evaluate", tmp_path / "m.json", d / "L.npy", tmp_path / "y_fs.npy")
    assert out.returncode == 0 and "holds -1 and 1 only" in out.stderr, out.stderr
