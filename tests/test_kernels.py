"""The optimised chunk kernels give exactly the statistics of a plain one-hot reference."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import EPS32, EPS64, assert_close_sums

from tripletws import stats as stats_mod
from tripletws.inference import log_scores, posterior
from tripletws.matrix import check_label_matrix, to_sparse
from tripletws.params import LabelModelParams
from tripletws.stats import block_stats, compute_stats


def naive_stats(L: np.ndarray, k: int, triple: bool = True) -> dict[str, np.ndarray]:
    """Integer one-hot reference: X[r, i, c] = [L[r, i] == c]."""
    X = (np.asarray(L, dtype=np.int64)[:, :, None] == np.arange(k)).astype(np.int64)
    V = X.sum(axis=2)
    z = np.hstack([X.sum(axis=1), np.ones((len(L), 1), np.int64)])  # pooled votes per class, 1
    return {
        "class_counts": X.sum(axis=0),
        "covote": V.T @ V,
        "agree": sum(X[:, :, c].T @ X[:, :, c] for c in range(k)),
        "joint": np.einsum("ria,rjb->iajb", X, X) if triple else None,
        "triple": np.einsum("ra,rb,rc->abc", z, z, z) if triple else None,
    }


def random_matrix(rng, n: int, m: int, k: int, abstain: float = 0.4, dtype=np.int8) -> np.ndarray:
    L = rng.integers(0, k, size=(n, m))
    L[rng.random((n, m)) < abstain] = -1
    return L.astype(dtype)


def assert_exact(st, ref, joint: bool, triple: bool = False) -> None:
    names = (
        ("class_counts", "covote", "agree") + (("joint",) if joint else ()) + (("triple",) if triple else ())
    )
    for name in names:
        got = getattr(st, name)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, ref[name], err_msg=name)


@pytest.mark.parametrize("k", [2, 3, 5, 7])
@pytest.mark.parametrize("joint", [False, True])
@pytest.mark.parametrize("chunk_size", [None, 1, 7, 64])
def test_dense_kernels_match_reference(k, joint, chunk_size):
    rng = np.random.default_rng(100 * k + (chunk_size or 0))
    L = random_matrix(rng, 203, 7, k)
    st = compute_stats(L, k, joint=joint, triple=joint, chunk_size=chunk_size)
    assert st.n_rows == 203
    assert_exact(st, naive_stats(L, k), joint, triple=joint)


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.int64, np.uint8, np.uint16])
@pytest.mark.parametrize("k", [2, 4])
def test_input_dtypes(dtype, k):
    rng = np.random.default_rng(7)
    unsigned = np.dtype(dtype).kind == "u"
    L = random_matrix(rng, 150, 5, k, abstain=0.0 if unsigned else 0.3, dtype=dtype)
    assert_exact(compute_stats(L, k, joint=True, chunk_size=32), naive_stats(L, k), joint=True)


def test_all_abstain_and_all_vote_columns():
    rng = np.random.default_rng(3)
    L = random_matrix(rng, 120, 5, 2)
    L[:, 0] = -1
    L[:, 1] = 1
    L[:, 2] = 0
    assert_exact(compute_stats(L, 2, joint=True, chunk_size=50), naive_stats(L, 2), joint=True)


@pytest.mark.parametrize("k", [127, 128])
def test_int8_extreme_classes(k):
    """Classes up to 127 stay in int8; every class value takes part."""
    rng = np.random.default_rng(k)
    L = random_matrix(rng, 400, 4, k, abstain=0.2)
    L[0, :] = k - 1
    L[1, :] = -1
    st = compute_stats(L, k, chunk_size=97)
    assert_exact(st, naive_stats(L, k, triple=False), joint=False)


def test_wide_cardinality_int16():
    rng = np.random.default_rng(11)
    k = 300
    L = random_matrix(rng, 200, 4, k, abstain=0.2, dtype=np.int16)
    assert_exact(compute_stats(L, k, chunk_size=64), naive_stats(L, k, triple=False), joint=False)
    L8 = random_matrix(rng, 200, 4, 120, abstain=0.2)  # int8 input, k > 128 classes
    assert_exact(compute_stats(L8, k), naive_stats(L8, k, triple=False), joint=False)


@pytest.mark.parametrize("bad", [-128, 127, 2, -2])
def test_int8_extreme_values_rejected(bad):
    L = np.zeros((50, 4), dtype=np.int8)
    L[37, 2] = bad
    with pytest.raises(ValueError, match="column 2"):
        compute_stats(L, 2, chunk_size=16)


def test_split_above_exact_rows(monkeypatch):
    """Blocks longer than the float32-exact limit are split (limit lowered to test it)."""
    monkeypatch.setattr(stats_mod, "MAX_EXACT_ROWS", 13)
    rng = np.random.default_rng(5)
    for k in (2, 3):
        L = random_matrix(rng, 100, 4, k)
        assert_exact(block_stats(L, k, joint=True), naive_stats(L, k), joint=True)


@pytest.mark.parametrize("k", [2, 5])
def test_sparse_and_memmap_match_reference(k, tmp_path):
    rng = np.random.default_rng(21 + k)
    L = random_matrix(rng, 300, 7, k, abstain=0.8)
    ref = naive_stats(L, k)
    assert_exact(compute_stats(to_sparse(L, k), k, joint=True, triple=True, chunk_size=41), ref, True, True)
    np.save(tmp_path / "L.npy", L)
    mm = np.load(tmp_path / "L.npy", mmap_mode="r")
    assert_exact(compute_stats(mm, k, joint=True, triple=True, chunk_size=41), ref, joint=True, triple=True)
    assert_exact(compute_stats(mm[:, 1:6], k, chunk_size=29), naive_stats(L[:, 1:6], k), joint=False)
    np.testing.assert_array_equal(mm, L)  # still readable after the pass released its pages


def naive_posterior(L: np.ndarray, params: LabelModelParams) -> np.ndarray:
    """P(Y | votes) from the conditional table, one LF at a time, in float64."""
    cp = params.cond_probs
    logp = np.log(params.class_balance)[None, :].repeat(len(L), axis=0)
    for i in range(L.shape[1]):
        logp += np.log(cp[i, L[:, i] + 1, :])
    logp -= logp.max(axis=1, keepdims=True)
    p = np.exp(logp)
    return p / p.sum(axis=1, keepdims=True)


def random_params(rng, m: int, k: int, symmetric: bool) -> LabelModelParams:
    prior = rng.dirichlet(np.full(k, 3.0))
    if symmetric:
        return LabelModelParams.symmetric(rng.uniform(0.55, 0.95, m), rng.uniform(0.2, 0.9, m), prior)
    cp = rng.dirichlet(np.ones(k + 1), size=(m, k)).transpose(0, 2, 1)  # (m, k + 1, k)
    return LabelModelParams(prior, cp)


@pytest.mark.parametrize("k", [2, 5])
@pytest.mark.parametrize("symmetric", [True, False])
def test_posterior_matches_reference(k, symmetric):
    rng = np.random.default_rng(31 * k + symmetric)
    m = 9
    L = random_matrix(rng, 257, m, k)
    params = random_params(rng, m, k, symmetric)
    ref = naive_posterior(L, params)
    # float32 accumulation of at most m log-odds terms: relative error ~ m * 2**-24 of the logit.
    lm = check_label_matrix(L, k)
    for chunk in (None, 1, 50):
        got = posterior(lm, params, chunk)
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-5)
        np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # chunking changes a row's result by rounding only (BLAS kernels sum blocks in their own order)
    eps = EPS32 if k == 2 else EPS64
    assert_close_sums(posterior(lm, params, 50), posterior(lm, params, 7), n_terms=m, eps=eps)
    sparse = posterior(check_label_matrix(to_sparse(L, k), k), params, 64)
    np.testing.assert_allclose(sparse, ref, rtol=0, atol=1e-5)
    scores = log_scores(lm, params)
    scores -= scores.max(axis=1, keepdims=True)
    np.testing.assert_allclose(np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True), ref, atol=1e-5)


def test_page_release_only_for_read_only_mappings(tmp_path):
    from tripletws.matrix import _PageRelease

    L = np.zeros((64, 3), dtype=np.int8)
    np.save(tmp_path / "L.npy", L)
    assert _PageRelease.of(L) is None
    assert _PageRelease.of(np.load(tmp_path / "L.npy", mmap_mode="r")) is not None
    assert _PageRelease.of(np.load(tmp_path / "L.npy", mmap_mode="r")[5:9, 1:]) is not None
    for mode in ("c", "r+"):  # dropping pages of a writable mapping could lose changes
        assert _PageRelease.of(np.load(tmp_path / "L.npy", mmap_mode=mode)) is None


def _rss_file_kb() -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("RssFile:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


@pytest.mark.skipif(_rss_file_kb() is None, reason="needs Linux /proc/self/status RssFile")
def test_memmap_pass_keeps_resident_memory_low(tmp_path):
    """A read-only memmap read chunk by chunk leaves at most a few chunks resident."""
    n, m = 1 << 20, 16  # 16 MiB of int8
    L = np.lib.format.open_memmap(tmp_path / "L.npy", mode="w+", dtype=np.int8, shape=(n, m))
    L[:] = np.tile(np.array([-1, 0, 1, 1], dtype=np.int8), (n, m // 4))
    L.flush()
    del L
    mm = np.load(tmp_path / "L.npy", mmap_mode="r")
    before = _rss_file_kb()
    st = compute_stats(mm, 2, chunk_size=1 << 14)  # 256 KiB chunks
    grown = _rss_file_kb() - before
    assert st.n_rows == n and st.covote[0, 0] == 0 and st.class_counts[1, 0] == n
    assert grown < 4 * 1024, f"resident file pages grew by {grown} KiB for a 16 MiB matrix"
    rows = np.linspace(0, n - 1, 5000).astype(np.int64)  # a sample spread over the whole file
    sample = check_label_matrix(mm, 2).take_rows(rows)
    assert _rss_file_kb() - before < 4 * 1024
    np.testing.assert_array_equal(sample.data, np.asarray(mm[rows]))
    # without releasing, the whole file stays mapped in: the checks above can fail
    assert _rss_file_kb() - before > 12 * 1024  # (the plain gather just above mapped it in)


@pytest.mark.parametrize("k", [2, 3, 5])
def test_conversion_in_steps_within_a_chunk(k, monkeypatch):
    """Chunks larger than one conversion step (step lowered to 10 rows here) give the same counts."""
    from tripletws import kernels

    monkeypatch.setattr(kernels, "CONVERT_CELLS", 60)
    rng = np.random.default_rng(77 + k)
    L = random_matrix(rng, 205, 6, k)
    assert_exact(compute_stats(L, k, chunk_size=64), naive_stats(L, k), joint=False)
    params = random_params(rng, 6, k, symmetric=True)
    np.testing.assert_allclose(
        posterior(check_label_matrix(L, k), params, 64), naive_posterior(L, params), rtol=0, atol=1e-5
    )


@pytest.mark.parametrize("k", [2, 3, 7])
def test_column_argmax_matches_numpy(k):
    from tripletws.checks import _column_argmax

    x = np.random.default_rng(k).integers(0, 4, size=(3000, k)).astype(float)  # many ties
    top, arg, n_top = _column_argmax(x)
    np.testing.assert_array_equal(top, x.max(axis=1))
    np.testing.assert_array_equal(arg, x.argmax(axis=1))
    np.testing.assert_array_equal(n_top, (x == x.max(axis=1, keepdims=True)).sum(axis=1))


def test_vote_counts_match_reference():
    from tripletws.baselines import vote_counts

    rng = np.random.default_rng(9)
    for k in (2, 5):
        L = random_matrix(rng, 500, 9, k)
        ref = (L[:, :, None] == np.arange(k)).sum(axis=1)
        np.testing.assert_array_equal(vote_counts(L, k, chunk_size=77), ref)
        np.testing.assert_array_equal(vote_counts(to_sparse(L, k), k, chunk_size=77), ref)


@pytest.mark.parametrize("shape", [(0, 5), (4, 0), (1, 1), (37, 53)])
def test_cells_are_the_nonzero_of_a_mask(shape):
    from tripletws.kernels import cells

    rng = np.random.default_rng(sum(shape))
    mask = rng.random(shape) < 0.3
    rows, cols = cells(mask)
    want_rows, want_cols = np.nonzero(mask)
    assert rows.dtype == cols.dtype == np.int64
    np.testing.assert_array_equal(rows, want_rows)
    np.testing.assert_array_equal(cols, want_cols)
    rows, cols = cells(mask[:, ::2])  # a strided view: the same row-major order
    np.testing.assert_array_equal(np.stack([rows, cols]), np.stack(np.nonzero(mask[:, ::2])))


@pytest.mark.skipif(_rss_file_kb() is None, reason="needs Linux /proc/self/status RssFile")
def test_memmap_pass_on_threads_keeps_resident_memory_low(tmp_path):
    """Pages are released behind the chunks done on every thread (in runs), not left mapped."""
    from tripletws.parallel import map_chunks

    n, m = 1 << 20, 16  # 16 MiB of int8
    L = np.lib.format.open_memmap(tmp_path / "L.npy", mode="w+", dtype=np.int8, shape=(n, m))
    L[:] = np.tile(np.array([-1, 0, 1, 1], dtype=np.int8), (n, m // 4))
    L.flush()
    del L
    lm = check_label_matrix(np.load(tmp_path / "L.npy", mmap_mode="r"), 2)
    before = _rss_file_kb()
    peak = [0]

    def work(acc, start, block, ws):
        acc.append(int(np.count_nonzero(block == 1)))
        peak[0] = max(peak[0], _rss_file_kb() - before)

    accs = map_chunks(lm, 1 << 14, 2, work, list)  # 256 KiB chunks on two threads
    assert sum(sum(a) for a in accs) == n * m // 2
    assert peak[0] < 6 * 1024, f"resident file pages grew by up to {peak[0]} KiB for a 16 MiB matrix"
    assert _rss_file_kb() - before < 1024  # everything handed back at the end
