"""Threads of the chunked passes: BLAS on one thread inside our kernels, row chunks on a small pool.

Two decisions are taken here, once per pass (``fit``'s statistics, ``predict_proba``):

* **BLAS runs single-threaded** (:func:`single_threaded_blas`, through threadpoolctl).
  Our products are many small ones (one chunk each); multithreaded OpenBLAS
  spin-waits for all its threads in every call, so when another process holds a
  core each call waits for it, and a fit can take 10-100x longer.
* **Row chunks are spread over** ``n_jobs`` **threads** (:func:`map_chunks`).  numpy
  releases the GIL inside its ufuncs and BLAS, so threads overlap.  Chunks are
  handed out in order, one at a time; each thread keeps its own accumulator and
  work buffers (:func:`~tripletws.kernels.workspace` is per thread), and the
  accumulators are merged at the end.  Chunk boundaries do not depend on the
  number of threads, so per-row results are bit-identical to the serial pass and
  sums of integer counts are exact in any order.

``n_jobs`` follows scikit-learn: a positive count, ``-1`` = every CPU this process
may use, ``-2`` = all but one, ...; ``None`` = :func:`default_n_jobs`.
"""

from __future__ import annotations

import numbers
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from .kernels import Workspace, workspace
from .matrix import LabelMatrix

T = TypeVar("T")

#: Most threads the automatic choice (``n_jobs=None``) uses.  The passes are
#: limited by memory bandwidth beyond a few cores.
MAX_AUTO_JOBS = 4

