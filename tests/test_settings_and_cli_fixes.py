"""Fixes from a fuzz round over LabelModel's settings and the command line (session 20).

Each test failed before its fix: ``refit`` after ``set_params(dependencies=...)`` kept the old
edges; ``score`` checked labels against a ``cardinality`` changed after the fit; warnings of
``fit(L, L_dev=, Y_dev=)`` and of ``Y_dev``'s smoothing pointed inside the library; settings a
model does not read passed without a word; the CLI's majority-vote column drew another
tie-break on every run; ``--intervals 1`` failed after the fit; ``--key`` was ignored for .npy
files; ``--class-balance`` could not go with ``--L-dev``; a fit without votes said its predictions were
the class prior.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from test_cli import run_main

from tripletws import LabelModel
from tripletws.datasets import make_synthetic

HERE = Path(__file__).name


def _quiet_fit(model: LabelModel, L: np.ndarray, **kw) -> LabelModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(L, **kw)


@pytest.fixture(scope="module")
def data():
    return make_synthetic(2_000, 6, 2, coverage=0.6, random_state=1)


def test_refit_reads_dependencies_set_since_the_fit(data, tmp_path):
    """docs/online.md: refit() solves with the current settings, also after set_params."""
    model = _quiet_fit(LabelModel(2, model="symmetric"), data.L)
    model.set_params(dependencies=[(0, 1)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.refit()
    assert model.dependencies_.tolist() == [[0, 1]]
    fresh = _quiet_fit(LabelModel(2, model="symmetric", dependencies=[(0, 1)]), data.L)
    np.testing.assert_allclose(model.predict_proba(data.L), fresh.predict_proba(data.L), atol=1e-12)
    model.save(tmp_path / "m.json")  # the file's settings and fit agree
    loaded = LabelModel.load(tmp_path / "m.json")
    assert loaded.dependencies_.tolist() == [[0, 1]]


def test_a_stream_keeps_the_edges_given_to_fit(data):
    """Edges passed to fit (not set_params) stay with the stream's later solves."""
    model = _quiet_fit(
        LabelModel(2, model="symmetric", refit_growth=1.0), data.L[:1_000], dependencies=[(2, 3)]
    )
    model.partial_fit(data.L[1_000:])
    model.refit()
    assert model.dependencies_.tolist() == [[2, 3]]


def test_score_uses_the_fitted_classes(data):
    d = make_synthetic(800, 5, 3, coverage=0.6, random_state=3)
    model = _quiet_fit(LabelModel(3), d.L)
    expected = model.score(d.L, d.y)
    model.set_params(cardinality=2)  # predict_proba still gives the fitted 3 classes
    assert model.predict_proba(d.L).shape == (800, 3)
    assert model.score(d.L, d.y) == expected


def test_warnings_of_a_fit_with_dev_rows_name_the_callers_line(data):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LabelModel(2, device="cuda").fit(data.L, L_dev=data.L[:40], Y_dev=data.y[:40])
    assert caught and {Path(w.filename).name for w in caught} == {HERE}, [
        (w.filename, w.message) for w in caught
    ]


@pytest.mark.parametrize("call", ["fit", "partial_fit"])
def test_y_dev_smoothing_warning_names_the_callers_line(call):
    d = make_synthetic(800, 5, 3, coverage=0.6, random_state=3)
    model = LabelModel(3, model="symmetric")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(model, call)(d.L, Y_dev=np.array([0, 0, 1, 1]))
    smoothing = [w for w in caught if "add-one smoothing" in str(w.message)]
    assert smoothing and all(Path(w.filename).name == HERE for w in smoothing)


@pytest.mark.parametrize(
    "model,settings,named",
    [
        ("annotator", {"solver": "rank_one", "eps": 0.01}, "falls back to the symmetric model"),
        ("annotator", {"em_steps": 3, "max_overrule": 0.5, "em_max_rows": 1000}, "em_steps=3"),
        ("class_conditional", {"signs": "eigen"}, "signs='eigen'"),
        ("symmetric", {"em_steps": 3}, "em_steps=3"),
    ],
)
def test_settings_a_model_does_not_read_are_named(data, model, settings, named):
    with pytest.warns(UserWarning, match=f"ignored: model='{model}' does not read") as caught:
        LabelModel(2, model=model, **settings).fit(data.L)
    assert any(named in str(w.message) for w in caught)


@pytest.mark.parametrize("model", ["annotator", "class_conditional", "symmetric"])
def test_default_settings_name_nothing(data, model):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LabelModel(2, model=model).fit(data.L)
    assert not [w for w in caught if "does not read" in str(w.message)]


