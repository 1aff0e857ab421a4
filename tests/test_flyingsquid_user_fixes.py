"""Fixes from walking through the library as a FlyingSquid user (Fu et al., 2020).

Each test names the old behaviour it replaces.
"""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

from tripletws import LabelModel, SequenceLabelModel, from_flyingsquid, to_flyingsquid
from tripletws.datasets import make_synthetic


@pytest.fixture(scope="module")
def votes() -> np.ndarray:
    return make_synthetic(2000, 6, 2, random_state=0).L


@pytest.mark.parametrize(
    ("make", "name", "says"),
    [
        (lambda: LabelModel(v=3), "v", "SequenceLabelModel(window=v)"),
        (lambda: LabelModel(lambda_edges=[(0, 1)]), "lambda_edges", "dependencies="),
        (lambda: LabelModel(y_edges=[(0, 1)]), "y_edges", "chain"),
        (lambda: LabelModel(lambda_y_edges=[(0, 0)]), "lambda_y_edges", "one frame"),
        (lambda: LabelModel(allow_abstentions=True), "allow_abstentions", "always allowed"),
        (lambda: SequenceLabelModel(v=3), "v", "window=v"),
    ],
)
def test_flyingsquid_constructor_arguments_say_the_equivalent(make, name, says):
    # old: Python's bare "__init__() got an unexpected keyword argument 'v'"
    with pytest.raises(TypeError, match="FlyingSquid") as info:
        make()
    assert repr(name) in str(info.value) and says in str(info.value)


def test_unknown_constructor_argument_keeps_pythons_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        LabelModel(nope=1)


def test_set_params_names_the_flyingsquid_equivalent():
    # old: "invalid parameter 'lambda_edges' for LabelModel" and nothing more
    with pytest.raises(ValueError, match=r"invalid parameter 'lambda_edges'.*dependencies="):
        LabelModel().set_params(lambda_edges=[(0, 1)])


@pytest.mark.parametrize("method", ["triplet", "triplet_mean", "triplet_median"])
def test_fit_solve_method_points_to_the_solver_setting(votes, method):
    # old: "fit() got unexpected keyword argument(s): ['solve_method']"
    with pytest.raises(TypeError, match=r"solve_method.*model='symmetric', solver="):
        LabelModel().fit(votes, solve_method=method)
    # old: SequenceLabelModel.fit() raised Python's bare TypeError
    with pytest.raises(TypeError, match=r"solve_method.*solver="):
        SequenceLabelModel().fit(votes, solve_method=method)


def test_fit_other_flyingsquid_options_and_snorkel_options_still_work(votes):
    with pytest.raises(TypeError, match=r"sign_recovery.*signs="):
        LabelModel().fit(votes, sign_recovery="all_positive")
    with pytest.raises(TypeError, match=r"'verbose'.*constructor's verbose="):
        LabelModel().fit(votes, verbose=True)
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        SequenceLabelModel().fit(votes, nope=1)
    with pytest.warns(UserWarning, match="ignored SGD option"):
        LabelModel(model="symmetric").fit(votes, n_epochs=10)


@pytest.mark.parametrize("cls", [LabelModel, SequenceLabelModel])
def test_flyingsquid_methods_say_the_equivalent(votes, cls):
    # old: "'LabelModel' object has no attribute 'predict_proba_marginalized'" and nothing more
    model = cls().fit(votes) if cls is SequenceLabelModel else cls(model="symmetric").fit(votes)
    with pytest.raises(AttributeError, match=r"predict_proba_marginalized.*predict_proba\(L\)"):
        model.predict_proba_marginalized(votes)
    with pytest.raises(AttributeError, match=r"estimated_accuracies.*accuracies_"):
        model.estimated_accuracies()
    assert not hasattr(model, "estimated_accuracies")
    with pytest.raises(AttributeError, match=r"no attribute 'nope'$"):
        model.nope  # noqa: B018


def test_models_still_pickle_copy_and_clone(votes):
    sklearn = pytest.importorskip("sklearn.base")
    model = LabelModel(model="symmetric", solver="triplet_median").fit(votes)
    for other in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        np.testing.assert_array_equal(other.predict_proba(votes), model.predict_proba(votes))
    assert sklearn.clone(model).get_params() == model.get_params()