#: A pass uses at most one thread per this many chunks, so that small inputs
#: (a few chunks) run serially without starting threads.
MIN_CHUNKS_PER_JOB = 4


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS reports one)."""
    if hasattr(os, "sched_getaffinity"):
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except OSError:
            pass
    count = getattr(os, "process_cpu_count", os.cpu_count)()
    return max(1, count or 1)


def default_n_jobs() -> int:
    """Threads used when ``n_jobs=None``: ``min(available_cpus(), MAX_AUTO_JOBS)``.

    Chosen from measurements on a 2-CPU machine (README, "Benchmarks"): idle, two
    threads beat one (1e6 x 50: 0.41 against 0.52 s; 1e7 x 100 int8 memmap: 3.1
    against 4.8 s); with one core taken by another process they still win on the
    large fit (4.2 against 4.9 s) and lose about 10 % on the small one (0.57
    against 0.51 s), where the busy core holds up half of each pass.
    """
    return min(available_cpus(), MAX_AUTO_JOBS)


def resolve_n_jobs(n_jobs: int | None) -> int:
    """Number of threads for ``n_jobs`` (scikit-learn's meaning; see the module docstring).

    Raises
    ------
    ValueError
        For 0, a non-integer, or a negative value asking for fewer than one thread.
    """
    if n_jobs is None:
        return default_n_jobs()
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral):
        raise ValueError(f"n_jobs must be an integer or None, got {n_jobs!r}")
    n_jobs = int(n_jobs)
    if n_jobs == 0:
        raise ValueError(
            "n_jobs must not be 0: give a positive count, -1 for every CPU, or None (Python; the command "
            "line's default, --jobs left out)"
        )
    if n_jobs > 0:
        return n_jobs
    cpus = available_cpus()
    jobs = cpus + 1 + n_jobs
    if jobs < 1:
        raise ValueError(f"n_jobs={n_jobs} leaves no thread on {cpus} available CPU(s)")
    return jobs


# ----------------------------------------------------------------------------
# BLAS threads
# ----------------------------------------------------------------------------

_blas_lock = threading.Lock()
_blas_users = 0
_blas_changed: list[tuple[Any, Any]] = []  # (library controller, its thread count before the limit)
_controller: Any = None
_controller_blas: list[Any] = []
_controller_modules = -1


def _blas_controller() -> Any:
    """A cached ``threadpoolctl.ThreadpoolController``.

    Building one scans the loaded shared libraries (about 0.2 ms); it is rebuilt
    only when modules were imported since (a new import may load a BLAS).
    """
    global _controller, _controller_modules, _controller_blas
    if _controller is None or _controller_modules != len(sys.modules):
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
        _controller_blas = [lib for lib in _controller.lib_controllers if lib.user_api == "blas"]
        _controller_modules = len(sys.modules)
    return _controller


def _blas_libraries() -> list[Any]:
    """The library controllers of the loaded BLAS libraries (of :func:`_blas_controller`)."""
    _blas_controller()
    return _controller_blas


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the enclosed code with every loaded BLAS limited to one thread.

    The setting is process-wide (BLAS libraries have no per-thread setting): the
    first of overlapping users (nested calls, or passes running in several caller
    threads) limits it, and the last one to leave restores the caller's setting.
    Each BLAS library is set and restored through its threadpoolctl controller (what
    ``ThreadpoolController.limit(limits=1, user_api="blas")`` does, without its record of
    every library's information: about 0.1 ms on a loaded machine), and only where it
    runs more than one thread: a library already on one thread is left as it is (setting
    OpenBLAS's count, even to its own value, costs about 10 microseconds a call).
    """
    global _blas_users, _blas_changed
    with _blas_lock:
        if _blas_users == 0:
            changed = []
            for lib in _blas_libraries():
                before = lib.get_num_threads()
                if before != 1:
                    _set_threads(lib, 1)
                    changed.append((lib, before))
            _blas_changed = changed
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                changed, _blas_changed = _blas_changed, []
                for lib, before in changed:
                    _set_threads(lib, before)


def _set_threads(lib: Any, threads: int) -> None:
    """Set one BLAS library's thread count from whichever thread runs this (under ``_blas_lock``).

    Since threadpoolctl 3.8 a pthreads OpenBLAS takes thread counts from one Python thread only
    (the first to set one, while it lives) and silently ignores the others.  The users of
    :func:`single_threaded_blas` overlap across threads, and the last to leave restores what the
    first found, so the set takes that control for itself and hands it back at once
    (``OpenBLASController.clear_controlling_thread``; a thread of the caller's that set a limit
    before takes it again with its next one).  Older threadpoolctl, and the other libraries, have
    no such control: a plain set.
    """
    clear = getattr(type(lib), "clear_controlling_thread", None)
    if clear is None:
        lib.set_num_threads(threads)
        return
    clear(force=True)
    try:
        lib.set_num_threads(threads)
    finally:
        clear()


# ----------------------------------------------------------------------------
# Row chunks on threads
# ----------------------------------------------------------------------------


def chunk_jobs(lm: LabelMatrix, chunk_size: int | None, n_jobs: int | None) -> int:
    """Threads a pass over ``lm`` uses: ``n_jobs`` resolved, at most one per ``MIN_CHUNKS_PER_JOB`` chunks."""
    jobs = resolve_n_jobs(n_jobs)
    n_chunks = -(-lm.n // lm.chunk_rows(chunk_size))
    return max(1, min(jobs, n_chunks // MIN_CHUNKS_PER_JOB))


#: Pages of a file mapping are handed back once a run of done chunks spans this many bytes
#: (one ``madvise`` for the run: each call costs microseconds, and with several threads each
#: one interrupts the others to flush their TLBs); resident memory stays at a few MB.
RELEASE_BYTES = 1 << 21


class _DoneChunks:
    """Releases the pages of a file mapping behind the chunks of a pass, a run of chunks at a time.

    Chunks finish out of order on several threads.  When a chunk is done, the run of done,
    unreleased chunks around it is released in one call once it spans ``RELEASE_BYTES``, or at once
    where no neighbour can extend it (both are released, or the ends; and every such run once the
    last chunk is done).  Chunks are handed out in order, so
    the unreleased done chunks lie between the at most ``n_jobs`` chunks in progress: at
    most ``n_jobs + 1`` runs, each below ``RELEASE_BYTES``, stay resident, even while a
    thread is held up (a prefix-only rule would keep every chunk behind it).
    """

    def __init__(self, lm: LabelMatrix, pages: Any, step: int, n_chunks: int) -> None:
        self.lm, self.pages, self.step = lm, pages, step
        self.run = max(1, RELEASE_BYTES // max(1, step * lm.m * lm.data.itemsize))
        self.state = bytearray(n_chunks)  # 0: not done, 1: done, 2: done and released
        self.left = n_chunks
        self.lock = threading.Lock()

    def finish(self, i: int) -> None:
        """Chunk ``i`` is done: release the run of done chunks around it when it is long enough."""
        state = self.state
        with self.lock:
            state[i] = 1
            self.left -= 1
            if self.left == 0:  # the last chunk: every run still held
                runs = []
                j = 0
                while j < len(state):
                    if state[j] == 1:
                        e = j
                        while e < len(state) and state[e] == 1:
                            state[e] = 2
                            e += 1
                        runs.append((j, e))
                        j = e
                    else:
                        j += 1
            else:
                a = i
                while a > 0 and state[a - 1] == 1:
                    a -= 1
                b = i + 1
                while b < len(state) and state[b] == 1:
                    b += 1
                # a short run still grows where a neighbour is not done yet; one closed on both sides
                # (released chunks or the ends: a chunk that finished after both its neighbours) never
                # would, and stayed resident to the pass's end (on a busy host, a third of a 1 GB file)
                growing = (a > 0 and state[a - 1] == 0) or (b < len(state) and state[b] == 0)
                if b - a < self.run and growing:
                    return
                state[a:b] = b"\x02" * (b - a)
                runs = [(a, b)]
        for a, b in runs:
            self.pages.release(self.lm.data[a * self.step : b * self.step])


def map_chunks(
    lm: LabelMatrix,
    chunk_size: int | None,
    n_jobs: int | None,
    work: Callable[[T, int, Any, Workspace], None],
    make_acc: Callable[[], T],
) -> list[T]:
    """Run ``work(acc, start, block, ws)`` on every row chunk of ``lm``, on up to ``n_jobs`` threads.

    Parameters
    ----------
    lm : LabelMatrix
    chunk_size : int, optional
        Rows per chunk (the chunks are the same for every ``n_jobs``).
    n_jobs : int, optional
        See :func:`resolve_n_jobs`; fewer threads run when there are few chunks
        (:func:`chunk_jobs`).
    work : callable
        Adds chunk ``block`` (rows ``start:start + len(block)``) into ``acc``, or
        writes that chunk's rows of an output; ``ws`` is the thread's workspace.
    make_acc : callable
        A fresh accumulator (called once per thread).

    Returns
    -------
    list
        The accumulators, one per thread that ran (the calling thread's first).

    Raises
    ------
    Exception
        The error of the first chunk (in row order) that failed, as the serial
        pass would raise it: chunks are handed out in order and no chunk after a
        failed one is started.
    """
    step = lm.chunk_rows(chunk_size)
    starts = range(0, lm.n, step)
    pages = lm.page_release()
    done = None if pages is None else _DoneChunks(lm, pages, step, len(starts))
    jobs = chunk_jobs(lm, chunk_size, n_jobs)
    if jobs == 1:
        acc = make_acc()
        with workspace() as ws:
            for i, start in enumerate(starts):
                block = lm.read_rows(start, start + step)
                work(acc, start, block, ws)
                if done is not None:
                    done.finish(i)
        return [acc]

    lock = threading.Lock()
    state = {"next": 0, "stop": len(starts)}
    errors: dict[int, BaseException] = {}

    def run() -> T:
        acc = make_acc()
        with workspace() as ws:
            while True:
                with lock:
                    i = state["next"]
                    if i >= state["stop"]:
                        return acc
                    state["next"] = i + 1
                start = starts[i]
                try:
                    block = lm.read_rows(start, start + step)
                    work(acc, start, block, ws)
                except BaseException as exc:  # re-raised below, in row order
                    with lock:
                        errors[i] = exc
                        state["stop"] = min(state["stop"], i)
                    return acc
                if done is not None:
                    done.finish(i)

    with ThreadPoolExecutor(max_workers=jobs - 1, thread_name_prefix="tripletws") as pool:
        futures = [pool.submit(run) for _ in range(jobs - 1)]
        accs = [run()] + [f.result() for f in futures]
    if errors:
        raise errors[min(errors)]
    return accs


# ----------------------------------------------------------------------------
# Threads for the solve's large sparse products
# ----------------------------------------------------------------------------


class _SolvePool:
    """Threads a solve may use, and their pool once a product asks for it (created lazily)."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.pool: ThreadPoolExecutor | None = None
        self.lock = threading.Lock()

    def executor(self) -> ThreadPoolExecutor:
        with self.lock:
            if self.pool is None:
                self.pool = ThreadPoolExecutor(self.jobs - 1, thread_name_prefix="tripletws-solve")
            return self.pool


_solve_pool: ContextVar[_SolvePool | None] = ContextVar("tripletws_solve_pool", default=None)


@contextmanager
def solve_threads(n_jobs: int | None) -> Iterator[None]:
    """Let the enclosed solve split its large sparse products over ``n_jobs`` threads.

    The setting is this context's (a :class:`~contextvars.ContextVar`: other threads and nested
    fits see their own); :func:`map_parts` uses it, and starts the pool on its first call (a
    small fit never does).  ``n_jobs`` as in :func:`resolve_n_jobs`.
    """
    jobs = resolve_n_jobs(n_jobs)
    state = _SolvePool(jobs) if jobs > 1 else None
    token = _solve_pool.set(state)
    try:
        yield
    finally:
        _solve_pool.reset(token)
        if state is not None and state.pool is not None:
            state.pool.shutdown(wait=True)


def solve_jobs() -> int:
    """Threads the current solve may use for one product (1 outside :func:`solve_threads`)."""
    state = _solve_pool.get()
    return 1 if state is None else state.jobs


def map_parts(fn: Callable[[int], T], n_parts: int) -> list[T]:
    """``[fn(0), ..., fn(n_parts - 1)]``, part 0 on the calling thread, the others on the solve's pool.

    Without a pool (or one part) everything runs here, in order.  Each part runs without the
    solve's pool (:func:`solve_jobs` is 1 inside it, on every thread): a part that would split its
    own work again runs it whole, so no part ever waits for a pool thread that waits for it.
    """
    state = _solve_pool.get()
    if state is None or n_parts <= 1:
        return [fn(i) for i in range(n_parts)]
    pool = state.executor()
    # pool threads do not inherit this context (their parts see no pool); part 0 runs here without it
    futures = [pool.submit(fn, i) for i in range(1, n_parts)]
    token = _solve_pool.set(None)
    try:
        first = fn(0)
    finally:
        _solve_pool.reset(token)
    return [first] + [f.result() for f in futures]
