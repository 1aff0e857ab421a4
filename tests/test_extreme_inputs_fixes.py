"""Fixes from fuzzing the estimators with numerically extreme but valid inputs (tiny class balances,
long forgetting streams, ...): each test failed before its fix."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tripletws import LabelModel
from tripletws.datasets import make_synthetic


def _quiet_fit(k: int, L: np.ndarray, **kw) -> LabelModel:
    fit_kw = {key: kw.pop(key) for key in ("class_balance", "Y_dev") if key in kw}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return LabelModel(cardinality=k, **kw).fit(L, **fit_kw)


def _roundtrip(lm: LabelModel, path) -> LabelModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        lm.save(path)
        return type(lm).load(path)


@pytest.mark.parametrize(
    ("k", "tiny", "seed"),
    [(3, 1e-30, 0), (3, 1e-300, 0), (2, 1e-60, 229), (2, 1e-200, 1)],
)
def test_tiny_given_class_balance_keeps_class_conditional_tables_valid(tmp_path, k, tiny, seed):
    """Reproducer: class_balance with an entry of 1e-30 (or less) made the class-conditional tables
    (rescaled by sqrt(p_est / p), 1e15 and more) come out of their projection onto the simplex with
    entries above 1 (accuracies_ up to 1e59); ``save`` then refused the model."""
    d = make_synthetic(300, 6, k, coverage=0.5, random_state=seed)
    p = np.full(k, (1.0 - tiny) / (k - 1))
    p[0] = tiny
    lm = _quiet_fit(k, d.L, model="class_conditional", class_balance=p)
    for params in (lm.params_, lm.estimate_.params):
        cp = params.cond_probs
        assert np.all(np.isfinite(cp)) and cp.min() >= 0.0 and cp.max() <= 1.0
        np.testing.assert_allclose(cp.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert np.all((lm.accuracies_ >= 0) & (lm.accuracies_ <= 1))
    P = lm.predict_proba(d.L)
    back = _roundtrip(lm, tmp_path / "m.json")
    np.testing.assert_allclose(back.predict_proba(d.L), P, rtol=0, atol=1e-12)


def test_simplex_projection_of_huge_rows():
    """The projection is shift-invariant; rows of size 1e20 must project as rows of size 1."""
    from tripletws.estimators.moments import project_to_simplex_rows

    X = np.random.default_rng(0).normal(size=(50, 5))
    floor = 1e-4
    out = project_to_simplex_rows(X * 1e20, floor=floor)
    assert out.min() >= floor and out.max() <= 1.0 - 4 * floor + 1e-15
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # the largest entry of each row takes all the free mass
    np.testing.assert_array_equal(out.argmax(axis=1), X.argmax(axis=1))
    np.testing.assert_allclose(out.max(axis=1), 1.0 - 4 * floor, rtol=0, atol=1e-12)


@pytest.mark.parametrize("model", ["annotator", "class_conditional"])
def test_long_forgetting_stream_with_underflowed_row_counts_saves(tmp_path, model):
    """Reproducer: partial_fit with forget (1e-200 here; 0.5 over about 1 100 one-row batches does
    the same) let the counts of old distinct rows underflow to 0; they stayed in the summary and
    ``save`` refused it ("rows.counts must be positive and finite")."""
    d = make_synthetic(40, 5, 2, coverage=0.5, random_state=0)
    lm = LabelModel(cardinality=2, model=model, forget=1e-200, refit_growth="always")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for i in range(4):
            lm.partial_fit(d.L[10 * i : 10 * i + 10])
    assert np.all(lm.rows_.counts > 0)
    P = lm.predict_proba(d.L)
    assert np.all(np.isfinite(P))
    back = _roundtrip(lm, tmp_path / "m.json")
    np.testing.assert_allclose(back.predict_proba(d.L), P, rtol=0, atol=1e-12)


@pytest.mark.parametrize("where", ["fit", "constructor"])
def test_subnormal_class_balance_is_refused_up_front(tmp_path, where):
    """Reproducer: class_balance=[5e-324, 0.5, 0.5] fitted, but ``save`` refused the model (a model
    file keeps its prior at or above 1e-300); now a ValueError at the fit names the class."""
    d = make_synthetic(100, 5, 3, coverage=0.5, random_state=0)
    p = [5e-324, 0.5, 0.5]
    with pytest.raises(ValueError, match=r"class_balance is 4\.94e-324 for class 0, below 1e-300"):
        if where == "fit":
            LabelModel(cardinality=3).fit(d.L, class_balance=p)
        else:
            LabelModel(cardinality=3, class_balance=p).fit(d.L)
    # 1e-300 itself is kept, and saved
    lm = _quiet_fit(3, d.L, class_balance=[1e-300, 0.5, 0.5])
    back = _roundtrip(lm, tmp_path / "m.json")
    np.testing.assert_allclose(back.predict_proba(d.L), lm.predict_proba(d.L), rtol=0, atol=1e-12)


def test_class_conditional_on_identical_full_coverage_lfs_beyond_the_dense_eigh():
    """Reproducer: 500 identical copies of an LF voting on every row (m k = 1000, past the dense
    eigh's 600, so Lanczos runs) raised scipy's ArpackError ("Starting vector is zero"): the start
    vector of ones lies in the null space of the covariance of LFs that always vote."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    lf = np.where(rng.random(500) < 0.9, y, 1 - y)
    L = np.repeat(lf[:, None], 500, axis=1)
    lm = _quiet_fit(2, L, model="class_conditional")
    P = lm.predict_proba(L)
    assert np.all(np.isfinite(P)) and P.min() >= 0.0
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(P.argmax(axis=1), lf)  # every LF is the same vote
