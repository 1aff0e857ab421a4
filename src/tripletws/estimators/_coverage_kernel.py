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
Members of two or three classes (the check's fits and its background-class fit) run E-steps and
expected-vote sums with the classes in local variables (:func:`_e_step2`, :func:`_e_step3`:
about twice as fast as loops over a class array), the log-likelihood comes from the logs of
products of the rows' normalisers (as in :mod:`tripletws.estimators._em_kernel`), and each LF's
log-rates are taken once per step.  Each E-step adds each row's count-weighted soft labels to the
next M-step's expected votes and rows per class as it goes (the sums of :func:`_expected_votes`,
in its order: the same values, without a second pass over the rows).  Compiled with
``error_model="numpy"``, as the other two kernels (a float division by zero gives inf/nan
instead of raising: the divisors here are a member's rows, positive for the batches the check
fits, or at least 1, or clipped away from 0; a division that does not raise has the same value).

This module imports numba at import time; :func:`coverage_kernel` imports it lazily.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._em_kernel import _finish_lse, free_prior


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _e_step(
    rows: np.ndarray,
    indptr: np.ndarray,
    vcol: np.ndarray,
    vlf: np.ndarray,
    base: np.ndarray,
    gain: np.ndarray,
    n: int,
    q: np.ndarray,
    lse: np.ndarray,
    zs: np.ndarray,
    c: np.ndarray,
    votes: np.ndarray,
    wsum: np.ndarray,
    w: np.ndarray,
) -> float:
    """Posteriors of the listed rows into ``q`` (K, R); returns ``sum_r c[r] log p(row r)``.

    A row's score for class y is ``base[y]`` (the log prior and every LF's abstention) plus, for
    each of its votes, ``gain[u, y]`` (the vote's log-probability minus its LF's abstention's).
    Its log-normaliser is ``log(zs[r]) + lse[r]`` (the top score goes to ``lse``, the normaliser
    of the exponentials to ``zs``; :func:`tripletws.estimators._em_kernel._finish_lse` takes the
    logs for the final model).  As in the lean kernel's E-step, ``exp(0) = 1`` and ``exp`` below
    -746 (0) are not called, and the logs of the normalisers of rows counted a few whole times
    come from one log of their product (the same value to rounding, without a log per row).

    Each row's soft labels, weighted by its count, are added at once to the next M-step's expected
    votes ``votes`` (m, K) (at its LFs ``vlf`` of its votes) and rows per class ``wsum`` (both
    zeroed by the caller; ``w`` (K,) scratch): the sums of :func:`_expected_votes`, in its order.
    """
    s = np.empty(n)
    ll = 0.0
    prod = 1.0  # product of z ** c over rows with a whole count 1..16 (z <= n <= 1000: no overflow)
    few = n <= 1000
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
            d = s[y] - top
            ex = 1.0 if d == 0.0 else (0.0 if d < -746.0 else math.exp(d))
            s[y] = ex
            z += ex
        for y in range(n):
            q[y, r] = s[y] / z
        lse[r] = top
        zs[r] = z
        cr = c[r]
        for y in range(n):
            w[y] = q[y, r] * cr
            wsum[y] += w[y]
        for e in range(indptr[r], indptr[r + 1]):
            i = vlf[e]
            for y in range(n):
                votes[i, y] += w[y]
        ll += cr * top
        if few and 1.0 <= cr <= 16.0 and cr == math.floor(cr):
            for _ in range(int(cr)):
                prod *= z
            if prod > 1e200:
                ll += math.log(prod)
                prod = 1.0
        else:
            ll += cr * math.log(z)
    return ll + math.log(prod)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _e_step2(
    rows: np.ndarray,
    indptr: np.ndarray,
    vcol: np.ndarray,
    vlf: np.ndarray,
    base: np.ndarray,
    gain: np.ndarray,
    q: np.ndarray,
    lse: np.ndarray,
    zs: np.ndarray,
    c: np.ndarray,
    votes: np.ndarray,
    wsum: np.ndarray,
) -> float:
    """:func:`_e_step` for two classes, the scores and weights in local variables (the same
    operations in the same order, so the same values; about twice as fast as the loops over a
    class array)."""
    ll = 0.0
    prod = 1.0
    ws0 = 0.0
    ws1 = 0.0
    for r in rows:
        s0 = base[0]
        s1 = base[1]
        for e in range(indptr[r], indptr[r + 1]):
            u = vcol[e]
            s0 += gain[u, 0]
            s1 += gain[u, 1]
        top = max(s0, s1)
        d0 = s0 - top
        d1 = s1 - top
        e0 = 1.0 if d0 == 0.0 else (0.0 if d0 < -746.0 else math.exp(d0))
        e1 = 1.0 if d1 == 0.0 else (0.0 if d1 < -746.0 else math.exp(d1))
        z = e0 + e1
        q0 = e0 / z
        q1 = e1 / z
        q[0, r] = q0
        q[1, r] = q1
        lse[r] = top
        zs[r] = z
        cr = c[r]
        w0 = q0 * cr
        w1 = q1 * cr
        ws0 += w0
        ws1 += w1
        for e in range(indptr[r], indptr[r + 1]):
            i = vlf[e]
            votes[i, 0] += w0
            votes[i, 1] += w1
        ll += cr * top
        if 1.0 <= cr <= 16.0 and cr == math.floor(cr):
            for _ in range(int(cr)):
                prod *= z
            if prod > 1e200:
                ll += math.log(prod)
                prod = 1.0
        else:
            ll += cr * math.log(z)
    wsum[0] = ws0
    wsum[1] = ws1
    return ll + math.log(prod)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _e_step3(
    rows: np.ndarray,
    indptr: np.ndarray,
    vcol: np.ndarray,
    vlf: np.ndarray,
    base: np.ndarray,
    gain: np.ndarray,
    q: np.ndarray,
    lse: np.ndarray,
    zs: np.ndarray,
    c: np.ndarray,
    votes: np.ndarray,
    wsum: np.ndarray,
) -> float:
    """:func:`_e_step` for three classes (two and a background class), as :func:`_e_step2`."""
    ll = 0.0
    prod = 1.0
    ws0 = 0.0
    ws1 = 0.0
    ws2 = 0.0
    for r in rows:
        s0 = base[0]
        s1 = base[1]
        s2 = base[2]
        for e in range(indptr[r], indptr[r + 1]):
            u = vcol[e]
            s0 += gain[u, 0]
            s1 += gain[u, 1]
            s2 += gain[u, 2]
        top = max(max(s0, s1), s2)
        d0 = s0 - top
        d1 = s1 - top
        d2 = s2 - top
        e0 = 1.0 if d0 == 0.0 else (0.0 if d0 < -746.0 else math.exp(d0))
        e1 = 1.0 if d1 == 0.0 else (0.0 if d1 < -746.0 else math.exp(d1))
        e2 = 1.0 if d2 == 0.0 else (0.0 if d2 < -746.0 else math.exp(d2))
        z = e0 + e1
        z += e2
        q0 = e0 / z
        q1 = e1 / z
        q2 = e2 / z
        q[0, r] = q0
        q[1, r] = q1
        q[2, r] = q2
        lse[r] = top
        zs[r] = z
        cr = c[r]
        w0 = q0 * cr
        w1 = q1 * cr
        w2 = q2 * cr
        ws0 += w0
        ws1 += w1
        ws2 += w2
        for e in range(indptr[r], indptr[r + 1]):
            i = vlf[e]
            votes[i, 0] += w0
            votes[i, 1] += w1
            votes[i, 2] += w2
        ll += cr * top
        if 1.0 <= cr <= 16.0 and cr == math.floor(cr):
            for _ in range(int(cr)):
                prod *= z
            if prod > 1e200:
                ll += math.log(prod)
                prod = 1.0
        else:
            ll += cr * math.log(z)
    wsum[0] = ws0
    wsum[1] = ws1
    wsum[2] = ws2
    return ll + math.log(prod)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _expected_votes(
    rows: np.ndarray,
    indptr: np.ndarray,
    vlf: np.ndarray,
    q: np.ndarray,
    c: np.ndarray,
    n: int,
    votes: np.ndarray,
    wsum: np.ndarray,
    w: np.ndarray,
) -> None:
    """Expected votes of each LF per class ``votes`` (m, K) and rows per class ``wsum`` under the soft
    labels ``q`` of the listed rows with counts ``c`` (both zeroed first); ``vlf`` is the LF of each
    vote.  Two or three classes in local variables, more in the array ``w``."""
    votes[:] = 0.0
    wsum[:] = 0.0
    if n == 2:
        ws0 = 0.0
        ws1 = 0.0
        for r in rows:
            w0 = q[0, r] * c[r]
            w1 = q[1, r] * c[r]
            ws0 += w0
            ws1 += w1
            for e in range(indptr[r], indptr[r + 1]):
                i = vlf[e]
                votes[i, 0] += w0
                votes[i, 1] += w1
        wsum[0] = ws0
        wsum[1] = ws1
        return
    if n == 3:
        ws0 = 0.0
        ws1 = 0.0
        ws2 = 0.0
        for r in rows:
            w0 = q[0, r] * c[r]
            w1 = q[1, r] * c[r]
            w2 = q[2, r] * c[r]
            ws0 += w0
            ws1 += w1
            ws2 += w2
            for e in range(indptr[r], indptr[r + 1]):
                i = vlf[e]
                votes[i, 0] += w0
                votes[i, 1] += w1
                votes[i, 2] += w2
        wsum[0] = ws0
        wsum[1] = ws1
        wsum[2] = ws2
        return
    for r in rows:
        for y in range(n):
            w[y] = q[y, r] * c[r]
            wsum[y] += w[y]
        for e in range(indptr[r], indptr[r + 1]):
            i = vlf[e]
            for y in range(n):
                votes[i, y] += w[y]


