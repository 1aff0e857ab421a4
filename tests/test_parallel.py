"""Threaded chunk passes (n_jobs) and the BLAS thread limit give the serial results."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from conftest import assert_close_sums

from tripletws import LabelModel, parallel
from tripletws.datasets import make_synthetic
from tripletws.inference import posterior
from tripletws.matrix import check_label_matrix, to_sparse
from tripletws.parallel import (
    available_cpus,
    chunk_jobs,
    map_chunks,
    resolve_n_jobs,
    single_threaded_blas,
)
from tripletws.stats import compute_stats

JOBS = [1, 2, 3, -1, None]
CHUNK = 64  # rows per chunk: the 3000-row matrices below have 47 chunks, enough for 3 threads


def test_resolve_n_jobs_follows_scikit_learn():
    cpus = available_cpus()
    assert cpus >= 1
    assert resolve_n_jobs(1) == 1
    assert resolve_n_jobs(5) == 5
    assert resolve_n_jobs(np.int64(2)) == 2
    assert resolve_n_jobs(-1) == cpus
    assert 1 <= resolve_n_jobs(None) == min(cpus, parallel.MAX_AUTO_JOBS)
    if cpus >= 2:
        assert resolve_n_jobs(-2) == cpus - 1
    for bad in (0, 1.5, "2", True):
        with pytest.raises(ValueError, match="n_jobs"):
            resolve_n_jobs(bad)
    with pytest.raises(ValueError, match="no thread"):
        resolve_n_jobs(-cpus - 1)


def test_label_model_rejects_bad_n_jobs():
    L = make_synthetic(200, 5, 2, random_state=0).L
    with pytest.raises(ValueError, match="n_jobs must not be 0"):
        LabelModel(n_jobs=0).fit(L)
    assert LabelModel(n_jobs=2).get_params()["n_jobs"] == 2


def test_small_inputs_stay_on_the_calling_thread():
    lm = check_label_matrix(np.zeros((100, 4), dtype=np.int8), 2)
    assert chunk_jobs(lm, None, 4) == 1  # one chunk
    lm = check_label_matrix(np.zeros((64 * 8, 4), dtype=np.int8), 2)
    assert chunk_jobs(lm, 64, 8) == 2  # 8 chunks: at most one thread per MIN_CHUNKS_PER_JOB
    assert chunk_jobs(lm, 64, 1) == 1


def test_map_chunks_visits_every_chunk_once_on_several_threads():
    n, step = 3000, 64
    lm = check_label_matrix(np.zeros((n, 3), dtype=np.int8), 2)

    def work(acc, start, block, ws):
        acc.append((start, len(block), threading.get_ident()))

    accs = map_chunks(lm, step, 3, work, list)
    assert len(accs) == 3
    seen = sorted(item for acc in accs for item in acc)
    assert [s for s, _, _ in seen] == list(range(0, n, step))
    assert sum(size for _, size, _ in seen) == n
    # each accumulator belongs to one thread
    assert all(len({t for _, _, t in acc}) <= 1 for acc in accs)


def _inputs(k: int, tmp_path):
    data = make_synthetic(3000, 9, k, random_state=10 + k)
    L = data.L.astype(np.int8)
    np.save(tmp_path / f"L{k}.npy", L)
    return {
        "array": L,
        "memmap": np.load(tmp_path / f"L{k}.npy", mmap_mode="r"),
        "sparse": to_sparse(L, k),
    }


@pytest.mark.parametrize("k", [2, 3])
def test_statistics_do_not_depend_on_n_jobs(k, tmp_path):
    for name, L in _inputs(k, tmp_path).items():
        ref = compute_stats(L, k, joint=True, triple=True, chunk_size=CHUNK, n_jobs=1)
        for jobs in JOBS[1:]:
            got = compute_stats(L, k, joint=True, triple=True, chunk_size=CHUNK, n_jobs=jobs)
            # every statistic is a sum of whole numbers, exact in float64 in any order
            for field in ("class_counts", "covote", "agree", "joint", "triple"):
                np.testing.assert_array_equal(
                    getattr(got, field), getattr(ref, field), err_msg=f"{name} {field} n_jobs={jobs}"
                )
            assert got.n_rows == ref.n_rows == 3000


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("dependencies", [None, [(0, 3)]])
def test_fit_and_posteriors_do_not_depend_on_n_jobs(k, dependencies, tmp_path):
    for name, L in _inputs(k, tmp_path).items():
        ref = LabelModel(cardinality=k, chunk_size=CHUNK, n_jobs=1).fit(L, dependencies=dependencies)
        ref_probs = ref.predict_proba(L)
        for jobs in JOBS[1:]:
            model = LabelModel(cardinality=k, chunk_size=CHUNK, n_jobs=jobs).fit(L, dependencies=dependencies)
            np.testing.assert_allclose(model.params_.cond_probs, ref.params_.cond_probs, rtol=0, atol=1e-10)
            probs = model.predict_proba(L)
            np.testing.assert_allclose(probs, ref_probs, rtol=0, atol=1e-10, err_msg=f"{name} n_jobs={jobs}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_row_alone_scores_as_in_a_batch(dtype, monkeypatch):
    """A row's posterior depends on the rows scored with it by rounding of the log-odds type only."""
    from tripletws import inference

    monkeypatch.setattr(inference, "LOGIT_DTYPE", np.dtype(dtype).type)
    data = make_synthetic(2000, 40, 2, random_state=3)
    model = LabelModel(n_jobs=2, chunk_size=100).fit(data.L)
    batch = model.predict_proba(data.L)
    eps = float(np.finfo(dtype).eps)
    for r in (0, 7, 1999):
        assert_close_sums(model.predict_proba(data.L[r : r + 1])[0], batch[r], n_terms=40, eps=eps)