@pytest.fixture(scope="module")
def files(tmp_path_factory, data):
    d = tmp_path_factory.mktemp("cli_fixes")
    np.save(d / "L.npy", data.L)
    np.save(d / "y.npy", data.y)
    np.save(d / "L_dev.npy", data.L[:100])
    np.save(d / "y_dev.npy", data.y[:100])
    return d


def test_evaluate_draws_majority_votes_tie_break_with_the_models_seed(files):
    """With --tie-break true-random and no --seed, both columns use the seed saved with the model:
    the majority-vote column no longer changes from run to run."""
    assert run_main("fit", files / "L.npy", "-o", files / "s.json", "--seed", "3").returncode == 0
    runs = {
        run_main(
            "evaluate", files / "s.json", files / "L.npy", files / "y.npy", "--tie-break", "true-random"
        ).stdout
        for _ in range(3)
    }
    assert len(runs) == 1


def test_intervals_below_two_are_refused_before_the_fit(files):
    out = run_main("fit", files / "L.npy", "-o", files / "i.json", "--intervals", "1")
    assert out.returncode != 0 and "--intervals" in out.stderr
    assert not (files / "i.json").exists()


def test_a_key_for_an_npy_file_is_refused(files):
    out = run_main("fit", files / "L.npy", "-o", files / "k.json", "--key", "NOPE")
    assert out.returncode != 0 and "'NOPE'" in out.stderr and ".npy" in out.stderr


def test_class_balance_goes_with_dev_rows_but_not_with_y_dev_alone(files):
    both = run_main(
        "fit", files / "L.npy", "-o", files / "b.json", "--L-dev", files / "L_dev.npy",
        "--y-dev", files / "y_dev.npy", "--class-balance", "0.6,0.4",
    )  # fmt: skip
    assert both.returncode == 0, both.stderr
    np.testing.assert_allclose(LabelModel.load(files / "b.json").class_balance_, [0.6, 0.4], atol=1e-9)
    alone = run_main(
        "fit",
        files / "L.npy",
        "-o",
        files / "c.json",
        "--y-dev",
        files / "y_dev.npy",
        "--class-balance",
        "0.6,0.4",
    )
    assert alone.returncode != 0 and "both set the prior" in alone.stderr


def test_the_note_of_a_fit_without_votes_says_what_the_default_predicts():
    """Fitted on rows where no LF votes, the default gives every LF the same accuracy, so a voted row
    is ranked by its vote counts; the note said "the predictions are the class prior"."""
    with pytest.warns(UserWarning, match="never vote") as caught:
        model = LabelModel(3).fit(-np.ones((10, 5), dtype=int))
    assert any("majority vote's counts" in str(w.message) for w in caught)
    assert np.ptp(model.accuracies_) == 0
    P = model.predict_proba(np.array([[1, -1, 1, 1, 1], [-1, -1, -1, -1, -1]]))
    assert P[0].argmax() == 1 and P[0, 1] > 0.5
    np.testing.assert_allclose(P[1], model.class_balance_, atol=1e-12)


def test_settings_a_model_does_not_read_are_named_once_per_fit(data, tmp_path):
    """Not again at save, load, prediction or intervals (the check runs there too)."""
    with pytest.warns(UserWarning, match="does not read"):
        model = LabelModel(2, em_steps=5).fit(data.L)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.save(tmp_path / "m.json")
        loaded = LabelModel.load(tmp_path / "m.json")
        loaded.predict_proba(data.L)
    assert not [w for w in caught if "does not read" in str(w.message)]


def test_the_fallback_reads_the_symmetric_models_settings(data):
    """With declared dependencies the annotator solves the symmetric model, which reads solver."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LabelModel(2, solver="triplet", dependencies=[(0, 1)]).fit(data.L)
    assert not [w for w in caught if "does not read" in str(w.message)]


def test_set_params_to_the_constructors_edges_after_a_fit_that_overrode_them(data):
    """The constructor's edges, overridden by fit(dependencies=[]), set again by set_params: the
    next solve reads them (a comparison with the setting at the last solve saw no change)."""
    model = _quiet_fit(LabelModel(2, model="symmetric", dependencies=[(0, 1)]), data.L, dependencies=[])
    assert model.dependencies_.tolist() == []
    model.set_params(dependencies=[(0, 1)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.refit()
    assert model.dependencies_.tolist() == [[0, 1]]
