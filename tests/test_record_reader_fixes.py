"""The annotator's diagnostic records and the model file's envelope, read field by field: each test
failed before its fix (a wrong type, an unknown field or an out-of-range value was accepted, or
refused with a message that named no field)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_model_file_fuzz_fixes import _set, _write_signed

from tripletws import LabelModel
from tripletws.datasets import make_synthetic
from tripletws.io import load_model


def _load_edited(record: dict[str, Any], edit: Any, tmp_path: Path) -> Any:
    record = json.loads(json.dumps(record))
    edit(record["state"]["solution"]["estimate"])
    return load_model(_write_signed(record, tmp_path / "bad.json"))


@pytest.fixture(scope="module")
def plain_record(tmp_path_factory) -> dict[str, Any]:
    """An annotator fit whose estimate holds the family selection and the abstain check."""
    data = make_synthetic(900, 6, 3, coverage=0.6, random_state=7)
    path = tmp_path_factory.mktemp("plain") / "plain.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LabelModel(3).fit(data.L).save(path)
    record = json.loads(path.read_text())
    assert record["state"]["solution"]["estimate"]["abstain"] is not None
    return record


@pytest.fixture(scope="module")
def one_class_record(tmp_path_factory) -> dict[str, Any]:
    """An annotator fit of one-class LFs, one of them copied: the coverage check and the copies."""
    rng = np.random.default_rng(8)
    n, prior, classes = 8000, np.array([0.8, 0.2]), [0, 0, 0, 1, 1, 1]
    on, off = np.array([0.5, 0.3, 0.6, 0.5, 0.6, 0.4]), np.array([0.1, 0.05, 0.2, 0.03, 0.05, 0.1])
    y = rng.choice(2, size=n, p=prior)
    L = np.full((n, len(classes)), -1, dtype=np.int64)
    for i, c in enumerate(classes):
        L[rng.random(n) < np.where(y == c, on[i], off[i]), i] = c
    L = np.hstack([L, L[:, [1]]])  # LF 6 copies LF 1
    path = tmp_path_factory.mktemp("one_class") / "one_class.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LabelModel(2).fit(L).save(path)
    record = json.loads(path.read_text())
    estimate = record["state"]["solution"]["estimate"]
    assert estimate["one_class"]["prior_lead"] is not None and estimate["copies"]["groups"] == [[1, 6]]
    return record


# -- the family selection (estimators.family_choice.Selection) ----------------------------------------


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (_set(("selection", "unexpected"), 1), "unexpected"),  # an unknown field was ignored
        (_set(("selection", "chosen"), 5), "chosen"),  # read as the family "5"
        (_set(("selection", "best"), 5), "best"),
        (_set(("selection", "heldout_loglik"), 3), "heldout_loglik"),  # "'int' object is not iterable"
        (_set(("selection", "heldout_loglik", "mv"), True), "heldout_loglik"),  # read as 1.0
        (_set(("selection", "heldout_loglik", "mv"), "x"), "heldout_loglik"),
        (_set(("selection", "n_folds"), 2.5), "n_folds"),  # truncated to 2
        (_set(("selection", "n_folds"), -1), "n_folds"),
        (_set(("selection", "n_rows"), "900"), "n_rows"),  # a string read as a number
        (_set(("selection", "n_rows"), -5), "n_rows"),
        (_set(("selection", "leads"), 3), "leads"),
        (_set(("selection", "leads", "mv"), [0.1]), "leads"),  # "not enough values to unpack"
        (_set(("selection", "leads", "mv"), 3), "leads"),
        (_set(("selection", "leads", "mv"), [0.1, -0.2]), "leads"),  # a negative standard error
        (_set(("selection", "n_se"), "2"), "n_se"),
        (_set(("selection", "n_se"), -1.0), "n_se"),
        (_set(("selection", "n_deals"), 0), "n_deals"),
        (_set(("selection", "n_deals"), 1.5), "n_deals"),
        (_set(("selection", "weights"), {"mv": "x"}), "weights"),
        (_set(("selection", "weights"), {"mv": 1.5}), "weights"),
        (_set(("selection", "weights"), [1.0]), "weights"),
    ],
)
def test_selection_with_a_bad_field_is_refused_on_load(plain_record, tmp_path, edit, field):
    with pytest.raises(ValueError, match=f"selection.*{field}"):
        _load_edited(plain_record, edit, tmp_path)


# -- the abstain check (estimators.abstain_check.AbstainCheck) ----------------------------------------


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (_set(("abstain", "unexpected"), 1), "unexpected"),
        (_set(("abstain", "lead"), "0.1"), "lead"),  # a string read as a number
        (_set(("abstain", "lead"), True), "lead"),
        (_set(("abstain", "lead_se"), -1.0), "lead_se"),
        (_set(("abstain", "z"), [1.0]), "z"),  # "float() argument must be ..."
    ],
)
def test_abstain_check_with_a_bad_field_is_refused_on_load(plain_record, tmp_path, edit, field):
    with pytest.raises(ValueError, match=f"abstain.*{field}"):
        _load_edited(plain_record, edit, tmp_path)


# -- the coverage check of one-class LFs (estimators.coverage_check.CoverageCheck) ---------------------


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (_set(("one_class", "unexpected"), 1), "unexpected"),
        (_set(("one_class", "gain"), "0.1"), "gain"),  # a string read as a number
        (_set(("one_class", "z"), True), "z"),
        (_set(("one_class", "prior_lead"), 3), "prior_lead"),  # "object of type 'int' has no len()"
        (_set(("one_class", "prior_lead"), [0.1, "x"]), "prior_lead"),
        (_set(("one_class", "prior_lead"), [0.1, -0.2]), "prior_lead"),  # a negative standard error
        (_set(("one_class", "balance_disagreement"), 1.5), "balance_disagreement"),  # a share over 1
        (_set(("one_class", "balance_disagreement"), "0.2"), "balance_disagreement"),
    ],
)
def test_coverage_check_with_a_bad_field_is_refused_on_load(one_class_record, tmp_path, edit, field):
    with pytest.raises(ValueError, match=f"one_class.*{field}"):
        _load_edited(one_class_record, edit, tmp_path)


# -- the LFs counted once (estimators.copies.Copies) --------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (_set(("copies", "unexpected"), 1), "unexpected"),
        (_set(("copies", "groups"), 3), "groups"),  # "'int' object is not iterable"
        (_set(("copies", "groups"), [[1.5, 6]]), "groups"),  # truncated to LF 1
        (_set(("copies", "representatives"), [7]), "representatives"),  # no LF 7 of 7
        (_set(("copies", "representatives"), [0]), "representatives"),  # not in its group
        (_set(("copies", "copy_of"), [-5, -1, -1, -1, -1, -1, 1]), "copy_of"),
        (_set(("copies", "copy_of"), [-1, -1, -1, -1, -1, -1, 3]), "copy_of"),  # LF 3 represents none
        (_set(("copies", "share"), 3), "share"),
        (_set(("copies", "share"), [None] * 6 + ["x"]), "share"),
        (_set(("copies", "accuracy"), [None] * 6), "accuracy"),  # one short
        (_set(("copies", "accuracy"), [None] * 6 + [True]), "accuracy"),
        (_set(("copies", "n_pairs"), -3), "n_pairs"),
        (_set(("copies", "n_pairs"), 2.5), "n_pairs"),  # truncated to 2
        (_set(("copies", "z_crit"), "2.8"), "z_crit"),
    ],
)
def test_copies_with_a_bad_field_are_refused_on_load(one_class_record, tmp_path, edit, field):
    with pytest.raises(ValueError, match=f"copies.*{field}"):
        _load_edited(one_class_record, edit, tmp_path)


@pytest.mark.parametrize("name", ["plain_record", "one_class_record"])
def test_a_saved_estimate_loads_and_saves_back_unchanged(request, tmp_path, name):
    record = request.getfixturevalue(name)
    model = load_model(_write_signed(record, tmp_path / "saved.json"))
    model.save(tmp_path / "again.json")
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["state"]["solution"] == record["state"]["solution"]


# -- io: NaN or infinity in a file is named by its path -----------------------------------------------


def _put(record: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    record = json.loads(json.dumps(record))
    parent = record
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return record


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (("state", "solution", "estimate", "selection", "leads", "mv", 1), float("nan"), r"leads\.mv\[1\]"),
        (("state", "solution", "estimate", "log_likelihood"), float("-inf"), r"estimate\.log_likelihood"),
        (("params", "class_balance"), [float("inf"), 0.5, 0.5], r"params\.class_balance\[0\]"),
    ],
)
def test_a_non_finite_number_in_a_file_is_named_by_its_path(plain_record, tmp_path, path, value, named):
    # json writes NaN and Infinity and reads them back; before the fix the checksum step failed with
    # "invalid content (Out of range float values are not JSON compliant)", naming no field
    (tmp_path / "bad.json").write_text(json.dumps(_put(plain_record, path, value)))
    with pytest.raises(ValueError, match=named):
        load_model(tmp_path / "bad.json")


# -- io: a refused save says what makes it work (a refit does not) ------------------------------------


@pytest.mark.parametrize(("setting", "value"), [("model", "symmetric"), ("cardinality", 4)])
def test_save_refused_after_set_params_says_to_fit_again(tmp_path, setting, value):
    data = make_synthetic(900, 6, 3, coverage=0.6, random_state=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(3).fit(data.L).set_params(**{setting: value})
    with pytest.raises(ValueError, match="fit again") as refused:
        model.save(tmp_path / "m.json")
    assert setting in str(refused.value) and "needs a refit" not in str(refused.value)
    with pytest.raises(ValueError, match="fit again"):  # indeed: a refit is refused
        model.refit()


def test_save_refused_for_an_invalid_parameter_says_to_set_a_valid_value(tmp_path):
    data = make_synthetic(900, 6, 3, coverage=0.6, random_state=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(3).fit(data.L).set_params(em_steps=-3)
    with pytest.raises(ValueError, match=r"em_steps.*valid value") as refused:
        model.save(tmp_path / "m.json")
    assert "refit" not in str(refused.value)
