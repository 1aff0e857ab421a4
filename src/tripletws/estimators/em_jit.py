"""The compiled EM of the default's candidates: when it is used, and how it is called.

With numba installed (``pip install tripletws[fast]``), the EM of the families ``"mv"``,
``"one_coin"`` and ``"mace"`` (vote-only reading: the default model's candidates and the
fits on all rows and on the folds that choose among them) runs as one compiled loop
(:mod:`tripletws.estimators._em_kernel`) instead of numpy calls on tiny arrays: on small
label matrices a numpy EM step is all call overhead (about 70 calls on arrays of a few
hundred entries), which the compiled loop removes.  The numpy path stays, unchanged, for
the other families, without numba, and when switched off.  Both paths compute the same
updates; they agree to rounding (the tests hold them to 1e-10).

numba is imported on the first fit that can use it, not with ``import tripletws``; the
kernels compile once per machine and are cached on disk (numba's ``cache=True``: next to the
module, or in numba's user-wide cache directory when that is read-only; ``NUMBA_CACHE_DIR``
moves it).  Compile and load times, and the measurements behind :data:`JIT_MAX_ROWS` and
:data:`JIT_LARGE_CELLS`: docs/speed.md.  The annotator model's EM runs compiled on at most
:data:`JIT_MAX_ROWS` distinct rows and again from :data:`JIT_LARGE_CELLS` rows times classes
where numba is loaded already (:func:`tripletws.estimators.annotator._compiled_size`); numpy's
elsewhere.

The coverage check's fits (:func:`tripletws.estimators.coverage_check.coverage_em`) have a
kernel of their own (:mod:`tripletws.estimators._coverage_kernel`) under the same switch and
:data:`JIT_MAX_ROWS`, and so do the families that read every abstention as an outcome
(``"mace_abstain"``, ``"ds_abstain"`` on the lean design:
:mod:`tripletws.estimators._abstain_kernel`, the abstain check's fits, under the annotator's rule).

Set the environment variable ``TRIPLETWS_JIT=0`` (or ``false``, ``off``, ``no``; read at
each fit) to use the numpy path, ``TRIPLETWS_JIT=1`` to use the compiled one where the
default is off: the command line (one fit per process: loading numba, about 0.3 s, costs
more than the compiled EM saves on the small data it runs on, a few ms per fit), except for the
bootstrap refits of ``tripletws report`` and ``fit --intervals``, where it is on.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

logger = logging.getLogger("tripletws")

#: The environment variable that switches the compiled EM off.
JIT_ENV = "TRIPLETWS_JIT"
_OFF = frozenset({"0", "false", "off", "no"})

#: The compiled EM runs on at most this many distinct rows; numpy's batched EM beyond.  The kernel
#: fits the members one after the other with scalar exp/log (no SIMD); numpy's batch step costs
#: ~70 calls of fixed overhead (40-70 us) but then runs on all members' rows at SIMD speed.
#: Measured (benchmarks/results/em_jit_crossover.md: CPU time of the default's held-out choice,
#: 3 families x 4 fits): compiled 1.5-9x faster on the 15 shared sets (15-664 distinct rows),
#: 1.1-1.4x at 700-1400 synthetic rows, even (0.9-1.05x) from 1500 to 20 000.
JIT_MAX_ROWS = 1000

#: Beyond :data:`JIT_MAX_ROWS` the default's EM (:func:`tripletws.estimators.annotator._em`) runs
#: compiled again from this many distinct rows times classes, where numba is loaded already
#: (:func:`numba_at_hand`).  Measured in session 25 (``benchmarks/jit_large_fits.py``, docs/speed.md
#: "Session 25"): whole default fits at 20 000 distinct rows with k = 3 to 10, numba loaded, one
#: BLAS thread, 2-CPU host: 1.3-1.8x less CPU on synthetic crowds, 1.06-1.13x on synthetic LF sets,
#: posteriors equal to 6e-15.  Loading numba for such a fit alone would cost 0.3-0.4 s of its wall
#: time on the LF sets (fresh processes), hence the second condition.  A fit of two classes on the
#: annotator model's 20 000-row cap (40 000) keeps to numpy, as the 1e6 x 50 benchmark did.
JIT_LARGE_CELLS = 50_000

#: Families the kernel fits (vote-only reading), with their codes in the kernel.
LEAN_CODES = {"mv": 0, "one_coin": 1, "mace": 2}

_kernel: list[Callable[..., None] | None] = []  # [the kernel, or None without numba] once looked up
_default_on = [True]  # without TRIPLETWS_JIT in the environment


@contextmanager
def jit_default(on: bool) -> Iterator[None]:
    """Within the block, use the compiled EM by default or not (``TRIPLETWS_JIT``, when set, wins)."""
    before = _default_on[0]
    _default_on[0] = bool(on)
    try:
        yield
    finally:
        _default_on[0] = before


def jit_enabled() -> bool:
    """Whether the compiled EM is used: numba importable and ``TRIPLETWS_JIT`` not off."""
    return lean_kernel() is not None


def lean_kernel() -> Callable[..., None] | None:
    """The compiled kernel (importing numba on first call), or None when unavailable or switched off."""
    setting = os.environ.get(JIT_ENV, "").strip().lower()
    if setting in _OFF or (not setting and not _default_on[0]):
        return None
    if not _kernel:
        try:
            from ._em_kernel import lean_em
        except Exception as exc:  # numba missing, or one that does not import with this numpy
            logger.debug("compiled EM unavailable (%s: %s); using numpy", type(exc).__name__, exc)
            lean_em = None
        _kernel.append(lean_em)
    return _kernel[0]


def numba_at_hand() -> bool:
    """Whether numba is loaded in this process already (by a small fit's compiled EM, or by anything
    else) or ``TRIPLETWS_JIT`` asks for the compiled paths explicitly: where a large fit may use the
    compiled kernels without loading numba for itself alone (about 0.3 s and 100-190 MB of peak
    memory once per process, more than one large fit's kernels save; docs/speed.md).  Not whether
    the kernels are available: :func:`lean_kernel` says that."""
    setting = os.environ.get(JIT_ENV, "").strip().lower()
    return "numba" in sys.modules or bool(setting and setting not in _OFF)


def design_kernels() -> Any | None:
    """The compiled design products (:mod:`._design_kernel`), or None: scipy's products, the same values.

    Used where numba is loaded already (by a small fit's compiled EM, or by anything else in the
    process) or ``TRIPLETWS_JIT`` asks for the compiled paths explicitly; never switched on by a
    large fit alone: importing numba and loading the kernels costs about 0.3 s and 100-190 MB of
    peak memory (docs/speed.md), more than they save in one large fit (about 0.07 s of CPU at
    1e6 x 50), which would not otherwise load numba.
    """
    if not numba_at_hand() or lean_kernel() is None:
        return None
    from . import _design_kernel

    return _design_kernel


_fold_keys: list[Callable[..., np.ndarray]] = []


def fold_keys_kernel() -> Callable[..., np.ndarray] | None:
    """The compiled row keys of the fold deal (:mod:`._em_kernel`'s ``fold_keys``), or None (the
    switch of :func:`lean_kernel`, read at every call; the function is looked up once)."""
    if lean_kernel() is None:
        return None
    if not _fold_keys:
        from ._em_kernel import fold_keys

        _fold_keys.append(fold_keys)
    return _fold_keys[0]


def run_lean(
    kernel: Callable[..., None],
    indptr: np.ndarray,
    pos: np.ndarray,
    lf: np.ndarray,
    vote: np.ndarray,
    m: int,
    k: int,
    families: list[str],
    counts: np.ndarray,
    q: np.ndarray,
    free: np.ndarray,
    p0: np.ndarray,
    *,
    max_steps: int,
    tol: float,
    floor: float,
    tiny: float,
    min_class_prob: float,
    want: np.ndarray,
    eb_s: tuple[float, float] | None = None,
    eb_var: bool = False,
    eb_fixed: bool = False,
) -> dict[str, Any]:
    """Run the kernel on a batch of B members over R distinct rows and U used columns.

    Parameters
    ----------
    kernel : callable
        :func:`lean_kernel`'s result.
    indptr : (R + 1,) ints; pos : (nnz,) ints
        The design's entries row by row: used column of each vote.
    lf, vote : (U,) ints
        LF and class of each used column.
    m, k : int
    families : list of str, length B
    counts : (B, R); q : (k, 1 or B, R); free : bool (B,); p0 : (k,)
    max_steps, tol, floor, tiny, min_class_prob
        The numpy path's constants.
    want : bool (B,)
        Members whose whole table is wanted.
    eb_s : (s_min, s_max) or None
        MACE's empirical-Bayes prior strength range (``annotator.MACE_EB_S``); None: off.
    eb_var : bool
        ``annotator.MACE_EB_VAR``: the prior's spread on the complete-data counts.
    eb_fixed : bool
        ``annotator.MACE_EB_FIXED``: the prior estimated at the first M-step only.

    Returns
    -------
    dict
        ``p`` (B, k), ``acc``, ``theta``, ``cov`` (B, m), ``xi`` (B, k, m), ``ll`` (B,),
        ``steps`` (B,), ``conv`` (B,), ``log_norm`` (B, R), ``soft`` (k, B, R), and ``tables``
        (n_wanted, m, k + 1, k) with ``slot`` (B,): member b's table is ``tables[slot[b]]``.
    """
    B, R = counts.shape
    i64, f64 = np.int64, np.float64
    want = np.asarray(want, dtype=bool)
    slot = np.where(want, np.cumsum(want) - 1, -1).astype(i64)
    tables = np.empty((int(want.sum()), m, k + 1, k))
    out = {
        "p": np.empty((B, k)),
        "acc": np.zeros((B, m)),
        "theta": np.zeros((B, m)),
        "xi": np.zeros((B, k, m)),
        "cov": np.empty((B, m)),
        "ll": np.empty(B),
        "steps": np.empty(B, dtype=i64),
        "conv": np.empty(B, dtype=np.bool_),
        "log_norm": np.empty((B, R)),
        "soft": np.empty((k, B, R)),
    }
    kernel(
        np.ascontiguousarray(indptr, dtype=i64),
        np.ascontiguousarray(pos, dtype=i64),
        np.ascontiguousarray(lf, dtype=i64),
        np.ascontiguousarray(vote, dtype=i64),
        int(m),
        int(k),
        np.array([LEAN_CODES[f] for f in families], dtype=i64),
        np.ascontiguousarray(counts, dtype=f64),
        np.ascontiguousarray(q, dtype=f64),
        np.ascontiguousarray(free, dtype=np.bool_),
        np.ascontiguousarray(p0, dtype=f64),
        int(max_steps),
        float(tol),
        float(floor),
        float(tiny),
        float(min_class_prob),
        float(eb_s[0]) if eb_s is not None else 0.0,
        float(eb_s[1]) if eb_s is not None else 0.0,
        bool(eb_var and eb_s is not None),
        bool(eb_fixed and eb_s is not None),
        slot,
        tables,
        *out.values(),
    )
    out["slot"], out["tables"] = slot, tables
    return out


#: Families the informative kernel fits (every abstention an outcome, lean design), with their codes.
INFORMATIVE_CODES = {"mace_abstain": 0, "ds_abstain": 1}

_informative: list[Callable[..., None] | None] = []


def informative_kernel() -> Callable[..., None] | None:
    """The compiled EM of :data:`INFORMATIVE_CODES`' families (:mod:`._abstain_kernel`), or None
    (numba missing, or the compiled EM off: the switch of :func:`lean_kernel`)."""
    if lean_kernel() is None:
        return None
    if not _informative:
        try:
            from ._abstain_kernel import informative_em
        except Exception as exc:  # a numba that does not compile this kernel
            logger.debug("compiled informative EM unavailable (%s: %s); using numpy", type(exc).__name__, exc)
            informative_em = None
        _informative.append(informative_em)
    return _informative[0]
