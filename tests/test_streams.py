"""partial_fit over any batching equals one fit (issue 9.3), also from several threads."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

from tripletws import LabelModel
from tripletws.datasets import make_synthetic
from tripletws.matrix import check_label_matrix
from tripletws.rows import RowSummary

hypothesis = pytest.importorskip("hypothesis")
st = pytest.importorskip("hypothesis.strategies")


def _with_copied_lf(n: int, seed: int) -> np.ndarray:
    """The reproducer of the issue: unipolar LFs plus an exact copy of LF 0 (breaks independence)."""
    d = make_synthetic(n, 6, 2, unipolar=0.5, random_state=seed)
    return np.column_stack([d.L, d.L[:, 0]])


def _stream(L: np.ndarray, cuts: list[int], **kwargs) -> LabelModel:
    model = LabelModel(**{"model": "class_conditional", **kwargs})
    for part in np.split(L, sorted(set(cuts))):
        if len(part):
            model.partial_fit(part)
    return model.refit()  # a model that spaces its solves (refit_growth) solves the last batches now


def _fit(L: np.ndarray, **kwargs) -> LabelModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LabelModel(**{"model": "class_conditional", **kwargs}).fit(L)


def assert_same_solution(a: LabelModel, b: LabelModel, L: np.ndarray) -> None:
    """Integer statistics are equal exactly; parameters and posteriors to rounding of the same solve."""
    for name in ("class_counts", "covote", "agree", "joint", "triple"):
        np.testing.assert_array_equal(getattr(a.stats_, name), getattr(b.stats_, name), err_msg=name)
    assert (a.rows_ is None) == (b.rows_ is None)
    if a.rows_ is not None:
        np.testing.assert_array_equal(a.rows_.rows, b.rows_.rows)
        np.testing.assert_array_equal(a.rows_.counts, b.rows_.counts)
    da, db = a.solution_.diagnostics, b.solution_.diagnostics
    assert {k: v for k, v in da.items() if isinstance(v, str)} == {
        k: v for k, v in db.items() if isinstance(v, str)
    }
    np.testing.assert_allclose(a.params_.cond_probs, b.params_.cond_probs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.predict_proba(L), b.predict_proba(L), rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", [33, 34, 35])
def test_forty_batches_equal_one_fit_on_the_reproducer(seed):
    L = _with_copied_lf(4000, seed)
    one = _fit(L)
    streamed = _stream(L, list(range(100, 4000, 100)))
    assert_same_solution(streamed, one, L)
    assert streamed.overrule_rate_ == pytest.approx(one.overrule_rate_, abs=1e-12)


@hypothesis.settings(max_examples=15, deadline=None, derandomize=True)
@hypothesis.given(
    cuts=st.lists(st.integers(1, 2999), max_size=12),
    em=st.sampled_from([0, 3]),
    chunk=st.sampled_from([None, 257]),
)
def test_any_batching_equals_one_fit(cuts, em, chunk):
    L = _with_copied_lf(3000, 36)
    kwargs = {"em_steps": em, "chunk_size": chunk}
    assert_same_solution(_stream(L, cuts, **kwargs), _fit(L, **kwargs), L)


@pytest.mark.parametrize("model", ["annotator", "symmetric"])
def test_other_models_streamed_equal_one_fit(model):
    L = _with_copied_lf(3000, 40)
    cuts = [150, 900, 901, 2500]
    assert_same_solution(_stream(L, cuts, model=model), _fit(L, model=model), L)


@hypothesis.settings(max_examples=20, deadline=None, derandomize=True)
@hypothesis.given(cuts=st.lists(st.integers(1, 5999), max_size=10), cap=st.integers(50, 400))
def test_capped_row_summaries_do_not_depend_on_the_batching(cuts, cap):
    d = make_synthetic(6000, 12, 3, coverage=0.5, random_state=37)
    whole = RowSummary.from_matrix(check_label_matrix(d.L, 3), cap, chunk_size=500)
    parts = [p for p in np.split(d.L, sorted(set(cuts))) if len(p)]
    summed = RowSummary.from_matrix(check_label_matrix(parts[0], 3), cap)
    for p in parts[1:]:
        summed = summed + RowSummary.from_matrix(check_label_matrix(p, 3), cap)
    assert whole.level > 0 and whole.n_unique <= cap  # the cap was hit: a sample is kept
    assert (summed.level, summed.n_rows) == (whole.level, whole.n_rows)
    np.testing.assert_array_equal(summed.rows, whole.rows)
    np.testing.assert_array_equal(summed.counts, whole.counts)


def test_windowed_row_summary_subtracts_exactly():
    d = make_synthetic(3000, 8, 2, random_state=38)
    lm = [check_label_matrix(p, 2) for p in np.split(d.L, [1000, 2000])]
    a, b, c = (RowSummary.from_matrix(x, 10_000) for x in lm)
    left = (a + b + c) - a
    want = b + c
    np.testing.assert_array_equal(left.rows, want.rows)
    np.testing.assert_array_equal(left.counts, want.counts)
    with pytest.raises(ValueError, match="negative count"):
        a - b


def test_partial_fit_from_four_threads_keeps_every_row():
    d = make_synthetic(8000, 6, 2, random_state=39)
    parts = np.split(d.L, 4)
    model = LabelModel(model="symmetric")
    errors = []

    def feed(part: np.ndarray) -> None:
        try:
            for block in np.split(part, 4):
                model.partial_fit(block)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=feed, args=(p,)) for p in parts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert model.stats_.n_rows == 8000 and model.n_batches_ == 16
    np.testing.assert_array_equal(model.stats_.covote, _fit(d.L, model="symmetric").stats_.covote)