def test_first_bad_row_is_reported_whatever_the_threads():
    L = make_synthetic(3000, 6, 2, random_state=1).L.astype(np.int8)
    L[700, 2] = 5  # chunk 10 (64-row chunks)
    L[2900, 4] = 7  # chunk 45
    for jobs in (1, 2, 4):
        with pytest.raises(ValueError, match=r"value 5 in column 2 \(row 700\)"):
            compute_stats(L, 2, chunk_size=CHUNK, n_jobs=jobs)
        model = LabelModel(chunk_size=CHUNK, n_jobs=jobs).fit(L[:600])
        with pytest.raises(ValueError, match=r"row 700"):
            posterior(check_label_matrix(L, 2), model.params_, CHUNK, n_jobs=jobs)


def _blas_threads() -> list[int]:
    return list(_blas_setting().values())


def _blas_setting() -> dict[str, int]:
    """Threads of each BLAS library loaded now, by its file."""
    from threadpoolctl import threadpool_info

    return {lib["filepath"]: lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def _restored(before: dict[str, int]) -> bool:
    """Whether every library loaded before has its setting back (a library that a lazy import loaded
    in between, e.g. scipy's own OpenBLAS when the test runs alone, starts with its own default)."""
    after = _blas_setting()
    return all(after.get(path) == threads for path, threads in before.items())


def test_blas_limited_inside_and_restored_after(monkeypatch):
    from threadpoolctl import threadpool_limits

    from tripletws.models.base import get_solver

    if not _blas_threads():
        pytest.skip("threadpoolctl finds no BLAS library")
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_setting()
        with single_threaded_blas():
            assert set(_blas_threads()) == {1}
            with single_threaded_blas():  # nested use keeps the limit
                assert set(_blas_threads()) == {1}
            assert set(_blas_threads()) == {1}
        assert _restored(before)
        seen = []
        data = make_synthetic(500, 6, 2, random_state=0)

        solver = get_solver(LabelModel().model)
        solve = solver.solve

        def probe(*args, **kwargs):
            seen.append(_blas_threads())
            return solve(*args, **kwargs)

        monkeypatch.setattr(solver, "solve", probe)
        model = LabelModel().fit(data.L)
        model.predict_proba(data.L)
        assert seen and set(seen[0]) == {1}
        assert _restored(before)


def _limit_held_by_a_thread() -> tuple[threading.Thread, threading.Event, list[list[int]]]:
    """A thread inside ``single_threaded_blas`` (entered, and the BLAS threads it saw there) until the
    returned event is set; join the thread after setting it."""
    entered, release = threading.Event(), threading.Event()
    seen: list[list[int]] = []

    def worker():
        with single_threaded_blas():
            seen.append(_blas_threads())
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=worker)
    thread.start()
    entered.wait(10)
    return thread, release, seen


