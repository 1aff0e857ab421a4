"""Model-file and estimator-API bugs found by fuzzing saved models: each test failed before its fix."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import signed_record

from tripletws import LabelModel, SequenceLabelModel
from tripletws.datasets import make_synthetic
from tripletws.io import load_model


def _write_signed(record: dict[str, Any], path: Path) -> Path:
    """``record`` written to ``path`` with a checksum that matches its (edited) content."""
    path.write_text(json.dumps(signed_record(record)))
    return path


def _refused(record: dict[str, Any], tmp_path: Path, match: str) -> None:
    """Loading ``record`` (re-signed) is a ValueError whose message matches ``match``."""
    with pytest.raises(ValueError, match=match):
        load_model(_write_signed(record, tmp_path / "bad.json"))


@pytest.fixture(scope="module")
def data():
    return make_synthetic(900, 6, 3, coverage=0.6, random_state=7)


@pytest.fixture(scope="module")
def sequence_record(data, tmp_path_factory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("seq") / "seq.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        SequenceLabelModel(3).partial_fit(data.L[:450]).partial_fit(data.L[450:]).save(path)
    return json.loads(path.read_text())


# -- SequenceLabelModel: its constructor parameters are checked on load ------------------------------


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("window", "abc"),
        ("window", 0),
        ("chunk_size", "x"),
        ("chunk_size", 0),
        ("eps", "x"),
        ("solver", "nope"),
        ("signs", 3),
        ("class_balance", [0.5]),
        ("persistence", 5),
        ("same_lf_pairs", "yes"),
        ("verbose", "yes"),
    ],
)
def test_sequence_file_with_a_bad_parameter_is_refused_on_load(sequence_record, tmp_path, param, value):
    record = json.loads(json.dumps(sequence_record))
    record["params"][param] = value
    _refused(record, tmp_path, param)


# -- the annotator's mixture (combine="stack" / "pseudo_bma"): its tables are probabilities ----------


@pytest.fixture(scope="module")
def stack_record(data, tmp_path_factory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("stack") / "stack.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LabelModel(3, combine="stack").fit(data.L).save(path)
    record = json.loads(path.read_text())
    assert record["state"]["solution"]["estimate"].get("mixture") is not None
    return record


def _edit_mixture(record: dict[str, Any], field: str, edit: Any) -> dict[str, Any]:
    record = json.loads(json.dumps(record))
    mixture = record["state"]["solution"]["estimate"]["mixture"]
    mixture[field] = edit(mixture[field])
    return record


def _first_entry(value: float) -> Any:
    def edit(tables: list) -> list:
        arr = np.asarray(tables, dtype=np.float64)
        arr.flat[0] = value
        return arr.tolist()

    return edit


@pytest.mark.parametrize(
    ("field", "edit"),
    [
        ("cond_probs", _first_entry(-0.2)),  # a negative probability
        ("cond_probs", _first_entry(1.5)),  # above 1 (and the column no longer sums to 1)
        ("cond_probs", lambda t: (np.asarray(t) * 0.5).tolist()),  # columns summing to 1/2
        ("cond_probs", lambda t: np.asarray(t)[:, :, :2].tolist()),  # (m, k + 1, k - 1) tables
        ("class_balance", _first_entry(-0.3)),
        ("class_balance", lambda p: np.ones_like(np.asarray(p)).tolist()),  # summing to 3
        ("families", lambda f: [5, *f[1:]]),  # not a family's name
    ],
)
def test_mixture_with_bad_tables_is_refused_on_load(data, stack_record, tmp_path, field, edit):
    record = _edit_mixture(stack_record, field, edit)
    with pytest.raises(ValueError, match="mixture"):
        model = load_model(_write_signed(record, tmp_path / "bad.json"))
        probs = model.predict_proba(data.L)  # before the fix: loaded, and predicted with the bad tables
        pytest.fail(f"loaded a mixture with bad {field}; first row {probs[0]}")


# -- SequenceLabelModel: its fitted state is read field by field --------------------------------------


def _set(path: tuple[Any, ...], value: Any) -> Any:
    """An edit of a record: ``value`` at ``path`` (keys from the record it is given)."""

    def edit(state: dict[str, Any]) -> None:
        parent = state
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = value

    return edit


def _delete(path: tuple[Any, ...]) -> Any:
    def edit(state: dict[str, Any]) -> None:
        parent = state
        for key in path[:-1]:
            parent = parent[key]
        del parent[path[-1]]

    return edit


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (_set(("unexpected",), 1), "unexpected"),  # an unknown field was ignored
        (_set(("tail", "unexpected"), 1), "unexpected"),
        (_set(("cross_stats", "unexpected"), 1), "unexpected"),
        (_delete(("persistence",)), "persistence"),
        (_set(("persistence",), "0.3"), "persistence"),  # a string read as a number
        (_set(("persistence",), True), "persistence"),
        (_set(("tau_raw",), "x"), "tau_raw"),
        (_set(("tau_se",), True), "tau_se"),
        (_set(("notes",), 0), "notes"),  # falsy: read as no notes
        (_set(("notes",), {}), "notes"),
        (_delete(("tail", "position")), "position"),
        (_set(("tail", "position"), -7), "position"),  # the next batch would continue at frame -6
        (_set(("tail", "position"), 2.5), "position"),  # truncated to 2
        (_set(("tail", "position"), "3"), "position"),
        (_set(("tail", "id"), True), "id"),
        (_set(("tail", "row"), [0.5] * 6), "row"),  # truncated to votes 0
        (_set(("tail",), 3), "tail"),
        (_set(("cross_stats", "cardinality"), 3.5), "cardinality"),  # truncated to 3
        (_set(("cross_stats", "n_pairs"), True), "n_pairs"),
        (_set(("cross_stats", "n_pairs"), 1.0), "n_pairs"),  # fewer pairs than co-votes counted
    ],
)
def test_sequence_state_with_a_bad_field_is_refused_on_load(sequence_record, tmp_path, edit, field):
    record = json.loads(json.dumps(sequence_record))
    assert record["state"]["tail"] is not None
    edit(record["state"])
    _refused(record, tmp_path, field)


# -- the dependency tables a model predicts with are among its dependencies ---------------------------


@pytest.mark.parametrize("model", ["symmetric", "class_conditional", "annotator"])
def test_pair_tables_of_undeclared_edges_are_refused_on_load(data, tmp_path, model):
    from tripletws.arrays import encode_array

    path = tmp_path / "dep.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LabelModel(3, model=model).fit(data.L, dependencies=[(0, 1), (2, 3)]).save(path)
    record = json.loads(path.read_text())
    solution = record["state"]["solution"]
    assert solution["params"].get("edges") is not None
    # before the fix: loaded with dependencies_ == [] while predicting with both edges' tables,
    # and the next solve (partial_fit, refit) dropped them
    solution["dependencies"] = encode_array(np.zeros((0, 2), dtype=np.int64))
    solution["coupling"] = encode_array(np.zeros(0))
    _refused(record, tmp_path, r"solution\.dependencies")


# -- the distinct rows agree with the statistics they were summarised with ----------------------------


def _scale_counts(factor: float) -> Any:
    def edit(rows: dict[str, Any]) -> None:
        rows["counts"] = (np.asarray(rows["counts"]) * factor).tolist()

    return edit


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda rows: rows.__setitem__("n_rows", rows["n_rows"] * 10), "rows.n_rows"),
        (lambda rows: rows.__setitem__("n_rows", 0.0), "rows.n_rows"),
        # every row kept (level 0): the counts add up to the rows read; scaled, they moved the next solve
        (_scale_counts(0.01), "rows.counts"),
        (_scale_counts(2.0), "rows.counts"),
    ],
)
def test_row_summary_disagreeing_with_the_statistics_is_refused_on_load(data, tmp_path, edit, field):
    from tripletws.arrays import decode_array

    path = tmp_path / "m.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LabelModel(3, model="class_conditional", em_steps=3).fit(data.L).save(path)
    record = json.loads(path.read_text())
    rows = record["state"]["summary"]["rows"]
    assert rows["level"] == 0
    rows["counts"] = decode_array(rows["counts"], "counts").tolist()
    edit(rows)
    _refused(record, tmp_path, field.replace(".", r"\."))


# -- a window's batches keep distinct rows where the running summary does -----------------------------


def _window_record(data, tmp_path: Path) -> dict[str, Any]:
    """The saved record of a class-conditional window stream (window 2) fed three batches."""
    path = tmp_path / "window.json"
    model = LabelModel(3, model="class_conditional", window=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for part in np.split(data.L, 3):
            model.partial_fit(part)
        model.save(path)
    return json.loads(path.read_text())


def test_window_batch_without_the_summarys_rows_is_refused_on_load(data, tmp_path):
    record = _window_record(data, tmp_path)
    assert record["state"]["summary"]["rows"] is not None
    record["state"]["stream"]["batches"][1]["rows"] = None
    # before the fix: loaded, and the next partial_fit failed with an AttributeError
    with pytest.raises(ValueError, match=r"stream\.batches"):
        loaded = load_model(_write_signed(record, tmp_path / "bad.json"))
        loaded.partial_fit(data.L[:300])


# -- window and frame positions fit the int64 arithmetic of the frame positions -----------------------


def test_sequence_window_beyond_int64_is_refused(data, sequence_record, tmp_path):
    model = SequenceLabelModel(3, window=10**20)
    with pytest.raises(ValueError, match="window"):  # before the fix: an OverflowError from numpy
        model.fit(data.L)
    record = json.loads(json.dumps(sequence_record))
    record["params"]["window"] = 10**20
    with pytest.raises(ValueError, match="window"):
        load_model(_write_signed(record, tmp_path / "window.json"))
    record = json.loads(json.dumps(sequence_record))
    record["state"]["tail"]["position"] = 10**20  # loaded; the next partial_fit failed with an OverflowError
    with pytest.raises(ValueError, match="position"):
        load_model(_write_signed(record, tmp_path / "position.json")).partial_fit(data.L[:50])


# -- a window's batches add up to the running summary ---------------------------------------------------


@pytest.mark.parametrize("field", ["agree", "class_counts", "joint"])
def test_window_batches_disagreeing_with_the_summary_are_refused_on_load(data, tmp_path, field):
    from tripletws.arrays import decode_array, encode_array

    record = _window_record(data, tmp_path)
    stats = record["state"]["summary"]["stats"]
    if field == "joint":  # a statistic the summary holds and a batch lacks
        record["state"]["stream"]["batches"][0]["stats"]["joint"] = None
    else:  # still consistent in itself (agreements within co-votes, votes adding up)
        arr = decode_array(stats[field], field)
        if field == "agree":
            arr[0, 1] = arr[1, 0] = arr[0, 1] - 1
        else:
            arr[0, 0], arr[0, 1] = arr[0, 0] - 1, arr[0, 1] + 1
        stats[field] = encode_array(arr)
    # before the fix: loaded; the next partial_fit failed (a count subtracted below zero, or the joint
    # table missing) or solved on statistics that no rows give
    with pytest.raises(ValueError, match=r"stream\.batches"):
        loaded = load_model(_write_signed(record, tmp_path / "bad.json"))
        loaded.partial_fit(data.L[:300])
        pytest.fail("loaded a window whose batches do not add up to its summary")


# -- confidence intervals saved with a model: every field checked and named ----------------------------


@pytest.fixture(scope="module")
def intervals_record(data, tmp_path_factory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("intervals") / "m.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(3).fit(data.L)
        model.confidence_intervals(data.L, n_boot=10, n_chunks=10, random_state=0)
        model.save(path)
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("unexpected", 1, "unexpected"),  # an unknown field was ignored
        ("n_boot", "5", "n_boot"),  # strings, fractions and flags were read as numbers
        ("n_boot", 2.7, "n_boot"),
        ("n_boot", True, "n_boot"),
        ("n_boot", [], "n_boot"),  # the message named no field
        ("n_chunks", "10", "n_chunks"),
        ("level", "0.9", "level"),
        ("accuracy", "abc", "accuracy"),
        ("class_balance", [1.0, 1.0, 1.0], "class_balance"),  # a point estimate summing to 3
    ],
)
def test_intervals_with_a_bad_field_are_refused_on_load(intervals_record, tmp_path, key, value, field):
    record = json.loads(json.dumps(intervals_record))
    record["state"]["intervals"][key] = value
    _refused(record, tmp_path, f"intervals.*{field}")


# -- the annotator's estimate: the dev choice and the per-fit diagnostics, checked and named -----------


@pytest.fixture(scope="module")
def dev_record(data, tmp_path_factory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("dev") / "dev.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LabelModel(3).fit(data.L[200:], L_dev=data.L[:200], Y_dev=data.y[:200]).save(path)
    record = json.loads(path.read_text())
    assert record["state"]["solution"]["estimate"]["dev_choice"] is not None
    return record


def _chosen_score(value: Any) -> Any:
    def edit(dev: dict[str, Any]) -> None:
        dev["dev_accuracy"][dev["chosen"]] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (_set(("dev_choice", "unexpected"), 1), "unexpected"),  # an unknown field was ignored
        (_set(("dev_choice", "n_dev"), -5), "n_dev"),  # shown as "on -5 gold rows"
        (_set(("dev_choice", "n_dev"), 2.5), "n_dev"),  # truncated to 2
        (_set(("dev_choice", "n_dev"), True), "n_dev"),
        (lambda e: _chosen_score(-3.0)(e["dev_choice"]), "dev_accuracy"),  # an accuracy below 0
        (lambda e: _chosen_score(True)(e["dev_choice"]), "dev_accuracy"),
        (lambda e: _chosen_score("0.9")(e["dev_choice"]), "dev_accuracy"),
        (_set(("unidentified",), 0.5), "unidentified"),  # read as LF 0
        (_set(("unidentified",), [0.5]), "unidentified"),
        (_set(("unidentified",), [True]), "unidentified"),
        (_set(("n_steps",), -3), "n_steps"),
        (_set(("n_steps",), 2.5), "n_steps"),
        (_set(("log_likelihood",), True), "log_likelihood"),
        (_set(("log_likelihood",), "-7"), "log_likelihood"),
    ],
)
def test_annotator_estimate_with_a_bad_field_is_refused_on_load(dev_record, tmp_path, edit, field):
    record = json.loads(json.dumps(dev_record))
    edit(record["state"]["solution"]["estimate"])
    _refused(record, tmp_path, field)


# -- estimator API: a stream serves the classes it was started with ------------------------------------


@pytest.mark.parametrize("model", ["annotator", "class_conditional", "symmetric"])
def test_refit_after_set_params_cardinality_is_refused(data, tmp_path, model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = LabelModel(3, model=model).fit(data.L)
    fitted.set_params(cardinality=4)
    # before the fix: refit solved the k=3 summary again and left a model that save refused ("needs a
    # refit"); partial_fit failed with "cannot merge ... of different shapes"
    with pytest.raises(ValueError, match="cardinality=3"):
        fitted.refit()
    with pytest.raises(ValueError, match="cardinality=3"):
        fitted.partial_fit(data.L[:100])
    fitted.set_params(cardinality=3)  # set back: the stream goes on
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted.partial_fit(data.L[:100]).refit().save(tmp_path / "m.json")


def test_sequence_model_predicts_its_fitted_classes_after_set_params(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SequenceLabelModel(3).fit(data.L)
    expected = model.predict_proba(data.L)
    score = model.score(data.L, data.y)
    model.set_params(cardinality=4)
    # before the fix: "L has cardinality 4 but the model has 3 classes" (LabelModel predicts its fitted
    # classes after set_params, as here now)
    np.testing.assert_allclose(model.predict_proba(data.L), expected, rtol=1e-12, atol=1e-15)
    assert model.score(data.L, data.y) == pytest.approx(score)
    # partial_fit failed with "cannot merge statistics of different shapes"
    with pytest.raises(ValueError, match="cardinality=3"):
        model.partial_fit(data.L[:100])


# -- the stream record: its type and its prior's source --------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        (None, 0, "stream"),  # falsy: read as a file from before online learning
        (None, [], "stream"),
        (None, "", "stream"),
        ("prior_source", 5, "prior_source"),  # without a prior: any value was dropped
        ("prior_source", "given", "prior_source"),
    ],
)
def test_bad_stream_record_is_refused_on_load(data, tmp_path, key, value, field):
    path = tmp_path / "m.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LabelModel(3, model="symmetric").fit(data.L).save(path)
    record = json.loads(path.read_text())
    assert record["state"]["stream"]["prior"] is None
    if key is None:
        record["state"]["stream"] = value
    else:
        record["state"]["stream"][key] = value
    _refused(record, tmp_path, field)


def test_annotator_fallback_estimate_with_an_unknown_field_is_refused(data, tmp_path):
    path = tmp_path / "m.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # declared dependencies: the annotator solves the symmetric model
        LabelModel(3).fit(data.L, dependencies=[(0, 1)]).save(path)
    record = json.loads(path.read_text())
    estimate = record["state"]["solution"]["estimate"]
    assert set(estimate) == {"symmetric"}
    estimate["unexpected"] = 1  # before the fix: ignored beside the symmetric record
    _refused(record, tmp_path, "unexpected")


# -- estimator API: dependencies set with set_params after a fit survive a save ----------------------


@pytest.mark.parametrize("model", ["annotator", "class_conditional", "symmetric"])
def test_dependencies_set_after_fit_are_read_by_the_next_solve_after_a_save(data, tmp_path, model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        original = LabelModel(3, model=model).fit(data.L)
        original.set_params(dependencies=[(2, 3)])  # read by the stream's next solve
        original.save(tmp_path / "m.json")
        loaded = LabelModel.load(tmp_path / "m.json")
        original.refit()
        loaded.refit()  # before the fix: kept the fit's edges (none), as if set_params had not been called
    np.testing.assert_array_equal(loaded.dependencies_, original.dependencies_)
    expected = original.predict_proba(data.L)
    np.testing.assert_allclose(loaded.predict_proba(data.L), expected, rtol=1e-9, atol=1e-12)
    # once solved, the setting is the fit's: a save after the refit keeps the edges, as the original does
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded.save(tmp_path / "again.json")
        again = LabelModel.load(tmp_path / "again.json")
        again.set_params(cardinality=3).partial_fit(data.L[:100])
        original.partial_fit(data.L[:100])
    np.testing.assert_array_equal(again.dependencies_, original.dependencies_)


def test_dependencies_set_flag_of_another_type_is_refused(data, tmp_path):
    path = tmp_path / "m.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LabelModel(3, model="symmetric").fit(data.L).set_params(dependencies=[(2, 3)]).save(path)
    record = json.loads(path.read_text())
    assert record["state"]["dependencies_set"] is True
    record["state"]["dependencies_set"] = "yes"
    _refused(record, tmp_path, "dependencies_set")


# -- estimator API: settings of the wrong type are named --------------------------------------------------


@pytest.mark.parametrize("value", [5, 0.5, True])
def test_dependencies_that_are_not_a_list_are_named(data, tmp_path, value):
    with pytest.raises(ValueError, match="dependencies"):  # was TypeError: 'int' object is not iterable
        LabelModel(3, dependencies=value).fit(data.L)
    path = tmp_path / "m.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LabelModel(3, model="symmetric").fit(data.L).save(path)
    record = json.loads(path.read_text())
    record["params"]["dependencies"] = value
    _refused(record, tmp_path, "dependencies")


@pytest.mark.parametrize("value", ["abc", "0.3", [], {}, True])
def test_sequence_persistence_that_is_not_a_number_is_named(data, value):
    # was "could not convert string to float" / TypeError, or a string read as a number
    with pytest.raises(ValueError, match="persistence"):
        SequenceLabelModel(3, persistence=value).fit(data.L)


@pytest.mark.parametrize("value", ["x", float("inf"), 0])
def test_sequence_chunk_size_of_the_wrong_type_is_named_by_fit(data, value):
    # was TypeError: '<' not supported between instances of 'str' and 'int' (OverflowError for inf)
    with pytest.raises(ValueError, match="chunk_size"):
        SequenceLabelModel(3, chunk_size=value).fit(data.L)


def test_class_conditional_summary_without_its_joint_table_is_refused_on_load(data, tmp_path):
    path = tmp_path / "m.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LabelModel(3, model="class_conditional").fit(data.L).save(path)
    record = json.loads(path.read_text())
    record["state"]["summary"]["stats"]["joint"] = None
    # before the fix: loaded, and the next partial_fit failed with "the class-conditional model needs the
    # joint vote table: compute_stats(L, k, joint=True, triple=True)"
    with pytest.raises(ValueError, match=r"summary\.stats"):
        load_model(_write_signed(record, tmp_path / "bad.json")).partial_fit(data.L[:100])
