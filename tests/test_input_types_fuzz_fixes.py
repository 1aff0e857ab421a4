"""Input types of today's data stacks passed as L, Y, L_dev or class_balance: each one works as the
equivalent numpy array, or is a ValueError that names the problem, the type given and what to pass."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

from tripletws import LabelModel, MajorityLabelVoter
from tripletws.analysis import LFAnalysis, lf_summary
from tripletws.datasets import make_synthetic


@pytest.fixture(scope="module")
def data():
    return make_synthetic(400, 5, 3, random_state=0)


@pytest.fixture(scope="module")
def fitted(data):
    return LabelModel(3, random_state=0).fit(data.L)


def _gen(L):
    return (row for row in L.tolist())


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (
            lambda L: {f"lf{j}": L[:, j] for j in range(L.shape[1])},
            r"L_batch is a dict \(keys \['lf0'.*DataFrame",
        ),
        (lambda L: "votes.npy", r"L_batch is a str \('votes.npy'\).*read_matrix\(path\)"),
        (lambda L: pathlib.Path("votes.npy"), r"L_batch is a pathlib.*PosixPath.*read_matrix\(path\)"),
        (_gen, r"L_batch is a generator \(read once.*np.array\(list"),
        (lambda L: {1, 2}, r"L_batch is a set, whose order is arbitrary"),
        (lambda L: 3, r"got ndim=0 with shape \(\) \(an int\)"),
    ],
)
def test_partial_fit_on_what_is_no_array_names_what_was_passed(data, make, said):
    """partial_fit (and fit, predict_proba, ...) on a dict, a path, a generator or a set said "got
    ndim=0 with shape ()": neither what was passed nor what to pass instead."""
    with pytest.raises(ValueError, match=said):
        LabelModel(3).partial_fit(make(data.L))


@pytest.mark.parametrize("fmt", ["dok_array", "dok_matrix"])
def test_dok_sparse_votes_are_not_taken_for_a_dict(data, fmt):
    """(guard for the dict check above) scipy's dok format is a dict of cells: still read as sparse votes."""
    sp = pytest.importorskip("scipy.sparse")
    X = getattr(sp, fmt)(data.L.astype(np.int64) + 1)
    ref = MajorityLabelVoter(3).predict_proba(data.L)
    np.testing.assert_array_equal(MajorityLabelVoter(3).predict_proba(X), ref)


@pytest.mark.parametrize("call", ["predict_proba", "score", "majority", "lf_summary"])
def test_none_as_l_after_fit_is_named(data, fitted, call):
    """None given as L to predict_proba / score / MajorityLabelVoter / lf_summary said "got ndim=0 with
    shape ()" (fit and partial_fit already named it)."""
    run = {
        "predict_proba": lambda: fitted.predict_proba(None),
        "score": lambda: fitted.score(None, data.y),
        "majority": lambda: MajorityLabelVoter(3).predict(None),
        "lf_summary": lambda: lf_summary(None),
    }[call]
    with pytest.raises(ValueError, match=r"L is None; pass a label matrix"):
        run()


def test_ragged_list_of_rows_names_the_row(data):
    """A ragged list of rows was numpy's "setting an array element with a sequence ... inhomogeneous
    shape", not which row was short."""
    rows = data.L.tolist()
    rows[7] = rows[7][:-1]
    with pytest.raises(ValueError, match=r"L_train is a ragged list: row 7 has 4 entries, row 0 5 entries"):
        LabelModel(3).fit(rows)


def test_masked_votes_are_refused_not_read_as_the_values_they_hide(data):
    """A numpy masked array lost its mask: masked cells (missing votes) were read as the votes they
    hid, a silently different fit."""
    L = data.L
    hidden = np.ma.array(np.where(L == -1, 0, L), mask=L == -1)
    with pytest.raises(
        ValueError, match=r"masked cell in column \d+ \(row \d+\) holds 0.*L_train.filled\(-1\)"
    ):
        LabelModel(3).fit(hidden)
    # masked cells that hold -1 already are abstains either way
    ref = LabelModel(3, random_state=0).fit(L).predict_proba(L)
    got = LabelModel(3, random_state=0).fit(np.ma.masked_equal(L, -1)).predict_proba(L)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


def test_masked_gold_labels_are_refused_not_read_as_the_labels_they_hide(data, fitted):
    """Masked gold labels (unknown) were read as the labels they hid: score and Y_dev counted them."""
    y = np.ma.array(np.where(np.arange(len(data.y)) < 20, 0, data.y), mask=np.arange(len(data.y)) < 20)
    with pytest.raises(ValueError, match=r"Y is a masked array whose masked entry at position 0 holds 0"):
        fitted.score(data.L, y)
    with pytest.raises(ValueError, match=r"Y_dev is a masked array"):
        LabelModel(3).fit(data.L, Y_dev=y)


def test_masked_class_balance_is_refused(data):
    """A class balance with a masked entry was read with the hidden number."""
    with pytest.raises(ValueError, match=r"class_balance is masked for class 1"):
        LabelModel(3).fit(data.L, class_balance=np.ma.array([0.2, 0.3, 0.5], mask=[0, 1, 0]))


def test_gold_labels_that_are_no_array_name_what_was_passed(data, fitted):
    """Y as a dict, a path, a generator or None said "Y must be 1-dimensional, got shape ()"."""
    with pytest.raises(ValueError, match=r"Y is a str \('y.npy'\).*read_labels\(path\)"):
        fitted.score(data.L, "y.npy")
    with pytest.raises(ValueError, match=r"Y_dev is a dict .*values in row order"):
        LabelModel(3).fit(data.L, Y_dev=dict(enumerate(data.y.tolist())))
    with pytest.raises(ValueError, match=r"Y is None; pass gold labels"):
        fitted.score(data.L, None)


