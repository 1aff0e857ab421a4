"""Reliability of the estimators (issue 9, items 4-7): valid input always fits, the default model
does not depend on the order of the LF columns, one adversarial LF does not invert the labels, and
the fit time does not explode with the number of classes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tripletws import LabelModel
from tripletws.model import MODELS

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402


def _fit_quiet(L: np.ndarray, k: int, **kw) -> LabelModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return LabelModel(cardinality=k, **kw).fit(L)


# -- 9.4: valid input always fits ----------------------------------------------------------------


def test_singular_second_moments_fit_with_a_warning():
    """Reproducer: raised numpy's LinAlgError ("Singular matrix") in the second-moment fit."""
    L = np.array([[-1, -1, -1], [-1, 2, 3], [-1, -1, 3], [3, -1, 2]])
    with pytest.warns(UserWarning):
        lm = LabelModel(cardinality=4).fit(L)
    P = lm.predict_proba(L)
    assert P.shape == (4, 4)
    assert np.all(np.isfinite(P))
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)


def test_single_row_fits():
    """A one-row matrix has an all-zero covariance (it crashed the eigen solver with NaN)."""
    L = np.array([[0, 3, 2, 2, 2]])
    P = _fit_quiet(L, 4).predict_proba(L)
    assert np.all(np.isfinite(P))
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)


@st.composite
def _small_label_matrices(draw):
    k = draw(st.integers(2, 6))
    n = draw(st.integers(1, 12))
    m = draw(st.integers(3, 6))
    L = draw(arrays(np.int64, (n, m), elements=st.integers(-1, k - 1)))
    return L, k


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_small_label_matrices(), st.sampled_from(MODELS))
def test_small_valid_matrices_always_fit(case, model):
    """Every model and k in 2..6: valid input fits, probabilities are finite and sum to 1."""
    L, k = case
    lm = _fit_quiet(L, k, model=model)
    P = lm.predict_proba(L)
    assert P.shape == (L.shape[0], k)
    assert np.all(np.isfinite(P)) and np.all(P >= 0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 6), st.integers(-3, 8))
def test_invalid_values_raise_value_error_naming_the_value(k, bad):
    """The only error small matrices may raise is the documented ValueError for invalid input."""
    if -1 <= bad < k:
        bad = k + 1
    L = np.array([[0, 1, -1], [1, 0, 1], [0, 0, bad]])
    L = np.where(L >= k, k - 1, L)
    L[2, 2] = bad
    with pytest.raises(ValueError, match=str(bad)):
        LabelModel(cardinality=k).fit(L)
