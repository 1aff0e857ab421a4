"""A boolean label matrix is valid (votes 0 and 1, no abstentions) but most likely a mask of where
LFs fired: the fit warns, names the reading and the way out, and fits as before."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tripletws import LabelModel
from tripletws.hints import boolean_votes

MESSAGE = "holds booleans: they are read as votes, False for class 0 and True for class 1"


def _mask() -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.random((400, 5)) < 0.4


def test_numpy_bool_warns_and_fits_as_int():
    L = _mask()
    with pytest.warns(UserWarning, match=MESSAGE) as record:
        model = LabelModel().fit(L)
    assert record[0].filename == __file__  # points at the caller
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = LabelModel().fit(L.astype(np.int8))
    np.testing.assert_allclose(model.predict_proba(L), plain.predict_proba(L.astype(np.int8)), atol=1e-12)


def test_dataframe_of_bools_warns_and_ints_do_not():
    pd = pytest.importorskip("pandas")
    L = _mask()
    with pytest.warns(UserWarning, match=MESSAGE):
        LabelModel().fit(pd.DataFrame(L, columns=list("abcde")))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LabelModel().fit(L.astype(np.int64))
    assert not any("booleans" in str(w.message) for w in caught)


def test_which_inputs_count_as_boolean():
    sparse = pytest.importorskip("scipy.sparse")
    L = _mask()
    assert boolean_votes(L)
    assert not boolean_votes(L.astype(np.int8))
    assert not boolean_votes(sparse.csr_matrix(L))  # shifted encoding: True is a class-0 vote