def test_blas_limit_shared_by_overlapping_threads():
    """Passes running at once in several caller threads restore the setting only when the last ends."""
    if not _blas_threads():
        pytest.skip("threadpoolctl finds no BLAS library")
    before = _blas_setting()
    t, release, _ = _limit_held_by_a_thread()
    with single_threaded_blas():
        pass
    assert set(_blas_threads()) == {1}  # the other thread's pass is still running
    release.set()
    t.join()
    assert _restored(before)


def _main_thread_controls_blas() -> None:
    """Make this thread the one that threadpoolctl (>= 3.8) lets set a pthreads OpenBLAS's threads:
    the first to set them, while it lives (a library that set them on this thread earlier, as the
    order of the tests decided before)."""
    from threadpoolctl import ThreadpoolController

    for lib in ThreadpoolController().lib_controllers:
        if lib.user_api == "blas":
            lib.set_num_threads(lib.get_num_threads())


def test_blas_limit_of_a_worker_thread_holds_while_another_thread_set_threads_before():
    # threadpoolctl 3.8 ignored the worker's limit while the main thread (alive, the last to set
    # the threads) held control: BLAS kept 2 threads inside the worker's pass
    if not _blas_threads():
        pytest.skip("threadpoolctl finds no BLAS library")
    _main_thread_controls_blas()
    before = _blas_setting()
    t, release, seen = _limit_held_by_a_thread()
    with single_threaded_blas():  # the main thread joins, then leaves first
        pass
    assert set(_blas_threads()) == {1} and set(seen[0]) == {1}
    release.set()
    t.join()
    assert _restored(before)  # restored by the worker, the last to leave


def test_blas_restored_by_a_thread_that_did_not_set_the_limit():
    if not _blas_threads():
        pytest.skip("threadpoolctl finds no BLAS library")
    _main_thread_controls_blas()
    before = _blas_setting()
    t, release, _ = _limit_held_by_a_thread()  # sets the limit first, and leaves first
    with single_threaded_blas():
        release.set()
        t.join()
        assert set(_blas_threads()) == {1}
    assert _restored(before)  # the main thread, the last to leave, restores
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):  # the caller's own limits still work after ours
        assert set(_blas_threads()) == {1}
    assert _restored(before)


@pytest.mark.parametrize("cap", [10**6, 50])
def test_distinct_rows_ride_the_statistics_pass_on_every_thread(cap, tmp_path):
    """The one pass gives every thread's distinct rows; merged, they are the serial summary."""
    from tripletws.models.base import Needs
    from tripletws.rows import RowSummary
    from tripletws.summary import summarize

    for name, L in _inputs(3, tmp_path).items():
        lm = check_label_matrix(L, 3)
        ref = RowSummary.from_matrix(lm, cap, chunk_size=CHUNK)
        for jobs in JOBS:
            got = summarize(L, 3, lambda m: Needs(rows=cap), chunk_size=CHUNK, n_jobs=jobs).rows
            assert got is not None and got.level == ref.level, f"{name} n_jobs={jobs}"
            np.testing.assert_array_equal(got.rows, ref.rows, err_msg=f"{name} n_jobs={jobs}")
            # counts are sums of whole numbers: exact in any order
            np.testing.assert_array_equal(got.counts, ref.counts, err_msg=f"{name} n_jobs={jobs}")
            assert got.n_rows == ref.n_rows == lm.n
        if cap == 50:
            assert ref.level > 0  # the cap forced a hash sample


def test_solve_splits_large_sparse_products_over_threads_with_the_serial_result(monkeypatch):
    """The EM's design products run by row blocks on the fit's threads: same fit to float rounding."""
    from tripletws.estimators import annotator, annotator_design, heldout

    rng = np.random.default_rng(11)
    d = make_synthetic(6000, 24, 3, coverage=0.5, random_state=rng)
    monkeypatch.setattr(annotator_design, "DENSE_CELLS", 0)  # every design sparse
    monkeypatch.setattr(annotator_design, "PARALLEL_NNZ", 1000)  # and split (the real one is 1e5 entries)
    for module in (annotator, heldout):  # the numpy EM, which the split serves (and the numpy fold keys)
        monkeypatch.setattr(module, "JIT_MAX_ROWS", 0)
    parts = []
    real = annotator_design.map_parts

    def spy(fn, n):
        parts.append(n)
        return real(fn, n)

    for module in (annotator_design, annotator):  # the design's row blocks and the EM's dealt batches
        monkeypatch.setattr(module, "map_parts", spy)
    fits = {jobs: LabelModel(3, n_jobs=jobs).fit(d.L) for jobs in (1, 3)}
    assert parts and set(parts) == {3}  # only the 3-thread fit split its products, in 3 blocks
    one, three = fits[1], fits[3]
    assert one.selection_.chosen == three.selection_.chosen
    # sums of the same terms in another grouping: rounding of order 1e-16 per step, far below 1e-10
    np.testing.assert_allclose(three.predict_proba(d.L), one.predict_proba(d.L), atol=1e-10)
    np.testing.assert_allclose(three.params_.cond_probs, one.params_.cond_probs, atol=1e-10)
    assert parallel.solve_jobs() == 1  # the setting ends with the fit


