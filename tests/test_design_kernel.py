"""The compiled design products against scipy's: equal, bit for bit.

Every entry of the design is 1.0, so scipy's ``y += a * x`` adds ``x`` exactly, and both make the
same additions in the same order (a row's entries in stored order; a column's rows in increasing
order, as ``X.T.tocsr()`` lists them): equality is the tolerance this arithmetic gives, and the
claim the kernels are used under (a fit's results do not depend on numba being installed).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from tripletws import parallel
from tripletws.estimators import annotator as A
from tripletws.estimators import annotator_design as AD
from tripletws.estimators import em_jit
from tripletws.rows import RowSummary

pytest.importorskip("numba")


def _design(R: int, m: int, k: int, coverage: float, seed: int) -> tuple[np.ndarray, sp.csr_matrix]:
    rng = np.random.default_rng(seed)
    rows = np.where(rng.random((R, m)) < coverage, rng.integers(0, k, (R, m)), -1)
    r, i = np.nonzero(rows >= 0)
    X = sp.csr_matrix((np.ones(len(r)), (r, i * (k + 1) + rows[r, i] + 1)), shape=(R, m * (k + 1)))
    return rows, X


@pytest.mark.parametrize("c", [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 24])
def test_kernels_equal_scipys_products(c):
    from tripletws.estimators import _design_kernel as K

    _, X = _design(3_000, 40, 2, 0.5, seed=c)
    rng = np.random.default_rng(c)
    flat = rng.normal(size=(X.shape[1], c)) * 10.0 ** rng.integers(-3, 4, size=(X.shape[1], c))
    out = np.empty((c, X.shape[0]))
    K.sums_t(X.indptr, X.indices, flat, out)
    np.testing.assert_array_equal(out, (X @ flat).T)
    W = rng.random((2 * c, X.shape[0] + 7))[::2, 3:-4]  # a strided view, as a row block's weights are
    N = np.empty((X.shape[1], c))
    K.scatter_counts(X.indptr, X.indices, W, N)
    np.testing.assert_array_equal(N, X.T.tocsr() @ W.T)
    # into a strided output (a row block's columns of the whole array)
    wide = np.full((c, X.shape[0] + 5), np.nan)
    K.sums_t(X.indptr, X.indices, flat, wide[:, 2:-3])
    np.testing.assert_array_equal(wide[:, 2:-3], out)


def _rows(R: int, m: int, k: int, coverage: float, seed: int) -> RowSummary:
    rows, _ = _design(R, m, k, coverage, seed)
    rows, counts = np.unique(rows.astype(np.int8), axis=0, return_counts=True)
    return RowSummary(k, rows, counts.astype(np.float64), float(counts.sum()), 10**6)


def _fits(unique: RowSummary, jobs: int) -> list:
    """The design's products and two numpy EM batches (vote-only and informative readings)."""
    k = unique.cardinality
    out = []
    with parallel.solve_threads(jobs):
        for abstain, fams in ((False, ["mv", "one_coin", "mace"]), (True, ["mace_abstain", "ds_abstain"])):
            D = AD._Design(unique.rows, k, abstain=abstain)
            assert len(D.pos) >= AD.KERNEL_NNZ and not D.dense
            assert bool(D._blocks) == (jobs > 1)
            c = np.vstack([unique.counts, unique.counts * (np.arange(D.R) % 3 > 0)])
            start = AD.majority_soft_labels(unique.rows, k).T[:, None, :]
            out.append(D.observed(c))
            fit = A._em(
                D,
                [f for f in fams for _ in c],
                np.tile(c, (len(fams), 1)),
                start,
                max_steps=30,
                tol=A.EM_TOL,
                class_balance=None,
                params=False,
            )
            out += [fit.log_likelihood, fit.log_norm, fit.soft_labels, fit.n_steps]
    return out


@pytest.mark.parametrize("jobs", [1, 2])
def test_em_on_a_large_design_is_the_same_with_and_without_the_kernels(monkeypatch, jobs):
    unique = _rows(6_000, 40, 2, 0.5, seed=jobs)
    assert em_jit.design_kernels() is not None
    compiled = _fits(unique, jobs)
    monkeypatch.setenv(em_jit.JIT_ENV, "0")
    assert em_jit.design_kernels() is None
    plain = _fits(unique, jobs)
    for a, b in zip(compiled, plain, strict=True):
        np.testing.assert_array_equal(a, b)


def test_small_designs_keep_scipys_products():
    unique = _rows(300, 20, 2, 0.5, seed=0)
    D = AD._Design(unique.rows, 2, abstain=True)
    assert len(D.pos) < AD.KERNEL_NNZ and D._kernels is None


def test_a_large_fit_alone_does_not_load_numba(monkeypatch):
    """The kernels are used where numba is loaded already or TRIPLETWS_JIT asks for them."""
    import sys

    assert em_jit.design_kernels() is not None  # numba is loaded in this process
    monkeypatch.delitem(sys.modules, "numba")  # as in a process that never imported it
    monkeypatch.delenv(em_jit.JIT_ENV, raising=False)
    assert em_jit.design_kernels() is None
    monkeypatch.setenv(em_jit.JIT_ENV, "1")
    assert em_jit.design_kernels() is not None
    monkeypatch.setenv(em_jit.JIT_ENV, "off")
    assert em_jit.design_kernels() is None


def test_unseen_rows_compiled_equal_the_bincounts(monkeypatch):
    """The abstain check's unseen rows through the compiled sums (numba at hand) equal the bincounts'."""
    from tripletws.estimators import abstain_check as AC
    from tripletws.estimators.votes import summary_votes

    rng = np.random.default_rng(7)
    for _ in range(100):
        R, m, k = int(rng.integers(1, 60)), int(rng.integers(1, 12)), int(rng.integers(2, 6))
        rows = np.where(rng.random((R, m)) < rng.random(), rng.integers(0, k, (R, m)), -1)
        rows = np.unique(rows, axis=0)
        counts = rng.integers(1, 5, len(rows)).astype(float)
        unique = RowSummary(k, rows, counts, float(counts.sum()), len(rows))
        train = np.maximum(counts[None, :] - rng.integers(0, 3, (3, len(rows))), 0).astype(float)
        votes = summary_votes(unique)
        assert em_jit.design_kernels() is not None
        got = AC._unseen_rows(unique, train, votes)
        with monkeypatch.context() as mp:
            mp.setattr(AC, "design_kernels", lambda: None)
            ref = AC._unseen_rows(unique, train, votes)
        np.testing.assert_array_equal(got, ref)
