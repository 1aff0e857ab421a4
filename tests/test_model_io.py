"""Model files: versioned JSON with a checksum, validated on load, never unpickled."""

from __future__ import annotations

import json
import pickle
import warnings

import numpy as np
import pytest
from conftest import signed_record

from tripletws import LabelModel, MajorityLabelVoter
from tripletws.arrays import decode_array, encode_array
from tripletws.datasets import make_synthetic
from tripletws.io import load_model, model_to_dict, save_model


@pytest.fixture(scope="module")
def data():
    return make_synthetic(3000, 6, 3, coverage=0.5, random_state=4)


@pytest.fixture(scope="module")
def fitted(data):
    # the symmetric model's state (triplet counts, b); the class-conditional one: test_class_conditional.py
    return LabelModel(cardinality=3, model="symmetric", solver="triplet_median", random_state=5).fit(
        data.L, Y_dev=data.y[:200]
    )


@pytest.fixture
def saved(fitted, tmp_path):
    path = tmp_path / "model.json"
    fitted.save(path)
    return path


def rewrite(path, edit, fix_checksum: bool = True) -> None:
    """Edit the JSON record and (optionally) recompute its checksum, as a careful forger would."""
    record = json.loads(path.read_text())
    edit(record)
    path.write_text(json.dumps(signed_record(record) if fix_checksum else record))


def edit_array(record: dict, key: str, index, delta: float) -> None:
    """Add ``delta`` to one entry of a stored array (compact record or plain lists)."""
    arr = decode_array(record[key], key).copy()
    arr[index] += delta
    record[key] = encode_array(arr)


def test_round_trip(fitted, saved, data) -> None:
    loaded = LabelModel.load(saved)
    assert loaded.get_params() == fitted.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(data.L), fitted.predict_proba(data.L))
    np.testing.assert_array_equal(loaded.accuracies_, fitted.accuracies_)
    np.testing.assert_array_equal(loaded.class_balance_, fitted.class_balance_)
    np.testing.assert_array_equal(loaded.coverage_, fitted.coverage_)
    np.testing.assert_array_equal(loaded.estimate_.n_candidates, fitted.estimate_.n_candidates)
    assert loaded.class_balance_source_ == "Y_dev"
    np.testing.assert_array_equal(
        loaded.predict(data.L, tie_break_policy="true-random"),
        fitted.predict(data.L, tie_break_policy="true-random"),
    )
    # the saved file is plain JSON with a version
    record = json.loads(saved.read_text())
    assert record["format"] == "tripletws-model" and record["schema_version"] == 3
    assert record["class"] == "LabelModel"


def test_round_trip_unfitted_and_majority(tmp_path, data) -> None:
    path = tmp_path / "m.json"
    LabelModel(cardinality=4, solver="triplet").save(path)
    model = LabelModel.load(path)
    assert (model.cardinality, model.solver) == (4, "triplet") and not hasattr(model, "params_")
    save_model(MajorityLabelVoter(3), path)
    mv = load_model(path)
    assert isinstance(mv, MajorityLabelVoter)
    np.testing.assert_array_equal(mv.predict_proba(data.L), MajorityLabelVoter(3).predict_proba(data.L))
    with pytest.raises(ValueError, match="holds a MajorityLabelVoter, not a LabelModel"):
        LabelModel.load(path)


def test_truncated(saved) -> None:
    saved.write_text(saved.read_text()[:-40])
    with pytest.raises(ValueError, match="corrupt or truncated"):
        LabelModel.load(saved)


def test_edited_number_fails_checksum(saved) -> None:
    rewrite(saved, lambda r: edit_array(r["state"]["solution"]["params"], "class_balance", 0, 1e-3), False)
    with pytest.raises(ValueError, match="checksum mismatch"):
        LabelModel.load(saved)


def test_wrong_schema_version(saved) -> None:
    rewrite(saved, lambda r: r.__setitem__("schema_version", 99))
    with pytest.raises(ValueError, match="unsupported schema_version 99"):
        LabelModel.load(saved)


def test_unknown_class(saved) -> None:
    rewrite(saved, lambda r: r.__setitem__("class", "os.system"))
    with pytest.raises(ValueError, match=r"unknown model class 'os.system'"):
        LabelModel.load(saved)


def test_not_a_model_file(saved) -> None:
    rewrite(saved, lambda r: r.__setitem__("format", "something-else"))
    with pytest.raises(ValueError, match="not a tripletws model file"):
        LabelModel.load(saved)
    saved.write_text("[1, 2, 3]")
    with pytest.raises(ValueError, match="expected a JSON object"):
        LabelModel.load(saved)


@pytest.mark.parametrize(
    "payload", [b"\x80\x04\x95\x00\xff\xfe", pickle.dumps({"a": 1}), b"hello world", b""]
)
def test_non_json_bytes(saved, payload) -> None:
    saved.write_bytes(payload)
    with pytest.raises(ValueError, match=r"not a text JSON model file|corrupt or truncated"):
        LabelModel.load(saved)