def test_map_parts_runs_every_part_once_in_order():
    out = parallel.map_parts(lambda i: i * i, 4)
    assert out == [0, 1, 4, 9]  # no pool outside a solve: here, in order
    with parallel.solve_threads(3):
        assert parallel.solve_jobs() == 3
        names = parallel.map_parts(lambda i: (i, threading.current_thread().name), 3)
    assert [i for i, _ in names] == [0, 1, 2]
    assert names[0][1] == threading.current_thread().name
    with parallel.solve_threads(2):
        # a part does not split again (it would wait for the pool thread that runs a sibling part)
        assert parallel.map_parts(lambda i: parallel.solve_jobs(), 2) == [1, 1]
        assert parallel.solve_jobs() == 2


@pytest.mark.parametrize("compiled", [False, True])
def test_solve_deals_batches_of_fits_over_threads_with_the_serial_result(monkeypatch, compiled):
    """The family choice's and the abstain check's batches of EM fits run as whole members on the fit's
    threads (numpy EM and compiled EM): same fit as on one thread, to float rounding."""
    from tripletws.estimators import annotator, heldout
    from tripletws.estimators.em_jit import jit_default

    rng = np.random.default_rng(12)
    d = make_synthetic(4000, 16, 3, coverage=0.5, random_state=rng)
    monkeypatch.setattr(annotator, "SPLIT_ENTRIES", 1)  # every batch of two or more fits dealt
    if not compiled:
        for module in (annotator, heldout):  # the numpy EM (and the numpy fold keys)
            monkeypatch.setattr(module, "JIT_MAX_ROWS", 0)
    dealt = []
    real = annotator._em_split

    def spy(D, families, *args, **kwargs):
        dealt.append((len(families), args[2]))
        return real(D, families, *args, **kwargs)

    monkeypatch.setattr(annotator, "_em_split", spy)
    with jit_default(compiled):
        fits = {jobs: LabelModel(3, n_jobs=jobs).fit(d.L) for jobs in (1, 2, 3)}
    assert dealt and {jobs for _, jobs in dealt} == {2, 3}  # only the threaded fits dealt their batches
    assert all(n >= jobs for n, jobs in dealt)
    one = fits[1]
    for jobs in (2, 3):
        other = fits[jobs]
        assert other.selection_.chosen == one.selection_.chosen
        assert other.estimate_.abstain.to_dict() == pytest.approx(one.estimate_.abstain.to_dict(), abs=1e-10)
        # each member's arithmetic is the same alone or in a batch: rounding only, far below 1e-10
        np.testing.assert_allclose(other.predict_proba(d.L), one.predict_proba(d.L), atol=1e-10)
        np.testing.assert_allclose(other.params_.cond_probs, one.params_.cond_probs, atol=1e-10)
    assert parallel.solve_jobs() == 1


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("informative", [False, True])
def test_dealt_batch_is_the_whole_batch(informative, compiled):
    """A batch of mixed families, counts, starts and priors dealt over 3 threads: each member's
    outcome is the one of the undivided batch (likelihoods, steps, soft labels, tables)."""
    from tripletws.estimators import annotator as A
    from tripletws.estimators.annotator_design import _Design
    from tripletws.estimators.em_jit import jit_default
    from tripletws.rows import RowSummary

    rng = np.random.default_rng(5)
    d = make_synthetic(3000, 12, 2, coverage=0.4, random_state=rng)
    u = RowSummary.from_matrix(check_label_matrix(d.L, 2), 10**6)
    D = _Design(u.rows, 2, abstain=informative)
    fams = (
        ["mace_abstain"] * 4 + ["ds_abstain"] * 3
        if informative
        else ["mv"] * 2 + ["one_coin"] * 3 + ["mace"] * 2
    )
    B, R = len(fams), len(u.counts)
    counts = u.counts[None, :] * rng.uniform(0.2, 1.0, size=(B, R))
    q = rng.dirichlet(np.ones(2), size=(B, R)).transpose(2, 0, 1)
    kw = {"max_steps": 30, "tol": A.EM_TOL, "class_balance": None}
    estimate = np.arange(B) % 2 == 0
    want = np.arange(B) % 3 != 1
    with jit_default(compiled):
        whole = A._em(D, fams, counts, q, params=want, estimate_prior=estimate, **kw)
        dealt = A._em_split(D, fams, counts, q, 3, kw["max_steps"], kw["tol"], None, want, estimate)
    np.testing.assert_array_equal(dealt.n_steps, whole.n_steps)
    np.testing.assert_array_equal(dealt.converged, whole.converged)
    np.testing.assert_allclose(dealt.log_likelihood, whole.log_likelihood, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dealt.log_norm, whole.log_norm, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dealt.soft_labels, whole.soft_labels, rtol=0, atol=1e-10)
    for b in range(B):
        assert (dealt.params[b] is None) == (not want[b])
        if want[b]:
            np.testing.assert_allclose(dealt.params[b].cond_probs, whole.params[b].cond_probs, atol=1e-12)
            np.testing.assert_allclose(
                dealt.params[b].class_balance, whole.params[b].class_balance, atol=1e-12
            )


