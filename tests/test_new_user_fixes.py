"""Mistakes a first-time user makes (found by following the README as a Snorkel / FlyingSquid user):
each one gets a message that names the problem and the fix, never a silent wrong result."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_cli import run_main

from tripletws import LabelModel, to_flyingsquid, to_metal
from tripletws.datasets import make_synthetic

pd = pytest.importorskip("pandas")

NAMES = ["kw_spam", "regex_url", "len_short", "caps", "emoji"]


@pytest.fixture(scope="module")
def data():
    return make_synthetic(2000, 5, 2, coverage=0.3, random_state=7)


def _messages(record: list[warnings.WarningMessage]) -> str:
    return "\n".join(str(w.message) for w in record)


def _fit_warnings(L, **kwargs) -> str:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        LabelModel(**kwargs).fit(L)
    return _messages(record)


def test_missing_named_column_is_named(data):
    """A named frame without one of the fit's LFs: the error names the LF, not only the count."""
    frame = pd.DataFrame(data.L, columns=NAMES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel().fit(frame)
    with pytest.raises(ValueError, match=r"missing \['len_short'\]"):
        model.predict_proba(frame.drop(columns=["len_short"]))
    with pytest.raises(ValueError, match=r"not fitted with: \['extra'\]"):
        model.predict_proba(frame.assign(extra=-1))


def test_gold_column_in_L_warns(data):
    """The gold labels left in the frame of votes would be fitted as a perfect LF."""
    frame = pd.DataFrame(data.L, columns=NAMES).assign(label=data.y)
    text = _fit_warnings(frame)
    assert "column 'label'" in text and "gold" in text
    # LF names that are not a gold label's say nothing
    assert "gold labels" not in _fit_warnings(pd.DataFrame(data.L, columns=NAMES))


def test_gold_column_in_csv_warns(data, tmp_path):
    frame = pd.DataFrame(data.L, columns=NAMES).assign(y=data.y)
    frame.to_csv(tmp_path / "L.csv", index=False)
    out = run_main("fit", tmp_path / "L.csv", "-o", tmp_path / "m.json")
    assert out.returncode == 0
    assert "column 'y'" in out.stderr and "gold" in out.stderr


def test_metal_convention_warns(data):
    """MeTaL's 0 = abstain, classes 1..k, fitted as k + 1 classes: told, not silently fitted."""
    L = to_metal(data.L)
    text = _fit_warnings(L, cardinality=3)
    assert "from_metal" in text
    out_ok = _fit_warnings(data.L)
    assert "from_metal" not in out_ok and "from_flyingsquid" not in out_ok


def test_dense_matrix_of_three_classes_is_not_taken_for_metal():
    """Every LF voting on every row with 3 classes is a valid matrix (a dense crowd), not MeTaL's:
    its class 0 holds about a third of the entries, where MeTaL's 0 (abstain) holds most of them."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=400)
    L = np.where(rng.random((400, 5)) < 0.8, y[:, None], rng.integers(0, 3, size=(400, 5)))
    assert (L >= 0).all()
    assert "from_metal" not in _fit_warnings(L, cardinality=3)


def test_metal_convention_warns_on_the_command_line(data, tmp_path):
    np.save(tmp_path / "L.npy", to_metal(data.L))
    out = run_main("fit", tmp_path / "L.npy", "-o", tmp_path / "m.json")
    assert out.returncode == 0
    assert "from_metal" in out.stderr


def test_plus_minus_one_convention_warns(data):
    """Snorkel 0.7 / FlyingSquid's -1/+1 votes with 0 = abstain read as -1 = abstain: told."""
    L = to_flyingsquid(data.L)
    assert "from_flyingsquid" in _fit_warnings(L)


def test_evaluate_takes_gold_option(data, tmp_path):
    """``report`` takes the gold labels as ``--gold``; ``evaluate`` takes the same option."""
    np.save(tmp_path / "L.npy", data.L)
    np.save(tmp_path / "y.npy", data.y)
    assert run_main("fit", tmp_path / "L.npy", "-o", tmp_path / "m.json").returncode == 0
    out = run_main("evaluate", tmp_path / "m.json", tmp_path / "L.npy", "--gold", tmp_path / "y.npy")
    assert out.returncode == 0, out.stderr
    assert "accuracy" in out.stdout
    both = run_main(
        "evaluate", tmp_path / "m.json", tmp_path / "L.npy", tmp_path / "y.npy", "--gold", tmp_path / "y.npy"
    )
    assert both.returncode == 2 and "--gold" in both.stderr


def test_one_based_classes_named_on_the_command_line(data, tmp_path):
    """Classes 1..k with -1 = abstain: k + 1 inferred with class 0 unvoted; the warning says to renumber
    (its advice was only 'fix the stray value or set --cardinality', and --cardinality 2 then fails)."""
    np.save(tmp_path / "L.npy", np.where(data.L >= 0, data.L + 1, -1))
    out = run_main("fit", tmp_path / "L.npy", "-o", tmp_path / "m.json")
    assert out.returncode == 0
    assert "numbered 1..2, renumber them 0..1" in out.stderr


# Messages of the readers and of the matrix check for the same mistakes (session 21).


def test_votes_above_k_say_which_cardinality_or_renumbering(data):
    """Forgetting ``cardinality`` for k > 2 (or classes numbered from 1): the error says what to set."""
    L = data.L.copy()
    L[0, 1] = 4
    with pytest.raises(ValueError, match=r"set cardinality=5 .*numbered from 1, subtract 1"):
        LabelModel().fit(L)
    with pytest.raises(ValueError, match=r"set cardinality=5"):
        LabelModel().fit(__import__("tripletws").to_sparse(L))


def test_nan_for_abstain_says_write_minus_one(data):
    L = data.L.astype(float)
    L[L < 0] = np.nan
    with pytest.raises(ValueError, match=r"NaN in column \d+ \(row \d+\); write -1 for abstain"):
        LabelModel().fit(L)


def test_text_column_of_a_frame_is_named(data):
    frame = pd.DataFrame(data.L, columns=NAMES)
    frame["caps"] = frame["caps"].astype(str).replace("-1", "")
    with pytest.raises(ValueError, match=r"got dtype object \(column 'caps', row \d+, holds ''\)"):
        LabelModel().fit(frame)


def test_csv_with_empty_cells_says_empty_is_no_vote(tmp_path):
    (tmp_path / "L.csv").write_text("1,0,\n0,,1\n1,1,0\n")
    out = run_main("fit", tmp_path / "L.csv", "-o", tmp_path / "m.json")
    assert out.returncode != 0
    assert "write -1 for an abstain" in out.stderr


def test_gold_csv_with_a_header_picks_its_y_column(data, tmp_path):
    """``evaluate`` with a CSV of several named columns reads its ``y`` column (or ``--y-key``'s), as
    for Parquet; without a header the error says how to give the labels."""
    np.save(tmp_path / "L.npy", data.L)
    assert run_main("fit", tmp_path / "L.npy", "-o", tmp_path / "m.json").returncode == 0
    pd.DataFrame({"id": np.arange(len(data.y)), "y": data.y}).to_csv(tmp_path / "gold.csv", index=False)
    out = run_main("evaluate", tmp_path / "m.json", tmp_path / "L.npy", tmp_path / "gold.csv")
    assert out.returncode == 0, out.stderr
    pd.DataFrame({"id": np.arange(len(data.y)), "truth": data.y}).to_csv(tmp_path / "g2.csv", index=False)
    named = run_main(
        "evaluate", tmp_path / "m.json", tmp_path / "L.npy", tmp_path / "g2.csv", "--y-key", "truth"
    )
    assert named.returncode == 0, named.stderr
    assert named.stdout == out.stdout
    missing = run_main("evaluate", tmp_path / "m.json", tmp_path / "L.npy", tmp_path / "g2.csv")
    assert missing.returncode != 0 and "no column 'y'" in missing.stderr and "truth" in missing.stderr
    np.savetxt(tmp_path / "g3.csv", np.c_[np.arange(len(data.y)) + 100, data.y], fmt="%d", delimiter=",")
    bare = run_main("evaluate", tmp_path / "m.json", tmp_path / "L.npy", tmp_path / "g3.csv")
    assert bare.returncode != 0 and "labels must be one column" in bare.stderr and "--y-key" in bare.stderr


def test_fit_warnings_name_the_lfs_of_a_named_matrix():
    """A warning about LFs gives their names when the input named its columns (``notes_`` keeps the
    indices; an unnamed matrix's warnings are as before)."""
    L = np.zeros((300, 4), dtype=int) - 1
    L[:, 0] = np.tile([0, 1, -1], 100)  # votes; LF 3 never votes
    L[:, 1] = np.tile([0, 1, 1], 100)
    L[:, 2] = np.tile([0, -1, 1], 100)
    frame = pd.DataFrame(L, columns=["kw", "regex", "len", "never"])
    text = _fit_warnings(frame)
    assert "3 'never'" in text
    assert "'never'" not in _fit_warnings(L)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert not any("'never'" in note for note in LabelModel().fit(frame).notes_)


def test_name_lfs_reads_every_kind_of_lf_list():
    from tripletws.lf_names import name_lfs

    names = [f"n{i}" for i in range(13)]
    assert name_lfs("LF(s) 0, 3 never vote", names) == "LF(s) 0 'n0', 3 'n3' never vote"
    assert (
        name_lfs("LF(s) 0 (class 1), 1 (class 0), ... (73 in all) vote", names)
        == "LF(s) 0 'n0' (class 1), 1 'n1' (class 0), ... (73 in all) vote"
    )
    copies = "LF(s) 5 (of 12: share 0.83, accuracy 0.712), 7 (of 2: share 0.50, accuracy 0.1) copy"
    assert name_lfs(copies, names) == (
        "LF(s) 5 'n5' (of 12: share 0.83, accuracy 0.712), 7 'n7' (of 2: share 0.50, accuracy 0.1) copy"
    )
    assert name_lfs("LF(s) 20 never vote", names) == "LF(s) 20 never vote"  # no such name: as it was
    assert name_lfs("LF(s) 2 never vote", None) == "LF(s) 2 never vote"


def test_score_with_metrics_that_are_not_names_is_a_value_error(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel().fit(data.L)
    with pytest.raises(ValueError, match=r"metrics must be a metric's name or a list of names, got 5"):
        model.score(data.L, data.y, metrics=5)