@numba.njit(cache=True, nogil=True, error_model="numpy")
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
    vlf = np.empty(len(vcol), dtype=np.int64)  # the LF of each vote
    for e in range(len(vcol)):
        vlf[e] = col_lf[vcol[e]]
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
        zs = np.ones(R)
        log_rate = np.zeros((m, K))  # log P(vote | y) and log P(abstain | y) of each one-class LF
        log_abst = np.zeros((m, K))
        log_unseen = math.log(max(unseen, tiny))
        prev = -np.inf
        # expected votes (a one-class LF casts only its class's in the member's rows) and rows per
        # class under the start; each E-step below adds up the next step's as it goes
        _expected_votes(counted, indptr, vlf, q, c, n, votes, wsum, w)
        for step in range(1, max_steps + 1):
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
                    log_rate[i, y] = math.log(max(rate[i, y], tiny))
                    log_abst[i, y] = math.log(max(1.0 - rate[i, y] - (n - 1) * unseen, tiny))
                    base[y] += log_abst[i, y]
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
                    lv = log_rate[i, y] if col_vote[u] == classes[b, i] else log_unseen
                    gain[u, y] = lv - log_abst[i, y]
            if free[b]:
                free_prior(wsum, total, min_class_prob, n, p)
            for y in range(n):
                base[y] += math.log(p[y])
            votes[:] = 0.0
            wsum[:] = 0.0
            if n == 2:
                ll = _e_step2(counted, indptr, vcol, vlf, base, gain, q, lse, zs, c, votes, wsum) / total
            elif n == 3:
                ll = _e_step3(counted, indptr, vcol, vlf, base, gain, q, lse, zs, c, votes, wsum) / total
            else:
                ll = _e_step(counted, indptr, vcol, vlf, base, gain, n, q, lse, zs, c, votes, wsum, w) / total
            conv = ll - prev < tol
            if conv or step == max_steps:
                # the held-out rows (count 0: their weights add nothing to the sums, never read again)
                _e_step(held, indptr, vcol, vlf, base, gain, n, q, lse, zs, c, votes, wsum, w)
                _finish_lse(lse, zs)
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