@pytest.mark.parametrize("cls", [LabelModel, SequenceLabelModel])
def test_cardinality_equal_to_the_number_of_lfs_is_told(votes, cls):
    # old: LabelModel(6) (FlyingSquid's LabelModel(m)) fitted 6 classes to binary votes; the default
    # model warned only that classes 2..5 had no votes, SequenceLabelModel said nothing
    with pytest.warns(UserWarning, match="not FlyingSquid's m"):
        cls(6).fit(votes)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        LabelModel(2, model="symmetric").fit(votes)


def test_first_partial_fit_tells_the_flyingsquid_convention():
    # old: a fit warned that -1/0/+1 votes look like FlyingSquid's, but a stream (the PyTorch loss starts
    # with partial_fit) took them silently
    L = make_synthetic(3000, 6, 2, coverage=0.3, random_state=1).L
    raw = to_flyingsquid(L)  # 0 = abstain here, read as class-0 votes
    with pytest.warns(UserWarning, match="from_flyingsquid"):
        LabelModel(model="symmetric").partial_fit(raw)
    model = LabelModel(model="symmetric").partial_fit(from_flyingsquid(raw))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model.partial_fit(from_flyingsquid(raw))


def test_from_flyingsquid_missing_values_are_named():
    # old: TypeError "boolean value of NA is ambiguous" for a nullable DataFrame with a missing vote
    frame = pd.DataFrame({"a": [1, None], "b": [0, 1], "c": [-1, 1]}).astype("Int8")
    with pytest.raises(ValueError, match=r"found <NA> in column 0 \(row 1\)"):
        from_flyingsquid(frame)
    # old: AttributeError "'NoneType' object has no attribute 'item'"
    with pytest.raises(ValueError, match=r"found None in column 2 \(row 0\)"):
        from_flyingsquid(np.array([[1, 0, None]], dtype=object))
    assert from_flyingsquid(np.array([[1, 0, -1]], dtype=object)).tolist() == [[1, -1, 0]]


def test_from_flyingsquid_refuses_bool():
    # old: a bool y became [1, -1]: every False (FlyingSquid's negative class?) read as "no gold label"
    with pytest.raises(ValueError, match="bool"):
        from_flyingsquid(np.array([True, False]))


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.float32, np.float64])
def test_from_flyingsquid_dtypes_shapes_and_all_abstain_rows(dtype):
    fs = np.array([[1, -1, 0], [0, 0, 0], [1, 0, -1]], dtype=dtype)  # row 1 and column 1 abstain only
    assert from_flyingsquid(fs).tolist() == [[1, 0, -1], [-1, -1, -1], [1, -1, 0]]
    y = np.array([1, -1, 1], dtype=dtype)
    assert from_flyingsquid(y).tolist() == [1, 0, 1]
    assert from_flyingsquid(y.reshape(-1, 1)).ravel().tolist() == [1, 0, 1]


def test_from_flyingsquid_padded_sequences():
    # old: ValueError "L must be 2-dimensional" for the (B, T, m) votes of the sequence loss
    fs = np.array([[[1, 0, -1], [0, 0, 0]], [[-1, -1, 1], [1, 1, 1]]])
    out = from_flyingsquid(fs)
    assert out.shape == (2, 2, 3)
    assert out.reshape(-1, 3).tolist() == from_flyingsquid(fs.reshape(-1, 3)).tolist()
    with pytest.raises(ValueError, match="sequence 1, frame 0, column 2"):
        from_flyingsquid(np.array([[[1, 0, 1], [0, 0, 0]], [[-1, -1, 2], [1, 1, 1]]]))


def test_torch_loss_flyingsquid_names():
    torch_loss = pytest.importorskip("tripletws.torch_loss")
    # old: "module 'tripletws.torch_loss' has no attribute 'FSLoss'"
    with pytest.raises(AttributeError, match=r"FSLoss.*WeakSupervisionLoss"):
        torch_loss.FSLoss  # noqa: B018
    with pytest.raises(AttributeError, match=r"no attribute 'nope'$"):
        torch_loss.nope  # noqa: B018
    # old: "WeakSupervisionLoss.__init__() got an unexpected keyword argument 'cb'"
    with pytest.raises(TypeError, match=r"'cb'.*class_balance="):
        torch_loss.WeakSupervisionLoss(cb=[0.5, 0.5])
    with pytest.raises(TypeError, match=r"'v'.*SequenceWeakSupervisionLoss"):
        torch_loss.WeakSupervisionLoss(2, v=3)
    assert torch_loss.SequenceWeakSupervisionLoss(cardinality=2, update_every=2).update_every == 2
