"""A window model's stored batches must hold the running summary's distinct rows (session 41).

A window subtracts its oldest batch's rows from the running rows.  A file whose batches' rows were
edited (checksum recomputed) loaded, then failed at the next ``partial_fit`` with an error naming
neither the file nor the field, or, where a count moved between two rows, went on silently with rows
that no longer add up.  The loader now checks them; legitimate windows, sampled ones included, load
and go on as the model in memory does.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
from conftest import signed_record

from tripletws import LabelModel
from tripletws.arrays import decode_array, encode_array
from tripletws.datasets import make_synthetic
from tripletws.io import model_from_dict, model_to_dict


def _stream(batches, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2, **kw)
        for X in batches:
            model.partial_fit(X)
    return model


@pytest.fixture(scope="module")
def data():
    return make_synthetic(4000, 6, 2, random_state=0).L


def _edited(record: dict, edit) -> dict:
    record = copy.deepcopy(record)
    rows = record["state"]["stream"]["batches"][0]["rows"]
    arrays = {
        "rows": decode_array(rows["rows"], "rows", kind="i", stored_ints=True),
        "counts": decode_array(rows["counts"], "counts"),
    }
    edit(arrays)
    for name, value in arrays.items():
        rows[name] = encode_array(value)
    return signed_record(record)


def _count_moved(arrays):
    counts = arrays["counts"].copy()
    counts[0] += 1.0
    counts[1] -= 1.0  # the batch's total is unchanged, so its statistics still add up
    arrays["counts"] = counts


def _row_replaced(arrays):
    rows = arrays["rows"].copy()
    present = {tuple(r) for r in rows.tolist()}
    fresh = next(r for r in np.ndindex(*(3,) * rows.shape[1]) if tuple(np.array(r) - 1) not in present)
    rows[0] = np.array(fresh) - 1
    arrays["rows"] = rows


@pytest.mark.parametrize("edit", [_count_moved, _row_replaced], ids=["count moved", "row replaced"])
def test_edited_window_rows_are_refused_at_load(data, edit):
    record = model_to_dict(_stream(np.array_split(data[:3000], 3), window=2))
    model_from_dict(copy.deepcopy(record))  # the untouched record loads
    with pytest.raises(ValueError, match=r"stream\.batches: the batches' rows"):
        model_from_dict(_edited(record, edit))


@pytest.mark.parametrize(
    "settings",
    [{"window": 3}, {"window": 3, "em_max_rows": 60}, {"forget": 0.9, "then_window": 2}],
    ids=["window", "sampled rows", "forget, then a window"],
)
def test_legitimate_windows_load_and_go_on_as_in_memory(data, settings):
    settings = dict(settings)
    then_window = settings.pop("then_window", None)
    batches = np.array_split(data, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2, refit_growth=1.0, **settings)
        for i, X in enumerate(batches[:6]):
            model.partial_fit(X)
            if then_window is not None and i == 2:
                model.set_params(window=then_window, forget=None)
        if settings.get("em_max_rows"):
            assert model.rows_.level > 0  # the running rows are a sample
        loaded = model_from_dict(model_to_dict(model))
        for X in batches[6:]:
            model.partial_fit(X)
            loaded.partial_fit(X)
    np.testing.assert_allclose(loaded.predict_proba(data), model.predict_proba(data), rtol=0, atol=1e-12)
