"""Every accepted input form gives the same statistics (exact counts) and the same posteriors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import EPS32, EPS64, assert_close_sums

from tripletws import LabelModel, LabelStats, compute_stats, merge_stats, to_sparse
from tripletws.datasets import make_synthetic

N, M = 3_000, 6


def assert_same_stats(a: LabelStats, b: LabelStats) -> None:
    assert a.cardinality == b.cardinality
    assert a.n_rows == b.n_rows
    for name in ("class_counts", "covote", "agree"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    if a.joint is not None or b.joint is not None:
        np.testing.assert_array_equal(a.joint, b.joint, err_msg="joint")


def naive_stats(L: np.ndarray, k: int) -> LabelStats:
    """Counts by explicit comparisons (the definition)."""
    V = (L >= 0).astype(np.int64)
    counts = np.stack([(L == c).sum(axis=0) for c in range(k)], axis=1)
    agree = sum((L == c).astype(np.int64).T @ (L == c).astype(np.int64) for c in range(k))
    joint = np.einsum("nia,njb->iajb", *(2 * [np.stack([L == c for c in range(k)], axis=2).astype(np.int64)]))
    return LabelStats(
        k, float(len(L)), counts.astype(float), (V.T @ V).astype(float), agree.astype(float), joint
    )


@pytest.fixture(params=[2, 3], ids=["k2", "k3"])
def data(request):
    return make_synthetic(N, M, request.param, coverage=0.4, random_state=request.param)


def variants(L: np.ndarray, k: int, tmp_path) -> dict[str, object]:
    import scipy.sparse as sp

    try:  # an optional extra: the DataFrame form is checked where pandas is installed
        import pandas as pd
    except ImportError:
        pd = None
    names = [f"lf{j}" for j in range(L.shape[1])]

    mm = np.lib.format.open_memmap(tmp_path / "L.npy", mode="w+", dtype=np.int8, shape=L.shape)
    mm[:] = L
    mm.flush()
    readonly = np.load(tmp_path / "L.npy", mmap_mode="r")
    csr = to_sparse(L, k)
    return {
        "int8": L.astype(np.int8),
        "int16": L.astype(np.int16),
        "int64": L.astype(np.int64),
        "float64": L.astype(np.float64),
        "fortran": np.asfortranarray(L.astype(np.int32)),
        "list": L.tolist(),
        **({} if pd is None else {"dataframe": pd.DataFrame(L, columns=names)}),
        "memmap_w": mm,
        "memmap_r": readonly,
        "csr_array": csr,
        "csc_matrix": sp.csc_matrix(csr),
        "coo_array": sp.coo_array(csr),
    }


def test_stats_match_definition(data) -> None:
    k = len(data.class_balance)
    assert_same_stats(compute_stats(data.L, k, joint=True), naive_stats(data.L.astype(np.int64), k))


def test_all_input_forms_same_stats_and_posteriors(data, tmp_path) -> None:
    k = len(data.class_balance)
    ref_stats = compute_stats(data.L, k, joint=True)
    model = LabelModel(cardinality=k).fit(data.L)
    ref_probs = model.predict_proba(data.L)
    for name, L in variants(data.L, k, tmp_path).items():
        assert_same_stats(compute_stats(L, k, joint=True), ref_stats)
        refit = LabelModel(cardinality=k).fit(L)
        # identical integer statistics; the solve may still round differently (BLAS kernels)
        assert_close_sums(refit.accuracies_, model.accuracies_, n_terms=M, scale=1.0, err_msg=name)
        probs = model.predict_proba(L)
        # the dense binary path accumulates log-odds in float32; sparse input sums in float64
        eps = EPS32 if k == 2 else EPS64
        assert_close_sums(probs, ref_probs, n_terms=M, eps=eps, err_msg=name)


@pytest.mark.parametrize("chunk_size", [1, 7, 256, N - 1, N, 10 * N])
def test_chunk_size_does_not_change_anything(data, chunk_size) -> None:
    k = len(data.class_balance)
    L = data.L[:600] if chunk_size == 1 else data.L  # chunk_size 1 = one Python step per row
    ref = compute_stats(L, k, joint=True)
    assert_same_stats(compute_stats(L, k, joint=True, chunk_size=chunk_size), ref)
    assert_same_stats(compute_stats(to_sparse(L, k), k, joint=True, chunk_size=chunk_size), ref)
    base = LabelModel(cardinality=k).fit(L)
    chunked = LabelModel(cardinality=k, chunk_size=chunk_size).fit(L)
    assert_close_sums(chunked.accuracies_, base.accuracies_, n_terms=M, scale=1.0)
    # k = 2 dense inference is a float32 BLAS product whose rounding depends on the block
    # shape (BLAS kernels treat short blocks differently): equal to float32 resolution.
    atol = 1e-6 if k == 2 else 1e-12
    np.testing.assert_allclose(chunked.predict_proba(L), base.predict_proba(L), rtol=0, atol=atol)


@pytest.mark.parametrize("k", [2, 3])
def test_a_chunk_without_votes_before_chunks_with_votes(k) -> None:
    # 40 LFs voting on under 10 % of the cells take the pairs-of-votes path; a chunk without a vote
    # gave integer co-vote counts, and adding the next chunk's float counts into them raised a cast
    # error (a robustness sweep's two-row matrix whose first row is all abstentions, chunk_size=1)
    rng = np.random.default_rng(7)
    L = np.full((60, 40), -1)
    voted = rng.random(L.shape) < 0.06
    L[voted] = rng.integers(0, k, size=int(voted.sum()))
    L[[0, 1, 30]] = -1  # chunks without a vote first and in the middle
    L[2, :3] = [0, 0, 1 % k]
    ref = compute_stats(L, k)
    for chunk_size in (1, 2, 31):
        assert_same_stats(compute_stats(L, k, chunk_size=chunk_size), ref)
        chunked = LabelModel(cardinality=k, chunk_size=chunk_size).fit(L)
        assert chunked.predict_proba(L).shape == (60, k)


def test_merged_parts_equal_whole(data) -> None:
    k = len(data.class_balance)
    L = data.L
    whole = compute_stats(L, k, joint=True)
    half = N // 2 + 17
    assert_same_stats(compute_stats(L[:half], k, joint=True) + compute_stats(L[half:], k, joint=True), whole)
    cuts = [0, 5, 1000, 1001, 2500, N]
    parts = [compute_stats(to_sparse(L[a:b], k), k, joint=True) for a, b in itertools.pairwise(cuts)]
    assert_same_stats(merge_stats(parts), whole)
    acc = LabelStats.zeros(M, k, joint=True)
    for p in parts:
        acc += p
    assert_same_stats(acc, whole)
    # the model fitted from merged statistics is the model fitted on the whole matrix
    parts = [compute_stats(P, k, joint=True, triple=True) for P in (L[:half], L[half:])]
    merged_fit = LabelModel(cardinality=k, model="class_conditional").fit_stats(parts[0] + parts[1])
    assert_close_sums(
        merged_fit.accuracies_,
        LabelModel(cardinality=k, model="class_conditional").fit(L).accuracies_,
        M,
        scale=1.0,
    )
    sym = LabelModel(cardinality=k, model="symmetric")
    merged_sym = sym.fit_stats(compute_stats(L[:half], k) + compute_stats(L[half:], k)).accuracies_
    whole_sym = LabelModel(cardinality=k, model="symmetric").fit(L).accuracies_
    assert_close_sums(merged_sym, whole_sym, n_terms=M, scale=1.0)


def test_stats_dict_round_trip(data) -> None:
    k = len(data.class_balance)
    stats = compute_stats(data.L, k, joint=True)
    assert_same_stats(LabelStats.from_dict(stats.to_dict()), stats)


def test_int8_never_overflows() -> None:
    """Counts beyond 127 from an int8 matrix (all LFs agree on every row)."""
    L = np.ones((1000, 4), dtype=np.int8)
    L[::2] = 0
    stats = compute_stats(L, 2)
    np.testing.assert_array_equal(stats.agree, np.full((4, 4), 1000.0))
    np.testing.assert_array_equal(stats.class_counts, np.full((4, 2), 500.0))


def test_pandas_nullable_integer_columns(data) -> None:
    pd = pytest.importorskip("pandas")
    k = len(data.class_balance)
    df = pd.DataFrame({f"lf{i}": pd.array(data.L[:, i], dtype="Int64") for i in range(M)})
    assert_same_stats(compute_stats(df, k), compute_stats(data.L, k))
    df.iloc[4, 2] = pd.NA
    with pytest.raises(ValueError, match=r"NaN in column 2 \(row 4\)"):
        compute_stats(df, k)
    with pytest.raises(ValueError, match="must hold integers"):
        compute_stats(pd.DataFrame({"a": ["x", "y"], "b": [0, 1], "c": [1, 1]}), k)