def test_one_dimensional_input_names_its_type(data):
    """One column given as L (a pandas Series, a 1-D tensor) was named by its shape only."""
    pd = pytest.importorskip("pandas")
    with pytest.raises(
        ValueError, match=r"shape \(400,\) \(a pandas.Series\); give a 2-D matrix.*L.reshape\(1, -1\)"
    ):
        LabelModel(3).fit(pd.Series(data.L[:, 0]))


def test_one_dimensional_sparse_array_is_named(data):
    """A 1-D scipy.sparse array was an IndexError ("tuple index out of range")."""
    sp = pytest.importorskip("scipy.sparse")
    try:
        X = sp.coo_array(np.array([1, 2, 0]))
    except ValueError:  # pragma: no cover - scipy < 1.13 has no 1-D sparse arrays
        pytest.skip("scipy without 1-D sparse arrays")
    if X.ndim != 1:  # pragma: no cover
        pytest.skip("scipy without 1-D sparse arrays")
    with pytest.raises(
        ValueError, match=r"must be 2-dimensional .*ndim=1 with shape \(3,\) \(a scipy.coo_array\)"
    ):
        MajorityLabelVoter(3).predict(X)


def test_polars_text_columns_name_the_cell(data):
    """A polars DataFrame of text (or categorical) columns raised AttributeError "'list' object has no
    attribute 'iloc'" (polars' dtypes are a list, not a pandas Series) instead of naming the cell."""
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame({f"lf{j}": [str(v) for v in data.L[:, j]] for j in range(5)})
    with pytest.raises(
        ValueError, match=r"must hold integers, got dtype object \(column 'lf0', row 0, holds"
    ):
        LabelModel(3).fit(frame)


def test_polars_lazy_frame_says_collect(data):
    """A polars LazyFrame said "got ndim=0 with shape ()"."""
    pl = pytest.importorskip("polars")
    lazy = pl.DataFrame({f"lf{j}": data.L[:, j] for j in range(5)}).lazy()
    with pytest.raises(ValueError, match=r"L_train is a polars.LazyFrame.*L_train.collect\(\)"):
        LabelModel(3).fit(lazy)


def test_tensor_that_requires_grad_is_read_as_its_values(data):
    """A torch tensor that requires grad (as L, Y or class_balance) was torch's RuntimeError "Can't call
    numpy() on Tensor that requires grad"; votes and labels carry no gradient, so they are read."""
    torch = pytest.importorskip("torch")
    L, Y = data.L, data.y
    ref = LabelModel(3, random_state=0).fit(L, class_balance=[0.2, 0.3, 0.5])
    t = torch.tensor(L, dtype=torch.float32, requires_grad=True)
    prior = torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64, requires_grad=True)
    got = LabelModel(3, random_state=0).fit(t, class_balance=prior)
    # the same integer votes: the same fit (float32 votes are converted exactly)
    np.testing.assert_allclose(got.predict_proba(t), ref.predict_proba(L), rtol=0, atol=1e-12)
    y = torch.tensor(Y, dtype=torch.float32, requires_grad=True)
    assert got.score(L, y) == ref.score(L, Y)


def test_pyarrow_table_column_names_flow_into_lf_names(data):
    """A pyarrow Table or RecordBatch was fitted as an unnamed matrix: lf_names_ stayed None (a pandas or
    polars DataFrame's names are kept) and reordered columns were read as other LFs without an error."""
    pa = pytest.importorskip("pyarrow")
    names = [f"lf{j}" for j in range(5)]
    table = pa.table({c: data.L[:, j] for j, c in enumerate(names)})
    model = LabelModel(3, random_state=0).fit(table)
    assert model.lf_names_ == tuple(names)
    ref = LabelModel(3, random_state=0).fit(data.L)
    np.testing.assert_allclose(
        model.predict_proba(table.to_batches()[0]), ref.predict_proba(data.L), atol=1e-12
    )
    swapped = table.select(["lf1", "lf0", "lf2", "lf3", "lf4"])
    with pytest.raises(ValueError, match=r"names the model's LFs in another order"):
        model.predict_proba(swapped)
    with pytest.raises(ValueError, match=r"another order"):
        model.score(swapped, data.y)
    assert LFAnalysis(table).names == names
    assert LFAnalysis(table).lf_summary().index.tolist() == names  # as for a pandas DataFrame


def test_pyarrow_table_with_nulls_names_the_column(data):
    """(with the fix above) a null in a pyarrow Table is named by its column name, as a pandas NA is."""
    pa = pytest.importorskip("pyarrow")
    cols = {f"lf{j}": data.L[:, j].tolist() for j in range(5)}
    cols["lf2"][3] = None
    with pytest.raises(ValueError, match=r"NaN in column 2 \('lf2'\) \(row 3\); write -1 for abstain"):
        LabelModel(3).fit(pa.table(cols))


def test_pyarrow_list_array_is_named_not_arrow_invalid(data):
    """A pyarrow FixedSizeListArray (rows as lists) raised pyarrow's ArrowInvalid "zero_copy_only was
    True" from its to_numpy()."""
    pa = pytest.importorskip("pyarrow")
    rows = pa.FixedSizeListArray.from_arrays(pa.array(data.L.ravel()), 5)
    with pytest.raises(ValueError, match=r"ndim=1 with shape \(400,\) \(a pyarrow.FixedSizeListArray\)"):
        LabelModel(3).fit(rows)
