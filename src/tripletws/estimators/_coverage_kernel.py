"""Compiled EM of the coverage check's fits (numba; imported only when numba is present).

One jitted loop fits a batch of members of :func:`tripletws.estimators.coverage_check.coverage_em`
member after member, over the votes of the distinct rows (a row's score is every LF's abstention
plus, per vote, the vote's log-probability minus its LF's abstention's), when every LF votes
one class in every member's rows, or none (the tables are then two rates per LF,
:func:`tripletws.estimators.one_class.mstep_coverage` or
:func:`tripletws.estimators.one_class.mstep_shared_coverage`; an LF without votes in a member's
rows, e.g. in a fold, gets the numpy path's MACE table at no votes: coverage at the rate floor,
``theta = 1/2``, ``xi`` uniform over the member's classes).  The arithmetic is that of the
numpy path (same updates, same clipping, same stopping rule); only the order of some sums
differs, so results agree to rounding (checked against 1e-10 by tests/test_coverage_speed.py).

Rows a member does not count (a fold's held-out rows) are skipped in the E-steps and scored
once with the final model (the numpy path scores them at every step; nothing else reads them).

This module imports numba at import time; :func:`coverage_kernel` imports it lazily.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._em_kernel import free_prior


@numba.njit(cache=True, nogil=True)
def _e_step(
    rows: np.ndarray,
    indptr: np.ndarray,
    vcol: np.ndarray,
    base: np.ndarray,
    gain: np.ndarray,
    n: int,
    q: np.ndarray,
    lse: np.ndarray,
) -> None:
    """Posteriors of the listed rows into ``q`` (K, R) and their log-normalisers into ``lse``.

    A row's score for class y is ``base[y]`` (the log prior and every LF's abstention) plus, for
    each of its votes, ``gain[u, y]`` (the vote's log-probability minus its LF's abstention's).
    """
    s = np.empty(n)
    for r in rows:
        for y in range(n):
            s[y] = base[y]
        for e in range(indptr[r], indptr[r + 1]):
            u = vcol[e]
            for y in range(n):
                s[y] += gain[u, y]
        top = s[0]
        for y in range(1, n):
            top = max(top, s[y])
        z = 0.0
        for y in range(n):
            s[y] = math.exp(s[y] - top)
            z += s[y]
        for y in range(n):
            q[y, r] = s[y] / z
        lse[r] = math.log(z) + top


@numba.njit(cache=True, nogil=True)
def coverage_em_kernel(
    indptr: np.ndarray,
    vcol: np.ndarray,
    col_lf: np.ndarray,
    col_vote: np.ndarray,
    m: int,
    n_classes: np.ndarray,
    shared: np.ndarray,
    classes: np.ndarray,
    counts: np.ndarray,
    q0: np.ndarray,
    prior: np.ndarray,
    free: np.ndarray,
    max_steps: int,
    tol: float,
    floor: float,
    tiny: float,
    min_class_prob: float,
    unseen: float,
    p_out: np.ndarray,
    rate_out: np.ndarray,
    ll_out: np.ndarray,
    steps_out: np.ndarray,
    conv_out: np.ndarray,
    log_norm: np.ndarray,
    soft: np.ndarray,
) -> None:
    """EM of B members, one after the other; outputs written into the last seven arrays.

    Shapes: ``indptr`` (R + 1,) and ``vcol`` (nnz,): the votes of the distinct rows, row by row,
    as vote columns ``u``; ``col_lf`` and ``col_vote`` (V,): each vote column's LF and class;
    ``n_classes``, ``shared``, ``free`` (B,); ``classes`` (B, m) the class each LF votes in the
    member's rows (-1: none); ``counts`` (B, R); ``q0`` (K, B, R); ``prior`` (K, B).  Outputs: ``p_out``
    (B, K), ``rate_out`` (B, m, K) ``P(votes | Y = y)``, ``ll_out``, ``steps_out``, ``conv_out``
    (B,), ``log_norm`` (B, R), ``soft`` (K, B, R).
    """
    K, B, R = q0.shape
    V = len(col_lf)
    for b in range(B):
        n = n_classes[b]
        c = counts[b]
        total = 0.0
        for r in range(R):
            total += c[r]
        safe_total = max(total, 1e-300)
        q = q0[:, b, :].copy()
        p = prior[:, b].copy()
        counted = np.flatnonzero(c != 0.0)
        held = np.flatnonzero(c == 0.0)
        votes = np.zeros((m, K))  # expected votes of each LF for its class, per class
        rate = np.zeros((m, K))
        gain = np.zeros((V, K))
        base = np.zeros(K)
        wsum = np.zeros(K)
        w = np.zeros(K)
        lse = np.zeros(R)
        log_unseen = math.log(max(unseen, tiny))
        prev = -np.inf
        for step in range(1, max_steps + 1):
            # expected votes (a one-class LF casts only its class's in the member's rows) and rows per class
            votes[:] = 0.0
            wsum[:] = 0.0
            for r in counted:
                for y in range(n):
                    w[y] = q[y, r] * c[r]
                    wsum[y] += w[y]
                for e in range(indptr[r], indptr[r + 1]):
                    i = col_lf[vcol[e]]
                    for y in range(n):
                        votes[i, y] += w[y]
            prec = 0.0
            if shared[b]:
                on_sum = 0.0
                all_sum = 0.0
                for i in range(m):
                    if classes[b, i] < 0:
                        continue
                    on_sum += votes[i, classes[b, i]]
                    for y in range(n):
                        all_sum += votes[i, y]
                prec = (on_sum + 1.0) / (all_sum + 2.0)
            for y in range(n):
                base[y] = 0.0
            for i in range(m):
                ci = classes[b, i]
                if ci < 0:  # no vote in the member's rows: MACE's table at no votes, coverage at the floor
                    for y in range(n):
                        rate[i, y] = floor
                        base[y] += math.log(max(1.0 - floor, tiny))
                    continue
                all_votes = 0.0
                for y in range(n):
                    all_votes += votes[i, y]
                on_votes = votes[i, ci]
                on_rows = wsum[ci]  # LF i's outcomes partition the rows
                cov = all_votes / safe_total
                if shared[b]:
                    pc = min(max(on_rows / safe_total, floor), 1.0 - floor)
                    on = cov * prec / pc
                    off = cov * (1.0 - prec) / (1.0 - pc)
                else:
                    on = (on_votes + cov) / (on_rows + 1.0)
                    off = (all_votes - on_votes + cov) / (total - on_rows + 1.0)
                on = min(max(on, floor), 1.0 - floor)
                off = min(max(off, floor), 1.0 - floor)
                for y in range(n):
                    rate[i, y] = on if y == ci else off
                    base[y] += math.log(max(1.0 - rate[i, y] - (n - 1) * unseen, tiny))
            # a vote's log-probability minus its LF's abstention's (a class it never votes: unseen)
            for u in range(V):
                i = col_lf[u]
                if classes[b, i] < 0:  # P(vote c | y) = cov ((1 - theta) / n + theta [c = y]), theta = 1/2
                    for y in range(n):
                        v = 0.5 / n + (0.5 if col_vote[u] == y else 0.0)
                        lv = math.log(max(floor * v, tiny))
                        gain[u, y] = lv - math.log(max(1.0 - floor, tiny))
                    continue
                for y in range(n):
                    lv = math.log(max(rate[i, y], tiny)) if col_vote[u] == classes[b, i] else log_unseen
                    gain[u, y] = lv - math.log(max(1.0 - rate[i, y] - (n - 1) * unseen, tiny))
            if free[b]:
                free_prior(wsum, total, min_class_prob, n, p)
            for y in range(n):
                base[y] += math.log(p[y])
            _e_step(counted, indptr, vcol, base, gain, n, q, lse)
            ll = 0.0
            for r in counted:
                ll += c[r] * lse[r]
            ll /= total
            conv = ll - prev < tol
            if conv or step == max_steps:
                _e_step(held, indptr, vcol, base, gain, n, q, lse)
                for y in range(n):
                    p_out[b, y] = p[y]
                rate_out[b] = rate
                ll_out[b] = ll
                steps_out[b] = step
                conv_out[b] = conv
                log_norm[b] = lse
                soft[:, b, :] = q
                break
            prev = ll
