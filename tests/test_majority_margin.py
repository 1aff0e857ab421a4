"""Majority vote's margin per row (tripletws.baselines.majority_margin) and evaluate's breakdown by it."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from test_cli import ok

from tripletws import LabelModel, MajorityLabelVoter
from tripletws.baselines import MARGIN_KINDS, majority_margin, margin_kinds
from tripletws.datasets import make_synthetic


def test_margins_and_kinds() -> None:
    L = np.array([[-1, -1, -1], [0, 1, -1], [0, 0, 1], [0, 0, 0], [2, 2, -1], [1, 2, 2]])
    margin = majority_margin(L, 3)
    np.testing.assert_array_equal(margin, [-1, 0, 1, 3, 2, 1])
    np.testing.assert_array_equal(margin_kinds(margin), [0, 1, 2, 3, 3, 2])
    assert MARGIN_KINDS[0] == "no vote" and MARGIN_KINDS[1] == "tie"


def test_margin_matches_vote_counts_on_every_input() -> None:
    """Against a direct count on a random matrix, dense and sparse (class c stored as c + 1)."""
    import scipy.sparse as sp

    rng = np.random.default_rng(3)
    L = rng.integers(-1, 4, size=(500, 9))
    counts = np.stack([(L == c).sum(axis=1) for c in range(4)], axis=1)
    top = np.sort(counts, axis=1)
    want = np.where(counts.sum(axis=1) == 0, -1, top[:, -1] - top[:, -2])
    np.testing.assert_array_equal(majority_margin(L, 4), want)
    np.testing.assert_array_equal(majority_margin(sp.csr_matrix(L + 1), 4), want)


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="-2"):
        majority_margin(np.array([[0, -2, 1]]), 2)


def test_evaluate_breaks_accuracy_down_by_margin(tmp_path) -> None:
    """The JSON breakdown: its rows add up to the gold rows, and each kind's accuracy is the score of
    the same predictions on that kind's rows (computed here without the CLI)."""
    data = make_synthetic(2000, 5, 2, coverage=0.3, random_state=4)
    np.savez(tmp_path / "d.npz", L=data.L, y=data.y)
    model_file = tmp_path / "m.json"
    ok("fit", tmp_path / "d.npz", "--key", "L", "-o", model_file)
    out = json.loads(ok("evaluate", model_file, tmp_path / "d.npz", "--json"))
    by = out["by_margin"]
    assert list(by) == list(MARGIN_KINDS)
    assert sum(rec["rows"] for rec in by.values()) == out["n_gold"]
    assert by["no vote"]["rows"] == out["n_gold_no_vote"]
    model = LabelModel.load(model_file)
    kind = margin_kinds(majority_margin(data.L, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, lab in (("label_model", model), ("majority_vote", MajorityLabelVoter(2))):
            pred = lab.predict(data.L, tie_break_policy="random")
            for t, kname in enumerate(MARGIN_KINDS):
                rows = kind == t
                assert by[kname]["rows"] == int(rows.sum())
                if rows.any():
                    assert by[kname][name] == pytest.approx(float((pred[rows] == data.y[rows]).mean()))
    text = ok("evaluate", model_file, tmp_path / "d.npz")
    assert "accuracy by majority vote's margin" in text and "margin 2+" in text


def test_the_tubespam_example_of_the_docs(tmp_path) -> None:
    """docs/workflow.md, section 5: the default's gain on tubespam_rdp's test split is mostly its rows
    without a vote (skipped without the shared data)."""
    from conftest import DATA_DIR

    if not (DATA_DIR / "tubespam_rdp").is_dir():
        pytest.skip(f"shared dataset 'tubespam_rdp' not found under {DATA_DIR}")
    model_file = tmp_path / "m.json"
    ok("fit", DATA_DIR / "tubespam_rdp" / "train.npz", "--key", "L", "-o", model_file)
    by = json.loads(ok("evaluate", model_file, DATA_DIR / "tubespam_rdp" / "test.npz", "--json"))["by_margin"]
    assert by["no vote"]["rows"] == 43 and by["tie"]["rows"] == 54
    assert round(by["no vote"]["label_model"], 2) == 0.79 and round(by["no vote"]["majority_vote"], 2) == 0.42
    assert round(by["tie"]["label_model"], 2) == 0.56 and round(by["tie"]["majority_vote"], 2) == 0.57
    # the rows with a majority: a lone spam vote kept from the other LFs' silences (tripletws.voted_guard)
    assert by["margin 1"]["rows"] == 190 and by["margin 2+"]["rows"] == 105
    for kind, model, majority in (("margin 1", 0.916, 0.895), ("margin 2+", 0.981, 0.971)):
        assert round(by[kind]["label_model"], 3) == model and round(by[kind]["majority_vote"], 3) == majority


def test_report_shows_the_breakdown_as_evaluate_does(tmp_path) -> None:
    import re

    data = make_synthetic(1500, 6, 3, coverage=0.2, random_state=7)
    np.save(tmp_path / "L.npy", data.L)
    np.save(tmp_path / "y.npy", data.y)
    model_file = tmp_path / "m.json"
    ok("fit", tmp_path / "L.npy", "-o", model_file)
    by = json.loads(ok("evaluate", model_file, tmp_path / "L.npy", tmp_path / "y.npy", "--json"))["by_margin"]
    ok("report", model_file, tmp_path / "L.npy", "--gold", tmp_path / "y.npy", "-o", tmp_path / "r.html")
    text = (tmp_path / "r.html").read_text()
    cell = r"</td><td[^>]*>([0-9.na]+)"
    for kind in MARGIN_KINDS:
        cells = re.search(rf"majority margin: {re.escape(kind)}</td><td[^>]*>(\d+){cell}{cell}<", text)
        assert cells is not None, kind
        assert int(cells.group(1)) == by[kind]["rows"]
        if by[kind]["rows"]:
            assert float(cells.group(2)) == pytest.approx(by[kind]["label_model"], abs=5e-4)
            assert float(cells.group(3)) == pytest.approx(by[kind]["majority_vote"], abs=5e-4)
