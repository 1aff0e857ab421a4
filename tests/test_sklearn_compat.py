"""scikit-learn parameter protocol: get_params / set_params / clone."""

from __future__ import annotations

import numpy as np
import pytest

from tripletws import LabelModel, MajorityLabelVoter
from tripletws.datasets import make_synthetic


def test_get_set_params() -> None:
    model = LabelModel(cardinality=3, solver="triplet_median", class_balance=[0.2, 0.3, 0.5])
    params = model.get_params()
    assert params["cardinality"] == 3 and params["solver"] == "triplet_median"
    assert set(params) >= {"cardinality", "model", "solver", "class_balance", "random_state", "chunk_size"}
    assert model.set_params(solver="triplet", cardinality=2) is model
    assert (model.solver, model.cardinality) == ("triplet", 2)
    with pytest.raises(ValueError, match="invalid parameter 'n_epochs'"):
        model.set_params(n_epochs=10)
    assert "solver='triplet'" in repr(model)


@pytest.mark.parametrize("cls", [LabelModel, MajorityLabelVoter])
def test_clone(cls) -> None:
    base = pytest.importorskip("sklearn.base")
    data = make_synthetic(1000, 5, 3, random_state=0)
    model = cls(cardinality=3, random_state=7).fit(data.L)
    twin = base.clone(model)
    assert type(twin) is cls
    assert twin.get_params() == model.get_params()
    if cls is LabelModel:
        assert not hasattr(twin, "params_")  # clone is unfitted
        np.testing.assert_array_equal(twin.fit(data.L).predict_proba(data.L), model.predict_proba(data.L))


def test_clone_with_array_param() -> None:
    base = pytest.importorskip("sklearn.base")
    prior = np.array([0.4, 0.6])
    twin = base.clone(LabelModel(class_balance=prior))
    np.testing.assert_array_equal(twin.class_balance, prior)


def test_set_params_after_fit_keeps_the_fitted_model_and_refuses_an_unloadable_save(tmp_path) -> None:
    """set_params(cardinality=2) on a k = 3 fit: save() wrote a file that load() refused, and
    predict_proba checked L against the new k while predicting with the fitted one."""
    import warnings

    from tripletws.datasets import make_synthetic

    d = make_synthetic(600, 5, 3, random_state=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(3).fit(d.L)
    expected = model.predict_proba(d.L)
    model.set_params(cardinality=2)
    np.testing.assert_array_equal(model.predict_proba(d.L), expected)  # class-2 votes still accepted
    with pytest.raises(ValueError, match=r"not saved: .*k=3 but cardinality is 2"):
        model.save(tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()
    model.set_params(cardinality=3)
    model.save(tmp_path / "m.json")
    np.testing.assert_array_equal(LabelModel.load(tmp_path / "m.json").predict_proba(d.L), expected)


def test_scikit_learn_check_is_fitted():
    """scikit-learn's check_is_fitted raised AttributeError ('no attribute __sklearn_tags__') on every
    model, fitted or not."""
    validation = pytest.importorskip("sklearn.utils.validation")
    from sklearn.exceptions import NotFittedError as SkNotFitted

    from tripletws.base import NotFittedError

    L = make_synthetic(300, 5, 2, random_state=0).L
    with pytest.raises(SkNotFitted):
        validation.check_is_fitted(LabelModel(2))
    validation.check_is_fitted(LabelModel(2).fit(L))
    validation.check_is_fitted(MajorityLabelVoter(2))  # nothing to fit
    with pytest.raises(ValueError, match="not fitted yet"):  # caught as scikit-learn's would be
        LabelModel(2).predict_proba(L)
    assert issubclass(NotFittedError, AttributeError) and issubclass(NotFittedError, RuntimeError)
