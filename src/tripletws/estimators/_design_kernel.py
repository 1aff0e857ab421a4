"""Compiled products of a large sparse design with its dense operands (numba; imported only when present).

The numpy EM of :func:`tripletws.estimators.annotator._em` multiplies the one-hot design ``X``
(R distinct rows x U used columns, CSR, every entry 1) by dense arrays twice a step: the rows'
scores ``X @ flat`` (read back transposed, class-major) and the expected counts ``X.T @ W.T``.
scipy computes them row by row of a CSR matrix (``csr_matvecs``: ``y += a * x`` for each entry
in its stored order); the second one needs ``X.T`` as a CSR matrix of its own and a transposed
copy of ``W``, the first one a transposed copy of its result.  The kernels here make the same
additions in the same order, from ``X``'s own arrays and in the operands' layouts:

* :func:`sums_t` adds, for each row and output column, the row's entries' values in their stored
  order, as ``csr_matvecs`` does, and writes the row's sums straight into the column of a
  class-major ``(c, R)`` output;
* :func:`scatter_counts` visits the rows in order and adds each row's weights into the used
  columns it holds: each output entry receives its terms in increasing row order, the order in
  which ``X.T.tocsr()`` (rows sorted within each column) lists them for ``csr_matvecs``.

Each entry of ``X`` is 1.0, so ``a * x`` is ``x`` exactly, fused or not: the results equal scipy's
bit for bit (the tests compare them with equality, the one tolerance this arithmetic allows).
Only the memory traffic changes: no transposed copies, no ``X.T``.  Measured on one core of a shared
2-core machine (CPU-time medians), a design of 15 563 rows x 150 columns with 389 211 entries (the
1e6 x 50 synthetic fit's distinct rows): ``X.T @ W.T`` 1.7 / 2.2 / 4.7 ms against 0.9 / 1.1 / 1.8 ms
for 2 / 12 / 24 output columns; the class-major scores 1.0 / 1.5 / 2.4 / 4.2 ms against 0.4 / 0.9 /
2.0 / 3.2 ms for 2 / 8 / 12 / 24 columns, and 1.6 against 1.9 ms for 10 (which scipy keeps: see
:meth:`tripletws.estimators.annotator_design._Design._product`).

This module imports numba at import time; :func:`tripletws.estimators.em_jit.design_kernels`
imports it lazily, where numba is loaded already or ``TRIPLETWS_JIT`` asks for it (a large fit
alone does not load numba: its memory and import time cost more than the kernels save in one fit).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def sums_t(indptr: np.ndarray, indices: np.ndarray, flat: np.ndarray, out: np.ndarray) -> None:
    """``out[t, r] = sum over row r's entries e, in stored order, of flat[indices[e], t]``.

    Parameters
    ----------
    indptr : ndarray of int, shape (R + 1,)
    indices : ndarray of int, shape (nnz,)
        A CSR matrix's row pointers and column indices (every entry 1).
    flat : ndarray of float64, shape (U, c)
    out : ndarray of float64, shape (c, R)
        Written in full.
    """
    c = flat.shape[1]
    R = len(indptr) - 1
    # the sums in scalars for 2, 4, 6 and 8 columns (one to four members of two classes): 2-3x the
    # generic loop's speed there, whose sums go through memory (beyond 8 columns it beats scipy's product)
    if c == 2:
        for r in range(R):
            a0 = 0.0
            a1 = 0.0
            for e in range(indptr[r], indptr[r + 1]):
                j = indices[e]
                a0 += flat[j, 0]
                a1 += flat[j, 1]
            out[0, r] = a0
            out[1, r] = a1
        return
    if c == 4:
        for r in range(R):
            a0 = 0.0
            a1 = 0.0
            a2 = 0.0
            a3 = 0.0
            for e in range(indptr[r], indptr[r + 1]):
                j = indices[e]
                a0 += flat[j, 0]
                a1 += flat[j, 1]
                a2 += flat[j, 2]
                a3 += flat[j, 3]
            out[0, r] = a0
            out[1, r] = a1
            out[2, r] = a2
            out[3, r] = a3
        return
    if c == 6:
        for r in range(R):
            a0 = 0.0
            a1 = 0.0
            a2 = 0.0
            a3 = 0.0
            a4 = 0.0
            a5 = 0.0
            for e in range(indptr[r], indptr[r + 1]):
                j = indices[e]
                a0 += flat[j, 0]
                a1 += flat[j, 1]
                a2 += flat[j, 2]
                a3 += flat[j, 3]
                a4 += flat[j, 4]
                a5 += flat[j, 5]
            out[0, r] = a0
            out[1, r] = a1
            out[2, r] = a2
            out[3, r] = a3
            out[4, r] = a4
            out[5, r] = a5
        return
    if c == 8:
        for r in range(R):
            a0 = 0.0
            a1 = 0.0
            a2 = 0.0
            a3 = 0.0
            a4 = 0.0
            a5 = 0.0
            a6 = 0.0
            a7 = 0.0
            for e in range(indptr[r], indptr[r + 1]):
                j = indices[e]
                a0 += flat[j, 0]
                a1 += flat[j, 1]
                a2 += flat[j, 2]
                a3 += flat[j, 3]
                a4 += flat[j, 4]
                a5 += flat[j, 5]
                a6 += flat[j, 6]
                a7 += flat[j, 7]
            out[0, r] = a0
            out[1, r] = a1
            out[2, r] = a2
            out[3, r] = a3
            out[4, r] = a4
            out[5, r] = a5
            out[6, r] = a6
            out[7, r] = a7
        return
    buf = np.empty(c)
    for r in range(R):
        for t in range(c):
            buf[t] = 0.0
        for e in range(indptr[r], indptr[r + 1]):
            j = indices[e]
            for t in range(c):
                buf[t] += flat[j, t]
        for t in range(c):
            out[t, r] = buf[t]


@numba.njit(cache=True, nogil=True)
def scatter_counts(indptr: np.ndarray, indices: np.ndarray, W: np.ndarray, out: np.ndarray) -> None:
    """``out[u, t] = sum over the rows r holding column u, in increasing order, of W[t, r]``.

    Parameters
    ----------
    indptr : ndarray of int, shape (R + 1,)
    indices : ndarray of int, shape (nnz,)
        A CSR matrix's row pointers and column indices (every entry 1, each column at most once a row).
    W : ndarray of float64, shape (c, R)
    out : ndarray of float64, shape (U, c)
        Written in full.
    """
    c = W.shape[0]
    R = len(indptr) - 1
    out[:, :] = 0.0
    if c == 2:  # one member of two classes: the row's weights in scalars (about 2x the loop below)
        for r in range(R):
            b0 = W[0, r]
            b1 = W[1, r]
            for e in range(indptr[r], indptr[r + 1]):
                u = indices[e]
                out[u, 0] += b0
                out[u, 1] += b1
        return
    buf = np.empty(c)
    for r in range(R):
        for t in range(c):
            buf[t] = W[t, r]
        for e in range(indptr[r], indptr[r + 1]):
            u = indices[e]
            for t in range(c):
                out[u, t] += buf[t]