@pytest.mark.parametrize(
    ("edit", "pattern"),
    [
        (
            lambda r: edit_array(r["state"]["solution"]["params"], "cond_probs", (0, 0, 0), 0.3),
            "cond_probs columns must sum to 1",
        ),
        (
            lambda r: r["state"]["solution"]["params"].__setitem__("class_balance", [0.5, 0.5]),
            "cond_probs must have shape",
        ),
        (lambda r: r["state"]["summary"]["stats"].__setitem__("covote", [[1.0]]), "covote: expected shape"),
        (lambda r: r["state"]["solution"]["estimate"].__delitem__("b"), "estimate lacks field"),
        (lambda r: r["params"].__setitem__("evil", 1), "unknown parameter"),
        (lambda r: r["params"].__setitem__("cardinality", 2), "cardinality is 2"),
    ],
)
def test_consistent_checksum_but_invalid_content(saved, edit, pattern) -> None:
    rewrite(saved, edit)
    with pytest.raises(ValueError, match=pattern):
        LabelModel.load(saved)


def test_missing_file(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        LabelModel.load(tmp_path / "nope.json")


def test_loading_never_unpickles(saved, data, fitted, monkeypatch) -> None:
    def forbidden(*args, **kwargs):
        raise AssertionError("pickle used while loading a model")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    monkeypatch.setattr(np, "load", forbidden)
    loaded = LabelModel.load(saved)
    np.testing.assert_array_equal(loaded.predict_proba(data.L), fitted.predict_proba(data.L))


def test_unsavable_random_state(data) -> None:
    model = LabelModel(random_state=np.random.default_rng(0))
    with pytest.raises(ValueError, match="random_state"):
        model_to_dict(model)


@pytest.mark.parametrize("model_name", ["symmetric", "class_conditional"])
def test_schema_version_1_files_still_load(data, model_name) -> None:
    """Files written by the previous schema (arrays as JSON lists, per-model fields side by side)."""
    from pathlib import Path

    from tripletws import compute_stats
    from tripletws.inference import posterior
    from tripletws.matrix import check_label_matrix
    from tripletws.params import LabelModelParams

    path = Path(__file__).parent / "data" / f"model_v1_{model_name}.json"
    record = json.loads(path.read_text())
    assert record["schema_version"] == 1
    with warnings.catch_warnings(record=True):  # the v1 third moment has an older layout: dropped
        warnings.simplefilter("always")
        loaded = LabelModel.load(path)
    # the saved solution is read as written: the same tables, the same posteriors
    saved = LabelModelParams.from_dict(record["state"]["params"])
    np.testing.assert_array_equal(loaded.params_.cond_probs, saved.cond_probs)
    np.testing.assert_array_equal(loaded.class_balance_, saved.class_balance)
    want = posterior(check_label_matrix(data.L, 3), saved)
    np.testing.assert_allclose(loaded.predict_proba(data.L), want, rtol=0, atol=1e-12)
    if model_name == "symmetric":  # written by fit(data.L, Y_dev=data.y[:200])
        assert loaded.class_balance_source_ == "Y_dev"
        assert loaded.estimate_.n_candidates.shape == (6,)
    else:  # a window-2 stream of three 1000-row batches
        assert loaded.n_batches_ == 3 and len(loaded._stream.batches) == 2
        again = compute_stats(data.L[1000:], 3)
        for name in ("class_counts", "covote", "agree"):
            np.testing.assert_array_equal(getattr(loaded.stats_, name), getattr(again, name))


def test_a_loaded_model_reads_back_its_fitted_balance_and_accuracies_bit_for_bit(tmp_path):
    """Loading renormalised fit_class_balance_, moving it and accuracies_ by an ulp or so."""
    import warnings

    from tripletws.datasets import make_synthetic

    mismatches = 0
    for seed in range(6):
        d = make_synthetic(800, 6, 3, class_balance=[0.5, 0.3, 0.2], random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = LabelModel(3, class_balance="estimate").fit(d.L)
        model.save(tmp_path / "m.json")
        back = LabelModel.load(tmp_path / "m.json")
        mismatches += not np.array_equal(back.fit_class_balance_, model.fit_class_balance_)
        mismatches += not np.array_equal(back.accuracies_, model.accuracies_)
    assert mismatches == 0


def test_load_on_an_instance_fills_it_as_snorkel_does(tmp_path):
    """Snorkel's label_model.load(path) fills the instance; here load was a classmethod only, so the
    call returned a new model and left the instance unfitted ("not fitted yet" right after a load)."""
    d = make_synthetic(800, 5, 2, random_state=1)
    path = tmp_path / "m.json"
    fitted = LabelModel(2).fit(d.L)
    fitted.save(path)
    empty = LabelModel(3)
    assert empty.load(path) is empty
    np.testing.assert_array_equal(empty.predict_proba(d.L), fitted.predict_proba(d.L))
    assert empty.cardinality == 2 and empty.get_params() == fitted.get_params()
    fresh = LabelModel.load(path)  # on the class: a new model, as before
    # the bound method pickles by name, as the classmethod did (process pools map it over paths)
    assert pickle.loads(pickle.dumps(LabelModel.load))(path).get_params() == fitted.get_params()
    assert isinstance(fresh, LabelModel) and fresh is not empty
    with pytest.raises(ValueError, match="holds a LabelModel, not a MajorityLabelVoter"):
        MajorityLabelVoter(2).load(path)


def test_loaded_dependencies_are_the_pairs_given():
    """JSON has no tuples: ``get_params()["dependencies"]`` came back as lists after a load."""
    from tripletws import SequenceLabelModel
    from tripletws.io import model_from_dict, model_to_dict

    for model in (
        LabelModel(2, dependencies=[(0, 1)]),
        LabelModel(2, dependencies=[("a", "b"), (2, 3)]),
        SequenceLabelModel(2, dependencies=[(0, 1)]),
    ):
        loaded = model_from_dict(model_to_dict(model))
        assert loaded.get_params()["dependencies"] == model.get_params()["dependencies"]