@pytest.mark.parametrize("informative", [False, True])
def test_em_by_row_blocks_is_the_whole_em(monkeypatch, informative):
    """A numpy EM batch on a large sparse design runs its E-steps and counts by row blocks on the
    solve's threads (Design.e_step_blocks): each member's outcome is the one-thread batch's, to
    float rounding (sums over the rows added in block order)."""
    from tripletws.estimators import annotator as A
    from tripletws.estimators import annotator_design as AD
    from tripletws.rows import RowSummary

    monkeypatch.setattr(AD, "DENSE_CELLS", 0)
    monkeypatch.setattr(AD, "PARALLEL_NNZ", 1000)
    monkeypatch.setattr(A, "JIT_MAX_ROWS", 0)
    rng = np.random.default_rng(6)
    d = make_synthetic(3000, 12, 2, coverage=0.4, random_state=rng)
    u = RowSummary.from_matrix(check_label_matrix(d.L, 2), 10**6)
    fams = (
        ["mace_abstain"] * 3 + ["ds_abstain"] * 2 if informative else ["mv", "one_coin", "one_coin", "mace"]
    )
    B, R = len(fams), len(u.counts)
    counts = u.counts[None, :] * rng.uniform(0.2, 1.0, size=(B, R))
    q = rng.dirichlet(np.ones(2), size=(B, R)).transpose(2, 0, 1)
    estimate = np.arange(B) % 2 == 0
    kw = {"max_steps": 30, "tol": A.EM_TOL, "class_balance": None, "params": True, "estimate_prior": estimate}
    whole = A._em(AD._Design(u.rows, 2, abstain=informative), fams, counts, q, **kw)
    calls = []
    real = AD._Design.e_step_blocks

    def spy(self, *args):
        calls.append(len(self._blocks))
        return real(self, *args)

    monkeypatch.setattr(AD._Design, "e_step_blocks", spy)
    with parallel.solve_threads(3):
        blocks = A._em(AD._Design(u.rows, 2, abstain=informative), fams, counts, q, **kw)
    assert calls and set(calls) == {3}
    np.testing.assert_array_equal(blocks.n_steps, whole.n_steps)
    np.testing.assert_allclose(blocks.log_likelihood, whole.log_likelihood, rtol=0, atol=1e-12)
    np.testing.assert_allclose(blocks.log_norm, whole.log_norm, rtol=0, atol=1e-10)
    np.testing.assert_allclose(blocks.soft_labels, whole.soft_labels, rtol=0, atol=1e-10)
    for b in range(B):
        np.testing.assert_allclose(blocks.params[b].cond_probs, whole.params[b].cond_probs, atol=1e-12)
        np.testing.assert_allclose(blocks.params[b].class_balance, whole.params[b].class_balance, atol=1e-12)
