"""Bugs found by fuzzing the inspection features (LF analysis, diagnostics, intervals, report, CLI)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_cli import run_main

from tripletws import LabelModel, LFAnalysis
from tripletws.datasets import make_synthetic
from tripletws.diagnostics import dependency_candidates
from tripletws.intervals import MAX_BOOT


def _dev_chosen(tmp_path):
    """A model whose dev rows chose other parameters than the gold-free fit's, and its file."""
    d = make_synthetic(1500, 6, 2, random_state=2)
    L, L_dev, y_dev = d.L[:1000], d.L[1000:1100], d.y[1000:1100]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2).fit(L, L_dev=L_dev, Y_dev=y_dev)
    assert model.dev_choice_["chosen"] not in (None, "gold_free")
    path = tmp_path / "m.json"
    model.save(path)
    return d, L, path


def test_report_of_a_loaded_dev_chosen_model_is_drawn_without_intervals(tmp_path):
    """``tripletws fit --L-dev --y-dev`` then ``tripletws report`` failed (exit 2) with a Python hint
    ("fit(L, L_dev=..., Y_dev=...) again"): the report refused to draw at all where it could only
    not bootstrap; other rows already gave a report without intervals."""
    pytest.importorskip("matplotlib")
    d, L, path = _dev_chosen(tmp_path)
    np.save(tmp_path / "L.npy", L)
    np.save(tmp_path / "y.npy", d.y[:1000])
    out = tmp_path / "r.html"
    res = run_main("report", path, tmp_path / "L.npy", "--gold", tmp_path / "y.npy", "-o", out)
    assert res.returncode == 0, res.stderr
    text = out.read_text(encoding="utf-8")
    assert "none: the model&#x27;s parameters were chosen by dev rows" in text
    loaded = LabelModel.load(path)
    with pytest.warns(UserWarning, match="no accuracy intervals .* chosen by dev rows"):
        table = LFAnalysis(L).lf_summary(model=loaded)
    assert table["Acc. low"].isna().all()
    with pytest.raises(ValueError, match=r"chosen by dev rows .* does not keep"):  # asked for: still refused
        loaded.confidence_intervals(L, n_boot=10, random_state=0)


def test_report_of_a_stream_with_rows_waiting_is_drawn_without_intervals():
    """A stream whose last rows wait for a solve (refit_growth) made the report and the LF summary
    raise "call model.refit() first" instead of leaving the intervals out."""
    pytest.importorskip("matplotlib")
    d = make_synthetic(600, 5, 2, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2, refit_growth=10.0)
        model.partial_fit(d.L[:500])
        model.partial_fit(d.L[500:])
    assert model.pending_rows_ == 100
    html = model.report(d.L, n_boot=5)
    assert "none: 100 rows of the model&#x27;s stream wait for a solve" in html
    with pytest.warns(UserWarning, match="no accuracy intervals .* wait for a solve"):
        LFAnalysis(d.L).lf_summary(model=model)


def test_absurd_n_boot_is_refused_before_any_work(tmp_path):
    """``n_boot=10**12`` was accepted and ran (practically) forever, one solve per replicate."""
    d = make_synthetic(500, 5, 2, random_state=0)
    model = LabelModel(2, model="symmetric", class_balance="estimate").fit(d.L)
    with pytest.raises(ValueError, match=rf"n_boot must be an integer in \[2, {MAX_BOOT}\]"):
        model.confidence_intervals(d.L, n_boot=10**12)
    assert model.confidence_intervals(d.L, n_boot=MAX_BOOT // 10**4, random_state=0).n_boot >= 2
    np.save(tmp_path / "L.npy", d.L)
    res = run_main("fit", tmp_path / "L.npy", "-o", tmp_path / "m.json", "--intervals", str(10**12))
    assert res.returncode == 2 and f"at most {MAX_BOOT}" in res.stderr
    assert not (tmp_path / "m.json").exists()  # refused before the fit


def test_dependency_candidates_check_top_and_alpha():
    """``top=-1`` silently dropped the last pair (a slice), ``top=2.7`` was truncated, ``top=True`` kept
    one pair; ``alpha="0.1"`` was a TypeError from a comparison."""
    d = make_synthetic(1000, 5, 2, random_state=0)
    model = LabelModel(2, model="symmetric").fit(d.L)
    assert len(dependency_candidates(d.L, model, top=3, as_frame=False)) == 3
    for top in (-1, 0, 2.7, True, "3"):
        with pytest.raises(ValueError, match="top"):
            dependency_candidates(d.L, model, top=top, as_frame=False)
    for alpha in ("0.1", None, True):
        with pytest.raises(ValueError, match="alpha"):
            dependency_candidates(d.L, model, alpha=alpha, as_frame=False)


def test_lf_summary_of_a_matrix_without_rows_takes_empty_gold():
    # was: "Y is empty" for the gold of a matrix that has no rows either
    empty = np.zeros((0, 3), dtype=int)
    table = LFAnalysis(empty).lf_summary(Y=np.zeros(0))
    assert list(table["j"]) == [0, 1, 2] and "Correct" not in table  # no gold, no gold columns
    with pytest.raises(ValueError, match="Y is empty"):  # empty gold beside rows is still refused
        LFAnalysis(np.zeros((5, 3), dtype=int)).lf_summary(Y=np.zeros(0))


def test_inspect_and_report_say_the_family_a_dev_choice_replaced(tmp_path):
    # after a dev choice that replaced the gold-free fit, inspect printed "fitted family: <gold-free
    # family>" above the dev choice, as if that family predicted
    from tripletws.report import _choices

    d = make_synthetic(4_000, 6, 2, coverage=0.1, class_balance=[0.9, 0.1], random_state=2)
    np.save(tmp_path / "L.npy", d.L[200:])
    np.save(tmp_path / "L_dev.npy", d.L[:200])
    np.save(tmp_path / "y_dev.npy", d.y[:200])
    out = run_main(
        "fit", tmp_path / "L.npy", "--L-dev", tmp_path / "L_dev.npy", "--y-dev", tmp_path / "y_dev.npy",
        "-o", tmp_path / "m.json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    model = LabelModel.load(tmp_path / "m.json")
    assert model.dev_choice_["chosen"].endswith("+dev_prior")
    family = model.solution_.choices()["family"]
    info = run_main("inspect", tmp_path / "m.json").stdout
    assert f"gold-free family: {family} (replaced by the dev choice)" in info
    assert "fitted family" not in info
    rows = _choices(model)  # the report's summary rows
    assert rows[0] == ["gold-free family", f"{family} (replaced by the dev choice)"]
