"""Fixes from walking Snorkel 0.9/0.10's tutorial flow against tripletws's drop-in claims.

Each test names the old behaviour it replaces.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tripletws import LabelModel, MajorityLabelVoter
from tripletws.datasets import make_synthetic


@pytest.fixture(scope="module")
def data():
    return make_synthetic(1500, 6, 2, coverage=0.4, random_state=3)


@pytest.fixture(scope="module")
def fitted(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LabelModel(cardinality=2).fit(data.L)


def test_save_and_load_take_snorkels_argument_names(data, fitted, tmp_path):
    # old: TypeError "save() got an unexpected keyword argument 'destination'" (and 'source' for load)
    fitted.save(destination=tmp_path / "m.json")
    loaded = LabelModel.load(source=tmp_path / "m.json")
    np.testing.assert_allclose(loaded.predict_proba(data.L), fitted.predict_proba(data.L), atol=1e-12)
    other = LabelModel(cardinality=2)
    assert other.load(source=tmp_path / "m.json") is other
    MajorityLabelVoter().save(destination=tmp_path / "mv.json")
    assert isinstance(MajorityLabelVoter.load(tmp_path / "mv.json"), MajorityLabelVoter)
    with pytest.raises(TypeError, match="both path and destination"):
        fitted.save(tmp_path / "a.json", destination=tmp_path / "b.json")
    with pytest.raises(TypeError, match=r"load\(\) missing its file"):
        LabelModel.load()


def test_preds_to_probs_takes_snorkels_num_classes():
    from tripletws import preds_to_probs

    # old: TypeError "preds_to_probs() got an unexpected keyword argument 'num_classes'"
    out = preds_to_probs(np.array([0, 1, 1]), num_classes=2)
    np.testing.assert_array_equal(out, [[1, 0], [0, 1], [0, 1]])
    np.testing.assert_array_equal(
        preds_to_probs(preds=np.array([[2], [0]]), num_classes=3), [[0, 0, 1], [1, 0, 0]]
    )
    with pytest.raises(TypeError, match="both cardinality and num_classes"):
        preds_to_probs([0, 1], 2, num_classes=2)
