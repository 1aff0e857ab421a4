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


def test_lf_applier_takes_snorkels_data_points_keyword():
    from types import SimpleNamespace

    from tripletws.labeling import LFApplier, labeling_function

    @labeling_function()
    def is_big_num(x):
        return 1 if x.num > 42 else 0

    points = [SimpleNamespace(num=10), SimpleNamespace(num=100)]
    # old: TypeError "LFApplier.apply() got an unexpected keyword argument 'data_points'"
    L = LFApplier([is_big_num]).apply(data_points=points, progress_bar=False)
    np.testing.assert_array_equal(L, [[0], [1]])
    with pytest.raises(TypeError, match="both data and data_points"):
        LFApplier([is_big_num]).apply(points, data_points=points, progress_bar=False)


def test_dask_applier_reads_a_scheduler_given_second_as_snorkel_orders_it():
    pd = pytest.importorskip("pandas")
    dask = pytest.importorskip("dask")
    dd = pytest.importorskip("dask.dataframe")
    from tripletws.labeling import DaskLFApplier, labeling_function

    @labeling_function()
    def lf_long(x):
        return 1 if len(x.text) > 5 else -1

    ddf = dd.from_pandas(pd.DataFrame({"text": ["short", "a longer one", "x"]}), npartitions=2)
    calls = []

    def get(dsk, keys, **kwargs):
        calls.append(1)
        return dask.get(dsk, keys, **kwargs)

    # old: apply(ddf, scheduler) took the scheduler for the progress flag and ran on the default one
    L = DaskLFApplier([lf_long]).apply(ddf, get)
    assert calls
    np.testing.assert_array_equal(L, [[-1], [1], [-1]])
    calls.clear()
    DaskLFApplier([lf_long]).apply(ddf, False, scheduler=get)  # tripletws's own order still works
    assert calls


def test_decorators_written_without_parentheses_make_their_objects():
    pd = pytest.importorskip("pandas")
    from tripletws.labeling import (
        LabelingFunction,
        PandasLFApplier,
        Preprocessor,
        VectorizedLF,
        labeling_function,
        preprocessor,
        vectorized_lf,
    )

    # old: a bare @preprocessor returned its inner wrapper, which the LF called with the row: the LF got a
    # Preprocessor object instead of the row (silently wrong votes); a bare @labeling_function failed
    # in the applier with "'function' object has no attribute 'name'"
    @preprocessor
    def upper(x):
        x["text"] = x["text"].upper()
        return x

    @labeling_function
    def lf_shout(x):
        return 1 if x["text"].isupper() else 0

    @labeling_function(pre=[upper])
    def lf_shout_after_upper(x):
        return 1 if x["text"].isupper() else 0

    @vectorized_lf
    def lf_long(df):
        return np.where(df["text"].str.len() > 3, 1, -1)

    assert isinstance(upper, Preprocessor) and upper.name == "upper"
    assert isinstance(lf_shout, LabelingFunction) and lf_shout.name == "lf_shout"
    assert isinstance(lf_long, VectorizedLF) and lf_long.name == "lf_long"
    df = pd.DataFrame({"text": ["abc", "LOUD", "mixed"]})
    L = PandasLFApplier([lf_shout, lf_shout_after_upper, lf_long]).apply(df, progress_bar=False)
    np.testing.assert_array_equal(L, [[0, 1, -1], [1, 1, 1], [0, 1, 1]])


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("get_accuracies", r"get_weights\(\)"),
        ("mu", r"get_conditional_probs\(\)"),
        ("train_model", r"fit\(L_train\)"),
    ],
)
def test_snorkels_older_names_say_the_equivalent(fitted, name, says):
    # old: Python's bare "'LabelModel' object has no attribute 'get_accuracies'"
    with pytest.raises(AttributeError, match=rf"'{name}' \(Snorkel's\): {says}"):
        getattr(fitted, name)
    assert not hasattr(fitted, name)
    with pytest.raises(AttributeError, match="Snorkel's"):
        getattr(MajorityLabelVoter(), name)


def test_fit_and_partial_fit_of_none_are_named(fitted):
    # old: fit(None) raised "'NoneType' object has no attribute 'stats'"; partial_fit(None) refitted silently
    with pytest.raises(ValueError, match="L_train is None"):
        LabelModel().fit(None)
    with pytest.raises(ValueError, match="L_batch is None"):
        LabelModel().partial_fit(None)
    with pytest.raises(ValueError, match="L_batch is None"):
        fitted.partial_fit(None)


def test_loading_a_snorkel_pickle_says_what_it_is(tmp_path):
    import pickle

    path = tmp_path / "label_model.pkl"
    path.write_bytes(pickle.dumps({"cardinality": 2, "mu": np.zeros((6, 2))}, protocol=4))
    # old: "not a text JSON model file" and nothing more
    with pytest.raises(ValueError, match=r"not a text JSON model file \(it is a pickle, such as Snorkel's"):
        LabelModel.load(path)
    with pytest.raises(ValueError, match="never unpickles"):
        LabelModel(cardinality=2).load(path)


def test_metric_score_as_snorkels_on_its_documented_example():
    # old: ImportError "cannot import name 'metric_score' from 'tripletws.metrics'"
    from tripletws.metrics import metric_score

    golds, preds = np.array([-1, 0, 0, 1, 0]), np.array([0, 0, 0, 1, -1])
    both = {"golds": [-1], "preds": [-1]}
    assert metric_score(golds, preds, metric="accuracy", filter_dict=both) == pytest.approx(1.0)
    # f1 of class 1: precision 1, recall 1/2
    assert metric_score(np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]), metric="f1") == pytest.approx(2 / 3)
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]])
    assert metric_score(golds=np.array([0, 1, 1, 0]), probs=probs, metric="roc_auc") == pytest.approx(1.0)
    assert metric_score(np.array([0, 1, 1, 0]), np.array([0, -1, 0, 0]), metric="coverage") == pytest.approx(
        0.75
    )
    # a -1 left in: Snorkel would score it as a class, score() would drop the row; told instead
    with pytest.raises(ValueError, match="preds hold -1"):
        metric_score(golds, preds, metric="accuracy", filter_dict={"golds": [-1]})
    with pytest.raises(ValueError, match="golds hold -1"):
        metric_score(golds, np.zeros(5, dtype=int), metric="accuracy")
