"""dependency_candidates' p-values and table from array operations: the same as the per-pair loop they
replaced (kept here as the reference), the p-values to about 1e-12 relative, the rest exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tripletws import LabelModel
from tripletws.datasets import make_synthetic
from tripletws.diagnostics import COLUMNS, _declared, _model_accuracies, _two_sided_p, dependency_candidates
from tripletws.stats import compute_stats

RTOL = 1e-12


def _reference(stats, model, *, alpha=0.05, min_covotes=10, include_declared=False, top=None):
    """The table as dependency_candidates built it with a Python loop over the pairs (before)."""
    alpha_lf = _model_accuracies(model)
    k = int(model.cardinality)
    m = stats.n_lfs
    b = (k * alpha_lf - 1.0) / (k - 1.0)
    N = stats.covote
    single = (stats.class_counts > 0).sum(axis=1) == 1
    declared = _declared(model, m)
    iu, ju = np.triu_indices(m, k=1)
    keep = (N[iu, ju] >= max(min_covotes, 1)) & ~(single[iu] & single[ju])
    if not include_declared:
        keep &= ~declared[iu, ju]
    iu, ju = iu[keep], ju[keep]
    n_co = N[iu, ju]
    observed = stats.agree[iu, ju] / n_co
    expected = np.clip((1.0 + (k - 1.0) * b[iu] * b[ju]) / k, 1e-12, 1.0 - 1e-12)
    se = np.sqrt(expected * (1.0 - expected) / n_co)
    z = (observed - expected) / se
    p = np.array([math.erfc(abs(v) / math.sqrt(2.0)) for v in z.tolist()])
    p_adj = np.minimum(1.0, p * max(len(z), 1))
    order = np.argsort(-z, kind="stable")
    if top is not None:
        order = order[:top]
    return [
        {
            "lf_i": int(iu[r]),
            "lf_j": int(ju[r]),
            "n_covotes": float(n_co[r]),
            "agreement": float(observed[r]),
            "expected": float(expected[r]),
            "excess": float(observed[r] - expected[r]),
            "z": float(z[r]),
            "p_value": float(p[r]),
            "p_adjusted": float(p_adj[r]),
            "suspect": bool(p_adj[r] < alpha),
            "declared": bool(declared[iu[r], ju[r]]),
        }
        for r in order
    ]


def _assert_same(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert list(g) == list(COLUMNS) == list(w)
        for name in COLUMNS:
            assert type(g[name]) is type(w[name]), name
            if name in ("p_value", "p_adjusted"):
                assert g[name] == pytest.approx(w[name], rel=RTOL, abs=0.0), name
            else:
                assert g[name] == w[name], name


def _copying(L, i, j, share, seed):
    """LF j copies LF i's vote on a ``share`` of the rows (an undeclared dependency)."""
    rng = np.random.default_rng(seed)
    L = L.copy()
    rows = rng.random(len(L)) < share
    L[rows, j] = L[rows, i]
    return L


def _cases():
    d = make_synthetic(3_000, 8, 2, coverage=0.6, random_state=1)
    yield "binary, one copy", _copying(d.L, 0, 1, 0.7, 1), 2
    d = make_synthetic(4_000, 12, 3, coverage=0.4, random_state=2)
    yield "k=3, two copies", _copying(_copying(d.L, 2, 5, 0.8, 2), 3, 9, 0.5, 3), 3
    # LFs 0-2 vote on the first half of the rows only, LFs 3-5 on the second: pairs with no co-votes
    d = make_synthetic(2_000, 6, 2, coverage=0.9, random_state=3)
    L = d.L.copy()
    L[1_000:, :3] = -1
    L[:1_000, 3:] = -1
    L[:, 6:] = -1
    yield "pairs with zero co-votes", np.hstack([L, d.L[:, :3]]), 2
    # k = 3 with class 2 never voted, and one-class LFs (pairs of two of them are skipped)
    d = make_synthetic(3_000, 7, 3, coverage=0.5, unipolar=0.4, random_state=4)
    L = d.L.copy()
    L[L == 2] = 0
    yield "one class never voted", L, 3
    # a strong copy on many rows: p-values far in the tail (subnormal, where erfc's differ most)
    d = make_synthetic(60_000, 5, 2, accuracies=0.6, coverage=0.95, random_state=5)
    yield "far tail", _copying(d.L, 0, 1, 0.9, 5), 2


CASES = list(_cases())


@pytest.mark.parametrize("name, L, k", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize(
    "options",
    [{}, {"min_covotes": 0}, {"min_covotes": 500, "top": 3}, {"include_declared": True, "alpha": 0.5}],
    ids=["default", "min0", "top", "declared"],
)
def test_table_equals_the_loop(name, L, k, options):
    model = LabelModel(k).fit(L, dependencies=[(0, 2)])
    stats = compute_stats(L, k)
    want = _reference(stats, model, **options)
    got = dependency_candidates(stats, model, as_frame=False, **options)
    _assert_same(got, want)
    # from the matrix, as from its statistics
    _assert_same(dependency_candidates(L, model, as_frame=False, **options), want)
    pd = pytest.importorskip("pandas")
    _assert_same_frame(dependency_candidates(stats, model, **options), want, pd)


def _assert_same_frame(got, want_rows, pd):
    want = pd.DataFrame(want_rows, columns=list(COLUMNS))
    exact = [c for c in COLUMNS if c not in ("p_value", "p_adjusted")]
    pd.testing.assert_frame_equal(got[exact], want[exact], check_exact=True)
    for col in ("p_value", "p_adjusted"):
        assert got[col].dtype == want[col].dtype
        np.testing.assert_allclose(got[col].to_numpy(), want[col].to_numpy(), rtol=RTOL, atol=0.0)


def test_frame_and_rows_without_pandas(monkeypatch):
    import sys

    _, L, k = CASES[1]
    model = LabelModel(k).fit(L)
    stats = compute_stats(L, k)
    want = _reference(stats, model, min_covotes=0)
    pd = pytest.importorskip("pandas")
    _assert_same_frame(dependency_candidates(stats, model, min_covotes=0, as_frame=True), want, pd)
    # no pair tested: the same empty frame (object columns) and no rows
    empty = dependency_candidates(stats, model, min_covotes=10**9)
    pd.testing.assert_frame_equal(empty, pd.DataFrame([], columns=list(COLUMNS)))
    assert dependency_candidates(stats, model, min_covotes=10**9, as_frame=False) == []
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas raises ImportError
    _assert_same(dependency_candidates(stats, model, min_covotes=0), want)
    with pytest.raises(ImportError, match="as_frame=True needs pandas"):
        dependency_candidates(stats, model, as_frame=True)


def test_p_values_equal_math_erfc_over_the_whole_range():
    z = np.concatenate([np.linspace(-40.0, 40.0, 80_001), [0.0, -0.0, 1e-300, np.inf, -np.inf, np.nan]])
    want = np.array([math.erfc(abs(v) / math.sqrt(2.0)) for v in z.tolist()])
    got = _two_sided_p(z)
    assert got.shape == want.shape and got.dtype == np.float64
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=RTOL, atol=0.0)
    tail = want < 2.3e-308  # subnormal: where scipy's erfc rounds to 0 first, math.erfc's value
    assert tail.sum() > 100
    np.testing.assert_array_equal(got[tail] == 0.0, want[tail] == 0.0)
    assert _two_sided_p(np.zeros(0)).shape == (0,)
