"""Every bad input gets a ValueError (or TypeError for bad keywords) that names the problem."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tripletws import LabelModel, MajorityLabelVoter, check_label_matrix, to_sparse
from tripletws.datasets import make_synthetic


@pytest.fixture(scope="module")
def data():
    return make_synthetic(2_000, 5, 2, coverage=0.6, random_state=0)


@pytest.fixture(scope="module")
def fitted(data):
    return LabelModel().fit(data.L)


# -- label matrix -------------------------------------------------------------


@pytest.mark.parametrize("shape", [(10,), (4, 5, 3), ()])
def test_wrong_ndim(shape) -> None:
    with pytest.raises(ValueError, match="2-dimensional"):
        LabelModel().fit(np.zeros(shape, dtype=int))


def test_value_below_minus_one_names_column_and_value(data) -> None:
    L = data.L.copy()
    L[17, 3] = -2
    with pytest.raises(ValueError, match=r"value -2 in column 3 \(row 17\)"):
        LabelModel().fit(L)


@pytest.mark.parametrize("k", [2, 3])
def test_value_at_or_above_k_names_column_and_value(data, k) -> None:
    L = data.L.astype(np.int16)
    L[5, 4] = k
    with pytest.raises(ValueError, match=rf"value {k} in column 4 \(row 5\), outside 0..{k - 1}"):
        LabelModel(cardinality=k).fit(L)
    model = LabelModel(cardinality=k).fit(data.L)
    with pytest.raises(ValueError, match=rf"value {k} in column 4"):
        model.predict_proba(L)
    with pytest.raises(ValueError, match=rf"value {k} in column 4"):
        MajorityLabelVoter(k).predict(L)


def test_bad_values_found_in_late_chunks(data) -> None:
    """Lazy chunk-by-chunk validation still catches a bad value in the last row."""
    L = data.L.copy()
    L[-1, 2] = 7
    with pytest.raises(ValueError, match=r"value 7 in column 2 \(row 1999\)"):
        LabelModel(chunk_size=64).fit(L)


def test_sparse_bad_values(data) -> None:
    import scipy.sparse as sp

    X = to_sparse(data.L).astype(np.int16)
    X.data[0] = 3  # class 2 with k = 2
    with pytest.raises(ValueError, match="stored value 3 \\(class 2\\) in column"):
        LabelModel().fit(X)
    Y = sp.csr_array(np.array([[1, -1, 2], [0, 1, 1]]))
    with pytest.raises(ValueError, match=r"value -1 in column 1.*c \+ 1"):
        LabelModel().fit(Y)
    Z = sp.csr_array(np.array([[1.0, np.nan, 2], [0, 1, 1]]))
    with pytest.raises(ValueError, match="NaN in column 1"):
        check_label_matrix(Z)


def test_nan(data) -> None:
    L = data.L.astype(float)
    L[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN in column 1 \(row 3\)"):
        LabelModel().fit(L)


def test_non_integral_float(data) -> None:
    L = data.L.astype(float)
    L[9, 2] = 0.5
    with pytest.raises(ValueError, match=r"non-integer value 0.5 in column 2 \(row 9\)"):
        LabelModel().fit(L)


def test_integral_floats_are_fine(data) -> None:
    a = LabelModel().fit(data.L.astype(np.float32)).accuracies_
    np.testing.assert_array_equal(a, LabelModel().fit(data.L).accuracies_)


def test_non_numeric(data) -> None:
    with pytest.raises(ValueError, match="must hold integers"):
        LabelModel().fit(np.array([["a", "b", "c"]]))


def test_fewer_than_three_lfs(data) -> None:
    with pytest.raises(ValueError, match="at least 3"):
        LabelModel().fit(data.L[:, :2])


def test_no_rows() -> None:
    with pytest.raises(ValueError, match="no rows"):
        LabelModel().fit(np.zeros((0, 4), dtype=int))


def test_predict_wrong_number_of_lfs(data, fitted) -> None:
    with pytest.raises(ValueError, match="4 columns but the model was fitted with 5"):
        fitted.predict_proba(data.L[:, :4])


def test_predict_before_fit(data) -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        LabelModel().predict(data.L)


# -- settings -------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 0, -3, 2.5, True, "2"])
def test_bad_cardinality(data, k) -> None:
    with pytest.raises(ValueError, match="cardinality"):
        LabelModel(cardinality=k).fit(data.L)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"solver": "sgd"}, "unknown solver 'sgd'"),
        ({"model": "deep"}, "unknown model 'deep'"),
        ({"signs": "random"}, "unknown signs 'random'"),
        ({"eps": 0.7}, "eps must lie in"),
        ({"eps": 0.4, "model": "class_conditional"}, r"eps must be below 1 / \(k \+ 1\) = 0.3333"),
        ({"class_balance": "guess"}, "unknown class_balance 'guess'"),
    ],
)
def test_unknown_settings(data, kwargs, pattern) -> None:
    with pytest.raises(ValueError, match=pattern):
        LabelModel(**kwargs).fit(data.L)


def test_unknown_metric_and_tie_break(data, fitted) -> None:
    with pytest.raises(ValueError, match="unknown metric 'auc'"):
        fitted.score(data.L, data.y, metrics=["accuracy", "auc"])
    with pytest.raises(ValueError, match="unknown tie_break_policy 'coin'"):
        fitted.predict(data.L, tie_break_policy="coin")
    with pytest.raises(ValueError, match="'f1' is for binary"):
        LabelModel(cardinality=3).fit(data.L).score(data.L, data.y, metrics=["f1"])


# -- gold labels and class balance ------------------------------------------------


@pytest.mark.parametrize(
    ("y_dev", "pattern"),
    [
        (np.array([0, 1, 2, 1]), "Y_dev has value 2 at position 2, outside -1..1"),
        (np.array([0, -2, 1]), "Y_dev has value -2"),
        (np.zeros((5, 2), dtype=int), "Y_dev must be 1-dimensional"),
        (np.array([0.0, 1.5]), "non-integer value 1.5"),
        (np.array([0.0, np.nan]), "NaN at position 1"),
        (np.array([], dtype=int), "Y_dev is empty"),
        (np.array([-1, -1]), "no labelled rows"),
    ],
)
def test_bad_y_dev(data, y_dev, pattern) -> None:
    with pytest.raises(ValueError, match=pattern):
        LabelModel().fit(data.L, Y_dev=y_dev)


def test_score_labels_wrong_length(data, fitted) -> None:
    with pytest.raises(ValueError, match="Y has length 1999 but the label matrix has 2000 rows"):
        fitted.score(data.L, data.y[:-1])


def test_y_dev_missing_class_warns(data) -> None:
    with pytest.warns(UserWarning, match="no example of class"):
        model = LabelModel(cardinality=3).fit(data.L, Y_dev=np.array([0, 1, 1]))
    assert np.all(model.class_balance_ > 0)


@pytest.mark.parametrize(
    ("prior", "pattern"),
    [
        ([0.5, 0.4], "must sum to 1"),
        ([0.2, 0.3, 0.5], "3 entries but cardinality is 2"),
        ([1.0, 0.0], "class_balance is 0 for class 1"),
        ([1.5, -0.5], "negative entry"),
        ([np.nan, 0.5], "non-finite"),
        ({0: 0.4, 1: 0.6}, r"must be 2 probabilities \(a list or array\), got \{0: 0.4"),  # was a TypeError
        ([[0.5, "a"]], "must be 2 probabilities"),
    ],
)
def test_bad_class_balance(data, prior, pattern) -> None:
    with pytest.raises(ValueError, match=pattern):
        LabelModel().fit(data.L, class_balance=prior)
    with pytest.raises(ValueError, match=pattern):
        LabelModel(class_balance=prior).fit(data.L)


# -- degenerate LFs ---------------------------------------------------------------


def test_lf_that_never_votes(data) -> None:
    L = data.L.copy()
    L[:, 2] = -1
    with pytest.warns(UserWarning, match="LF\\(s\\) 2 never vote"):
        model = LabelModel(model="symmetric").fit(L)
    assert np.all(np.isfinite(model.accuracies_))
    assert model.coverage_[2] == 0
    probs = model.predict_proba(L)
    assert np.all(np.isfinite(probs))
    # neutral: if the silent LF does vote at prediction time, nothing changes
    L_votes = L.copy()
    L_votes[:, 2] = data.L[:, 2].clip(0)
    np.testing.assert_allclose(model.predict_proba(L_votes), probs, rtol=0, atol=1e-12)
    # the other LFs are estimated as without the silent one
    without = LabelModel(model="symmetric").fit(np.delete(L, 2, axis=1))
    np.testing.assert_allclose(np.delete(model.accuracies_, 2), without.accuracies_)


def test_all_rows_abstain_everywhere() -> None:
    L = np.full((50, 4), -1)
    with pytest.warns(UserWarning, match="never vote"):
        model = LabelModel().fit(L)
    np.testing.assert_allclose(model.predict_proba(L), 0.5)
    assert (model.predict(L) == -1).all()


@pytest.mark.parametrize("model", ["annotator", "symmetric", "class_conditional"])
def test_all_abstain_says_nothing_is_learned(model: str) -> None:
    """No vote anywhere: the note says the predictions are the prior (not "the mean accuracy of the
    others", which do not exist), and the default's abstain check reads nothing (it read the
    abstentions on a rounding-level lead with a standard error of exactly 0)."""
    L = np.full((60, 5), -1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = LabelModel(cardinality=3, model=model, class_balance=[0.2, 0.3, 0.5]).fit(L)
    messages = [str(w.message) for w in caught]
    said = [msg for msg in messages if "no LF votes on any fitted row" in msg and "the class prior" in msg]
    assert said, messages
    assert not any("mean accuracy of the others" in msg for msg in messages), messages
    assert not any("Dawid-Skene" in msg for msg in messages), messages
    np.testing.assert_allclose(fitted.predict_proba(L[:2]), [[0.2, 0.3, 0.5]] * 2, atol=1e-9)
    if model == "annotator":
        check = fitted.estimate_.abstain
        assert not check.accepted and check.reason.startswith("no LF votes on any row")


def test_identical_lfs_do_not_crash() -> None:
    L = np.tile(np.array([[0], [1], [1], [-1]]), (100, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probs = LabelModel().fit(L).predict_proba(L)
    assert np.all(np.isfinite(probs))


# -- Snorkel keywords ---------------------------------------------------------------


def test_snorkel_sgd_kwargs_warn_and_are_ignored(data) -> None:
    base = LabelModel().fit(data.L)
    with pytest.warns(UserWarning, match="ignored SGD option"):
        model = LabelModel().fit(data.L, n_epochs=500, lr=0.01, l2=0.1, seed=123, log_freq=10)
    np.testing.assert_array_equal(model.accuracies_, base.accuracies_)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LabelModel().fit(data.L, progress_bar=False)  # Snorkel's own keyword: accepted silently


def test_unknown_kwargs_type_error(data) -> None:
    with pytest.raises(TypeError, match="unexpected keyword"):
        LabelModel().fit(data.L, n_epoch=10)


def test_device_warns(data) -> None:
    with pytest.warns(UserWarning, match="CPU"):
        LabelModel(device="cuda").fit(data.L)


def test_sparse_duplicate_cells_are_rejected():
    sp = pytest.importorskip("scipy.sparse")
    coo = sp.coo_array((np.array([1, 1]), (np.array([0, 0]), np.array([2, 2]))), shape=(3, 4))
    with pytest.raises(ValueError, match="duplicate entries"):
        check_label_matrix(coo, 2)


@pytest.mark.parametrize("seed", [-1, 1.5, "x", True, 2**63])
def test_random_state_is_checked_at_fit(seed):
    """A seed numpy would refuse only at the first random tie-break (or a file that could be written
    but not read back) is a ValueError naming random_state when the model is fitted."""
    from tripletws.datasets import make_synthetic

    L = make_synthetic(300, 4, 2, random_state=0).L
    with pytest.raises(ValueError, match="random_state must be"):
        LabelModel(2, random_state=seed).fit(L)


def test_convention_converters_validate_and_take_sparse_input():
    """from_metal / from_flyingsquid read scipy.sparse (MeTaL's own format) too; a MeTaL value beyond
    the class limit is refused (it wrapped around in int16); from_sparse validates what it stores."""
    import scipy.sparse as sp

    from tripletws import from_flyingsquid, from_metal, from_sparse

    metal = np.array([[3, 2, 0], [2, 1, 1]])
    np.testing.assert_array_equal(from_metal(sp.csr_matrix(metal)), from_metal(metal))
    fs = np.array([[1, -1, 0], [0, 1, 1]])
    np.testing.assert_array_equal(from_flyingsquid(sp.csr_array(fs)), from_flyingsquid(fs))
    with pytest.raises(ValueError, match="MeTaL value 70000 in column 0"):
        from_metal(np.array([[70000, 2, 0], [2, 1, 1]]))
    with pytest.raises(ValueError, match=r"non-integer value 1\.5 in column 0"):
        from_sparse(sp.csr_array(np.array([[1.5, 0.0], [2.0, 1.0]])))
    with pytest.raises(ValueError, match="value -3 in column 0"):
        from_sparse(sp.csr_array(np.array([[-3, 0], [2, 1]])))
    with pytest.raises(ValueError, match=r"takes a scipy\.sparse matrix"):
        from_sparse(np.zeros((2, 2)))
    L = np.array([[0, 1, -1], [2, -1, 1]])
    np.testing.assert_array_equal(from_sparse(to_sparse(L, 3)), L)


def test_class_balance_none_in_the_constructor_names_the_choices(data) -> None:
    with pytest.raises(ValueError, match="class_balance=None: give 'auto' or 'estimate' or 'uniform'"):
        LabelModel(class_balance=None).fit(data.L)  # was "class_balance has 1 entries"


def test_errors_in_l_dev_name_l_dev(data) -> None:
    L_dev = data.L[:20].astype(float)
    L_dev[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"L_dev: label matrix has NaN in column 1 \(row 3\)"):
        LabelModel().fit(data.L, L_dev=L_dev, Y_dev=data.y[:20])


def test_gold_labels_in_an_object_array(data) -> None:
    """Python ints in an object array (pandas object columns, mixed int types) were refused."""
    model = LabelModel().fit(data.L)
    as_objects = np.array(data.y.tolist(), dtype=object)
    assert model.score(data.L, as_objects) == model.score(data.L, data.y)
    as_objects[5] = None
    with pytest.raises(ValueError, match="position 5 holds None"):
        model.score(data.L, as_objects)


def test_a_fit_whose_tables_cannot_fit_in_memory_is_refused_up_front(monkeypatch):
    """fit -k 32768 (the largest k accepted) allocated (m, k + 1, k) tables of 51 GB for 6 LFs and died
    out of memory deep in the solve; the sizes are now checked against the memory available."""
    import tripletws.memory as memory

    L = np.array([[0, 1, 0, -1], [1, 1, 0, 0], [0, 0, 1, 1]] * 20)
    monkeypatch.setattr(memory, "available_bytes", lambda: 5 * 1024**2)  # 5 MiB
    monkeypatch.setattr(memory, "CHECK_FROM", 0)  # read the memory for any size
    LabelModel(2).fit(L)  # 4 LFs, k = 2: a few hundred bytes
    with pytest.raises(ValueError, match=r"k = 400 classes with m = 4 LFs: .* GiB available"):
        LabelModel(400).fit(L)  # two tables of 4 x 401 x 400 float64: 9.8 MiB
    monkeypatch.setattr(memory, "available_bytes", lambda: None)  # not known: no check
    assert memory.check_tables_fit(4, 32768, "annotator") is None
    monkeypatch.undo()
    free = memory.available_bytes()
    assert free is None or free > 0
