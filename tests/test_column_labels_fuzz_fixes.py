"""Column labels other than text (commit 250d449): defects found by fuzzing the entry points that
read column names (fit, partial_fit, predict, dask, the PyTorch loss)."""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest

from tripletws import LabelModel
from tripletws.datasets import make_synthetic
from tripletws.lf_names import NamedVotes, names_of

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def data():
    return make_synthetic(600, 3, 2, coverage=0.6, random_state=3)


def fitted(L, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LabelModel(**kwargs).fit(L)


def test_a_fresh_fit_keeps_default_labels_reordered_as_names(data):
    """Defect: ``LabelModel().fit(df[[2, 0, 1]])`` (a fresh model) raised "the model was fitted on
    unnamed columns", which it was not (it was not fitted at all), as did the first ``partial_fit``;
    the same frame was accepted by dask's fit and SequenceLabelModel.fit.  The labels now name the
    LFs, as any other whole-number labels do."""
    frame = pd.DataFrame(data.L)[[2, 0, 1]]
    assert fitted(frame).lf_names_ == ("2", "0", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert LabelModel().partial_fit(frame).lf_names_ == ("2", "0", "1")
    # a model fitted on unnamed columns still refuses them
    with pytest.raises(ValueError, match="fitted on unnamed columns"):
        fitted(data.L).predict_proba(frame)


def test_default_frame_against_a_model_named_by_positions_in_another_order(data):
    """Defect: a model whose LFs are named "2", "0", "1" (fitted on ``df[[2, 0, 1]]``, or a Parquet
    file / CSV header written from it) predicted on ``df`` itself (default labels 0, 1, 2) matched the
    columns by position: column "0" was read as the fit's LF "2", silently.  Now a ValueError."""
    frame = pd.DataFrame(data.L)
    for model in (fitted(frame[[2, 0, 1]]), fitted(NamedVotes(data.L[:, [2, 0, 1]], ["2", "0", "1"]))):
        assert model.lf_names_ == ("2", "0", "1")
        with pytest.raises(
            ValueError, match=r"default labels 0..2, and the model's LFs are named.*\['2', '0', '1'\]"
        ):
            model.predict_proba(frame)
        # the frame in the fit's order (or its votes as an array in that order) is accepted
        expected = model.predict_proba(data.L[:, [2, 0, 1]])
        np.testing.assert_array_equal(model.predict_proba(frame[[2, 0, 1]]), expected)
    # a model named by its positions in order, or by other numbers, matches a default frame by position
    model = fitted(NamedVotes(data.L, ["0", "1", "2"]))
    np.testing.assert_array_equal(model.predict_proba(frame), model.predict_proba(data.L))
    model = fitted(pd.DataFrame(data.L, columns=[10, 20, 30]))
    np.testing.assert_array_equal(model.predict_proba(frame), model.predict_proba(data.L))


def test_mixed_text_and_number_labels_name_the_columns(data):
    """Defect: labels mixing text and numbers (``["kw", 1, "re"]``) left the frame unnamed, because
    a text label was not read as a name beside the numbers; so a model fitted on names ``a, b, c``
    took a frame labelled ``["b", "a", 3]`` (two LFs swapped) by position, silently."""
    mixed = pd.DataFrame(data.L, columns=["kw", 1, "re"])
    assert names_of(mixed) == ("kw", "1", "re")
    model = fitted(mixed)
    assert model.lf_names_ == ("kw", "1", "re")
    with pytest.raises(ValueError, match="another order"):
        model.predict_proba(mixed[["re", 1, "kw"]])
    named = fitted(pd.DataFrame(data.L, columns=["a", "b", "c"]))
    with pytest.raises(ValueError, match="not fitted with"):
        named.predict_proba(pd.DataFrame(data.L, columns=["b", "a", 3]))
    # labels that collide as text still leave the columns unnamed
    assert names_of(pd.DataFrame(data.L, columns=[1, "1", 2])) is None


@pytest.mark.parametrize(
    "columns",
    [["a", "a", "b"], [10, 10, 30], [20.0, 10.0, 30.0], [True, 20, 30], [None, "a", "b"]],
    ids=["repeated", "repeated-int", "float", "bool", "missing"],
)
def test_labels_that_name_no_lfs_against_a_named_model(data, columns):
    """Defect: a frame whose labels cannot name its columns (repeated, floats, bools, missing) given
    to a model fitted on named columns was matched by position without a word (``[20.0, 10.0, 30.0]``
    against LFs "10", "20", "30": two LFs swapped).  Now a ValueError that says how to proceed
    (``to_numpy()`` matches by position)."""
    frame = pd.DataFrame(data.L, columns=columns)
    for names in (["10", "20", "30"], ["a", "b", "c"]):
        model = fitted(NamedVotes(data.L, names))
        with pytest.raises(ValueError, match=r"cannot name the model's LFs.*to_numpy\(\)"):
            model.predict_proba(frame)
        model.predict_proba(frame.to_numpy())
    # a model fitted on unnamed columns takes them by position, as before
    model = fitted(data.L)
    np.testing.assert_array_equal(model.predict_proba(frame), model.predict_proba(data.L))


def test_dask_frame_with_default_labels_reordered(data):
    """Defect: a dask DataFrame labelled 0..m-1 in another order, given to a model fitted on unnamed
    columns, was predicted by position (the pandas frame is a ValueError): the check only knew
    frames with ``to_numpy``."""
    dd = pytest.importorskip("dask.dataframe")
    frame = pd.DataFrame(data.L)[[2, 0, 1]]
    model = fitted(data.L)
    with pytest.raises(ValueError, match="fitted on unnamed columns"):
        model.predict_proba(dd.from_pandas(frame, npartitions=2))
    with pytest.raises(ValueError, match="fitted on unnamed columns"):
        model.predict_proba(frame)


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
def test_torch_loss_votes_with_default_labels_reordered(data):
    """Defect: the PyTorch loss took a DataFrame of votes labelled 0..m-1 in another order on a label
    model fitted on unnamed columns (``LabelModel.partial_fit`` refuses it): its check compared the
    names only, and the label model then got the votes as named text columns, which it kept."""
    import torch

    from tripletws.torch_loss import WeakSupervisionLoss

    torch.manual_seed(0)
    loss_fn = WeakSupervisionLoss(2)
    outputs = torch.zeros(200, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss_fn(outputs, pd.DataFrame(data.L[:200]))
    assert loss_fn.label_model.lf_names_ is None
    with pytest.raises(ValueError, match="fitted on unnamed columns"):
        loss_fn(outputs, pd.DataFrame(data.L[200:400])[[2, 0, 1]])
    assert loss_fn.label_model.lf_names_ is None
